"""Shared fixtures for the browser tests: one headless Chromium per test session.

Playwright's sync API runs an asyncio loop in the thread that starts it, so there must be
exactly one `sync_playwright()` per session: every app's browser tests use these fixtures
(loaded by the root conftest as a plugin) instead of starting their own.

Debian's /usr/bin/chromium is used; Playwright never downloads a browser here.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Bind the live server to 127.0.0.1 (pytest-django's default is "localhost", which may resolve
# to ::1 first), so "nothing leaves 127.0.0.1" is literally what the request logs check.
# `--liveserver` on the command line still wins.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium); "
            "Playwright must not download its own"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium(chromium_path):
    expect.set_options(timeout=TIMEOUT_MS)
    # Playwright's sync API runs an asyncio loop in this thread; Django would otherwise refuse
    # ORM calls made from the test body ("You cannot call this from an async context").
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(chromium_path), headless=True, args=LAUNCH_ARGS
            )
            yield browser
            browser.close()


class Session:
    """One browser context (own cookies) with a page and a log of every request it made."""

    def __init__(self, browser, base_url: str, *, phone: bool = False):
        options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {}
        self.context = browser.new_context(
            base_url=base_url, locale="zh-CN", viewport=options.pop("viewport", DESKTOP), **options
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.csp: list[str] = []  # what the Content-Security-Policy refused (console errors)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp.append(f"{self.page.url}: {message.text}")

    def login(self, username: str, password: str | None = None) -> None:
        from conftest import PASSWORD

        page = self.page
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password or PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        assert urlsplit(page.url).path == "/", f"login as {username} failed: {page.url}"

    def foreign_requests(self, base_url: str) -> list[str]:
        own = urlsplit(base_url).netloc
        return [
            u for u in self.requests if urlsplit(u).scheme != "data" and urlsplit(u).netloc != own
        ]

    def overflow(self) -> int:
        """How far the page scrolls sideways (0 on a phone layout that fits)."""
        return self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )

    def submit(self, button) -> None:
        with self.page.expect_navigation():
            button.click()


@pytest.fixture
def sessions(chromium, live_server):
    opened: list[Session] = []

    def open_session(**kwargs) -> Session:
        session = Session(chromium, live_server.url, **kwargs)
        opened.append(session)
        return session

    yield open_session
    refused = [line for session in opened for line in session.csp]
    for session in opened:
        session.context.close()
    # Every browser test checks the policy: a page whose script, handler or style it refused
    # does not work for its users, whatever the test itself looked at.
    assert refused == [], refused
