"""Pairing assistance (结对帮扶) in the JSON API, through the same selectors and services as the pages.

A pairing outside the caller's scope (not in their part of the tree, and not one they help in)
answers 404 exactly like one that does not exist. Writes: ValidationError → 400 with field
errors, PermissionDenied → 403. Phones and ID numbers are only ever shown masked.
"""

import datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from ninja.responses import Status as Reply
from pydantic import Field

from minqing.accounts.access import visible_nodes
from minqing.accounts.models import User
from minqing.api.errors import payload_names
from minqing.api.schemas import ErrorOut, FieldErrorsOut, InSchema
from minqing.assistance import handover, schedule, selectors, services
from minqing.assistance.forms import ERR_USER, parse_month
from minqing.assistance.models import HelpEntry, Helper, HelperGroup, Pairing, TargetKind
from minqing.assistance.strategies import strategies_for
from minqing.core.masking import mask_phone
from minqing.grids.models import Node
from minqing.registry.models import household_short_name

router = Router(tags=["assistance"])

ERR_PROGRAMME = _("没有这个帮扶项目。")
ERR_GROUP = _("没有这个帮扶小组，或不在您的范围内。")
ERR_HELPER = _("没有这个帮扶人，或不在您的范围内。")

# The services' field names → this API's (errors come back under the names sent).
PAIRING_FIELDS = {
    "household": "household_id",
    "person": "person_id",
    "node": "node_code",
    "place": "place_id",
    "organisation": "organisation_id",
    "helpers": "helper_ids",
    "group": "group_id",
}


# ------------------------------------------------------------------ shapes


class PageParams(InSchema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)


class HelperOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    unit_name: str
    phone_masked: str
    qualified: bool


class ProgrammeOut(Schema):
    code: str
    name: str
    pairing_kind: str
    target_kind: str
    rhythm: str
    target_tag: str | None
    coverage_goal: int | None


class PairingRowOut(Schema):
    id: int
    programme: ProgrammeOut
    target_kind: str
    target_id: int
    target_name: str
    grid_code: str
    grid_name: str
    group: str | None
    helpers: list[HelperOut]
    start: datetime.date
    end: datetime.date | None
    end_reason: str
    active: bool


class PairingListOut(Schema):
    items: list[PairingRowOut]
    count: int


class StrategyOut(Schema):
    code: str
    name: str
    measures: list[str]
    help_kinds: list[str]


class DueOut(Schema):
    code: str
    name: str
    date: datetime.date
    status: str
    days_overdue: int
    opens: datetime.date | None
    closes: datetime.date | None


class HelpEntryOut(Schema):
    id: int
    pairing_id: int
    kind: str
    kind_label: str
    occurred_on: datetime.date
    helper: str | None
    text: str
    amount: Decimal | None
    goods: str
    goods_value: Decimal | None
    fund_source: str
    fund_source_label: str


class PairingTargetOut(Schema):
    name: str
    address: str
    age: int | None
    id_number_masked: str
    phone_masked: str
    tags: list[str]


class PairingDetailOut(PairingRowOut):
    causes: list[str]
    cause_labels: list[str]
    work_ability: str
    note: str
    target: PairingTargetOut
    strategies: list[StrategyOut]
    dues: list[DueOut]
    last_contact: datetime.date | None
    help: list[HelpEntryOut]
    can_log_help: bool


class HelpEntryIn(InSchema):
    """帮扶记录. `amount` and `goods_value` in yuan (at most 2 decimals); `fund_source` (poverty /
    cadre / social) is required with money or goods; `helper_id` names who helped when an office
    logs on a helper's behalf."""

    kind: str = Field(
        max_length=12, description="skills, labour, goods, industry, health, living, …"
    )
    occurred_on: datetime.date | None = None
    text: str = Field("", max_length=2000)
    amount: Decimal | None = Field(None, ge=0, le=10_000_000, max_digits=12, decimal_places=2)
    goods: str = Field("", max_length=200)
    goods_value: Decimal | None = Field(None, ge=0, le=10_000_000, max_digits=12, decimal_places=2)
    fund_source: str = Field("", max_length=10)
    helper_id: int | None = Field(None, ge=1, le=2**62)


