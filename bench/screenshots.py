"""Screenshots of the main pages, for the docs and for a look at the layout.

Against a running server loaded with the demo county (`make run`, or `manage.py seed_demo`):

    .venv/bin/python bench/screenshots.py [http://127.0.0.1:8000] [--out docs/screenshots]

Logs in as the demo grid worker grid_a (password minqing-demo) in Debian's /usr/bin/chromium
(Playwright never downloads a browser here) and writes PNGs: home, a pinyin search on the person
list, a household, a person, the grid page with its map, the team card, and the person list on a
phone. It also reports any request that left the server, script errors and sideways overflow.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minqing.core.pinyin import pinyin_keys  # noqa: E402  (pure function, no Django set-up)

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


class Shooter:
    def __init__(self, base_url: str, out: Path):
        self.base_url = base_url.rstrip("/")
        self.out = out
        self.files: list[Path] = []
        self.problems: list[str] = []

    def context(self, browser, *, phone: bool = False):
        if phone:
            ctx = browser.new_context(
                base_url=self.base_url,
                viewport=PHONE,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
            )
        else:
            ctx = browser.new_context(base_url=self.base_url, viewport=DESKTOP, locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT_MS)
        page = ctx.new_page()
        own = urlsplit(self.base_url).netloc
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith("data:") or urlsplit(r.url).netloc == own
                else self.problems.append(f"request left the server: {r.url}")
            ),
        )
        page.on("pageerror", lambda e: self.problems.append(f"script error on {page.url}: {e}"))
        return ctx, page

    def login(self, page: Page, username: str, password: str) -> None:
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        if urlsplit(page.url).path.startswith("/accounts/login"):
            sys.exit(f"login as {username} failed: is the demo county loaded (seed_demo)?")

    def shot(self, page: Page, name: str, *, full_page: bool = True) -> None:
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 1:
            self.problems.append(f"{name}: page is {overflow}px wider than the window")
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.files.append(path)
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  ← {page.url}")


def search_term(page: Page) -> tuple[str, str]:
    """The first listed person with a name of three characters (else any) and their initials."""
    names = [n.strip() for n in page.locator("#results td[data-label='姓名'] a").all_inner_texts()]
    if not names:
        sys.exit("the person list is empty for this account")
    name = next((n for n in names if len(n) == 3), names[0])
    return name, pinyin_keys(name)[1].split()[0]


def warn_without_cjk_font() -> None:
    """Without a Chinese font Chromium draws every character as a box (tofu)."""
    if not shutil.which("fc-list"):
        return
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if not found.strip():
        print(
            "! no Chinese font: the screenshots will show boxes (apt-get install fonts-noto-cjk)",
            file=sys.stderr,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--user", default="grid_a")
    parser.add_argument("--password", default="minqing-demo")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    warn_without_cjk_font()
    s = Shooter(args.url, args.out.resolve())

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=args.chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        ctx, page = s.context(browser)
        s.login(page, args.user, args.password)
        s.shot(page, "01-home")

        page.goto("/people/")
        name, initials = search_term(page)
        page.fill("input[name=q]", initials)
        page.wait_for_url(f"**/people/?q={initials}*")
        page.locator("#results").get_by_role("link", name=name).first.wait_for()
        s.shot(page, "02-people-search")

        page.locator("#results").get_by_role("link", name=name).first.click()
        page.wait_for_url("**/people/*/")
        person_url = page.url
        grid_href = page.locator("dl.facts a[href^='/tree/']").get_attribute("href")
        household = page.locator("dl.facts a[href^='/households/']")
        if household.count():
            household.first.click()
            page.wait_for_url("**/households/*/")
            s.shot(page, "03-household")
        else:
            s.problems.append(f"{name} has no household: no household screenshot")

        page.goto(person_url)
        s.shot(page, "04-person")

        page.goto(grid_href)
        page.locator("#map[data-ready='1']").wait_for(state="attached")
        page.locator("#map svg path").first.wait_for(state="attached")
        s.shot(page, "05-grid-map")

        page.goto(f"{grid_href.rstrip('/').replace('/tree/', '/teams/')}/card/")
        s.shot(page, "06-team-card")
        ctx.close()

        ctx, page = s.context(browser, phone=True)
        s.login(page, args.user, args.password)
        page.goto("/people/")
        s.shot(page, "07-people-phone", full_page=False)
        ctx.close()
        browser.close()

    for problem in s.problems:
        print(f"! {problem}", file=sys.stderr)
    print(f"{len(s.files)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
