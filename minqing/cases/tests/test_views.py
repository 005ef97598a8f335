"""The staff pages of the case loop: filing, lists, inbox, overdue, map, the case page and its
actions, through the Django test client against the real database."""

import datetime
import io
import re
import struct
import zlib
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from conftest import login
from minqing.accounts import access
from minqing.cases import selectors, services
from minqing.cases.models import Case, CasePhoto, Status
from minqing.core.masking import mask_phone
from minqing.core.models import AuditAction, AuditEntry


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (red pixels), built by hand: signature, IHDR, IDAT, IEND with their CRCs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# A 1×1 JPEG: SOI, JFIF APP0, one quantisation table, SOF, arithmetic-coding table, scan, EOI.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010101004800480000"
    "ffdb004300030202020202030202020303030304060404040404080606050609080a0a090809090a0c0f0c0a0b0e0b"
    "09090d110d0e0f101011100a0c12131210130f101010"
    "ffc9000b080001000101011100"
    "ffcc000600101005"
    "ffda0008010100003f00d2cf20"
    "ffd9"
)


def photo(name: str = "light.png", content: bytes | None = None, kind: str = "image/png"):
    return SimpleUploadedFile(name, png_bytes() if content is None else content, kind)


def new_case_data(tree, **extra) -> dict:
    data = {
        "category": "0601",
        "description": "东门路5号路灯不亮，晚上很黑。",
        "priority": "normal",
        "channel": "patrol",
        "reporter_name": "李大爷",
        "reporter_phone": "13912345678",
        "grid": tree["grid_a"].code,
        "address": "东门路5号",
    }
    data.update(extra)
    return data


def act(client, case, action: str, **data):
    data.setdefault("version", Case.objects.get(pk=case.pk).version)
    return client.post(f"/cases/{case.number}/act/{action}/", data)


# --- every page renders -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/cases/",
        "/cases/new/",
        "/cases/inbox/",
        "/cases/overdue/",
        "/cases/map/",
        "/cases/{number}/",
    ],
)
def test_every_case_page_renders_for_the_grid_worker(client, grid_a_worker, case_a, url):
    login(client, grid_a_worker)
    response = client.get(url.format(number=case_a.number))
    assert response.status_code == 200
    assert "<form" in response.content.decode() or "case-map" in response.content.decode()


def test_the_list_inbox_and_case_page_show_the_case_with_its_deadline(
    client, grid_a_worker, case_a
):
    login(client, grid_a_worker)
    for url in ("/cases/", "/cases/inbox/"):
        html = client.get(url).content.decode()
        assert case_a.number in html and "路灯" in html
        assert "剩余" in html
    html = client.get(f"/cases/{case_a.number}/").content.decode()
    assert "138****5678" in html and "13812345678" not in html
    assert "剩余" in html and "受理" in html and "立案" in html


def test_pages_need_a_login(client, case_a):
    for url in ("/cases/", "/cases/new/", f"/cases/{case_a.number}/", "/cases/map.json"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_map_json_lists_open_cases_with_a_point_coloured_by_lateness(
    client, grid_a_worker, tree, street_light
):
    case = services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": street_light,
            "description": "路灯坏了",
            "grid": tree["grid_a"],
            "lat": "30.005",
            "lng": "120.005",
        },
    )
    login(client, grid_a_worker)
    rows = client.get("/cases/map.json").json()["cases"]
    assert [(r["number"], r["state"]) for r in rows] == [(case.number, "ok")]
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - timedelta(hours=1))
    rows = client.get("/cases/map.json").json()["cases"]
    assert rows[0]["state"] == "late"


# --- scope: grid B never sees grid A's case ----------------------------------------------------


def test_grid_b_gets_404_for_grid_a_case_page_photos_and_actions(
    client, grid_a_worker, grid_b_worker, case_a
):
    stored = services.case_add_photos(acting_user=grid_a_worker, case=case_a, files=[photo()])[0]
    login(client, grid_b_worker)
    assert client.get(f"/cases/{case_a.number}/").status_code == 404
    assert client.get(f"/cases/{case_a.number}/photos/{stored.pk}/").status_code == 404
    for action in ("take", "escalate", "cancel", "dispatch", "verify"):
        response = act(client, case_a, action, note="x")
        assert response.status_code == 404, action
    case_a.refresh_from_db()
    assert case_a.status == Status.REGISTERED and case_a.events.count() == 2


def test_grid_b_never_sees_grid_a_case_in_list_inbox_map_or_export(
    client, grid_a_worker, grid_b_worker, tree, street_light
):
    case = services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": street_light,
            "description": "甲网格的路灯",
            "grid": tree["grid_a"],
            "lat": "30.005",
            "lng": "120.005",
            "reporter_phone": "13812345678",
        },
    )
    login(client, grid_a_worker)
    assert case.number in client.get("/cases/").content.decode()  # the check below can fail
    login(client, grid_b_worker)
    for url in ("/cases/", "/cases/inbox/", "/cases/overdue/"):
        assert case.number not in client.get(url).content.decode(), url
    assert list(client.get(f"/cases/?q={case.number}").context["page"]) == []
    assert client.get("/cases/map.json").json() == {"cases": []}
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(client.get("/cases/export.xlsx")))).active
    assert case.number not in [c for row in sheet.iter_rows(values_only=True) for c in row]


