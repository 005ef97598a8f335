"""The working-day calendar that case time limits are counted in.

Time limits are set in working days ("answer within 7 working days") or working hours, not
calendar days, so every deadline and every "time remaining" goes through this module.

- chinese-calendar carries the State Council's official holidays and make-up workdays (调休上班),
  year by year, as its releases come out.
- The WorkdayOverride table wins over it: each winter an admin enters next year's arrangement
  before chinese-calendar knows the year, and local holidays or extra working days go there too.
- For a year chinese-calendar does not know, Monday to Friday are working days (plus overrides),
  with a warning in the log once per year and process, so a missing arrangement is noticed.

The deadline sweeper and the case lists call these functions for thousands of cases, so the
override rows are read in one query and kept in-process for at most OVERRIDES_TTL seconds
(another process's edits show up within that time; this process's show up at once through the
post_save/post_delete signals), and each year is turned into a table of running counts, which
makes every question here a lookup and a bisection instead of a walk over the days.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import functools
import logging
import threading
import time

import chinese_calendar
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from minqing.core.models import WorkdayOverride

logger = logging.getLogger(__name__)

OVERRIDES_TTL = 60.0  # seconds an in-process copy of the override table may be used

# Statutory holidays on fixed solar dates (全国年节及纪念日放假办法, 2025 revision): 元旦, 劳动节
# (1–2 May), 国庆节 (1–3 October). In a year chinese-calendar does not know yet they are still
# holidays; the lunar ones (春节, 清明, 端午, 中秋) and make-up days need the override table.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


def _setting_time(name: str, default: dt.time) -> dt.time:
    value = getattr(settings, name, default)
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError):
        # Named as the operator sets it (the environment's WORKDAY_START), not the setting.
        told = name.removeprefix("MINQING_")
        raise ImproperlyConfigured(f'{told} must be a time as "HH:MM", not {value!r}') from None


def _working_hours() -> tuple[dt.time, dt.time]:
    start = _setting_time("MINQING_WORKDAY_START", dt.time(8, 30))
    end = _setting_time("MINQING_WORKDAY_END", dt.time(17, 30))
    if end <= start:
        raise ImproperlyConfigured("WORKDAY_END must be after WORKDAY_START")
    return start, end


WORKDAY_START, WORKDAY_END = _working_hours()


def _day_length() -> dt.timedelta:
    return dt.datetime.combine(dt.date.min, WORKDAY_END) - dt.datetime.combine(
        dt.date.min, WORKDAY_START
    )


# --- the calendar ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def _official_is_workday(d: dt.date) -> bool | None:
    """chinese-calendar's answer for one date, or None for a year it has no data for."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return None


_warned_years: set[int] = set()


def _warn_unknown_year(year: int, overrides: int) -> None:
    if year in _warned_years:
        return
    _warned_years.add(year)
    logger.warning(
        "chinese-calendar %s has no holidays for %s: counting Monday to Friday as working days, "
        "with %s WorkdayOverride rows for that year. Paste the State Council's notice at "
        "/admin/core/workdayoverride/import-notice/ (工作日调整 › 从国务院通知导入, or "
        "`manage.py import_holiday_notice`) or upgrade chinese-calendar.",
        _chinese_calendar_version(),
        year,
        overrides,
    )


def arrangement_missing(today: dt.date) -> int | None:
    """The year whose holidays nobody has entered yet and soon matter, or None.

    This year, or from November (when the State Council publishes it) next year, if
    chinese-calendar does not know it and the override table holds no day of it: the home page
    tells those who may fill the table (core.holiday_notice), instead of only the log.
    """
    years = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    for year in years:
        if _official_is_workday(dt.date(year, 1, 1)) is not None:
            continue
        if not WorkdayOverride.objects.filter(date__year=year).exists():
            return year
    return None


def _chinese_calendar_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chinese-calendar")
    except PackageNotFoundError:  # pragma: no cover - vendored copy
        return "?"


