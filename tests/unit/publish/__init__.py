"""Unit tests of serasan.publish."""
