"""The demo pairings cover every kind, leave some overdue and some orphans unpaired, run once."""

import datetime as dt
import random

from conftest import valid_id
from minqing.assistance import selectors
from minqing.assistance.demo import seed
from minqing.assistance.models import HelpEntry, Helper, Pairing, Programme
from minqing.registry.models import Person, Tag
from minqing.visits.models import HouseholdVisitState
from minqing.visits.services import household_visit_state_refresh

from .conftest import orphan


def test_demo_seeds_every_kind_of_pairing_once(
    cadre, office, grid_a_worker, grid_b_worker, grid_c_worker, tree
):
    from minqing.registry import services as registry

    low_income = Tag.objects.get(name="低保")
    baby_born = dt.date.today() - dt.timedelta(days=40)  # younger than any pairing drawn
    orphan(grid_a_worker, tree["grid_a"], "新生儿", 60, baby_born)  # first: among the paired
    for i, (worker, grid) in enumerate(
        [(grid_a_worker, "grid_a"), (grid_b_worker, "grid_b"), (grid_c_worker, "grid_c")] * 4
    ):
        h = registry.household_create(
            acting_user=worker,
            data={"address": f"示范路{i}号", "grid": tree[grid], "tags": [low_income]},
        )
        orphan(worker, tree[grid], f"孩子{i}", 30 + i, dt.date(2016, 1 + i % 12, 3), household=h)

    jobless = Tag.objects.get(name="零就业家庭")
    for i in range(8):  # the groups' households, in the second community
        registry.household_create(
            acting_user=grid_c_worker,
            data={"address": f"南苑路{i}号", "grid": tree["grid_c"], "tags": [jobless]},
        )

    # A child not yet in any group: the demo makes them an orphan (孤儿, visited monthly).
    home = registry.household_create(
        acting_user=grid_a_worker, data={"address": "示范路99号", "grid": tree["grid_a"]}
    )
    registry.person_create(
        acting_user=grid_a_worker,
        data={"name": "未入组", "id_number": valid_id(99, dt.date(2018, 5, 1)),
              "grid": tree["grid_a"], "household": home, "relation": "child"},
    )  # fmt: skip
    before = HouseholdVisitState.objects.get(household=home).visit_class_id

    result = seed(rng=random.Random(7))

    # Its home's visit schedule follows the new group, as if tagged on its page.
    state = HouseholdVisitState.objects.get(household=home)
    assert Person.objects.get(name="未入组").tags.filter(name="孤儿").exists()
    household_visit_state_refresh(household=home)
    fresh = HouseholdVisitState.objects.get(household=home)
    assert (state.visit_class_id, state.next_due) == (fresh.visit_class_id, fresh.next_due)
    assert state.visit_class_id != before

    assert not result["skipped"] and "结对帮扶" in result["summary"]
    # Every paired home's stored schedule is what its visits and help log give (QA: 18 homes
    # read 从未走访 beside a 走访慰问 in their help log).
    from minqing.visits.services import schedules_compute

    homes = set(Pairing.objects.exclude(household=None).values_list("household_id", flat=True))
    homes |= set(
        Pairing.objects.exclude(person__household=None).values_list(
            "person__household_id", flat=True
        )
    )
    computed = schedules_compute(sorted(homes))
    stored = {s.household_id: s for s in HouseholdVisitState.objects.filter(household__in=homes)}
    for hid, schedule in computed.items():
        assert stored[hid].last_visit_at == schedule.last_visit_at, hid
    kinds = set(Pairing.objects.values_list("programme__pairing_kind", flat=True))
    assert {"one", "group", "unit"} <= kinds
    mine = Pairing.objects.filter(helpers__user=cadre)
    assert 3 <= mine.count() <= 5
    assert len({p.grid_id for p in mine}) == mine.count()  # different grids
    assert HelpEntry.objects.filter(
        occurred_on__lt=dt.date.today() - dt.timedelta(days=300)
    ).exists()
    assert Helper.objects.filter(disqualified_on__isnull=False).count() == 1
    cov = selectors.coverage(office, Programme.objects.get(code="mother"))
    assert 0 < cov.paired < cov.total
    assert any(r.due.status == "overdue" for r in selectors.due_rows(cadre, mine=True))
    for p in Pairing.objects.filter(person__isnull=False).select_related("person"):
        assert p.start >= p.person.birth_date, p  # nobody is helped before being born
    assert (
        HelpEntry.objects.filter(pairing__person__name="新生儿", occurred_on__lt=baby_born).count()
        == 0
    )
    assert seed(rng=random.Random(7))["skipped"]
