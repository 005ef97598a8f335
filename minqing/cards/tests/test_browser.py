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


def test_a_grid_batch_of_twelve_prints_on_two_a4_pages(
    live_server, sessions, team_a, worker_a, household_a, tree
):
    """QA: on paper the sheet's screen padding added to the page margin, so the fifth row of
    each sheet fell onto a page of its own (23 pages for 111 households, not 12)."""
    from minqing.registry import services as registry

    for i in range(11):
        registry.household_create(
            acting_user=worker_a, data={"address": f"人民路2号{i + 1}室", "grid": tree["grid_a"]}
        )
    s = sessions()
    s.login("grid_a")
    page = s.page
    page.goto(f"/cards/grid/{tree['grid_a'].code}/")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(PDF_PAGE.findall(pdf)) == 2
    assert s.errors == []


def test_the_team_card_prints_on_one_a4_page(live_server, sessions, team_a, worker_a, tree):
    """QA: it printed on US Letter with no margin (the site's layout sets no page size)."""
    s = sessions()
    s.login("grid_a")
    page = s.page
    page.goto(f"/teams/{tree['grid_a'].code}/card/")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(PDF_PAGE.findall(pdf)) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert box and abs(float(box[1]) - 595.3) < 2 and abs(float(box[2]) - 841.9) < 2  # A4
    # QA: in English the table ran past the card (and the page): the mobile column was lost.
    page.emulate_media(media="screen")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    page.emulate_media(media="print")
    fits = page.evaluate("""() => {
        const card = document.querySelector(".team-card"), table = card.querySelector("table");
        return table.getBoundingClientRect().right <= card.getBoundingClientRect().right + 1;
    }""")
    assert fits


@pytest.mark.parametrize("members", [0, 2, 6])
def test_the_visit_form_prints_on_one_a4_page(
    live_server, sessions, team_a, worker_a, household_a, tree, members
):
    """QA: the blank form's sixth visit row and its note ran onto a second page (a household
    of four or more would too); 座谈会 wrapped in every row."""
    from minqing.registry.models import Person

    for i in range(members):
        Person.objects.create(name=f"成员{i}", grid=tree["grid_a"], household=household_a)
    s = sessions()
    s.login("grid_a")
    page = s.page
    page.goto(f"/cards/visit-form/{household_a.pk}/" if members else "/cards/visit-form/blank/")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(PDF_PAGE.findall(pdf)) == 1
    heights = page.eval_on_selector_all(
        ".records .how", "els => els.map(e => e.getBoundingClientRect().height)"
    )
    # 23 mm rows (87 px): a 座谈会 wrapped into a fifth line made the cell taller than that.
    assert heights and max(heights) < 92
