"""The working-day calendar: official holidays and make-up days, overrides, hours, deadlines.

The 2026 dates are the State Council's arrangement as chinese-calendar reports it:
Spring Festival off 15–23 February with make-up workdays Saturday 14 and Saturday 28 February;
Mid-Autumn off 25–27 September; National Day off 1–7 October with make-up workdays Sunday
20 September and Saturday 10 October.
"""

import datetime as dt
import logging
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minqing.core import workdays
from minqing.core.models import WorkdayOverride
from minqing.core.workdays import (
    add_working_days,
    deadline_after,
    is_working_day,
    working_days_between,
    working_hours_between,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNKNOWN_YEAR = 2031  # chinese-calendar 1.11.0 knows 2004–2026


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fresh_calendar():
    workdays.clear_cache()
    yield
    workdays.clear_cache()


# --- weekends and the official calendar ------------------------------------------------------


def test_an_ordinary_week_works_monday_to_friday():
    week = [dt.date(2026, 3, 9) + dt.timedelta(days=i) for i in range(7)]
    assert [is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_the_working_day_after_a_friday_is_the_monday():
    assert add_working_days(dt.date(2026, 3, 6), 1) == dt.date(2026, 3, 9)


def test_zero_working_days_from_a_working_day_is_that_day():
    assert add_working_days(dt.date(2026, 3, 9), 0) == dt.date(2026, 3, 9)


def test_zero_working_days_from_a_sunday_is_the_monday():
    assert add_working_days(dt.date(2026, 3, 8), 0) == dt.date(2026, 3, 9)


def test_a_negative_number_of_working_days_is_refused():
    with pytest.raises(ValueError):
        add_working_days(dt.date(2026, 3, 9), -1)


def test_national_day_2026_is_seven_days_off():
    golden_week = [dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(7)]
    assert not any(is_working_day(d) for d in golden_week)


def test_the_working_day_after_30_september_2026_is_8_october():
    assert add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)


def test_a_make_up_saturday_counts_as_a_working_day():
    assert dt.date(2026, 10, 10).weekday() == 5
    assert is_working_day(dt.date(2026, 10, 10))
    assert add_working_days(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)
    assert add_working_days(dt.date(2026, 9, 30), 4) == dt.date(2026, 10, 12)


def test_a_make_up_sunday_counts_as_a_working_day():
    assert dt.date(2026, 9, 20).weekday() == 6
    assert is_working_day(dt.date(2026, 9, 20))
    assert add_working_days(dt.date(2026, 9, 18), 1) == dt.date(2026, 9, 20)


def test_the_working_days_across_national_day_2026_are_the_make_up_days_and_the_week_after():
    assert working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 11)) == 3  # 8, 9, 10


def test_spring_festival_2026_runs_from_the_make_up_saturday_to_the_24th():
    assert is_working_day(dt.date(2026, 2, 14))
    assert not any(is_working_day(dt.date(2026, 2, day)) for day in range(15, 24))
    assert add_working_days(dt.date(2026, 2, 13), 1) == dt.date(2026, 2, 14)
    assert add_working_days(dt.date(2026, 2, 14), 1) == dt.date(2026, 2, 24)
    assert is_working_day(dt.date(2026, 2, 28))


def test_seven_working_days_from_the_eve_of_spring_festival_2026():
    # 14 Feb (make-up Sat), 24, 25, 26, 27, 28 Feb (make-up Sat), 2 Mar.
    assert add_working_days(dt.date(2026, 2, 13), 7) == dt.date(2026, 3, 2)


def test_working_days_are_counted_across_the_new_year():
    # 31 Dec 2025, then 1–3 Jan off and Sunday 4 Jan 2026 a make-up workday.
    assert add_working_days(dt.date(2025, 12, 30), 2) == dt.date(2026, 1, 4)
    assert working_days_between(dt.date(2025, 12, 30), dt.date(2026, 1, 5)) == 3


def test_working_days_between_is_negative_when_the_end_comes_first():
    assert working_days_between(dt.date(2026, 3, 13), dt.date(2026, 3, 9)) == -4
    assert working_days_between(dt.date(2026, 3, 9), dt.date(2026, 3, 9)) == 0


