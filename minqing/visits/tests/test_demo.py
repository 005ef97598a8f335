"""The demo visits make due lists that look like a working county, and run only once."""

import datetime
import random

from django.utils import timezone

from minqing.visits.demo import seed_visits
from minqing.visits.models import HouseholdVisitState, Visit

from .conftest import file_household


def test_demo_visits_give_every_household_a_schedule_and_run_once(grid_a_worker, tree):
    for i in range(30):
        file_household(grid_a_worker, tree["grid_a"], f"东门路{i}号")

    result = seed_visits(rng=random.Random(1))

    assert not result["skipped"] and 20 <= result["households_visited"] <= 30
    assert HouseholdVisitState.objects.count() == 30
    assert all(v.visitors.filter(pk=grid_a_worker.pk).exists() for v in Visit.objects.all())
    assert seed_visits(rng=random.Random(1))["skipped"]
    assert Visit.objects.count() == result["visits"]


def test_demo_visits_are_a_year_of_history_with_gaps(grid_a_worker, tree):
    """普遍走访 is quarterly: a year gives each household about four visits, a cycle or so
    apart, the latest one its schedule's last visit, none in the future."""
    for i in range(30):
        file_household(grid_a_worker, tree["grid_a"], f"东门路{i}号")
    result = seed_visits(rng=random.Random(5))
    now = timezone.now()
    assert result["visits"] >= 3 * result["households_visited"]
    gaps = []
    for state in HouseholdVisitState.objects.exclude(last_visit_at=None):
        times = sorted(
            Visit.objects.filter(household_id=state.household_id).values_list(
                "visited_at", flat=True
            )
        )
        assert times[-1] == state.last_visit_at and times[-1] < now
        assert now - times[0] <= datetime.timedelta(days=366)
        gaps += [(b - a).days for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 50 and max(gaps) >= 120  # about a quarter apart, a missed one now and then


def test_a_large_county_is_scheduled_in_chunks(grid_a_worker, tree, monkeypatch):
    """1M people means ~400k households: more ids than SQLite takes in one statement."""
    from minqing.visits import demo

    for i in range(12):
        file_household(grid_a_worker, tree["grid_a"], f"东门路{i}号")
    monkeypatch.setattr(demo, "CHUNK", 5)
    assert 8 <= seed_visits(rng=random.Random(3))["households_visited"] <= 12


def test_demo_campaigns_one_closed_mostly_done_one_open_in_progress(
    grid_a_worker, grid_b_worker, community_worker, street_officer, tree
):
    from minqing.visits.models import Campaign, CampaignStatus

    from .conftest import resident

    for i in range(40):
        grid = tree["grid_a"] if i % 2 else tree["grid_b"]
        worker = grid_a_worker if i % 2 else grid_b_worker
        household = file_household(worker, grid, f"东门路{i}号")
        resident(worker, household, f"老人{i}", tags=["高龄"] if i % 3 else ["独居"])

    result = seed_visits(rng=random.Random(7))

    assert not result["skipped"] and "重阳节" in result["summary"]
    chongyang = Campaign.objects.get(kind="holiday")
    assert chongyang.status == CampaignStatus.CLOSED and chongyang.node == tree["street"]
    total = chongyang.targets.count()
    done = chongyang.targets.filter(visit__isnull=False).count()
    assert total == 40 and done >= 0.8 * total
    cold = Campaign.objects.get(kind="event")
    assert cold.status == CampaignStatus.OPEN and cold.node == tree["community"]
    done = cold.targets.filter(visit__isnull=False).count()
    assert 0 < done < cold.targets.count()
    # the campaign visits never lie in the future, and each closed target points at a visit
    # in its window
    for t in cold.targets.filter(visit__isnull=False).select_related("visit"):
        assert (
            cold.start <= timezone.localdate(t.visit.visited_at) and t.visited_at <= timezone.now()
        )

    again = seed_visits(rng=random.Random(7))
    assert again["skipped"] and Campaign.objects.count() == 2