class HelpCorrectIn(HelpEntryIn):
    """The whole entry as it should be, and why (kept in the audit with the old values)."""

    reason: str = Field(..., max_length=200)


class ReasonParams(InSchema):
    reason: str = Field(..., max_length=200, description="why the entry goes (kept in the audit)")


class PairingFilter(PageParams):
    programme: str = Field("", max_length=20)
    status: str = Field("active", pattern=r"^(active|ended|all)$")
    q: str = Field("", max_length=50)
    mine: bool = False


class ContactDueFilter(InSchema):
    within: int = Field(7, ge=0, le=60)
    mine: bool | None = Field(None, description="默认：有自己的结对时只看自己的")
    programme: str = Field("", max_length=20)


class ContactDueRowOut(Schema):
    pairing_id: int
    target_name: str
    programme: str
    helpers: list[str]
    due: DueOut
    last_contact: datetime.date | None


class CoverageOut(Schema):
    programme: ProgrammeOut
    total: int
    paired: int
    rate: float | None
    goal: int | None
    below_goal: bool


class UnpairedOut(Schema):
    id: int
    name: str
    grid_code: str
    grid_name: str
    id_number_masked: str
    address: str


class ReportFilter(InSchema):
    month: str = Field("", max_length=20, description="YYYY-MM; default: this month")
    programme: str = Field("", max_length=20)
    group: int | None = Field(None, ge=1, le=2**62)
    helper: int | None = Field(None, ge=1, le=2**62)
    mine: bool = False


Id = Annotated[int, Field(ge=1, le=2**62)]


class HelperDetailOut(HelperOut):
    node_code: str
    node_name: str
    username: str | None
    note: str
    disqualified_on: datetime.date | None
    disqualified_reason: str
    can_edit: bool


class HelperListOut(Schema):
    items: list[HelperOut]
    count: int


class HelperFilter(PageParams):
    q: str = Field("", max_length=50, description="name or unit, part of it")
    status: str = Field("", pattern=r"^(|qualified|disqualified)$")


class HelperIn(InSchema):
    """帮扶人: a staff account (`username`; name and phone then come from the account) or an
    outside person or unit. `node_code`: where the helper is registered (default: the caller's
    highest node)."""

    kind: str = Field(max_length=12, description="cadre, party, teacher, mother, volunteer, unit")
    username: str = Field("", max_length=150)
    name: str = Field("", max_length=100)
    phone: str = Field("", max_length=30)
    unit_name: str = Field("", max_length=200)
    node_code: str = Field("", max_length=20)
    note: str = Field("", max_length=400)


class HelperPatch(InSchema):
    """Only the fields sent change. Kind and account stay as registered."""

    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=30)
    unit_name: str | None = Field(None, max_length=200)
    node_code: str | None = Field(None, max_length=20)
    note: str | None = Field(None, max_length=400)


class EndIn(InSchema):
    reason: str = Field(max_length=400)
    on: datetime.date | None = Field(None, description="default: today")


class DisqualifiedOut(Schema):
    helper: HelperDetailOut
    ended_pairings: list[int]


class HelperHandoverIn(InSchema):
    successor_id: int = Field(ge=1, le=2**62)
    reason: str = Field(max_length=400)


class HelperSkippedOut(Schema):
    what: str
    reason: str


class HelperHandoverOut(Schema):
    moved_pairings: list[int]
    joined_groups: list[int]
    skipped: list[HelperSkippedOut]


class PairingIn(InSchema):
    """结对. The target by the programme's target kind: `household_id`, `person_id`,
    `node_code` (a community), `place_id` (a school) or `organisation_id`. Helpers by
    `helper_ids`, or `group_id` for group programmes."""

    programme: str = Field(max_length=20, description="programme code, see /programmes/")
    household_id: Id | None = None
    person_id: Id | None = None
    node_code: str = Field("", max_length=20)
    place_id: Id | None = None
    organisation_id: Id | None = None
    helper_ids: list[Id] = Field(default_factory=list, max_length=50)
    group_id: Id | None = None
    causes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="attitude, age, disability, illness, disaster, skills, capital, information",
    )
    work_ability: str = Field("", max_length=10, description="able, unable or empty")
    note: str = Field("", max_length=1000)
    start: datetime.date | None = Field(None, description="default: today")


