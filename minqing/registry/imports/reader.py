"""Spreadsheet files in, rows of cells out: .xlsx/.xlsm/.xls/.ods through python-calamine, .csv
through the standard library.

calamine reads each formula cell's cached value (what Excel last showed) and never evaluates a
formula; a formula that was never calculated reads as empty. Rows are streamed from the parsed
sheet, so a 100 000-row ledger is never held as Python objects all at once.

Above the header there may be title rows ("东门社区人口台账") and the header itself may be two
rows deep with merged cells ("联系方式" over "手机号 | 固定电话"); `find_header` copies each merged
value into every cell it covers, then takes the row naming the most known columns. Below the
header, a merged range's value belongs to every row it covers too (`_merged_filled`).
"""

import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import python_calamine
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from minqing.registry.imports import extent
from minqing.registry.imports.headers import BY_KEY, REQUIRED, SEVERAL, match_header, normalise

ERR_NOT_SPREADSHEET = _(
    "文件“{name}”不是可读取的电子表格。请上传 Excel 文件（.xlsx、.xls）、"
    "WPS/LibreOffice 表格（.ods）或 CSV 文件。"
)
ERR_EMPTY = _("文件“{name}”是空的，没有可导入的数据。")
ERR_TOO_LARGE = _("文件“{name}”有 {size}，超过了 {limit} 的上限。请分成几个文件导入。")
ERR_NO_HEADER = _(
    "文件“{name}”中没有找到表头：表头行须有“姓名”和“公民身份号码”等列名（可下载模板对照）。"
)
ERR_MISSING_COLUMN = _(
    "文件“{name}”的工作表“{sheet}”缺少必填列：{columns}。请在表头中加上这一列"
    "（列名可参照导入模板）后再导入。"
)
ERR_NO_ROWS = _(
    "文件“{name}”只有表头，表头下面没有人员数据（工作表：{sheets}）。请把人员填在表头下面的行里。"
)
ERR_PASSWORD = _("文件“{name}”设置了打开密码，请取消密码后再导入。")
ERR_UNREADABLE = _(
    "文件“{name}”中有无法读取的内容（如超长的单元格、超出范围的日期或时长），"
    "请在 Excel 中检查后重新保存再导入。"
)
ERR_TOO_WIDE = _(
    "文件“{name}”的工作表“{sheet}”用到了第 {rows} 行、第 {cols} 列，范围过大。"
    "请删除表格以外多余的行和列后再导入。"
)
ERR_UNZIPPED_TOO_LARGE = _(
    "文件“{name}”解压后有 {size}，超过了 {limit} 的上限。请分成几个文件导入。"
)
NOTE_NO_HEADER = _("工作表“{sheet}”中没有找到表头，已跳过。")

