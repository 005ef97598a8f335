"""The contact card prints: Chromium saves it as a one-page A4 PDF, fetching nothing outside."""

import re

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def test_the_contact_card_prints_as_one_a4_page(
    live_server, sessions, team_a, worker_a, household_a
):
    s = sessions()
    s.login("grid_a")
    page = s.page
    page.goto(f"/households/{household_a.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="民情联系卡").click()
    assert page.locator(".contact-a4 .addr").inner_text() == "人民路1号1幢101室"
    assert page.locator(".toolbar").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()  # the toolbar stays off the paper
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    assert len(PDF_PAGE.findall(pdf)) == 1
    assert s.foreign_requests(live_server.url) == [] and s.errors == []
