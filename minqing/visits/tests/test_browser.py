"""On a phone: grid A's worker opens today's due list, records a visit with a demand, turns the
demand into a case, and the household page shows both. Headless Debian Chromium, no internet."""

import re

import pytest
from playwright.sync_api import expect

from minqing.cases.models import Case
from minqing.core.testing.browser import PHONE
from minqing.visits import services
from minqing.visits.models import HouseholdVisitState, Visit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_grid_worker_visits_a_due_household_and_files_its_demand_as_a_case(
    live_server,
    sessions,  # noqa: F811 (the fixture imported above)
    grid_a_worker,
    zhang_san,
    tree,
):
    import datetime as dt

    from django.utils import timezone

    from conftest import square

    household = zhang_san.household
    building = tree["building_a"]
    building.boundary = square(120.0, 30.0, 0.002)
    building.save()
    type(household).objects.filter(pk=household.pk).update(building=building)
    services.visit_states_refresh()
    HouseholdVisitState.objects.filter(pk=household.pk).update(
        next_due=timezone.localdate() - dt.timedelta(days=4)
    )

    s = sessions(phone=True)
    page = s.page
    s.login("grid_a")

    # Today's due list: the household is there, four days overdue.
    page.goto("/visits/due/")
    item = page.locator("#due-list li", has_text="人民路1号1幢101室")
    expect(item).to_contain_text("逾期 4 天")
    # and its building is marked on the grid's map (red: a household overdue)
    expect(page.locator("#map path.due")).to_have_count(1)
    item.get_by_role("link", name="记录走访").click()
    expect(page).to_have_url(re.compile(rf"/visits/new/\?household={household.pk}$"))

    # The visit form: whom we met, what we saw, what they asked for.
    page.get_by_label("张三").check()
    page.fill("#id_seen", "老人独自在家，身体尚可。")
    page.fill("#id_opinions", "楼下路灯坏了一个月，晚上出门看不见。")
    with page.expect_navigation():
        page.get_by_role("button", name="保存走访记录").click()
    visit = Visit.objects.get()
    expect(page).to_have_url(re.compile(rf"/visits/{visit.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("走访已记录")

    # 转为案件: the description is the demand as heard; 张三, the only member met, reports it.
    page.locator("summary", has_text="转为案件").click()
    expect(page.locator("#id_description")).to_have_value("楼下路灯坏了一个月，晚上出门看不见。")
    page.select_option("#id_category", "0601")
    with page.expect_navigation():
        page.get_by_role("button", name="提交为案件").click()
    case = Case.objects.get()
    expect(page.locator(".messages")).to_contain_text(f"已转为案件 {case.number}")
    assert (case.household_id, case.reporter_id, case.channel) == (
        household.pk,
        zhang_san.pk,
        "visit",
    )

    # The household page's timeline shows the visit and the case; the due list lets it go.
    page.goto(f"/households/{household.pk}/")
    timeline = page.locator("#visits")
    expect(timeline).to_contain_text("走访 · 入户")
    expect(timeline).to_contain_text(case.number)
    expect(timeline.locator(f"a[href='/visits/{visit.pk}/']")).to_have_count(1)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"household page is {overflow}px wider than a {PHONE['width']}px phone"
    page.goto("/visits/due/")
    expect(page.locator("#due-list")).not_to_contain_text("人民路1号1幢101室")

    assert s.foreign_requests(live_server.url) == []
    assert s.errors == []
