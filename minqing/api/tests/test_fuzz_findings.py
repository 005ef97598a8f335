"""Inputs found by fuzzing a running demo server that answer 500 instead of a clear 4xx.

Each test sends one such input through Django's test client and asks for an answer below 500
(a 4xx with the reason, or a redirect back to the form with a message). They fail on the code
as it was when they were written: that is their point (all but the audit export's, which was
fixed in the working tree while the fuzzing ran; it stays as a regression test).
"""

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import time

import openpyxl
import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from minqing.accounts.models import ApiToken
from minqing.registry.tests.test_import_support import rezipped
from minqing.secondments import services as secondment_services

GRID_A = "330188001001001"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Python's csv module refuses a field longer than this (csv.field_size_limit()).
CSV_FIELD_LIMIT = 131072
# "²" is a digit to str.isdigit() but not to int(): int("²") raises ValueError.
SUPERSCRIPT_TWO = "²"


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user=user, name="fuzz findings")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def teaching_team(user, tree):
    """A teaching team sent to grid A's school (as the secondments tests make it)."""
    return secondment_services.secondment_create(
        acting_user=user,
        data={
            "kind": "teaching",
            "sending_name": "县第一中学",
            "receiving_name": "东门小学",
            "node": tree["grid_a"],
            "cycle_start": dt.date(2025, 9, 1),
        },
    )


