"""End-to-end in headless Chromium: a grid worker finds, edits and audits a resident; a worker of
the neighbouring grid cannot open that household; the grid map draws without the internet.

Runs Debian's /usr/bin/chromium through Playwright's sync API against pytest-django's live
server. Playwright never downloads a browser here.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from minqing.core.testing.browser import PHONE
from minqing.registry import services

# The live server answers from another thread, so the data must be committed (transactional_db).
# A transactional test empties every table afterwards; serialized_rollback puts back the rows
# the migrations seeded (the care tags), which later tests in the session rely on.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_grid_worker_finds_edits_and_audits_a_resident_that_the_next_grid_cannot_see(
    live_server, sessions, grid_a_worker, grid_b_worker, zhang_san, tree
):
    # Someone else in grid A, so the pinyin search visibly filters.
    services.person_create(
        acting_user=grid_a_worker,
        data={"name": "李四", "phone": "13700002222", "grid": tree["grid_a"]},
    )

    a = sessions(phone=True)
    page = a.page
    a.login("grid_a")

    # Live search by initials: HTMX swaps #results and pushes the query into the address bar.
    page.goto("/people/")
    results = page.locator("#results")
    expect(results).to_contain_text("李四")
    page.fill("input[name=q]", "zs")
    expect(results).not_to_contain_text("李四")
    expect(results).to_contain_text("张三")
    expect(page).to_have_url(re.compile(r"[?&]q=zs\b"))
    # Every drop-down refreshes the list, not only the first (性别 is the second).
    page.select_option("select[name=sex]", "F")
    expect(page).to_have_url(re.compile(r"[?&]sex=F\b"))
    expect(results).not_to_contain_text("张三")
    page.select_option("select[name=sex]", "M")
    expect(page).to_have_url(re.compile(r"[?&]sex=M\b"))
    expect(results).to_contain_text("张三")
    # Back shows the earlier search with its own filters in the boxes, not the later ones.
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]sex=F\b"))
    expect(page.locator("select[name=sex]")).to_have_value("F")
    expect(page.locator("input[name=q]")).to_have_value("zs")
    expect(results).not_to_contain_text("张三")
    page.go_forward()
    expect(page.locator("select[name=sex]")).to_have_value("M")
    expect(results).to_contain_text("张三")

    # Person → household.
    results.get_by_role("link", name="张三").click()
    expect(page).to_have_url(re.compile(rf"/people/{zhang_san.pk}/$"))
    expect(page.locator("#reveal-phone")).to_have_text("138****5678")
    page.locator("dl.facts a[href^='/households/']").click()
    expect(page).to_have_url(re.compile(rf"/households/{zhang_san.household_id}/$"))
    expect(page.locator("dl.facts")).to_contain_text("人民路1号1幢101室")
    household_url = urlsplit(page.url).path

    # Household → member → edit: a new mobile number.
    page.locator("table.list").get_by_role("link", name="张三").click()
    page.get_by_role("link", name="修改", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/people/{zhang_san.pk}/edit/$"))
    # The form never echoes the stored number: it shows it masked and leaves the box empty.
    expect(page.locator("#id_phone")).to_have_value("")
    expect(page.locator("#id_phone")).to_have_attribute("placeholder", re.compile(r"138\*{4}5678"))
    page.fill("#id_phone", "13900001111")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()

    # Back on the person page: saved, shown masked, and the change is in 变更记录.
    expect(page).to_have_url(re.compile(rf"/people/{zhang_san.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("已保存")
    expect(page.locator("#reveal-phone")).to_have_text("139****1111")
    history = page.locator("#history")
    expect(history).to_contain_text("变更记录")
    change = history.locator("ul.changes li", has_text="139****1111")
    expect(change).to_have_count(1)
    expect(change.locator("del")).to_have_text("138****5678")
    expect(change.locator("ins")).to_have_text("139****1111")
    html = page.content()
    assert "13900001111" not in html and "13812345678" not in html
    zhang_san.refresh_from_db()
    assert zhang_san.phone == "13900001111"

    # 查看明文 with a blank reason says why beside the form (htmx dropped the 400: nothing
    # happened); with a reason the number shows in place of the masked one, the message goes.
    reveal = page.locator("details.reveal", has=page.locator("input[name=field][value=phone]"))
    reveal.locator("summary").click()
    reveal.locator("input[name=reason]").fill("   ")
    reveal.get_by_role("button", name="查看").click()
    expect(page.locator("#reveal-error-phone")).to_contain_text("请填写查看事由")
    expect(page.locator("#reveal-phone")).to_have_text("139****1111")
    reveal.locator("input[name=reason]").fill("核对联系方式")
    reveal.get_by_role("button", name="查看").click()
    expect(page.locator("#reveal-phone")).to_contain_text("13900001111")
    expect(page.locator("#reveal-error-phone")).to_have_text("")
    page.reload()

    # Nothing overflows sideways on the phone.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"person page is {overflow}px wider than a {PHONE['width']}px phone"

    # The worker of the neighbouring grid, in a fresh context: the household does not exist.
    b = sessions()
    b.login("grid_b")
    response = b.page.goto(household_url)
    assert response is not None and response.status == 404
    assert "人民路1号" not in b.page.content()

    assert a.foreign_requests(live_server.url) == []
    assert b.foreign_requests(live_server.url) == []
    assert a.errors == [] and b.errors == []


def test_grid_page_draws_its_map_without_the_internet(live_server, sessions, grid_a_worker, tree):
    s = sessions()
    s.login("grid_a")
    response = s.page.goto(f"/tree/{tree['grid_a'].code}/")
    assert response is not None and response.ok

    expect(s.page.locator("#map")).to_have_attribute("data-ready", "1")
    expect(s.page.locator("#map svg path").first).to_be_attached()
    box = s.page.locator("#map").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    # Leaflet's own zoom buttons speak the page's language.
    expect(s.page.locator("#map .leaflet-control-zoom-in")).to_have_attribute("title", "放大")

    assert any(urlsplit(u).path.endswith("/geojson") for u in s.requests)
    assert s.foreign_requests(live_server.url) == []
    hosts = {urlsplit(u).hostname for u in s.requests if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, hosts

    # The due list draws the grid's outline too; a grid without one shows no empty box.
    s.page.goto("/visits/due/")
    expect(s.page.locator("#map")).to_have_attribute("data-ready", "1")
    expect(s.page.locator("#map svg path").first).to_be_attached()
    from minqing.grids.models import Node

    Node.objects.filter(parent=tree["grid_a"]).update(boundary=None)
    Node.objects.filter(pk=tree["grid_a"].pk).update(boundary=None)
    s.page.goto("/visits/due/")
    expect(s.page.locator("#map")).to_be_hidden()
    assert s.errors == []
    assert s.errors == []
