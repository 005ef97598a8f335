"""Staff pages of the case loop (phone first): file a case, lists, inbox, overdue, map, the case.

Thin views: read the request, call one selector or service, render. What a case needs and who
may do what is decided in cases.services; what a user may see in cases.selectors (a case
outside the user's scope answers 404 on every URL that names it).
"""

import functools
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from minqing.accounts.access import (
    get_scoped_or_404,
    home_node,
    node_visible,
    user_assignments,
    visible_nodes,
    within_communities,
)
from minqing.accounts.models import User
from minqing.assistance.handover import helper_of_user
from minqing.cases import handover as handovers
from minqing.cases import listing, selectors, services
from minqing.cases.forms import ActionForm, CaseForm, HandoverForm, category_choices
from minqing.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseType,
    Category,
    Channel,
    Priority,
    Satisfaction,
    Status,
    ZoneKind,
    reporter_phone_shown,
)
from minqing.cases.workflow import TRANSITIONS, event_label
from minqing.core import statements, workdays
from minqing.core.digits import positive_id
from minqing.core.forms import apply_errors, once_token, save_once
from minqing.core.i18n import source, source_choices
from minqing.core.paging import querystring_without_page
from minqing.core.xlsx import Column
from minqing.grids.models import Level, Node, subtree_q
from minqing.registry import exports
from minqing.registry.models import Household

# What the people in an inbox are waiting for, by the case's status, in the loop's order.
_WAITING_LABELS = {
    "register": gettext_lazy("待立案"),
    "dispatch": gettext_lazy("待派遣"),
    "handle": gettext_lazy("待处置"),
    "verify": gettext_lazy("待核查"),
    "callback": gettext_lazy("待回访"),
    # Not a status: a request for more time the user decides (selectors.deciding_q).
    "decide": gettext_lazy("待审批延期"),
}
WAITING = [
    (key, _WAITING_LABELS[key], statuses) for key, statuses in selectors.WAITING_STATUSES.items()
]
WAITING_BY_STATUS = {s: (key, label) for key, label, statuses in WAITING for s in statuses}
DECIDE = selectors.DECIDE


MAP_NODES = 6  # the most assignment areas drawn under a map


# --- small helpers ---------------------------------------------------------------------------


class _Words:
    """The words of the remaining-time column, translated once per list (not per row)."""

    def __init__(self):
        self.days, self.hours = _("%(n)s个工作日"), _("%(n)s小时")
        self.left, self.late, self.late_by = _("剩余 %(t)s"), _("已超期"), _("已超期 %(t)s")