class PairingPatch(InSchema):
    """Only the fields sent change (帮扶人调动: send the new `helper_ids`)."""

    helper_ids: list[Id] | None = Field(None, max_length=50)
    group_id: Id | None = None
    causes: list[str] | None = Field(None, max_length=20)
    work_ability: str | None = Field(None, max_length=10)
    note: str | None = Field(None, max_length=1000)


class GroupOut(Schema):
    id: int
    name: str
    programme: str
    node_code: str
    node_name: str
    members: list[HelperOut]
    active_pairings: int
    can_edit: bool


class GroupIn(InSchema):
    """帮扶小组 of a group programme, in a community or grid of the caller's scope."""

    programme: str = Field(max_length=20)
    name: str = Field(max_length=100)
    node_code: str = Field(max_length=20)
    member_ids: list[Id] = Field(max_length=50)


class GroupPatch(InSchema):
    """Only the fields sent change; running pairings follow new members."""

    name: str | None = Field(None, max_length=100)
    member_ids: list[Id] | None = Field(None, max_length=50)


# ------------------------------------------------------------------ converters


def programme_out(p) -> dict:
    return {
        "code": p.code,
        "name": p.name,
        "pairing_kind": p.pairing_kind,
        "target_kind": p.target_kind,
        "rhythm": p.rhythm_label,
        "target_tag": p.target_tag.name if p.target_tag_id else None,
        "coverage_goal": p.coverage_goal,
    }


def helper_out(h) -> dict:
    return {
        "id": h.pk,
        "name": h.name,
        "kind": h.kind,
        "kind_label": str(h.get_kind_display()),
        "unit_name": h.unit_name,
        "phone_masked": mask_phone(h.phone),
        "qualified": h.qualified,
    }


def pairing_row(p: Pairing) -> dict:
    return {
        "id": p.pk,
        "programme": programme_out(p.programme),
        "target_kind": p.target_kind,
        "target_id": p.target.pk,
        "target_name": p.target_name,
        "grid_code": p.grid.code,
        "grid_name": p.grid.name,
        "group": p.group.name if p.group_id else None,
        "helpers": [helper_out(h) for h in p.helpers.all()],
        "start": p.start,
        "end": p.end,
        "end_reason": p.end_reason,
        "active": p.active,
    }


def due_out(d: schedule.Due) -> dict:
    return {
        "code": d.code,
        "name": str(d.name),
        "date": d.date,
        "status": d.status,
        "days_overdue": d.days_overdue,
        "opens": d.opens,
        "closes": d.closes,
    }


def help_out(e: HelpEntry) -> dict:
    return {
        "id": e.pk,
        "pairing_id": e.pairing_id,
        "kind": e.kind,
        "kind_label": str(e.get_kind_display()),
        "occurred_on": e.occurred_on,
        "helper": e.helper.name if e.helper_id else None,
        "text": e.text,
        "amount": e.amount,
        "goods": e.goods,
        "goods_value": e.goods_value,
        "fund_source": e.fund_source,
        "fund_source_label": str(e.get_fund_source_display()) if e.fund_source else "",
    }


def _target_out(p: Pairing) -> dict:
    t = p.target
    out = {"name": p.target_name, "address": "", "age": None, "id_number_masked": "",
           "phone_masked": "", "tags": []}  # fmt: skip
    if p.target_kind == TargetKind.HOUSEHOLD:
        out["address"] = t.address
        out["tags"] = [tag.name for tag in t.tags.filter(sensitive=False)]
    elif p.target_kind == TargetKind.PERSON:
        out.update(
            address=t.household.address if t.household_id else "",
            age=t.age(),
            id_number_masked=t.id_masked,
            phone_masked=t.phone_masked,
            tags=[tag.name for tag in t.tags.filter(sensitive=False)],
        )
    elif p.target_kind in (TargetKind.PLACE, TargetKind.ORGANISATION):
        out["address"] = t.address
        out["phone_masked"] = mask_phone(t.phone)
    return out


