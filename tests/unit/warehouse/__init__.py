"""Unit tests of serasan.warehouse."""
