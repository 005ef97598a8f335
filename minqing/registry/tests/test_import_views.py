"""The upload → preview → confirm pages, and who may use them."""

import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from conftest import valid_id
from minqing.core.models import AuditEntry, ImportBatch, ImportStatus
from minqing.registry import services
from minqing.registry.imports.validate import ERR_TAG_UNKNOWN
from minqing.registry.models import Household, Person, Tag
from minqing.registry.tests.test_import_support import (
    GRID_B,
    HEADERS,
    person_row,
    xlsx,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FAMILY = [
    person_row(1, "王建国", phone="13812345678"),
    person_row(2, "李秀英", head="王建国", relation="妻子", male=False),
]


def upload(client, data: bytes, name="台账.xlsx", **extra):
    response = client.post(
        "/imports/", {"file": SimpleUploadedFile(name, data, content_type=XLSX), **extra}
    )
    return response


def test_upload_preview_confirm(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    page = client.get("/households/").content.decode()
    assert 'href="/imports/"' in page and "导入台账" in page

    response = upload(client, xlsx(HEADERS, FAMILY))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"
    assert batch.status == ImportStatus.PREVIEW and batch.source == "web"

    preview = client.get(f"/imports/{batch.pk}/")
    html = preview.content.decode()
    assert preview.status_code == 200
    assert preview.context["counts"]["new_people"] == 2
    assert preview.context["counts"]["new_households"] == 1
    assert 'id="confirm"' in html and 'id="errors"' not in html
    assert not Person.objects.exists()  # a preview writes nothing

    response = client.post(f"/imports/{batch.pk}/confirm/")
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"
    assert Person.objects.count() == 2 and Household.objects.count() == 1
    batch.refresh_from_db()
    assert batch.status == ImportStatus.APPLIED and not bytes(batch.content)
    assert AuditEntry.objects.filter(action="import", reason__contains=f"批次 {batch.pk}").count()

    result = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "导入完成" in result and "王建国" in result and "李秀英" in result
    assert valid_id(1) not in result  # masked

    # A second confirm (a double click) imports nothing more.
    response = client.post(f"/imports/{batch.pk}/confirm/", follow=True)
    assert "不能再确认导入" in response.content.decode()
    assert Person.objects.count() == 2


def test_errors_are_listed_and_confirm_is_refused(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    bad = person_row(3, "赵六", phone="12345")
    upload(client, xlsx(HEADERS, [*FAMILY, bad]))
    batch = ImportBatch.objects.get()
    html = client.get(f"/imports/{batch.pk}/").content.decode()
    assert 'id="errors"' in html and 'id="confirm"' not in html and 'id="reupload"' in html
    assert "12345" in html and "电话号码格式不对" in html and '<td data-label="行">4</td>' in html
    response = client.post(f"/imports/{batch.pk}/confirm/")
    assert response.status_code == 302
    assert not Person.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW


def test_confirm_validates_again_against_the_database_as_it_is_now(
    client, grid_a_worker, grid_b_worker, tree
):
    client.force_login(grid_a_worker)
    upload(client, xlsx(HEADERS, FAMILY))
    batch = ImportBatch.objects.get()
    assert client.get(f"/imports/{batch.pk}/").context["plan"].ok
    # Meanwhile grid B registers 王建国: the stale preview must not be applied.
    services.person_create(
        acting_user=grid_b_worker,
        data={"name": "王建国", "id_number": valid_id(1), "grid": tree["grid_b"]},
    )
    client.post(f"/imports/{batch.pk}/confirm/")
    assert list(Person.objects.values_list("name", flat=True)) == ["王建国"]
    assert not Household.objects.exists()


def test_grid_a_naming_grid_bs_grid_is_refused(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    upload(client, xlsx(HEADERS, [person_row(1, "王建国", grid=GRID_B)]))
    batch = ImportBatch.objects.get()
    response = client.get(f"/imports/{batch.pk}/")
    [error] = response.context["plan"].errors
    assert (error.row, error.column, error.value, error.reason) == (
        2,
        "A",
        GRID_B,
        services.ERR_GRID_SCOPE,
    )
    client.post(f"/imports/{batch.pk}/confirm/")
    assert not Person.objects.exists()


def test_the_default_grid_is_one_of_the_importers(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    row = person_row(1, "王建国", grid="")
    # grid_b's pk is not offered to grid_a: it is ignored, and the row has no grid.
    upload(client, xlsx(HEADERS, [row]), grid=str(tree["grid_b"].pk))
    batch = ImportBatch.objects.get()
    assert not client.get(f"/imports/{batch.pk}/").context["plan"].ok
    upload(client, xlsx(HEADERS, [row]), grid=str(tree["grid_a"].pk))
    batch = ImportBatch.objects.first()
    assert client.get(f"/imports/{batch.pk}/").context["plan"].ok


def test_unknown_categories_can_be_mapped_on_the_preview(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    upload(client, xlsx(HEADERS, [person_row(1, "王建国", tags="低收入户")]))
    batch = ImportBatch.objects.get()
    html = client.get(f"/imports/{batch.pk}/").content.decode()
    assert ERR_TAG_UNKNOWN.format(name="低收入户") in html and 'id="tag-choices"' in html
    assert 'value="new"' not in html  # a grid worker cannot create categories
    dibao = Tag.objects.get(name="低保")
    client.post(f"/imports/{batch.pk}/", {"tag:低收入户": str(dibao.pk)})
    assert client.get(f"/imports/{batch.pk}/").context["plan"].ok
    client.post(f"/imports/{batch.pk}/confirm/")
    assert [t.name for t in Person.objects.get().household.tags.all()] == ["低保"]


def test_files_that_cannot_be_imported_get_a_clear_message(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    response = upload(client, b"%PDF-1.4 not a workbook", name="台账.xlsx")
    batch = ImportBatch.objects.get()
    page = client.get(response["Location"], follow=True).content.decode()
    assert "不是可读取的电子表格" in page
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED and not bytes(batch.content)
    listed = client.get("/imports/").content.decode()
    assert "未能读取" in listed and "已取消" not in listed  # nobody cancelled it

    # A header and no rows under it: said so, not a preview of nothing to confirm.
    response = upload(client, xlsx(HEADERS, []), name="空表.xlsx")
    page = client.get(response["Location"], follow=True).content.decode()
    assert "只有表头，表头下面没有人员数据" in page and "空表.xlsx" in page
    header_only = ImportBatch.objects.latest("pk")
    assert header_only.status == ImportStatus.FAILED
    header_only.delete()

    page = client.post("/imports/", {}, follow=True).content.decode()
    assert "请选择要导入的文件" in page
    with override_settings(IMPORT_MAX_BYTES=1024):
        file = SimpleUploadedFile("大.xlsx", xlsx(HEADERS, FAMILY), content_type=XLSX)
        page = client.post("/imports/", {"file": file}, follow=True).content.decode()
    assert "超过了 1 KB 的上限" in page
    assert ImportBatch.objects.count() == 1


def test_errors_are_listed_in_the_order_of_the_file(client, grid_a_worker, tree):
    """The unknown grid on row 2 is found by a check of the whole file, after the row checks
    found the phone on row 3; the table lists row 2 first."""
    client.force_login(grid_a_worker)
    rows = [
        person_row(1, "王建国", phone="13812345678", grid="不存在的网格"),
        person_row(2, "李秀英", head="王建国", relation="妻子", male=False, phone="12345"),
    ]
    upload(client, xlsx(HEADERS, rows))
    plan = client.get(f"/imports/{ImportBatch.objects.get().pk}/").context["plan"]
    assert [(e.row, e.column) for e in plan.errors] == sorted(
        (e.row, e.column) for e in plan.errors
    )
    assert [e.row for e in plan.errors][:2] == [2, 3]


def test_a_file_that_changes_nothing_offers_no_confirm(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    upload(client, xlsx(HEADERS, FAMILY))
    client.post(f"/imports/{ImportBatch.objects.get().pk}/confirm/")
    upload(client, xlsx(HEADERS, FAMILY))
    again = ImportBatch.objects.latest("pk")
    html = client.get(f"/imports/{again.pk}/").content.decode()
    assert 'id="nothing"' in html and "2 人与民情档案完全一致" in html
    assert 'id="confirm"' not in html and "放弃这次导入" not in html
    done = client.post(f"/imports/{again.pk}/cancel/", {"unchanged": "1"}, follow=True)
    assert "文件与民情档案一致，未写入任何数据" in done.content.decode()
    assert Person.objects.count() == 2


def test_the_people_list_leads_to_the_import(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    page = client.get("/people/").content.decode()
    assert 'href="/imports/"' in page and "导入台账" in page


def test_the_template_downloads(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    response = client.get("/imports/template.xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["人员台账", "填写说明"]


def test_users_who_cannot_edit_get_403(client, county_officer, outsider, tree):
    for user in (county_officer, outsider):
        client.force_login(user)
        for url in ("/imports/", "/imports/template.xlsx", "/imports/1/"):
            assert client.get(url).status_code == 403, (user, url)
        assert upload(client, xlsx(HEADERS, FAMILY)).status_code == 403
        assert client.post("/imports/1/confirm/").status_code == 403
    assert not ImportBatch.objects.exists()
    client.logout()
    assert client.get("/imports/").status_code == 302  # to the login page


def test_a_batch_is_its_uploaders_only(client, grid_a_worker, community_worker, tree):
    client.force_login(grid_a_worker)
    upload(client, xlsx(HEADERS, FAMILY))
    batch = ImportBatch.objects.get()
    client.force_login(community_worker)
    assert client.get(f"/imports/{batch.pk}/").status_code == 404
    assert client.post(f"/imports/{batch.pk}/confirm/").status_code == 404
    assert client.post(f"/imports/{batch.pk}/cancel/").status_code == 404
    assert not Person.objects.exists()


def test_a_preview_can_be_abandoned(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    upload(client, xlsx(HEADERS, FAMILY))
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/cancel/")
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED and not bytes(batch.content)
    assert client.post(f"/imports/{batch.pk}/confirm/").status_code == 302
    assert not Person.objects.exists()
    page = client.get("/imports/").content.decode()
    assert "已取消" in page


def test_the_import_pages_speak_english_too(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    client.post("/i18n/setlang/", {"language": "en", "next": "/imports/"})
    page = client.get("/imports/").content.decode()
    assert "Import ledger" in page and "Upload and preview" in page
    upload(client, xlsx(HEADERS, [person_row(1, "王建国", phone="123")]))
    batch = ImportBatch.objects.get()
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "1 error: correct it and upload again" in page and "Reason" in page
    # Confirmed in English, the result says so in English too.
    upload(client, xlsx(HEADERS, FAMILY))
    done = client.post(f"/imports/{ImportBatch.objects.latest('pk').pk}/confirm/", follow=True)
    assert "Imported: 2 people added, 0 updated, 1 households added." in done.content.decode()


def test_the_preview_reads_changes_in_words_not_codes(client, grid_a_worker, tree):
    """A relation, yes/no and grade changed by a second file show as 配偶 → 其他, 否 → 是,
    无 → 三级 (were spouse → other, False → True, 0 → 3)."""
    headers = [*HEADERS, "残疾等级", "政治面貌"]
    first = [
        [*person_row(1, "王建国"), "", "群众"],
        [*person_row(2, "李秀英", head="王建国", relation="配偶", male=False), "", "群众"],
    ]
    client.force_login(grid_a_worker)
    upload(client, xlsx(headers, first))
    client.post(f"/imports/{ImportBatch.objects.get().pk}/confirm/")
    second = [first[0], [*first[1][:3], "其他", *first[1][4:-2], "三级", "中共党员"]]
    upload(client, xlsx(headers, second))
    html = client.get(f"/imports/{ImportBatch.objects.latest('pk').pk}/").content.decode()
    assert "<del>配偶</del> → <ins>其他</ins>" in html
    assert "<del>否</del> → <ins>是</ins>" in html and "<del>无</del> → <ins>三级</ins>" in html
    assert "spouse" not in html and "False" not in html


def test_the_preview_lists_household_changes_and_warns_of_two_addresses(
    client, grid_a_worker, tree
):
    """A household's new address was counted (更新家庭户 1 户) but not shown; two addresses for
    one 户号 kept the first silently."""
    client.force_login(grid_a_worker)
    family = [
        person_row(1, "王建国", number="A-1"),
        person_row(2, "李秀英", head="王建国", relation="配偶", male=False, number="A-1"),
    ]
    upload(client, xlsx(HEADERS, family))
    client.post(f"/imports/{ImportBatch.objects.get().pk}/confirm/")
    moved = [
        person_row(1, "王建国", number="A-1", address="人民路18号"),
        person_row(
            2, "李秀英", head="王建国", relation="配偶", male=False, number="A-1", address="别处1号"
        ),
    ]
    upload(client, xlsx(HEADERS, moved))
    preview = client.get(f"/imports/{ImportBatch.objects.latest('pk').pk}/")
    html = preview.content.decode()
    assert preview.context["counts"]["updated_households"] == 1
    assert 'id="household-updates"' in html
    assert "<del>人民路8号</del> → <ins>人民路18号</ins>" in html
    assert "本户按“人民路18号”登记，这一行的地址不会保存" in html
    warning = next(w for w in preview.context["plan"].warnings if "人民路18号" in w.reason)
    assert (warning.row, warning.value) == (3, "别处1号")
