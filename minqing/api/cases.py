"""The case loop in the JSON API: everything the case pages do, through the same services.

Reads go through `cases.selectors` (a case outside the caller's scope answers 404 exactly like
one that does not exist); writes go through `cases.services` (ValidationError → 400,
PermissionDenied → 403, CaseConflict → 409). Reporter phones are only ever shown masked.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from ninja.responses import Status as Reply
from pydantic import Field

from minqing.accounts.access import home_node, scope_queryset, visible_nodes
from minqing.accounts.models import User
from minqing.api.errors import payload_names
from minqing.api.schemas import ErrorOut, FieldErrorsOut, InSchema
from minqing.cases import handover as handovers
from minqing.cases import periods, selectors, services, workflow
from minqing.cases.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CasePhoto,
    Category,
    ExtensionStatus,
    Notification,
    Status,
    Unit,
)
from minqing.core.paging import capped_page
from minqing.grids.models import Node, subtree_q
from minqing.registry.models import Household, Person

NUMBER_RE = re.compile(r"\d{8}-\d{6}")
ERR_HOUSEHOLD = _("该家庭不存在或不在您的管辖范围内。")
ERR_REPORTER = _("该人员不存在或不在您的管辖范围内。")
STATUS_FILTER = "|".join([*Status.values, "open", "done"])


# ------------------------------------------------------------------ shapes


class PageParams(InSchema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)


def _page(qs, params: PageParams, convert, **extra):
    start = (params.page - 1) * params.page_size
    items = [convert(o) for o in qs[start : start + params.page_size]]
    return {"items": items, "count": qs.count(), **extra}


class CategoryRef(Schema):
    code: str
    name: str


class CaseRowOut(Schema):
    number: str
    title: str
    category: CategoryRef
    status: str
    status_label: str
    priority: str
    priority_label: str
    grid_code: str
    grid_name: str
    level_node_code: str
    level_node_name: str
    handler: str
    handler_user_id: int | None
    handler_unit_code: str | None
    deadline: datetime.datetime | None
    lateness: str
    late: bool
    accepted_at: datetime.datetime
    # A request for more time waits for a decision (the inbox page's 待审批延期 for deciders).
    extension_pending: bool


class CaseActedOut(Schema):
    """The answer to an action that took the case out of the actor's sight (a department
    member who sends it back): what it is now, nothing more."""

    number: str
    status: str
    status_label: str
    visible: bool = False


class CaseListOut(Schema):
    items: list[CaseRowOut]
    count: int
    # Counted up to core.paging.COUNT_CAP: beyond it `count` is the cap and this is true.
    count_capped: bool = False
    has_next: bool = False


class EventOut(Schema):
    id: int
    at: datetime.datetime
    action: str
    action_label: str
    actor: str
    from_status: str
    to_status: str
    to_status_label: str
    from_node: str | None
    to_node: str | None
    target_user: str | None
    target_unit: str | None
    note: str
    public: bool


class PhotoOut(Schema):
    id: int
    url: str
    stage: str
    content_type: str
    size: int
    uploaded_at: datetime.datetime


class ActionOut(Schema):
    action: str
    label: str
    note_required: bool


class ExtensionOut(Schema):
    working_days: int
    reason: str
    requested_by: str
    requested_at: datetime.datetime


class CaseDetailOut(CaseRowOut):
    public_label: str
    description: str
    channel: str
    channel_label: str
    case_type: str
    case_type_label: str
    reporter: str
    reporter_id: int | None
    reporter_phone_masked: str
    anonymous: bool
    household_id: int | None
    address: str
    lat: float | None
    lng: float | None
    zoning: str
    created_by: str | None
    registered_at: datetime.datetime | None
    dispatched_at: datetime.datetime | None
    fed_back_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    updated_at: datetime.datetime
    stage: str
    handle_deadline: datetime.datetime | None
    closed_on_time: bool | None
    handling_hours: float | None
    rework_count: int
    escalation_count: int
    supervise_count: int
    reopened: bool
    result: str
    answer: str
    cancel_reason: str
    satisfaction: str
    satisfaction_label: str
    rating_note: str
    pending_extension: ExtensionOut | None
    version: int
    actions: list[ActionOut]
    events: list[EventOut]
    photos: list[PhotoOut]


class CaseIn(InSchema):
    """A case as staff file it. Give `grid_code`, or a point (lat, lng) inside one of your grids:
    a point inside your scope places the case in the grid it falls in."""

    category: str = Field(max_length=20, description="案件类别编码，如 0601")
    description: str = Field(max_length=4000)
    title: str = Field("", max_length=100)
    priority: str = Field("", max_length=12, description="urgent / normal")
    channel: str = Field("", max_length=12)
    case_type: str = Field("", max_length=12)
    grid_code: str | None = Field(None, max_length=20)
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    reporter_name: str = Field("", max_length=50)
    reporter_phone: str = Field("", max_length=30)
    anonymous: bool = False
    household_id: int | None = Field(None, ge=1, le=2**62)
    reporter_id: int | None = Field(None, ge=1, le=2**62)
    accept_only: bool = Field(False, description="true: 只受理，暂不立案")


class ActionIn(InSchema):
    """What an action needs: `note` (required by some), `version` (the version you saw: a stale
    one answers 409), `target_user` (dispatch, reassign), `target_unit` (transfer, a unit code), `days`
    (extend_request), `approve` (extend_decide), `satisfaction` (rate), `target_grid` (locate, a
    grid code)."""

    note: str = Field("", max_length=4000)
    version: int | None = Field(None, ge=0, le=2**31)
    target_user: int | None = Field(None, ge=1, le=2**62)
    target_unit: str | None = Field(None, max_length=20)
    days: int | None = Field(None, ge=-1000, le=1000)
    approve: bool | None = None
    satisfaction: str = Field("", max_length=12)
    target_grid: str = Field("", max_length=20)


# ------------------------------------------------------------------ converters


def _label(choices, value) -> str:
    try:
        return str(choices(value).label) if value else ""
    except ValueError:
        return str(value)


def _name(user) -> str:
    return (user.full_name or user.username) if user else ""


def _handler(case: Case) -> str:
    if case.handler_user_id:
        return _name(case.handler_user)
    if case.handler_unit_id:
        return case.handler_unit.name
    return ""


def case_row(case: Case, now=None) -> dict:
    return {
        "number": case.number,
        "title": case.title,
        "category": {"code": case.category.code, "name": case.category.name},
        "status": case.status,
        "status_label": case.get_status_display(),
        "priority": case.priority,
        "priority_label": case.get_priority_display(),
        "grid_code": case.grid.code,
        "grid_name": case.grid.name,
        "level_node_code": case.level_node.code,
        "level_node_name": case.level_node.name,
        "handler": _handler(case),
        "handler_user_id": case.handler_user_id,
        "handler_unit_code": case.handler_unit.code if case.handler_unit_id else None,
        "deadline": case.deadline,
        "lateness": selectors.lateness(case, now),
        "late": case.late
        or case.closed_on_time is False
        or selectors.lateness(case, now) == "late",
        "accepted_at": case.accepted_at,
        "extension_pending": case.extension_pending,
    }


def _event_out(e: CaseEvent) -> dict:
    return {
        "id": e.pk,
        "at": e.at,
        "action": e.action,
        "action_label": str(workflow.event_label(e.action, by_system=e.actor_id is None)),
        "actor": _name(e.actor)
        if e.actor_id
        else str(services.ACTOR_LABELS.get(e.actor_label, e.actor_label)),
        "from_status": e.from_status,
        "to_status": e.to_status,
        "to_status_label": _label(Status, e.to_status),
        "from_node": e.from_node.name if e.from_node_id else None,
        "to_node": e.to_node.name if e.to_node_id else None,
        "target_user": _name(e.target_user) if e.target_user_id else None,
        "target_unit": e.target_unit.name if e.target_unit_id else None,
        "note": e.note_shown,
        "public": e.public,
    }


def photo_url(case: Case, photo: CasePhoto) -> str:
    """The scoped photo view of the case pages (never the media path itself)."""
    return f"/cases/{case.number}/photos/{photo.pk}/"


def case_detail(user, case: Case) -> dict:
    now = timezone.now()
    out = case_row(case, now)
    events = case.events.select_related(
        "actor", "from_node", "to_node", "target_user", "target_unit"
    )
    pending = (
        case.extensions.filter(status=ExtensionStatus.PENDING).select_related("requested_by")
    ).first()
    actions = []
    for name in services.available_actions(user, case):
        t = workflow.TRANSITIONS[name]
        actions.append(
            {
                "action": name,
                "label": str(t.label),
                "note_required": t.note_required and name != "extend_decide",
            }
        )
    out.update(
        public_label=str(workflow.PUBLIC_LABEL.get(case.status, "")),
        description=case.description,
        channel=case.channel,
        channel_label=case.get_channel_display(),
        case_type=case.case_type,
        case_type_label=case.get_case_type_display(),
        reporter=case.reporter_display,
        reporter_id=None if case.anonymous else case.reporter_id,
        reporter_phone_masked=case.reporter_phone_masked,
        anonymous=case.anonymous,
        household_id=case.household_id,
        address=case.address,
        lat=float(case.lat) if case.lat is not None else None,
        lng=float(case.lng) if case.lng is not None else None,
        zoning=case.zoning,
        created_by=_name(case.created_by) if case.created_by_id else None,
        registered_at=case.registered_at,
        dispatched_at=case.dispatched_at,
        fed_back_at=case.fed_back_at,
        closed_at=case.closed_at,
        updated_at=case.updated_at,
        stage=case.stage,
        handle_deadline=case.handle_deadline,
        closed_on_time=case.closed_on_time,
        handling_hours=case.handling_hours,
        rework_count=case.rework_count,
        escalation_count=case.escalation_count,
        supervise_count=case.supervise_count,
        reopened=case.reopened,
        result=case.result,
        answer=case.answer,
        cancel_reason=case.cancel_reason,
        satisfaction=case.satisfaction,
        satisfaction_label=case.get_satisfaction_display() if case.satisfaction else "",
        rating_note=case.rating_note,
        pending_extension=(
            {
                "working_days": pending.working_days,
                "reason": pending.reason,
                "requested_by": _name(pending.requested_by),
                "requested_at": pending.requested_at,
            }
            if pending
            else None
        ),
        version=case.version,
        actions=actions,
        events=[_event_out(e) for e in events],
        photos=[
            {
                "id": p.pk,
                "url": photo_url(case, p),
                "stage": p.stage,
                "content_type": p.content_type,
                "size": p.size,
                "uploaded_at": p.uploaded_at,
            }
            for p in case.photos.all()
        ],
    )
    return out


# ------------------------------------------------------------------ helpers


def _case(request, number: str) -> Case:
    """A case the caller may see, by number; anything else (including a malformed number) 404."""
    if not NUMBER_RE.fullmatch(number or ""):
        raise Http404
    return selectors.case_for(request.user, number)


def _category_ids(code: str) -> list[int] | None:
    """The category with this code and all below it, or None when there is no such category."""
    root = Category.objects.filter(code=code).values_list("pk", flat=True).first()
    if root is None:
        return None
    ids, frontier = [root], [root]
    for _depth in range(10):
        frontier = list(Category.objects.filter(parent__in=frontier).values_list("pk", flat=True))
        if not frontier:
            break
        ids += frontier
    return ids


def _rename_errors(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """Errors named after the API's fields (grid_code, household_id) rather than the model's."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError(
        {names.get(k, k): v for k, v in exc.message_dict.items()},
    )


