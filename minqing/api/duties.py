"""duties in the JSON API, through the same selectors and services as the pages.

My duties this month (links with their visit, days), recording a day in the community, and the
monthly compliance report of the holders in the caller's scope. A holder outside the caller's
scope answers 404; a bad or future month answers 400 with the field error.

Offices give duties and set links (POST /holders, /holders/{pk}/links, /links/{pk}/end) through
the services the pages use: a holder or link outside the caller's scope answers 404, one they
see but may not manage (their own) 403, and a target outside their scope a field error, worded
like one that does not exist.
"""

import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from ninja.responses import Status as Reply
from pydantic import Field

from minqing.accounts.access import visible_nodes
from minqing.accounts.models import User
from minqing.api.schemas import ErrorOut, FieldErrorsOut, InSchema
from minqing.duties import selectors, services
from minqing.duties.models import DayKind, DutyDay, DutyHolder, DutyLink, DutyRule
from minqing.grids.models import Level, Node

router = Router(tags=["duties"])

ERR_COMMUNITY = _("社区编码不存在。")
ERR_MONTH_OUTSIDE = _("该月不在此干部的联系任务期间内。")


class MonthParams(InSchema):
    month: str = Field("", max_length=10, description="YYYY-MM；默认本月")


class DutyReportParams(MonthParams):
    node: str = Field("", max_length=20, description="区划编码；默认全部辖区")


class QuotaOut(Schema):
    communities: int
    households: int
    targets: int
    days: int
    visits: int


class LinkOut(Schema):
    id: int
    kind: str
    label: str
    detail: str
    community_id: int | None
    household_id: int | None
    person_id: int | None
    started_on: datetime.date
    ended_on: datetime.date | None
    visited: bool
    last_visit: datetime.datetime | None


class LineOut(Schema):
    holder_id: int
    user: str
    unit: str
    position: str
    rule: str
    node_code: str
    node_name: str
    owed: QuotaOut
    done: QuotaOut
    gaps: QuotaOut
    ok: bool
    gap_words: str


class LineDetailOut(LineOut):
    links: list[LinkOut]
    days: list["DutyDayOut"]


class UnitOut(Schema):
    unit: str
    holders: int
    holders_ok: int
    rate: int | None = Field(description="percent of holders on target; null without holders")
    owed: QuotaOut
    done: QuotaOut
    met: QuotaOut = Field(description="done up to what each holder owed: owed − met = gaps")
    gaps: QuotaOut


class DutyReportOut(Schema):
    month: str
    current: bool
    counted_on: datetime.date
    node_code: str | None
    items: list[LineOut]
    count: int
    units: list[UnitOut]
    total: UnitOut


class MyDutiesOut(Schema):
    month: str
    current: bool
    items: list[LineDetailOut]
    count: int


class DutyDayOut(Schema):
    id: int
    date: datetime.date
    kind: str
    kind_label: str
    community_code: str
    community_name: str
    note: str


class DutyDayIn(InSchema):
    date: datetime.date
    community_code: str = Field(max_length=20)
    kind: str = Field(
        DayKind.STAY, max_length=10, description="stay 蹲点 / resident 驻社区 / reception 接待群众"
    )
    note: str = Field("", max_length=300)


LineDetailOut.model_rebuild()


def _line(line: selectors.Line) -> dict:
    h = line.holder
    return {
        "holder_id": h.pk,
        "user": str(h.user),
        "unit": h.unit,
        "position": h.position,
        "rule": h.rule.name,
        "node_code": h.node.code,
        "node_name": h.node.name,
        "owed": line.owed,
        "done": line.done,
        "gaps": line.gaps,
        "ok": line.ok,
        "gap_words": line.gap_text,  # in the reader's language (the .xlsx keeps gap_words)
    }


def _day(d: DutyDay) -> dict:
    return {
        "id": d.pk,
        "date": d.date,
        "kind": d.kind,
        "kind_label": d.get_kind_display(),
        "community_code": d.community.code,
        "community_name": d.community.name,
        "note": d.note,
    }


def _detail(line: selectors.Line, month: selectors.Month) -> dict:
    return {
        **_line(line),
        "links": [
            {
                "id": s.pk,
                "kind": s.kind,
                "label": s.label,
                "detail": s.detail,
                "community_id": s.community_id,
                "household_id": s.household_id,
                "person_id": s.person_id,
                "started_on": s.started_on,
                "ended_on": s.ended_on,
                "visited": s.visited,
                "last_visit": s.last_visit,
            }
            for s in line.links
        ],
        "days": [_day(d) for d in selectors.days_of(line.holder, month)],
    }


