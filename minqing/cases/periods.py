"""The period a statistic covers, read from start/end text one way for the indicators page, its
export and the API: the API used to say 1970–2100 and default to this month, the page 2000–2100
and this year, so the same link gave different numbers."""

import datetime
import re

from django.utils.translation import gettext_lazy as _

ERR_DATE = _("日期格式应为 YYYY-MM-DD，例如 2026-01-31。")
ERR_DATE_RANGE = _("日期超出范围。")
ERR_DATE_ORDER = _("结束日期不能早于开始日期。")
ERR_SPAN = _("统计期间不能超过三年。")

MAX_SPAN_DAYS = 3 * 366
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PeriodError(ValueError):
    """A start or end that cannot be used; `field` names which ("start" or "end")."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field, self.message = field, message


def default_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """This year to date."""
    return today.replace(month=1, day=1), today


def read_day(value: str, field: str) -> datetime.date | None:
    """A YYYY-MM-DD day of 2000–2100; None for an empty value."""
    value = (value or "").strip()
    if not value:
        return None
    if not DATE_RE.fullmatch(value):
        raise PeriodError(field, ERR_DATE)
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise PeriodError(field, ERR_DATE) from None
    if not (2000 <= day.year <= 2100):
        raise PeriodError(field, ERR_DATE_RANGE)
    return day


def check_period(start: datetime.date, end: datetime.date) -> None:
    """An end before its start, or a span of over three years, is refused (on the end)."""
    if end < start:
        raise PeriodError("end", ERR_DATE_ORDER)
    if (end - start).days > MAX_SPAN_DAYS:
        raise PeriodError("end", ERR_SPAN)


def read_period(start: str, end: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """start/end as given (each defaults to this year's first day / today), checked."""
    default_start, default_end = default_period(today)
    first = read_day(start, "start") or default_start
    last = read_day(end, "end") or default_end
    check_period(first, last)
    return first, last
