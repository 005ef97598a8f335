"""The ledger import through the JSON API: the same steps and rules as the /imports/ pages."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from minqing.core.models import ImportBatch, ImportStatus
from minqing.registry import services
from minqing.registry.models import Household, Person, Tag
from minqing.registry.tests.test_import_support import GRID_B, HEADERS, person_row, xlsx
from minqing.registry.tests.test_import_views import FAMILY, XLSX


def upload(client, data: bytes, name="台账.xlsx", **extra):
    return client.post(
        "/api/imports/", {"file": SimpleUploadedFile(name, data, content_type=XLSX), **extra}
    )


def test_upload_preview_confirm_through_the_api(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    r = upload(client, xlsx(HEADERS, FAMILY))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["ok"] is True and body["status"] == "preview"
    assert body["counts"]["new_people"] == 2 and body["counts"]["new_households"] == 1
    assert body["errors"] == [] and not Person.objects.exists()
    assert ImportBatch.objects.get().source == "api"

    r = client.post(f"/api/imports/{body['id']}/confirm")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "applied" and r.json()["ok"] is True
    assert Person.objects.count() == 2 and Household.objects.count() == 1
    # Confirmed twice: refused with the reason, nothing more written.
    r = client.post(f"/api/imports/{body['id']}/confirm")
    assert r.status_code == 400 and "不能再确认导入" in r.json()["detail"]
    assert Person.objects.count() == 2
    assert client.get(f"/api/imports/{body['id']}").json()["status"] == "applied"


def test_problems_name_sheet_row_column_value_and_reason(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    rows = [*FAMILY, person_row(3, "赵六", phone="12345"), person_row(4, "钱七", grid=GRID_B)]
    body = upload(client, xlsx(HEADERS, rows)).json()
    assert body["ok"] is False and body["error_count"] == 2
    by_row = {e["row"]: e for e in body["errors"]}
    assert by_row[4]["value"] == "12345" and "电话号码格式不对" in by_row[4]["reason"]
    assert by_row[5]["value"] == GRID_B and by_row[5]["reason"] == str(services.ERR_GRID_SCOPE)
    assert all(e["sheet"] and e["column"] for e in body["errors"])
    r = client.post(f"/api/imports/{body['id']}/confirm")
    assert r.status_code == 400 and "2" in r.json()["detail"]
    assert not Person.objects.exists()
    assert ImportBatch.objects.get().status == ImportStatus.PREVIEW


def test_unknown_categories_are_mapped_then_imported(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    body = upload(client, xlsx(HEADERS, [person_row(1, "王建国", tags="低收入户")])).json()
    assert body["ok"] is False and body["unknown_tags"] == {"低收入户": 1}
    r = client.post(
        f"/api/imports/{body['id']}/tags", {"choices": {"低收入户": "bogus"}}, content_type="application/json"
    )  # fmt: skip
    assert r.status_code == 400
    dibao = Tag.objects.get(name="低保")
    r = client.post(
        f"/api/imports/{body['id']}/tags", {"choices": {"低收入户": str(dibao.pk)}}, content_type="application/json"
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["ok"] is True
    assert client.post(f"/api/imports/{body['id']}/confirm").status_code == 200
    assert [t.name for t in Person.objects.get().household.tags.all()] == ["低保"]


def test_bad_files_grids_and_strangers(
    client, grid_a_worker, community_worker, county_officer, tree
):
    client.force_login(grid_a_worker)
    r = upload(client, b"not a spreadsheet at all", name="x.xlsx")
    # Kept, then read for the preview: refused on `file` with the reason (the batch is kept,
    # cancelled, in the import history).
    assert r.status_code == 400 and "xlsx" in r.json()["errors"]["file"][0]
    assert ImportBatch.objects.filter(status="cancelled").count() == 1
    with override_settings(IMPORT_MAX_BYTES=10):
        r = upload(client, xlsx(HEADERS, FAMILY))
        assert r.status_code == 400 and "file" in r.json()["errors"]
    r = upload(client, xlsx(HEADERS, FAMILY), grid_code=tree["grid_b"].code)
    assert r.status_code == 400 and "grid_code" in r.json()["errors"]
    assert client.post("/api/imports/", {}).status_code == 422
    r = upload(
        client, xlsx(HEADERS, [person_row(1, "王建国", grid="")]), grid_code=tree["grid_a"].code
    )
    assert r.status_code == 201 and r.json()["ok"] is True
    assert r.json()["default_grid"] == tree["grid_a"].code
    pk = r.json()["id"]

    # Someone else's batch is not there; a user who may not edit gets 403.
    client.force_login(community_worker)
    assert client.get(f"/api/imports/{pk}").status_code == 404
    assert client.post(f"/api/imports/{pk}/confirm").status_code == 404
    assert client.post(f"/api/imports/{pk}/cancel").status_code == 404
    client.force_login(county_officer)
    assert upload(client, xlsx(HEADERS, FAMILY)).status_code == 403

    client.force_login(grid_a_worker)
    r = client.post(f"/api/imports/{pk}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert client.post(f"/api/imports/{pk}/confirm").status_code == 400
    assert not Person.objects.exists()


def test_the_preview_speaks_the_callers_language(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    legacy = person_row(1, "王建国")
    legacy[5] = "330188600504003"  # a 15-digit legacy number: accepted, flagged
    twice = [
        person_row(2, "李秀英", address="人民路9号"),
        person_row(2, "李秀英", address="人民路9号"),
    ]
    data = xlsx(HEADERS, [legacy, *twice])
    r = client.post(
        "/api/imports/",
        {"file": SimpleUploadedFile("台账.xlsx", data, content_type=XLSX)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = r.json()
    assert [w["reason"] for w in body["warnings"]] == [
        "A 15-digit legacy ID number: accepted and marked as a legacy ID."
    ]
    reasons = sorted(e["reason"] for e in body["errors"])
    assert len(reasons) == 2 and "row 3" in reasons[0] + reasons[1] and "第" not in "".join(reasons)
    # The default stays Chinese.
    body = upload(client, xlsx(HEADERS, [legacy])).json()
    assert body["warnings"][0]["reason"] == "15位旧身份证号：已接受，并标记为旧证。"


def test_a_file_that_is_not_a_ledger_answers_400_on_file(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    r = upload(client, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj")  # a PDF renamed .xlsx
    assert r.status_code == 400
    assert "file" in r.json()["errors"]