class _Year:
    """One year as a table: is_working[i] and prefix[i] = working days among days 0..i."""

    __slots__ = ("first", "is_working", "prefix", "total")

    def __init__(self, year: int, overrides: dict[dt.date, bool]):
        self.first = dt.date(year, 1, 1)
        days = 366 if calendar.isleap(year) else 365
        is_working: list[bool] = []
        prefix: list[int] = []
        count = 0
        unknown = False
        for i in range(days):
            d = self.first + dt.timedelta(days=i)
            working = overrides.get(d)
            if working is None:
                working = _official_is_workday(d)
                if working is None:
                    unknown = True
                    working = d.weekday() < 5 and (d.month, d.day) not in FIXED_HOLIDAYS
            count += working
            is_working.append(working)
            prefix.append(count)
        if unknown:
            _warn_unknown_year(year, sum(1 for d in overrides if d.year == year))
        self.is_working = is_working
        self.prefix = prefix
        self.total = count

    def index(self, d: dt.date) -> int:
        return (d - self.first).days


class _Calendar:
    """The override rows as read at one moment, and the years built from them on demand."""

    def __init__(self, overrides: dict[dt.date, bool]):
        self.overrides = overrides
        self.years: dict[int, _Year] = {}

    def year(self, year: int) -> _Year:
        # Two threads may build the same year at once; both get the same table, one is kept.
        y = self.years.get(year)
        if y is None:
            y = self.years[year] = _Year(year, self.overrides)
        return y

    def is_working(self, d: dt.date) -> bool:
        y = self.year(d.year)
        return y.is_working[y.index(d)]

    def count_through(self, d: dt.date) -> int:
        """Working days from 1 January of d's year up to and including d."""
        y = self.year(d.year)
        return y.prefix[y.index(d)]


_lock = threading.Lock()
_cached: tuple[float, _Calendar] | None = None


def _calendar() -> _Calendar:
    global _cached
    cached = _cached
    if cached is not None and time.monotonic() - cached[0] < OVERRIDES_TTL:
        return cached[1]
    with _lock:
        cached = _cached
        if cached is not None and time.monotonic() - cached[0] < OVERRIDES_TTL:
            return cached[1]
        rows = WorkdayOverride.objects.values_list("date", "is_working_day")
        cal = _Calendar(dict(rows))
        _cached = (time.monotonic(), cal)
        return cal


def _invalidate() -> None:
    global _cached
    _cached = None


def clear_cache() -> None:
    """Forget everything cached: the override rows, the per-date lookups and the warnings given."""
    _invalidate()
    _official_is_workday.cache_clear()
    _warned_years.clear()


@receiver(post_save, sender=WorkdayOverride, dispatch_uid="workdays_override_saved")
@receiver(post_delete, sender=WorkdayOverride, dispatch_uid="workdays_override_deleted")
def _override_changed(sender, using="default", **kwargs) -> None:
    # Now, so this request sees its own edit; and again after commit, in case a request read
    # the table between the write and the commit (or the write was rolled back).
    _invalidate()
    transaction.on_commit(_invalidate, using=using)


@receiver(setting_changed, dispatch_uid="workdays_setting_changed")
def _hours_changed(setting, **kwargs) -> None:
    global WORKDAY_START, WORKDAY_END
    if setting in ("MINQING_WORKDAY_START", "MINQING_WORKDAY_END"):
        WORKDAY_START, WORKDAY_END = _working_hours()


# --- working days ----------------------------------------------------------------------------


def is_working_day(d: dt.date) -> bool:
    """Whether d is a working day: an override row, else the official calendar, else Mon–Fri."""
    return _calendar().is_working(d)


