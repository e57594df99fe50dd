"""Unit tests of serasan.alerts."""
