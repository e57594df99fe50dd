"""Helpers the tiers share (plain modules, no fixtures): paths, services, fake servers."""