def _remaining_text(hours: float, words: _Words | None = None) -> str:
    """Working time in words: "2个工作日3.5小时"."""
    words = words or _Words()
    start, end = workdays.WORKDAY_START, workdays.WORKDAY_END
    day = (end.hour - start.hour) + (end.minute - start.minute) / 60 or 8
    hours = round(abs(hours), 1)
    days, rest = int(hours // day), round(hours % day, 1)
    parts = []
    if days:
        parts.append(words.days % {"n": days})
    if rest or not days:
        parts.append(words.hours % {"n": f"{rest:g}"})
    return "".join(parts)


def _decorate(case, now, words: _Words | None = None):
    """Display values for a row or the case page: lateness colour and remaining working time."""
    case.lateness = selectors.lateness(case, now)
    case.remaining = None
    if case.is_open and case.deadline:
        words = words or _Words()
        hours = workdays.working_hours_between(now, case.deadline)
        if hours > 0 or case.deadline >= now:
            case.remaining = words.left % {"t": _remaining_text(hours, words)}
        elif hours > -0.05:
            # Late, but out of working hours since the deadline: no working time has passed.
            case.remaining = words.late
        else:
            case.remaining = words.late_by % {"t": _remaining_text(hours, words)}
    waiting = WAITING_BY_STATUS.get(case.status)
    case.waiting_key, case.waiting_label = waiting if waiting else ("", "")
    return case


def _decorate_page(page):
    now, words = timezone.now(), _Words()
    for case in page.object_list:
        _decorate(case, now, words)
    return page


def _ids_page(request, qs, *, head: list[int], count: int):
    """Page `page` of qs as decorated list rows (cases.listing), its first ids known."""
    return _decorate_page(listing.page_of_ids(request, qs, head=head, count=count))


def _map_nodes(user) -> list[Node]:
    """The areas a user works in (their assignment nodes), outermost first, for the maps:
    those they may see (a cadre's county assignment, 仅本人, draws no county outline)."""
    nodes = sorted(
        {a.node for a in user_assignments(user) if node_visible(user, a.node)}, key=lambda n: n.path
    )
    nodes = [n for n in nodes if not any(n is not m and n.path.startswith(m.path) for m in nodes)]
    if not nodes:
        node = home_node(user)
        nodes = [node] if node and node_visible(user, node) else []
    return nodes[:MAP_NODES]


def _geojson_urls(nodes) -> str:
    return " ".join(f"/tree/{n.code}/geojson" for n in nodes)


# --- filing a case ---------------------------------------------------------------------------


@login_required
def case_new(request):
    user = request.user
    initial = {}
    household = None
    hid = request.GET.get("household", "")
    if hid:
        pk = positive_id(hid)
        if pk is None:
            raise Http404
        household = get_scoped_or_404(user, Household.objects.select_related("grid"), pk=pk)
        initial = {
            "household": household.pk,
            "grid": household.grid.code,
            "address": household.address,
            "channel": Channel.VISIT,
        }
    posted = request.method == "POST"
    form = CaseForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        user=user,
        initial=initial,
        household=household,
    )
    if not initial.get("grid"):
        only = list(form.fields["grid"].queryset[:2])
        if len(only) == 1:
            form.initial["grid"] = only[0].code
    status = 200
    if posted:

        def save():
            with transaction.atomic():
                case = services.case_accept(acting_user=user, data=form.service_data())
                photos = form.cleaned_data.get("photos") or []
                if photos:
                    services.case_add_photos(
                        acting_user=user, case=case, files=photos, stage="受理"
                    )
            return case

        def receipt(case):
            text = _("已受理，案件编号 %(number)s。") % {"number": case.number}
            if case.reporter_phone_last4:
                text += _("群众可凭案件编号和联系电话后四位查询办理进度。")
            return text

        done = save_once(
            request,
            form,
            save,
            url=lambda case: f"/cases/{case.number}/",
            again=_("这份案件已经提交过，没有重复受理。"),
            saved=receipt,
            fallback="/cases/",
            refused=lambda exc: form.add_error(None, str(exc)),
        )
        if done is not None:
            return done
        status = 400
    nodes = _map_nodes(user)
    return render(
        request,
        "cases/new.html",
        {
            "form": form,
            "household": household,
            "geojson_urls": _geojson_urls(nodes),
            "has_grids": form.fields["grid"].queryset.exists(),
            "once": once_token(request),
        },
        status=status,
    )


# --- lists -----------------------------------------------------------------------------------


def _search(request):
    """The list's filters, read from GET and applied to the user's visible cases.

    Returns (queryset, the filters for the template, the filters in words for the export).
    The words go into the export's stamp and its audit entry: Chinese, like the ledger.
    """
    user, g = request.user, request.GET
    now = timezone.now()
    f = {
        "q": g.get("q", "").strip()[:50],
        "status": g.get("status", "") if g.get("status") in Status.values else "",
        "priority": g.get("priority", "") if g.get("priority") in Priority.values else "",
        "lateness": g.get("lateness", "") if g.get("lateness") in ("late", "due") else "",
        "category": None,
        "node": None,
    }
    code = g.get("category", "").strip()[:20]
    if code:
        f["category"] = Category.objects.filter(code=code).first()
    node_code = g.get("node", "").strip()[:20]
    if node_code:
        f["node"] = visible_nodes(user).filter(code=node_code).first()

    qs = selectors.cases_for(user, array=True)
    words = []
    if node_code and f["node"] is None:
        # A place not seen (or mistyped, or a link from another user): nothing, and saying so —
        # not every case, as if the filter had been applied.
        f["unknown_node"] = node_code
        qs = qs.none()
        words.append(f"区划：{node_code}（不存在或不在范围内）")
    if f["q"]:
        qs = selectors.matching_text(qs, f["q"], user)
        words.append(f"关键词“{f['q']}”")
    if f["status"]:
        qs = qs.filter(status=f["status"])
        words.append(f"状态：{source(Status(f['status']).label)}")
    if f["category"] is not None:
        c = f["category"]
        qs = qs.filter(Q(category=c) | Q(category__parent=c))
        words.append(f"类别：{c}")
    if f["priority"]:
        qs = qs.filter(priority=f["priority"])
        words.append(f"紧急程度：{source(Priority(f['priority']).label)}")
    if f["lateness"] == "late":
        qs = qs.filter(status__in=OPEN_STATUSES, deadline__lt=now)
        words.append("已超期")
    elif f["lateness"] == "due":
        qs = qs.filter(status__in=OPEN_STATUSES, remind_at__lte=now, deadline__gte=now)
        words.append("临期")
    if f["node"] is not None:
        n = f["node"]
        qs = qs.filter(grid__in=Node.objects.filter(subtree_q(n.path)).values("pk"))
        words.append(f"区划：{n.name}（{n.code}）")
    return selectors.with_list_columns(qs), f, words


