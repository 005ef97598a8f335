"""Enter once: a visit by the helper to the paired household counts as contact, like a help entry."""

import datetime as dt

from django.utils import timezone

from minqing.assistance import selectors, services
from minqing.assistance.schedule import OVERDUE, REGULAR
from minqing.visits.models import Visit

from .conftest import at, orphan, pair

TODAY = dt.date(2026, 2, 10)


def visit(household, day, *visitors, by=None):
    v = Visit.objects.create(
        household=household,
        grid=household.grid,
        visited_at=at(day),
        seen="看望",
        created_by=by or visitors[0],
    )
    v.visitors.set(visitors)
    return v


def regular_dues(user, **kw):
    return [
        r for r in selectors.due_rows(user, today=TODAY, within=0, **kw) if r.due.code == REGULAR
    ]


def test_a_visit_by_the_helper_to_the_paired_household_closes_the_due_contact(
    office, cadre, cadre_helper, household_a, grid_a_worker
):
    pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    # Due on 5 February, nobody went: overdue on the 10th.
    [row] = regular_dues(cadre, mine=True)
    assert (row.due.date, row.due.status, row.due.days_overdue) == (dt.date(2026, 2, 5), OVERDUE, 5)

    # A visit by the grid worker alone is not the helper's contact.
    visit(household_a, dt.date(2026, 2, 3), grid_a_worker)
    assert len(regular_dues(cadre, mine=True)) == 1

    # The helper went along: that visit is the contact, nothing to type again.
    visit(household_a, dt.date(2026, 2, 4), grid_a_worker, cadre, by=grid_a_worker)
    assert regular_dues(cadre, mine=True) == []
    assert selectors.contacts_by_pairing(selectors.my_pairings(cadre)).popitem()[1] == [
        dt.date(2026, 2, 4)
    ]


def test_a_visit_to_the_household_of_a_paired_person_counts_too(
    office, mother, cadre, cadre_helper, household_a, grid_a_worker, tree
):
    child = orphan(
        grid_a_worker, tree["grid_a"], "小明", 7, dt.date(2016, 9, 1), household=household_a
    )
    p = services.pairing_create(
        acting_user=office,
        data={"programme": __import__("minqing.assistance.models", fromlist=["Programme"]).Programme.objects.get(code="ribbon"),
              "helpers": [cadre_helper], "person": child.pk, "start": dt.date(2026, 1, 26)},
    )  # fmt: skip
    assert p.grid == tree["grid_a"]
    visit(household_a, dt.date(2026, 2, 8), cadre)
    assert selectors.contacts_by_pairing([p]) == {p.pk: [dt.date(2026, 2, 8)]}


def test_a_help_entry_is_a_contact(office, cadre, cadre_helper, household_a):
    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    services.help_entry_add(
        acting_user=cadre,
        pairing=p,
        data={"kind": "emotional", "text": "谈心", "occurred_on": dt.date(2026, 2, 6)},
    )
    assert regular_dues(cadre, mine=True) == []
    entry = p.help_entries.get()
    assert entry.helper == cadre_helper and entry.created_by == cadre


def test_a_helpers_visit_logged_as_help_moves_the_households_visit_schedule(
    office, cadre, cadre_helper, household_a
):
    """QA (enter once): a cadre's 走访慰问 in the help log counted as the pairing's contact, but
    the household stayed on the grid's 逾期未访 list ("never visited") — the cadre had to type
    the same visit again as a 走访记录. Now it is the household's last visit; correcting it
    to another kind, or removing it, moves the schedule back."""
    from minqing.assistance.tests.conftest import pair
    from minqing.visits.models import HouseholdVisitState

    def last_visit():
        state = HouseholdVisitState.objects.get(household=household_a)
        return state.last_visit_at and timezone.localdate(state.last_visit_at)

    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    before = last_visit()
    today = timezone.localdate()
    entry = services.help_entry_add(
        acting_user=cadre, pairing=p, data={"kind": "visit", "text": "走访", "occurred_on": today}
    )
    assert last_visit() == today
    due = HouseholdVisitState.objects.get(household=household_a).next_due
    assert due is None or due > today
    # Given money, not a visit: only the pairing's contact.
    services.help_entry_update(acting_user=cadre, entry=entry, reason="记错了类型",
                               data={"kind": "goods", "text": "送米", "occurred_on": today})  # fmt: skip
    assert last_visit() == before
    entry.refresh_from_db()
    services.help_entry_update(acting_user=cadre, entry=entry, reason="确是走访",
                               data={"kind": "visit", "text": "走访", "occurred_on": today})  # fmt: skip
    assert last_visit() == today
    services.help_entry_delete(acting_user=cadre, entry=entry, reason="重复录入")
    assert last_visit() == before
