"""How far a workbook's sheets reach, read from its parts before python-calamine opens it.

calamine holds a sheet as a dense grid of its used range, and several formats let a file of a
few kilobytes claim a huge one: one cell at XFD1048576 in an .xlsx or .xlsb, an .ods row
repeated a million times, an .xls DIMENSIONS record. calamine then asks for hundreds of
gigabytes and the Rust allocator aborts the whole server process — no exception to catch
(found by fuzzing; probes of calamine 0.9.1 for each format are in the tests). So each format's
extent is read here from its own structure, cheaply and without building the grid, and a sheet
larger than MAX_CELLS is refused (`TooWide`, naming the tab) before calamine sees the file.
The reader (`reader.read_sheets`) turns these exceptions into the user's messages.
"""

import html
import io
import lzma
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from xml.parsers import expat


class TooWide(Exception):
    """A sheet reaches further than MAX_CELLS cells (or 16 384 columns)."""

    def __init__(self, sheet: str, rows: int, cols: int):
        super().__init__(sheet, rows, cols)
        self.sheet, self.rows, self.cols = sheet, rows, cols


class NotReadable(Exception):
    """The file's structure does not hold together (calamine could not read it either)."""


class Encrypted(Exception):
    """An .xls encrypted with a password to open (RC4 or CryptoAPI): nothing past it is read."""


class TooBig(Exception):
    """A zipped workbook unpacks to more than the limit (`size`: what its entries declare)."""

    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


# calamine holds a sheet as a dense grid of its used range: one cell far out (XFD1048576) in
# an otherwise small file made it ask for hundreds of gigabytes and abort the process.
MAX_CELLS = 6_000_000  # about 200 MB for calamine; 100 000 rows × 60 columns
# A cell's reference, r="AB12" (either quote, any case, leading zeros: calamine reads them all),
# and the cell tags themselves, to tell whether every cell has one.
_CELL_REF = re.compile(rb""" r=["']([A-Za-z]{1,7})([0-9]{1,30})["']""")
_CELL_TAG = re.compile(rb"<c[\s/>]")
_PREFIXED_CELL = re.compile(rb"<\w+:c[\s/>]")
_XLSX_MAX_TAG = 1 << 20


def check_zipped(data: bytes, max_unzipped: int) -> None:
    """Refuse a zipped workbook (.xlsx, .xlsb, .ods) that unpacks to more than `max_unzipped`
    bytes (`TooBig`), or whose sheets reach further than MAX_CELLS cells (see MAX_CELLS), read
    from the sheets' own parts before calamine sees the file (≈ 2 s for 100 000 rows of .xlsx).

    Deflate packs repeated text a thousandfold: a 1 MB .xlsx whose shared string unpacks to
    1 GB took calamine 11 s and 4 GB of memory. So the sizes the entries declare are added up
    first, before anything is inflated. An entry that unpacks to more than it declares is no way
    round it: Python's zipfile stops this scan at the declared size and fails the entry's CRC,
    and calamine refuses the file at once (checked in the tests).
    """
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        # What Python's zipfile cannot open is not handed on to calamine (whose zip reader may
        # get further) unchecked.
        raise NotReadable from None
    with book:
        declared = sum(info.file_size for info in book.infolist())
        if declared > max_unzipped:
            raise TooBig(declared)
        try:
            # The sheets' parts: xl/worksheets/…, and wherever the workbook says a sheet is.
            named = set(_tab_names(book)) | set(_xlsb_tab_names(book))
            for info in book.infolist():
                if info.filename.startswith("xl/worksheets/") or info.filename in named:
                    if info.filename.endswith(".xml"):
                        _check_xlsx_part(book, info)
                    elif info.filename.endswith(".bin"):
                        _check_xlsb_part(book, info)
            if _is_ods(book):
                _check_ods(book)
        except _ZIP_ERRORS:
            raise NotReadable from None


# What zipfile raises for a zip that does not hold together: besides BadZipFile, a corrupt
# deflate/bzip2/LZMA stream (zlib.error, OSError, EOFError, LZMAError), an encrypted entry
# (RuntimeError), or an unsupported compression method, strong encryption or zip version
# (NotImplementedError) — found by fuzzing.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    OSError,
    EOFError,
    ValueError,
    struct.error,
    RuntimeError,
    NotImplementedError,
)