dates_2025_to_2027 = st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31))
no_fixture_reset = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@no_fixture_reset
@given(start=dates_2025_to_2027, n=st.integers(min_value=1, max_value=60))
def test_working_days_between_undoes_add_working_days(start, n):
    end = add_working_days(start, n)
    assert is_working_day(end)
    assert working_days_between(start, end) == n
    assert working_days_between(end, start) == -n


@no_fixture_reset
@given(a=dates_2025_to_2027, b=dates_2025_to_2027)
def test_working_days_between_counts_the_working_days_after_a_up_to_b(a, b):
    lo, hi = min(a, b), max(a, b)
    days = (lo + dt.timedelta(days=i + 1) for i in range((hi - lo).days))
    expected = sum(is_working_day(d) for d in days)
    assert working_days_between(a, b) == (expected if b >= a else -expected)


# --- overrides -------------------------------------------------------------------------------


def test_an_override_turns_a_working_day_into_a_holiday():
    tuesday = dt.date(2026, 3, 10)
    assert is_working_day(tuesday)
    WorkdayOverride.objects.create(date=tuesday, is_working_day=False, name="县庆")
    assert not is_working_day(tuesday)
    assert add_working_days(dt.date(2026, 3, 9), 1) == dt.date(2026, 3, 11)


def test_an_override_turns_a_weekend_day_into_a_working_day():
    saturday = dt.date(2026, 3, 14)
    assert not is_working_day(saturday)
    WorkdayOverride.objects.create(date=saturday, is_working_day=True, name="防汛值守")
    assert is_working_day(saturday)
    assert add_working_days(dt.date(2026, 3, 13), 1) == saturday


def test_an_override_wins_over_an_official_make_up_day():
    WorkdayOverride.objects.create(date=dt.date(2026, 10, 10), is_working_day=False)
    assert add_working_days(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 12)


def test_saving_or_deleting_an_override_takes_effect_at_once():
    day = dt.date(2026, 3, 10)
    row = WorkdayOverride.objects.create(date=day, is_working_day=False)
    assert not is_working_day(day)
    row.is_working_day = True
    row.save()
    assert is_working_day(day)
    row.is_working_day = False
    row.save()
    assert not is_working_day(day)
    row.delete()
    assert is_working_day(day)


def test_the_overrides_are_read_in_one_query_for_many_questions(django_assert_num_queries):
    WorkdayOverride.objects.create(date=dt.date(2026, 3, 10), is_working_day=False)
    with django_assert_num_queries(1):
        for i in range(1000):
            start = dt.date(2026, 1, 1) + dt.timedelta(days=i % 365)
            end = add_working_days(start, 7)
            working_days_between(start, end)
            deadline_after(at(2026, 3, 9, 10, 0), hours=20)


def test_an_edit_made_without_signals_shows_up_once_the_cache_expires(monkeypatch):
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(workdays, "time", SimpleNamespace(monotonic=lambda: clock.now))
    day = dt.date(2026, 3, 10)
    row = WorkdayOverride.objects.create(date=day, is_working_day=False)
    assert not is_working_day(day)

    WorkdayOverride.objects.filter(pk=row.pk).update(is_working_day=True)  # e.g. another process
    clock.now += workdays.OVERRIDES_TTL - 1
    assert not is_working_day(day)
    clock.now += 2
    assert is_working_day(day)


def test_the_override_admin_lists_and_searches_by_name(client, admin_user):
    WorkdayOverride.objects.create(
        date=dt.date(2027, 2, 6), is_working_day=False, name="2027年春节"
    )
    client.force_login(admin_user)
    response = client.get("/admin/core/workdayoverride/", {"q": "春节"})
    assert response.status_code == 200
    assert "2027年春节" in response.content.decode()


# --- a year chinese-calendar does not know ---------------------------------------------------


def test_chinese_calendar_really_does_not_know_the_unknown_year():
    # If a new release knows it, move UNKNOWN_YEAR further out.
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(UNKNOWN_YEAR, 1, 1))