def add_working_days(d: dt.date, n: int) -> dt.date:
    """The n-th working day after d; for n=0, d itself if it is a working day, else the next one.

    "Within 3 working days" of a case accepted on Monday is add_working_days(monday, 3): Thursday.
    """
    if n < 0:
        raise ValueError(f"n must not be negative, not {n}")
    # Look for the first day e after `base` with `need` working days in (base, e]: that day is
    # a working day, the one the count reaches.
    base, need = (d - dt.timedelta(days=1), 1) if n == 0 else (d, n)
    cal = _calendar()
    y = cal.year(base.year)
    target = y.prefix[y.index(base)] + need
    while target > y.total:
        target -= y.total
        y = cal.year(y.first.year + 1)
    return y.first + dt.timedelta(days=bisect.bisect_left(y.prefix, target))


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days in (a, b]; negative (minus those in (b, a]) when b is before a.

    The inverse of add_working_days: add_working_days(a, n) == b for n > 0 implies
    working_days_between(a, b) == n.
    """
    if b < a:
        return -working_days_between(b, a)
    cal = _calendar()
    if a.year == b.year:
        return cal.count_through(b) - cal.count_through(a)
    days = cal.year(a.year).total - cal.count_through(a)
    for year in range(a.year + 1, b.year):
        days += cal.year(year).total
    return days + cal.count_through(b)


# --- working hours ---------------------------------------------------------------------------


def _local(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        raise ValueError("working-time arithmetic needs an aware datetime")
    return timezone.localtime(moment, timezone.get_default_timezone())


def _at(d: dt.date, t: dt.time) -> dt.datetime:
    return dt.datetime.combine(d, t, tzinfo=timezone.get_default_timezone())


def _next_period_start(moment: dt.datetime) -> dt.datetime:
    """The start of the working period moment is in, or else of the next one (local time)."""
    d = moment.date()
    if is_working_day(d) and moment.time() < WORKDAY_END:
        return max(moment, _at(d, WORKDAY_START))
    return _at(add_working_days(d, 1), WORKDAY_START)


def deadline_after(start: dt.datetime, *, days: int = 0, hours: float = 0) -> dt.datetime:
    """When a time limit that starts at `start` runs out, as an aware datetime in TIME_ZONE.

    - days > 0: the end of the working day (WORKDAY_END) `days` working days after start's date,
      so "within 3 working days" of a case accepted on Monday ends on Thursday at 17:30.
    - hours > 0: that many working hours counted forward from start, within WORKDAY_START to
      WORKDAY_END on working days; a start outside working hours counts from the next period.
    - neither: "the same day", the end of start's working day, or of the next working day when
      start is after hours or on a day off.
    """
    if days < 0 or hours < 0:
        raise ValueError("a time limit cannot be negative")
    if days and hours:
        raise ValueError("give a time limit in days or in hours, not both")
    local = _local(start)
    if days:
        return _at(add_working_days(local.date(), days), WORKDAY_END)
    period_start = _next_period_start(local)
    if not hours:
        return _at(period_start.date(), WORKDAY_END)
    remaining = dt.timedelta(hours=hours)
    while True:
        period_end = _at(period_start.date(), WORKDAY_END)
        if remaining <= period_end - period_start:
            return period_start + remaining
        remaining -= period_end - period_start
        period_start = _at(add_working_days(period_start.date(), 1), WORKDAY_START)


def _hours_on(d: dt.date, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Working time on day d that falls within [a, b]."""
    if not is_working_day(d):
        return dt.timedelta(0)
    overlap = min(b, _at(d, WORKDAY_END)) - max(a, _at(d, WORKDAY_START))
    return max(overlap, dt.timedelta(0))


def working_hours_between(a: dt.datetime, b: dt.datetime) -> float:
    """Working hours from a to b (for "time remaining" and the 80% reminders); negative if b < a."""
    if b < a:
        return -working_hours_between(b, a)
    a, b = _local(a), _local(b)
    if a.date() == b.date():
        total = _hours_on(a.date(), a, b)
    else:
        # The two end days in part, and every working day strictly between them in full.
        full_days = working_days_between(a.date(), b.date()) - is_working_day(b.date())
        total = _hours_on(a.date(), a, b) + _hours_on(b.date(), a, b) + full_days * _day_length()
    return total / dt.timedelta(hours=1)
