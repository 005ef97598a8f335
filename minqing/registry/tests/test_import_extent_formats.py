"""A small .ods, .xls or .xlsb whose used range is huge is refused before calamine reads it.

calamine lays a sheet out as a dense grid up to its furthest value; when that grid does not fit
in memory the allocation fails and Rust aborts the whole process (SIGABRT), which on a server
is the server. Seen with python-calamine 0.9.1 under `ulimit -v 4000000`:

- .ods: `table:number-rows-repeated` / `table:number-columns-repeated` let a 1 KB file hold a
  value at row 990 000, column 100 (3 GB asked for, abort), or 6 000 rows × 16 384 columns.
  Past 100 000 000 cells calamine itself answers "Cell limit exceeded" (a clean error), but
  below that it just allocates. Empty repeats at the end of a row or of a table (LibreOffice's
  usual tail) are trimmed by calamine and cost nothing.
- .xls: a forged DIMENSIONS record (rows 0…4 294 967 295, or first row after last row, which
  wraps around) makes calamine reserve that many cells when it opens the file (abort), and a
  cell record at row 65 535, column 65 535 makes a 4-billion-cell grid (abort).
- .xlsb: a cell at XFD1048576 or at column 4 294 967 280 (abort). BrtWsDim is harmless: calamine
  reserves at most 100 000 cells for it.

Whatever a test feeds to read_sheets or the upload page has been refused by the check first;
a child process reads each hostile file once more, so that a regression aborts the child and
fails the test instead of killing the test run.
"""

import io
import os
import pathlib
import struct
import subprocess
import sys
import zipfile

import openpyxl
import pytest
import python_calamine
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import valid_id
from minqing.core.models import ImportBatch, ImportStatus
from minqing.registry.imports import reader
from minqing.registry.imports.reader import ImportFileError, read_sheets
from minqing.registry.tests.test_import_support import GRID_A, reasons, rezipped, run

LEDGER_XLS = pathlib.Path(__file__).parent / "data" / "ledger.xls"
PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[3]
SHEET = "人员台账"
TOO_WIDE = "范围过大"
HEADER = ["所属网格", "姓名", "公民身份号码", "现住址"]
PERSON = [GRID_A, "张三", "", "人民路1号"]


def refused(data: bytes, name: str) -> str:
    """The check's message, without calamine ever seeing the file."""
    with pytest.raises(ImportFileError) as caught:
        if data.startswith(reader.OLE_MAGIC):
            reader._check_xls_extent(data, name)
        else:
            reader._check_extent(data, name)
    return str(caught.value)


# ------------------------------------------------------------------------------------ .ods

ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
    "<office:body><office:spreadsheet>"
)
ODS_TAIL = "</office:spreadsheet></office:body></office:document-content>"
ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
    ' manifest:version="1.3">'
    '<manifest:file-entry manifest:full-path="/"'
    ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def ods_cell(value: str) -> str:
    return (
        '<table:table-cell office:value-type="string" calcext:value-type="string">'
        f"<text:p>{value}</text:p></table:table-cell>"
    )


def ods_row(values: list[str], width: int = 1024) -> str:
    """A row as LibreOffice writes it: the values, then the empty rest of its 1024 columns."""
    rest = f'<table:table-cell table:number-columns-repeated="{width - len(values)}"/>'
    return "<table:table-row>" + "".join(ods_cell(v) for v in values) + rest + "</table:table-row>"


