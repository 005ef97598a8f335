"""The demo team: 8 teachers on 1-year turns at a village school, a term of attendance."""

import datetime as dt
import random

from django.utils import timezone

from minqing.grids.models import Level, Node
from minqing.secondments import selectors
from minqing.secondments.demo import seed
from minqing.secondments.models import Activity, Attendance, Secondment


def test_the_demo_team_is_seeded_once_and_reports_a_term(tree):
    village = Node.objects.create(
        level=Level.COMMUNITY, name="青石村", code="330188001003", parent=tree["street"]
    )
    now = timezone.make_aware(dt.datetime(2026, 11, 26, 10, 0))
    result = seed(rng=random.Random(7), now=now)
    assert not result["skipped"] and "青石村" in result["summary"]
    team = Secondment.objects.get()
    assert (team.node, team.sending_name, team.receiving_name) == (
        village,
        "县第一中学",
        "青石村小学",
    )
    assert (team.cycle_start, team.cycle_end) == (dt.date(2025, 9, 1), dt.date(2028, 8, 31))
    on_turn = list(selectors.members_on(team, dt.date(2026, 11, 25)))
    assert len(on_turn) == 8 and sum(m.role == "leader" for m in on_turn) == 1
    assert all(m.turn_end - m.turn_start == dt.timedelta(days=364) for m in on_turn)
    assert team.members.count() == 16
    statuses = set(Attendance.objects.values_list("status", flat=True))
    assert {"present", "late", "leave"} <= statuses
    assert not Attendance.objects.filter(date__gte=dt.date(2026, 11, 26)).exists()
    assert 12 <= Activity.objects.count() <= 15
    term = selectors.term_by_key(team, "2026-spring")
    report = selectors.term_report(team, start=term.start, end=term.end)
    assert report.totals.days > 500 and 0.9 < report.totals.rate < 1
    assert len(report.ending_soon) == 8  # the first turn ends on 31 August
    assert seed(rng=random.Random(7), now=now)["skipped"]
    assert Secondment.objects.count() == 1
