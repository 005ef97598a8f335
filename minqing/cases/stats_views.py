"""指标统计 and 民情实事解决台账: the case loop's measures per place and period, on a page, in
charts and in Excel; the ledger of solved problems, on a page and in Excel.

Reads only: the numbers come from `selectors.indicators_by_child` / `selectors.indicators` and
the ledger from `selectors.solved_ledger`, so the page, the API and the exports agree. Exports
go through `registry.exports.respond`: streamed, stamped (导出人 / 导出时间 / 范围), formula-safe
and written to the audit log.
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from minqing.accounts.access import home_node, visible_nodes
from minqing.cases import periods, selectors
from minqing.cases.models import DONE_STATUSES, Case, Satisfaction
from minqing.core.masking import mask_phone
from minqing.core.paging import page_of, querystring_without_page
from minqing.core.xlsx import Column
from minqing.grids.models import Level, Node, subtree_q
from minqing.registry.exports import Export, respond

ERR_NO_NODE = _("您没有分配管辖区划，暂无可统计的数据。")

NOT_RATED = gettext_noop("未评价")
ANONYMOUS = gettext_noop("匿名")


# --- the period and the place ------------------------------------------------------------------


@dataclass
class Period:
    start: datetime.date
    end: datetime.date
    errors: list[str] = field(default_factory=list)

    @property
    def words(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    def query(self, **extra) -> str:
        params = {k: v for k, v in extra.items() if v}
        params.update(start=self.start.isoformat(), end=self.end.isoformat())
        return urlencode(params)


def _date(value: str, field: str, default: datetime.date, errors: list[str]) -> datetime.date:
    try:
        return periods.read_day(value, field) or default
    except periods.PeriodError as e:
        errors.append(e.message)
        return default


def presets(today: datetime.date) -> list[tuple[str, datetime.date, datetime.date]]:
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    return [
        (_("本月"), today.replace(day=1), today),
        (_("本季度"), quarter, today),
        (_("本年"), today.replace(month=1, day=1), today),
    ]


def period_of(request) -> Period:
    """start/end from GET; by default this year to date. Bad input: a message and the default."""
    default_start, default_end = periods.default_period(timezone.localdate())
    errors: list[str] = []
    start = _date(request.GET.get("start", ""), "start", default_start, errors)
    end = _date(request.GET.get("end", ""), "end", default_end, errors)
    try:
        periods.check_period(start, end)
    except periods.PeriodError as e:
        errors.append(e.message)
        start, end = default_start, default_end
    return Period(start, end, errors)


def node_of(request, *, required: bool = True) -> Node | None:
    """The node asked for (it must be in the user's part of the tree: else 404), or their home."""
    code = request.GET.get("node", "").strip()
    visible = visible_nodes(request.user)
    if code:
        node = visible.filter(code=code[:20]).exclude(level=Level.BUILDING).first()
        if node is None:
            raise Http404
        return node
    node = home_node(request.user)
    if node is not None and visible.filter(pk=node.pk).exists():
        return node
    return None


def crumbs(user, node: Node) -> list[Node]:
    """The node's ancestors the user may see, top first, for going back up."""
    codes = node.ancestor_codes()[:-1]
    return list(visible_nodes(user).filter(code__in=codes).order_by("level"))


# --- the indicators page --------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _row(node: Node, ind: selectors.Indicators, *, total: bool) -> dict:
    return {
        "node": node,
        "total": total,
        "drill": not total and node.level < Level.GRID,
        "unplaced": node.pk is None,  # the cases at the node itself (selectors.indicators_by_child)
        "accepted": ind.accepted,
        "registered": ind.registered,
        "closed": ind.closed,
        "close_rate": _pct(ind.close_rate),
        "on_time_rate": _pct(ind.on_time_rate),
        "rework_rate": _pct(ind.rework_rate),
        "overdue": ind.overdue,
        "avg_hours": _hours(ind.avg_hours),
        "satisfaction_rate": _pct(ind.satisfaction_rate),
        # the steps (环节指标)
        "register_rate": _pct(ind.register_rate),
        "dispatched": ind.dispatched,
        "dispatch_rate": _pct(ind.dispatch_rate),
        "handled": ind.handled,
        "handle_rate": _pct(ind.handle_rate),
        "closed_late": ind.closed_late,
        "raw": ind,
    }


def _scoped(user, node: Node) -> QuerySet[Case]:
    return selectors.in_subtree(selectors.cases_for(user, array=True), node)


def _months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    out, day = [], start.replace(day=1)
    while day <= end:
        out.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return out


def chart_data(user, node: Node, period: Period, total: selectors.Indicators) -> dict:
    """Monthly accepted and closed counts over the period, and the ratings given (from the
    node's `total` indicators: the cases registered in the period, as the 满意率)."""
    a, b = selectors.period_bounds(period.start, period.end)
    qs = _scoped(user, node)
    tz = timezone.get_current_timezone()

    def by_month(field_name: str, extra: Q) -> dict[datetime.date, int]:
        rows = (
            qs.filter(extra, **{f"{field_name}__gte": a, f"{field_name}__lt": b})
            .annotate(m=TruncMonth(field_name, tzinfo=tz))
            .values("m")
            # No DISTINCT: cases_for repeats no row (its "dispatched to me" is a literal list,
            # not a join), and counting distinct ids sorted a county's year of cases. COUNT(*),
            # not of the id: the months of a county come from the date's index alone.
            .annotate(n=Count("*"))
            .values_list("m", "n")
        )
        out: dict[datetime.date, int] = {}
        for m, n in rows:
            day = m.date() if isinstance(m, datetime.datetime) else m
            out[day] = out.get(day, 0) + n
        return out

    accepted = by_month("accepted_at", Q())
    closed = by_month("closed_at", Q(status__in=DONE_STATUSES))
    months = _months(period.start, period.end)
    counts = {
        Satisfaction.SATISFIED: total.fully_satisfied,
        Satisfaction.FAIRLY: total.satisfied - total.fully_satisfied,
        Satisfaction.UNSATISFIED: total.rated - total.satisfied,
    }
    return {
        "months": [f"{m:%Y-%m}" for m in months],
        "accepted": [accepted.get(m, 0) for m in months],
        "closed": [closed.get(m, 0) for m in months],
        "satisfaction": [{"name": s.label, "value": counts[s]} for s in Satisfaction],
        "labels": {"accepted": "受理数", "closed": "结案数（按结案月份）"},
    }


def indicator_rows(user, node: Node, period: Period) -> list[dict]:
    rows = selectors.indicators_by_child(user, node, period.start, period.end)
    return [_row(n, ind, total=n.pk == node.pk) for n, ind in rows]


@login_required
@require_GET
def stats(request):
    node = node_of(request)
    period = period_of(request)
    today = timezone.localdate()
    context = {"period": period, "node": node, "errors": period.errors}
    if node is None:
        context["errors"] = [*period.errors, ERR_NO_NODE]
        return render(request, "cases/stats.html", context)
    rows = indicator_rows(request.user, node, period)
    context.update(
        rows=rows,
        chart=chart_data(request.user, node, period, rows[-1]["raw"]),
        crumbs=crumbs(request.user, node),
        presets=[
            {
                "label": label,
                "query": Period(s, e).query(node=node.code),
                "active": (s, e) == (period.start, period.end),
            }
            for label, s, e in presets(today)
        ],
        query=period.query(node=node.code),
    )
    return render(request, "cases/stats.html", context)


STATS_COLUMNS = [
    Column("区划", 22),
    Column("编码", 17),
    Column("受理数", 8),
    Column("立案数", 8),
    Column("结案数", 8),
    Column("结案率(%)", 10),
    Column("按期结案率(%)", 12),
    Column("返工率(%)", 10),
    Column("超期数", 8),
    Column("平均处置时长(工作小时)", 14),
    Column("满意率(%)", 10),
    Column("按时立案率(%)", 12),
    Column("派遣数", 8),
    Column("准确派遣率(%)", 12),
    Column("处置数", 8),
    Column("按期处置率(%)", 12),
    Column("超期结案数", 10),
]


def _stats_rows(rows: list[dict]):
    for r in rows:
        ind = r["raw"]
        yield [
            f"合计（{r['node'].name}）" if r["total"] else r["node"].name,
            r["node"].code,
            ind.accepted,
            ind.registered,
            ind.closed,
            ind.close_rate,
            ind.on_time_rate,
            ind.rework_rate,
            ind.overdue,
            ind.avg_hours,
            ind.satisfaction_rate,
            ind.register_rate,
            ind.dispatched,
            ind.dispatch_rate,
            ind.handled,
            ind.handle_rate,
            ind.closed_late,
        ]


@login_required
@require_GET
def stats_xlsx(request):
    node = node_of(request)
    if node is None:
        raise Http404
    period = period_of(request)
    if period.errors:
        return render(request, "cases/stats.html", {"errors": period.errors}, status=400)
    words = [f"区划：{node.name}（{node.code}）", f"期间：{period.words}"]
    export = Export(
        f"指标统计-{node.name}",
        "cases.case",
        STATS_COLUMNS,
        _stats_rows(indicator_rows(request.user, node, period)),
        words,
        node,
    )
    return respond(request, export)


# --- 民情实事解决台账 -----------------------------------------------------------------------------


def ledger_queryset(user, node: Node | None, period: Period) -> QuerySet[Case]:
    qs = selectors.solved_ledger(user, start=period.start, end=period.end)
    if node is not None:
        qs = qs.filter(grid__in=Node.objects.filter(subtree_q(node.path)).values("pk"))
    return qs.select_related("reporter")


def reporter_masked(case: Case) -> str:
    """The reporter's name in full, the phone masked (138****5678); 匿名 for anonymous."""
    if case.anonymous:
        return gettext(ANONYMOUS)
    name = case.reporter.name if case.reporter_id else case.reporter_name
    phone = case.reporter_phone or (case.reporter.phone if case.reporter_id else "")
    return " ".join(p for p in (name, mask_phone(phone)) if p)


def ledger_row(case: Case) -> dict:
    """One row of the ledger in the active language (the .xlsx takes it in Chinese)."""
    return {
        "number": case.number,
        "accepted": timezone.localtime(case.accepted_at).date(),
        "reporter": reporter_masked(case),
        "address": case.address,
        "grid": case.grid.name,
        "category": case.category.name,
        "problem": case.description,
        "title": case.title,
        "result": case.answer or case.result,
        "closed": timezone.localtime(case.closed_at).date() if case.closed_at else None,
        "closed_on_time": bool(case.closed_on_time),
        "on_time": gettext("是") if case.closed_on_time else gettext("否"),
        "satisfaction": str(case.get_satisfaction_display())
        if case.satisfaction
        else gettext(NOT_RATED),
    }


LEDGER_COLUMNS = [
    Column("案件编号", 17),
    Column("受理日期", 11, "date"),
    Column("反映人", 20),
    Column("地点", 24),
    Column("网格", 18),
    Column("类别", 12),
    Column("反映问题", 40),
    Column("处理结果", 40),
    Column("办结日期", 11, "date"),
    Column("是否按期", 8),
    Column("满意度", 9),
]


def _ledger_rows(qs: QuerySet[Case]):
    for case in qs.iterator(chunk_size=2000):
        with translation.override(None):  # an official ledger: Chinese in any UI language
            r = ledger_row(case)
        yield [
            r["number"], r["accepted"], r["reporter"], r["address"], r["grid"], r["category"],
            r["problem"], r["result"], r["closed"], r["on_time"], r["satisfaction"],
        ]  # fmt: skip


def _ledger_request(request):
    code = request.GET.get("node", "").strip()
    node = node_of(request) if code else None
    return node, period_of(request)


@login_required
@require_GET
def ledger(request):
    node, period = _ledger_request(request)
    page = page_of(request, ledger_queryset(request.user, node, period))
    today = timezone.localdate()
    code = node.code if node else ""
    return render(
        request,
        "cases/stats_ledger.html",
        {
            "page": page,
            "rows": [ledger_row(c) for c in page.object_list],
            "period": period,
            "node": node,
            "errors": period.errors,
            "qs_no_page": querystring_without_page(request),
            "export_query": period.query(node=code),
            "presets": [
                {
                    "label": label,
                    "query": Period(s, e).query(node=code),
                    "active": (s, e) == (period.start, period.end),
                }
                for label, s, e in presets(today)
            ],
        },
    )


@login_required
@require_GET
def ledger_xlsx(request):
    node, period = _ledger_request(request)
    if period.errors:
        return render(request, "cases/stats_ledger.html", {"errors": period.errors}, status=400)
    words = [f"办结期间：{period.words}"]
    if node is not None:
        words.insert(0, f"区划：{node.name}（{node.code}）")
    export = Export(
        "民情实事解决台账",
        "cases.case",
        LEDGER_COLUMNS,
        _ledger_rows(ledger_queryset(request.user, node, period)),
        words,
        node,
    )
    return respond(request, export)
