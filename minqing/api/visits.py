"""Visits in the JSON API, through the same selectors and services as the pages.

Everything the visit pages do: the due list (today, overdue, upcoming; nearest first when the
phone sends its position), due totals and counts per grid, recording a visit, a visit's record,
turning its demand into a case, the household's schedule, plans and timeline, and the worker's
own diary (民情日记).

Reads go through `visits.selectors` (a visit or household outside the caller's scope answers 404
exactly like one that does not exist; another worker's diary entry too); writes go through
`visits.services` (ValidationError → 400 naming the API's fields, PermissionDenied → 403).
People are shown by name only: ID and phone numbers never appear here, not even masked.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from ninja.responses import Status as Reply
from pydantic import Field

from minqing.accounts.access import (
    can_edit_registry,
    get_scoped_or_404,
    scope_queryset,
    visible_nodes,
)
from minqing.accounts.models import User
from minqing.api.cases import CaseDetailOut, case_detail
from minqing.api.errors import payload_names
from minqing.api.schemas import ErrorOut, FieldErrorsOut, InSchema
from minqing.grids.models import Node, subtree_q
from minqing.registry.models import Household, Person
from minqing.visits import selectors, services
from minqing.visits.models import DiaryEntry, HouseholdVisitPlan, Visit, VisitClass

router = Router(tags=["visits"])

ERR_LAT_LNG = _("请同时提供纬度和经度。")
ERR_GRID = _("该网格不存在或不在您的管辖范围内。")
ERR_VISITED_AT = _("走访时间应在 2000 年以后，且不晚于现在。")
ERR_CATEGORY = _("请选择有效的案件类别。")
# An id no row can have: the database's bigint ends at 2**63 - 1.
MAX_ID = 2**62

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


# ------------------------------------------------------------------ shapes


class PageParams(InSchema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)


def _page(rows, params: PageParams, convert, **extra) -> dict:
    """One page of rows (a list or a queryset) and the total."""
    start = (params.page - 1) * params.page_size
    objects = list(rows[start : start + params.page_size])
    items = [convert(o) for o in objects]
    if isinstance(rows, list):
        count = len(rows)
    elif params.page == 1 and len(items) < params.page_size:
        count = len(items)  # the whole list is on this page: no COUNT(*) needed
    else:
        count = rows.count()
    return {"items": items, "count": count, **extra}


class HouseholdRef(Schema):
    id: int
    number: str
    address: str
    head_name: str
    grid_code: str
    grid_name: str


class VisitClassRef(Schema):
    code: str
    name: str


class VisitClassOut(VisitClassRef):
    every: int
    unit: str
    frequency_label: str
    applies_to_all: bool
    description: str
    tags: list[str]


class ScheduleOut(Schema):
    visit_class: VisitClassRef | None
    last_visit_at: datetime.datetime | None
    next_due: datetime.date | None
    overdue: bool
    due_today: bool
    days_overdue: int


class VisitDueRowOut(ScheduleOut):
    household: HouseholdRef
    distance_m: int | None


class DueListOut(Schema):
    items: list[VisitDueRowOut]
    count: int
    today: datetime.date
    nearest_first: bool


class DueTotalsOut(Schema):
    overdue: int
    today: int
    date: datetime.date


class GridDueOut(Schema):
    grid_code: str
    grid_name: str
    overdue: int
    today: int
    soon: int


class GridDueListOut(Schema):
    items: list[GridDueOut]
    count: int


class UserRef(Schema):
    id: int
    name: str


class PersonRef(Schema):
    id: int
    name: str
    relation: str


class NeedRef(Schema):
    id: int
    kind: str
    kind_label: str
    category: str
    description: str


class CaseRef(Schema):
    number: str
    title: str
    status: str
    status_label: str


class CampaignRef(Schema):
    id: int
    name: str


class VisitRowOut(Schema):
    id: int
    household: HouseholdRef
    visited_at: datetime.datetime
    mode: str
    mode_label: str
    visitors: list[UserRef]
    other_visitors: str
    campaign: CampaignRef | None
    case_numbers: list[str]


class VisitListOut(Schema):
    items: list[VisitRowOut]
    count: int


class VisitDetailOut(VisitRowOut):
    grid_code: str
    grid_name: str
    members_met: list[PersonRef]
    seen: str
    opinions: str
    needs: list[NeedRef]
    cases: list[CaseRef]
    gift_goods: str
    gift_amount: Decimal | None
    created_by: str | None
    created_at: datetime.datetime


class PlanOut(Schema):
    id: int
    household_id: int
    visit_class: VisitClassRef
    reason: str
    until: datetime.date | None
    created_by: str | None
    created_at: datetime.datetime


class HouseholdScheduleOut(Schema):
    household: HouseholdRef
    schedule: ScheduleOut
    plans: list[PlanOut]
    can_plan: bool


class TimelineItemOut(Schema):
    at: datetime.datetime
    kind: str
    label: str
    title: str
    url: str
    text: str
    badges: list[str]


class TimelineOut(Schema):
    items: list[TimelineItemOut]
    count: int


class DiaryOut(Schema):
    id: int
    date: datetime.date
    text: str
    tags: list[str]
    household: HouseholdRef | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class DiaryListOut(Schema):
    items: list[DiaryOut]
    count: int


# Texts are bounded loosely here so that the services' own limits answer, in Chinese, with 400.


class _VisitFields(InSchema):
    """What a visit record says, as sent to record it or to correct it."""

    mode: str = Field("", max_length=20, description="home / phone / reception / meeting")
    visitor_ids: list[Id] = Field(default_factory=list, max_length=50)
    other_visitors: str = Field("", max_length=1000)
    members_met_ids: list[Id] = Field(default_factory=list, max_length=100)
    seen: str = Field("", max_length=10000)
    opinions: str = Field("", max_length=10000)
    gift_goods: str = Field("", max_length=1000, description="慰问品（须选择走访活动）")
    gift_amount: Decimal | None = Field(
        None, max_digits=20, decimal_places=6, allow_inf_nan=False, description="慰问金（元）"
    )


class VisitIn(_VisitFields):
    """A visit record (走访记录表). You are recorded as a visitor yourself; `visitor_ids` are the
    team members who went with you; `members_met_ids` the household's members you met. Give
    `need_category` and `need_description` to add a need (or, with need_kind=resource, a
    resource) to the household's file."""

    household_id: Id
    visited_at: datetime.datetime | None = Field(None, description="默认为现在")
    need_kind: str = Field("", max_length=20, description="need / resource")
    need_category: str = Field("", max_length=200)
    need_description: str = Field("", max_length=2000)
    campaign_id: Id | None = Field(None, description="走访活动（进行中、且该户是其走访对象）")


