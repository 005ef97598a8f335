"""The demo duties: the three rules' people, a year of days and visits, red in the report,
and run only once."""

import datetime as dt
import random

from django.utils import timezone

from minqing.accounts.models import DataScope, Role
from minqing.duties.demo import seed
from minqing.duties.models import DutyDay, DutyHolder
from minqing.duties.selectors import compliance
from minqing.registry.models import Tag
from minqing.visits.models import CampaignTarget, Visit

from .conftest import cadre, household, last_month, person


def test_demo_duties_give_a_report_with_gaps_and_run_once(admin_user, tree):
    low = Tag.objects.get(name="低保")
    alone = Tag.objects.get(name="独居")
    for grid in (tree["grid_a"], tree["grid_b"], tree["grid_c"]):
        for _ in range(12):
            hh = household(grid)
            hh.tags.add(low)
            person(grid, hh).tags.add(alone)
    secretary = cadre(
        "secretary",
        tree["other_community"],
        role=Role.COMMUNITY_SECRETARY,
        scope=DataScope.NODE_AND_BELOW,
    )
    demo_cadre = cadre("cadre", tree["county"])
    today = timezone.localdate()

    # An open campaign over the county's 低保 homes for the last two months: the cadres'
    # visits in its window tick its households, as a visit on the page does.
    from minqing.visits import services as visits

    campaign = visits.campaign_create(
        acting_user=admin_user,
        data={"name": "走访", "kind": "holiday", "node": tree["county"], "rule": "tags",
              "tags": [low], "start": today - dt.timedelta(days=60), "end": today},
    )  # fmt: skip
    campaign = visits.campaign_act(acting_user=admin_user, campaign=campaign, action="launch")

    result = seed(rng=random.Random(7))

    window = (today - dt.timedelta(days=60), today)
    for target in CampaignTarget.objects.filter(campaign=campaign):
        visited = Visit.objects.filter(
            household_id=target.household_id, visited_at__date__range=window
        ).exists()
        assert (target.visit_id is not None) == visited, target.household_id
    assert CampaignTarget.objects.filter(campaign=campaign, visit__isnull=False).exists()

    assert not result["skipped"] and result["holders"] >= 30
    mine = DutyHolder.objects.get(user=demo_cadre)
    assert mine.rule.code == "cadre" and mine.unit == "县民政局"
    assert {k: mine.links.filter(kind=k).count() for k in ("community", "household", "target")} == {
        "community": 1,
        "household": 1,
        "target": 3,
    }
    sec = DutyHolder.objects.get(user=secretary)
    assert sec.rule.code == "secretary" and sec.links.filter(kind="household").count() == 5
    assert all(
        h.grid.code.startswith(tree["other_community"].code)
        for h in [link.household for link in sec.links.all()]
    )
    assert DutyDay.objects.exists() and Visit.objects.count() == result["visits"] > 100
    start, _ = last_month()
    report = compliance(admin_user, start.year, start.month)
    assert 0 < report.total.holders_ok < report.total.holders  # some red, not all
    assert len(report.units) >= 5

    assert seed(rng=random.Random(7))["skipped"]
    assert Visit.objects.count() == result["visits"]
