"""The term report (学期报告) as .xlsx: one sheet per part of the page.

The report is small (a team's members and a term's activities), so the workbook is built in
memory; the safety rules of core.xlsx still hold: cells are written with write_string /
write_number only, every text goes through `neutralise`, and each sheet ends with the stamp
导出人 / 导出时间 / 范围 (also in the page footer). The export writes one audited EXPORT entry.
"""

import datetime as dt
import io

import xlsxwriter
from django.http import HttpResponse
from django.utils import timezone

from minqing.core.audit import client_ip
from minqing.core.i18n import source
from minqing.core.models import AuditAction, AuditEntry
from minqing.core.xlsx import MIME, Stamp, content_disposition, neutralise, sheet_title
from minqing.registry.exports import exporter_name, stamp_scope_words
from minqing.secondments.selectors import TermReport


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _label(obj, field: str) -> str:
    """A choice's label as the ledger writes it (Chinese, whatever the reader's language:
    get_FOO_display() gave "Team leader" to an English reader)."""
    labels = dict(obj._meta.get_field(field).flatchoices)
    return source(labels.get(getattr(obj, field), getattr(obj, field)))


def report_sheets(report: TermReport) -> list[tuple[str, list[str], list[list]]]:
    """(sheet title, headers, rows) of the report, as the page shows it."""
    members = [
        [
            line.member.name,
            _label(line.member, "role"),
            line.member.speciality,
            line.member.turn_start,
            line.member.turn_end,
            line.days,
            line.present,
            line.late,
            line.leave,
            line.absent,
            _percent(line.rate),
            line.activities,
        ]
        for line in report.lines
    ]
    t = report.totals
    members.append(
        ["合计", "", "", None, None, t.days, t.present, t.late, t.leave, t.absent,
         _percent(t.rate), t.activities]
    )  # fmt: skip
    kinds = [[source(k.label), k.count, k.participants] for k in report.kinds]
    kinds.append(["合计", report.activity_count, report.participants])
    activities = [
        [
            a.date,
            _label(a, "kind"),
            a.title,
            "、".join(m.name for m in a.members.all()),
            a.place,
            a.participants,
            a.note,
        ]
        for a in report.activities
    ]
    ending = [
        [m.name, _label(m, "role"), m.speciality, m.turn_start, m.turn_end]
        for m in report.ending_soon
    ]
    return [
        (
            "出勤统计",
            ["姓名", "角色", "学科/专长", "轮换开始", "轮换结束", "登记天数", "出勤", "迟到",
             "请假", "缺勤", "出勤率", "参与活动"],
            members,
        ),
        ("活动统计", ["活动类型", "次数", "受益/参与人数"], kinds),
        ("活动明细", ["日期", "类型", "主题", "参与成员", "地点", "人数", "说明"], activities),
        ("轮换到期", ["姓名", "角色", "学科/专长", "轮换开始", "轮换结束"], ending),
    ]  # fmt: skip


def _write(ws, r: int, c: int, value, day_format) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_string(r, c, "是" if value else "否")
    elif isinstance(value, int | float):
        ws.write_number(r, c, value)
    elif isinstance(value, dt.date):
        # A date cell, as in the other exports: it sorts and filters as a date in Excel.
        ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), day_format)
    else:
        text = neutralise(str(value))
        if text:
            ws.write_string(r, c, text)


def report_workbook(report: TermReport, stamp: Stamp) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    label = source(report.label)  # the ledger is Chinese whatever the UI language
    title = f"{report.secondment.name} {label} {source(report.secondment.report_name)}"
    wb.set_properties(
        {"title": title, "author": stamp.exporter, "comments": "\n".join(stamp.lines())}
    )
    bold = wb.add_format({"bold": True, "font_size": 13})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    head = wb.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "text_wrap": True}
    )
    note = wb.add_format({"italic": True, "font_color": "#595959"})
    for name, headers, rows in report_sheets(report):
        ws = wb.add_worksheet(sheet_title(name))
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_footer(stamp.footer())
        ws.write_string(0, 0, neutralise(f"{title}（{name}）"), bold)
        ws.write_string(
            1,
            0,
            neutralise(
                f"派出单位：{report.secondment.sending_name}　接收单位：{report.secondment.receiving_name}"
                f"　统计区间：{report.start:%Y-%m-%d} 至 {report.end:%Y-%m-%d}"
            ),
        )
        for c, h in enumerate(headers):
            ws.write_string(3, c, h, head)
            ws.set_column(c, c, 14 if c else 12)
        ws.repeat_rows(3)
        for r, row in enumerate(rows, start=4):
            for c, value in enumerate(row):
                _write(ws, r, c, value, day)
        end = 4 + len(rows)
        for i, line in enumerate(stamp.lines()):
            ws.write_string(end + 1 + i, 0, neutralise(line), note)
    wb.close()
    return buffer.getvalue()


def report_response(request, report: TermReport) -> HttpResponse:
    label = source(report.label)
    stamp = Stamp(
        exporter=exporter_name(request.user),
        scope=f"{stamp_scope_words(request.user)}；团队：{report.secondment.name}；{label}",
    )
    content = report_workbook(report, stamp)
    day = timezone.localtime(stamp.at).strftime("%Y%m%d")
    response = HttpResponse(content, content_type=MIME)
    response["Content-Disposition"] = content_disposition(
        f"{report.secondment.name}-{label}{source(report.secondment.report_name)}-{day}.xlsx"
    )
    response["Cache-Control"] = "no-store, private"
    AuditEntry.objects.create(
        actor=request.user,
        action=AuditAction.EXPORT,
        model="secondments.secondment",
        object_id=str(report.secondment.pk),
        object_repr=f"{report.secondment.name} {source(report.secondment.report_name)}（{label}）"[
            :200
        ],
        changes={
            "range": [None, f"{report.start:%Y-%m-%d} 至 {report.end:%Y-%m-%d}"],
            "rows": [None, len(report.lines)],
        },
        ip=client_ip(request),
        node=report.secondment.node,
    )
    return response
