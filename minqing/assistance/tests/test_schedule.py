"""Due and overdue contacts: rhythms across month ends, festivals, birthdays (pure functions)."""

import datetime as dt

from minqing.assistance.schedule import (
    BIRTHDAY,
    CHILDRENS_DAY,
    DUE,
    OVERDUE,
    REGULAR,
    SOON,
    SPRING,
    Rhythm,
    dues,
    month_need,
    next_due,
)

D = dt.date
MONTHLY = Rhythm(every=1, unit="month")
WEEKLY = Rhythm(every=1, unit="week")
MOTHER = Rhythm(
    every=1, unit="month", spring=True, childrens_day=True, birthday=True, birth=D(2015, 3, 31)
)


def regular(items):
    return [d for d in items if d.code == REGULAR]


def test_a_month_after_31_january_is_the_last_day_of_february():
    assert next_due(D(2027, 1, 31), 1, "month") == D(2027, 2, 28)
    assert next_due(D(2028, 1, 31), 1, "month") == D(2028, 2, 29)
    assert next_due(D(2026, 12, 15), 1, "month") == D(2027, 1, 15)
    assert next_due(D(2026, 12, 29), 1, "week") == D(2027, 1, 5)


def test_monthly_contact_is_overdue_the_day_after_its_due_date_across_february():
    items = dues(
        MONTHLY, start=D(2026, 12, 1), contacts=[D(2027, 1, 31)], today=D(2027, 2, 28), within=0
    )
    assert [(d.date, d.status) for d in regular(items)] == [(D(2027, 2, 28), DUE)]
    items = dues(
        MONTHLY, start=D(2026, 12, 1), contacts=[D(2027, 1, 31)], today=D(2027, 3, 1), within=0
    )
    assert [(d.date, d.status, d.days_overdue) for d in regular(items)] == [
        (D(2027, 2, 28), OVERDUE, 1)
    ]


def test_without_any_contact_the_first_is_due_one_interval_after_the_pairing_started():
    items = dues(WEEKLY, start=D(2026, 3, 2), contacts=[], today=D(2026, 3, 6), within=7)
    assert [(d.date, d.status) for d in items] == [(D(2026, 3, 9), SOON)]
    assert dues(WEEKLY, start=D(2026, 3, 2), contacts=[], today=D(2026, 3, 6), within=0) == []


def test_contacts_before_the_pairing_started_do_not_count():
    items = dues(
        MONTHLY, start=D(2026, 3, 1), contacts=[D(2026, 2, 20)], today=D(2026, 4, 2), within=0
    )
    assert regular(items)[0].date == D(2026, 4, 1)


def test_spring_festival_is_due_in_its_window_and_overdue_after_it_closes():
    # 春节 2027 is 6 February; its window runs from 27 January to 21 February.
    r = Rhythm(every=3, unit="month", spring=True)
    start = D(2026, 12, 20)
    before = dues(r, start=start, contacts=[D(2026, 12, 28)], today=D(2027, 1, 22), within=7)
    assert [(d.code, d.status) for d in before] == [(SPRING, SOON)]
    inside = dues(r, start=start, contacts=[D(2026, 12, 28)], today=D(2027, 2, 10), within=0)
    assert [(d.code, d.status, d.date) for d in inside] == [(SPRING, DUE, D(2027, 2, 6))]
    after = dues(r, start=start, contacts=[D(2026, 12, 28)], today=D(2027, 2, 23), within=0)
    assert [(d.code, d.status, d.days_overdue) for d in after] == [(SPRING, OVERDUE, 2)]
    # A visit inside the window honours it.
    done = dues(
        r, start=start, contacts=[D(2026, 12, 28), D(2027, 2, 18)], today=D(2027, 2, 23), within=0
    )
    assert done == []
    # Long after, it leaves the list (the monthly report keeps it).
    assert [
        d
        for d in dues(r, start=start, contacts=[D(2027, 3, 1)], today=D(2027, 4, 30), within=0)
        if d.code == SPRING
    ] == []


