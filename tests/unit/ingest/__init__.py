"""Unit tests of serasan.ingest."""