def _category_options() -> list[dict]:
    out = []
    for value, label in category_choices()[1:]:
        if isinstance(label, list | tuple):
            out.append({"group": value, "options": label})
        else:
            out.append({"group": "", "options": [(value, label)]})
    return out


def _node_choices(user) -> list[dict]:
    """The place filter's options ({pk, code, name}), in tree order."""
    return list(
        visible_nodes(user)
        .filter(level__in=(Level.STREET, Level.COMMUNITY, Level.ZONE, Level.GRID))
        .order_by("path")
        .values("pk", "code", "name")[:300]
    )


# The all-cases list of a community or less is read as ids up to this many (one statement
# gives its count and every page); beyond, it is counted and paged by the database.
SMALL_LIST_CAP = 2000


@login_required
@require_GET
def case_list(request):
    qs, f, _words = _search(request)
    node = f["node"]
    if within_communities(request.user) or (node is not None and node.level >= Level.COMMUNITY):
        # A community's cases, read whole (ids only) and sorted: asked for one page by date,
        # PostgreSQL walked the county's date index backwards through ≈ 12 000 others' cases.
        ids = list(qs.values_list("pk", flat=True)[: SMALL_LIST_CAP + 1])
        count = len(ids) if len(ids) <= SMALL_LIST_CAP else qs.count()
        page = _ids_page(request, qs, head=ids, count=count)
    else:
        page = _decorate_page(listing.page_of_rows(request, qs))
    context = {
        "page": page,
        "rows": listing.rows_html(page.object_list),
        "qs_no_page": querystring_without_page(request),
        "f": f,
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "categories": _category_options(),
        "nodes": _node_choices(request.user),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "cases/list_results.html", context)
    return render(request, "cases/list.html", context)


EXPORT_COLUMNS = [
    Column("案件编号", 17),
    Column("受理时间", 17, "datetime"),
    Column("来源渠道", 9),
    Column("诉求类型", 8),
    Column("类别", 16),
    Column("紧急程度", 8),
    Column("事项", 24),
    Column("地点", 28),
    Column("所属网格", 18),
    Column("反映人", 10),
    Column("联系电话", 14),
    Column("状态", 8),
    Column("当前责任层级", 16),
    Column("处置人/部门", 14),
    Column("本环节时限", 17, "datetime"),
    Column("超期", 8),
    Column("结案时间", 17, "datetime"),
    Column("按期结案", 8),
    Column("满意度", 8),
]
EXPORT_FIELDS = (
    "number",
    "accepted_at",
    "channel",
    "case_type",
    "category__name",
    "priority",
    "title",
    "address",
    "grid__name",
    "anonymous",
    "reporter_name",
    "reporter__name",
    "reporter_phone",
    "status",
    "level_node__name",
    "handler_user__full_name",
    "handler_user__username",
    "handler_unit__name",
    "deadline",
    "late",
    "closed_at",
    "closed_on_time",
    "satisfaction",
    "reporter__phone",  # a reporter on file: their phone is theirs, as the case page shows it
)


def _labels(choices) -> dict:
    # The ledger is an official Chinese document: headers and values stay Chinese in English.
    return source_choices(choices)