def test_childrens_day_and_the_childs_birthday_are_occasions_of_their_own():
    contacts = [D(2026, 5, 20)]  # the monthly contact is fine until 20 June
    items = dues(MOTHER, start=D(2026, 1, 1), contacts=contacts, today=D(2026, 5, 28), within=0)
    assert [(d.code, d.status) for d in items] == [(CHILDRENS_DAY, DUE)]
    # The birthday of a child born on 31 March: due from 24 March.
    contacts = [D(2026, 2, 20), D(2026, 3, 10)]  # 春节 (17 February) honoured on the 20th
    items = dues(MOTHER, start=D(2026, 1, 1), contacts=contacts, today=D(2026, 3, 25), within=0)
    assert [(d.code, d.date, d.status) for d in items] == [(BIRTHDAY, D(2026, 3, 31), DUE)]
    # Without the 春节 visit, the missed festival is still listed, overdue, first.
    items = dues(
        MOTHER, start=D(2026, 1, 1), contacts=[D(2026, 3, 10)], today=D(2026, 3, 25), within=0
    )
    assert [(d.code, d.status) for d in items] == [(SPRING, OVERDUE), (BIRTHDAY, DUE)]


def test_a_birthday_on_29_february_is_kept_on_28_february_in_common_years():
    r = Rhythm(every=1, unit="month", birthday=True, birth=D(2016, 2, 29))
    items = dues(r, start=D(2026, 1, 1), contacts=[D(2026, 2, 15)], today=D(2026, 2, 26), within=0)
    assert [(d.code, d.date) for d in items] == [(BIRTHDAY, D(2026, 2, 28))]


def test_month_need_counts_whole_intervals_and_occasions():
    # Weekly for a 31-day month: 4 contacts owed.
    need = month_need(WEEKLY, start=D(2026, 1, 1), end=None, contacts=[D(2026, 3, 3), D(2026, 3, 10)],
                      first=D(2026, 3, 1), last=D(2026, 3, 31))  # fmt: skip
    assert (need.required, need.made, need.gap) == (4, 2, 2)
    # Monthly in February (28 days): still one owed.
    need = month_need(
        MONTHLY,
        start=D(2026, 1, 1),
        end=None,
        contacts=[],
        first=D(2027, 2, 1),
        last=D(2027, 2, 28),
    )
    assert (need.required, need.gap) == (1, 1)
    # Started on the 20th: nothing owed yet that month.
    need = month_need(
        MONTHLY,
        start=D(2026, 3, 20),
        end=None,
        contacts=[],
        first=D(2026, 3, 1),
        last=D(2026, 3, 31),
    )
    assert need.required == 0 and need.gap == 0
    # Started on 2 November: its first contact is due on 2 December (dues, the pairing's page),
    # so November owes none — the report counted one (29 days, "nearly a month").
    need = month_need(MONTHLY, start=D(2026, 11, 2), end=None, contacts=[],
                      first=D(2026, 11, 1), last=D(2026, 11, 30))  # fmt: skip
    assert need.required == 0
    assert regular(dues(MONTHLY, start=D(2026, 11, 2), contacts=[], today=D(2026, 11, 30),
                        within=30))[0].date == D(2026, 12, 2)  # fmt: skip
    # June for an orphan's 爱心妈妈: the monthly contact and 六一, honoured by the visit on 30 May.
    need = month_need(MOTHER, start=D(2026, 1, 1), end=None, contacts=[D(2026, 5, 30)],
                      first=D(2026, 6, 1), last=D(2026, 6, 30))  # fmt: skip
    assert need.required == 1 and need.made == 0
    assert [(o.code, ok) for o, ok in need.occasions] == [(CHILDRENS_DAY, True)]
    assert need.gap == 1


def test_a_running_month_owes_only_up_to_today_and_open_windows_are_not_missed_yet():
    need = month_need(MOTHER, start=D(2026, 1, 1), end=None, contacts=[D(2026, 5, 5)],
                      first=D(2026, 6, 1), last=D(2026, 6, 30), today=D(2026, 6, 2))  # fmt: skip
    assert need.required == 0 and need.occasions == () and need.gap == 0