def ods(body: str, *, sheet: str = SHEET, rows: list[list[str]] = (), prolog: str = "") -> bytes:
    """An .ods with one table: a ledger header and `rows`, then `body` (raw XML)."""
    table = "".join(ods_row(r) for r in [HEADER, *rows]) + body
    content = (
        ODS_HEAD.replace("?>", "?>" + prolog, 1)
        + f'<table:table table:name="{sheet}"><table:table-column'
        ' table:number-columns-repeated="1024"/>' + table + "</table:table>" + ODS_TAIL
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        book.writestr("META-INF/manifest.xml", ODS_MANIFEST, zipfile.ZIP_DEFLATED)
    return out.getvalue()


LIBREOFFICE_TAIL = (  # what LibreOffice writes below the last row in use
    '<table:table-row table:number-rows-repeated="1048573">'
    '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    '<table:table-row><table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
)
FILLED_REPEATS = (  # one value repeated over 990 000 rows × 100 columns
    '<table:table-row table:number-rows-repeated="990000">'
    '<table:table-cell table:number-columns-repeated="100" office:value-type="float"'
    ' office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
)
FAR_CELL = (  # empty repeats, then one value at row 990 004, column 100
    '<table:table-row table:number-rows-repeated="990000">'
    '<table:table-cell table:number-columns-repeated="99"/></table:table-row>'
    '<table:table-row><table:table-cell table:number-columns-repeated="99"/>'
    + ods_cell("x")
    + "</table:table-row>"
)
WIDE_CELLS = (  # 6 000 rows, then a value in the last column
    '<table:table-row table:number-rows-repeated="6000">'
    '<table:table-cell table:number-columns-repeated="16383"/></table:table-row>'
    '<table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
    + ods_cell("x")
    + "</table:table-row>"
)
REPEATS_AFTER_A_QUOTED_GT = (  # ">" in a formula does not end the tag
    '<table:table-row><table:table-cell table:formula="of:=[.A1]&gt;0" office:value-type="float"'
    ' office:value="1" table:style-name="a>b" table:number-columns-repeated="20000"/>'
    "</table:table-row>"
)
ONE_ROW_OVER_A_MEGABYTE = (  # 70 000 cells written one by one, then a value
    "<table:table-row>" + "<table:table-cell/>" * 70000 + ods_cell("x") + "</table:table-row>"
)
ZEROS_BEFORE_THE_REPEATS = (  # past Python's int() limit of 4 300 digits, still 990 000
    '<table:table-row table:number-rows-repeated="'
    + "0" * 5000
    + '990000"><table:table-cell table:number-columns-repeated="100" office:value-type="float"'
    ' office:value="1"/></table:table-row>'
)
COLUMN_BEYOND_THE_SHEET = (
    '<table:table-row><table:table-cell table:number-columns-repeated="1000000000"'
    ' office:value-type="float" office:value="1"/></table:table-row>'
)


@pytest.mark.parametrize(
    "body, rows, cols",
    [
        (FILLED_REPEATS, 990002, 100),
        (FAR_CELL, 990003, 100),
        (WIDE_CELLS, 6003, 16384),
        (COLUMN_BEYOND_THE_SHEET, 3, 1000000000),
        (REPEATS_AFTER_A_QUOTED_GT, 3, 20000),
        (ONE_ROW_OVER_A_MEGABYTE, 3, 70001),
        (ZEROS_BEFORE_THE_REPEATS, 10**12 + 2, 100),
    ],
    ids=[
        "filled-repeats",
        "far-cell",
        "wide",
        "column-beyond-the-sheet",
        "quoted-gt",
        "long-row",
        "zeros-before-the-repeats",
    ],
)
def test_an_ods_reaching_far_is_refused_naming_the_sheet(body, rows, cols):
    message = refused(ods(body, rows=[PERSON]), "台账.ods")
    assert TOO_WIDE in message and f"“{SHEET}”" in message
    assert f"第 {rows} 行、第 {cols} 列" in message


def test_an_ods_with_a_comment_or_cdata_is_counted_all_the_same():
    """Tags inside a comment or CDATA are no tags: such a part is counted through expat."""
    for trick in ("<!-- </table:table> -->", "<![CDATA[</table:table>]]>"):
        body = trick + FAR_CELL
        assert TOO_WIDE in refused(ods(body), "台账.ods")
        assert TOO_WIDE in refused(ods(body, rows=[PERSON], prolog="<!-- x -->"), "台账.ods")


def test_an_ods_that_is_not_plain_xml_is_refused():
    """A DOCTYPE (entities: billion laughs) or a "<" inside an attribute value (which hides a
    tag from a scan, and which calamine's XML reader lets through) is not passed on."""
    laughs = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    hidden = '<text:p x="</table:table-row><table:table-row>"/>'
    for data in (ods("", prolog=laughs), ods(f"<table:table-row>{hidden}</table:table-row>")):
        assert "不是可读取的电子表格" in refused(data, "台账.ods")


def test_an_ordinary_ods_with_libreoffices_empty_tail_imports(grid_a_worker, tree):
    people = [
        [GRID_A, "张三", valid_id(1), "人民路1号"],
        [GRID_A, "李四", valid_id(2), "人民路2号"],
    ]
    data = ods(LIBREOFFICE_TAIL, rows=people)
    reader._check_extent(data, "台账.ods")  # the million empty rows are no reason to refuse
    plan = run(grid_a_worker, data, name="台账.ods")
    assert plan.ok, reasons(plan)
    assert plan.counts["new_people"] == 2


def test_an_ods_at_the_limit_is_read():
    """100 000 rows × 60 columns (MAX_CELLS) of values, written as repeats, pass the check."""
    body = (
        '<table:table-row table:number-rows-repeated="99999">'
        '<table:table-cell table:number-columns-repeated="60" office:value-type="float"'
        ' office:value="1"/></table:table-row>'
    )
    reader._check_extent(ods(body), "台账.ods")
    assert TOO_WIDE in refused(ods(body + ods_row(["x"])), "台账.ods")


# ------------------------------------------------------------------------------------ .xls
# ledger.xls (made with xlwt, see make_ledger_xls.py) patched in place: its records keep their
# lengths, so the compound file around them stays as it is.


def ledger_xls(patch) -> bytes:
    data = bytearray(LEDGER_XLS.read_bytes())
    patch(data)
    return bytes(data)


def dimensions(first_row: int, last_row: int, first_col: int, last_col: int):
    def patch(data):
        at = data.index(b"\x00\x02\x0e\x00")  # DIMENSIONS, BIFF8 (14 bytes)
        data[at + 4 : at + 16] = struct.pack("<IIHH", first_row, last_row, first_col, last_col)

    return patch


def last_label_at(row: int, col: int):
    def patch(data):
        at = data.rindex(b"\xfd\x00\x0a\x00")  # the last LABELSST cell
        data[at + 4 : at + 8] = struct.pack("<HH", row, col)

    return patch


@pytest.mark.parametrize(
    "patch, where",
    [
        (dimensions(0, 0xFFFFFFFF, 0, 0xFFFF), "第 4294967295 行、第 65535 列"),
        (dimensions(0, 1048576, 0, 16384), "第 1048576 行、第 16384 列"),
        (dimensions(5, 1, 0, 9), "第 4294967292 行、第 9 列"),  # first row after the last
        (last_label_at(0xFFFF, 0xFFFF), "第 65536 行、第 65536 列"),
        (last_label_at(0xFFFF, 200), "第 65536 行、第 201 列"),
    ],
    ids=["dimensions-max", "dimensions-xlsx-size", "dimensions-wrapping", "far-cell", "tall"],
)
def test_an_xls_reaching_far_is_refused_naming_the_sheet(patch, where):
    message = refused(ledger_xls(patch), "台账.xls")
    assert TOO_WIDE in message and "“家庭台账”" in message and where in message


def file_pass(kind: int):
    """WINDOWPROTECT (2 bytes, in the globals) turned into a FILEPASS record of that kind."""

    def patch(data):
        at = data.index(b"\x19\x00\x02\x00")
        data[at : at + 6] = b"\x2f\x00\x02\x00" + struct.pack("<H", kind)

    return patch


def test_an_xls_claiming_xor_obfuscation_is_still_checked():
    """calamine reads on past a FILEPASS of kind 0, so the check must too."""

    def patch(data):
        file_pass(0)(data)
        last_label_at(0xFFFF, 0xFFFF)(data)

    assert TOO_WIDE in refused(ledger_xls(patch), "台账.xls")


def test_an_ordinary_xls_passes_the_check():
    reader._check_xls_extent(LEDGER_XLS.read_bytes(), "台账.xls")
    # The largest sheet Excel 97-2003 can describe (65 536 × 256) only reserves room.
    reader._check_xls_extent(ledger_xls(dimensions(0, 65536, 0, 256)), "台账.xls")


def test_an_ole_file_that_does_not_hold_together_is_refused():
    data = bytearray(LEDGER_XLS.read_bytes())
    data[0x30:0x34] = struct.pack("<I", 0x00FFFFFF)  # the directory: far past the end
    assert "不是可读取的电子表格" in refused(bytes(data), "台账.xls")


# ----------------------------------------------------------------------------------- .xlsb


def xlsb_record(typ: int, body: bytes = b"") -> bytes:
    head = bytes([typ]) if typ < 0x80 else bytes([(typ & 0x7F) | 0x80, typ >> 7])
    size, n = b"", len(body)
    while True:
        size += bytes([(n & 0x7F) | (0x80 if n >> 7 else 0)])
        n >>= 7
        if not n:
            return head + size + body


def wide_str(text: str) -> bytes:
    raw = text.encode("utf-16-le")
    return struct.pack("<I", len(raw) // 2) + raw


def xlsb(rows: list[tuple[int, list[tuple[int, str]]]], sheet: str = SHEET) -> bytes:
    """A minimal .xlsb (MS-XLSB): workbook.bin with one BrtBundleSh, and a sheet of BrtRowHdr
    and BrtCellSt records."""
    workbook = (
        xlsb_record(0x83)  # BrtBeginBook
        + xlsb_record(0x8F)  # BrtBeginBundleShs
        + xlsb_record(0x9C, struct.pack("<II", 0, 1) + wide_str("rId1") + wide_str(sheet))
        + xlsb_record(0x90)  # BrtEndBundleShs
        + xlsb_record(0x84)  # BrtEndBook
    )
    part = xlsb_record(0x81) + xlsb_record(0x94, struct.pack("<4I", 0, 0, 0, 0))
    part += xlsb_record(0x91)  # BrtBeginSheetData
    for row, cells in rows:
        part += xlsb_record(0x00, struct.pack("<I", row) + bytes(13))  # BrtRowHdr
        for col, text in cells:
            part += xlsb_record(0x06, struct.pack("<II", col, 0) + wide_str(text))  # BrtCellSt
    part += xlsb_record(0x92) + xlsb_record(0x82)
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}" Target="{target}"/>'
        "</Relationships>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="bin" ContentType="application/'
            'vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        )
        book.writestr("_rels/.rels", rels.format(kind="officeDocument", target="xl/workbook.bin"))
        book.writestr("xl/workbook.bin", workbook)
        book.writestr(
            "xl/_rels/workbook.bin.rels", rels.format(kind="worksheet", target="worksheets/s.bin")
        )
        book.writestr("xl/worksheets/s.bin", part)
    return out.getvalue()


XLSB_LEDGER = [(0, list(enumerate(HEADER))), (1, list(enumerate(PERSON)))]


@pytest.mark.parametrize(
    "far, where",
    [
        ((1048575, 16383), "第 1048576 行、第 16384 列"),
        ((2, 0xFFFFFFF0), "第 3 行、第 4294967281 列"),
        ((990000, 99), "第 990001 行、第 100 列"),
    ],
    ids=["xfd1048576", "column-beyond-the-sheet", "tall"],
)
def test_an_xlsb_reaching_far_is_refused_naming_the_sheet(far, where):
    row, col = far
    message = refused(xlsb([*XLSB_LEDGER, (row, [(col, "x")])]), "台账.xlsb")
    assert TOO_WIDE in message and f"“{SHEET}”" in message and where in message


def test_an_ordinary_xlsb_is_read():
    data = xlsb(XLSB_LEDGER)
    sheets, _notes = read_sheets(data, "台账.xlsb")
    assert [s.name for s in sheets] == [SHEET]
    assert [row[:2] for _n, row in sheets[0].rows] == [[GRID_A, "张三"]]


# ----------------------------------------------------------------------------------- .xlsx


def test_an_xlsx_sheet_kept_outside_xl_worksheets_is_checked_too():
    """The workbook says where its sheets are; the check follows it there."""
    book = openpyxl.Workbook()
    book.active.title = SHEET
    book.active.append(HEADER)
    out = io.BytesIO()
    book.save(out)
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'

    def move(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return data.replace(b"</sheetData>", far + b"</sheetData>")
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"worksheets/sheet1.xml", b"elsewhere/sheet1.xml")
        return data

    moved = rezipped(
        out.getvalue(), move, rename={"xl/worksheets/sheet1.xml": "xl/elsewhere/sheet1.xml"}
    )
    message = refused(moved, "台账.xlsx")
    assert TOO_WIDE in message and f"“{SHEET}”" in message


# ------------------------------------------------------------------ the upload page, a child


def encrypted_far_xls() -> bytes:
    def patch(data):
        file_pass(1)(data)
        last_label_at(0xFFFF, 0xFFFF)(data)

    return ledger_xls(patch)


HOSTILE = {
    "台账.ods": lambda: ods(FAR_CELL, rows=[PERSON]),
    "台账.xls": lambda: ledger_xls(last_label_at(0xFFFF, 0xFFFF)),
    "台账.xlsb": lambda: xlsb([*XLSB_LEDGER, (1048575, [(16383, "x")])]),
}


def calamine_must_not_see_it(*_args, **_kwargs):
    raise AssertionError("a hostile file reached calamine")


def test_a_hostile_ods_upload_is_refused_on_the_upload_page(
    client, grid_a_worker, tree, monkeypatch
):
    # Should the check ever let it through, calamine is not there to abort the test run.
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", calamine_must_not_see_it)
    client.force_login(grid_a_worker)
    upload = SimpleUploadedFile(
        "台账.ods",
        HOSTILE["台账.ods"](),
        content_type="application/vnd.oasis.opendocument.spreadsheet",
    )
    response = client.post("/imports/", {"file": upload})
    page = client.get(response["Location"], follow=True).content.decode()
    assert TOO_WIDE in page and SHEET in page
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED and not bytes(batch.content)


READ_IN_A_CHILD = """
import sys
import django

django.setup()
from minqing.registry.imports.reader import ImportFileError, read_sheets

data = open(sys.argv[1], "rb").read()
try:
    sheets, _notes = read_sheets(data, sys.argv[2])
    for sheet in sheets:
        for _row in sheet.rows:
            pass
except ImportFileError as exc:
    print("refused:", exc)
"""


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_does_not_abort_the_process(tmp_path, name):
    path = tmp_path / "hostile"
    path.write_bytes(HOSTILE[name]())
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "minqing.settings", "MINQING_DEV": "1"}
    child = subprocess.run(
        [sys.executable, "-c", READ_IN_A_CHILD, str(path), name],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=300,
    )
    assert child.returncode == 0, (child.returncode, child.stderr[-300:])
    out = child.stdout.decode()
    assert out.startswith("refused:") and TOO_WIDE in out, out


def test_an_encrypted_xls_is_refused_with_the_password_message():
    """The check cannot read past FILEPASS (kind 1: RC4), and calamine stops there too
    (python-calamine 0.9.1 reported it as a plain error: "not a spreadsheet"); the user is told
    to remove the password instead, before calamine sees the file."""
    message = refused(encrypted_far_xls(), "台账.xls")
    assert "密码" in message and TOO_WIDE not in message
