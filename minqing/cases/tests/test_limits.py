"""Time limits: the most specific configured row wins, and deadlines count working days.

The seeded rows (migration 0002): handle within 3 working days by default (help, consultations),
13 for complaints, reports and suggestions, 7 for reception-day matters, the same day for
emergencies; register within 4 working hours (1 when urgent); dispatch within 1 working day.
2026 National Day: 1–7 October off, Saturday 10 October a make-up working day (see
minqing/core/tests/test_workdays.py); working hours 08:30–17:30.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from minqing.cases import services
from minqing.cases.models import (
    Case,
    CaseType,
    Category,
    Channel,
    Priority,
    Stage,
    TimeLimit,
)
from minqing.core import workdays
from minqing.core.models import WorkdayOverride
from minqing.core.workdays import working_hours_between

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fresh_calendar():
    workdays.clear_cache()
    yield
    workdays.clear_cache()


def a_case(code: str = "0601", **fields) -> Case:
    """An unsaved case: limit_for reads only its category, type, priority and channel."""
    category = Category.objects.get(code=code)
    fields.setdefault("case_type", category.default_type)
    fields.setdefault("priority", Priority.NORMAL)
    fields.setdefault("channel", Channel.PATROL)
    return Case(category=category, **fields)


def filed(grid_a_worker, tree, now, *, code="0601", **data) -> Case:
    return services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": code,
            "description": "东门路3号路灯不亮。",
            "grid": tree["grid_a"],
            **data,
        },
        now=now,
    )


# --- which row applies -----------------------------------------------------------------------


@pytest.mark.django_db
def test_help_is_handled_within_3_working_days():
    assert services.limit_for(a_case("0601", case_type=CaseType.HELP), Stage.HANDLE) == (3, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("case_type", [CaseType.COMPLAINT, CaseType.REPORT, CaseType.SUGGESTION])
def test_complaints_reports_and_suggestions_get_13_working_days(case_type):
    assert services.limit_for(a_case("0501", case_type=case_type), Stage.HANDLE) == (13, 0)


@pytest.mark.django_db
def test_an_emergency_is_handled_the_same_day_whatever_its_type():
    case = a_case("0501", case_type=CaseType.COMPLAINT, priority=Priority.URGENT)
    assert services.limit_for(case, Stage.HANDLE) == (0, 0)
    assert services.limit_for(case, Stage.REGISTER) == (0, 1)
    assert services.limit_for(case, Stage.DISPATCH) == (0, 1)


@pytest.mark.django_db
def test_a_reception_day_matter_gets_7_working_days_even_when_it_is_a_complaint():
    case = a_case("0705", case_type=CaseType.COMPLAINT, channel=Channel.RECEPTION)
    assert services.limit_for(case, Stage.HANDLE) == (7, 0)


@pytest.mark.django_db
def test_an_urgent_reception_day_matter_is_still_the_same_day():
    case = a_case("0705", channel=Channel.RECEPTION, priority=Priority.URGENT)
    assert services.limit_for(case, Stage.HANDLE) == (0, 0)


@pytest.mark.django_db
def test_a_row_for_the_category_beats_the_row_for_the_type():
    lights = Category.objects.get(code="0601")
    TimeLimit.objects.create(stage=Stage.HANDLE, category=lights, working_days=5)
    complaint_about_a_light = a_case("0601", case_type=CaseType.COMPLAINT)
    assert services.limit_for(complaint_about_a_light, Stage.HANDLE) == (5, 0)
    # Other categories keep their type's limit.
    assert services.limit_for(a_case("0501", case_type=CaseType.COMPLAINT), Stage.HANDLE) == (
        13,
        0,
    )


@pytest.mark.django_db
def test_a_row_for_a_parent_category_applies_to_its_children_and_the_child_row_wins():
    facilities, lights = Category.objects.get(code="06"), Category.objects.get(code="0601")
    TimeLimit.objects.create(stage=Stage.HANDLE, category=facilities, working_days=4)
    assert services.limit_for(a_case("0602"), Stage.HANDLE) == (4, 0)
    TimeLimit.objects.create(stage=Stage.HANDLE, category=lights, working_days=2)
    assert services.limit_for(a_case("0601"), Stage.HANDLE) == (2, 0)
    assert services.limit_for(a_case("0602"), Stage.HANDLE) == (4, 0)


@pytest.mark.django_db
def test_a_category_and_type_row_beats_a_category_row():
    lights = Category.objects.get(code="0601")
    TimeLimit.objects.create(stage=Stage.HANDLE, category=lights, working_days=5)
    TimeLimit.objects.create(
        stage=Stage.HANDLE, category=lights, case_type=CaseType.COMPLAINT, working_days=8
    )
    assert services.limit_for(a_case("0601", case_type=CaseType.COMPLAINT), Stage.HANDLE) == (8, 0)
    assert services.limit_for(a_case("0601", case_type=CaseType.HELP), Stage.HANDLE) == (5, 0)


@pytest.mark.django_db
def test_the_channel_beats_even_a_deep_category_with_a_type():
    # A category ten levels deep must not outscore a channel row (priority > channel >
    # category > type, whatever the depth of the category tree).
    parent = Category.objects.get(code="07")
    for i in range(9):
        parent = Category.objects.create(code=f"07x{i}", name=f"子类{i}", parent=parent)
    assert len(parent.lineage_ids()) == 10
    TimeLimit.objects.create(
        stage=Stage.HANDLE, category=parent, case_type=CaseType.COMPLAINT, working_days=9
    )
    case = Case(
        category=parent,
        case_type=CaseType.COMPLAINT,
        priority=Priority.NORMAL,
        channel=Channel.RECEPTION,
    )
    assert services.limit_for(case, Stage.HANDLE) == (7, 0)


@pytest.mark.django_db
def test_without_any_configured_row_the_built_in_default_applies():
    TimeLimit.objects.filter(stage=Stage.HANDLE).delete()
    assert services.limit_for(a_case("0501"), Stage.HANDLE) == services.DEFAULT_LIMITS[Stage.HANDLE]


# --- deadlines across the 2026 National Day holiday ------------------------------------------


def test_a_case_accepted_the_day_before_national_day_is_due_on_the_make_up_saturday(
    grid_a_worker, tree
):
    # given: a help case (3 working days) accepted and taken on Wednesday 30 September 2026
    now = at(2026, 9, 30, 10, 0)
    case = filed(grid_a_worker, tree, now)
    # then: the dispatch clock (1 working day) runs to the first day after the holiday
    assert case.deadline == at(2026, 10, 8, 17, 30)
    # when: grid A takes it at once
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take", now=now)
    # then: 8 and 9 October, then the make-up Saturday 10 October, at the close of the day
    assert case.handle_deadline == at(2026, 10, 10, 17, 30)
    assert case.deadline == case.handle_deadline
    assert case.stage == Stage.HANDLE


def test_the_register_limit_of_4_working_hours_on_the_eve_of_the_holiday_runs_past_it(
    grid_a_worker, tree
):
    # Accepted at 15:30 on 30 September, 2 working hours remain that day; 2 more on 8 October.
    case = services.case_accept(
        acting_user=grid_a_worker,
        data={"category": "0601", "description": "路灯不亮。", "grid": tree["grid_a"]},
        register=False,
        now=at(2026, 9, 30, 15, 30),
    )
    assert case.deadline == at(2026, 10, 8, 10, 30)


def test_a_complaint_accepted_before_the_holiday_gets_13_working_days_after_it(grid_a_worker, tree):
    now = at(2026, 9, 30, 10, 0)
    case = filed(grid_a_worker, tree, now, code="0501")
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take", now=now)
    # 8, 9, 10 (make-up), 12–16, 19–23 October: the 13th working day is Friday 23 October.
    assert case.handle_deadline == at(2026, 10, 23, 17, 30)


def test_an_override_row_making_a_day_off_moves_the_deadline(grid_a_worker, tree):
    # given: the county gives 9 October off (a local arrangement)
    WorkdayOverride.objects.create(date=dt.date(2026, 10, 9), is_working_day=False, name="调休")
    now = at(2026, 9, 30, 10, 0)
    case = filed(grid_a_worker, tree, now)
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take", now=now)
    # then: 8, 10 and 12 October
    assert case.handle_deadline == at(2026, 10, 12, 17, 30)


def test_an_override_row_making_a_holiday_a_working_day_brings_the_deadline_forward(
    grid_a_worker, tree
):
    WorkdayOverride.objects.create(date=dt.date(2026, 10, 2), is_working_day=True, name="值班")
    now = at(2026, 9, 30, 10, 0)
    case = filed(grid_a_worker, tree, now)
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take", now=now)
    # 2, 8 and 9 October
    assert case.handle_deadline == at(2026, 10, 9, 17, 30)


def test_an_urgent_case_is_due_at_the_end_of_the_same_working_day(grid_a_worker, tree):
    now = at(2026, 9, 30, 10, 0)
    case = filed(grid_a_worker, tree, now, priority=Priority.URGENT)
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take", now=now)
    assert case.handle_deadline == at(2026, 9, 30, 17, 30)


# --- the 80% reminder ------------------------------------------------------------------------


def test_the_reminder_is_at_80_percent_of_the_working_time(grid_a_worker, tree):
    # given: a help case taken on Monday 9 March 2026 at 10:00, due Thursday 17:30:
    # 7.5 + 9 + 9 + 9 = 34.5 working hours; 80% is 27.6 h = 27 h 36 min
    now = at(2026, 3, 9, 10, 0)
    case = filed(grid_a_worker, tree, now)
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take", now=now)
    assert case.deadline == at(2026, 3, 12, 17, 30)
    # then: Monday 7.5 h, Tuesday 9 h, Wednesday 9 h, and 2 h 06 min on Thursday
    assert case.remind_at == at(2026, 3, 12, 10, 36)
    assert working_hours_between(now, case.remind_at) == pytest.approx(0.8 * 34.5)
    assert case.next_check_at == case.remind_at and case.reminded is False


def test_the_reminder_across_the_holiday_counts_only_working_hours(grid_a_worker, tree):
    now = at(2026, 9, 30, 10, 0)
    case = filed(grid_a_worker, tree, now)
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take", now=now)
    # 30 Sep 7.5 h, 8 Oct 9 h, 9 Oct 9 h, then 2 h 06 min on the make-up Saturday.
    assert case.remind_at == at(2026, 10, 10, 10, 36)


def test_the_reminder_of_an_hours_limit_is_at_80_percent_of_those_hours(grid_a_worker, tree):
    # The register clock: 4 working hours from 09:00 → due 13:00, reminded at 12:12.
    case = services.case_accept(
        acting_user=grid_a_worker,
        data={"category": "0601", "description": "路灯不亮。", "grid": tree["grid_a"]},
        register=False,
        now=at(2026, 3, 9, 9, 0),
    )
    assert case.deadline == at(2026, 3, 9, 13, 0)
    assert case.remind_at == at(2026, 3, 9, 12, 12)


def test_case_keys_are_indexed_once_by_their_key_status_pair(db):
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "cases_case")
    indexed = [tuple(c["columns"]) for c in constraints.values() if c["index"]]
    for key in ("grid_id", "level_node_id", "handler_user_id", "handler_unit_id"):
        assert (key,) not in indexed, key  # the pair's index serves lookups by the key alone
        assert (key, "status") in indexed
    assert ("created_by_id",) in indexed  # keys without a pair keep their own


def test_events_and_notifications_are_indexed_once_by_their_pairs(db):
    from django.db import connection

    with connection.cursor() as cursor:
        for table, key, pair in (
            ("cases_caseevent", "case_id", ("case_id", "at")),
            ("cases_notification", "user_id", ("user_id", "read_at")),
        ):
            constraints = connection.introspection.get_constraints(cursor, table)
            indexed = [tuple(c["columns"]) for c in constraints.values() if c["index"]]
            assert (key,) not in indexed and pair in indexed, table
