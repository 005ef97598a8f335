"""Demo data of assistance (called by seed_demo after the county, cases and visits exist)."""

import random


def seed(*, rng: random.Random, now=None) -> dict:
    """Idempotent: returns {"skipped": True} when the demo rows exist already."""
    return {"skipped": True, "summary": ""}