def export_rows(qs):
    """The list's rows as the screen shows them: the reporter's phone only ever masked."""
    now = timezone.now()
    channel, ctype, prio = _labels(Channel), _labels(CaseType), _labels(Priority)
    status, sat = _labels(Status), _labels(Satisfaction)
    open_ = set(OPEN_STATUSES)
    for row in qs.values_list(*EXPORT_FIELDS).iterator(chunk_size=exports.CHUNK):
        (number, accepted, ch, ct, cat, pr, title, address, grid, anonymous, rname, pname,
         phone, st, level, hname, huser, unit, deadline, late, closed, on_time,
         satisfaction, filed_phone) = row  # fmt: skip
        # As the indicators' 超期数 counts (cases.selectors._counts): past the limit now, closed
        # after it, or ever past a stage's.
        if st in open_ and deadline is not None and deadline < now:
            lateness = "已超期"
        elif on_time is False:
            lateness = "超期结案"
        elif late:
            lateness = "曾超期"
        else:
            lateness = "否"  # a blank would read as "not filled in", and cannot be filtered
        yield [
            number,
            accepted,
            channel.get(ch, ""),
            ctype.get(ct, ""),
            cat,
            prio.get(pr, ""),
            title,
            address,
            grid,
            "匿名" if anonymous else (pname or rname or ""),
            reporter_phone_shown(anonymous, phone, filed_phone),
            status.get(st, ""),
            level,
            unit or hname or huser or "",
            deadline if st in open_ else None,
            lateness,
            closed,
            {True: "是", False: "否"}.get(on_time, ""),
            sat.get(satisfaction, ""),
        ]


@login_required
@require_GET
def case_export(request):
    """The list page's cases, with its filters, as .xlsx (stamped and audited)."""
    qs, f, words = _search(request)
    export = exports.Export(
        "案件台账", "cases.case", EXPORT_COLUMNS, export_rows(qs), words, f["node"]
    )
    return exports.respond(request, export)


# A list of at most this many cases is read as ids in one query and counted in Python (its
# pages are cut from the ids); a longer one is counted by the database, and its first pages
# are still cut from the ids already read.
LIST_CAP = 200


@login_required
@require_GET
def inbox(request):
    user = request.user
    wait = request.GET.get("wait", "")
    chosen = next((s for key, _label, s in WAITING if key == wait), None)
    head = selectors.inbox_head(user, LIST_CAP + 1)
    deciding = selectors.inbox_deciding(user)
    counts = Counter()
    if len(head) <= LIST_CAP:

        def key_of(status, decides):
            return DECIDE if decides else WAITING_BY_STATUS.get(status, ("", ""))[0]

        for _pk, status, decides in head:
            counts[key_of(status, decides)] += 1
        ids = [
            pk for pk, status, decides in head if chosen is None or key_of(status, decides) == wait
        ]
        page = _ids_page(request, lambda: selectors.inbox_for(user), head=ids, count=len(ids))
    else:
        base = selectors.inbox_for(user)
        grouped = base.order_by().values("status")
        for row in grouped.annotate(n=Count("id"), d=Count("id", filter=deciding)):
            counts[WAITING_BY_STATUS.get(row["status"], ("", ""))[0]] += row["n"] - row["d"]
            counts[DECIDE] += row["d"]
        if chosen is None:
            ids = [row[0] for row in head]
            page = _ids_page(request, base, head=ids, count=sum(counts.values()))
        else:
            qs = selectors.inbox_waiting(base, wait, deciding)
            page = _ids_page(request, qs, head=[], count=counts.get(wait, 0))
    label = dict((key, label) for key, label, _statuses in WAITING)[DECIDE]
    # The page's rows that wait for the user's decision, as the groups counted them: from the
    # head when it has them, else asked (a page past the first LIST_CAP cases).
    decides = {row[0] for row in head if row[2]}
    unread = {c.pk for c in page.object_list if c.extension_pending} - {row[0] for row in head}
    if unread:
        decides |= set(Case.objects.filter(deciding, pk__in=unread).values_list("pk", flat=True))
    if decides:
        for case in page.object_list:
            if case.pk in decides:
                case.waiting_key, case.waiting_label = DECIDE, label
    groups = [
        {"key": key, "label": label, "count": counts.get(key, 0), "active": key == wait}
        for key, label, _statuses in WAITING
    ]
    return render(
        request,
        "cases/inbox.html",
        {
            "page": page,
            "rows": listing.rows_html(page.object_list, show_waiting=True),
            "qs_no_page": querystring_without_page(request),
            "groups": groups,
            "wait": wait if chosen is not None else "",
            "total": sum(counts.values()),
        },
    )


