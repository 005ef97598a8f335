"""End-to-end in headless Chromium: the whole case loop on phones and a desk.

Grid A's worker files a case on the phone with a photo and a point tapped on the grid map; the
community dispatches it to a handler; the handler starts and feeds back with a photo; grid A
checks and closes it; the resident, with no account, opens the public progress page with the
case number and the last 4 digits of the phone, and rates it 满意.

Runs Debian's /usr/bin/chromium through Playwright's sync API against pytest-django's live
server (same pattern as minqing/registry/tests/test_browser.py). Nothing leaves 127.0.0.1.
"""

import re
import struct
import zlib
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.cases.models import Case, Satisfaction, Status

# The live server answers from another thread, so the data must be committed (transactional_db);
# serialized_rollback puts back the rows the migrations seeded (categories, time limits).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\x00\x80\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def handler(tree):
    """A second worker of grid A, who repairs things: the one the community dispatches to."""
    user = User.objects.create_user(username="handler_a", password=PASSWORD, full_name="维修员小王")
    RoleAssignment.objects.create(
        user=user, role=Role.GRID_WORKER, node=tree["grid_a"], data_scope=DataScope.NODE_AND_BELOW
    )
    return user


def expect_photo_loaded(page, selector: str) -> None:
    img = page.locator(selector)
    img.scroll_into_view_if_needed()
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0 }",
        arg=selector,
    )


