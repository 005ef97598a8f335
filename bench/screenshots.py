"""Screenshots of the main pages, for the docs and for a look at the layout.

Against a running server loaded with the demo county (`make run`, or `manage.py seed_demo`):

    .venv/bin/python bench/screenshots.py [http://127.0.0.1:8000] [--out docs/screenshots]

Logs in as the demo grid worker grid_a (password minqing-demo) in Debian's /usr/bin/chromium
(Playwright never downloads a browser here) and writes PNGs: home, a pinyin search on the person
list, a household, a person, the grid page with its map, the team card, and the person list on a
phone; then grid_a's home, case inbox, quick case form and visits due list on a phone, a late
case (as the community secretary), the open-case map (community), the indicators page (county)
and a resident's progress page for a closed case. It also reports any request that left the
server, script errors and sideways overflow.

The progress page needs a closed case's number and the last 4 digits of its reporter's phone:
pass them with `--track NUMBER LAST4`, or run the script with the server's DATABASE_URL so that
it reads them with `manage.py shell`.
"""

import argparse
import os
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
                device_scale_factor=1,  # keeps the PNGs small
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


def wait_map(page: Page, selector: str) -> None:
    """A Leaflet map, if the page has one, is drawn (our scripts set data-ready when done)."""
    if page.locator(selector).count():
        page.locator(f"{selector}[data-ready='1']").wait_for(state="attached")


def wait_charts(page: Page, *selectors: str) -> None:
    """ECharts drew into each chart's canvas; then let the entry animation (1 s) finish."""
    for sel in selectors:
        page.locator(f"{sel} canvas").first.wait_for(state="attached")
    page.wait_for_timeout(1_500)


def closed_case_receipt() -> tuple[str, str] | None:
    """A closed case's number and its reporter's last 4 phone digits, read with manage.py shell
    from the database in this process's DATABASE_URL (it must be the server's)."""
    code = (
        "from minqing.cases.models import Case, Status\n"
        "c = (Case.objects.filter(status=Status.CLOSED, anonymous=False)"
        ".exclude(reporter_phone_last4='').order_by('-closed_at').first())\n"
        "print('RECEIPT', c.number, c.reporter_phone_last4) if c else None\n"
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"MINQING_DEV": "1", **os.environ},
    )
    for line in done.stdout.splitlines():
        if line.startswith("RECEIPT "):
            _, number, last4 = line.split()
            return number, last4
    return None


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


def first_link(page: Page, selector: str, name: str, s: Shooter) -> bool:
    """Follow the first link matching `selector`; note a problem when there is none."""
    link = page.locator(selector)
    if not link.count():
        s.problems.append(f"no link {selector} on {page.url}: no {name} screenshot")
        return False
    link.first.click()
    page.wait_for_load_state("networkidle")
    return True