# A grid, and the two nodes above it: where its community is (a case held at a community, or
# in a grid under a zone, counts there too).
_PLACE = ("", "parent__", "parent__parent__")
_PLACE_FIELDS = ("path",) + tuple(
    f"{up}{name}" for up in _PLACE for name in ("level", "code", "name")
)


def _overdue_by_grid(base, head: list[tuple[int, int]] | None) -> tuple[list[dict], dict]:
    """Overdue cases per grid in path order (grid__… keys and n), and {grid id: path} of them.

    Counted from `head` ((case id, grid id) of every overdue case) when it is complete, else
    by the list's queryset, which `base()` builds.
    """
    if head is None:
        # Counted per grid id alone, the places read after: grouping by the eleven columns
        # of the grid and its parents (and counting distinct ids) took a county 0.17 s.
        per_grid = Counter(
            dict(
                base()
                .order_by()
                .values("grid_id")
                .annotate(n=Count("pk"))
                .values_list("grid_id", "n")
            )
        )
        grids = sorted(pk for pk in per_grid if pk is not None)
        places = Node.objects.filter(pk__any_of=grids).values_list("pk", *_PLACE_FIELDS)
    else:
        per_grid = Counter(grid_id for _pk, grid_id in head)
        grids = tuple(sorted(pk for pk in per_grid if pk is not None))
        places = statements.rows(
            ("cases.overdue_places", grids),
            lambda: Node.objects.filter(pk__in=grids).values_list("pk", *_PLACE_FIELDS),
        )
    by_grid = sorted(
        (
            {"grid_id": pk, **{f"grid__{f}": v for f, v in zip(_PLACE_FIELDS, values, strict=True)}}
            | {"n": per_grid[pk]}
            for pk, *values in places
        ),
        key=lambda row: row["grid__path"],
    )
    paths = {row.pop("grid_id"): row["grid__path"] for row in by_grid}
    return by_grid, paths


