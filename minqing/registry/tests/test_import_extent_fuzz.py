"""Files found by fuzzing extent.check_zipped / extent.check_xls: each must be refused (or
checked) cleanly, in bounded time and memory, before calamine could see it.

Whatever reaches `read_sheets` here meets a calamine that fails the test if it is ever called.
Time is bounded through what can be counted (records walked, bytes scanned, memory traced), not
through the clock.
"""

import io
import struct
import tracemalloc
import zipfile

import openpyxl
import pytest
import python_calamine

from minqing.registry.imports import extent
from minqing.registry.imports.reader import ImportFileError, read_sheets
from minqing.registry.tests.test_import_extent_formats import (
    HEADER,
    LEDGER_XLS,
    ods,
    xlsb_record,
)

NOT_A_SPREADSHEET = "不是可读取的电子表格"
UNZIPPED = 1 << 30  # far above what these files unpack to


def check_zipped(data: bytes) -> None:
    extent.check_zipped(data, UNZIPPED)


class CalamineReached(BaseException):
    """Not an Exception: the reader turns any Exception from calamine into its message."""


@pytest.fixture(autouse=True)
def no_calamine(monkeypatch):
    def must_not_see_it(*_args, **_kwargs):
        raise CalamineReached("a hostile file reached calamine")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", must_not_see_it)


def refused(data: bytes, name: str) -> str:
    with pytest.raises(ImportFileError) as caught:
        read_sheets(data, name)
    return str(caught.value)


def peak_memory(check, data: bytes) -> int:
    """The most memory `check(data)` held at once, in bytes (its result does not matter)."""
    tracemalloc.start()
    try:
        try:
            check(data)
        except (extent.TooWide, extent.NotReadable, extent.Encrypted, extent.TooBig):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------------------------ zip


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rezipped(data: bytes, *, compress_type: int = zipfile.ZIP_DEFLATED) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename)
            info.compress_type = (
                zipfile.ZIP_STORED if item.filename == "mimetype" else compress_type
            )
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


def with_header_field(data: bytes, field: int, value: int, size: int = 2) -> bytes:
    """`value` or'ed into a field of every local and central header (field: offset past the
    local header's signature; the central header's is 2 further on)."""
    out = bytearray(data)
    for signature, shift in ((b"PK\x03\x04", 0), (b"PK\x01\x02", 2)):
        at = out.find(signature)
        while at >= 0:
            where = at + field + shift
            old = int.from_bytes(out[where : where + size], "little")
            out[where : where + size] = (old | value).to_bytes(size, "little")
            at = out.find(signature, at + 4)
    return bytes(out)


def corrupt_lzma(data: bytes) -> bytes:
    """The LZMA stream of every LZMA entry garbled after its 9-byte header."""
    out = bytearray(rezipped(data, compress_type=zipfile.ZIP_LZMA))
    at = out.find(b"PK\x03\x04")
    while at >= 0:
        if struct.unpack_from("<H", out, at + 8)[0] == zipfile.ZIP_LZMA:
            start = at + 30 + sum(struct.unpack_from("<HH", out, at + 26)) + 9
            out[start : start + 8] = b"\xff" * 8
        at = out.find(b"PK\x03\x04", at + 4)
    return bytes(out)


@pytest.mark.parametrize(
    "make",
    [
        lambda d: with_header_field(d, 6, 0x0001),  # encrypted: RuntimeError
        lambda d: with_header_field(d, 6, 0x0041),  # strong encryption: NotImplementedError
        lambda d: with_header_field(d, 8, 0x0063),  # compression method 99 (AES)
        lambda d: corrupt_lzma(d),  # lzma.LZMAError
        lambda d: with_header_field(d, 4, 0x0094, size=1),  # needs zip version 14.8
    ],
    ids=["encrypted", "strong-encryption", "unknown-compression", "corrupt-lzma", "version"],
)
@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_a_zip_python_cannot_read_is_refused(make, kind):
    """Each of these escaped check_zipped as an exception of its own (a server error)."""
    data = make(xlsx() if kind == "xlsx" else ods(""))
    assert NOT_A_SPREADSHEET in refused(data, f"台账.{kind}")