# ------------------------------------------------------------------ cases

cases = Router(tags=["cases"])


class CaseFilter(PageParams):
    status: str = Field("", pattern=rf"^({STATUS_FILTER})?$", description="或 open / done")
    category: str = Field("", max_length=20, description="类别编码（含下级类别）")
    priority: str = Field("", pattern=r"^(urgent|normal)?$")
    late: bool | None = Field(
        None, description="true: 曾超期、超期结案或已超期未办结（同指标的超期数）"
    )
    grid: str = Field("", max_length=20, description="区划编码（含下级）")
    q: str = Field("", max_length=100, description="编号、事项、地点、描述、反映人")


def _filtered(user, qs, f: CaseFilter):
    if f.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif f.status == "done":
        qs = qs.filter(status__in=DONE_STATUSES)
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.category:
        ids = _category_ids(f.category)
        qs = qs.filter(category__in=ids) if ids else qs.none()
    if f.priority:
        qs = qs.filter(priority=f.priority)
    if f.late is not None:
        late = selectors.ever_late(timezone.now())
        qs = qs.filter(late) if f.late else qs.exclude(late)
    if f.grid:
        node = visible_nodes(user).filter(code=f.grid).first()
        if node is None:
            return qs.none()
        qs = qs.filter(grid__in=Node.objects.filter(subtree_q(node.path)).values("pk"))
    return selectors.matching_text(qs, f.q, user)