def test_a_photo_is_served_only_through_the_scoped_view_with_its_type(
    client, grid_a_worker, case_a
):
    stored = services.case_add_photos(acting_user=grid_a_worker, case=case_a, files=[photo()])[0]
    login(client, grid_a_worker)
    response = client.get(f"/cases/{case_a.number}/photos/{stored.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    served = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert served.format == "PNG" and served.size == (2, 2)
    assert served.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    assert client.get(f"/cases/{case_a.number}/photos/{stored.pk + 1}/").status_code == 404
    html = client.get(f"/cases/{case_a.number}/").content.decode()
    assert f"/cases/{case_a.number}/photos/{stored.pk}/" in html
    assert "/media/" not in html and stored.file.name not in html


def test_a_photos_stage_is_shown_in_the_readers_language(client, grid_a_worker, case_a):
    services.case_add_photos(
        acting_user=grid_a_worker, case=case_a, files=[photo()], stage="处置反馈"
    )
    login(client, grid_a_worker)
    html = client.get(f"/cases/{case_a.number}/").content.decode()
    assert 'alt="处置反馈照片"' in html and "处置反馈 · " in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(f"/cases/{case_a.number}/").content.decode()
    assert "Give feedback · " in html and "处置反馈" not in html


# --- the quick form ---------------------------------------------------------------------------


def test_the_quick_form_preselects_the_only_grid(client, grid_a_worker, community_worker, tree):
    login(client, grid_a_worker)
    form = client.get("/cases/new/").context["form"]
    assert form["grid"].value() == tree["grid_a"].code
    login(client, community_worker)
    form = client.get("/cases/new/").context["form"]
    assert form["grid"].value() is None
    assert {g.code for g in form.fields["grid"].queryset} == {
        tree["grid_a"].code,
        tree["grid_b"].code,
    }


@pytest.mark.parametrize(
    "upload",
    [("light.png", png_bytes(), "image/png"), ("light.jpg", JPEG, "image/jpeg")],
    ids=["png", "jpeg"],
)
def test_the_quick_form_with_a_real_image_creates_a_case_with_its_photo_and_a_receipt(
    client, grid_a_worker, tree, upload
):
    name, content, kind = upload
    login(client, grid_a_worker)
    response = client.post(
        "/cases/new/", new_case_data(tree, photos=[photo(name, content, kind)]), follow=True
    )
    case = Case.objects.get()
    assert response.redirect_chain == [(f"/cases/{case.number}/", 302)]
    assert f"已受理，案件编号 {case.number}" in response.content.decode()
    assert case.status == Status.REGISTERED and case.grid == tree["grid_a"]
    assert case.created_by == grid_a_worker and case.reporter_phone_last4 == "5678"
    stored = CasePhoto.objects.get(case=case)
    assert stored.content_type == kind and stored.stage == "受理"
    with stored.file.open("rb") as fh:  # decoded and written again (cases.photos)
        kept = Image.open(io.BytesIO(fh.read()))
    assert kept.get_format_mimetype() == kind and kept.size == Image.open(io.BytesIO(content)).size
    assert stored.size == stored.file.size


def test_a_text_file_renamed_jpg_is_refused_with_the_chinese_message(client, grid_a_worker, tree):
    login(client, grid_a_worker)
    fake = SimpleUploadedFile("photo.jpg", b"this is not an image at all", "image/jpeg")
    response = client.post("/cases/new/", new_case_data(tree, photos=[fake]))
    assert response.status_code == 400
    assert services.ERR_PHOTO_BROKEN.format(name="photo.jpg") in response.content.decode()
    assert not Case.objects.exists() and not CasePhoto.objects.exists()


def test_a_photo_too_large_or_too_many_photos_are_refused_and_nothing_is_stored(
    client, settings, grid_a_worker, tree
):
    login(client, grid_a_worker)
    settings.CASE_PHOTO_MAX_BYTES = 1024 * 1024
    big = png_bytes() + b"\0" * (1024 * 1024)  # a real PNG head, over 1 MB
    response = client.post("/cases/new/", new_case_data(tree, photos=[photo("big.png", big)]))
    assert response.status_code == 400
    assert services.ERR_PHOTO_SIZE.format(mb=1) in response.content.decode()
    many = [photo(f"p{i}.png") for i in range(services.MAX_PHOTOS + 1)]
    response = client.post("/cases/new/", new_case_data(tree, photos=many))
    assert response.status_code == 400
    assert services.ERR_PHOTO_COUNT.format(n=services.MAX_PHOTOS) in response.content.decode()
    assert not Case.objects.exists() and not CasePhoto.objects.exists()


def test_the_quick_form_shows_every_missing_field_at_once(client, grid_a_worker, tree):
    login(client, grid_a_worker)
    response = client.post("/cases/new/", {"category": "", "description": "", "grid": ""})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["category"] == [services.ERR_CATEGORY]
    assert form.errors["description"] == [services.ERR_REQUIRED]
    assert form.errors["grid"] == [services.ERR_REQUIRED]
    assert not Case.objects.exists()


def test_a_map_point_inside_grid_a_places_the_case_there(client, community_worker, tree):
    login(client, community_worker)
    response = client.post(
        "/cases/new/", new_case_data(tree, grid="", lat="30.004000", lng="120.006000")
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.grid == tree["grid_a"]
    assert (str(case.lat), str(case.lng)) == ("30.004000", "120.006000")


def test_a_map_point_outside_the_users_grids_is_refused(client, grid_a_worker, tree):
    login(client, grid_a_worker)
    response = client.post("/cases/new/", new_case_data(tree, grid="", lat="30.005", lng="120.015"))
    assert response.status_code == 400
    assert response.context["form"].errors["lat"] == [services.ERR_POINT_OUTSIDE]
    assert not Case.objects.exists()


def test_a_map_point_in_no_grid_at_all_is_named_on_the_point(client, grid_a_worker, tree):
    """QA: a point outside every grid (0,0) and no grid chosen said only 所属网格: 此项必填, the
    point dropped without a word; a point there beside a chosen grid stays ERR_POINT_OFF_GRID."""
    login(client, grid_a_worker)
    response = client.post("/cases/new/", new_case_data(tree, grid="", lat="0", lng="0"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["lat"] == [services.ERR_POINT_NOWHERE]
    assert "该位置不在本县任何网格内" in response.content.decode()
    response = client.post("/cases/new/", new_case_data(tree, lat="0", lng="0"))
    assert response.context["form"].errors["lat"] == [services.ERR_POINT_OFF_GRID]
    assert not Case.objects.exists()


def test_a_grid_outside_the_users_scope_is_refused(client, grid_b_worker, tree):
    login(client, grid_b_worker)
    response = client.post("/cases/new/", new_case_data(tree))  # grid A's code
    assert response.status_code == 400
    assert response.context["form"].errors["grid"] == [services.ERR_GRID_SCOPE]
    assert not Case.objects.exists()


def test_a_visit_prefills_the_household_and_files_the_case_with_it(
    client, grid_a_worker, grid_b_worker, household_a, tree
):
    login(client, grid_b_worker)
    assert client.get(f"/cases/new/?household={household_a.pk}").status_code == 404
    assert client.get("/cases/new/?household=abc").status_code == 404
    login(client, grid_a_worker)
    form = client.get(f"/cases/new/?household={household_a.pk}").context["form"]
    assert form["address"].value() == household_a.address
    assert form["channel"].value() == "visit"
    data = new_case_data(tree, household=household_a.pk, channel="visit")
    assert client.post(f"/cases/new/?household={household_a.pk}", data).status_code == 302
    case = Case.objects.get()
    assert case.household == household_a and case.channel == "visit"


def test_an_anonymous_case_keeps_no_name_or_phone(client, grid_a_worker, tree):
    login(client, grid_a_worker)
    client.post("/cases/new/", new_case_data(tree, anonymous="on"))
    case = Case.objects.get()
    assert case.anonymous and case.reporter_name == "" and case.reporter_phone == ""
    assert "匿名" in client.get(f"/cases/{case.number}/").content.decode()


# --- actions --------------------------------------------------------------------------------


def test_dispatch_feedback_and_verify_work_end_to_end_through_the_forms(
    client, case_a, community_worker, grid_a_worker
):
    login(client, community_worker)
    page = client.get(f"/cases/{case_a.number}/")
    forms = {f.action: f for f in page.context["action_forms"]}
    assert grid_a_worker in forms["dispatch"].fields["target_user"].queryset
    response = act(client, case_a, "dispatch", target_user=grid_a_worker.pk, note="请尽快修")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case_a.number}/"
    case_a.refresh_from_db()
    assert case_a.status == Status.DISPATCHED and case_a.handler_user == grid_a_worker

    login(client, grid_a_worker)
    assert act(client, case_a, "start").status_code == 302
    response = act(client, case_a, "feedback", note="已更换灯泡。", photos=[photo("after.png")])
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.status == Status.FED_BACK and case_a.result == "已更换灯泡。"
    assert case_a.photos.get().stage == "处置反馈"

    response = act(client, case_a, "verify", note="路灯已修好，感谢反映。")
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.status == Status.CLOSED and case_a.answer == "路灯已修好，感谢反映。"
    html = client.get(f"/cases/{case_a.number}/").content.decode()
    assert "已核查结案。" in html
    for label in ("派遣", "开始处置", "处置反馈", "核查结案", "已反馈 → 已结案"):
        assert label in html
    assert [e.action for e in case_a.events.all()] == [
        "accept",
        "register",
        "dispatch",
        "start",
        "feedback",
        "verify",
    ]


def test_staff_record_the_call_back_rating(client, case_a, grid_a_worker, community_worker):
    login(client, grid_a_worker)
    act(client, case_a, "take")
    act(client, case_a, "feedback", note="修好了")
    act(client, case_a, "verify")
    # the grid worker who handled it is not offered the call-back, and is refused if they try
    assert "回访评价" not in client.get(f"/cases/{case_a.number}/").content.decode()
    assert act(client, case_a, "rate", satisfaction="satisfied").status_code == 403
    login(client, community_worker)
    response = act(client, case_a, "rate", satisfaction="fairly", note="回访：基本满意")
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.status == Status.RATED and case_a.satisfaction == "fairly"


def test_a_stale_version_gets_the_conflict_message_and_409(client, case_a, grid_a_worker):
    login(client, grid_a_worker)
    seen = case_a.version
    assert act(client, case_a, "take", version=seen).status_code == 302
    response = act(client, case_a, "escalate", note="社区处理", version=seen)
    assert response.status_code == 409
    html = response.content.decode()
    assert "该案件刚刚已被他人处理" in html and "处置中" in html
    case_a.refresh_from_db()
    assert case_a.status == Status.HANDLING and case_a.escalation_count == 0
    # The page shown with the conflict carries the new version, so the next try goes through.
    forms = {f.action: f for f in response.context["action_forms"]}
    assert forms["escalate"].initial["version"] == case_a.version
    # and what they typed is still there, in the open form, nothing lost
    assert forms["escalate"].initial["note"] == "社区处理"
    assert 'id="act-escalate" open' in html and "社区处理</textarea>" in html
    # an action no longer open to them keeps the note in the message instead
    response = act(client, case_a, "cancel", note="重复上报", version=seen)
    assert response.status_code == 409
    assert "您填写的说明未提交：重复上报" in response.content.decode()


def test_a_missing_note_re_shows_the_form_with_its_error_and_400(client, case_a, grid_a_worker):
    login(client, grid_a_worker)
    response = act(client, case_a, "cancel", note="")
    assert response.status_code == 400
    form = next(f for f in response.context["action_forms"] if f.action == "cancel")
    assert form.errors["note"] == ["请填写注销原因。"]  # the field's own name
    assert 'id="act-cancel" open' in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.status == Status.REGISTERED


def test_a_service_validation_error_is_shown_on_its_field(client, case_a, grid_a_worker):
    login(client, grid_a_worker)
    act(client, case_a, "take")
    act(client, case_a, "extend_request", days=2, note="等配件")
    # The page no longer offers a second request while the first waits ...
    page = client.get(f"/cases/{case_a.number}/")
    assert "extend_request" not in {f.action for f in page.context["action_forms"]}
    # ... and one sent from a page opened before says why on top.
    response = act(client, case_a, "extend_request", days=2, note="再延")
    assert response.status_code == 400
    assert "extend_request" not in {f.action for f in response.context["action_forms"]}
    assert str(services.ERR_EXTENSION_PENDING) in response.content.decode()


def test_the_transfer_form_offers_only_units_serving_the_cases_grid(
    client, case_a, community_worker, water_unit, tree
):
    from minqing.cases.models import Unit
    from minqing.grids.models import Level, Node

    other = Node.objects.create(
        level=Level.STREET, name="城西街道", code="330188002", parent=tree["county"]
    )
    west = Unit.objects.create(code="west-cg", name="城西城管中队", node=other)
    login(client, community_worker)
    page = client.get(f"/cases/{case_a.number}/").content.decode()
    assert "供水公司" in page and "城西城管中队" not in page
    response = act(client, case_a, "transfer", target_unit=west.pk)
    assert response.status_code == 400
    form = next(f for f in response.context["action_forms"] if f.action == "transfer")
    assert form.errors["target_unit"] == [services.ERR_UNIT_AREA]
    assert act(client, case_a, "transfer", target_unit=water_unit.pk).status_code == 302


def test_an_action_the_user_may_not_take_is_403(client, case_a, grid_a_worker):
    login(client, grid_a_worker)  # grid workers do not dispatch
    response = act(client, case_a, "dispatch", target_user=grid_a_worker.pk)
    assert response.status_code in (400, 403)
    response = act(client, case_a, "supervise", note="快办")
    assert response.status_code == 403
    assert "您不能对该案件执行“督办”" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.status == Status.REGISTERED and case_a.supervise_count == 0


def test_a_missing_version_or_unknown_action_is_refused(client, case_a, grid_a_worker):
    login(client, grid_a_worker)
    response = client.post(f"/cases/{case_a.number}/act/take/", {})
    assert response.status_code == 400
    assert "页面已过期" in response.content.decode()
    assert act(client, case_a, "explode").status_code == 404
    assert client.get(f"/cases/{case_a.number}/act/take/").status_code == 405
    case_a.refresh_from_db()
    assert case_a.status == Status.REGISTERED


# --- lateness, overdue, filters, export ---------------------------------------------------------


def test_a_late_case_is_red_in_the_list_and_counted_on_the_overdue_page(
    client, case_a, grid_a_worker, community_worker, tree, street_light
):
    services.case_accept(
        acting_user=grid_a_worker,
        data={"category": street_light, "description": "另一盏", "grid": tree["grid_a"]},
    )
    Case.objects.filter(pk=case_a.pk).update(deadline=timezone.now() - timedelta(hours=3))
    login(client, community_worker)
    html = client.get("/cases/").content.decode()
    row = html[html.index(case_a.number) - 300 : html.index(case_a.number)]
    assert '<tr class="late">' in row
    assert "已超期" in html
    response = client.get("/cases/overdue/")
    assert [(r["grid__code"], r["n"]) for r in response.context["by_grid"]] == [
        (tree["grid_a"].code, 1)
    ]
    assert response.context["communities"] == [
        {"code": tree["community"].code, "name": "东门社区", "n": 1}
    ]
    assert [c.number for c in response.context["page"]] == [case_a.number]
    late = client.get("/cases/?lateness=late").context["page"]
    assert [c.number for c in late] == [case_a.number]


def test_a_case_that_falls_late_after_the_list_was_first_read_is_on_it_at_once(
    client, case_a, community_worker
):
    # given: the overdue list read while the case still has time (its statement compiled)
    login(client, community_worker)
    assert list(client.get("/cases/overdue/").context["page"]) == []

    # when: its deadline passes
    Case.objects.filter(pk=case_a.pk).update(deadline=timezone.now() - timedelta(minutes=1))

    # then: the next read lists it, counted under its grid
    response = client.get("/cases/overdue/")
    assert [c.number for c in response.context["page"]] == [case_a.number]
    assert response.context["total"] == 1


def test_the_list_filters_by_text_status_category_and_place(
    client, case_a, grid_a_worker, community_worker, tree
):
    login(client, community_worker)
    client.post("/cases/new/", new_case_data(tree, grid=tree["grid_b"].code, category="0701",
                                             description="邻里噪音纠纷", address="南街8号"))  # fmt: skip
    other = Case.objects.exclude(pk=case_a.pk).get()

    def numbers(query: str) -> list[str]:
        return [c.number for c in client.get(f"/cases/?{query}").context["page"]]

    assert sorted(numbers("")) == sorted([case_a.number, other.number])
    assert numbers("q=南街") == [other.number]
    assert numbers(f"q={case_a.number}") == [case_a.number]
    assert numbers("category=07") == [other.number]  # a top-level class covers its children
    assert numbers("category=0601") == [case_a.number]
    assert numbers(f"node={tree['grid_b'].code}") == [other.number]
    assert numbers("status=registered&priority=normal") != []
    assert numbers("status=closed") == []
    assert sorted(numbers("status=bogus")) == sorted([case_a.number, other.number])  # ignored
    assert numbers("node=nope") == []  # a place that is not there finds nothing (and says so)


def test_the_inbox_labels_what_each_case_waits_for(client, case_a, grid_a_worker, tree):
    login(client, grid_a_worker)
    response = client.get("/cases/inbox/")
    groups = {g["key"]: g["count"] for g in response.context["groups"]}
    assert groups == {
        "register": 0,
        "dispatch": 1,
        "handle": 0,
        "verify": 0,
        "callback": 0,
        "decide": 0,
    }
    assert "待派遣" in response.content.decode()
    act(client, case_a, "take")
    act(client, case_a, "feedback", note="修好了")
    response = client.get("/cases/inbox/?wait=verify")
    assert [c.number for c in response.context["page"]] == [case_a.number]
    assert "待核查" in response.content.decode()
    assert list(client.get("/cases/inbox/?wait=dispatch").context["page"]) == []


def test_a_case_the_grid_solved_itself_waits_for_the_communitys_call_back_for_a_while(
    client, case_a, grid_a_worker, community_worker, street_officer
):
    """Solved in the grid (the default), the grid worker may not record the resident's
    rating (分权制衡): it was in their 待回访 all the same, for good, swelling 待办. It waits in
    the community's 待回访 instead, for CALLBACK_WORKING_DAYS after closing (then it leaves
    the list unrated: an inbox of every unrated case would only grow); not in the street's."""
    login(client, grid_a_worker)
    act(client, case_a, "take")
    act(client, case_a, "feedback", note="修好了")
    act(client, case_a, "verify", note="已核实")
    case_a.refresh_from_db()
    assert case_a.status == "closed" and case_a.handler_user == grid_a_worker
    mine = client.get("/cases/inbox/")
    assert case_a.number not in mine.content.decode()
    assert {g["key"]: g["count"] for g in mine.context["groups"]}["callback"] == 0
    assert not selectors.inbox_for(street_officer).filter(pk=case_a.pk).exists()
    login(client, community_worker)
    theirs = client.get("/cases/inbox/?wait=callback")
    assert [c.number for c in theirs.context["page"]] == [case_a.number]
    assert "待回访" in theirs.content.decode()
    assert selectors.home_counts(community_worker)["inbox"] == 1
    api = client.get("/api/cases/inbox/?wait=callback").json()
    assert [row["number"] for row in api["items"]] == [case_a.number]

    # Closed before the window: no longer listed, still theirs to record from the case page.
    since = selectors.callback_since(timezone.localdate())
    Case.objects.filter(pk=case_a.pk).update(closed_at=since - datetime.timedelta(seconds=1))
    assert not selectors.inbox_for(community_worker).filter(pk=case_a.pk).exists()
    Case.objects.filter(pk=case_a.pk).update(closed_at=since)
    assert selectors.inbox_for(community_worker).filter(pk=case_a.pk).exists()
    assert "rate" in services.available_actions(community_worker, case_a)
    act(client, case_a, "rate", satisfaction="satisfied")
    case_a.refresh_from_db()
    assert case_a.status == "rated"
    assert case_a.number not in client.get("/cases/inbox/").content.decode()


def test_the_call_back_window_counts_working_days(db):
    """Five working days back from Monday 12 October 2026: Saturday the 10th (a make-up
    working day), the 9th, the 8th, then over the National Day holiday (1–7 October) to 30
    and 29 September — the window opens at midnight on 29 September."""
    since = selectors.callback_since(datetime.date(2026, 10, 12))
    assert timezone.localtime(since) == timezone.make_aware(datetime.datetime(2026, 9, 29))


def test_the_export_opens_in_openpyxl_masked_stamped_and_audited(client, case_a, grid_a_worker):
    login(client, grid_a_worker)
    response = client.get("/cases/export.xlsx?status=registered")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = [[c for c in row if c is not None] for row in book.active.iter_rows(values_only=True)]
    assert rows[0][:3] == ["案件编号", "受理时间", "来源渠道"]
    data = rows[1]
    assert data[0] == case_a.number and "138****5678" in data and "王大妈" in data
    lateness = rows[0].index("超期")
    assert book.active.cell(2, lateness + 1).value == "否"  # on time says so; late says 已超期
    cells = " ".join(str(c) for row in rows for c in row)
    assert "13812345678" not in cells
    assert "导出人：grid_a" in cells and "状态：已立案" in cells
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.model == "cases.case" and entry.actor == grid_a_worker
    assert entry.changes["rows"] == [None, 1]
    Case.objects.filter(pk=case_a.pk).update(deadline=timezone.now() - timedelta(hours=1))
    late = client.get("/cases/export.xlsx?status=registered")
    late_book = openpyxl.load_workbook(io.BytesIO(b"".join(late.streaming_content)))
    assert late_book.active.cell(2, lateness + 1).value == "已超期"
    # Closed after its limit: 超期结案 under 超期 (as 超期数 counts it), 否 under 按期结案.
    Case.objects.filter(pk=case_a.pk).update(status="closed", closed_on_time=False)
    closed = client.get("/cases/export.xlsx?status=closed")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(closed.streaming_content))).active
    on_time = rows[0].index("按期结案")
    assert (
        sheet.cell(2, lateness + 1).value == "超期结案" and sheet.cell(2, on_time + 1).value == "否"
    )


def seven_cases(user, tree, category) -> list[Case]:
    """Five cases in grid A and two in grid B, accepted by `user`."""
    return [
        services.case_accept(
            acting_user=user,
            data={"category": category, "description": f"路灯{i}", "grid": tree[grid]},
        )
        for i, grid in enumerate(["grid_a"] * 5 + ["grid_b"] * 2)
    ]


def test_the_inbox_and_overdue_list_count_and_page_alike_however_long_the_list_is(
    client, settings, monkeypatch, grid_a_worker, community_worker, tree, street_light
):
    # given: five late cases in grid A and two in grid B, pages of two rows
    from minqing.cases import views

    now = timezone.now()
    for i, case in enumerate(seven_cases(community_worker, tree, street_light)):
        Case.objects.filter(pk=case.pk).update(deadline=now - timedelta(hours=10 - i))
    settings.PAGE_SIZE = 2
    login(client, community_worker)
    urls = [f"/cases/inbox/?page={n}" for n in (1, 2, 4, 9)] + [
        "/cases/inbox/?wait=dispatch&page=2",
        "/cases/inbox/?wait=handle",
        "/cases/overdue/?page=3",
        f"/cases/overdue/?node={tree['grid_b'].code}",
        f"/cases/overdue/?node={tree['grid_a'].code}&page=2",
    ]
    keys = ("groups", "total", "by_grid", "communities", "node", "wait")

    def seen(url):
        context = client.get(url).context
        page = context["page"]
        shown = {k: context[k] for k in keys if k in context}
        return shown, page.number, page.paginator.count, [c.number for c in page]

    # when: every list is read in one go, and when it is too long for that (the database
    # counts, later pages read their ids)
    short = [seen(url) for url in urls]
    monkeypatch.setattr(views, "LIST_CAP", 3)
    long = [seen(url) for url in urls]

    # then: the same counts, pages and rows, in deadline order
    assert short == long
    assert short[0][2] == 7 and short[6][2] == 7
    assert short[7][2] == 2 and [len(s[3]) for s in short[:4]] == [2, 2, 1, 1]
    overdue = [
        n for url in ("/cases/overdue/?page=1", "/cases/overdue/?page=2") for n in seen(url)[3]
    ]
    assert overdue == list(Case.objects.order_by("deadline").values_list("number", flat=True)[:4])


def test_the_all_cases_list_pages_alike_read_whole_as_ids_or_paged_by_the_database(
    client, settings, monkeypatch, grid_a_worker, community_worker, tree, street_light
):
    # given: seven cases accepted an hour apart in grids A and B, pages of two rows
    from minqing.cases import views

    now = timezone.now()
    for i, case in enumerate(seven_cases(community_worker, tree, street_light)):
        Case.objects.filter(pk=case.pk).update(accepted_at=now - timedelta(hours=i % 4))
    settings.PAGE_SIZE = 2
    urls = ["/cases/?page=1", "/cases/?page=3", "/cases/?page=4", "/cases/?page=9"]
    urls += [f"/cases/?node={tree['grid_a'].code}&page=2", "/cases/?status=registered&page=2"]

    def seen(user):
        login(client, user)
        out = []
        for url in urls:
            page = client.get(url).context["page"]
            total = page.paginator.count if hasattr(page, "paginator") else page.count
            out.append((page.number, total, [c.number for c in page]))
        return out

    newest = Case.objects.order_by("-accepted_at", "-id")
    for user, mine in (
        (community_worker, newest),
        (grid_a_worker, newest.filter(grid=tree["grid_a"])),
    ):
        # when: read whole as ids (a community or less), as ids beyond the cap, by the database
        whole = seen(user)
        monkeypatch.setattr(views, "SMALL_LIST_CAP", 3)
        capped = seen(user)
        monkeypatch.setattr(views, "within_communities", lambda user: False)
        paged = seen(user)
        monkeypatch.undo()
        settings.PAGE_SIZE = 2
        # then: the same pages, newest first
        assert whole == capped == paged
        numbers = list(mine.values_list("number", flat=True))
        assert whole[0] == (1, len(numbers), numbers[:2])
        assert whole[1] == (3, len(numbers), numbers[4:6])


def test_a_long_list_of_all_cases_counts_up_to_the_cap(
    client, settings, monkeypatch, community_worker, county_officer, tree, street_light
):
    """Beyond COUNT_CAP the list says 超过N条 instead of counting every case (a county's
    500 000 took 135 ms of a 160 ms page); its pages still follow one another to the end."""
    from minqing.core import paging

    seven_cases(community_worker, tree, street_light)
    settings.PAGE_SIZE = 2
    monkeypatch.setattr(paging, "COUNT_CAP", 4)
    login(client, county_officer)
    newest = list(Case.objects.order_by("-accepted_at", "-id").values_list("number", flat=True))

    first = client.get("/cases/")
    html = first.content.decode()
    assert "超过4条" in html and "第 1 页" in html and "第 1 / " not in html
    assert first.context["page"].count_capped
    pages, number = [], 1
    while True:
        page = client.get(f"/cases/?page={number}").context["page"]
        pages += [c.number for c in page]
        if not page.has_next():
            break
        number += 1
    assert pages == newest and number == 4
    # A page past the end (a typed number) is the last one, as with an exact count.
    assert client.get("/cases/?page=99").context["page"].number == 4
    # Under the cap: the exact count, as before.
    monkeypatch.setattr(paging, "COUNT_CAP", 1000)
    assert "共 7 条" in client.get("/cases/").content.decode()


def test_the_overdue_list_sees_the_same_cases_with_the_scope_as_a_list_or_a_subquery(
    monkeypatch, grid_a_worker, community_worker, street_officer, county_officer, tree, street_light
):
    # given: late cases in grids A and B, one dispatched to grid A's worker from grid B
    from minqing.cases import selectors

    now = timezone.now()
    for i, grid in enumerate(["grid_a", "grid_a", "grid_b", "grid_b"]):
        case = services.case_accept(
            acting_user=community_worker,
            data={"category": street_light, "description": f"路灯{i}", "grid": tree[grid]},
        )
        handler = grid_a_worker if i == 3 else None
        Case.objects.filter(pk=case.pk).update(
            deadline=now - timedelta(hours=i + 1), handler_user=handler
        )
    users = [grid_a_worker, community_worker, street_officer, county_officer]

    def seen():
        return [sorted(selectors.overdue_for(u).values_list("number", flat=True)) for u in users]

    # when: each user's list as a literal list of nodes, then through the scope's subquery
    listed = seen()
    monkeypatch.setattr(access, "LITERAL_SCOPE_NODES", 0)
    subquery = seen()

    # then: the same cases, and grid A's worker sees their own two and the one sent to them
    assert listed == subquery
    assert [len(numbers) for numbers in listed] == [3, 4, 4, 4]


def test_the_reporter_gets_the_case_number_by_sms_when_staff_accept_it(
    client, settings, grid_a_worker, tree, django_capture_on_commit_callbacks
):
    from minqing.core.sms import LoggingSmsBackend

    settings.MINQING_PUBLIC_URL = "https://minqing.example.gov.cn"
    LoggingSmsBackend.sent.clear()
    login(client, grid_a_worker)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/cases/new/", new_case_data(tree))
        client.post("/cases/new/", new_case_data(tree, description="匿名反映", anonymous="on"))
    number = Case.objects.get(reporter_phone_last4="5678").number
    assert LoggingSmsBackend.sent == [
        (
            "13912345678",
            f"【民情】您反映的问题已受理，案件编号 {number}。"
            "可在https://minqing.example.gov.cn/track/凭案件编号和手机号后四位查询办理进度。",
        )
    ]  # and nothing for the anonymous one


def test_a_case_filed_from_a_household_names_a_member_as_its_reporter(
    client, grid_a_worker, zhang_san, tree
):
    household = zhang_san.household
    login(client, grid_a_worker)
    page = client.get(f"/households/{household.pk}/").content.decode()
    assert f"/cases/new/?household={household.pk}" in page
    form = client.get(f"/cases/new/?household={household.pk}").context["form"]
    assert list(form.fields["reporter"].queryset) == [zhang_san]
    # The head (here the only member) is chosen already: forgotten, /track/ had no phone.
    assert form["reporter"].value() == zhang_san.pk
    # Somebody else's name typed below, the head still chosen above: said, not mixed.
    mixed = new_case_data(tree, household=household.pk, reporter=zhang_san.pk)
    refused = client.post(f"/cases/new/?household={household.pk}", mixed)
    assert refused.status_code == 400 and "这里又填了“李大爷”" in refused.content.decode()
    data = new_case_data(
        tree, household=household.pk, reporter=zhang_san.pk, reporter_name="", reporter_phone=""
    )
    response = client.post(f"/cases/new/?household={household.pk}", data)
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.reporter, case.reporter_name, case.household) == (zhang_san, "张三", household)
    assert case.reporter_phone_last4 == zhang_san.phone[-4:]
    # The ledger has their phone from the file, masked, as the case page (was empty).
    book = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get("/cases/export.xlsx").streaming_content))
    )
    row = [c.value for c in book.active[2]]
    assert case.number in row and mask_phone(zhang_san.phone) in row