@pytest.mark.parametrize("prolog", ["", "<!-- x -->"], ids=["scan", "expat"])
def test_an_ods_in_an_unknown_encoding_is_refused(prolog):
    """expat raised LookupError for encoding="UqF-8" (both ways of counting)."""
    data = ods("", prolog=prolog)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            part = src.read(item.filename)
            if item.filename == "content.xml":
                part = part.replace(b'encoding="UTF-8"', b'encoding="UqF-8"', 1)
            dst.writestr(item, part)
    assert NOT_A_SPREADSHEET in refused(out.getvalue(), "台账.ods")


# ------------------------------------------------------------------------------------ .xls


def ole_header(shift: int, difat: list[int], dir_start: int = 0) -> bytearray:
    header = bytearray(LEDGER_XLS.read_bytes()[:512])
    struct.pack_into("<HH", header, 0x1E, shift, 6)
    struct.pack_into("<II", header, 0x30, dir_start, 0)
    struct.pack_into("<II", header, 0x44, 0xFFFFFFFE, 0)
    struct.pack_into("<109I", header, 0x4C, *(difat + [0xFFFFFFFF] * (109 - len(difat))))
    return header


def test_an_ole_file_whose_difat_names_one_sector_again_and_again_is_refused():
    """A DIFAT of 65 000 entries all naming sector 0 made a FAT of 8 million entries (at 4 KB
    sectors and 1 MB: tens of gigabytes, and the process was killed)."""
    n = 512
    data = ole_header(9, [0] * 109)
    struct.pack_into("<II", data, 0x44, 1, n - 1)  # DIFAT sectors 1, 2, … each naming 0
    data += bytes(512 * n)
    for s in range(1, n):
        entries = [0] * 127 + [s + 1 if s + 1 < n else 0xFFFFFFFE]
        struct.pack_into("<128I", data, 512 * (s + 1), *entries)
    data = bytes(data)
    assert NOT_A_SPREADSHEET in refused(data, "台账.xls")
    assert peak_memory(extent.check_xls, data) < 8 << 20


def test_a_mini_stream_chain_going_round_in_a_cycle_stops_at_the_mini_streams_end():
    """Mini sectors 0 → 1 → 0 … in a 1 MB file whose MiniFAT is 260 000 entries long: the
    cycle was only noticed after that many steps (16 bytes held for each byte of the file),
    not after the 8 mini sectors there are."""
    n = 2048  # sectors: 0-15 the FAT, 16 the directory, 17 the mini stream, 18… the MiniFAT
    data = ole_header(9, list(range(16)), dir_start=16)
    struct.pack_into("<II", data, 0x3C, 18, n - 18)
    fat = [0xFFFFFFFD] * 16 + [0xFFFFFFFE, 0xFFFFFFFE]
    fat += [s + 1 for s in range(18, n - 1)] + [0xFFFFFFFE]
    data += struct.pack(f"<{n}I", *fat)
    directory = bytearray(512)
    for at, name, start, size in ((0, "Root Entry", 17, 512), (128, "Workbook", 0, 100)):
        raw = (name + "\0").encode("utf-16-le")
        directory[at : at + len(raw)] = raw
        struct.pack_into("<II", directory, at + 116, start, size)
    data += directory + bytes(512)
    data += struct.pack("<128I", 1, 0, *[0] * 126) * (n - 18)
    data = bytes(data)
    assert NOT_A_SPREADSHEET in refused(data, "台账.xls")
    assert peak_memory(extent.check_xls, data) < 12 << 20


