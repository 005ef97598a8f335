"""A cadre on a phone: the overdue pair on the overview, help logged from the quick form, the
pair no longer overdue. Nothing leaves the server; the page fits the phone."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from minqing.assistance.models import HelpEntry
from minqing.assistance.tests.conftest import pair

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_cadre_logs_help_for_an_overdue_pair_on_a_phone(
    live_server, sessions, office, cadre, cadre_helper, household_a
):
    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2025, 12, 1))
    s = sessions(phone=True)
    s.login("cadre")
    page = s.page
    page.goto("/assistance/")
    overdue = page.locator("a.stat.late b").first
    expect(overdue).to_have_text("1")
    assert s.overflow() <= 1
    with page.expect_navigation():
        page.locator(f"a[href='/assistance/pairings/{p.pk}/']").first.click()
    page.select_option("select[name=kind]", "goods")
    page.fill("textarea[name=text]", "送去米面油，老人身体尚好。")
    page.locator("summary", has_text="资金与物资").click()
    page.fill("input[name=goods]", "米面油")
    page.fill("input[name=goods_value]", "180")
    page.select_option("select[name=fund_source]", "cadre")
    s.submit(page.get_by_role("button", name="保存帮扶记录"))
    expect(page.get_by_text("送去米面油，老人身体尚好。")).to_be_visible()
    entry = HelpEntry.objects.get(pairing=p)
    assert entry.kind == "goods" and entry.goods_value == 180 and entry.fund_source == "cadre"
    page.goto("/assistance/")
    expect(page.locator("a.stat.late")).to_have_count(0)
    assert s.foreign_requests(live_server.url) == [] and s.errors == []


def test_the_office_finds_a_new_helper_by_pinyin_in_a_long_list(
    live_server, sessions, office, cadre_helper, cadre2_helper, mother, mother2, household_a
):
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    s = sessions()
    s.login("county")
    page = s.page
    page.goto(f"/assistance/pairings/{p.pk}/edit/")
    select = page.locator("select[name=helpers]")
    box = page.locator("input.filter-select")
    expect(box).to_be_visible()
    total = select.locator("option").count()
    assert total >= 4

    box.fill("lca")  # 李慈爱's initials
    visible = select.locator("option:not([hidden])")
    expect(visible).to_have_count(2)  # 李慈爱, and the helper chosen now, who never hides
    texts = visible.all_text_contents()
    assert any("李慈爱" in t for t in texts)
    assert any(t.startswith(cadre_helper.name + " ") for t in texts)
    expect(page.locator(".filter-select-count")).to_have_text(f"2 / {total}")
    box.press("Enter")  # does not submit the half-done form
    assert page.url.endswith(f"/assistance/pairings/{p.pk}/edit/")

    box.fill("cadre2")
    expect(visible).to_have_count(2)
    select.select_option([str(cadre2_helper.pk)])
    box.fill("")
    expect(select.locator("option:not([hidden])")).to_have_count(total)
    s.submit(page.get_by_role("button", name="保存"))
    expect(page).to_have_url(f"{live_server.url}/assistance/pairings/{p.pk}/")
    p.refresh_from_db()
    assert list(p.helpers.all()) == [cadre2_helper]
    assert s.foreign_requests(live_server.url) == [] and s.errors == []


def test_an_office_hands_a_leaving_cadres_families_to_a_successor_on_a_phone(
    live_server, sessions, office, cadre_helper, cadre2_helper, mother, household_a, household_b
):
    one = pair(office, "cadre", [cadre_helper], household=household_a)
    two = pair(office, "cadre", [cadre_helper], household=household_b)
    s = sessions(phone=True)
    s.login("county")
    page = s.page
    page.goto(f"/assistance/helpers/{cadre_helper.pk}/")
    page.locator("summary", has_text="帮扶人交接").click()
    select = page.locator("select[name=handover-successor]")
    box = page.locator("#field-handover-successor input.filter-select")
    expect(box).to_be_visible()  # the filter box works on a single choice too
    box.fill("cadre2")
    expect(select.locator("option:not([hidden]):not([value=''])")).to_have_count(1)
    select.select_option(str(cadre2_helper.pk))
    page.fill("input[name=handover-reason]", "工作调动")
    page.once("dialog", lambda dialog: dialog.accept())  # 确认把该帮扶人的结对交给…？
    s.submit(page.get_by_role("button", name="确认交接"))
    expect(page.locator(".messages")).to_contain_text("已将 2 个结对、0 个帮扶小组交给")
    assert s.overflow() <= 1
    for p in (one, two):
        assert list(p.helpers.all()) == [cadre2_helper]
    assert s.foreign_requests(live_server.url) == [] and s.errors == []


def test_a_click_adds_a_helper_to_the_chosen_ones_without_a_ctrl_key(
    live_server, sessions, office, cadre_helper, cadre2_helper, mother, household_a
):
    p = pair(office, "many", [cadre_helper, cadre2_helper], household=household_a)
    s = sessions()
    s.login("county")
    page = s.page
    page.goto(f"/assistance/pairings/{p.pk}/edit/")
    select = page.locator("select[name=helpers]")

    def chosen():
        return sorted(select.evaluate("s => Array.from(s.selectedOptions).map(o => o.value)"))

    select.locator(f"option[value='{mother.pk}']").click()  # a plain click adds her
    assert chosen() == sorted(str(h.pk) for h in (cadre_helper, cadre2_helper, mother))
    select.locator(f"option[value='{cadre_helper.pk}']").click()  # a second click drops one
    assert chosen() == sorted(str(h.pk) for h in (cadre2_helper, mother))
    expect(page.get_by_text("点一下选中，再点一下取消")).to_be_visible()
    s.submit(page.get_by_role("button", name="保存"))
    expect(page).to_have_url(f"{live_server.url}/assistance/pairings/{p.pk}/")
    assert set(p.helpers.all()) == {cadre2_helper, mother}
    assert s.errors == []