def test_the_same_new_case_form_sent_twice_files_one_case(client, grid_a_worker, tree):
    login(client, grid_a_worker)
    page = client.get("/cases/new/").content.decode()
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    data = {**new_case_data(tree), "once": once}
    first = client.post("/cases/new/", data)
    assert first.status_code == 302 and Case.objects.count() == 1
    again = client.post("/cases/new/", data, follow=True)  # Back, then 提交 again
    assert Case.objects.count() == 1
    assert again.redirect_chain[-1][0] == first["Location"]
    assert "这份案件已经提交过" in again.content.decode()
    fresh = re.search(r'name="once" value="([^"]+)"', client.get("/cases/new/").content.decode())
    assert fresh.group(1) != once  # a new form is a new case
    assert client.post("/cases/new/", {**data, "once": fresh.group(1)}).status_code == 302
    assert Case.objects.count() == 2


def test_a_place_filter_outside_the_scope_lists_nothing_and_says_so(
    client, case_a, grid_a_worker, tree
):
    login(client, grid_a_worker)
    own = client.get(f"/cases/?node={tree['grid_a'].code}").content.decode()
    assert case_a.number in own
    other = client.get(f"/cases/?node={tree['grid_b'].code}").content.decode()
    assert case_a.number not in other and "不存在或不在您的管辖范围内" in other
    export = client.get(f"/cases/export.xlsx?node={tree['grid_b'].code}")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    assert case_a.number not in {c for row in book.active.iter_rows(values_only=True) for c in row}


