"""Unit tests of serasan.demo."""
