"""Streaming .xlsx exports: rows in, a spreadsheet file out, never the whole file in memory.

XlsxWriter in constant_memory mode writes each row to a temporary file as soon as the next row
starts, and assembles the .xlsx into an anonymous temporary file (deleted when closed), which
FileResponse then sends in blocks. Memory stays flat whatever the number of rows; the caller
feeds rows from `queryset.iterator(chunk_size=…)`.

Safety of the file itself (CSV/formula injection, OWASP):

* cells are written only with write_string / write_number, never write() (which turns text
  starting with "=" into a formula) and never write_formula;
* text that a spreadsheet could take for a formula or a DDE call (starting with = + - @, or a
  tab, CR or LF) is prefixed with a single quote, so it stays inert even after the file is
  re-saved as CSV or pasted elsewhere (see `neutralise`).

Every file ends with a stamp: 导出人 / 导出时间 / 范围, also printed in the page footer.
"""

import datetime
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import xlsxwriter
from django.conf import settings
from django.http import FileResponse
from django.utils import timezone

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's limit is 1 048 576 rows a sheet: the header, the data, a blank row and the stamp.
EXCEL_MAX_ROWS = 1_048_576
FORMULA_START = frozenset("=+-@\t\r\n")
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_EXCEL_FIRST_DATE = datetime.date(1900, 3, 1)  # before this Excel's 1900 calendar is wrong


def neutralise(text: str) -> str:
    """Text that cannot run as a formula: a leading = + - @ (or tab/CR/LF, or any of them after
    leading spaces) gets a single quote in front, as OWASP recommends for spreadsheet exports."""
    if text and (text[0] in FORMULA_START or (text[0] == " " and text.lstrip()[:1] in "=+-@")):
        return "'" + text
    return text


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 12
    # "date" and "datetime" columns get a date number format; others show as written.
    kind: str = "text"


@dataclass(frozen=True)
class Stamp:
    """Who exported what, when: printed under the data and in the page footer."""

    exporter: str
    scope: str
    at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def at_text(self) -> str:
        return timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M:%S")

    def lines(self) -> list[str]:
        return [f"导出人：{self.exporter}", f"导出时间：{self.at_text}", f"范围：{self.scope}"]

    def footer(self) -> str:
        """Excel page footer (≤ 255 characters; "&" is a control character there)."""
        left = f"导出人：{self.exporter}  导出时间：{self.at_text}".replace("&", "&&")[:150]
        return f"&L{left}&R第 &P 页，共 &N 页"


def sheet_title(title: str) -> str:
    """A valid worksheet name: ≤ 31 characters, none of []:*?/\\."""
    return (title.translate(_SHEET_FORBIDDEN).strip("'") or "Sheet1")[:31]


