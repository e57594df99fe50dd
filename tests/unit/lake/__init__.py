"""Unit tests of serasan.lake."""
