"""The monthly compliance report (干部直接联系群众履职情况) as .xlsx.

The same Report the page shows (duties.selectors.compliance, already scoped), one row per
holder grouped by unit with a subtotal per unit and a total, gaps in red. Like every export it
ends with the stamp 导出人 / 导出时间 / 范围 (core.xlsx.Stamp), writes text only through
write_string after `neutralise` (no formula can run), and leaves one EXPORT entry in the audit
log (registry.exports). It is written cell by cell rather than through core.xlsx.write_xlsx
because the gap cells carry a format.
"""

import tempfile

import xlsxwriter
from django.conf import settings
from django.http import FileResponse
from django.utils import timezone

from minqing.core.xlsx import MIME, Stamp, content_disposition, neutralise, sheet_title
from minqing.duties.selectors import QUOTA_KINDS, QUOTA_LABELS, Report
from minqing.registry.exports import Export, exporter_name, range_words, record_export

RED = "#B91C1C"
RED_FILL = "#FDE2E2"
LEAD_COLUMNS = [("单位", 16), ("姓名", 12), ("职务", 12), ("任务类型", 12), ("所属区划", 14)]
TAIL_COLUMNS = [("差距", 34), ("是否达标", 9)]


def headers() -> list[tuple[str, int]]:
    quota = []
    for k in QUOTA_KINDS:
        quota += [(f"{QUOTA_LABELS[k]}（应）", 8), (f"{QUOTA_LABELS[k]}（实）", 8)]
    return LEAD_COLUMNS + quota + TAIL_COLUMNS


def _title(report: Report) -> str:
    return f"干部直接联系群众履职情况{report.month.code}"


def _filters(report: Report, unit: str = "", gaps_only: bool = False) -> list[str]:
    words = [f"月份：{report.month.label}"]
    if report.month.current:
        words.append(f"统计至 {report.month.ref:%Y-%m-%d}（本月尚未结束）")
    if report.node is not None:
        words.append(f"区划：{report.node.name}（{report.node.code}）")
    if unit:
        words.append(f"单位：{unit}")
    if gaps_only:
        words.append("仅未达标人员")
    return words


def write_report(target, report: Report, stamp: Stamp) -> int:
    """Write the report to a path or binary file; return the number of holder rows."""
    wb = xlsxwriter.Workbook(
        target,
        {
            "in_memory": False,
            "tmpdir": getattr(settings, "FILE_UPLOAD_TEMP_DIR", None),
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    try:
        wb.set_properties(
            {
                "title": _title(report),
                "author": stamp.exporter,
                "comments": "\n".join(stamp.lines()),
            }
        )
        f_head = wb.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "text_wrap": True}
        )
        f_gap = wb.add_format({"font_color": RED, "bg_color": RED_FILL, "bold": True})
        f_gap_text = wb.add_format({"font_color": RED})
        f_sub = wb.add_format({"bold": True, "bg_color": "#F3F4F6"})
        f_sub_gap = wb.add_format({"bold": True, "bg_color": RED_FILL, "font_color": RED})
        f_note = wb.add_format({"italic": True, "font_color": "#595959"})
        ws = wb.add_worksheet(sheet_title(_title(report)))
        cols = headers()
        for c, (name, width) in enumerate(cols):
            ws.set_column(c, c, width)
            ws.write_string(0, c, name, f_head)
        ws.freeze_panes(1, 2)
        ws.repeat_rows(0)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_footer(stamp.footer())

        def text(r, c, value, fmt=None):
            if value:
                ws.write_string(r, c, neutralise(str(value)), fmt)

        def quota_cells(r, cells, sub: bool):
            c = len(LEAD_COLUMNS)
            for cell in cells:
                ws.write_number(r, c, cell["owed"], f_sub if sub else None)
                gap_fmt = f_sub_gap if sub else f_gap
                ws.write_number(
                    r, c + 1, cell["done"], gap_fmt if cell["gap"] else (f_sub if sub else None)
                )
                c += 2
            return c

        r = 0
        count = 0
        for unit, lines in report.by_unit():
            for line in lines:
                r += 1
                count += 1
                h = line.holder
                text(r, 0, h.unit)
                text(r, 1, h.user.full_name or h.user.username)
                text(r, 2, h.position)
                text(r, 3, h.rule.name)
                text(r, 4, h.node.name)
                c = quota_cells(r, line.cells(), sub=False)
                text(r, c, line.gap_words, f_gap_text)
                text(r, c + 1, "是" if line.ok else "否", None if line.ok else f_gap_text)
            r += 1
            text(r, 0, unit.unit, f_sub)
            text(r, 1, f"小计（{unit.holders}人，达标{unit.holders_ok}人）", f_sub)
            for c in range(2, len(LEAD_COLUMNS)):
                ws.write_blank(r, c, None, f_sub)
            c = quota_cells(r, unit.cells(), sub=True)
            text(r, c, f"达标率 {unit.rate_shown}", f_sub)
            ws.write_blank(r, c + 1, None, f_sub)
        r += 1
        text(r, 0, "合计", f_sub)
        text(r, 1, f"{report.total.holders}人，达标{report.total.holders_ok}人", f_sub)
        for c in range(2, len(LEAD_COLUMNS)):
            ws.write_blank(r, c, None, f_sub)
        c = quota_cells(r, report.total.cells(), sub=True)
        text(r, c, f"达标率 {report.total.rate_shown}", f_sub)
        ws.write_blank(r, c + 1, None, f_sub)
        ws.autofilter(0, 0, r, len(cols) - 1)
        lines = [*stamp.lines(), f"记录数：{count}"]
        for i, line in enumerate(lines):
            ws.write_string(r + 2 + i, 0, neutralise(line), f_note)
    finally:
        wb.close()
    return count


def report_response(
    request, report: Report, *, unit: str = "", gaps_only: bool = False
) -> FileResponse:
    export = Export(
        title=_title(report),
        model="duties.dutyholder",
        columns=[],
        rows=[],
        filters=_filters(report, unit, gaps_only),
        node=report.node,
    )
    stamp = Stamp(
        exporter=exporter_name(request.user), scope=range_words(request.user, export.filters)
    )
    fh = tempfile.TemporaryFile(suffix=".xlsx", dir=getattr(settings, "FILE_UPLOAD_TEMP_DIR", None))
    try:
        count = write_report(fh, report, stamp)
        fh.seek(0)
        record_export(request, export, count)
    except BaseException:
        fh.close()
        raise
    day = timezone.localtime(stamp.at).strftime("%Y%m%d")
    response = FileResponse(fh, content_type=MIME)
    response["Content-Disposition"] = content_disposition(f"{export.title}-{day}.xlsx")
    response["Cache-Control"] = "no-store, private"
    return response