def test_an_unknown_year_falls_back_to_monday_to_friday_with_one_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="minqing.core.workdays"):
        assert is_working_day(dt.date(UNKNOWN_YEAR, 1, 2))  # a Thursday
        assert not is_working_day(dt.date(UNKNOWN_YEAR, 1, 4))  # Saturday
        assert add_working_days(dt.date(UNKNOWN_YEAR, 1, 3), 1) == dt.date(UNKNOWN_YEAR, 1, 6)
        workdays._invalidate()  # a reload of the overrides does not warn again
        assert is_working_day(dt.date(UNKNOWN_YEAR, 6, 2))
    warnings = [r for r in caplog.records if str(UNKNOWN_YEAR) in r.getMessage()]
    assert len(warnings) == 1


def test_fixed_date_statutory_holidays_stay_holidays_in_an_unknown_year():
    # 元旦, 劳动节 and the first three days of 国庆 fall on fixed dates whatever the arrangement.
    assert not is_working_day(dt.date(UNKNOWN_YEAR, 1, 1))  # a Wednesday
    assert not is_working_day(dt.date(UNKNOWN_YEAR, 5, 1))  # a Thursday
    assert not is_working_day(dt.date(UNKNOWN_YEAR, 5, 2))  # a Friday
    assert not is_working_day(dt.date(UNKNOWN_YEAR, 10, 1))  # a Wednesday
    assert is_working_day(dt.date(UNKNOWN_YEAR, 10, 6))  # a Monday: the lunar/调休 rest needs rows


def test_overrides_fill_in_an_unknown_year():
    WorkdayOverride.objects.create(
        date=dt.date(UNKNOWN_YEAR, 1, 1), is_working_day=False, name=f"{UNKNOWN_YEAR}年元旦"
    )
    WorkdayOverride.objects.create(
        date=dt.date(UNKNOWN_YEAR, 1, 4), is_working_day=True, name=f"{UNKNOWN_YEAR}年元旦调休"
    )
    assert not is_working_day(dt.date(UNKNOWN_YEAR, 1, 1))
    assert add_working_days(dt.date(UNKNOWN_YEAR - 1, 12, 31), 1) == dt.date(UNKNOWN_YEAR, 1, 2)
    assert add_working_days(dt.date(UNKNOWN_YEAR, 1, 3), 1) == dt.date(UNKNOWN_YEAR, 1, 4)


# --- deadlines -------------------------------------------------------------------------------


def test_three_working_days_from_a_monday_end_on_thursday_at_half_past_five():
    assert deadline_after(at(2026, 3, 9, 10, 0), days=3) == at(2026, 3, 12, 17, 30)


def test_a_working_day_limit_started_at_night_still_counts_from_the_next_day():
    assert deadline_after(at(2026, 3, 9, 23, 0), days=1) == at(2026, 3, 10, 17, 30)


def test_one_working_day_from_the_eve_of_national_day_ends_on_8_october():
    assert deadline_after(at(2026, 9, 30, 15, 0), days=1) == at(2026, 10, 8, 17, 30)


def test_a_working_day_limit_started_on_a_holiday_counts_from_the_first_working_day():
    assert deadline_after(at(2026, 10, 3, 9, 0), days=1) == at(2026, 10, 8, 17, 30)


def test_a_deadline_may_fall_on_a_make_up_saturday():
    assert deadline_after(at(2026, 10, 9, 9, 0), days=1) == at(2026, 10, 10, 17, 30)


def test_working_hours_are_counted_within_the_same_day():
    assert deadline_after(at(2026, 3, 9, 10, 0), hours=4) == at(2026, 3, 9, 14, 0)


def test_a_full_day_of_hours_from_the_morning_ends_that_evening():
    assert deadline_after(at(2026, 3, 9, 8, 30), hours=9) == at(2026, 3, 9, 17, 30)


def test_working_hours_carry_over_to_the_next_morning():
    assert deadline_after(at(2026, 3, 9, 16, 30), hours=4) == at(2026, 3, 10, 11, 30)


def test_working_hours_carry_over_a_weekend():
    assert deadline_after(at(2026, 3, 13, 17, 0), hours=1) == at(2026, 3, 16, 9, 0)


def test_working_hours_started_at_night_count_from_the_next_morning():
    assert deadline_after(at(2026, 3, 9, 22, 0), hours=2) == at(2026, 3, 10, 10, 30)