def ole_file(stream: bytes, name: str = "Workbook") -> bytes:
    """A minimal compound file of 512-byte sectors holding `stream` (as its Workbook)."""
    n_stream = -(-max(len(stream), 4096) // 512)
    nfat = 1
    while nfat * 128 < nfat + 1 + n_stream:
        nfat += 1
    fat = [0xFFFFFFFD] * nfat + [0xFFFFFFFE]  # the FAT's own sectors, the directory
    first = nfat + 1
    fat += [first + i + 1 for i in range(n_stream - 1)] + [0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (nfat * 128 - len(fat))
    header = ole_header(9, list(range(nfat)), dir_start=nfat)

    def entry(name: str, typ: int, start: int, size: int, child: int = 0xFFFFFFFF) -> bytes:
        out = bytearray(128)
        raw = (name + "\0").encode("utf-16-le")
        out[: len(raw)] = raw
        struct.pack_into("<HBB", out, 64, len(raw), typ, 1)
        struct.pack_into("<III", out, 68, 0xFFFFFFFF, 0xFFFFFFFF, child)
        struct.pack_into("<II", out, 116, start, size)
        return bytes(out)

    directory = entry("Root Entry", 5, 0xFFFFFFFE, 0, 1) + entry(name, 2, first, len(stream))
    return (
        bytes(header)
        + struct.pack(f"<{len(fat)}I", *fat)
        + directory.ljust(512, b"\0")
        + stream.ljust(n_stream * 512, b"\0")
    )


@pytest.mark.parametrize("name", ["台账.xlsx", "台账.xls"])
def test_an_xlsx_encrypted_to_open_gets_the_password_message(name):
    """Excel's "用密码进行加密" saves an .xlsx as a compound file holding EncryptionInfo and
    EncryptedPackage streams, no workbook: it was told it is not a spreadsheet."""
    message = refused(ole_file(bytes(5000), name="EncryptedPackage"), name)
    assert "设置了打开密码" in message


def test_many_boundsheets_at_one_offset_are_not_each_walked_to_the_end(monkeypatch):
    """BoundSheets all pointing at offset 0 of a stream without EOF: each sheet walked the
    whole stream (5 000 of them, a 62 KB file, took a minute)."""
    boundsheet = struct.pack("<HHI", 0x0085, 8, 0) + b"\0\0\0\0"
    stream = b"\x09\x08\x10\x00" + bytes(16) + boundsheet * 400  # over 4 KB: not a mini stream
    walked = 0
    real = extent._biff_records

    def counting(*args):
        nonlocal walked
        for record in real(*args):
            walked += 1
            yield record

    monkeypatch.setattr(extent, "_biff_records", counting)
    assert NOT_A_SPREADSHEET in refused(ole_file(stream), "台账.xls")
    assert walked < 10 * 401  # 401 records in the stream; was 401 × 401


# ------------------------------------------------------------------------------ .ods, .xlsb


def test_a_long_ods_row_is_scanned_once(monkeypatch):
    """A row of 4 MB of empty cells (a few KB zipped) was scanned again with every 1 MB read:
    31 MB took 14 s."""
    scanned = 0
    real = extent._ODS_TAG

    class Counting:
        def finditer(self, buf, pos=0):
            nonlocal scanned
            scanned += len(buf) - pos
            return real.finditer(buf, pos)

    monkeypatch.setattr(extent, "_ODS_TAG", Counting())
    cells = 4 * 1024 * 1024 // 19
    body = "<table:table-row>" + "<table:table-cell/>" * cells + "</table:table-row>"
    extent.check_zipped(ods(body), UNZIPPED)
    assert scanned < 2 * 19 * cells


def test_a_huge_xlsb_record_is_skipped_not_held():
    """A 64 MB record of zeros (64 KB zipped) was read whole, then copied."""
    body = bytes(64 << 20)
    part = xlsb_record(0x81) + xlsb_record(0x91) + xlsb_record(0x07, body) + xlsb_record(0x92)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.bin", part)
    assert peak_memory(check_zipped, out.getvalue()) < 16 << 20
