"""The monthly assistance report as .xlsx: the report page's rows, through registry.exports
(stamp 导出人 / 导出时间 / 范围, neutralised cells, one audited EXPORT entry)."""

from collections.abc import Iterator

from minqing.assistance import selectors
from minqing.assistance.models import FundSource
from minqing.core.i18n import source, source_choices, source_text
from minqing.core.xlsx import Column, Sheet
from minqing.registry.exports import Export, respond

FUNDS = source_choices(FundSource)
# (fund source value, column header); "" is money logged without a source (older entries).
FUND_COLUMNS = [(v, label) for v, label in FUNDS.items()]

COLUMNS = [
    Column("帮扶项目", 22),
    Column("帮扶小组", 12),
    Column("帮扶人", 20),
    Column("帮扶对象", 16),
    Column("所在区划", 18),
    Column("结对日期", 11, "date"),
    Column("应联系次数", 10),
    Column("实际联系天数", 11),
    Column("节日/生日走访", 16),
    Column("缺口", 7),
    Column("帮扶记录数", 10),
    *[Column(f"{label}(元)", 12) for _, label in FUND_COLUMNS],
    Column("合计(元)", 12),
]


def _occasions(need) -> str:
    return "；".join(f"{source(o.name)}{'✓' if ok else '未走访'}" for o, ok in need.occasions)


def report_rows(report) -> Iterator[list]:
    for r in report.rows:
        p = r.pairing
        yield [
            p.programme.name,
            p.group.name if p.group_id else "",
            "、".join(
                h.name + ("（已取消资格）" if h.disqualified_on else "") for h in p.helpers.all()
            ),
            source_text(lambda p=p: p.target_name),  # "金磊健户", not "Household of 金磊健"
            p.grid.name,
            p.start,
            r.need.required,
            r.need.made,
            _occasions(r.need),
            r.need.gap,
            r.help_count,
            *[r.money.get(v) for v, _ in FUND_COLUMNS],
            r.total,
        ]


# The report page's tables of totals (按项目, 按小组, 按帮扶人), each a sheet after the rows.
def _group_columns(title: str) -> list[Column]:
    return [
        Column(title, 22),
        Column("结对数", 8),
        Column("应联系", 8),
        Column("实际联系", 9),
        Column("有缺口的结对", 12),
        Column("帮扶记录", 9),
        *[Column(f"{label}(元)", 12) for _, label in FUND_COLUMNS],
        Column("合计(元)", 12),
    ]


def group_rows(groups) -> list[list]:
    return [
        [
            g.name,
            g.pairings,
            g.required,
            g.made,
            g.gaps,
            g.help_count,
            *[g.money.get(v) for v, _ in FUND_COLUMNS],
            g.total,
        ]
        for g in groups
    ]


def total_sheets(report) -> list[Sheet]:
    sheets = [Sheet("按项目", _group_columns("帮扶项目"), group_rows(report.by_programme))]
    if report.by_group:
        sheets.append(Sheet("按小组", _group_columns("帮扶小组"), group_rows(report.by_group)))
    sheets.append(Sheet("按帮扶人", _group_columns("帮扶人"), group_rows(report.by_helper)))
    return sheets


def respond_report(request, params: dict):
    report = selectors.month_report(request.user, **params)
    month = params["month"]
    words = [f"月份：{month:%Y-%m}"]
    if params.get("programme"):
        words.append(f"项目：{params['programme'].name}")
    if params.get("group"):
        words.append(f"小组：{params['group'].name}")
    if params.get("helper"):
        words.append(f"帮扶人：{params['helper'].name}")
    export = Export(
        title=f"结对帮扶月报{month:%Y年%m月}",
        model="assistance.pairing",
        columns=COLUMNS,
        rows=report_rows(report),
        filters=words,
        more=total_sheets(report),
    )
    return respond(request, export)