def draft_campaign(client, auth: dict, tree) -> int:
    """A draft campaign of visits over the community, made through the API; its id."""
    today = timezone.localdate()
    r = client.post(
        "/api/visits/campaigns",
        json.dumps(
            {
                "name": "寒潮降温走访",
                "kind": "event",
                "node_code": tree["community"].code,
                "start": str(today - dt.timedelta(days=2)),
                "end": str(today + dt.timedelta(days=5)),
                "rule": "all",
            }
        ),
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 201, r.content
    return r.json()["id"]


def csv_file(text: str, name: str = "台账.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type=CSV)


def csv_with_long_field(*, rows_before: int) -> str:
    lines = ["所属网格,姓名,公民身份号码,现住址"]
    lines += [f"{GRID_A},居民{i},,人民路{i}号" for i in range(rows_before)]
    lines.append(f'{GRID_A},"{"x" * (CSV_FIELD_LIMIT + 1)}",,人民路1号')
    return "\n".join(lines) + "\n"


def xlsx_with_birth_value(raw_value: str) -> bytes:
    """An .xlsx whose 出生日期 cell is the number `raw_value` as written in the sheet's XML
    (`inf`, `NaN`: calamine reads them as the floats inf and nan)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员台账"
    ws.append(["所属网格", "姓名", "公民身份号码", "出生日期"])
    ws.append([GRID_A, "张三", "", 12345.5])
    out = io.BytesIO()
    wb.save(out)

    def patch(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        text = data.decode()
        assert "<v>12345.5</v>" in text
        return text.replace("<v>12345.5</v>", f"<v>{raw_value}</v>").encode()

    return rezipped(out.getvalue(), patch)


# ------------------------------------------------------------ ledger import: the file itself


@pytest.mark.parametrize("rows_before", [0, 40], ids=["in-header-scan", "in-body"])
def test_api_import_of_a_csv_with_a_field_over_the_csv_limit_is_not_500(
    client, grid_a_worker, rows_before
):
    """POST /api/imports/ with a .csv one of whose cells is longer than 131,072 characters:
    csv.Error ("field larger than field limit") escapes reader.read_sheets (first 30 rows) or
    validate._read_sheet (later rows)."""
    r = client.post(
        "/api/imports/",
        {"file": csv_file(csv_with_long_field(rows_before=rows_before))},
        **bearer(grid_a_worker),
    )
    # Refused (4xx), or read and previewed: anything but a server error.
    assert r.status_code < 500, r.status_code


def test_import_page_preview_of_a_csv_with_a_field_over_the_csv_limit_is_not_500(
    client, grid_a_worker
):
    """The same file through the /imports/ page: the upload is stored, then the preview page
    (GET /imports/<pk>/) answers 500 on every visit."""
    client.force_login(grid_a_worker)
    r = client.post("/imports/", {"file": csv_file(csv_with_long_field(rows_before=0))})
    assert r.status_code == 302, r.status_code
    r = client.get(r["Location"])
    assert r.status_code < 500, r.status_code


@pytest.mark.parametrize("raw_value", ["inf", "NaN"])
def test_api_import_of_an_xlsx_with_an_infinite_or_nan_birth_date_answers_4xx(
    client, grid_a_worker, raw_value
):
    """An .xlsx number cell `inf` / `NaN` under 出生日期: cells._number_date calls int(value),
    OverflowError / ValueError, not CellError."""
    upload = SimpleUploadedFile("台账.xlsx", xlsx_with_birth_value(raw_value), content_type=XLSX)
    r = client.post("/api/imports/", {"file": upload}, **bearer(grid_a_worker))
    assert 400 <= r.status_code < 500 or (r.status_code == 201 and r.json()["ok"] is False), (
        r.status_code
    )


def xlsx_with_formatted_number(value: float, num_format: str) -> bytes:
    """An .xlsx with one number cell shown through `num_format` (a date or a duration)."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("人员台账")
    ws.write_row(0, 0, ["所属网格", "姓名", "公民身份号码", "出生日期"])
    ws.write_row(1, 0, [GRID_A, "张三", ""])
    ws.write_number(1, 3, value, wb.add_format({"num_format": num_format}))
    wb.close()
    return out.getvalue()


@pytest.mark.parametrize(
    ("value", "num_format"),
    [(1e10, "[h]:mm:ss"), (-1e300, "yyyy-mm-dd")],
    ids=["duration-overflow", "date-panic"],
)
def test_api_import_of_an_xlsx_with_an_out_of_range_date_or_duration_cell_answers_4xx(
    client, grid_a_worker, value, num_format
):
    """python-calamine converts date- and duration-formatted cells while the rows are
    iterated (reader.read_sheets, first 30 rows): 1e10 as [h]:mm:ss raises OverflowError
    ("days=2147483647; must have magnitude <= 999999999"); -1e300 as yyyy-mm-dd panics in Rust
    (pyo3_runtime.PanicException, a BaseException: it escapes Django's handler, and the
    server answers its bare "A server error occurred")."""
    data = xlsx_with_formatted_number(value, num_format)
    upload = SimpleUploadedFile("台账.xlsx", data, content_type=XLSX)
    r = client.post("/api/imports/", {"file": upload}, **bearer(grid_a_worker))
    assert 400 <= r.status_code < 500 or (r.status_code == 201 and r.json()["ok"] is False), (
        r.status_code
    )


def test_api_import_of_a_csv_with_millions_of_empty_columns_answers_within_10_seconds(
    client, grid_a_worker
):
    """A 5 MB .csv (the limit is 20 MB) whose header row goes on with 5,000,000 commas: the
    header search (reader.find_header) normalises and matches every cell of the first 30
    rows, ~17 s on the demo server for 5 MB, ~70 s for a file at the 20 MB limit; one upload
    holds a worker that long."""
    text = "姓名,所属网格" + "," * 5_000_000 + f"\n张三,{GRID_A}\n"
    started = time.perf_counter()
    r = client.post("/api/imports/", {"file": csv_file(text)}, **bearer(grid_a_worker))
    elapsed = time.perf_counter() - started
    assert r.status_code < 500, r.status_code
    assert elapsed < 10, f"{elapsed:.1f} s"


# ------------------------------------------------------ ledger import: the choices for tags


def _batch_with_unknown_tag_through_api(client, headers) -> int:
    text = f"所属网格,姓名,公民身份号码,人员类别\n{GRID_A},张三,,火星人\n"
    r = client.post("/api/imports/", {"file": csv_file(text)}, **headers)
    assert r.status_code == 201, r.content
    assert r.json()["unknown_tags"] == {"火星人": 1}
    return r.json()["id"]


def test_api_import_tag_choice_of_an_id_beyond_64_bits_answers_4xx(client, grid_a_worker):
    """POST /api/imports/{pk}/tags {"choices": {"火星人": "99999999999999999999999"}}: the ASCII
    digits pass the check, then Tag.objects.filter(pk__in=...) raises OverflowError on SQLite.
    The choice is saved before the preview runs, so the batch answers 500 from then on."""
    headers = bearer(grid_a_worker)
    pk = _batch_with_unknown_tag_through_api(client, headers)
    r = client.post(
        f"/api/imports/{pk}/tags",
        {"choices": {"火星人": "9" * 23}},
        content_type="application/json",
        **headers,
    )
    assert 400 <= r.status_code < 500, r.status_code
    r = client.get(f"/api/imports/{pk}", **headers)
    assert r.status_code < 500, r.status_code


def test_import_page_tag_choice_of_a_superscript_digit_is_not_500(client, grid_a_worker):
    """POST /imports/<pk>/ with tag:火星人=² is stored ("²".isdigit() is True); the preview
    then runs int("²") in validate._tags: every later GET /imports/<pk>/ answers 500."""
    client.force_login(grid_a_worker)
    text = f"所属网格,姓名,公民身份号码,人员类别\n{GRID_A},张三,,火星人\n"
    r = client.post("/imports/", {"file": csv_file(text)})
    assert r.status_code == 302, r.status_code
    preview = r["Location"]
    assert re.fullmatch(r"/imports/\d+/", preview), preview
    r = client.post(preview, {"tag:火星人": SUPERSCRIPT_TWO})
    assert r.status_code < 500, r.status_code
    r = client.get(preview)
    assert r.status_code < 500, r.status_code


def test_import_page_default_grid_of_a_superscript_digit_is_not_500(client, grid_a_worker):
    """POST /imports/ with grid=²: import_start checks grid_id.isdigit() (true for "²"), then
    grids.filter(pk="²") raises ValueError."""
    client.force_login(grid_a_worker)
    text = f"所属网格,姓名\n{GRID_A},张三\n"
    r = client.post("/imports/", {"file": csv_file(text), "grid": SUPERSCRIPT_TWO})
    assert r.status_code < 500, r.status_code


# ---------------------------------------------------------------- other forms and the API


def test_api_person_with_a_superscript_digit_in_the_id_number_answers_400(
    client, grid_a_worker, tree
):
    """POST /api/people with id_number 11010119900101²23X: parse_id_number accepts the body
    ("²".isdigit()), then check_character runs int("²"): ValueError, not IdNumberError."""
    r = client.post(
        "/api/people",
        {"name": "测试", "id_number": f"11010119900101{SUPERSCRIPT_TWO}23X", "grid_code": GRID_A},
        content_type="application/json",
        **bearer(grid_a_worker),
    )
    assert r.status_code == 400, r.status_code


def test_person_form_with_a_superscript_digit_in_the_id_number_is_not_500(
    client, grid_a_worker, tree
):
    """The same ID number through the /people/new/ page."""
    client.force_login(grid_a_worker)
    r = client.post(
        "/people/new/",
        {
            "name": "测试",
            "id_number": f"11010119900101{SUPERSCRIPT_TWO}23X",
            "grid": tree["grid_a"].pk,
        },
    )
    assert r.status_code < 500, r.status_code


def test_pairing_form_with_a_superscript_person_reference_is_not_500(client, community_worker):
    """POST /assistance/pairings/new/ with person=#²: PairingForm.clean_person checks
    raw[1:].isdigit(), then int("²") raises ValueError."""
    client.force_login(community_worker)
    r = client.post("/assistance/pairings/new/", {"person": f"#{SUPERSCRIPT_TWO}"})
    assert r.status_code < 500, r.status_code


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_attendance_page_of_a_date_at_the_calendar_edge_is_not_500(
    client, community_worker, tree, day
):
    """GET /secondments/<pk>/attendance/?date=9999-12-31 (or 0001-01-01): the view parses any
    ISO date, then computes the 前一天/后一天 links as day ± 1 day: OverflowError."""
    team = teaching_team(community_worker, tree)
    client.force_login(community_worker)
    r = client.get(f"/secondments/{team.pk}/attendance/?date={day}")
    assert r.status_code < 500, r.status_code
    r = client.post(f"/secondments/{team.pk}/attendance/", {"date": day})
    assert r.status_code < 500, r.status_code


def test_audit_export_with_a_campaign_rebuild_entry_is_not_500(
    client, community_worker, county_officer, tree, household_a
):
    """Not an odd input at all: the demo county's own audit log breaks GET /audit/export.xlsx.
    Rebuilding a campaign's list (and adding households to it) audits {"targets": …}, and
    "targets" on Campaign is the reverse relation of CampaignTarget: field_label() asks the
    ManyToOneRel for a verbose_name and raises AttributeError. (Fixed in the working tree
    while the fuzzing ran: field_label now names a reverse relation.)"""
    boss = bearer(community_worker)
    pk = draft_campaign(client, boss, tree)
    r = client.post(f"/api/visits/campaigns/{pk}/actions/launch", "{}", "application/json", **boss)
    assert r.status_code == 200, r.content
    r = client.post(f"/api/visits/campaigns/{pk}/rebuild", **boss)
    assert r.status_code == 200, r.content

    client.force_login(county_officer)
    r = client.get("/audit/export.xlsx")
    assert r.status_code == 200, r.status_code


@pytest.mark.parametrize("target", ["x", "-5", "2026-11-28"])
def test_campaign_add_with_a_next_that_is_no_url_is_not_500(client, community_worker, tree, target):
    """POST /visits/campaigns/<pk>/add/ with next=x: _safe_next accepts any relative "URL",
    and redirect("x") (no "/" nor ".") is read as a view name: NoReverseMatch."""
    pk = draft_campaign(client, bearer(community_worker), tree)
    client.force_login(community_worker)
    r = client.post(f"/visits/campaigns/{pk}/add/", {"households": "", "next": target})
    assert r.status_code < 500, r.status_code


# A choice id that fits no 64-bit integer: ModelMultipleChoiceField looks the chosen ids up with
# pk__in, which SQLite refuses with OverflowError (Django turns an out-of-range exact lookup
# into "no match", but not an __in lookup).
HUGE_ID = str(10**30)


@pytest.mark.parametrize(
    ("persona", "path", "field"),
    [
        ("grid_a_worker", "/visits/new/", "visitors"),
        ("grid_a_worker", "/visits/new/", "members_met"),
        ("grid_a_worker", "/people/new/", "tags"),
        ("grid_a_worker", "/households/new/", "tags"),
        ("community_worker", "/assistance/pairings/new/", "helpers"),
        ("community_worker", "/assistance/groups/new/", "members"),
        ("community_worker", "/visits/campaigns/new/", "tags"),
        ("community_worker", "/secondments/{team}/activities/new/", "members"),
    ],
)
def test_forms_with_a_chosen_id_beyond_64_bits_are_not_500(
    request, client, tree, household_a, persona, path, field
):
    """e.g. POST /people/new/ tags=10**30, /visits/new/ visitors=10**30 (found with the
    forms' other values as the page fills them; the one bad field is enough)."""
    user = request.getfixturevalue(persona)
    data = {field: HUGE_ID}
    if path == "/visits/new/":
        data["household"] = household_a.pk
    if "{team}" in path:
        path = path.format(team=teaching_team(user, tree).pk)
    client.force_login(user)
    r = client.post(path, data)
    assert r.status_code < 500, r.status_code


PROJECT_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
)
# A child that reads a spreadsheet as an upload is read, and consumes every row.
READ_IN_A_CHILD = """
import sys
import django

django.setup()
from minqing.registry.imports.reader import ImportFileError, read_sheets

data = open(sys.argv[1], "rb").read()
try:
    sheets, _notes = read_sheets(data, "台账.xlsx")
    for sheet in sheets:
        for _row in sheet.rows:
            pass
except ImportFileError as exc:
    print("refused:", exc)
"""


@pytest.mark.parametrize("far_cell", ["XFD1048576", "ZZZZ99999999"])
def test_an_xlsx_with_one_cell_far_away_does_not_abort_the_server_process(tmp_path, far_cell):
    """A 5 KB .xlsx with A1 and one more cell at XFD1048576 (the last cell of a sheet) or at
    ZZZZ99999999: python-calamine sizes the sheet's whole range up front (16,384 × 1,048,576
    cells, 512 GiB), the allocation fails and Rust aborts the process (SIGABRT). Sent to
    POST /api/imports/ or /imports/ it kills the server process itself (seen on runserver:
    the connection drops, the process is gone). Run in a child here, as it would take the
    test runner down with it; the upload must be refused (ImportFileError), not crash."""
    row = far_cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    cell = f'<row r="{row}"><c r="{far_cell}" t="inlineStr"><is><t>x</t></is></c></row>'
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员台账"
    ws.append(["所属网格", "姓名", "公民身份号码"])
    ws.append([GRID_A, "张三", ""])
    out = io.BytesIO()
    wb.save(out)

    def far(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        return data.decode().replace("</sheetData>", cell + "</sheetData>").encode()

    path = tmp_path / "far.xlsx"
    path.write_bytes(rezipped(out.getvalue(), far))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "minqing.settings", "MINQING_DEV": "1"}
    child = subprocess.run(
        [sys.executable, "-c", READ_IN_A_CHILD, str(path)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=300,
    )
    assert child.returncode == 0, (child.returncode, child.stderr[:300])
    # Refused with the reason, naming the tab as the office sees it.
    assert child.stdout.decode().startswith("refused:") and "人员台账" in child.stdout.decode()
