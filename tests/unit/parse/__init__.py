"""Unit tests of serasan.parse."""