def _unit(u: selectors.UnitTotal) -> dict:
    return {
        "unit": u.unit,
        "holders": u.holders,
        "holders_ok": u.holders_ok,
        "rate": u.rate,
        "owed": u.owed,
        "done": u.done,
        "met": u.met,
        "gaps": u.gaps,
    }


@router.get(
    "/me",
    response={200: MyDutiesOut, 400: FieldErrorsOut},
    summary="My contact duties in a month: quotas, linked places with their visit, days",
)
def my_duties(request, f: Query[MonthParams]):
    month = selectors.parse_month(f.month)
    lines = selectors.my_lines(request.user, month)
    return {
        "month": month.code,
        "current": month.current,
        "items": [_detail(line, month) for line in lines],
        "count": len(lines),
    }


@router.post(
    "/days",
    response={201: DutyDayOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="Record a day in a linked community (蹲点/驻社区), one per date",
)
def day_create(request, payload: DutyDayIn):
    community = Node.objects.filter(code=payload.community_code, level=Level.COMMUNITY).first()
    if community is None:
        raise ValidationError({"community_code": ERR_COMMUNITY})
    try:
        day = services.day_record(
            acting_user=request.user,
            date=payload.date,
            community=community,
            kind=payload.kind,
            note=payload.note,
            request=request,
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        if "community" in errors:
            errors["community_code"] = errors.pop("community")
        raise ValidationError(errors) from None
    return Reply(201, _day(day))


@router.delete(
    "/days/{int:pk}",
    response={200: dict, 404: ErrorOut},
    summary="Remove one of my days recorded by mistake",
)
def day_remove(request, pk: int):
    day = selectors.own_day_for(request.user, pk)
    services.day_delete(acting_user=request.user, day=day, request=request)
    return {"deleted": True}


@router.get(
    "/report",
    response={200: DutyReportOut, 400: FieldErrorsOut, 404: ErrorOut},
    summary="Monthly compliance report of the holders in the caller's scope",
)
def report(request, f: Query[DutyReportParams]):
    month = selectors.parse_month(f.month)
    node = None
    if f.node:
        node = visible_nodes(request.user).filter(code=f.node, level__lte=Level.COMMUNITY).first()
        if node is None:
            raise Http404
    rep = selectors.compliance(request.user, month.year, month.month, node=node)
    return {
        "month": month.code,
        "current": month.current,
        "counted_on": month.ref,
        "node_code": node.code if node else None,
        "items": [_line(line) for line in rep.lines],
        "count": len(rep.lines),
        "units": [_unit(u) for u in rep.units],
        "total": _unit(rep.total),
    }


@router.get(
    "/holders/{int:pk}",
    response={200: LineDetailOut, 400: FieldErrorsOut, 404: ErrorOut},
    summary="One holder's month (in the caller's scope): quotas, links, visits, days",
)
def holder_month(request, pk: int, f: Query[MonthParams]):
    holder = selectors.holder_for(request.user, pk)
    month = selectors.parse_month(f.month)
    line = selectors.holder_line(holder, month)
    if line is None:
        raise ValidationError({"month": ERR_MONTH_OUTSIDE})
    return _detail(line, month)


# ------------------------------------------------------------------ offices keep duties

MAX_ID = 2**63 - 1


class HolderIn(InSchema):
    """A new duty: the user (by id or username), the rule's code, the unit and its node."""

    user_id: int | None = Field(None, ge=1, le=MAX_ID, description="干部的用户 id")
    username: str = Field("", max_length=150, description="或干部的用户名")
    rule: str = Field(max_length=20, description="任务类型编码：leader / cadre / secretary")
    unit: str = Field(max_length=100)
    position: str = Field("", max_length=50)
    node_code: str = Field(max_length=20, description="所属区划（县、街道或社区）编码")
    active_from: datetime.date | None = Field(None, description="默认今天")
    active_to: datetime.date | None = Field(None, description="留空为长期")


class DutyHolderOut(Schema):
    id: int
    user_id: int
    user: str
    rule: str
    rule_name: str
    unit: str
    position: str
    node_code: str
    node_name: str
    active_from: datetime.date
    active_to: datetime.date | None


class LinkIn(InSchema):
    """A link: `kind` and the one target it names (community_code, household_number or
    person_id), each looked up in the caller's scope."""

    kind: str = Field(
        max_length=10, description="community 联系社区 / household 联系户 / target 服务对象"
    )
    community_code: str = Field("", max_length=20)
    household_number: str = Field("", max_length=30)
    person_id: int | None = Field(None, ge=1, le=MAX_ID)
    started_on: datetime.date | None = Field(None, description="默认今天")
    note: str = Field("", max_length=200)


class LinkEndIn(InSchema):
    ended_on: datetime.date | None = Field(None, description="默认今天")


class LinkRowOut(Schema):
    id: int
    holder_id: int
    kind: str
    kind_label: str
    label: str
    community_code: str | None
    household_number: str | None
    person_id: int | None
    started_on: datetime.date
    ended_on: datetime.date | None
    note: str


def _holder_out(h: DutyHolder) -> dict:
    return {
        "id": h.pk,
        "user_id": h.user_id,
        "user": str(h.user),
        "rule": h.rule.code,
        "rule_name": h.rule.name,
        "unit": h.unit,
        "position": h.position,
        "node_code": h.node.code,
        "node_name": h.node.name,
        "active_from": h.active_from,
        "active_to": h.active_to,
    }


def _link_out(link: DutyLink) -> dict:
    return {
        "id": link.pk,
        "holder_id": link.holder_id,
        "kind": link.kind,
        "kind_label": link.get_kind_display(),
        "label": str(link.target),
        "community_code": link.community.code if link.community_id else None,
        "household_number": link.household.number if link.household_id else None,
        "person_id": link.person_id,
        "started_on": link.started_on,
        "ended_on": link.ended_on,
        "note": link.note,
    }


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """The service's field errors under the names the API's body uses."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return ValidationError({names.get(k, k): v for k, v in errors.items()})


@router.post(
    "/holders",
    response={201: DutyHolderOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="Give a user in the caller's scope a contact duty (offices only)",
)
def holder_create(request, payload: HolderIn):
    if payload.user_id is not None:
        user = User.objects.filter(pk=payload.user_id).first()
    elif payload.username.strip():
        user = User.objects.filter(username=payload.username.strip()).first()
    else:
        user = None
    data = {
        "user": user,
        "rule": DutyRule.objects.filter(code=payload.rule.strip()).first(),
        "unit": payload.unit,
        "position": payload.position,
        "node": Node.objects.filter(code=payload.node_code.strip()).first(),
        "active_from": payload.active_from,
        "active_to": payload.active_to,
    }
    try:
        holder = services.office_holder_create(acting_user=request.user, data=data, request=request)
    except ValidationError as exc:
        user_field = "username" if payload.user_id is None and payload.username else "user_id"
        raise _renamed(exc, {"user": user_field, "node": "node_code"}) from None
    return Reply(201, _holder_out(holder))


def _holder_for(request, pk: int) -> DutyHolder:
    return selectors.holder_for(request.user, pk)


@router.post(
    "/holders/{int:pk}/links",
    response={201: LinkRowOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Link a holder to a community, household or service target (offices only)",
)
def link_create(request, pk: int, payload: LinkIn):
    holder = _holder_for(request, pk)
    try:
        link = services.office_link_add(
            acting_user=request.user,
            holder=holder,
            kind=payload.kind,
            community=payload.community_code,
            household=payload.household_number,
            person=payload.person_id,
            started_on=payload.started_on,
            note=payload.note,
            request=request,
        )
    except ValidationError as exc:
        raise _renamed(
            exc,
            {
                "community": "community_code",
                "household": "household_number",
                "person": "person_id",
            },
        ) from None
    return Reply(201, _link_out(link))


@router.post(
    "/holders/{int:pk}/end",
    response={200: DutyHolderOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="End a cadre's duty and its open links (today unless ended_on is given; offices)",
)
def holder_end(request, pk: int, payload: LinkEndIn | None = None):
    holder = selectors.holder_for(request.user, pk)
    services.office_holder_end(
        acting_user=request.user,
        holder=holder,
        ended_on=payload.ended_on if payload is not None else None,
        request=request,
    )
    return _holder_out(selectors.holder_for(request.user, pk))


@router.post(
    "/links/{int:pk}/end",
    response={200: LinkRowOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="End a link (today unless ended_on is given; offices only)",
)
def link_end(request, pk: int, payload: LinkEndIn | None = None):
    link = selectors.link_for(request.user, pk)
    link = services.office_link_end(
        acting_user=request.user,
        link=link,
        ended_on=payload.ended_on if payload is not None else None,
        request=request,
    )
    return _link_out(link)
