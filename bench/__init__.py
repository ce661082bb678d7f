"""Benchmarks and the bulk-data loader: tools for measuring the portal, not part of it."""
