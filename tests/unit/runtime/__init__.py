"""Unit tests of serasan.runtime."""
