"""Unit tests of serasan.expectations."""
