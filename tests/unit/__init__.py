"""Unit tier: no external service (SQLite files and local folders only); marked `unit`."""