HEADER_SCAN_ROWS = 30  # title rows and a two-row header all fit in here
# A ledger has a few dozen columns; the cells of a row beyond this are not read.
MAX_COLUMNS = 500
SKIPPED_SHEETS = {normalise(n) for n in ("填写说明", "说明", "导入说明", "instructions")}
_FOOTER_STARTS = ("注", "合计", "填表", "制表", "审核", "负责人", "备注：")
_TOTALS = ("合计", "小计", "总计")

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message is for the user, in the UI language."""


@dataclass
class Sheet:
    name: str
    header_row: int  # 1-based, as Excel shows it
    columns: dict[str, int]  # column key → 0-based index into each row of `rows`
    col_offset: int  # absolute index of the first cell in each row (for column letters)
    headers: dict[str, str]  # column key → header text as written in the file
    ignored: list[str] = field(default_factory=list)  # header texts no column is known by
    repeated: list[str] = field(default_factory=list)  # a second column with the same meaning
    # Further columns of a key in headers.SEVERAL, (index, header as written): a row's first
    # filled one of columns[key] and these is its value.
    more: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    rows: Iterator[tuple[int, list]] = iter(())  # (1-based row number, cells)
    size_hint: int = 0  # about how many rows the sheet has (for choosing how to work)

    def letter(self, key: str) -> str:
        return column_letter(self.col_offset + self.columns[key])


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def human_size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def check_size(name: str, size: int, limit: int) -> None:
    if size == 0:
        raise ImportFileError(ERR_EMPTY.format(name=name))
    if size > limit:
        raise ImportFileError(
            ERR_TOO_LARGE.format(name=name, size=human_size(size), limit=human_size(limit))
        )


def read_sheets(data: bytes, name: str) -> tuple[list[Sheet], list[str]]:
    """All sheets that carry a ledger header, and notes on the sheets that were skipped."""
    if not data:
        raise ImportFileError(ERR_EMPTY.format(name=name))
    renamed = False
    if data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC):
        if data.startswith(ZIP_MAGIC):
            _check_extent(data, name)
        else:
            _check_xls_extent(data, name)
        raw_sheets = _calamine_sheets(data, name)
    else:
        # A spreadsheet's name on a file that is none: a CSV saved as 台账.xlsx is read as the
        # CSV it is; anything else (a renamed .pdf, .docx …) finds no header below and is
        # refused as not a spreadsheet.
        renamed = name.lower().endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"))
        raw_sheets = [_csv_sheet(data, name)]
    sheets, notes = [], []
    any_rows = False
    for sheet_name, rows, merged, col_offset, size_hint in raw_sheets:
        rows = _guarded(rows, name)
        head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
        if any(any(_text(c) for c in r) for r in head):
            any_rows = True
        found = find_header(head, merged, col_offset)
        if found is None:
            if any(any(_text(c) for c in r) for r in head):
                notes.append(NOTE_NO_HEADER.format(sheet=sheet_name))
            continue
        header_index, columns, headers, ignored, repeated, more = found
        missing = [BY_KEY[k].header for k in REQUIRED if k not in columns]
        if missing and not any(any(_text(c) for c in r) for r in head[header_index + 1 :]):
            # Nobody under the header in the first rows: read on for one (a header-only sheet
            # beside the real one adds no one, as before; only rows without the column count).
            found_row = next((r for r in rows if any(_text(c) for c in r)), None)
            if found_row is None:
                missing = []
            rows = iter(() if found_row is None else [found_row])
        if missing:
            # Said once for the file, not as 此项必填 on every row of a column that is not there.
            raise ImportFileError(
                ERR_MISSING_COLUMN.format(name=name, sheet=sheet_name, columns="、".join(missing))
            )
        body = itertools.chain(head[header_index + 1 :], rows)
        below = [m for m in merged if m[0] > header_index]
        if below:
            body = _merged_filled(body, below, header_index + 1)
        sheets.append(
            Sheet(
                name=sheet_name,
                header_row=header_index + 1,
                columns=columns,
                col_offset=col_offset,
                headers=headers,
                ignored=ignored,
                repeated=repeated,
                more=more,
                rows=enumerate(body, start=header_index + 2),
                size_hint=size_hint,
            )
        )
    if not sheets:
        if renamed:
            raise ImportFileError(ERR_NOT_SPREADSHEET.format(name=name))
        if not any_rows:
            raise ImportFileError(ERR_EMPTY.format(name=name))
        raise ImportFileError(ERR_NO_HEADER.format(name=name))
    return sheets, notes


def _merged_filled(body, merges, first: int) -> Iterator[list]:
    """The body's rows with each merged range's value in every cell it covers, as a person
    reads the sheet: a family's 户号, 户主 and 住址 merged down its rows belong to each of them
    (a spreadsheet keeps the value in the first cell only). `first`: the absolute index of the
    body's first row; `merges`: (row, column, last row, last column), 0-based."""
    starting: dict[int, list] = {}
    for m in merges:
        starting.setdefault(m[0], []).append(m)
    active: list = []  # (last row, first column, last column, value)
    for k, row in enumerate(body):
        i = first + k
        active = [a for a in active if a[0] >= i]
        for _first, c1, r2, c2 in starting.get(i, ()):
            if 0 <= c1 < MAX_COLUMNS and c1 < len(row):
                active.append((r2, c1, min(c2, MAX_COLUMNS - 1), row[c1]))
        if active:
            row = list(row)
            for _last, c1, c2, value in active:
                if len(row) <= c2:
                    row.extend([""] * (c2 + 1 - len(row)))
                for c in range(max(c1, 0), c2 + 1):
                    if row[c] is None or row[c] == "":
                        row[c] = value
        yield row


