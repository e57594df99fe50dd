"""Unit tests of serasan.cli."""