def _per_community(by_grid: list[dict]) -> list[dict]:
    per_community = Counter()
    names = {}
    for row in by_grid:
        code = None
        for up in _PLACE:
            if row[f"grid__{up}level"] == Level.COMMUNITY:
                code = row[f"grid__{up}code"]
                names[code] = row[f"grid__{up}name"]
                break
        per_community[code] += row["n"]
    return [
        {"code": code, "name": names[code] if code else _("（未定位到社区）"), "n": n}
        for code, n in sorted(per_community.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    ]


@login_required
@require_GET
def overdue(request):
    now = timezone.now()
    head = selectors.overdue_head(request.user, LIST_CAP + 1, now=now)
    complete = len(head) <= LIST_CAP
    base = functools.partial(selectors.overdue_for, request.user, now=now)
    by_grid, paths = _overdue_by_grid(base, head if complete else None)
    total = sum(r["n"] for r in by_grid)
    node = request.GET.get("node", "").strip()[:20]
    picked = visible_nodes(request.user).filter(code=node).first() if node else None
    if picked is None:
        count = len(head) if complete else total
        page = _ids_page(request, base, head=[pk for pk, _grid in head], count=count)
    elif complete:
        ids = [pk for pk, grid in head if paths.get(grid, "").startswith(picked.path)]
        page = _ids_page(request, base, head=ids, count=len(ids))
    else:
        qs = base().filter(grid__in=Node.objects.filter(subtree_q(picked.path)).values("pk"))
        count = sum(r["n"] for r in by_grid if r["grid__path"].startswith(picked.path))
        page = _ids_page(request, qs, head=[], count=count)
    return render(
        request,
        "cases/overdue.html",
        {
            "page": page,
            "rows": listing.rows_html(page.object_list),
            "qs_no_page": querystring_without_page(request),
            "by_grid": by_grid,
            "communities": _per_community(by_grid),
            "node": picked.code if picked else "",
            "total": total,
        },
    )


@login_required
@require_GET
def case_map(request):
    nodes = _map_nodes(request.user)
    return render(request, "cases/map.html", {"geojson_urls": _geojson_urls(nodes)})


@login_required
@require_GET
def zoning_geojson(request):
    return JsonResponse({"type": "FeatureCollection", "features": selectors.zoning_features()})


@login_required
@require_GET
def case_map_json(request):
    return JsonResponse({"cases": selectors.open_on_map(request.user)})


# --- one case ----------------------------------------------------------------------------------


def _actor(user, label: str) -> str:
    if user is None:
        return str(services.ACTOR_LABELS.get(label or services.SYSTEM, label))
    return user.full_name or user.username


def _timeline(case) -> list[dict]:
    rows = []
    events = case.events.select_related(
        "actor", "target_user", "target_unit", "from_node", "to_node"
    )
    for e in events:
        label = event_label(e.action, by_system=e.actor_id is None)
        rows.append(
            {
                "at": e.at,
                "who": _actor(e.actor, e.actor_label),
                "label": label,
                "from_status": e.get_from_status_display() if e.from_status else "",
                "to_status": e.get_to_status_display()
                if e.to_status and e.to_status != e.from_status
                else "",
                "moved": e.to_node
                if e.to_node_id and e.from_node_id and e.to_node_id != e.from_node_id
                else None,
                "target": (
                    _actor(e.target_user, "")
                    if e.target_user_id
                    else (e.target_unit.name if e.target_unit_id else "")
                ),
                "note": e.note_shown,
                "public": e.public,
            }
        )
    return rows


def _action_forms(request, case, bound: ActionForm | None = None) -> list[ActionForm]:
    forms = []
    for action in services.available_actions(request.user, case):
        if bound is not None and bound.action == action:
            forms.append(bound)
        else:
            forms.append(ActionForm(action=action, user=request.user, case=case))
    return forms


def _kept_after_conflict(request, fresh, form: ActionForm) -> ActionForm | None:
    """Someone changed the case first: what this user typed is kept in the same action's form,
    now at the case's new version, when the action is still open to them (photos must be
    chosen again: a browser never refills a file field)."""
    if form.action not in services.available_actions(request.user, fresh):
        return None
    typed = {k: v for k, v in form.cleaned_data.items() if k not in ("version", "photos")}
    kept = ActionForm(
        action=form.action,
        user=request.user,
        case=fresh,
        initial={**typed, "version": fresh.version},
    )
    kept.keep_open = True
    return kept


def _case_page(request, case, *, bound=None, error="", status=200):
    now = timezone.now()
    _decorate(case, now)
    phone = case.reporter_phone_masked
    grid_visible = visible_nodes(request.user).filter(pk=case.grid_id).exists()
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "phone": "" if case.anonymous else phone,
            "photos": list(case.photos.all()),
            "timeline": _timeline(case),
            "extensions": list(case.extensions.select_related("requested_by", "decided_by")),
            "action_forms": _action_forms(request, case, bound),
            "error": error,
            "zoning_label": ZoneKind(case.zoning).label if case.zoning in ZoneKind.values else "",
            "grid_geojson": f"/tree/{case.grid.code}/geojson" if grid_visible else "",
            "handle_remaining": (
                _remaining_text(workdays.working_hours_between(now, case.handle_deadline))
                if case.handle_deadline and case.is_open and case.handle_deadline > now
                else ""
            ),
        },
        status=status,
    )


@login_required
@require_GET
def case_detail(request, number: str):
    case = selectors.case_for(request.user, number)
    return _case_page(request, case)