def _guarded(rows, name: str) -> Iterator[list]:
    """The rows, each cut at MAX_COLUMNS; a cell the reader cannot read (a csv field over its
    limit, a date or duration calamine cannot convert — a Rust panic, not an Exception) makes
    the whole file refused with ERR_UNREADABLE instead of a server error."""
    try:
        for row in rows:
            yield row[:MAX_COLUMNS] if len(row) > MAX_COLUMNS else row
    except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
        raise
    except BaseException:  # noqa: BLE001 — pyo3's PanicException derives from BaseException
        raise ImportFileError(ERR_UNREADABLE.format(name=name)) from None


def _check_extent(data: bytes, name: str) -> None:
    """A zipped workbook (.xlsx, .xlsb, .ods) whose sheets reach too far is refused before
    calamine reads it (extent.check_zipped)."""
    limit = settings.IMPORT_MAX_UNZIPPED_BYTES
    try:
        extent.check_zipped(data, limit)
    except extent.TooBig as e:
        raise ImportFileError(
            ERR_UNZIPPED_TOO_LARGE.format(
                name=name, size=human_size(e.size), limit=human_size(limit)
            )
        ) from None
    except extent.TooWide as e:
        raise _too_wide_error(name, e) from None
    except extent.NotReadable:
        raise ImportFileError(ERR_NOT_SPREADSHEET.format(name=name)) from None


def _check_xls_extent(data: bytes, name: str) -> None:
    """The same for an .xls (extent.check_xls)."""
    try:
        extent.check_xls(data)
    except extent.Encrypted:
        raise ImportFileError(ERR_PASSWORD.format(name=name)) from None
    except extent.TooWide as e:
        raise _too_wide_error(name, e) from None
    except extent.NotReadable:
        raise ImportFileError(ERR_NOT_SPREADSHEET.format(name=name)) from None


def _too_wide_error(name: str, e: "extent.TooWide") -> ImportFileError:
    return ImportFileError(ERR_TOO_WIDE.format(name=name, sheet=e.sheet, rows=e.rows, cols=e.cols))


def _calamine_sheets(data: bytes, name: str):
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise ImportFileError(ERR_PASSWORD.format(name=name)) from None
    except Exception:  # calamine raises several kinds for a file that is not a workbook
        raise ImportFileError(ERR_NOT_SPREADSHEET.format(name=name)) from None
    out = []
    for meta in workbook.sheets_metadata:
        if normalise(meta.name).lower() in SKIPPED_SHEETS:
            continue
        if meta.visible != python_calamine.SheetVisibleEnum.Visible:
            continue  # hidden sheets hold dropdown lists and lookups, not people
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        try:
            sheet = workbook.get_sheet_by_name(meta.name)
        except Exception:
            raise ImportFileError(ERR_NOT_SPREADSHEET.format(name=name)) from None
        start = sheet.start
        if start is None:
            continue  # an empty sheet
        # iter_rows yields rows from the first row of the sheet (row 1), but cells only from
        # the first used column: col_offset turns an index back into a column letter.
        col_offset = start[1]
        merged = [
            (r1, c1 - col_offset, r2, c2 - col_offset)
            for (r1, c1), (r2, c2) in (sheet.merged_cell_ranges or [])
        ]
        out.append((meta.name, sheet.iter_rows(), merged, col_offset, sheet.height))
    return out