class VisitCorrectIn(_VisitFields):
    """The visit as it should be (everything sent, as on the 更正 page), and why. The household,
    the campaign and the needs it added stay; `visitor_ids` are those who went with the recorder
    (who stays a visitor)."""

    visited_at: datetime.datetime
    reason: str = Field(..., max_length=200, description="更正原因")


class VisitDeleteParams(InSchema):
    reason: str = Field(..., max_length=200, description="删除原因")


class VisitCaseIn(InSchema):
    """Turn the visit's demand into a registered case of the household (channel: 走访)."""

    category: str = Field(max_length=20, description="案件类别编码，如 0702")
    description: str | None = Field(None, max_length=4000, description="默认为走访记录的诉求")
    title: str = Field("", max_length=100)
    reporter_id: Id | None = Field(None, description="本次走访见到的家庭成员")
    priority: str = Field("", max_length=12, description="urgent / normal")


class PlanIn(InSchema):
    household_id: Id
    visit_class: str = Field(max_length=20, description="走访类别编码，见 /api/visits/classes")
    reason: str = Field("", max_length=1000)
    until: datetime.date | None = Field(None, description="留空为长期")


class DiaryIn(InSchema):
    date: datetime.date | None = Field(None, description="默认为今天")
    text: str = Field(max_length=20000)
    tags: str = Field("", max_length=1000, description="用空格分隔")
    household_id: Id | None = None


class DiaryPatch(InSchema):
    date: datetime.date | None = None
    text: str | None = Field(None, max_length=20000)
    tags: str | None = Field(None, max_length=1000)
    household_id: Id | None = None


# ------------------------------------------------------------------ converters


def _name(user) -> str:
    return (user.full_name or user.username) if user else ""


def household_ref(h: Household, grid=None) -> dict:
    """`grid`: the household's grid when the caller has it at hand (a schedule row's copy)."""
    grid = grid or h.grid
    return {
        "id": h.pk,
        "number": h.number,
        "address": h.address,
        "head_name": h.head_name,
        "grid_code": grid.code,
        "grid_name": grid.name,
    }


def _class_ref(vc: VisitClass | None) -> dict | None:
    return {"code": vc.code, "name": vc.name} if vc else None


def _schedule(view) -> dict:
    return {
        "visit_class": _class_ref(view.visit_class),
        "last_visit_at": view.last_visit_at,
        "next_due": view.next_due,
        "overdue": view.overdue,
        "due_today": view.due_today,
        "days_overdue": view.days_overdue,
    }


def _due_row(state, today: datetime.date) -> dict:
    due = state.next_due
    overdue = due is not None and due < today
    return {
        "household": household_ref(state.household, state.grid),
        "visit_class": _class_ref(state.visit_class),
        "last_visit_at": state.last_visit_at,
        "next_due": due,
        "overdue": overdue,
        "due_today": due == today,
        "days_overdue": (today - due).days if overdue else 0,
        "distance_m": getattr(state, "distance_m", None),
    }


def _due_tuple(row: tuple, today: datetime.date) -> dict:
    """_due_row of a row of selectors.DUE_API_COLUMNS."""
    pk, number, address, head, grid_code, grid_name, class_code, class_name, last, due = row
    state = SimpleNamespace(
        household=SimpleNamespace(pk=pk, number=number, address=address, head_name=head),
        grid=SimpleNamespace(code=grid_code, name=grid_name),
        visit_class=SimpleNamespace(code=class_code, name=class_name) if class_code else None,
        last_visit_at=last,
        next_due=due,
    )
    return _due_row(state, today)


