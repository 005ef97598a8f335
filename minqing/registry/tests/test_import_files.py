"""Files that cannot be imported get a clear message, and nothing is kept of them."""

import io
import zipfile

import openpyxl
import pytest
from django.test import override_settings

from minqing.core.models import ImportBatch
from minqing.registry.imports.reader import (
    ERR_EMPTY,
    ERR_NO_HEADER,
    ERR_NOT_SPREADSHEET,
    ERR_TOO_LARGE,
    ImportFileError,
)
from minqing.registry.imports.service import import_start, seal, unseal
from minqing.registry.models import Person
from minqing.registry.tests.test_import_support import HEADERS, person_row, reasons, run, xlsx


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj",  # a PDF renamed .xlsx
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",  # a picture
        "无关的文字，没有表头\n第二行".encode(),  # a text file renamed .xlsx
        docx_bytes(),  # a Word document renamed .xlsx: a zip, but not a workbook
    ],
    ids=["pdf", "png", "text", "docx"],
)
def test_a_file_that_is_not_a_spreadsheet(grid_a_worker, tree, data):
    with pytest.raises(ImportFileError) as exc:
        run(grid_a_worker, data, name="台账.xlsx")
    assert str(exc.value) == ERR_NOT_SPREADSHEET.format(name="台账.xlsx")
    assert not Person.objects.exists() and not ImportBatch.objects.exists()


def test_a_csv_saved_under_a_spreadsheets_name_is_read_as_the_csv_it_is(grid_a_worker, tree):
    """Some tools save a CSV as 台账.xlsx; it was refused as "not a spreadsheet" while the same
    bytes named .csv imported."""
    lines = [",".join(HEADERS), ",".join(str(v) for v in person_row(1, "王建国"))]
    plan = run(grid_a_worker, "\n".join(lines).encode(), name="台账.xlsx")
    assert plan.ok, reasons(plan)
    assert Person.objects.get().name == "王建国"


def test_an_empty_file_and_an_empty_workbook(grid_a_worker, tree):
    with pytest.raises(ImportFileError) as exc:
        run(grid_a_worker, b"", name="空.xlsx")
    assert str(exc.value) == ERR_EMPTY.format(name="空.xlsx")
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    with pytest.raises(ImportFileError) as exc:
        run(grid_a_worker, out.getvalue(), name="空表.xlsx")
    assert str(exc.value) == ERR_EMPTY.format(name="空表.xlsx")


def test_a_sheet_without_a_ledger_header(grid_a_worker, tree):
    data = xlsx(["日期", "事项", "经办人"], [["2026-11-26", "走访", "王芳"]])
    with pytest.raises(ImportFileError) as exc:
        run(grid_a_worker, data, name="走访记录.xlsx")
    assert str(exc.value) == ERR_NO_HEADER.format(name="走访记录.xlsx")


@override_settings(IMPORT_MAX_BYTES=4096)
def test_a_file_over_the_configured_limit(grid_a_worker, tree):
    data = xlsx(HEADERS, [person_row(i, f"居民{i}") for i in range(1, 200)])
    assert len(data) > 4096
    with pytest.raises(ImportFileError) as exc:
        import_start(acting_user=grid_a_worker, file_name="大.xlsx", data=data)
    size = f"{len(data) // 1024} KB"
    assert str(exc.value) == ERR_TOO_LARGE.format(name="大.xlsx", size=size, limit="4 KB")
    assert not ImportBatch.objects.exists()


def test_an_uploaded_file_is_kept_encrypted_until_confirmed(grid_a_worker, tree):
    data = xlsx(HEADERS, [person_row(1, "王建国")])
    batch = import_start(acting_user=grid_a_worker, file_name="台账.xlsx", data=data)
    stored = bytes(ImportBatch.objects.get(pk=batch.pk).content)
    assert stored != data and data not in stored and unseal(stored) == data
    assert unseal(seal(b"abc")) == b"abc"


def test_a_list_exported_from_minqing_is_refused_in_one_sentence(client, grid_a_worker, tree):
    from minqing.registry.imports.validate import ERR_EXPORTED_FILE

    assert run(
        grid_a_worker, xlsx(HEADERS, [person_row(71, "导出甲"), person_row(72, "导出乙")])
    ).ok
    client.force_login(grid_a_worker)
    response = client.get("/people/export.xlsx")
    exported = b"".join(response.streaming_content)
    with pytest.raises(ImportFileError) as exc:
        run(grid_a_worker, exported, name="人员.xlsx")
    assert str(exc.value) == ERR_EXPORTED_FILE.format(name="人员.xlsx")
    one_typed = xlsx(HEADERS, [person_row(73, "完整")] + [
        [*person_row(74, "打码")[:5], "330188********0074", *person_row(74, "打码")[6:]]
    ])  # fmt: skip
    plan = run(grid_a_worker, one_typed)  # a ledger with one masked number: that row says so
    assert [e.reason for e in plan.errors if e.header == "公民身份号码"] == [
        "身份证号已打码（导出文件中的号码不完整），不能导入：请在导入模板中填写完整号码。"
    ]