def _list(qs, f: PageParams):
    """A page of cases, the total counted up to COUNT_CAP (as the people search): an exact
    count of a county's 500 000 cases cost more than the rest of the answer."""
    now = timezone.now()
    page = capped_page(selectors.with_list_columns(qs), f.page, f.page_size)
    return {
        "items": [case_row(c, now) for c in page],
        "count": page.count,
        "count_capped": page.count_capped,
        "has_next": page.has_next(),
    }


CASE_LIST_DESCRIPTION = (
    "Cases are counted up to 1000: with more, `count` is 1000 and `count_capped` is true "
    "(超过1000条). `has_next` says whether page + 1 has rows."
)


@cases.get(
    "/",
    response=CaseListOut,
    summary="Cases in the caller's scope, newest first",
    description=CASE_LIST_DESCRIPTION,
)
def case_list(request, f: Query[CaseFilter]):
    return _list(_filtered(request.user, selectors.cases_for(request.user, array=True), f), f)


class InboxParams(PageParams):
    wait: str = Field(
        "",
        pattern="^(|" + "|".join(selectors.WAITING_STATUSES) + ")$",
        description="只列等待某一步的案件（与待办页的分组相同）："
        "register 待立案、dispatch 待派遣、handle 待处置、verify 待核查、callback 待回访、"
        "decide 待审批延期；留空为全部",
    )


