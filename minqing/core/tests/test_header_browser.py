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