@login_required
@require_GET
def case_photo(request, number: str, pk: int):
    """A photo of a case the user may see, streamed with its own type (never a public URL)."""
    case = selectors.case_for(request.user, number)
    if not 0 < pk < 2**63:
        raise Http404
    photo = case.photos.filter(pk=pk).first()
    if photo is None:
        raise Http404
    try:
        fh = photo.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    response = FileResponse(fh, content_type=photo.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def case_act(request, number: str, action: str):
    case = selectors.case_for(request.user, number)
    if action not in TRANSITIONS:
        raise Http404
    form = ActionForm(request.POST, request.FILES, action=action, user=request.user, case=case)
    if not form.is_valid():
        if action not in services.available_actions(request.user, case):
            # The form is not on the page to carry its errors (the case moved on while the
            # page was open, or the action was never the user's): say why on top.
            error = services.why_not(request.user, case, action)
            return _case_page(request, case, error=error, status=400)
        return _case_page(request, case, bound=form, status=400)
    kwargs = form.service_kwargs()
    photos = form.cleaned_data.get("photos") or []
    try:
        with transaction.atomic():
            case = services.case_act(acting_user=request.user, case=case, action=action, **kwargs)
            if photos:
                services.case_add_photos(
                    acting_user=request.user, case=case, files=photos, stage=source(form.label)
                )
    except services.CaseConflict as exc:
        fresh = selectors.case_for(request.user, number)
        kept, error = _kept_after_conflict(request, fresh, form), str(exc)
        note = form.cleaned_data.get("note") or ""
        if kept is None and note:
            error += " " + _("您填写的说明未提交：%(note)s") % {"note": note}
        return _case_page(request, fresh, bound=kept, error=error, status=409)
    except services.PermissionDenied as exc:
        fresh = selectors.case_for(request.user, number)
        return _case_page(request, fresh, error=str(exc), status=403)
    except ValidationError as exc:
        apply_errors(form, exc)
        fresh = selectors.case_for(request.user, number)
        if action not in services.available_actions(request.user, fresh):
            # Not offered on the page (a second request for more time from a stale page): its
            # form is not there to carry the reason, so the reason goes on top.
            return _case_page(request, fresh, error=" ".join(exc.messages), status=400)
        return _case_page(request, fresh, bound=form, status=400)
    messages.success(request, _("已%(action)s。") % {"action": form.label})
    try:
        selectors.case_for(request.user, number)
    except Http404:
        # Sent back (退单) or handed on, the case is no longer one the user may open.
        messages.info(request, _("该案件已不在您的办理范围内。"))
        return redirect("/cases/inbox/")
    return redirect(f"/cases/{case.number}/")


# --- 人员交接 ----------------------------------------------------------------------------------


@login_required
def handover(request):
    """One person's open cases handed to another (cases.handover): pick, review, confirm."""
    user = request.user
    if not handovers.may_hand_over(user):
        raise Forbidden(handovers.ERR_NOT_DISPATCHER)
    holders = handovers.holders(user)
    data = request.POST if request.method == "POST" else None
    picked = positive_id(request.GET.get("from", ""))
    form = HandoverForm(
        data,
        holders=holders,
        successors=handovers.successors(user),
        initial={"holder": picked},
    )
    if data is not None and form.is_valid():
        holder = User.objects.get(pk=form.cleaned_data["holder"])
        try:
            done = handovers.hand_over(
                acting_user=user,
                holder=holder,
                successor=form.cleaned_data["successor"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            successor = form.cleaned_data["successor"]
            messages.success(
                request,
                ngettext(
                    "已将 %(n)d 件案件改派给 %(name)s。",
                    "已将 %(n)d 件案件改派给 %(name)s。",
                    len(done.moved),
                )
                % {"n": len(done.moved), "name": successor.full_name or successor.username},
            )
            for number, why in done.skipped:
                messages.warning(
                    request, _("案件 %(number)s 未改派：%(why)s") % {"number": number, "why": why}
                )
            if done.targets_moved:
                messages.success(
                    request,
                    _("已将 %(n)d 户走访对象交给 %(name)s。")
                    % {"n": done.targets_moved, "name": successor.full_name or successor.username},
                )
            for campaign, grid, why in done.targets_skipped:
                messages.warning(
                    request,
                    _("走访活动“%(campaign)s”在%(grid)s的走访对象未交接：%(why)s")
                    % {"campaign": campaign, "grid": grid, "why": why},
                )
            return redirect(f"/cases/handover/?from={holder.pk}")
    elif data is not None:
        picked = positive_id(str(data.get("holder", "")))
    holder = next((h for h in holders if h["id"] == picked), None)
    page = None
    if holder is not None:
        held = handovers.held_cases(user, holder["id"]).order_by("deadline", "id")
        ids = list(held.values_list("pk", flat=True)[: LIST_CAP + 1])
        count = len(ids) if len(ids) <= LIST_CAP else held.count()
        page = _ids_page(request, held, head=ids, count=count)
    return render(
        request,
        "cases/handover.html",
        {
            "form": form,
            "holders": holders,
            "holder": holder,
            "page": page,
            "rows": listing.rows_html(page.object_list) if page else "",
            "qs_no_page": querystring_without_page(request),
            "helper": helper_of_user(user, holder["id"]) if holder else None,
        },
        status=400 if data is not None else 200,
    )