def test_a_running_month_owes_the_contact_the_due_list_already_calls_late():
    """QA: on 30 November a monthly pairing last contacted on 9 October — 21 days overdue on
    the 应联系 list — owed nothing in November's report (the month not yet whole)."""
    contacts = [D(2026, 10, 9)]
    need = month_need(MONTHLY, start=D(2026, 1, 5), end=None, contacts=contacts,
                      first=D(2026, 11, 1), last=D(2026, 11, 30), today=D(2026, 11, 30))  # fmt: skip
    assert (need.required, need.gap) == (1, 1)
    assert regular(dues(MONTHLY, start=D(2026, 1, 5), contacts=contacts,
                        today=D(2026, 11, 30)))[0].days_overdue == 21  # fmt: skip
    # Contacted on the 20th: owed and made.
    need = month_need(MONTHLY, start=D(2026, 1, 5), end=None, contacts=[*contacts, D(2026, 11, 20)],
                      first=D(2026, 11, 1), last=D(2026, 11, 30), today=D(2026, 11, 30))  # fmt: skip
    assert (need.required, need.made, need.gap) == (1, 1, 0)


QUARTERLY = Rhythm(every=3, unit="month")


def test_a_rhythm_longer_than_a_month_is_owed_where_it_falls_due_and_after_until_contact():
    """A unit's quarterly visit to its village, last on 16 June: due on 16 September, as the
    应联系 list says; the report counted it in no month (no whole quarter fits in a month)."""
    contacts = [D(2026, 6, 16)]

    def owed(month: int, contacts=contacts, today=None):
        first = D(2026, month, 1)
        last = D(2026, month + 1, 1) - dt.timedelta(days=1)
        need = month_need(QUARTERLY, start=D(2026, 1, 1), end=None, contacts=contacts,
                          first=first, last=last, today=today)  # fmt: skip
        return need.required, need.made, need.gap

    assert [owed(m) for m in (7, 8)] == [(0, 0, 0), (0, 0, 0)]
    assert [owed(m) for m in (9, 10, 11)] == [(1, 0, 1)] * 3
    assert regular(dues(QUARTERLY, start=D(2026, 1, 1), contacts=contacts,
                        today=D(2026, 11, 30)))[0].days_overdue == 75  # fmt: skip
    # Visited on 5 October: October owed it and had it; the next is due on 5 January.
    visited = [*contacts, D(2026, 10, 5)]
    assert [owed(m, visited) for m in (10, 11)] == [(1, 1, 0), (0, 0, 0)]
    # A visit ahead of time (in August) moves the due date: September owes nothing.
    early = [*contacts, D(2026, 8, 20)]
    assert [owed(m, early) for m in (8, 9, 10)] == [(0, 1, 0), (0, 0, 0), (0, 0, 0)]
    # Due on 16 September, still September the 16th: not late yet.
    assert owed(9, today=D(2026, 9, 16)) == (0, 0, 0)
    assert owed(9, today=D(2026, 9, 17)) == (1, 0, 1)


def test_a_contact_due_on_the_last_day_of_a_running_month_is_not_a_gap_yet():
    """Contacted on 30 October, monthly: due today, 30 November (今日应联系), not late."""
    need = month_need(MONTHLY, start=D(2026, 1, 1), end=None, contacts=[D(2026, 10, 30)],
                      first=D(2026, 11, 1), last=D(2026, 11, 30), today=D(2026, 11, 30))  # fmt: skip
    assert (need.required, need.gap) == (0, 0)
    assert regular(dues(MONTHLY, start=D(2026, 1, 1), contacts=[D(2026, 10, 30)],
                        today=D(2026, 11, 30)))[0].status == DUE  # fmt: skip
    # Once November is over it owed one.
    need = month_need(MONTHLY, start=D(2026, 1, 1), end=None, contacts=[D(2026, 10, 30)],
                      first=D(2026, 11, 1), last=D(2026, 11, 30), today=D(2026, 12, 1))  # fmt: skip
    assert (need.required, need.gap) == (1, 1)


def test_a_programmes_rhythm_reads_in_the_uis_language():
    from django.utils import translation

    from minqing.assistance.models import Programme

    mother = Programme(every=1, unit="month", on_spring_festival=True, on_birthday=True)
    group = Programme(every=2, unit="week")
    season = Programme(every=3, unit="month")
    assert [p.rhythm_label for p in (mother, group, season)] == [
        "每月，另春节、生日",
        "每2周",
        "每季度",
    ]
    with translation.override("en"):
        assert [p.rhythm_label for p in (mother, group, season)] == [
            "monthly, plus Spring Festival, birthday",
            "every 2 weeks",
            "quarterly",
        ]
