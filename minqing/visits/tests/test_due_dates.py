"""Due dates: one interval after the last visit, month ends clamped, moved off holidays."""

import datetime as dt

import pytest

from minqing.visits import selectors, services
from minqing.visits.models import FrequencyUnit, VisitClass
from minqing.visits.services import add_months, due_after

from .conftest import at, file_household

D = dt.date


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
        (D(2026, 8, 31), 3, D(2026, 11, 30)),
    ],
)
def test_adding_months_keeps_the_day_or_takes_the_last_day_of_a_shorter_month(
    start, months, expected
):
    assert add_months(start, months) == expected


def test_a_monthly_visit_after_31_january_is_due_on_the_last_day_of_february(key):
    # 2026-02-28 is a Saturday, but a make-up working day (调休上班) for the Spring Festival.
    assert due_after(D(2026, 1, 31), key) == D(2026, 2, 28)
    assert due_after(D(2024, 1, 31), key) == D(2024, 2, 29)


def test_a_due_date_on_a_weekend_moves_to_the_next_working_day(key):
    # 2025-12-31 + 1 month = 2026-01-31, a Saturday → Monday 2 February.
    assert due_after(D(2025, 12, 31), key) == D(2026, 2, 2)


def test_a_due_date_in_the_national_day_holiday_moves_past_it(general, follow):
    # 2026-10-01 … 10-07 is the National Day holiday; 10-08 is the first working day after it.
    assert due_after(D(2026, 7, 1), general) == D(2026, 10, 8)
    assert due_after(D(2026, 9, 24), follow) == D(2026, 10, 8)


def test_a_class_counted_in_days_adds_calendar_days(db):
    fortnightly = VisitClass(code="f", name="两周", every=14, unit=FrequencyUnit.DAY)
    assert due_after(D(2026, 6, 1), fortnightly) == D(2026, 6, 15)


def test_a_household_is_due_on_its_date_and_overdue_the_day_after(grid_a_worker, tree, general):
    # given a household with no care tags, last visited on 1 July 2026 (quarterly)
    household = file_household(grid_a_worker, tree["grid_a"], "东门路1号", created=D(2026, 1, 5))
    services.visit_record(
        acting_user=grid_a_worker,
        household=household,
        data={"seen": "家中一切正常。"},
        now=at(D(2026, 7, 1)),
    )
    state = household.visit_state
    assert (state.visit_class, state.next_due) == (general, D(2026, 10, 8))

    def listed(day):
        return [s.household_id for s in selectors.due_for(grid_a_worker, today=day)]

    # then it is not due in the holiday, due on 8 October, overdue from 9 October
    assert listed(D(2026, 10, 7)) == []
    assert listed(D(2026, 10, 8)) == [household.pk]
    assert listed(D(2026, 10, 9)) == [household.pk]
    view = selectors.ScheduleView(selectors.schedule_of(household).schedule, D(2026, 10, 9))
    assert view.overdue and view.days_overdue == 1
    today = selectors.ScheduleView(view.schedule, D(2026, 10, 8))
    assert today.due_today and not today.overdue


def test_a_household_nobody_has_visited_is_due_one_interval_after_it_was_filed(grid_a_worker, tree):
    household = file_household(grid_a_worker, tree["grid_a"], "东门路2号", created=D(2026, 3, 2))
    schedule = selectors.schedule_of(household, today=D(2026, 3, 2))
    assert schedule.last_visit_at is None
    assert schedule.next_due == D(2026, 6, 2)