class _Sheets:
    """Worksheets of one workbook, with a new sheet when Excel's row limit is reached."""

    def __init__(self, workbook, columns, title, stamp, max_rows):
        self.workbook = workbook
        self.columns = columns
        self.title = sheet_title(title)
        self.stamp = stamp
        self.max_data_rows = max_rows - 1 - (len(stamp.lines()) + 2 if stamp else 0)
        self.header = workbook.add_format(
            {
                "bold": True,
                "bg_color": "#DDEBF7",
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.note = workbook.add_format({"italic": True, "font_color": "#595959"})
        self.count = 0
        self.sheet = None
        self.rows = 0

    def new_sheet(self):
        self.count += 1
        name = self.title if self.count == 1 else f"{self.title[:26]}({self.count})"
        ws = self.workbook.add_worksheet(name)
        for c, col in enumerate(self.columns):
            ws.set_column(c, c, col.width)
        for c, col in enumerate(self.columns):
            ws.write_string(0, c, col.header, self.header)
        ws.freeze_panes(1, 0)
        ws.repeat_rows(0)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        if self.stamp:
            ws.set_footer(self.stamp.footer())
        self.sheet, self.rows = ws, 0
        return ws

    def finish_sheet(self, total: int, last: bool):
        ws, rows = self.sheet, self.rows
        if self.columns:
            ws.autofilter(0, 0, max(rows, 1), len(self.columns) - 1)
        if self.stamp:
            lines = self.stamp.lines()
            if last:
                lines.append(f"记录数：{total}")
            for i, line in enumerate(lines):
                ws.write_string(rows + 2 + i, 0, neutralise(line), self.note)


@dataclass(frozen=True)
class Sheet:
    """A further worksheet of an export (a report's totals beside its rows): small, so its
    rows are a list; it has the same stamp, and the row count stays the first sheet's."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence]


def write_xlsx(
    target,
    rows: Iterable[Sequence],
    *,
    columns: Sequence[Column],
    title: str,
    stamp: Stamp | None = None,
    max_rows: int = EXCEL_MAX_ROWS,
    tmpdir: str | None = None,
    more: Sequence[Sheet] = (),
) -> int:
    """Write `rows` (sequences of str, int, float, Decimal, bool, date, datetime or None) under
    a header row to `target` (a path or a binary file object); return the number of data rows.

    Rows beyond a sheet's capacity continue on a new sheet with the same header. `more`: further
    sheets, written after.
    """
    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "in_memory": False,
            "tmpdir": tmpdir or getattr(settings, "FILE_UPLOAD_TEMP_DIR", None),
            # write() is never used; these keep it harmless if it ever is.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    try:
        workbook.set_properties(
            {
                "title": title,
                "author": stamp.exporter if stamp else "",
                "comments": "\n".join(stamp.lines()) if stamp else "",
            }
        )
        total = _write_sheets(_Sheets(workbook, list(columns), title, stamp, max_rows), rows)
        taken = {sheet_title(title)}
        for extra in more:
            name = sheet_title(extra.title)
            if name in taken:  # worksheet names are unique, whatever their letter case
                name = sheet_title(f"{extra.title[:26]}({len(taken) + 1})")
            taken.add(name)
            _write_sheets(_Sheets(workbook, list(extra.columns), name, stamp, max_rows), extra.rows)
    finally:
        workbook.close()
    return total


def _write_sheets(sheets: _Sheets, rows: Iterable[Sequence]) -> int:
    """`rows` on the sheets' first worksheet and as many more as Excel's row limit needs."""
    ws = sheets.new_sheet()
    write_string, write_number = ws.write_string, ws.write_number
    date_fmt, datetime_fmt = sheets.date, sheets.datetime
    limit = sheets.max_data_rows
    total = 0
    r = 0
    for row in rows:
        if r >= limit:
            sheets.rows = r
            sheets.finish_sheet(total, last=False)
            ws = sheets.new_sheet()
            write_string, write_number = ws.write_string, ws.write_number
            r = 0
        r += 1
        total += 1
        for c, v in enumerate(row):
            t = type(v)
            if t is str:
                if v:
                    if v[0] in FORMULA_START or v[0] == " ":
                        v = neutralise(v)
                    write_string(r, c, v)
            elif v is None:
                continue
            elif t is int or t is float:
                write_number(r, c, v)
            elif t is bool:
                write_string(r, c, "是" if v else "否")
            elif t is datetime.date:
                if v >= _EXCEL_FIRST_DATE:
                    write_number(r, c, (v - _EXCEL_EPOCH).days, date_fmt)
                else:
                    write_string(r, c, v.isoformat())
            elif t is datetime.datetime:
                if timezone.is_aware(v):
                    v = timezone.localtime(v)
                d = v.date()
                if d >= _EXCEL_FIRST_DATE:
                    seconds = v.hour * 3600 + v.minute * 60 + v.second
                    write_number(r, c, (d - _EXCEL_EPOCH).days + seconds / 86400, datetime_fmt)
                else:
                    write_string(r, c, v.strftime("%Y-%m-%d %H:%M:%S"))
            elif t is Decimal:
                write_number(r, c, float(v))
            else:
                write_string(r, c, neutralise(str(v)))
    sheets.rows = r
    sheets.finish_sheet(total, last=True)
    return total


def content_disposition(filename: str) -> str:
    """attachment; an ASCII fallback name and the real (Chinese) name as RFC 5987/6266 ask."""
    stem = filename.removesuffix(".xlsx").encode("ascii", "ignore").decode()
    stem = "".join(c for c in stem if c.isalnum() or c in "-_.").strip("-_.")
    ascii_name = f"export-{stem}.xlsx" if stem else "export.xlsx"
    quoted = urllib.parse.quote(filename, safe="")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


def xlsx_response(
    rows: Iterable[Sequence],
    *,
    columns: Sequence[Column],
    title: str,
    filename: str,
    stamp: Stamp | None = None,
    on_written: Callable[[int], None] | None = None,
    max_rows: int = EXCEL_MAX_ROWS,
    more: Sequence[Sheet] = (),
) -> FileResponse:
    """Write the workbook into an anonymous temporary file and send it in blocks.

    The temporary file has no name on disk and disappears when the response closes it.
    `on_written(row_count)` runs once the file is complete (e.g. to write the audit entry).
    """
    tmpdir = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
    fh = tempfile.TemporaryFile(suffix=".xlsx", dir=tmpdir)
    try:
        count = write_xlsx(
            fh,
            rows,
            columns=columns,
            title=title,
            stamp=stamp,
            max_rows=max_rows,
            tmpdir=tmpdir,
            more=more,
        )
        fh.seek(0)
        if on_written is not None:
            on_written(count)
    except BaseException:
        fh.close()
        raise
    response = FileResponse(fh, content_type=MIME)
    response.block_size = 256 * 1024
    response["Content-Disposition"] = content_disposition(filename)
    response["Cache-Control"] = "no-store, private"
    response.row_count = count
    return response