def test_working_hours_started_before_work_count_from_half_past_eight():
    assert deadline_after(at(2026, 3, 9, 6, 0), hours=0.5) == at(2026, 3, 9, 9, 0)


def test_working_hours_started_on_a_holiday_count_from_the_first_working_morning():
    assert deadline_after(at(2026, 10, 3, 10, 0), hours=2) == at(2026, 10, 8, 10, 30)


def test_a_same_day_limit_ends_at_the_end_of_the_working_day():
    assert deadline_after(at(2026, 3, 9, 10, 0)) == at(2026, 3, 9, 17, 30)


def test_a_same_day_limit_started_after_hours_ends_the_next_working_day():
    assert deadline_after(at(2026, 3, 9, 18, 0)) == at(2026, 3, 10, 17, 30)
    assert deadline_after(at(2026, 3, 13, 17, 30)) == at(2026, 3, 16, 17, 30)


def test_a_same_day_limit_started_on_a_holiday_ends_the_first_working_day():
    assert deadline_after(at(2026, 10, 1, 10, 0)) == at(2026, 10, 8, 17, 30)


def test_a_deadline_is_given_in_local_time_whatever_the_start_zone():
    start = dt.datetime(2026, 3, 9, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    deadline = deadline_after(start, hours=4)
    assert deadline == at(2026, 3, 9, 14, 0)
    assert deadline.utcoffset() == dt.timedelta(hours=8)


def test_a_start_just_before_midnight_utc_is_counted_on_the_local_date():
    start = dt.datetime(2026, 3, 8, 23, 0, tzinfo=dt.UTC)  # Monday 07:00 in Shanghai
    assert deadline_after(start) == at(2026, 3, 9, 17, 30)


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError):
        deadline_after(dt.datetime(2026, 3, 9, 10, 0), days=1)


def test_days_and_hours_together_are_refused():
    with pytest.raises(ValueError):
        deadline_after(at(2026, 3, 9, 10, 0), days=1, hours=2)


def test_working_hours_come_from_the_settings():
    with override_settings(MINQING_WORKDAY_START="09:00", MINQING_WORKDAY_END="18:00"):
        assert deadline_after(at(2026, 3, 9, 10, 0), days=1) == at(2026, 3, 10, 18, 0)
        assert deadline_after(at(2026, 3, 9, 7, 0), hours=1) == at(2026, 3, 9, 10, 0)
    assert workdays.WORKDAY_START == dt.time(8, 30)
    assert workdays.WORKDAY_END == dt.time(17, 30)


# --- working hours between -------------------------------------------------------------------


def test_working_hours_within_one_day():
    assert working_hours_between(at(2026, 3, 9, 10, 0), at(2026, 3, 9, 14, 0)) == 4


def test_working_hours_leave_out_nights_and_weekends():
    assert working_hours_between(at(2026, 3, 13, 16, 30), at(2026, 3, 16, 9, 30)) == 2


def test_working_hours_of_a_whole_week():
    assert working_hours_between(at(2026, 3, 9, 0, 0), at(2026, 3, 15, 23, 59)) == 45


def test_working_hours_leave_out_national_day():
    assert working_hours_between(at(2026, 9, 30, 17, 0), at(2026, 10, 8, 9, 0)) == 1


def test_working_hours_are_negative_once_the_deadline_has_passed():
    assert working_hours_between(at(2026, 3, 16, 9, 30), at(2026, 3, 13, 16, 30)) == -2


def test_no_working_hours_pass_over_a_holiday():
    assert working_hours_between(at(2026, 10, 2, 9, 0), at(2026, 10, 6, 17, 0)) == 0


starts_in_2026 = st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=SHANGHAI)
)


@no_fixture_reset
@given(start=starts_in_2026, minutes=st.integers(min_value=1, max_value=60 * 9 * 15))
def test_working_hours_between_undoes_deadline_after(start, minutes):
    deadline = deadline_after(start, hours=minutes / 60)
    assert working_hours_between(start, deadline) == pytest.approx(minutes / 60)
    assert is_working_day(deadline.date())
    assert workdays.WORKDAY_START < deadline.time() <= workdays.WORKDAY_END