def _too_wide(rows: int, cols: int) -> bool:
    return cols > 16384 or rows * cols > MAX_CELLS


def _check_xlsx_part(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """The furthest cell of an .xlsx sheet part. Every cell names itself (r="AB12") in what
    Excel, WPS and the libraries write: those are read with one regex per chunk. A file whose
    cells do not all name themselves — calamine then counts them along their row (`<row
    r="1048576">` and 16 384 bare `<c/>` make a grid of 17 billion cells) — is read tag by
    tag (`_xlsx_tags`)."""
    refs_rows = refs_cols = 0
    all_named = True
    tail = b""
    with book.open(info) as part:
        while chunk := part.read(1 << 22):
            buf = tail + chunk
            cut = buf.rfind(b"<")
            if cut < 0 or len(buf) - cut > _XLSX_MAX_TAG:
                cut = len(buf)
            body, tail = buf[:cut], buf[cut:]
            refs = _CELL_REF.findall(body)
            # Every cell tag has its reference and no r= stands anywhere else (inside another
            # attribute's value, say, or with a tab before it); else the tags are read one by one.
            if (
                len(_CELL_TAG.findall(body)) != len(refs)
                or body.count(b" r=") != len(refs) + body.count(b"<row r=")
                or _PREFIXED_CELL.search(body)
            ):
                all_named = False
                break
            if refs:
                refs_cols = max(
                    refs_cols, *(_column_number(x.upper()) for x in {r[0] for r in refs})
                )
                refs_rows = max(refs_rows, *(_ref_row(d) for d in {r[1] for r in refs}))
    rows, cols = (refs_rows, refs_cols) if all_named else _xlsx_tags(book, info)
    if _too_wide(rows, cols):
        sheet = _tab_names(book).get(info.filename) or info.filename.rsplit("/", 1)[-1]
        raise TooWide(sheet, rows, cols)


def _ref_row(digits: bytes) -> int:
    digits = digits.lstrip(b"0") or b"0"
    return int(digits) if len(digits) <= 10 else 10**10


def _xlsx_tags(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Rows and columns of a sheet part read as calamine places its cells: a cell without a
    reference goes one column right of the cell before it, in its row's row (or the row after
    the row before)."""
    rows = cols = row = col = 0
    tail = b""
    with book.open(info) as part:
        while chunk := part.read(1 << 22):
            buf = tail + chunk
            cut = buf.rfind(b"<")
            if cut < 0:
                cut = len(buf)
            elif len(buf) - cut > _XLSX_MAX_TAG:
                raise NotReadable  # one tag of megabytes is not from a spreadsheet program
            body, tail = buf[:cut], buf[cut:]
            for m in _XLSX_TAG.finditer(body):
                value = _xml_attr(m.group(2), b"r")
                value = value.encode() if value else b""
                if m.group(1) == b"row":
                    row = _ref_row(value) if value.isdigit() else row + 1
                    col = 0
                    continue
                letters = value.rstrip(b"0123456789")
                digits = value[len(letters) :]
                if letters.isalpha() and digits.isdigit():
                    col = _column_number(letters.upper())
                    rows = max(rows, _ref_row(digits))
                else:
                    col += 1
                    rows = max(rows, row)
                cols = max(cols, col)
    return rows, cols


# .xlsb: a sheet part is a run of binary records; calamine keeps every cell record but a blank
# one and sizes the sheet from the furthest (it only reserves room for BrtWsDim up to 100 000
# cells, so that record needs no check). A row number past 0x100000 ends its reading.
_XLSB_CELLS = frozenset(range(0x0002, 0x000C))  # BrtCellRk … BrtFmlaError
_XLSB_ROW, _XLSB_END_DATA = 0x0000, 0x0092
# Only the start of a record is looked at (cell and row records: their first 4 bytes; a
# BrtBundleSh: two short strings); the rest of a longer one is skipped, not held: a size of
# 256 MB of zeros packs into 256 KB (found by fuzzing).
_XLSB_BODY = 4096


def _xlsb_records(part) -> Iterator[tuple[int, bytes]]:
    """(type, body) of each record of a binary part (MS-XLSB 2.1.4), read as calamine does."""
    buf = b""
    pos = 0

    def need(n: int) -> bool:
        nonlocal buf, pos
        while len(buf) - pos < n:
            chunk = part.read(max(1 << 20, n))
            if not chunk:
                return False
            buf = buf[pos:] + chunk
            pos = 0
        return True

    while need(1):
        typ = buf[pos]
        pos += 1
        if typ & 0x80:
            if not need(1):
                return
            typ = (typ & 0x7F) + ((buf[pos] & 0x7F) << 7)
            pos += 1
        size = 0
        for i in range(4):
            if not need(1):
                return
            byte = buf[pos]
            pos += 1
            size += (byte & 0x7F) << (7 * i)
            if not byte & 0x80:
                break
        head = min(size, _XLSB_BODY)
        if not need(head):
            return
        yield typ, buf[pos : pos + head]
        pos += head
        rest = size - head
        if rest:
            skipped = min(rest, len(buf) - pos)
            pos, rest = pos + skipped, rest - skipped
            while rest:
                chunk = part.read(min(rest, 1 << 20))
                if not chunk:
                    return
                rest -= len(chunk)


def _check_xlsb_part(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    rows = cols = row = 0
    with book.open(info) as part:
        for typ, body in _xlsb_records(part):
            if typ == _XLSB_ROW and len(body) >= 4:
                row = int.from_bytes(body[:4], "little")
                if row > 0x100000:
                    break
            elif typ in _XLSB_CELLS and len(body) >= 4:
                rows = max(rows, row + 1)
                cols = max(cols, int.from_bytes(body[:4], "little") + 1)
                if _too_wide(rows, cols):
                    break
            elif typ == _XLSB_END_DATA:
                break
    if _too_wide(rows, cols):
        sheet = _xlsb_tab_names(book).get(info.filename) or info.filename.rsplit("/", 1)[-1]
        raise TooWide(sheet, rows, cols)


def _xlsb_tab_names(book: zipfile.ZipFile) -> dict[str, str]:
    """{"xl/worksheets/sheet1.bin": "人口台账"}, from BrtBundleSh records of xl/workbook.bin."""
    try:
        rels = book.read("xl/_rels/workbook.bin.rels").decode("utf-8", "replace")
        workbook = book.open("xl/workbook.bin")
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    targets = _rel_targets(rels)
    names = {}
    with workbook:
        for typ, body in _xlsb_records(workbook):
            if typ == 0x0090:  # BrtEndBundleShs
                break
            if typ != 0x009C or len(body) < 12:  # BrtBundleSh
                continue
            rel_len = int.from_bytes(body[8:12], "little")
            if rel_len == 0xFFFFFFFF:
                continue
            rid = body[12 : 12 + 2 * rel_len].decode("utf-16-le", "replace")
            rest = body[12 + 2 * rel_len :]
            cch = int.from_bytes(rest[:4], "little")
            if rid in targets:
                names[targets[rid]] = rest[4 : 4 + 2 * cch].decode("utf-16-le", "replace")
    return names


# .ods: calamine reads content.xml whole when it opens the file. A row or cell may stand for
# many (table:number-rows-repeated, table:number-columns-repeated); calamine drops empty cells
# at the end of a row and empty rows at the end of a table, so LibreOffice's usual tail
# (a thousand empty columns, a million empty rows) costs nothing, but everything up to the last
# cell holding a value is laid out as a dense grid, repeats included: one value at row 990 000
# column 100 made it ask for 3 GB and abort the process (python-calamine 0.9.1 only stops by
# itself past 100 000 000 cells, with a clean "Cell limit exceeded"). Any attribute office:…
# or table:formula is taken for a value: calamine's own test is narrower, never wider.
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _is_ods(book: zipfile.ZipFile) -> bool:
    try:
        with book.open("mimetype") as part:
            return part.read(len(ODS_MIMETYPE)) == ODS_MIMETYPE
    except KeyError:
        return False


def _repeats(value: str | None) -> int:
    if value is None:
        return 1
    try:
        return max(int(value), 0)
    except ValueError:
        # Past int()'s 4 300 digits, leading zeros and all, it is still a number to calamine.
        digits = value.strip().lstrip("+").lstrip("0")
        return 10**12 if digits.isascii() and digits.isdigit() else 1  # else calamine refuses it


class _OdsCount:
    """Where each table's last value lies, counted as calamine lays the table out: a table
    inside a cell (calamine skips it) is counted on its own."""

    def __init__(self):
        self.stack: list[list] = []  # per open table: [name, row, row repeats, col, rows, cols]

    def table(self, sheet: str) -> None:
        self.stack.append([sheet, 0, 0, 0, 0, 0])

    def end_table(self) -> None:
        if self.stack:
            self.stack.pop()

    def row(self, repeats: int) -> None:
        if self.stack:
            t = self.stack[-1]
            t[2], t[3] = repeats, 0

    def end_row(self, width: int | None = None) -> None:
        """The end of a row; `width`: where its last value ends, when the cells were not
        counted one by one."""
        if self.stack:
            t = self.stack[-1]
            if width:
                self.reach(t, width)
            t[1], t[2] = t[1] + t[2], 0

    def cell(self, repeats: int, value: bool) -> None:
        if self.stack:
            t = self.stack[-1]
            t[3] += repeats
            if value:
                self.reach(t, t[3])

    def reach(self, t: list, col: int) -> None:
        t[4], t[5] = max(t[4], t[1] + t[2]), max(t[5], col)
        if _too_wide(t[4], t[5]):
            raise TooWide(t[0], t[4], t[5])


# Rows and tables, and the start of a comment, CDATA section, DOCTYPE or processing instruction
# (<!, <?). A quoted attribute value may hold ">", never "<" (expat makes sure of that).
_TAG_REST = rb"""[^>"']*+(?:(?:"[^"]*+"|'[^']*+')[^>"']*+)*+"""
_ODS_TAG = re.compile(
    rb"<(?:([!?])|(/?)(table:table-row|table:table)(?=[\s/>])(" + _TAG_REST + rb")>)"
)
_TAG_END = re.compile(_TAG_REST + rb">")
_XLSX_TAG = re.compile(rb"<(?:\w+:)?(row|c)(?=[\s/>])(" + _TAG_REST + rb")>")

_ODS_COLUMN_REPEATS = re.compile(rb"""table:number-columns-repeated\s*=\s*["']([^"']*)""")
_XML_ATTR = re.compile(rb"""([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ODS_MAX_CARRY = 32 << 20  # one row longer than this is not from a spreadsheet program


def _xml_attr(attrs: bytes, key: bytes) -> str | None:
    for m in _XML_ATTR.finditer(attrs):
        if m[1] == key:
            raw = m[2] if m[2] is not None else m[3]
            return html.unescape(raw.decode("utf-8", "replace"))
    return None


def _ods_row_width(body: bytes) -> int:
    """How many columns the cells of a row (its XML between the row's tags) take up to the end
    of the last one holding a value, 0 when none does. Never less than calamine counts: any
    "office:" or "table:formula" is taken for a value, wherever it stands."""
    k = max(body.rfind(b"office:"), body.rfind(b"table:formula"))
    if k < 0:
        return 0
    tag = _TAG_END.match(body, body.rfind(b"<", 0, k) + 1)
    head = body[: tag.end()] if tag else body
    cols = head.count(b"<table:table-cell") + head.count(b"<table:covered-table-cell")
    if b"repeated" in head:
        for raw in _ODS_COLUMN_REPEATS.findall(head):
            cols += _repeats(html.unescape(raw.decode("utf-8", "replace"))) - 1
    return cols


def _expat():
    """A parser that refuses a DOCTYPE, the only place an entity can be declared: an .ods never
    has one (and expat ≥ 2.4 bounds entity expansion anyway). External entities are never
    fetched by pyexpat."""

    def no_doctype(*_args):
        raise NotReadable()

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    return parser


def _check_ods(book: zipfile.ZipFile) -> None:
    """Sum the repeats in content.xml as calamine does, streaming the part: expat only makes
    sure it is well-formed XML without a DOCTYPE while regexes find the rows and, in each row
    holding a value, the cells up to the last value (≈ 1 s for 20 000 rows). A part with
    comments, CDATA or processing instructions, or not in UTF-8, is counted through expat's
    callbacks instead (slower)."""
    try:
        info = book.getinfo("content.xml")
    except KeyError:
        return
    count = _OdsCount()
    parser = _expat()
    open_rows: list[int | None] = []  # per open table: where its open row's cells start
    try:
        with book.open(info) as part:
            buf, offset = b"", 0  # offset: where buf starts in the part
            scan = 0  # where in buf the tags not yet seen start (the carry was scanned before)
            while chunk := part.read(1 << 20):
                if not offset and not buf and not chunk.lstrip(b"\xef\xbb\xbf").startswith(b"<"):
                    return _check_ods_expat(book, info)  # UTF-16, or not XML at all
                parser.Parse(chunk, False)
                buf += chunk
                end = 0
                for m in _ODS_TAG.finditer(buf, scan):
                    end = m.end()
                    if m[1]:
                        if m[1] == b"?" and offset + m.start() == 0:
                            continue  # <?xml version="1.0" encoding="UTF-8"?>
                        return _check_ods_expat(book, info)
                    closing, tag, attrs = m[2], m[3], m[4]
                    if tag == b"table:table-row":
                        if closing:
                            if open_rows and open_rows[-1] is not None:
                                body = buf[open_rows[-1] - offset : m.start()]
                                count.end_row(_ods_row_width(body))
                                open_rows[-1] = None
                            continue
                        repeats = 1
                        if b"repeated" in attrs:
                            repeats = _repeats(_xml_attr(attrs, b"table:number-rows-repeated"))
                        count.row(repeats)
                        if attrs.endswith(b"/"):
                            count.end_row()
                        elif open_rows:
                            open_rows[-1] = offset + end
                    elif closing:
                        count.end_table()
                        if open_rows:
                            open_rows.pop()
                    else:
                        count.table(_xml_attr(attrs, b"table:name") or "")
                        open_rows.append(None)
                        if attrs.endswith(b"/"):
                            count.end_table()
                            open_rows.pop()
                # Carry over what is still needed: the open rows' cells, an unfinished tag.
                last = buf.rfind(b"<")
                keep = [last if last >= end else len(buf)]
                keep += [start - offset for start in open_rows if start is not None]
                cut = min(keep)
                offset += cut
                scan = keep[0] - cut  # rescanning the carried row each time took quadratic time
                buf = buf[cut:]
                if len(buf) > _ODS_MAX_CARRY:
                    raise NotReadable()
            parser.Parse(b"", True)
    except (expat.ExpatError, LookupError):
        # calamine's XML reader lets more through (end tags need not match): what expat cannot
        # follow cannot be checked, so it is not handed on. LookupError: an encoding="…" that
        # Python does not know (found by fuzzing).
        raise NotReadable from None


def _check_ods_expat(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """The same count through expat's callbacks (≈ 2 s for 20 000 rows)."""
    count = _OdsCount()

    def start(tag, attrs):
        if tag == "table:table":
            count.table(attrs.get("table:name", ""))
        elif tag == "table:table-row":
            count.row(_repeats(attrs.get("table:number-rows-repeated")))
        elif tag == "table:table-cell" or tag == "table:covered-table-cell":
            value = any(k.startswith("office:") or k == "table:formula" for k in attrs)
            count.cell(_repeats(attrs.get("table:number-columns-repeated")), value)

    def end(tag):
        if tag == "table:table":
            count.end_table()
        elif tag == "table:table-row":
            count.end_row()

    parser = _expat()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with book.open(info) as part:
            while chunk := part.read(1 << 20):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, LookupError):
        raise NotReadable from None


# .xls: calamine reads every sheet when it opens the file. It reserves room for the DIMENSIONS
# record's rows × columns up front (a forged one, rows 0…4 294 967 295, aborted the process;
# so did first row > last row, which wraps around) and lays the cells out as a dense grid up to
# the furthest cell record (row and column are 16-bit: 65 536 × 65 536 cells).
XLS_MAX_DIMENSIONS = 65536 * 256  # the largest sheet Excel 97-2003 can write
_XLS_CELLS = frozenset({0x0006, 0x00D6, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E})
_XLS_MULRK, _XLS_DIMENSIONS, _XLS_BOUNDSHEET, _XLS_FILEPASS, _XLS_EOF = (
    0x00BD,
    0x0200,
    0x0085,
    0x002F,
    0x000A,
)


def check_xls(data: bytes) -> None:
    """Refuse an .xls whose sheets reach past what Excel 97-2003 writes (`TooWide`), read from
    its BIFF records; one encrypted to open raises `Encrypted` (the password message)."""
    try:
        stream = _ole_stream(data, ("Workbook", "Book"))
        # An .xlsx encrypted to open ("用密码进行加密") is a compound file too, holding the
        # encrypted package: the password message, not "not a spreadsheet".
        sealed = stream is None and _ole_stream(data, ("EncryptedPackage",)) is not None
    except (ValueError, IndexError, struct.error):
        # What this reading cannot follow is not handed on to calamine unchecked.
        raise NotReadable from None
    if sealed:
        raise Encrypted
    if stream is None:
        return  # no workbook in it: calamine says so
    sheets = []
    for typ, body in _biff_records(stream, 0):
        if typ == _XLS_FILEPASS and body[:2] != b"\0\0":
            # Encrypted (RC4, CryptoAPI): neither this check nor calamine reads further (calamine
            # reads on past XOR obfuscation, type 0, and so does the check).
            raise Encrypted
        if typ == _XLS_BOUNDSHEET and len(body) >= 8:
            sheets.append((int.from_bytes(body[:4], "little"), _biff_sheet_name(body)))
        elif typ == _XLS_EOF:
            break
    # Each sheet's records are read from its BoundSheet's offset to its EOF: in a real file these
    # runs do not overlap, so together they are no longer than the stream. Many BoundSheets
    # pointing at one place (or a stream without EOF) made this quadratic: 62 KB took a minute.
    budget = 4 * len(stream) + 4096
    for pos, sheet in sheets:
        rows = cols = 0
        for typ, body in _biff_records(stream, pos):
            budget -= 4 + len(body)
            if budget < 0:
                raise NotReadable()
            if typ == _XLS_DIMENSIONS and len(body) in (10, 14):
                if len(body) == 10:
                    first, last, first_col, last_col = struct.unpack_from("<4H", body)
                else:
                    first, last, first_col, last_col = struct.unpack_from("<IIHH", body)
                if last >= 1 and last_col >= 1:  # as calamine counts, u32 wrapping included
                    height = (last - first) % (1 << 32)
                    width = (last_col - first_col) % (1 << 32)
                    if height * width > XLS_MAX_DIMENSIONS:
                        raise TooWide(sheet, height, width)
            elif typ in _XLS_CELLS and len(body) >= 4:
                row, col = struct.unpack_from("<HH", body)
                rows, cols = max(rows, row + 1), max(cols, col + 1)
            elif typ == _XLS_MULRK and len(body) >= 6:
                row, col = struct.unpack_from("<HH", body)
                rows, cols = max(rows, row + 1), max(cols, col + (len(body) - 6) // 6)
            elif typ == _XLS_EOF:
                break
        if _too_wide(rows, cols):
            raise TooWide(sheet, rows, cols)


def _biff_records(stream: bytes, pos: int) -> Iterator[tuple[int, bytes]]:
    while pos + 4 <= len(stream):
        typ, size = struct.unpack_from("<HH", stream, pos)
        yield typ, stream[pos + 4 : pos + 4 + size]
        pos += 4 + size


def _biff_sheet_name(body: bytes) -> str:
    """The name in a BoundSheet8 record (a ShortXLUnicodeString; BIFF5 names are 8-bit)."""
    cch = body[6]
    flags = body[7] if len(body) > 7 else 0
    if len(body) >= 8 + cch and flags in (0, 1) and (flags == 0 or len(body) >= 8 + 2 * cch):
        raw = body[8 : 8 + (2 * cch if flags else cch)]
        return raw.decode("utf-16-le" if flags else "latin-1", "replace")
    return body[7 : 7 + cch].decode("gbk", "replace")


_FREE = 0xFFFFFFFA  # sector numbers from here on mean "none" (end of chain, free, FAT …)


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes | None:
    """The first stream called one of `names` in an OLE compound file ([MS-CFB]), found as
    calamine finds it (the first directory entry of that name; a stream under 4096 bytes lives
    in the mini stream, whatever the header says), or None; ValueError where the file does not
    hold together."""
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        raise ValueError("sector size")
    size = 1 << shift
    dir_start = struct.unpack_from("<I", data, 0x30)[0]
    minifat_start = struct.unpack_from("<I", data, 0x3C)[0]
    difat_next, n_difat = struct.unpack_from("<II", data, 0x44)
    n_sectors = (len(data) - size) // size + 1
    per_sector = size // 4

    def sector(n: int) -> bytes:
        if n >= n_sectors:
            raise ValueError("sector out of the file")
        return data[(n + 1) * size : (n + 2) * size].ljust(size, b"\0")

    # Only the FAT entries of sectors in the file are read: a DIFAT naming one sector over and
    # over made a FAT of gigabytes, and a chain as long as that FAT took seconds (fuzzing).
    max_fat = n_sectors // per_sector + 1  # FAT sectors enough to describe the whole file
    difat = list(struct.unpack_from("<109I", data, 0x4C))
    for _step in range(n_sectors):
        if difat_next >= _FREE or len(difat) >= max_fat:
            break
        entries = struct.unpack(f"<{per_sector}I", sector(difat_next))
        difat.extend(entries[:-1])
        difat_next = entries[-1]
    fat: list[int] = []
    for n in difat:
        if len(fat) >= n_sectors:
            break
        if n < _FREE:
            fat.extend(struct.unpack(f"<{per_sector}I", sector(n)))
    del fat[n_sectors:]

    def chain(start: int, table: list[int], limit: int) -> Iterator[int]:
        """The sectors of a chain; one longer than `limit` (the sectors there are) has a cycle."""
        n, steps = start, 0
        while n < _FREE:
            if n >= len(table) or steps >= limit:
                raise ValueError("broken chain")
            yield n
            n, steps = table[n], steps + 1

    directory = b"".join(sector(n) for n in chain(dir_start, fat, n_sectors))
    entries = []
    for at in range(0, len(directory) - 127, 128):
        entry_name = directory[at : at + 64].decode("utf-16-le", "ignore").split("\0", 1)[0]
        start = struct.unpack_from("<I", directory, at + 116)[0]
        length_format = "<I" if size == 512 else "<Q"
        entries.append(
            (entry_name, start, struct.unpack_from(length_format, directory, at + 120)[0])
        )
    if not entries:
        raise ValueError("no directory")
    wanted = [e for n in names for e in entries if e[0] == n]
    if not wanted:
        return None
    start, stream_size = wanted[0][1:]
    if stream_size >= 4096:
        out = b"".join(sector(n) for n in chain(start, fat, n_sectors))
    else:
        root_start = entries[0][1]
        mini_data = b"".join(sector(n) for n in chain(root_start, fat, n_sectors))
        minifat_raw = b"".join(sector(n) for n in chain(minifat_start, fat, n_sectors))
        minifat = list(struct.unpack(f"<{len(minifat_raw) // 4}I", minifat_raw))
        mini_sectors = len(mini_data) // 64
        out = b"".join(
            mini_data[n * 64 : (n + 1) * 64]
            for n in chain(start, minifat[:mini_sectors], mini_sectors)
        )
    return out[:stream_size]


def _tab_names(book: zipfile.ZipFile) -> dict[str, str]:
    """{"xl/worksheets/sheet1.xml": "人口台账"}: the tab a sheet part is shown as, for messages."""
    try:
        workbook = book.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    targets = _rel_targets(rels)
    names = {}
    for tag in re.finditer(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name = re.search(r'\bname="([^"]*)"', tag.group(0))
        rid = re.search(r'\br:id="([^"]+)"', tag.group(0))
        if name and rid and rid.group(1) in targets:
            names[targets[rid.group(1)]] = html.unescape(name.group(1))
    return names


def _rel_targets(rels: str) -> dict[str, str]:
    """{"rId1": "xl/worksheets/sheet1.xml"} from a workbook's relationships part."""
    targets = {}
    for rel in re.finditer(r"<Relationship\b[^>]*>", rels):
        rid = re.search(r'\bId="([^"]+)"', rel.group(0))
        target = re.search(r'\bTarget="([^"]+)"', rel.group(0))
        if rid and target:
            path = target.group(1).lstrip("/")
            targets[rid.group(1)] = path if path.startswith("xl/") else "xl/" + path
    return targets


def _column_number(letters: bytes) -> int:
    """b"A" → 1, b"XFD" → 16384 (long nonsense stays large)."""
    n = 0
    for c in letters[:8]:
        n = n * 26 + (c - 64)
    return n
