"""Unit tests of serasan.config."""
