"""Insights keeps no tables of its own: it reads the domain apps through their selectors."""