@cases.get(
    "/inbox/",
    response=CaseListOut,
    summary="待办: cases waiting for the caller",
    description=CASE_LIST_DESCRIPTION,
)
def case_inbox(request, f: Query[InboxParams]):
    base = selectors.inbox_for(request.user)
    if f.wait:
        base = selectors.inbox_waiting(base, f.wait, selectors.inbox_deciding(request.user))
    return _list(base, f)


@cases.get("/overdue/", response=CaseListOut, summary="Open cases past their deadline")
def case_overdue(request, f: Query[PageParams]):
    return _list(selectors.overdue_for(request.user), f)


class IndicatorFilter(InSchema):
    node: str = Field("", description="区划编码；默认为您所在的最高层级")
    start: str = Field("", description="YYYY-MM-DD（2000–2100 年）；默认本年 1 月 1 日，同统计页面")
    end: str = Field("", description="YYYY-MM-DD；默认今天；与开始日期相距不超过三年")


@cases.get(
    "/indicators",
    response={200: dict, 400: FieldErrorsOut, 404: ErrorOut},
    summary="结案率、按期结案率、返工率、满意率、按时立案率、准确派遣率、按期处置率… per child of a node, plus the node's total",
)
def case_indicators(request, f: Query[IndicatorFilter]):
    if f.node:
        node = None if len(f.node) > 20 else visible_nodes(request.user).filter(code=f.node).first()
    else:
        node = home_node(request.user)
        if node is not None and not visible_nodes(request.user).filter(pk=node.pk).exists():
            node = None
    if node is None:
        raise Http404
    try:
        start, end = periods.read_period(f.start, f.end, timezone.localdate())
    except periods.PeriodError as e:
        raise ValidationError({e.field: e.message}) from None
    rows = []
    for n, ind in selectors.indicators_by_child(request.user, node, start, end):
        rows.append(
            {
                "node_code": n.code,
                "node_name": n.name,
                "level_label": n.level_label,
                "total": n.pk == node.pk,
                "unplaced": n.pk is None,
                **ind.as_dict(),
            }
        )
    return {
        "node": node.code,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "items": rows,
        "count": len(rows),
    }


def _scoped_pick(request, model, pk: int | None, field: str, message: str):
    if pk is None:
        return None
    obj = scope_queryset(request.user, model.objects.all()).filter(pk=pk).first()
    if obj is None:
        raise ValidationError({field: message})
    return obj


