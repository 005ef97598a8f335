"""What the admin's lists name configuration rows by (their __str__), in the user's language;
the audit log keeps them in Chinese (core.audit stores `source(obj)`)."""

import datetime

from django.utils import translation

from minqing.cases.models import EscalationRule, Stage, TimeLimit
from minqing.core.audit import source
from minqing.core.models import WorkdayOverride


def test_configuration_rows_are_named_in_the_users_language():
    limit = TimeLimit(stage=Stage.HANDLE, working_days=3, working_hours=4)
    same_day = TimeLimit(stage=Stage.HANDLE)
    rule = EscalationRule(level=3, grace_working_days=2)
    day = WorkdayOverride(date=datetime.date(2027, 2, 6), is_working_day=True, name="春节调休")
    with translation.override("zh-hans"):
        assert str(limit).endswith("：3个工作日4个工作小时")
        assert str(same_day).endswith("：当日")
        assert str(rule) == "社区/村：超期 2 个工作日后上报"
        assert str(day) == "2027-02-06 上班 春节调休"
    with translation.override("en"):
        assert str(limit).endswith(": 3 working days 4 working hours")
        assert str(same_day).endswith(": Same day")
        assert "escalate 2 working days after the deadline" in str(rule)
        assert str(day) == "2027-02-06 Working day 春节调休"
        assert source(day) == "2027-02-06 上班 春节调休"
