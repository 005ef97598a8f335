"""The compliance report runs a fixed number of queries whatever the number of holders: a
county of thousands of holders is one report, not thousands of little ones."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from minqing.accounts.access import user_scope
from minqing.duties.models import DutyDay
from minqing.duties.selectors import compliance

from .conftest import at, cadre, holder, household, last_month, link, person, visit


def _county_of(n: int, tree, offset: int) -> None:
    start, _ = last_month()
    for i in range(n):
        user = cadre(f"c{offset + i}", tree["county"])
        h = holder(user, "leader" if i % 2 else "cadre", tree["street"], unit=f"单位{i % 3}")
        link(h, tree["community"])
        hh = household(tree["grid_a"])
        link(h, hh)
        link(h, person(tree["grid_b"], household(tree["grid_b"])))
        visit(hh, [user], at(start + dt.timedelta(days=i % 20)))
        DutyDay.objects.create(
            holder=h, community=tree["community"], date=start + dt.timedelta(days=1)
        )


def _queries(user, year, month) -> tuple[int, int]:
    user_scope(user)  # the scope is cached per request, as in a view
    with CaptureQueriesContext(connection) as ctx:
        report = compliance(user, year, month)
    return len(ctx.captured_queries), len(report.lines)


def test_compliance_query_count_does_not_grow_with_the_holders(county_officer, tree):
    start, _ = last_month()
    _county_of(3, tree, 0)
    few, lines_few = _queries(county_officer, start.year, start.month)
    _county_of(30, tree, 100)
    many, lines_many = _queries(county_officer, start.year, start.month)

    assert (lines_few, lines_many) == (3, 33)
    assert many == few <= 7
