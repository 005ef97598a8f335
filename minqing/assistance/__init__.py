"""Pairing assistance (结对帮扶): helpers paired with targets in need, their help log, contact rhythms, coverage."""
