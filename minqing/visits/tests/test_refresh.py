"""refresh_visit_due recomputes every schedule in batches, and a second run changes nothing."""

import datetime as dt
from io import StringIO

from django.core.management import call_command

from minqing.registry import services as registry
from minqing.registry.models import Tag
from minqing.visits import services
from minqing.visits.models import HouseholdVisitState

from .conftest import at, file_household

D = dt.date


def _states():
    return sorted(
        HouseholdVisitState.objects.values_list(
            "household_id", "grid_id", "visit_class__code", "last_visit_at", "next_due"
        )
    )


def test_refresh_creates_every_state_and_a_second_run_changes_nothing(grid_a_worker, tree):
    households = [
        file_household(grid_a_worker, tree["grid_a"], f"东门路{i}号", created=D(2026, 1, 10))
        for i in range(5)
    ]
    services.visit_record(
        acting_user=grid_a_worker,
        household=households[0],
        data={"seen": "x"},
        now=at(D(2026, 5, 6)),
    )
    HouseholdVisitState.objects.filter(pk=households[1].pk).update(next_due=D(2000, 1, 1))
    # Filing keeps states in step; households filed before visits existed have none.
    HouseholdVisitState.objects.filter(pk__in=[h.pk for h in households[2:]]).delete()

    first = services.visit_states_refresh(batch_size=2, today=D(2026, 6, 1))
    assert first == {"checked": 5, "created": 3, "updated": 1}
    snapshot = _states()
    assert len(snapshot) == 5
    assert dict((h, d) for h, _, _, _, d in snapshot)[households[0].pk] == D(2026, 8, 6)

    second = services.visit_states_refresh(batch_size=2, today=D(2026, 6, 1))
    assert second == {"checked": 5, "created": 0, "updated": 0}
    assert _states() == snapshot


def test_refresh_repairs_a_wrong_row_and_picks_up_a_tag_added_in_the_registry(
    grid_a_worker, tree, key
):
    household = file_household(grid_a_worker, tree["grid_a"], "东门路8号", created=D(2026, 1, 10))
    services.visit_states_refresh()
    registry.household_update(
        acting_user=grid_a_worker,
        household=household,
        data={"tags": [Tag.objects.get(name="低保")]},
    )
    HouseholdVisitState.objects.filter(pk=household.pk).update(grid=tree["grid_b"])

    counts = services.visit_states_refresh()

    assert counts["updated"] == 1
    state = HouseholdVisitState.objects.get(pk=household.pk)
    assert (state.grid, state.visit_class, state.next_due) == (tree["grid_a"], key, D(2026, 2, 10))


def test_the_command_reports_what_it_did(grid_a_worker, tree):
    file_household(grid_a_worker, tree["grid_a"], "东门路9号")
    HouseholdVisitState.objects.all().delete()  # as on a database from before visits
    out = StringIO()
    call_command("refresh_visit_due", "--batch-size", "10", stdout=out)
    assert "checked 1 households: 1 new, 0 changed" in out.getvalue()
    out = StringIO()
    call_command("refresh_visit_due", stdout=out)
    assert "0 new, 0 changed" in out.getvalue()