def pairing_detail(user, p: Pairing) -> dict:
    today = timezone.localdate()
    contacts = selectors.contacts_by_pairing(
        [p], since=today - datetime.timedelta(days=selectors.LOOKBACK_DAYS)
    ).get(p.pk, [])
    dues = (
        schedule.dues(
            selectors.rhythm_of(p), start=p.start, contacts=contacts, today=today, within=30
        )
        if p.active
        else []
    )
    return {
        **pairing_row(p),
        "causes": list(p.causes),
        "cause_labels": p.cause_labels(),
        "work_ability": p.work_ability,
        "note": p.note,
        "target": _target_out(p),
        "strategies": [
            {
                "code": s.code,
                "name": str(s.name),
                "measures": [str(m) for m in s.measures],
                "help_kinds": list(s.help_kinds),
            }
            for s in strategies_for(p.causes, p.work_ability)
        ],
        "dues": [due_out(d) for d in dues],
        "last_contact": contacts[-1] if contacts else None,
        "help": [help_out(e) for e in selectors.help_of(p)[:50]],
        "can_log_help": services.can_log_help(user, p),
    }


def helper_detail(user, h: Helper) -> dict:
    return {
        **helper_out(h),
        "node_code": h.node.code,
        "node_name": h.node.name,
        "username": h.user.username if h.user_id else None,
        "note": h.note,
        "disqualified_on": h.disqualified_on,
        "disqualified_reason": h.disqualified_reason,
        "can_edit": services.can_disqualify(user, h),
    }


def _node_by_code(user, code: str, field: str) -> Node | None:
    """A node of the caller's sight named by code: None when no code was given, a field error
    when the caller sees no such node (the same whether it exists elsewhere or not at all)."""
    code = code.strip()
    if not code:
        return None
    node = visible_nodes(user).filter(code=code).first()
    if node is None:
        raise ValidationError({field: services.ERR_HELPER_NODE})
    return node


