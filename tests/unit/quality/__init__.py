"""Unit tests of serasan.quality."""