def test_a_form_sent_again_while_the_first_still_files_makes_nothing(
    client, grid_a_worker, tree, monkeypatch
):
    """The first sending holds the token (the cache's key) until it has filed the case; a
    failed check gives it back, so the corrected form can still be sent."""
    from django.core.cache import cache

    login(client, grid_a_worker)
    cache.add(f"once:{grid_a_worker.pk}:busy", "", 60)  # a first sending, still filing
    response = client.post("/cases/new/", {**new_case_data(tree), "once": "busy"})
    assert response.status_code == 302 and Case.objects.count() == 0
    # A service refusal frees the token: the same form, corrected, is filed.
    with monkeypatch.context() as patched:

        def refuse(**kw):
            from django.core.exceptions import ValidationError

            raise ValidationError({"description": "暂时不收。"})

        patched.setattr(services, "case_accept", refuse)
        refused = client.post("/cases/new/", {**new_case_data(tree), "once": "retry"})
    assert refused.status_code == 400 and Case.objects.count() == 0
    again = client.post("/cases/new/", {**new_case_data(tree), "once": "retry"})
    assert again.status_code == 302 and Case.objects.count() == 1


@pytest.mark.parametrize("lat, lng", [("0", "0"), ("30.005", "120.015")])
def test_a_point_off_the_chosen_grid_is_refused_beside_it(client, grid_a_worker, tree, lat, lng):
    """0,0 (in no grid at all) or a point in grid B, with grid A chosen: the map would show
    the case where it is not."""
    login(client, grid_a_worker)
    data = new_case_data(tree, lat=lat, lng=lng)  # grid A chosen
    response = client.post("/cases/new/", data)
    assert response.status_code == 400
    assert "所标位置不在所选网格内" in response.content.decode()
    assert not Case.objects.exists()
    inside = client.post("/cases/new/", {**data, "lat": "30.004", "lng": "120.006"})
    assert inside.status_code == 302 and Case.objects.get().grid == tree["grid_a"]


