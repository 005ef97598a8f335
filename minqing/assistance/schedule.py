"""Contact rhythms: when a pairing's next contact is due, special occasions, monthly requirements.

Pure functions over dates (no database, no clock), so due dates across month ends, leap years
and festivals are tested directly.

- The regular rhythm (every N days / weeks / months): the next contact is due one interval after
  the last one (or after the pairing started, if nobody has been in contact yet). A month after
  31 January is the last day of February. Due dates are not moved off weekends: helpers (爱心妈妈,
  volunteers, party members) visit at weekends as often as on working days.
- Special occasions (春节, 六一 Children's Day, the child's birthday): each has a window around
  its date; a contact inside the window honours it. The occasion is due from the day its window
  opens, and overdue once the window has closed without a contact; it stays on the overdue list
  for MISSED_KEEP_DAYS, then only the monthly report remembers it.
"""

import calendar
import datetime as dt
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from minqing.assistance.models import RhythmUnit

# 春节 (lunar new year's day), from the official calendar. Years outside the table have no
# Spring Festival occasion (add the next years here when the table runs out).
SPRING_FESTIVAL = {
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
    2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31),
    2034: dt.date(2034, 2, 19),
    2035: dt.date(2035, 2, 8),
}

SPRING = "spring"
CHILDRENS_DAY = "childrens_day"
BIRTHDAY = "birthday"
REGULAR = "regular"

OCCASION_NAMES = {
    SPRING: _("春节慰问"),
    CHILDRENS_DAY: _("六一慰问"),
    BIRTHDAY: _("生日看望"),
    REGULAR: _("定期联系"),
}
# Days before and after the occasion in which a contact honours it: 春节 visits run from the
# week before the festival to 元宵 (the 15th day).
WINDOWS = {SPRING: (10, 15), CHILDRENS_DAY: (7, 3), BIRTHDAY: (7, 7)}
MISSED_KEEP_DAYS = 30

OVERDUE = "overdue"
DUE = "due"
SOON = "soon"

# Only to compare rhythms and count what a month requires.
DAYS_PER_MONTH = 30.44