def _linked_due_row(row, today: datetime.date) -> dict:
    """_due_row of a selectors.linked_due_rows row."""
    h, vc = row.household, row.visit_class
    return _due_tuple(
        (h.pk, h.number, h.address, h.head_name, h.grid_code, h.grid_name, vc.code, vc.name,
         row.last_visit_at, row.next_due),
        today,
    )  # fmt: skip


def visit_row(v: Visit) -> dict:
    return {
        "id": v.pk,
        "household": household_ref(v.household),
        "visited_at": v.visited_at,
        "mode": v.mode,
        "mode_label": v.get_mode_display(),
        "visitors": [{"id": u.pk, "name": _name(u)} for u in v.visitors.all()],
        "other_visitors": v.other_visitors,
        "campaign": {"id": v.campaign.pk, "name": v.campaign.name} if v.campaign_id else None,
        "case_numbers": [c.number for c in v.cases.all()],
    }


def visit_detail(v: Visit) -> dict:
    out = visit_row(v)
    out.update(
        grid_code=v.grid.code,
        grid_name=v.grid.name,
        members_met=[
            {"id": p.pk, "name": p.name, "relation": p.get_relation_display() if p.relation else ""}
            for p in v.members_met.order_by("id")
        ],
        seen=v.seen,
        opinions=v.opinions,
        needs=[
            {
                "id": n.pk,
                "kind": n.kind,
                "kind_label": n.get_kind_display(),
                "category": n.category,
                "description": n.description,
            }
            for n in v.needs.order_by("id")
        ],
        cases=[
            {
                "number": c.number,
                "title": c.title,
                "status": c.status,
                "status_label": c.get_status_display(),
            }
            for c in v.cases.order_by("accepted_at", "id")
        ],
        gift_goods=v.gift_goods,
        gift_amount=v.gift_amount,
        created_by=_name(v.created_by) if v.created_by_id else None,
        created_at=v.created_at,
    )
    return out


def plan_out(p: HouseholdVisitPlan) -> dict:
    return {
        "id": p.pk,
        "household_id": p.household_id,
        "visit_class": _class_ref(p.visit_class),
        "reason": p.reason,
        "until": p.until,
        "created_by": _name(p.created_by) if p.created_by_id else None,
        "created_at": p.created_at,
    }


def diary_out(e: DiaryEntry) -> dict:
    return {
        "id": e.pk,
        "date": e.date,
        "text": e.text,
        "tags": e.tag_list,
        "household": household_ref(e.household) if e.household_id else None,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    }


# ------------------------------------------------------------------ helpers


