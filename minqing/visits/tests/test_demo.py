"""The demo visits make due lists that look like a working county, and run only once."""

import random

from minqing.visits.demo import seed_visits
from minqing.visits.models import HouseholdVisitState, Visit

from .conftest import file_household


def test_demo_visits_give_every_household_a_schedule_and_run_once(grid_a_worker, tree):
    for i in range(30):
        file_household(grid_a_worker, tree["grid_a"], f"东门路{i}号")

    result = seed_visits(rng=random.Random(1))

    assert not result["skipped"] and 20 <= result["visits"] <= 30
    assert HouseholdVisitState.objects.count() == 30
    assert all(v.visitors.filter(pk=grid_a_worker.pk).exists() for v in Visit.objects.all())
    assert seed_visits(rng=random.Random(1))["skipped"]
    assert Visit.objects.count() == result["visits"]
