"""Unit tests of serasan.reference."""