def _rename(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """The services' errors named after the API's fields (visitor_ids, not visitors)."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(k, k): v for k, v in exc.message_dict.items()})


def _household(request, pk: int, *, field: str | None = None) -> Household:
    """A household the caller may visit: in their scope, or personally linked to them (a
    cadre's paired or duty-linked household); 404 otherwise, like the pages. One named in a
    body (`field`) is that field's error, as on cases and the diary: 404 is the URL's."""
    household = (
        services.visitable_households(request.user)
        .select_related("grid", "building")
        .filter(pk=pk)
        .first()
    )
    if household is None and field:
        raise ValidationError({field: services.ERR_HOUSEHOLD_SCOPE})
    if household is None:
        raise Http404
    return household


def _scoped_household(request, pk: int, *, field: str) -> Household:
    """A household in the caller's part of the tree (plans are for the offices there), named
    in a body: otherwise that field's error."""
    household = (
        scope_queryset(request.user, Household.objects.select_related("grid", "building"))
        .filter(pk=pk)
        .first()
    )
    if household is None:
        raise ValidationError({field: services.ERR_HOUSEHOLD_SCOPE})
    return household


def _visit(request, pk: int) -> Visit:
    return selectors.visit_for(request.user, pk)


def _visit_with_lists(request, pk: int) -> Visit:
    visit = _visit(request, pk)
    return (
        Visit.objects.select_related("household__grid", "grid", "created_by", "campaign")
        .prefetch_related("visitors", "cases")
        .get(pk=visit.pk)
    )


def _own_entry(request, pk: int) -> DiaryEntry:
    """The caller's own diary entry; anybody else's answers 404 like a missing one."""
    if not 0 < pk < 2**63:
        raise Http404
    entry = selectors.diary_for(request.user).select_related("household__grid").filter(pk=pk)
    entry = entry.first()
    if entry is None:
        raise Http404
    return entry


def _any_household(pk: int | None, field: str) -> Household | None:
    """A household named in a body; the service decides whether the caller may use it, and its
    message is the same for one that does not exist."""
    if pk is None:
        return None
    household = Household.objects.select_related("grid").filter(pk=pk).first()
    if household is None:
        raise ValidationError({field: services.ERR_HOUSEHOLD_SCOPE})
    return household


# ------------------------------------------------------------------ due lists


class VisitDueFilter(PageParams):
    when: str = Field(
        "due",
        pattern=r"^(due|overdue|today|upcoming|all)?$",
        description="due: 今日及逾期（默认）; overdue: 逾期; today: 今日; "
        "upcoming: 今后 within 天内; all: 逾期及 within 天内",
    )
    within: int = Field(7, ge=1, le=366, description="upcoming / all 的天数")
    grid: str = Field("", max_length=20, description="网格编码；默认为您的全部范围")
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)


@router.get(
    "/due",
    response={200: DueListOut, 400: FieldErrorsOut},
    summary="应访家庭: due, overdue and upcoming households; nearest first with lat/lng",
)
def due_list(request, f: Query[VisitDueFilter]):
    user = request.user
    today = timezone.localdate()
    if (f.lat is None) != (f.lng is None):
        raise ValidationError({"lat": ERR_LAT_LNG})
    grid = None
    if f.grid:
        grid = selectors.grids_for(user).filter(code=f.grid).first()
        if grid is None:
            raise ValidationError({"grid": ERR_GRID})
    within = 0 if f.when in ("", "due", "overdue", "today") else f.within
    here = f.lat is not None
    only = []
    if grid is None:
        # A grid worker's one grid is read by grid alone (selectors.due_for), like the page.
        only = selectors.first_grids(user)
        if len(only) == 1:
            grid = only[0]
    if grid is None and not only:
        # No grid of their own (a cadre): what they owe the households linked to them, by
        # their own duties' and pairings' rhythm (not nearest first: they lie anywhere).
        rows = selectors.linked_due_rows(user, today=today, within=within)
        if f.when in selectors.DUE_WHEN:
            rows = [r for r in rows if selectors.due_when(f.when, r.next_due, today)]
        return _page(rows, f, lambda r: _linked_due_row(r, today), today=today, nearest_first=False)
    elif not here:
        start = (f.page - 1) * f.page_size
        rows, count = selectors.due_page(
            user, today=today, within=within, grid=grid, when=f.when, start=start, size=f.page_size
        )
        items = [_due_tuple(r, today) for r in rows]
        return {"items": items, "count": count, "today": today, "nearest_first": False}
    else:
        qs = selectors.due_for(user, today=today, within=within, grid=grid, with_building=True)
    if f.when in selectors.DUE_WHEN:
        qs = qs.filter(selectors.DUE_WHEN[f.when](today))
    rows = selectors.nearest_first(qs[: selectors.MAX_SORTED], f.lat, f.lng) if here else qs
    return _page(rows, f, lambda s: _due_row(s, today), today=today, nearest_first=here)


class DueTotalsFilter(InSchema):
    grid: str = Field("", max_length=20, description="网格编码；默认为您的全部范围")


@router.get(
    "/due/totals",
    response={200: DueTotalsOut, 400: FieldErrorsOut},
    summary="逾期 and 今日应访 in the caller's scope, or in one of its grids",
)
def due_totals(request, f: Query[DueTotalsFilter]):
    today = timezone.localdate()
    grid = None
    if f.grid:
        grid = selectors.grids_for(request.user).filter(code=f.grid).first()
        if grid is None:
            raise ValidationError({"grid": ERR_GRID})
    totals = selectors.due_totals(request.user, today=today, grid=grid)
    return {"overdue": totals["overdue"], "today": totals["today"], "date": today}


class SoonParams(InSchema):
    soon: int = Field(7, ge=1, le=366, description="“近期应访”的天数")


@router.get(
    "/due/grids",
    response=GridDueListOut,
    summary="Per grid in the caller's scope: overdue, due today, due soon (grids with any)",
)
def due_by_grid(request, f: Query[SoonParams]):
    rows = [
        {
            "grid_code": r.grid.code,
            "grid_name": r.grid.name,
            "overdue": r.overdue,
            "today": r.today,
            "soon": r.soon,
        }
        for r in selectors.due_counts_by_grid(request.user, soon=f.soon)
    ]
    return {"items": rows, "count": len(rows)}


@router.get("/classes", response=list[VisitClassOut], summary="Active visit classes (走访类别)")
def visit_classes(request):
    return [
        {
            "code": vc.code,
            "name": vc.name,
            "every": vc.every,
            "unit": vc.unit,
            "frequency_label": vc.frequency_label,
            "applies_to_all": vc.applies_to_all,
            "description": vc.description,
            "tags": [t.name for t in vc.tags.all()],
        }
        for vc in VisitClass.objects.filter(active=True).prefetch_related("tags")
    ]


# ------------------------------------------------------------------ visit records


class VisitFilter(PageParams):
    household_id: int | None = Field(None, ge=1, le=MAX_ID)
    grid: str = Field("", max_length=20, description="区划编码（含下级）")
    mine: bool = Field(False, description="true: 只看我参加的走访")


@router.get("/", response=VisitListOut, summary="Visit records in the caller's scope, newest first")
def visit_list(request, f: Query[VisitFilter]):
    user = request.user
    qs = selectors.my_visits(user) if f.mine else selectors.visits_for(user)
    if f.household_id:
        qs = qs.filter(household_id=f.household_id)
    if f.grid:
        node = visible_nodes(user).filter(code=f.grid).first()
        if node is None:
            return {"items": [], "count": 0}
        qs = qs.filter(grid__in=Node.objects.filter(subtree_q(node.path)).values("pk"))
    qs = (
        qs.select_related("household__grid", "campaign")
        .prefetch_related("visitors", "cases")
        .order_by("-visited_at", "-id")
    )
    return _page(qs, f, visit_row)


@router.post(
    "/",
    response={201: VisitDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Record a visit (走访记录); moves the household's next due date on",
)
def visit_create(request, payload: VisitIn):
    household = _household(request, payload.household_id, field="household_id")
    # Year 1 or 9999 cannot even be moved to UTC for the database: refuse them here.
    if payload.visited_at is not None and not (2000 <= payload.visited_at.year <= 2100):
        raise ValidationError({"visited_at": ERR_VISITED_AT})
    visitors, met = _people_of(payload)
    data = payload.dict(exclude={"household_id", "visitor_ids", "members_met_ids", "campaign_id"})
    data.update(visitors=visitors, members_met=met, campaign=payload.campaign_id)
    try:
        visit = services.visit_record(
            acting_user=request.user, household=household, data=data, request=request
        )
    except ValidationError as exc:
        raise _rename(exc, _VISIT_NAMES) from None
    return Reply(201, visit_detail(_visit_with_lists(request, visit.pk)))


@router.get("/{int:pk}", response={200: VisitDetailOut, 404: ErrorOut})
def visit_get(request, pk: int):
    return visit_detail(_visit_with_lists(request, pk))


def _people_of(payload) -> tuple[list, list]:
    """The users and people an incoming visit names, every one of them existing."""
    visitor_ids = set(payload.visitor_ids)
    visitors = list(User.objects.filter(pk__in=visitor_ids, is_active=True).order_by("pk"))
    if len(visitors) != len(visitor_ids):
        raise ValidationError({"visitor_ids": services.ERR_VISITOR})
    met_ids = set(payload.members_met_ids)
    met = list(Person.objects.filter(pk__in=met_ids).order_by("pk"))
    if len(met) != len(met_ids):
        raise ValidationError({"members_met_ids": services.ERR_MEMBER})
    return visitors, met


_VISIT_NAMES = {
    "visitors": "visitor_ids",
    "members_met": "members_met_ids",
    "campaign": "campaign_id",
}


@router.put(
    "/{int:pk}",
    response={200: VisitDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="更正 a visit: its recorder within a month, an office that sees it at any time",
)
def visit_correct(request, pk: int, payload: VisitCorrectIn):
    visit = selectors.visit_for(request.user, pk)
    if not (2000 <= payload.visited_at.year <= 2100):
        raise ValidationError({"visited_at": ERR_VISITED_AT})
    visitors, met = _people_of(payload)
    data = payload.dict(exclude={"visitor_ids", "members_met_ids", "reason"})
    data.update(visitors=visitors, members_met=met)
    try:
        services.visit_update(
            acting_user=request.user, visit=visit, data=data, reason=payload.reason, request=request
        )
    except ValidationError as exc:
        raise _rename(exc, _VISIT_NAMES) from None
    return visit_detail(_visit_with_lists(request, pk))


@router.delete(
    "/{int:pk}",
    response={204: None, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Delete a visit recorded by mistake (same rule as 更正; not one that became a case)",
)
def visit_remove(request, pk: int, params: Query[VisitDeleteParams]):
    visit = selectors.visit_for(request.user, pk)
    services.visit_delete(
        acting_user=request.user, visit=visit, reason=params.reason, request=request
    )
    return Reply(204, None)


@router.post(
    "/{int:pk}/case",
    response={201: CaseDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Turn the visit's demand into a case of the household, linked both ways",
)
def visit_to_case(request, pk: int, payload: VisitCaseIn):
    from minqing.cases import selectors as case_selectors

    visit = _visit(request, pk)
    reporter = None
    if payload.reporter_id is not None:
        reporter = visit.members_met.filter(pk=payload.reporter_id).first()
        if reporter is None:
            raise ValidationError({"reporter_id": services.ERR_REPORTER})
    description = visit.opinions if payload.description is None else payload.description
    try:
        case = services.visit_demand_to_case(
            acting_user=request.user,
            visit=visit,
            category=payload.category,
            description=description,
            title=payload.title,
            reporter=reporter,
            priority=payload.priority,
            request=request,
        )
    except ValidationError as exc:
        raise _rename(exc, {"reporter": "reporter_id"}) from None
    return Reply(201, case_detail(request.user, case_selectors.case_for(request.user, case.number)))


# ------------------------------------------------------------------ households: schedule, timeline


@router.get(
    "/households/{int:pk}/schedule",
    response={200: HouseholdScheduleOut, 404: ErrorOut},
    summary="A household's visit class, last visit, next due date and plans",
)
def household_schedule(request, pk: int):
    household = _household(request, pk)
    return {
        "household": household_ref(household),
        "schedule": _schedule(selectors.schedule_of(household)),
        "plans": [plan_out(p) for p in selectors.plans_of(household)],
        "can_plan": can_edit_registry(request.user),
    }


class TimelineParams(InSchema):
    limit: int = Field(50, ge=1, le=200)


@router.get(
    "/households/{int:pk}/timeline",
    response={200: TimelineOut, 404: ErrorOut},
    summary="A household's visits, your diary mentions, cases and help received, newest first",
)
def household_timeline(request, pk: int, f: Query[TimelineParams]):
    household = _household(request, pk)
    items = [
        {
            "at": i.at,
            "kind": i.kind,
            "label": str(i.label),
            "title": str(i.title),
            "url": i.url,
            "text": str(i.text),
            "badges": [str(b) for b in i.badges],
        }
        for i in selectors.timeline_for(request.user, household, limit=f.limit)
    ]
    return {"items": items, "count": len(items)}


# ------------------------------------------------------------------ plans


@router.post(
    "/plans",
    response={201: PlanOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Give a household a visit class by hand (or change that plan's reason / end date)",
)
def plan_set(request, payload: PlanIn):
    household = _scoped_household(request, payload.household_id, field="household_id")
    visit_class = VisitClass.objects.filter(code=payload.visit_class).first()
    plan = services.visit_plan_set(
        acting_user=request.user,
        household=household,
        visit_class=visit_class,
        reason=payload.reason,
        until=payload.until,
        request=request,
    )
    plan = HouseholdVisitPlan.objects.select_related("visit_class", "created_by").get(pk=plan.pk)
    return Reply(201, plan_out(plan))


@router.delete(
    "/plans/{int:pk}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
    summary="Remove a plan; the household's schedule falls back to its rules",
)
def plan_remove(request, pk: int):
    plan = get_scoped_or_404(
        request.user,
        HouseholdVisitPlan.objects.select_related("household", "visit_class"),
        node_field="household__grid",
        owner_fields=(),
        pk=pk,
    )
    services.visit_plan_remove(acting_user=request.user, plan=plan, request=request)
    return Reply(204, None)


# ------------------------------------------------------------------ the diary (民情日记)


class DiaryFilter(PageParams):
    q: str = Field("", max_length=50)
    tag: str = Field("", max_length=30)
    household_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.get("/diary", response=DiaryListOut, summary="Your own diary (民情日记), newest first")
def diary_list(request, f: Query[DiaryFilter]):
    qs = selectors.diary_for(request.user, q=f.q.strip(), tag=f.tag.strip())
    if f.household_id:
        qs = qs.filter(household_id=f.household_id)
    return _page(qs.select_related("household__grid"), f, diary_out)


def _diary_data(payload: dict) -> dict:
    data = dict(payload)
    data["household"] = _any_household(data.pop("household_id", None), "household_id")
    return data


def _saved(request, **kwargs) -> DiaryEntry:
    try:
        entry = services.diary_entry_save(acting_user=request.user, request=request, **kwargs)
    except ValidationError as exc:
        raise _rename(exc, {"household": "household_id"}) from None
    return _own_entry(request, entry.pk)


@router.post(
    "/diary", response={201: DiaryOut, 400: FieldErrorsOut, 403: ErrorOut}, summary="Write"
)
def diary_create(request, payload: DiaryIn):
    return Reply(201, diary_out(_saved(request, data=_diary_data(payload.dict()))))


@router.get("/diary/{int:pk}", response={200: DiaryOut, 404: ErrorOut})
def diary_get(request, pk: int):
    return diary_out(_own_entry(request, pk))


@router.patch(
    "/diary/{int:pk}",
    response={200: DiaryOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Edit your own entry (fields left out keep their values)",
)
def diary_update(request, pk: int, payload: DiaryPatch):
    entry = _own_entry(request, pk)
    given = payload.dict(exclude_unset=True)
    data = {
        "date": entry.date,
        "text": entry.text,
        "tags": entry.tags,
        "household_id": entry.household_id,
    }
    data.update({k: v for k, v in given.items() if v is not None or k == "household_id"})
    return diary_out(_saved(request, data=_diary_data(data), entry=entry))


@router.delete("/diary/{int:pk}", response={204: None, 404: ErrorOut})
def diary_delete(request, pk: int):
    services.diary_entry_delete(
        acting_user=request.user, entry=_own_entry(request, pk), request=request
    )
    return Reply(204, None)


# ------------------------------------------------------------------ campaigns (走访活动)

ERR_ASSIGN_USERNAMES = _("没有这些用户名的账号：{names}")
ERR_CAMPAIGN_NODE = _("覆盖范围不存在或不在您的管辖范围内。")
ERR_CAMPAIGN_TAG = _("未知的类别：{names}")


class ProgressOut(Schema):
    total: int
    done: int
    remaining: int
    percent: int


class GridProgressOut(ProgressOut):
    grid_code: str
    grid_name: str


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    node_code: str
    node_name: str
    start: datetime.date
    end: datetime.date
    rule: str
    rule_label: str
    tags: list[str]
    description: str
    progress: ProgressOut


class CampaignDetailOut(CampaignOut):
    grids: list[GridProgressOut]
    actions: list[str]


class CampaignListOut(Schema):
    items: list[CampaignOut]
    count: int


class CampaignTargetOut(Schema):
    id: int
    campaign_id: int
    campaign_name: str
    household: HouseholdRef
    visited: bool
    visited_at: datetime.datetime | None
    visit_id: int | None


class CampaignTargetListOut(Schema):
    items: list[CampaignTargetOut]
    count: int


class CampaignIn(InSchema):
    name: str = Field(..., max_length=60)
    kind: str = Field(..., max_length=10)
    node_code: str = Field(..., max_length=20)
    start: datetime.date
    end: datetime.date
    rule: str = Field(..., max_length=10)
    tags: list[Annotated[str, Field(max_length=30)]] = Field(default_factory=list, max_length=50)
    description: str = Field("", max_length=1000)
    households: str = Field("", max_length=5000, description="户号, one per line or comma")


class CampaignActionIn(InSchema):
    note: str = Field("", max_length=200)


class CampaignExtendIn(InSchema):
    ends_on: str = Field("", max_length=30, description="新的结束日期 YYYY-MM-DD")
    note: str = Field("", max_length=200, description="延长原因（可不填）")


class CampaignTargetFilter(PageParams):
    grid: str | None = Field(None, max_length=20)
    status: str = Field("", pattern=r"^(done|todo)?$")


def _progress(p) -> dict:
    return {"total": p.total, "done": p.done, "remaining": p.remaining, "percent": p.percent}


def campaign_out(c, progress) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "status": c.status,
        "status_label": c.get_status_display(),
        "node_code": c.node.code,
        "node_name": c.node.name,
        "start": c.start,
        "end": c.end,
        "rule": c.rule,
        "rule_label": c.get_rule_display(),
        "tags": [t.name for t in c.tags.all()],
        "description": c.description,
        "progress": _progress(progress),
    }


def campaign_detail(user, c) -> dict:
    rows, total = selectors.campaign_progress(user, c)
    actions = [
        a
        for a, t in services.CAMPAIGN_TRANSITIONS.items()
        if c.status in t.sources and services.can_manage_campaign(user, c)
    ]
    return {
        **campaign_out(c, total),
        "grids": [
            {"grid_code": r.grid.code, "grid_name": r.grid.name, **_progress(r)}
            for r in rows
            if r.grid is not None
        ],
        "actions": actions,
    }


def target_out(t) -> dict:
    return {
        "id": t.pk,
        "campaign_id": t.campaign_id,
        "campaign_name": t.campaign.name,
        "household": household_ref(t.household, t.grid),
        "visited": t.visit_id is not None,
        "visited_at": t.visited_at,
        "visit_id": t.visit_id,
    }


def _campaign_data(user, payload: CampaignIn) -> dict:
    """The payload as the services take it: the place and the care groups looked up in the
    caller's sight."""
    from minqing.registry.selectors import visible_tags

    node = visible_nodes(user).filter(code=payload.node_code).first()
    if node is None:
        raise ValidationError({"node_code": ERR_CAMPAIGN_NODE})
    tags = list(visible_tags(user).filter(name__in=payload.tags))
    unknown = sorted(set(payload.tags) - {t.name for t in tags})
    if unknown:
        raise ValidationError({"tags": ERR_CAMPAIGN_TAG.format(names="、".join(unknown))})
    return {**payload.dict(), "node": node, "tags": tags}


@router.get("/campaigns", response=CampaignListOut, summary="Campaigns of visits in your scope")
def campaign_list(request, f: Query[PageParams]):
    qs = (
        selectors.campaigns_for(request.user)
        .select_related("node")
        .prefetch_related("tags")
        .order_by("-start", "-pk")
    )
    start = (f.page - 1) * f.page_size
    page = list(qs[start : start + f.page_size])
    progress = selectors.campaigns_progress(request.user, page)
    return {"items": [campaign_out(c, progress[c.pk]) for c in page], "count": qs.count()}


@router.post(
    "/campaigns",
    response={201: CampaignDetailOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="Create a campaign (a draft); community level and up",
)
def campaign_create(request, payload: CampaignIn):
    data = _campaign_data(request.user, payload)
    with payload_names(node="node_code"):
        campaign = services.campaign_create(acting_user=request.user, data=data, request=request)
    return Reply(
        201, campaign_detail(request.user, selectors.campaign_for(request.user, campaign.pk))
    )


@router.get("/campaigns/mine", response=CampaignTargetListOut, summary="Your targets to visit")
def campaign_mine(request, f: Query[PageParams]):
    return _page(selectors.my_campaign_targets(request.user), f, target_out)


@router.get("/campaigns/{int:pk}", response={200: CampaignDetailOut, 404: ErrorOut})
def campaign_get(request, pk: int):
    return campaign_detail(request.user, selectors.campaign_for(request.user, pk))


@router.get(
    "/campaigns/{int:pk}/targets",
    response={200: CampaignTargetListOut, 404: ErrorOut},
    summary="The target list as you see it, by grid and 已访 (done) / 未访 (todo)",
)
def campaign_targets(request, pk: int, f: Query[CampaignTargetFilter]):
    campaign = selectors.campaign_for(request.user, pk)
    grid = None
    if f.grid:
        grid = visible_nodes(request.user).filter(code=f.grid).first()
        if grid is None:
            return {"items": [], "count": 0}
    qs = selectors.campaign_target_list(request.user, campaign, grid=grid, status=f.status)
    return _page(qs.select_related("campaign"), f, target_out)


@router.post(
    "/campaigns/{int:pk}/actions/{action}",
    response={200: CampaignDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="launch (草稿 → 进行中, builds the list) or close (进行中 → 已结束)",
)
def campaign_action(request, pk: int, action: str, payload: CampaignActionIn):
    campaign = selectors.campaign_for(request.user, pk)
    if action not in services.CAMPAIGN_TRANSITIONS:
        raise ValidationError({"action": services.ERR_CAMPAIGN_ACTION})
    services.campaign_act(
        acting_user=request.user,
        campaign=campaign,
        action=action,
        note=payload.note,
        request=request,
    )
    return campaign_detail(request.user, selectors.campaign_for(request.user, pk))


@router.post(
    "/campaigns/{int:pk}/extend",
    response={200: CampaignDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="延长活动期限: move a draft or open campaign's end date later",
)
def campaign_extend(request, pk: int, payload: CampaignExtendIn):
    campaign = selectors.campaign_for(request.user, pk)
    services.campaign_extend(
        acting_user=request.user,
        campaign=campaign,
        ends_on=payload.ends_on,
        note=payload.note,
        request=request,
    )
    return campaign_detail(request.user, selectors.campaign_for(request.user, pk))


class CampaignHouseholdsIn(InSchema):
    households: str = Field(..., max_length=20000, description="户号, one per line or comma")


class CampaignAssignIn(InSchema):
    """Give these targets (ids from …/targets) to these people, replacing whom they had; each
    person must be on the team of each target's grid."""

    target_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(..., max_length=2000)
    usernames: list[Annotated[str, Field(max_length=150)]] = Field(..., max_length=20)


class CountOut(Schema):
    count: int
    detail: str = ""


@router.put(
    "/campaigns/{int:pk}",
    response={200: CampaignDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Change a draft campaign (as the edit page: everything sent)",
)
def campaign_put(request, pk: int, payload: CampaignIn):
    campaign = selectors.campaign_for(request.user, pk)
    data = _campaign_data(request.user, payload)
    with payload_names(node="node_code"):
        services.campaign_update(
            acting_user=request.user, campaign=campaign, data=data, request=request
        )
    return campaign_detail(request.user, selectors.campaign_for(request.user, pk))


@router.delete(
    "/campaigns/{int:pk}",
    response={204: None, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Delete a draft campaign (a launched one is closed, not deleted)",
)
def campaign_delete(request, pk: int):
    campaign = selectors.campaign_for(request.user, pk)
    services.campaign_delete(acting_user=request.user, campaign=campaign, request=request)
    return Reply(204, None)


@router.post(
    "/campaigns/{int:pk}/rebuild",
    response={200: dict, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Make the target list again from the rule (an open campaign), keeping visits",
)
def campaign_rebuild(request, pk: int):
    campaign = selectors.campaign_for(request.user, pk)
    return services.campaign_rebuild(acting_user=request.user, campaign=campaign, request=request)


@router.post(
    "/campaigns/{int:pk}/households",
    response={200: CountOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Put households on a draft or open campaign's list by 户号",
)
def campaign_add(request, pk: int, payload: CampaignHouseholdsIn):
    campaign = selectors.campaign_for(request.user, pk)
    n = services.campaign_add_households(
        acting_user=request.user, campaign=campaign, numbers=payload.households, request=request
    )
    return {"count": n}


@router.post(
    "/campaigns/{int:pk}/assign",
    response={200: CountOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Assign targets to grid team members (replacing whom they had)",
)
def campaign_assign(request, pk: int, payload: CampaignAssignIn):
    from minqing.accounts.models import User

    campaign = selectors.campaign_for(request.user, pk)
    names = {u.strip() for u in payload.usernames if u.strip()}
    users = list(User.objects.filter(username__in=names, is_active=True))
    missing = sorted(names - {u.username for u in users})
    if missing:
        raise ValidationError({"usernames": ERR_ASSIGN_USERNAMES.format(names="、".join(missing))})
    with payload_names(targets="target_ids", users="usernames"):
        n = services.campaign_assign(
            acting_user=request.user,
            campaign=campaign,
            target_ids=payload.target_ids,
            users=users,
            request=request,
        )
    return {"count": n}
