"""The header on a phone (390 px): the sections scroll sideways, so this page's section is
brought into view and a fade says when more lie to the right; the links are finger-sized."""

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NAV = """() => {
    const nav = document.getElementById("nav");
    const here = nav.querySelector("[aria-current=page]");
    const n = nav.getBoundingClientRect(), h = here.getBoundingClientRect();
    return {
        overflows: nav.scrollWidth > nav.clientWidth,
        scrolled: nav.scrollLeft,
        more: nav.getAttribute("data-more"),
        here: here.textContent,
        inView: h.left >= n.left - 1 && h.right <= n.right + 1,
    };
}"""


def test_on_a_phone_the_current_section_is_in_view_and_more_is_hinted(
    live_server, sessions, grid_a_worker
):
    s = sessions(phone=True)
    s.login("grid_a")
    page = s.page

    home = page.evaluate(NAV)
    assert home["overflows"] and home["here"] == "首页" and home["scrolled"] == 0
    assert home["more"] == "right"

    page.goto("/cases/inbox/")  # 案件 lies beyond the first screen of sections
    cases = page.evaluate(NAV)
    assert cases["here"] == "案件" and cases["inView"] and cases["scrolled"] > 0
    assert cases["more"] in ("left", "both")  # 案件 may sit near the end in Chinese

    # Scrolled to the start, only what lies to the right is hinted.
    page.evaluate("() => { document.getElementById('nav').scrollLeft = 0; }")
    page.wait_for_function("() => document.getElementById('nav').dataset.more === 'right'")

    # Sign-out, notices and the language switch are at least 36 px tall, sign-out apart.
    sizes = page.evaluate("""() => Array.from(
        document.querySelectorAll(".me > a, .me .link, .top .lang .link"),
        el => [el.textContent.trim(), Math.round(el.getBoundingClientRect().height)])""")
    assert len(sizes) >= 4 and all(h >= 36 for _text, h in sizes), sizes
    logout = page.get_by_role("button", name="退出").bounding_box()
    tokens = page.get_by_role("link", name="API 令牌").bounding_box()
    assert logout["x"] - (tokens["x"] + tokens["width"]) >= 8
    assert s.errors == []


def test_the_first_tab_offers_to_skip_the_header(live_server, sessions, grid_a_worker):
    s = sessions()
    s.login("grid_a")
    page = s.page
    page.goto("/cases/inbox/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    assert page.evaluate("() => document.activeElement.textContent") == "跳到正文"
    assert skip.bounding_box()["x"] >= 0  # shown while it has the focus
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is in the page, not the header
    assert page.evaluate("() => !!document.activeElement.closest('main')")
    assert s.errors == []


def test_on_a_phone_the_field_pages_links_and_file_pickers_are_finger_sized(
    live_server, sessions, grid_a_worker, household_a, tree
):
    """QA at 375 px: the photo picker was the browser's bare control (21 px tall), the inbox's
    only way into a case a 19 px number, the household page's print links 24 px."""
    from minqing.cases import services
    from minqing.cases.models import Category

    services.case_accept(
        acting_user=grid_a_worker,
        data={"category": Category.objects.get(code="0601"), "description": "路灯不亮。",
              "grid": tree["grid_a"], "channel": "phone"},
    )  # fmt: skip
    household_in_grid_a = household_a
    s = sessions(phone=True)
    s.login("grid_a")
    page = s.page
    height = "el => Math.round(el.getBoundingClientRect().height)"
    page.goto("/cases/new/")
    assert page.locator("input[type=file]").first.evaluate(height) >= 40
    page.goto("/cases/inbox/")
    numbers = page.locator("table.responsive td a.mono")
    assert numbers.count() >= 1 and numbers.first.evaluate(height) >= 36
    page.goto(f"/households/{household_in_grid_a.pk}/")
    card = page.get_by_role("link", name="民情联系卡")
    assert card.evaluate(height) >= 36
    assert s.errors == []