def _csv_sheet(data: bytes, name: str):
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text[:4096]:
        raise ImportFileError(ERR_NOT_SPREADSHEET.format(name=name))
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    sheet_name = name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "CSV"
    rows = csv.reader(io.StringIO(text, newline=""), dialect)
    return (sheet_name, rows, [], 0, text.count("\n"))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return str(value)


def find_header(head: list[list], merged: list[tuple[int, int, int, int]], col_offset: int = 0):
    """The header among the first rows: (index, columns, headers, ignored, repeated, more) or
    None."""
    if not head:
        return None
    grid = [[_text(c) for c in row] for row in head]
    width = max(len(r) for r in grid)
    for r in grid:
        r.extend([""] * (width - len(r)))
    copied = set()  # cells that hold a merged range's value without being its first cell
    for r1, c1, r2, c2 in merged:
        if r1 >= len(grid) or c1 < 0 or c1 >= width:
            continue
        value = grid[r1][c1]
        for r in range(r1, min(r2, len(grid) - 1) + 1):
            for c in range(max(c1, 0), min(c2, width - 1) + 1):
                grid[r][c] = value
                if (r, c) != (r1, c1):
                    copied.add((r, c))
    best = None
    for index, row in enumerate(grid):
        columns, headers, ignored, repeated, more = {}, {}, [], [], {}
        for col, label in enumerate(row):
            key, written = _label(grid, index, col)
            if key is None:
                if label:
                    ignored.append(label)
                continue
            if key in columns:
                if key in SEVERAL:
                    more.setdefault(key, []).append((col, written))
                elif written != headers[key] or not copied & {(index, col), (index - 1, col)}:
                    repeated.append(written)
                # else a merged header spread over two columns: the first one holds it
                continue
            columns[key] = col
            headers[key] = written
        if "name" in columns and len(columns) >= 2:
            # A tie with the row just above goes to this one (the bottom row of a two-row
            # header); a tie with an earlier row does not (the header printed again on page 2).
            if (
                best is None
                or len(columns) > len(best[1])
                or (len(columns) == len(best[1]) and index == best[0] + 1)
            ):
                best = (index, columns, headers, ignored, repeated, more)
    return best


def _label(grid: list[list[str]], row: int, col: int) -> tuple[str | None, str]:
    """The key a header cell names, also trying 'parent + child' of a two-row header."""
    label = grid[row][col]
    key = match_header(label)
    if key is not None or row == 0:
        return key, label
    parent = grid[row - 1][col]
    if parent and parent != label:
        combined = match_header(parent + label)
        if combined is not None:
            return combined, parent + label
        if not label:  # a header written only in the upper row of a two-row header
            key = match_header(parent)
            if key is not None:
                return key, parent
    return None, label


def is_footer(cells: list[str]) -> bool:
    """A row holding one remark ("填表人：王芳", "注：…"), not a person."""
    filled = [c for c in cells if c]
    if len(filled) != 1:
        return False
    text = filled[0]
    return "：" in text or ":" in text or text.startswith(_FOOTER_STARTS)


def is_totals(row: list) -> bool:
    """A totals line under the people ("合计 | | 2人 | 低保2人"): its first filled cell, in
    any column — a 序号 the import ignores, or a label merged across several — starts with
    合计, 小计 or 总计. The caller still makes sure the row names no one (a valid ID number)."""
    for cell in row:
        if cell is None or cell == "":
            continue
        if not isinstance(cell, str):
            return False  # a 序号 number: a person's row
        label = "".join(cell.split())
        if label:
            return label.startswith(_TOTALS)
    return False


__all__ = [
    "BY_KEY",
    "ImportFileError",
    "Sheet",
    "check_size",
    "column_letter",
    "find_header",
    "is_footer",
    "is_totals",
    "read_sheets",
]
