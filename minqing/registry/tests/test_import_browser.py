"""End-to-end in headless Chromium: a grid worker uploads a ledger with errors, sees them listed
by row and column, uploads the corrected file, confirms, and finds the new residents.

Same browser and launch settings as test_browser.py (Debian's /usr/bin/chromium through
Playwright's sync API; nothing downloaded), against pytest-django's live server.

test_browser.py keeps its Chromium open for the whole session in the main thread, and the sync
API refuses a second instance in a thread that already runs one. So this test drives its own
Chromium from a thread of its own, started and closed within the test.
"""

import re
import threading
from urllib.parse import urlsplit

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from minqing.core.testing import browser as test_browser
from minqing.registry.models import Household, Person
from minqing.registry.tests.test_import_support import HEADERS, person_row, xlsx

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def in_own_thread(scenario, timeout: float = 180) -> None:
    """Run scenario(browser) in a new thread with its own Playwright and Chromium."""
    failure: list[BaseException] = []

    def target():
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=str(test_browser.CHROMIUM),
                    headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                try:
                    scenario(browser)
                finally:
                    browser.close()
                    # The scenario's database connections. Here, inside Playwright's block:
                    # its sync API runs the scenario in a greenlet with contextvars of its
                    # own, where Django keeps them; after the block they are out of reach,
                    # and one left open stops the test database from being dropped.
                    connections.close_all()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, name="browser-test")
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the browser scenario did not finish"
    if failure:
        raise failure[0]


def ledger(phone_of_li: str) -> dict:
    rows = [
        person_row(1, "王建国", phone="13812345678"),
        person_row(2, "李秀英", head="王建国", relation="妻子", male=False, phone=phone_of_li),
        person_row(3, "王小明", head="王建国", relation="儿子", address=""),
    ]
    return {
        "name": "东门台账.xlsx",
        "mimeType": XLSX,
        "buffer": xlsx(HEADERS, rows, titles=["台账"]),
    }


def test_upload_see_errors_fix_confirm_and_find_the_new_residents(
    live_server, grid_a_worker, tree, monkeypatch
):
    if not test_browser.CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {test_browser.CHROMIUM}")
    # Playwright runs an asyncio loop in the thread; the ORM calls there are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    expect.set_options(timeout=test_browser.TIMEOUT_MS)

    def scenario(browser):
        s = test_browser.Session(browser, live_server.url)
        try:
            upload_fix_and_confirm(s, live_server.url)
        finally:
            s.context.close()

    in_own_thread(scenario)


def upload_fix_and_confirm(s, base_url: str) -> None:
    page = s.page
    s.login("grid_a")

    page.goto("/households/")
    page.get_by_role("link", name="导入台账").click()
    expect(page).to_have_url(re.compile(r"/imports/$"))

    # A file with a phone number one digit short.
    page.set_input_files("#id_file", ledger("1391234567"))
    with page.expect_navigation():
        page.get_by_role("button", name="上传并预览").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    errors = page.locator("#errors")
    expect(errors).to_contain_text("1 处错误")
    row = errors.locator("tbody tr")
    expect(row).to_have_count(1)
    # Title row 1, header row 2: 李秀英 is on row 4; the phone is column J.
    expect(row.locator("td").nth(1)).to_have_text("4")
    expect(row.locator("td").nth(2)).to_contain_text("J")
    expect(row.locator("td").nth(3)).to_have_text("1391234567")
    expect(row.locator("td").nth(4)).to_contain_text("电话号码格式不对")
    expect(page.locator("#confirm")).to_have_count(0)
    assert not Person.objects.exists()

    # The corrected file, uploaded from the same page.
    page.set_input_files("#id_file", ledger("13912345678"))
    with page.expect_navigation():
        page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("#errors")).to_have_count(0)
    expect(page.locator("[data-count=new_people]")).to_have_text("3")
    expect(page.locator("[data-count=new_households]")).to_have_text("1")
    with page.expect_navigation():
        page.get_by_role("button", name="确认导入").click()

    expect(page.locator(".messages")).to_contain_text("已导入")
    imported = page.locator("#imported")
    for name in ("王建国", "李秀英", "王小明"):
        expect(imported).to_contain_text(name)
    assert Person.objects.count() == 3 and Household.objects.get().member_count == 3

    # The new residents are in the people list, and 王建国's history shows the import.
    page.goto("/people/")
    results = page.locator("#results")
    for name in ("王建国", "李秀英", "王小明"):
        expect(results).to_contain_text(name)
    results.get_by_role("link", name="王建国").click()
    expect(page.locator("#history")).to_contain_text("导入")
    expect(page.locator("#history")).to_contain_text("东门台账.xlsx")

    assert s.foreign_requests(base_url) == []
    assert s.errors == []
    assert urlsplit(page.url).path.startswith("/people/")