def field_work(s: Shooter, browser, password: str) -> None:
    """Issue 5's pages: pairing, contact duties, campaigns, team dispatch, cards."""
    ctx, page = s.context(browser, phone=True)
    s.login(page, "cadre", password)
    page.goto("/assistance/")
    s.shot(page, "16-assistance-cadre-phone")
    ctx.close()

    ctx, page = s.context(browser, phone=True)
    s.login(page, "secretary", password)
    page.goto("/duties/")
    s.shot(page, "17-duties-secretary-phone")
    ctx.close()

    ctx, page = s.context(browser)
    s.login(page, "county", password)
    page.goto("/duties/report/")
    s.shot(page, "18-duties-report")
    page.goto("/assistance/coverage/")
    s.shot(page, "19-assistance-coverage")
    page.goto("/visits/campaigns/")
    if first_link(page, "td a[href^='/visits/campaigns/']", "campaign", s):
        wait_charts(page, "#chart-progress")
        s.shot(page, "20-campaign")
    page.goto("/secondments/")
    if first_link(page, "td a[href^='/secondments/']", "team", s):
        s.shot(page, "21-secondment")
    page.goto("/assistance/pairings/")
    link = page.locator("td a[href^='/assistance/pairings/']")
    if link.count():
        page.goto(link.first.get_attribute("href") + "edit/")
        box = page.locator("input.filter-select")
        if box.count():
            box.first.fill("zh")  # the helper filter at work: 周…, 钟…, by initials
        s.shot(page, "23-pairing-edit")
    else:
        s.problems.append("county sees no pairing: no pairing edit screenshot")
    ctx.close()

    ctx, page = s.context(browser)
    s.login(page, "community", password)
    # The community's own page (a 12-digit code), then the first grid (15 digits) below it.
    links = "els => els.map(e => e.getAttribute('href'))"
    page.goto("/tree/")
    hrefs = page.eval_on_selector_all("a[href^='/tree/']", links)
    page.goto(next((h for h in hrefs if len(h.strip("/").split("/")[-1]) == 12), "/tree/"))
    hrefs = page.eval_on_selector_all("a[href^='/tree/']", links)
    grids = [h.strip("/").split("/")[-1] for h in hrefs if len(h.strip("/").split("/")[-1]) == 15]
    if grids:
        page.goto(f"/teams/{grids[0]}/")
        s.shot(page, "24-service-team")
    else:
        s.problems.append("community sees no grid: no service team screenshot")
    ctx.close()

    ctx, page = s.context(browser)
    s.login(page, "grid_a", password)
    page.goto("/households/")
    link = page.locator("#results td a[href^='/households/']")
    if link.count():
        page.goto(link.first.get_attribute("href").replace("/households/", "/cards/household/"))
        s.shot(page, "22-contact-card")
    else:
        s.problems.append("grid_a sees no household: no contact card screenshot")
    ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--user", default="grid_a")
    parser.add_argument("--password", default="minqing-demo")
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument(
        "--track",
        nargs=2,
        metavar=("NUMBER", "LAST4"),
        help="a closed case and its reporter's last 4 phone digits, for the progress page",
    )
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

        page.goto("/")
        page.locator("section.cases-home").first.wait_for()
        s.shot(page, "08-home-phone")

        page.goto("/cases/inbox/")
        s.shot(page, "09-inbox-phone", full_page=False)

        page.goto("/cases/new/")
        wait_map(page, "#case-map")
        s.shot(page, "11-case-new-phone", full_page=False)  # the submit bar sticks to the bottom

        page.goto("/visits/due/")
        wait_map(page, "#map")
        s.shot(page, "15-visits-due-phone", full_page=False)
        ctx.close()

        ctx, page = s.context(browser)
        s.login(page, "community", args.password)
        page.goto("/cases/?lateness=late")
        late = page.locator("#results a[href^='/cases/'].mono")
        if late.count():
            late.first.click()
            page.wait_for_url("**/cases/*/")
            wait_map(page, "#case-map")
            s.shot(page, "10-case-late")
        else:
            s.problems.append("community sees no late case: no case screenshot")

        page.goto("/cases/map/")
        wait_map(page, "#case-map")
        s.shot(page, "12-case-map")
        ctx.close()

        ctx, page = s.context(browser)
        s.login(page, "county", args.password)
        page.goto("/cases/stats/")
        wait_charts(page, "#chart-months", "#chart-satisfaction")
        s.shot(page, "13-case-stats")
        ctx.close()

        receipt = tuple(args.track) if args.track else closed_case_receipt()
        if receipt:
            ctx, page = s.context(browser, phone=True)  # a resident, not logged in
            number, last4 = receipt
            page.goto(f"/track/?number={number}&last4={last4}")
            if page.locator(".errorlist-box").count():
                s.problems.append(f"/track/ does not find {number} with {last4}")
            s.shot(page, "14-track-phone")
            ctx.close()
        else:
            s.problems.append("no closed case found (pass --track NUMBER LAST4): no /track/ shot")
        field_work(s, browser, args.password)
        browser.close()

    for problem in s.problems:
        print(f"! {problem}", file=sys.stderr)
    print(f"{len(s.files)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
