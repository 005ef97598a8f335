"""An .xlsx sheet's extent whatever way its cells are written: references in single quotes or
with leading zeros, and cells with no reference at all (calamine counts those along their row)
— each of these, far out, made python-calamine 0.9.1 abort the process on a few-KB file."""

import io

import openpyxl
import pytest

from minqing.registry.imports import reader
from minqing.registry.tests.test_import_support import rezipped

FAR_CELL = '<c t="inlineStr"><is><t>x</t></is></c>'


def workbook(extra_rows: str) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人口台账"
    ws.append(["姓名", "身份证号"])
    ws.append(["张三", "110105196005040039"])
    plain = io.BytesIO()
    wb.save(plain)

    def far(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        return data.replace(b"</sheetData>", extra_rows.encode() + b"</sheetData>")

    return rezipped(plain.getvalue(), far)


@pytest.mark.parametrize(
    "rows",
    [
        "<row r='1048576'><c r='XFD1048576' t='inlineStr'><is><t>x</t></is></c></row>",
        '<row r="1048576"><c r="XFD0000001048576" t="inlineStr"><is><t>x</t></is></c></row>',
        '<row r="1048576">' + FAR_CELL * 3000 + "</row>",
        '<row r="2000">' + FAR_CELL * 20000 + "</row>",
        # A decoy reference inside another attribute's value does not hide the real one.
        '<row r="9"><c t="inlineStr" x=" r=\'A9\'" r="XFD1048576"><is><t>x</t></is></c></row>',
        # A row without its number follows the row before it.
        '<row r="1048570"/><row/><row>' + FAR_CELL * 50 + "</row>",
    ],
    ids=["single-quotes", "leading-zeros", "bare-cells", "wide-row", "decoy", "row-after"],
)
def test_a_far_cell_however_written_is_refused_naming_the_sheet(rows):
    with pytest.raises(reader.ImportFileError) as refused:
        reader._check_extent(workbook(rows), "台账.xlsx")
    assert "人口台账" in str(refused.value)


def test_cells_without_references_in_an_ordinary_sheet_pass():
    rows = "".join(
        f'<row r="{n}">' + '<c t="inlineStr"><is><t>张三</t></is></c>' * 12 + "</row>"
        for n in range(3, 3000)
    )
    reader._check_extent(workbook(rows), "台账.xlsx")  # 3 000 rows × 12 columns
    sheets, _notes = reader.read_sheets(workbook(rows), "台账.xlsx")
    assert sum(1 for _ in sheets[0].rows) == 2998