@pytest.mark.parametrize("household", ["abc", "99999999"])
def test_a_household_that_cannot_be_used_is_named_in_the_message(
    client, grid_a_worker, tree, household
):
    login(client, grid_a_worker)
    response = client.post("/cases/new/", {**new_case_data(tree), "household": household})
    assert response.status_code == 400
    assert "该家庭不存在或不在您的管辖范围内" in response.content.decode()
    assert not Case.objects.exists()


def test_a_save_that_fails_on_the_server_frees_the_form_to_be_sent_again(
    client, grid_a_worker, tree, monkeypatch
):
    """Not only a service's refusal: a database error mid-save must not leave the token taken
    (sent again, the form was told it was filed, and nothing was)."""
    from django.db import OperationalError

    login(client, grid_a_worker)
    client.raise_request_exception = False
    with monkeypatch.context() as patched:

        def broken(**kw):
            raise OperationalError("database is locked")

        patched.setattr(services, "case_accept", broken)
        failed = client.post("/cases/new/", {**new_case_data(tree), "once": "after-a-500"})
    assert failed.status_code == 500 and Case.objects.count() == 0
    again = client.post("/cases/new/", {**new_case_data(tree), "once": "after-a-500"})
    assert again.status_code == 302 and Case.objects.count() == 1


def test_a_form_offers_only_what_a_case_is_filed_under_a_filter_every_class(
    client, grid_a_worker, street_light
):
    """A third level built in the admin (路灯损坏 → 灯杆倾斜): the case form offered 路灯损坏,
    which the service refuses as a class; the list's filter still offers it."""
    from minqing.cases.forms import category_choices
    from minqing.cases.models import Category

    Category.objects.create(code="060101", name="灯杆倾斜", parent=street_light)

    def codes(choices):
        return {
            v for value, label in choices
            for v in ([x for x, _ in label] if isinstance(label, list) else [value])
        }  # fmt: skip

    assert "060101" in codes(category_choices(to_file=True))
    assert "0601" not in codes(category_choices(to_file=True))
    assert {"0601", "060101"} <= codes(category_choices())
    login(client, grid_a_worker)
    form = client.get("/cases/new/").context["form"]
    assert "0601" not in codes(form.fields["category"].choices)
