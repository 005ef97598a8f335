"""A zipped spreadsheet that unpacks to far more than it weighs (a "zip bomb") is refused by the
sizes its entries declare, before anything inflates it; an entry that understates its size is
refused too (by the sheet scan, or by calamine itself)."""

import io
import struct
import zipfile

import openpyxl
import pytest
import python_calamine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from minqing.core.models import ImportBatch, ImportStatus
from minqing.registry.imports import extent
from minqing.registry.imports.reader import ImportFileError, read_sheets
from minqing.registry.models import Person
from minqing.registry.tests.test_import_extent_formats import HEADER, PERSON, ods
from minqing.registry.tests.test_import_support import rezipped

LIMIT = 8 << 20
UNZIPPED = "解压后有"
NOT_A_SPREADSHEET = "不是可读取的电子表格"


class CalamineReached(BaseException):
    """Not an Exception: the reader turns any Exception from calamine into its message."""


@pytest.fixture
def no_calamine(monkeypatch):
    def must_not_see_it(*_args, **_kwargs):
        raise CalamineReached("the file reached calamine")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", must_not_see_it)


def ledger(**extra: bytes) -> bytes:
    """A small ledger, with `extra` entries ({name: content}, deflated) added to its zip."""
    wb = openpyxl.Workbook()
    wb.active.title = "人员台账"
    wb.active.append(HEADER)
    wb.active.append(PERSON)
    out = io.BytesIO()
    wb.save(out)
    return rezipped(out.getvalue(), add={k.replace("__", "/"): v for k, v in extra.items()})


def understating(data: bytes, name: str, size: int) -> bytes:
    """`data` with the entry `name` declaring `size` bytes unpacked, in its local header and in
    the central directory (its CRC left as it was)."""
    out = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    central = out.index(b"PK\x01\x02")
    while out[central + 46 : central + 46 + len(name.encode())] != name.encode():
        central = out.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def refused(data: bytes, name: str) -> str:
    with override_settings(IMPORT_MAX_UNZIPPED_BYTES=LIMIT):
        with pytest.raises(ImportFileError) as caught:
            read_sheets(data, name)
    return str(caught.value)


@pytest.mark.parametrize(
    "entry",
    ["xl/sharedStrings.xml", "xl/media/padding.bin", "docProps/custom.xml"],
)
def test_a_workbook_unpacking_past_the_limit_is_refused_with_its_size(no_calamine, entry):
    data = ledger(**{entry.replace("/", "__"): b" " * (LIMIT + 1)})
    assert len(data) < 200_000  # it weighs next to nothing
    message = refused(data, "台账.xlsx")
    assert UNZIPPED in message and "台账.xlsx" in message
    assert "8.0 MB" in message  # the limit, and what the file unpacks to above it
    assert "分成几个文件" in message


def test_many_entries_each_small_count_together(no_calamine):
    pads = {f"xl__media__pad{i}.bin": b"\0" * (LIMIT // 8) for i in range(9)}
    assert UNZIPPED in refused(ledger(**pads), "台账.xlsx")


def test_an_ods_unpacking_past_the_limit_is_refused(no_calamine):
    body = "<table:table-row><table:table-cell/></table:table-row>" * (LIMIT // 50)
    assert UNZIPPED in refused(ods(body), "台账.ods")


def test_the_size_is_refused_before_anything_is_inflated(monkeypatch):
    data = ledger(xl__sharedStrings__xml=b" " * (LIMIT + 1))

    def no_reading(*_args, **_kwargs):
        raise AssertionError("an entry was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_reading)
    with pytest.raises(extent.TooBig) as caught:
        extent.check_zipped(data, LIMIT)
    assert caught.value.size > LIMIT


@pytest.mark.parametrize("entry", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_an_entry_understating_its_size_is_refused(monkeypatch, entry):
    """Declared 1 KB, 16 MB inside: within the limit by its header, but not what it says. The
    scan stops a sheet at its declared size and fails its CRC, before calamine; calamine,
    which reads the shared strings, refuses such an entry itself (calamine 0.9.1: at once,
    with nothing inflated — if that changed, this test would say so)."""
    opened = []
    real_open = python_calamine.CalamineWorkbook.from_filelike
    monkeypatch.setattr(
        python_calamine.CalamineWorkbook,
        "from_filelike",
        lambda f: opened.append(1) or real_open(f),
    )
    padding = b" " * (16 << 20)
    data = ledger()
    if entry in zipfile.ZipFile(io.BytesIO(data)).namelist():
        data = rezipped(data, lambda name, content: content + padding if name == entry else content)
    else:  # openpyxl writes its strings inline
        data = rezipped(data, add={entry: padding})
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo(entry).file_size >= 16 << 20
    message = refused(understating(data, entry, 1024), "台账.xlsx")
    assert NOT_A_SPREADSHEET in message
    assert opened == ([] if "worksheets" in entry else [1])


def test_a_workbook_within_the_limit_is_read():
    data = ledger(xl__media__padding__bin=b" " * (LIMIT // 2))
    with override_settings(IMPORT_MAX_UNZIPPED_BYTES=LIMIT):
        sheets, _notes = read_sheets(data, "台账.xlsx")
    assert [cells[1] for _row, cells in sheets[0].rows] == ["张三"]


@override_settings(IMPORT_MAX_UNZIPPED_BYTES=LIMIT)
def test_the_upload_page_says_so_and_keeps_nothing(client, grid_a_worker, tree, no_calamine):
    client.force_login(grid_a_worker)
    upload = SimpleUploadedFile(
        "台账.xlsx",
        ledger(xl__sharedStrings__xml=b" " * (LIMIT * 4)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response = client.post("/imports/", {"file": upload})
    page = client.get(response["Location"], follow=True).content.decode()
    assert UNZIPPED in page and "32.0 MB" in page
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED and not bytes(batch.content)
    assert not Person.objects.exists()