def add_months(d: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the last day of that month if it is shorter."""
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def next_due(base: dt.date, every: int, unit: str) -> dt.date:
    """The date a contact is due one interval after `base`."""
    if unit == RhythmUnit.MONTH:
        return add_months(base, every)
    if unit == RhythmUnit.WEEK:
        return base + dt.timedelta(weeks=every)
    return base + dt.timedelta(days=every)


def interval_days(every: int, unit: str) -> float:
    if unit == RhythmUnit.MONTH:
        return every * DAYS_PER_MONTH
    if unit == RhythmUnit.WEEK:
        return every * 7.0
    return float(every)


def birthday_in(year: int, birth: dt.date) -> dt.date:
    """The birthday in `year` (29 February → 28 February in common years)."""
    day = min(birth.day, calendar.monthrange(year, birth.month)[1])
    return dt.date(year, birth.month, day)


@dataclass(frozen=True)
class Rhythm:
    """What a programme asks of a pairing; `birth` is the target person's birth date."""

    every: int
    unit: str
    spring: bool = False
    childrens_day: bool = False
    birthday: bool = False
    birth: dt.date | None = None


@dataclass(frozen=True)
class Occasion:
    code: str
    date: dt.date
    opens: dt.date
    closes: dt.date

    @property
    def name(self):
        return OCCASION_NAMES[self.code]


def occasions_between(rhythm: Rhythm, first: dt.date, last: dt.date) -> list[Occasion]:
    """The occasions whose date lies in [first, last], in date order."""
    out = []
    for year in range(first.year, last.year + 1):
        days = []
        if rhythm.spring and year in SPRING_FESTIVAL:
            days.append((SPRING, SPRING_FESTIVAL[year]))
        if rhythm.childrens_day:
            days.append((CHILDRENS_DAY, dt.date(year, 6, 1)))
        if rhythm.birthday and rhythm.birth is not None:
            days.append((BIRTHDAY, birthday_in(year, rhythm.birth)))
        for code, day in days:
            if first <= day <= last:
                before, after = WINDOWS[code]
                out.append(
                    Occasion(
                        code, day, day - dt.timedelta(days=before), day + dt.timedelta(days=after)
                    )
                )
    out.sort(key=lambda o: (o.date, o.code))
    return out


def _any_between(contacts: Sequence[dt.date], first: dt.date, last: dt.date) -> bool:
    """Whether the sorted `contacts` hold a date in [first, last]."""
    i = bisect_left(contacts, first)
    return i < len(contacts) and contacts[i] <= last


@dataclass(frozen=True)
class Due:
    """One contact owed: the regular rhythm's next contact, or an occasion."""

    code: str  # REGULAR or an occasion code
    date: dt.date  # the due date (an occasion's own date)
    status: str  # OVERDUE, DUE (today / window open), SOON
    days_overdue: int = 0
    opens: dt.date | None = None
    closes: dt.date | None = None

    @property
    def name(self):
        return OCCASION_NAMES[self.code]


def dues(
    rhythm: Rhythm,
    *,
    start: dt.date,
    contacts: Sequence[dt.date],
    today: dt.date,
    within: int = 7,
) -> list[Due]:
    """What an active pairing owes by today + `within` days. `contacts`: sorted contact dates."""
    contacts = [c for c in contacts if c >= start]
    out: list[Due] = []
    horizon = today + dt.timedelta(days=within)
    base = contacts[-1] if contacts else start
    due = next_due(base, rhythm.every, rhythm.unit)
    if due <= horizon:
        if due < today:
            out.append(Due(REGULAR, due, OVERDUE, (today - due).days))
        else:
            out.append(Due(REGULAR, due, DUE if due == today else SOON))
    # Occasions whose window is open, about to open or closed recently without a contact.
    first = max(start, today - dt.timedelta(days=MISSED_KEEP_DAYS + 20))
    for o in occasions_between(rhythm, first, horizon + dt.timedelta(days=20)):
        if o.date < start or o.opens > horizon:
            continue
        if _any_between(contacts, o.opens, o.closes):
            continue
        if today > o.closes:
            if (today - o.closes).days <= MISSED_KEEP_DAYS:
                out.append(Due(o.code, o.date, OVERDUE, (today - o.closes).days, o.opens, o.closes))
        elif today >= o.opens:
            out.append(Due(o.code, o.date, DUE, 0, o.opens, o.closes))
        else:
            out.append(Due(o.code, o.date, SOON, 0, o.opens, o.closes))
    out.sort(key=lambda d: (d.status != OVERDUE, d.date))
    return out


@dataclass(frozen=True)
class MonthNeed:
    """What a pairing owed in a month and what it did."""

    required: int  # regular contacts required
    made: int  # days with a contact in the month
    occasions: tuple[tuple[Occasion, bool], ...]  # occasions in the month, honoured or not

    @property
    def regular_gap(self) -> int:
        return max(0, self.required - self.made)

    @property
    def missed_occasions(self) -> list[Occasion]:
        return [o for o, ok in self.occasions if not ok]

    @property
    def gap(self) -> int:
        return self.regular_gap + len(self.missed_occasions)


def _longer_than_a_month(rhythm: Rhythm) -> bool:
    """Months counted by the calendar (every 2 months …); days and weeks longer than February
    (every 30 days owed nothing in February, every 31 in any month of 30 days)."""
    if rhythm.unit == RhythmUnit.MONTH:
        return rhythm.every > 1
    return interval_days(rhythm.every, rhythm.unit) > 28


def _long_rhythm_owed(
    rhythm: Rhythm, start: dt.date, contacts: Sequence[dt.date], first: dt.date, last: dt.date
) -> int:
    """1 when a contact every few months fell due by `last` as `dues` dates it — one interval
    after the last contact before `first` (or the start) — else 0: a unit visiting its village
    each quarter owes the month its visit falls due, and every month after until it comes."""
    if last < first:
        return 0
    before = [c for c in contacts if start <= c < first]
    base = max(before) if before else start
    return 1 if next_due(base, rhythm.every, rhythm.unit) <= last else 0


def _whole_intervals(rhythm: Rhythm, first: dt.date, last: dt.date) -> int:
    """Intervals of the rhythm that fit whole in the days [first, last], counted as `dues`
    counts them (next_due: by the calendar for months): a monthly pairing active all of a
    28-day February owes one; one started on 2 November owes none in November — its first
    contact is due on 2 December, as its page and the 应联系 list say."""
    if last < first:
        return 0
    end = last + dt.timedelta(days=1)
    if rhythm.unit != RhythmUnit.MONTH:
        return (end - first).days // int(interval_days(rhythm.every, rhythm.unit))
    n = 0
    while next_due(first, (n + 1) * rhythm.every, rhythm.unit) <= end:
        n += 1
    return n


def month_need(
    rhythm: Rhythm,
    *,
    start: dt.date,
    end: dt.date | None,
    contacts: Sequence[dt.date],
    first: dt.date,
    last: dt.date,
    today: dt.date | None = None,
) -> MonthNeed:
    """Contacts a pairing owed in the month [first, last] and made.

    Regular contacts required: the whole intervals the pairing was active in the month (a
    monthly pairing active all month owes 1, a weekly one 4; one that started late in the
    month owes nothing yet), and at least the one that fell due in the month as the due list
    dates it (one interval after the last contact before the month). A rhythm longer than a month (quarterly) owes one contact in a
    month when it fell due there or was overdue already (`_long_rhythm_owed`): its due list
    and its report agree. Each occasion in the month while the pairing was active must be
    honoured inside its window.

    For a month still running (`today` inside it) only the days before today are owed (a
    contact due today is not late yet: the 应联系 list says 今日应联系), and an occasion whose
    window is still open is not owed yet.
    """
    active_from = max(start, first)
    active_to = min(end, last) if end else last
    if active_to < active_from:
        return MonthNeed(0, 0, ())
    owed_to = min(active_to, today - dt.timedelta(days=1)) if today else active_to
    if _longer_than_a_month(rhythm):
        required = _long_rhythm_owed(rhythm, start, contacts, active_from, owed_to)
    else:
        # Whole intervals, or the contact the due list already calls late: on the last day of
        # a running month a monthly pairing last seen on 9 October owed nothing (November not
        # yet whole) while the 应联系 list had it 21 days overdue (QA).
        required = max(
            _whole_intervals(rhythm, active_from, owed_to),
            _long_rhythm_owed(rhythm, start, contacts, active_from, owed_to),
        )
    made = len({c for c in contacts if active_from <= c <= active_to})
    occasions = []
    for o in occasions_between(rhythm, active_from, active_to):
        ok = _any_between(contacts, o.opens, o.closes)
        if ok or today is None or o.closes < today:
            occasions.append((o, ok))
    return MonthNeed(required, made, tuple(occasions))