def test_a_case_goes_round_the_whole_loop_from_the_phone_to_the_residents_rating(
    live_server, sessions, grid_a_worker, community_worker, handler, tree
):
    # 1. Grid A files the case on the phone: category, description, reporter, a tapped point
    #    on the grid map and a photo.
    a = sessions(phone=True)
    a.login("grid_a")
    page = a.page
    page.goto("/cases/new/")
    expect(page.locator("#case-map")).to_have_attribute("data-ready", "1")
    expect(page.locator("#case-map svg path").first).to_be_attached()
    expect(page.locator("#id_grid")).to_have_value(tree["grid_a"].code)
    page.select_option("#id_category", "0601")
    page.fill("#id_description", "东门路5号路灯不亮，晚上很黑。")
    page.fill("#id_address", "东门路5号")
    page.fill("#id_reporter_name", "李大爷")
    page.fill("#id_reporter_phone", "13912345678")
    page.locator("#case-map").click()  # the middle of the map: inside grid A
    expect(page.locator("#id_lat")).not_to_have_value("")
    expect(page.locator("#point-text")).to_contain_text("已标注")
    page.set_input_files(
        "#id_photos", files=[{"name": "light.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    assert a.overflow() <= 1, "the quick form is wider than the phone"
    a.submit(page.get_by_role("button", name="提交受理"))

    case = Case.objects.get()
    expect(page).to_have_url(re.compile(rf"/cases/{case.number}/$"))
    expect(page.locator(".messages")).to_contain_text(f"已受理，案件编号 {case.number}")
    expect(page.locator("#case-status")).to_have_text("已立案")
    assert case.grid == tree["grid_a"] and case.lat is not None
    assert Decimal("30.00") <= case.lat <= Decimal("30.01")
    assert Decimal("120.00") <= case.lng <= Decimal("120.01")
    assert case.photos.count() == 1
    expect_photo_loaded(page, "#photos img")
    expect(page.locator("#case-map")).to_have_attribute("data-ready", "1")
    assert a.overflow() <= 1, "the case page is wider than the phone"

    # 2. The community dispatches it to the handler.
    c = sessions()
    c.login("community")
    c.page.goto(f"/cases/{case.number}/")
    c.page.locator("#act-dispatch summary").click()
    c.page.select_option("#id_dispatch_target_user", str(handler.pk))
    c.submit(c.page.get_by_role("button", name="确认派遣"))
    expect(c.page.locator(".messages")).to_contain_text("已派遣")
    expect(c.page.locator("#case-status")).to_have_text("已派遣")

    # 3. The handler finds it in the inbox, starts, and feeds back with a photo.
    h = sessions(phone=True)
    h.login("handler_a")
    h.page.goto("/cases/inbox/")
    expect(h.page.locator("table.cases")).to_contain_text("待处置")
    h.submit(h.page.get_by_role("link", name=case.number))
    h.submit(h.page.get_by_role("button", name="开始处置"))
    expect(h.page.locator("#case-status")).to_have_text("处置中")
    h.page.locator("#act-feedback summary").click()
    h.page.fill("#id_feedback_note", "已更换灯泡，恢复照明。")
    h.page.set_input_files(
        "#id_feedback_photos",
        files=[{"name": "after.png", "mimeType": "image/png", "buffer": png_bytes(6, 4)}],
    )
    h.submit(h.page.get_by_role("button", name="确认处置反馈"))
    expect(h.page.locator("#case-status")).to_have_text("已反馈")
    expect(h.page.locator("#photos img")).to_have_count(2)

    # 4. Grid A checks and closes it, answering the resident.
    page.goto(f"/cases/{case.number}/")
    page.locator("#act-verify summary").click()
    page.fill("#id_verify_note", "路灯已修好，感谢您的反映。")
    a.submit(page.get_by_role("button", name="确认核查结案"))
    expect(page.locator("#case-status")).to_have_text("已结案")
    expect(page.locator("#timeline")).to_contain_text("已反馈 → 已结案")
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.handler_user == handler

    # 5. The resident, with no account, looks the case up and rates it 满意.
    r = sessions(phone=True)
    r.page.goto(f"/track/?number={case.number}&last4=5678")
    rating = r.page.locator("form[action='/track/rate/']")
    rating.locator("input[name=satisfaction][value=satisfied]").check()
    rating.locator("textarea[name=note]").fill("修得很快，谢谢！")
    r.submit(rating.locator("button[type=submit]"))
    case.refresh_from_db()
    assert case.status == Status.RATED
    assert case.satisfaction == Satisfaction.SATISFIED and case.rating_note == "修得很快，谢谢！"
    assert "李大爷" not in r.page.content() and "13912345678" not in r.page.content()

    for s in (a, c, h, r):
        assert s.foreign_requests(live_server.url) == []
        assert s.errors == []


def test_the_case_map_draws_open_cases_coloured_by_lateness(
    live_server, sessions, grid_a_worker, tree
):
    from datetime import timedelta

    from django.utils import timezone

    from minqing.cases import services

    for lat, late in (("30.002", False), ("30.008", True)):
        case = services.case_accept(
            acting_user=grid_a_worker,
            data={
                "category": "0601",
                "title": "<b id=typed>路灯</b>" if late else "路灯",
                "description": "路灯不亮",
                "grid": tree["grid_a"],
                "lat": lat,
                "lng": "120.005",
            },
        )
        if late:
            Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - timedelta(hours=1))
    from conftest import square
    from minqing.cases.models import ZoneKind, ZoningLayer

    ZoningLayer.objects.create(
        kind=ZoneKind.NO_BUILD, name="东门河道禁建区", geometry=square(120.002, 30.002, 0.004)
    )
    s = sessions(phone=True)
    s.login("grid_a")
    s.page.goto("/cases/map/")
    expect(s.page.locator("#case-map")).to_have_attribute("data-ready", "1")
    expect(s.page.locator("#map-count")).to_contain_text("2")
    dots = "#case-map path.leaflet-interactive:not(.zone)"
    expect(s.page.locator(f"{dots}[fill='#b91c1c']")).to_have_count(1)
    expect(s.page.locator(f"{dots}[fill='#15803d']")).to_have_count(1)
    # the planning zone is drawn too, under the cases
    expect(s.page.locator("#case-map path.zone-no_build")).to_have_count(1)
    # A title's markup is shown as typed, never made into elements.
    s.page.locator(f"{dots}[fill='#b91c1c']").hover(force=True)
    expect(s.page.locator(".leaflet-tooltip")).to_contain_text("<b id=typed>路灯</b>")
    expect(s.page.locator("#typed")).to_have_count(0)
    assert s.foreign_requests(live_server.url) == []
    assert s.errors == []


def test_a_leaving_workers_cases_are_handed_over_in_one_go(
    live_server, sessions, grid_a_worker, community_worker, handler, tree
):
    from minqing.cases import services

    numbers = []
    for text in ("北门路2号路灯不亮", "北门路9号井盖松动"):
        case = services.case_accept(
            acting_user=community_worker,
            data={"category": "0601", "description": text, "grid": tree["grid_a"]},
        )
        services.case_act(
            acting_user=community_worker, case=case, action="dispatch", target_user=handler
        )
        numbers.append(case.number)

    c = sessions(phone=True)
    c.login("community")
    c.page.goto("/cases/inbox/")
    c.submit(c.page.get_by_role("link", name="交接"))
    # Choosing whose cases lists them (the select sends its form: no button needed).
    with c.page.expect_navigation():
        c.page.select_option("#id_from", str(handler.pk))
    table = c.page.locator("table.cases")
    for number in numbers:
        expect(table).to_contain_text(number)
    expect(c.page.locator("#id_holder")).to_have_value(str(handler.pk))
    c.page.select_option("#id_successor", str(grid_a_worker.pk))
    c.page.fill("#id_note", "小王调往其他社区")
    c.page.once("dialog", lambda dialog: dialog.accept())  # 确定把这些案件全部改派…？
    c.submit(c.page.get_by_role("button", name="确认交接"))
    expect(c.page.locator(".messages")).to_contain_text("已将 2 件案件改派给")
    assert c.overflow() <= 1, "the handover page is wider than the phone"

    assert set(Case.objects.values_list("handler_user", flat=True)) == {grid_a_worker.pk}
    assert c.foreign_requests(live_server.url) == []
    assert c.errors == []
