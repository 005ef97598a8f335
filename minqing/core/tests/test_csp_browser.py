"""The pages work under the Content-Security-Policy in a real browser: a delete asks first
(data-confirm, no inline handler), the API docs draw Swagger UI from this site, and a refused
inline handler is noticed by the fixture that checks every browser test."""

import re

import pytest
from playwright.sync_api import expect

from minqing.registry import services
from minqing.registry.models import Person

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_deleting_a_resident_asks_first_and_cancel_keeps_them(
    live_server, sessions, grid_a_worker, tree
):
    person = services.person_create(
        acting_user=grid_a_worker, data={"name": "王五", "grid": tree["grid_a"]}
    )
    a = sessions()
    a.login("grid_a")
    page = a.page
    page.goto(f"/people/{person.pk}/")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.get_by_role("button", name="删除档案").click()
    page.wait_for_timeout(300)
    assert asked == ["确定删除该人员档案？"]
    assert Person.objects.filter(pk=person.pk).exists()
    expect(page).to_have_url(re.compile(rf"/people/{person.pk}/$"))

    page.once("dialog", lambda d: answer(d, True))
    with page.expect_navigation():
        page.get_by_role("button", name="删除档案").click()
    assert len(asked) == 2
    assert not Person.objects.filter(pk=person.pk).exists()


def test_the_api_docs_draw_swagger_ui_from_this_site(live_server, sessions, grid_a_worker):
    a = sessions()
    a.login("grid_a")
    a.page.goto("/api/docs")
    expect(a.page.locator(".swagger-ui .info .title")).to_contain_text("minqing")
    assert a.foreign_requests(live_server.url) == []


def test_a_refused_inline_handler_is_noticed(live_server, sessions, grid_a_worker):
    """The check every browser test ends with can fail: an inline handler added to the page is
    refused by the policy, and the fixture sees it."""
    a = sessions()
    a.login("grid_a")
    page = a.page
    page.evaluate(
        """() => {
            const b = document.createElement("button");
            b.id = "bad";
            b.textContent = "bad";
            b.setAttribute("onclick", "document.title = 'ran'");
            document.body.append(b);
        }"""
    )
    page.click("#bad")
    page.wait_for_timeout(300)
    assert page.title() != "ran"
    assert any("inline event handler" in line for line in a.csp), a.csp
    a.csp.clear()  # seen, so the fixture's own check passes