def _helpers_by_id(ids) -> list[Helper]:
    wanted = set(ids)
    found = list(Helper.objects.filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ValidationError({"helper_ids": services.ERR_HELPER_SCOPE})
    return found


def _group_by_id(pk) -> HelperGroup | None:
    if pk is None:
        return None
    group = HelperGroup.objects.filter(pk=pk).first()
    if group is None:
        raise ValidationError({"group_id": services.ERR_GROUP_SCOPE})
    return group


def _programme(code: str):
    if not code:
        return None
    p = selectors.programmes().filter(code=code).first()
    if p is None:
        raise ValidationError({"programme": ERR_PROGRAMME})
    return p


# ------------------------------------------------------------------ endpoints


@router.get("/programmes/", response=dict, summary="Active pairing programmes (帮扶项目)")
def programme_list(request):
    items = [programme_out(p) for p in selectors.programmes()]
    return {"items": items, "count": len(items)}


@router.get(
    "/pairings/",
    response={200: PairingListOut, 400: FieldErrorsOut},
    summary="Pairings the caller sees (their subtree's, and their own as a helper)",
)
def pairing_list(request, f: Query[PairingFilter]):
    qs = selectors.pairing_search(
        request.user,
        programme=_programme(f.programme),
        status=f.status,
        q=f.q,
        mine=f.mine,
    )
    start = (f.page - 1) * f.page_size
    return {
        "items": [pairing_row(p) for p in qs[start : start + f.page_size]],
        "count": qs.count(),
    }


@router.get("/pairings/{int:pk}", response={200: PairingDetailOut, 404: ErrorOut})
def pairing_get(request, pk: int):
    return pairing_detail(request.user, selectors.pairing_for(request.user, pk))


@router.post(
    "/pairings/{int:pk}/help",
    response={201: HelpEntryOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Log help given (帮扶记录): a contact, too",
)
def help_create(request, pk: int, payload: HelpEntryIn):
    pairing = selectors.pairing_for(request.user, pk)
    data = payload.dict(exclude={"helper_id"})
    if payload.helper_id is not None:
        data["helper"] = pairing.helpers.filter(pk=payload.helper_id).first()
        if data["helper"] is None:
            raise ValidationError({"helper_id": services.ERR_HELP_HELPER})
    entry = services.help_entry_add(acting_user=request.user, pairing=pairing, data=data)
    return Reply(201, help_out(entry))


def _help_entry(request, pk: int) -> HelpEntry:
    entry = HelpEntry.objects.select_related("helper").filter(pk=pk).first()
    if entry is None:
        raise Http404
    entry.pairing = selectors.pairing_for(request.user, entry.pairing_id)
    return entry


@router.put(
    "/help/{int:pk}",
    response={200: HelpEntryOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="更正 a help entry: its recorder within a month, an office that sees it at any time",
)
def help_correct(request, pk: int, payload: HelpCorrectIn):
    entry = _help_entry(request, pk)
    data = payload.dict(exclude={"helper_id", "reason"})
    if payload.helper_id is not None:
        data["helper"] = entry.pairing.helpers.filter(pk=payload.helper_id).first()
        if data["helper"] is None:
            raise ValidationError({"helper_id": services.ERR_HELP_HELPER})
    entry = services.help_entry_update(
        acting_user=request.user, entry=entry, data=data, reason=payload.reason, request=request
    )
    return help_out(entry)


@router.delete(
    "/help/{int:pk}",
    response={204: None, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Delete a help entry logged by mistake (same rule as 更正; the reason is required)",
)
def help_delete(request, pk: int, params: Query[ReasonParams]):
    entry = _help_entry(request, pk)
    services.help_entry_delete(
        acting_user=request.user, entry=entry, reason=params.reason, request=request
    )
    return Reply(204, None)


@router.get(
    "/due/",
    response={200: dict, 400: FieldErrorsOut},
    summary="Contacts due and overdue (own pairings, or the caller's subtree)",
)
def due_list(request, f: Query[ContactDueFilter]):
    user = request.user
    mine = f.mine
    if mine is None:
        mine = selectors.my_pairings(user).filter(end__isnull=True).exists()
    qs = selectors.my_pairings(user) if mine else selectors.pairings_for(user)
    programme = _programme(f.programme)
    if programme is not None:
        qs = qs.filter(programme=programme)
    rows = selectors.due_rows(user, within=f.within, qs=qs)
    items = [
        {
            "pairing_id": r.pairing.pk,
            "target_name": r.pairing.target_name,
            "programme": r.pairing.programme.name,
            "helpers": [h.name for h in r.pairing.helpers.all()],
            "due": due_out(r.due),
            "last_contact": r.last_contact,
        }
        for r in rows
    ]
    return {"items": items, "count": len(items), "counts": selectors.due_counts(rows)}


def coverage_out(c) -> dict:
    return {
        "programme": programme_out(c.programme),
        "total": c.total,
        "paired": c.paired,
        "rate": c.rate,
        "goal": c.goal,
        "below_goal": c.below_goal,
    }


@router.get("/coverage/", response=dict, summary="Coverage of each programme's target group")
def coverage_list(request):
    items = [coverage_out(c) for c in selectors.coverage_all(request.user)]
    return {"items": items, "count": len(items)}


@router.get(
    "/coverage/{code}/unpaired",
    response={200: dict, 404: ErrorOut},
    summary="The unpaired members of a programme's target group in the caller's scope",
)
def coverage_unpaired(request, code: str, f: Query[PageParams]):
    programme = selectors.programmes().filter(code=code[:20]).first()
    c = selectors.coverage(request.user, programme) if programme is not None else None
    if c is None:
        raise Http404
    qs = c.unpaired.select_related("grid").order_by("grid__path", "pk")
    start = (f.page - 1) * f.page_size
    items = []
    for o in qs[start : start + f.page_size]:
        if programme.target_kind == TargetKind.PERSON:
            items.append(
                {
                    "id": o.pk,
                    "name": o.name,
                    "grid_code": o.grid.code,
                    "grid_name": o.grid.name,
                    "id_number_masked": o.id_masked,
                    "address": "",
                }  # fmt: skip
            )
        else:
            items.append(
                {
                    "id": o.pk,
                    "name": household_short_name(o.head_name),
                    "grid_code": o.grid.code,
                    "grid_name": o.grid.name,
                    "id_number_masked": "",
                    "address": o.address,
                }  # fmt: skip
            )
    return {"items": items, "count": qs.count(), "coverage": coverage_out(c)}


def _group_out(g) -> dict:
    return {
        "key": g.key,
        "name": g.name,
        "pairings": g.pairings,
        "required": g.required,
        "made": g.made,
        "gaps": g.gaps,
        "help_count": g.help_count,
        "money": {k or "none": str(v) for k, v in g.money.items()},
        "total": str(g.total),
    }


@router.get(
    "/report/",
    response={200: dict, 400: FieldErrorsOut, 404: ErrorOut},
    summary="Monthly report: contacts owed and made, help given, money by fund source",
)
def report(request, f: Query[ReportFilter]):
    user = request.user
    try:
        month = parse_month(f.month)
    except ValueError as exc:
        raise ValidationError({"month": str(exc)}) from None
    group = helper = None
    if f.group is not None:
        group = selectors.groups_for(user).filter(pk=f.group).first()
        if group is None:
            raise ValidationError({"group": ERR_GROUP})
    if f.helper is not None:
        helper = selectors.helpers_for(user).filter(pk=f.helper).first()
        if helper is None:
            raise ValidationError({"helper": ERR_HELPER})
    data = selectors.month_report(
        user,
        month=month,
        programme=_programme(f.programme),
        group=group,
        helper=helper,
        mine=f.mine,
    )
    rows = [
        {
            "pairing_id": r.pairing.pk,
            "programme": r.pairing.programme.name,
            "group": r.pairing.group.name if r.pairing.group_id else None,
            "target_name": r.pairing.target_name,
            "helpers": [h.name for h in r.pairing.helpers.all()],
            "required": r.need.required,
            "made": r.need.made,
            "occasions": [
                {"code": o.code, "name": str(o.name), "date": o.date, "honoured": ok}
                for o, ok in r.need.occasions
            ],
            "gap": r.need.gap,
            "help_count": r.help_count,
            "money": {k or "none": str(v) for k, v in r.money.items()},
            "total": str(r.total),
        }
        for r in data.rows
    ]
    return {
        "month": f"{month:%Y-%m}",
        "items": rows,
        "count": len(rows),
        "totals": _group_out(data.totals),
        "by_programme": [_group_out(g) for g in data.by_programme],
        "by_group": [_group_out(g) for g in data.by_group],
        "by_helper": [_group_out(g) for g in data.by_helper],
    }


# ------------------------------------------------------------------ writes


@router.post(
    "/pairings/",
    response={201: PairingDetailOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="Pair helpers with a target of the caller's subtree (offices only)",
)
def pairing_create(request, payload: PairingIn):
    programme = _programme(payload.programme.strip())
    code = payload.node_code.strip()
    node = visible_nodes(request.user).filter(code=code).first() if code else None
    data = {
        "programme": programme,
        "household": payload.household_id,
        "person": payload.person_id,
        # A community the caller does not see reads as "not in your scope", like the others.
        "node": (node.pk if node is not None else 0) if code else None,
        "place": payload.place_id,
        "organisation": payload.organisation_id,
        "helpers": _helpers_by_id(payload.helper_ids),
        "group": _group_by_id(payload.group_id),
        "causes": payload.causes,
        "work_ability": payload.work_ability,
        "note": payload.note,
        "start": payload.start,
    }
    with payload_names(**PAIRING_FIELDS):
        pairing = services.pairing_create(acting_user=request.user, data=data, request=request)
    pairing = selectors.pairing_for(request.user, pairing.pk)
    return Reply(201, pairing_detail(request.user, pairing))


@router.patch(
    "/pairings/{int:pk}",
    response={200: PairingDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Change a running pairing's helpers (帮扶人调动), causes, work ability or plan",
)
def pairing_patch(request, pk: int, payload: PairingPatch):
    pairing = selectors.pairing_for(request.user, pk)
    sent = payload.model_dump(exclude_unset=True)
    data = {k: v for k, v in sent.items() if k in ("causes", "work_ability", "note")}
    if "helper_ids" in sent:
        data["helpers"] = _helpers_by_id(sent["helper_ids"] or [])
    if "group_id" in sent:
        data["group"] = _group_by_id(sent["group_id"])
    with payload_names(**PAIRING_FIELDS):
        services.pairing_update(
            acting_user=request.user, pairing=pairing, data=data, request=request
        )
    return pairing_detail(request.user, selectors.pairing_for(request.user, pk))


@router.post(
    "/pairings/{int:pk}/end",
    response={200: PairingDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="End a pairing with a reason (脱贫、迁出 …)",
)
def pairing_end(request, pk: int, payload: EndIn):
    pairing = selectors.pairing_for(request.user, pk)
    services.pairing_end(
        acting_user=request.user,
        pairing=pairing,
        reason=payload.reason,
        on=payload.on,
        request=request,
    )
    return pairing_detail(request.user, selectors.pairing_for(request.user, pk))


@router.get(
    "/helpers/",
    response={200: HelperListOut, 400: FieldErrorsOut},
    summary="Helpers the caller sees: registered in their subtree or above, of their pairings",
)
def helper_list(request, f: Query[HelperFilter]):
    qs = selectors.helper_search(request.user, q=f.q, status=f.status)
    start = (f.page - 1) * f.page_size
    return {
        "items": [helper_out(h) for h in qs[start : start + f.page_size]],
        "count": qs.count(),
    }


@router.get("/helpers/{int:pk}", response={200: HelperDetailOut, 404: ErrorOut})
def helper_get(request, pk: int):
    return helper_detail(request.user, selectors.helper_for(request.user, pk))


@router.post(
    "/helpers/",
    response={201: HelperDetailOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="Register a helper (offices only)",
)
def helper_create(request, payload: HelperIn):
    user = None
    if payload.username.strip():
        user = User.objects.filter(username=payload.username.strip(), is_active=True).first()
        if user is None:
            raise ValidationError({"username": ERR_USER})
    data = {
        "kind": payload.kind,
        "user": user,
        "name": payload.name,
        "phone": payload.phone,
        "unit_name": payload.unit_name,
        "node": _node_by_code(request.user, payload.node_code, "node_code"),
        "note": payload.note,
    }
    with payload_names(node="node_code", user="username"):
        helper = services.helper_create(acting_user=request.user, data=data, request=request)
    return Reply(201, helper_detail(request.user, selectors.helper_for(request.user, helper.pk)))


@router.patch(
    "/helpers/{int:pk}",
    response={200: HelperDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Correct a helper's name, phone, unit, node or note",
)
def helper_patch(request, pk: int, payload: HelperPatch):
    helper = selectors.helper_for(request.user, pk)
    data = payload.model_dump(exclude_unset=True)
    if "node_code" in data:
        data["node"] = _node_by_code(request.user, data.pop("node_code") or "", "node_code")
    with payload_names(node="node_code"):
        services.helper_update(acting_user=request.user, helper=helper, data=data, request=request)
    return helper_detail(request.user, selectors.helper_for(request.user, pk))


@router.post(
    "/helpers/{int:pk}/disqualify",
    response={200: DisqualifiedOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="取消资格: the helper's pairings with no other helper end",
)
def helper_disqualify(request, pk: int, payload: EndIn):
    helper = selectors.helper_for(request.user, pk)
    ended = services.helper_disqualify(
        acting_user=request.user,
        helper=helper,
        reason=payload.reason,
        on=payload.on,
        request=request,
    )
    return {
        "helper": helper_detail(request.user, selectors.helper_for(request.user, pk)),
        "ended_pairings": [p.pk for p in ended],
    }


@router.post(
    "/helpers/{int:pk}/handover",
    response={200: HelperHandoverOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="帮扶人交接: the helper's running pairings and group places go to a successor",
)
def helper_handover(request, pk: int, payload: HelperHandoverIn):
    """Pairings and groups outside the caller's office, or that the programme's rules refuse,
    stay as they were and are listed under `skipped` with the reason."""
    helper = selectors.helper_for(request.user, pk)
    with payload_names(successor="successor_id"):
        done = handover.hand_over(
            acting_user=request.user,
            helper=helper,
            successor=Helper.objects.filter(pk=payload.successor_id).first(),
            reason=payload.reason,
            request=request,
        )
    return {
        "moved_pairings": [p.pk for p in done.pairings],
        "joined_groups": [g.pk for g in done.groups],
        "skipped": [{"what": what, "reason": why} for what, why in done.skipped],
    }


def group_out(user, g: HelperGroup, *, can_edit: bool | None = None) -> dict:
    """One group; a list passes can_edit (decided once for all) and prefetched members and
    annotated counts (selectors.group_list), so a group costs no query of its own."""
    members = sorted(g.members.all(), key=lambda h: (h.kind, h.name))
    active = getattr(g, "active_count", None)
    return {
        "id": g.pk,
        "name": g.name,
        "programme": g.programme.code,
        "node_code": g.node.code,
        "node_name": g.node.name,
        "members": [helper_out(h) for h in members],
        "active_pairings": active
        if active is not None
        else g.pairings.filter(end__isnull=True).count(),
        "can_edit": services.can_edit_group(user, g) if can_edit is None else can_edit,
    }


def _group_for(user, pk: int) -> HelperGroup:
    group = selectors.groups_for(user).select_related("programme", "node").filter(pk=pk).first()
    if group is None:
        raise Http404
    return group


def _members(ids) -> list[Helper]:
    try:
        return _helpers_by_id(ids)
    except ValidationError:
        raise ValidationError({"member_ids": services.ERR_HELPER_SCOPE}) from None


@router.get("/groups/", response=dict, summary="帮扶小组 the caller sees")
def group_list(request):
    user = request.user
    groups = list(selectors.group_list(user).prefetch_related("members")[:500])
    editable = services.editable_groups(user, groups)
    items = [group_out(user, g, can_edit=g.pk in editable) for g in groups]
    return {"items": items, "count": len(items)}


@router.get("/groups/{int:pk}", response={200: GroupOut, 404: ErrorOut})
def group_get(request, pk: int):
    return group_out(request.user, _group_for(request.user, pk))


@router.post(
    "/groups/",
    response={201: GroupOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="Form a 帮扶小组 for a group programme (offices only)",
)
def group_create(request, payload: GroupIn):
    data = {
        "programme": _programme(payload.programme.strip()),
        "name": payload.name,
        "node": _node_by_code(request.user, payload.node_code, "node_code"),
        "members": _members(payload.member_ids),
    }
    with payload_names(node="node_code", members="member_ids"):
        group = services.group_save(acting_user=request.user, data=data, request=request)
    return Reply(201, group_out(request.user, _group_for(request.user, group.pk)))


@router.patch(
    "/groups/{int:pk}",
    response={200: GroupOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Rename a group or change its members (its running pairings follow)",
)
def group_patch(request, pk: int, payload: GroupPatch):
    group = _group_for(request.user, pk)
    sent = payload.model_dump(exclude_unset=True)
    data = {}
    if "name" in sent:
        data["name"] = sent["name"] or ""
    if "member_ids" in sent:
        data["members"] = _members(sent["member_ids"] or [])
    with payload_names(members="member_ids"):
        services.group_save(acting_user=request.user, data=data, group=group, request=request)
    return group_out(request.user, _group_for(request.user, pk))
