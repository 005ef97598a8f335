"""Building real spreadsheet files for the import tests (no tests in here).

`ledger()` writes an .xlsx with openpyxl (or XlsxWriter where a cached formula value or a
date-formatted cell is needed) from a header row and data rows, optionally under title rows.
"""

import datetime
import io
import zipfile
from collections.abc import Callable

import openpyxl
import xlsxwriter

from conftest import valid_id
from minqing.registry.imports.service import import_file
from minqing.registry.imports.validate import Options


def rezipped(
    data: bytes,
    edit: Callable[[str, bytes], bytes] = lambda _name, content: content,
    *,
    rename: dict[str, str] | None = None,
    add: dict[str, bytes] | None = None,
) -> bytes:
    """The zip `data` written again: each entry's content through `edit(name, content)`, the
    entries in `rename` under their new names, the entries in `add` appended (deflated)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for info in source.infolist():
            content = edit(info.filename, source.read(info.filename))
            if rename and info.filename in rename:
                info = zipfile.ZipInfo(rename[info.filename])
            book.writestr(info, content)
        for name, content in (add or {}).items():
            book.writestr(name, content)
    return out.getvalue()


GRID_A = "330188001001001"
GRID_B = "330188001001002"

HEADERS = [
    "所属网格",
    "户号",
    "户主姓名",
    "与户主关系",
    "姓名",
    "公民身份号码",
    "性别",
    "出生日期",
    "民族",
    "联系电话",
    "现住址",
    "人员类别",
    "备注",
]


def person_row(
    seq: int,
    name: str,
    *,
    head: str | None = None,
    relation: str = "户主",
    number: str = "",
    grid: str = GRID_A,
    address: str = "人民路8号",
    phone: str = "",
    tags: str = "",
    note: str = "",
    male: bool = True,
    birth: datetime.date = datetime.date(1960, 5, 4),
    sex: str = "",
    birth_cell="",
) -> list:
    return [
        grid,
        number,
        head or name,
        relation,
        name,
        valid_id(seq, birth, male),
        sex,
        birth_cell,
        "汉族",
        phone,
        address,
        tags,
        note,
    ]


def xlsx(headers: list, rows: list[list], *, titles: list[str] = (), sheet="人员台账") -> bytes:
    """A plain .xlsx: title rows, then the header, then the rows (all cells as given)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for t in titles:
        ws.append([t])
    ws.append(headers)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_writer(build) -> bytes:
    """An .xlsx written by XlsxWriter: build(workbook, worksheet) fills it."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("人员台账")
    build(wb, ws)
    wb.close()
    return out.getvalue()


def run(user, data: bytes, *, name="台账.xlsx", dry_run=False, grid=None, tags=None):
    """Import through the same service the command line uses."""
    plan, _ = import_file(
        acting_user=user,
        file_name=name,
        data=data,
        options=Options(default_grid=grid, tag_choices=tags or {}),
        dry_run=dry_run,
    )
    return plan


def reasons(plan) -> list[tuple[int, str, str]]:
    """(row, column letter, reason) of every error."""
    return [(e.row, e.column, e.reason) for e in plan.errors]