@cases.post(
    "/",
    response={201: CaseDetailOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="受理 (and 立案) a case",
)
def case_create(request, payload: CaseIn):
    grid = None
    if payload.grid_code:
        grid = visible_nodes(request.user).filter(code=payload.grid_code).first()
        if grid is None:
            raise ValidationError({"grid_code": services.ERR_GRID_SCOPE})
    data = payload.dict(exclude={"grid_code", "household_id", "reporter_id", "accept_only"})
    data["grid"] = grid
    data["household"] = _scoped_pick(
        request, Household, payload.household_id, "household_id", ERR_HOUSEHOLD
    )
    data["reporter"] = _scoped_pick(
        request, Person, payload.reporter_id, "reporter_id", ERR_REPORTER
    )
    try:
        case = services.case_accept(
            acting_user=request.user, data=data, register=not payload.accept_only
        )
    except ValidationError as exc:
        raise _rename_errors(exc, {"grid": "grid_code", "household": "household_id"}) from None
    return Reply(201, case_detail(request.user, selectors.case_for(request.user, case.number)))


class CaseHolderOut(Schema):
    id: int
    username: str
    name: str
    count: int = Field(description="open cases they handle that the caller may reassign")
    targets: int = Field(description="households open campaigns gave them to visit")


@cases.get(
    "/handover/holders",
    response={200: list[CaseHolderOut], 403: ErrorOut},
    summary="案件交接: people holding open cases the caller may reassign, with how many",
)
def handover_holders(request):
    if not handovers.may_hand_over(request.user):
        return Reply(403, {"detail": str(handovers.ERR_NOT_DISPATCHER)})
    return handovers.holders(request.user)


class CaseHandoverIn(InSchema):
    holder: int = Field(..., ge=1, le=2**62, description="whose cases (a user id)")
    successor: int = Field(..., ge=1, le=2**62, description="who takes them over (a user id)")
    note: str = Field(..., max_length=4000, description="交接原因, written into each case's log")


class CaseSkippedOut(Schema):
    number: str
    reason: str


class TargetsSkippedOut(Schema):
    campaign: str
    grid: str
    reason: str


class CaseHandoverOut(Schema):
    moved: list[str]
    skipped: list[CaseSkippedOut]
    targets_moved: int
    targets_skipped: list[TargetsSkippedOut]


@cases.post(
    "/handover/",
    response={200: CaseHandoverOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="案件交接: reassign (改派) every open case `holder` holds to `successor`",
    description="Each case moves as one `reassign` action in its own transaction; a case that "
    "cannot move is listed in `skipped` with the reason and stays as it was.",
)
def handover(request, payload: CaseHandoverIn):
    if not handovers.may_hand_over(request.user):
        return Reply(403, {"detail": str(handovers.ERR_NOT_DISPATCHER)})
    holder = next((h for h in handovers.holders(request.user) if h["id"] == payload.holder), None)
    if holder is None:
        raise ValidationError({"holder": handovers.ERR_NO_CASES})
    successor = handovers.successors(request.user).filter(pk=payload.successor).first()
    if successor is None:
        raise ValidationError({"successor": handovers.ERR_SUCCESSOR})
    done = handovers.hand_over(
        acting_user=request.user,
        holder=User.objects.get(pk=payload.holder),
        successor=successor,
        note=payload.note,
    )
    return {
        "moved": done.moved,
        "skipped": [{"number": n, "reason": why} for n, why in done.skipped],
        "targets_moved": done.targets_moved,
        "targets_skipped": [
            {"campaign": c, "grid": g, "reason": why} for c, g, why in done.targets_skipped
        ],
    }


@cases.get("/{number}", response={200: CaseDetailOut, 404: ErrorOut})
def case_get(request, number: str):
    return case_detail(request.user, _case(request, number))


class DispatchTargetOut(Schema):
    id: int
    username: str
    full_name: str


@cases.get(
    "/{number}/dispatch-targets",
    response={200: dict, 404: ErrorOut},
    summary="Staff this case may be dispatched to (派遣); units come from /api/units/",
)
def case_dispatch_targets(request, number: str):
    case = _case(request, number)
    users = [
        {"id": u.pk, "username": u.username, "full_name": u.full_name}
        for u in selectors.dispatch_targets(request.user, case)[:500]
    ]
    return {"items": users, "count": len(users)}


@cases.post(
    "/{number}/actions/{action}",
    response={
        200: CaseDetailOut | CaseActedOut,
        400: FieldErrorsOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
    summary="Take one action of the workflow: " + ", ".join(workflow.TRANSITIONS),
    description="Answers the case's detail, or only its number and status (visible: false) "
    "when the action took it out of the caller's scope.",
)
def case_action(request, number: str, action: str, payload: ActionIn):
    case = _case(request, number)
    if action not in workflow.TRANSITIONS:
        raise ValidationError({"action": services.ERR_ACTION})
    target_user = target_unit = None
    if action in ("dispatch", "reassign") and payload.target_user is not None:
        target_user = User.objects.filter(pk=payload.target_user, is_active=True).first()
        if target_user is None:
            raise ValidationError({"target_user": services.ERR_TARGET_SCOPE})
    if action == "transfer" and payload.target_unit:
        target_unit = Unit.objects.filter(code=payload.target_unit, active=True).first()
        if target_unit is None:
            raise ValidationError({"target_unit": services.ERR_TARGET_UNIT})
    target_node = None
    if action == "locate":
        target_node = (
            selectors.locate_targets(request.user, case)
            .filter(code=payload.target_grid.strip())
            .first()
        )
        if target_node is None:
            raise ValidationError({"target_grid": services.ERR_LOCATE_GRID})
    with payload_names(target_node="target_grid"):
        case = services.case_act(
            acting_user=request.user,
            case=case,
            action=action,
            note=payload.note,
            version=payload.version,
            target_user=target_user,
            target_unit=target_unit,
            days=payload.days,
            approve=payload.approve,
            satisfaction=payload.satisfaction,
            target_node=target_node,
        )
    # The actor may no longer see the case (a department member who 退单): then answer only
    # what it is now, never the detail of a case outside their scope.
    try:
        fresh = selectors.case_for(request.user, case.number)
    except Http404:
        return {
            "number": case.number,
            "status": case.status,
            "status_label": case.get_status_display(),
            "visible": False,
        }
    return case_detail(request.user, fresh)


# ------------------------------------------------------------------ categories and units

categories = Router(tags=["cases"])


def _category_node(c: Category) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "description": c.description,
        "default_type": c.default_type,
        "zoning_sensitive": c.zoning_sensitive,
        "children": [],
    }


@categories.get("/", response=dict, summary="Active case categories as a tree")
def category_tree(request):
    rows = list(Category.objects.filter(active=True).order_by("sort", "code"))
    nodes = {c.pk: _category_node(c) for c in rows}
    roots = []
    for c in rows:
        parent = nodes.get(c.parent_id)
        (parent["children"] if parent else roots).append(nodes[c.pk])
    return {"items": roots, "count": len(roots)}


units = Router(tags=["cases"])


class UnitFilter(PageParams):
    page_size: int = Field(100, ge=1, le=200)
    case: str | None = Field(None, max_length=30, description="only units serving this case's grid")


@units.get(
    "/",
    response={200: dict, 404: ErrorOut},
    summary="Active departments cases can be transferred to (转办)",
)
def unit_list(request, f: Query[UnitFilter]):
    if f.case:
        qs = selectors.transfer_targets(_case(request, f.case)).select_related("node")
    else:
        qs = Unit.objects.filter(active=True).select_related("node").order_by("code")
    return _page(
        qs,
        f,
        lambda u: {
            "code": u.code,
            "name": u.name,
            "node_code": u.node.code,
            "node_name": u.node.name,
            "phone": u.phone,
        },
    )


# ------------------------------------------------------------------ notifications

notifications = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    kind_label: str
    message: str
    case_number: str | None
    created_at: datetime.datetime
    read_at: datetime.datetime | None


def notification_out(n: Notification) -> dict:
    return {
        "id": n.pk,
        "kind": n.kind,
        "kind_label": n.get_kind_display(),
        "message": n.message_shown,
        "case_number": n.case.number if n.case_id else None,
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


class NotificationFilter(PageParams):
    unread: bool | None = Field(None, description="true: 只看未读")


@notifications.get("/", response=dict, summary="The caller's own notifications, newest first")
def notification_list(request, f: Query[NotificationFilter]):
    qs = Notification.objects.filter(user=request.user).select_related("case")
    if f.unread is not None:
        qs = qs.filter(read_at__isnull=f.unread)
    unread = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    return _page(qs, f, notification_out, unread=unread)


@notifications.post("/{int:pk}/read", response={200: NotificationOut, 404: ErrorOut})
def notification_read(request, pk: int):
    if not (0 < pk < 2**63):
        raise Http404
    qs = Notification.objects.filter(user=request.user, pk=pk)
    qs.filter(read_at__isnull=True).update(read_at=timezone.now())
    n = qs.select_related("case").first()
    if n is None:
        raise Http404
    return notification_out(n)


@notifications.post("/read-all", response=dict, summary="Mark all the caller's notifications read")
def notification_read_all(request):
    done = Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return {"marked": done}
