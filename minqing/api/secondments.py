"""Team dispatch (组团派驻) in the JSON API, through the same selectors and services as the pages.

Lists answer {"items", "count"}; a team outside the caller's scope answers 404 exactly like one
that does not exist. Writes (attendance, activities) go through `secondments.services`
(ValidationError → 400, PermissionDenied → 403). Members' phones are only shown masked.
"""

import datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from ninja.responses import Status as Reply
from pydantic import Field

from minqing.api.errors import payload_names
from minqing.api.schemas import ErrorOut, FieldErrorsOut, InSchema
from minqing.secondments import selectors, services
from minqing.secondments.forms import ERR_USERNAME
from minqing.secondments.models import (
    Activity,
    AttendanceStatus,
    Secondment,
    SecondmentKind,
    SecondmentMember,
)

router = Router(tags=["secondments"])

MAX_ID = 2**62
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ERR_DATE_RANGE = _("日期超出可接受的范围（2000 至 2100 年）。")
ERR_MEMBER_IDS = _("所选成员不属于该派驻团队。")
ERR_RECORD = _("不存在或不在您的管辖范围内。")
# The services' field names → this API's.
TEAM_FIELDS = {
    "sending_org": "sending_org_id",
    "receiving_place": "receiving_place_id",
    "node": "node_code",
}
EARLIEST, LATEST = datetime.date(2000, 1, 1), datetime.date(2100, 12, 31)


# ------------------------------------------------------------------ shapes


class ListParams(InSchema):
    q: str = Field("", max_length=50)
    kind: str = Field("", max_length=20, description="teaching / medical / other")
    state: str = Field("", max_length=10, description="active / planned / ended")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)


class SecondmentRowOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    sending_name: str
    receiving_name: str
    node_code: str
    node_name: str
    cycle_start: datetime.date
    cycle_end: datetime.date
    turn_months: int
    members_on_turn: int


class SecondmentListOut(Schema):
    items: list[SecondmentRowOut]
    count: int


class MemberOut(Schema):
    id: int
    name: str
    phone_masked: str
    role: str
    role_label: str
    speciality: str
    turn_start: datetime.date
    turn_end: datetime.date
    on_turn: bool
    username: str | None


class SecondmentDetailOut(SecondmentRowOut):
    note: str
    members: list[MemberOut]
    can_record: bool


class AttendanceEntryIn(InSchema):
    member_id: Id
    status: str = Field(..., max_length=10, description="present / late / leave / absent")
    note: str = Field("", max_length=200)


class AttendanceIn(InSchema):
    date: datetime.date
    entries: list[AttendanceEntryIn] = Field(..., max_length=500)


class AttendanceRowOut(Schema):
    member_id: int
    name: str
    status: str
    status_label: str
    note: str
    recorded: bool


class AttendanceSheetOut(Schema):
    date: datetime.date
    items: list[AttendanceRowOut]
    count: int


class SheetParams(InSchema):
    date: datetime.date | None = Field(None, description="默认为今天")


class ActivityIn(InSchema):
    kind: str = Field(..., max_length=20)
    date: datetime.date
    title: str = Field(..., max_length=100)
    member_ids: list[Id] = Field(..., max_length=200)
    place: str = Field("", max_length=100)
    participants: int = Field(0, ge=0, le=services.MAX_PARTICIPANTS)
    note: str = Field("", max_length=2000)


class ActivityOut(Schema):
    id: int
    kind: str
    kind_label: str
    date: datetime.date
    title: str
    place: str
    participants: int
    note: str
    members: list[str]


class ActivityListOut(Schema):
    items: list[ActivityOut]
    count: int


class PageParams(InSchema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)


class SecondmentReportParams(InSchema):
    term: str = Field(
        "",
        max_length=20,
        description="a school team's term (2025-autumn, 2026-spring), another team's half-year (2026-h1, 2026-h2)",
    )
    start: str = Field("", max_length=10, description="YYYY-MM-DD (with end)")
    end: str = Field("", max_length=10)


class ReportLineOut(Schema):
    member_id: int
    name: str
    role: str
    days: int
    present: int
    late: int
    leave: int
    absent: int
    rate: float | None
    activities: int


class ReportKindOut(Schema):
    kind: str
    label: str
    count: int
    participants: int


class SecondmentReportOut(Schema):
    secondment_id: int
    label: str
    start: datetime.date
    end: datetime.date
    lines: list[ReportLineOut]
    kinds: list[ReportKindOut]
    activity_count: int
    participants: int
    days: int
    rate: float | None
    ending_soon: list[MemberOut]


class SecondmentIn(InSchema):
    """A team sent by a unit (an organisation of the registry by `sending_org_id`, or a name) to a
    receiving unit (a school or hospital by `receiving_place_id`, or a name) at `node_code`
    (optional with a place: its grid), for a cycle (`cycle_end` default: 3 years) with turns of
    `turn_months` (default 12). PUT replaces all of these, as the edit page does."""

    kind: str = Field("teaching", max_length=20, description="teaching / medical / other")
    name: str = Field("", max_length=200, description="default: made from the two units")
    sending_org_id: Id | None = None
    sending_name: str = Field("", max_length=200)
    receiving_place_id: Id | None = None
    receiving_name: str = Field("", max_length=200)
    node_code: str = Field("", max_length=20)
    cycle_start: datetime.date
    cycle_end: datetime.date | None = None
    turn_months: int | None = Field(None, ge=1, le=60)
    note: str = Field("", max_length=4000)


class SecondmentMemberIn(InSchema):
    """One turn of one person; `turn_end` defaults to a full turn, cut at the cycle's end."""

    name: str = Field(max_length=100)
    role: str = Field(
        max_length=20, description="leader / teacher / doctor / staff (队长、教师、医生、工作人员)"
    )
    speciality: str = Field("", max_length=100)
    phone: str = Field("", max_length=30)
    username: str = Field("", max_length=150, description="the member's account, if any")
    turn_start: datetime.date
    turn_end: datetime.date | None = None


class SecondmentMemberPatch(InSchema):
    """Only the fields sent change; `username: ""` unlinks the account, leaving it out keeps it."""

    name: str | None = Field(None, max_length=100)
    role: str | None = Field(
        None,
        max_length=20,
        description="leader / teacher / doctor / staff (队长、教师、医生、工作人员)",
    )
    speciality: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=30)
    username: str | None = Field(None, max_length=150)
    turn_start: datetime.date | None = None
    turn_end: datetime.date | None = None


# ------------------------------------------------------------------ conversions


def _row(s: Secondment, on_turn: int) -> dict:
    return {
        "id": s.pk,
        "kind": s.kind,
        "kind_label": s.get_kind_display(),
        "name": s.name,
        "sending_name": s.sending_name,
        "receiving_name": s.receiving_name,
        "node_code": s.node.code,
        "node_name": s.node.name,
        "cycle_start": s.cycle_start,
        "cycle_end": s.cycle_end,
        "turn_months": s.turn_months,
        "members_on_turn": on_turn,
    }


def _member(m: SecondmentMember, today: datetime.date) -> dict:
    return {
        "id": m.pk,
        "name": m.name,
        "phone_masked": m.phone_masked,
        "role": m.role,
        "role_label": m.get_role_display(),
        "speciality": m.speciality,
        "turn_start": m.turn_start,
        "turn_end": m.turn_end,
        "on_turn": m.on_turn(today),
        "username": m.user.username if m.user_id else None,
    }


def _activity(a: Activity) -> dict:
    return {
        "id": a.pk,
        "kind": a.kind,
        "kind_label": a.get_kind_display(),
        "date": a.date,
        "title": a.title,
        "place": a.place,
        "participants": a.participants,
        "note": a.note,
        "members": [m.name for m in a.members.all()],
    }


def _sheet(secondment: Secondment, day: datetime.date) -> dict:
    labels = dict(AttendanceStatus.choices)
    rows = selectors.attendance_sheet(secondment, day)
    return {
        "date": day,
        "items": [
            {
                "member_id": r.member.pk,
                "name": r.member.name,
                "status": r.status if r.recorded else "",
                "status_label": str(labels[r.status]) if r.recorded else "",
                "note": r.note,
                "recorded": r.recorded,
            }
            for r in rows
        ],
        "count": len(rows),
    }


def _check_range(day: datetime.date, field: str) -> None:
    if not EARLIEST <= day <= LATEST:
        raise ValidationError({field: ERR_DATE_RANGE})


# ------------------------------------------------------------------ endpoints


@router.get("/", response=SecondmentListOut, summary="组团派驻 the caller may see")
def secondment_list(request, params: Query[ListParams]):
    kind = params.kind if params.kind in SecondmentKind.values else ""
    qs = selectors.secondment_list(request.user, q=params.q, kind=kind, state=params.state)
    start = (params.page - 1) * params.page_size
    items = [_row(s, s.on_turn) for s in qs[start : start + params.page_size]]
    return {"items": items, "count": qs.count()}


@router.get("/{secondment_id}", response={200: SecondmentDetailOut, 404: ErrorOut})
def secondment_get(request, secondment_id: Id):
    s = selectors.secondment_for(request.user, secondment_id)
    today = timezone.localdate()
    members = selectors.members_of(s)
    return {
        **_row(s, sum(1 for m in members if m.on_turn(today))),
        "note": s.note,
        "members": [_member(m, today) for m in members],
        "can_record": services.can_record(request.user, s),
    }


@router.get(
    "/{secondment_id}/attendance",
    response={200: AttendanceSheetOut, 400: FieldErrorsOut, 404: ErrorOut},
    summary="One day's attendance sheet (members on turn that day)",
)
def attendance_get(request, secondment_id: Id, params: Query[SheetParams]):
    s = selectors.secondment_for(request.user, secondment_id)
    day = params.date or timezone.localdate()
    _check_range(day, "date")
    return _sheet(s, day)


@router.post(
    "/{secondment_id}/attendance",
    response={200: AttendanceSheetOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Record (or correct) one day's attendance: present / late / leave / absent",
)
def attendance_post(request, secondment_id: Id, payload: AttendanceIn):
    s = selectors.secondment_for(request.user, secondment_id)
    _check_range(payload.date, "date")
    members = {m.pk: m for m in s.members.filter(pk__in=[e.member_id for e in payload.entries])}
    if any(e.member_id not in members for e in payload.entries):
        raise ValidationError({"entries": ERR_MEMBER_IDS})
    services.attendance_record(
        acting_user=request.user,
        secondment=s,
        date=payload.date,
        entries=[(members[e.member_id], e.status, e.note) for e in payload.entries],
        request=request,
    )
    return _sheet(s, payload.date)


@router.post(
    "/{secondment_id}/activities",
    response={201: ActivityOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Log an activity (公开课, 送课下乡, 家访, 义诊, 讲座 …)",
)
def activity_post(request, secondment_id: Id, payload: ActivityIn):
    s = selectors.secondment_for(request.user, secondment_id)
    _check_range(payload.date, "date")
    members = list(s.members.filter(pk__in=payload.member_ids))
    if len(members) != len(set(payload.member_ids)):
        raise ValidationError({"member_ids": ERR_MEMBER_IDS})
    try:
        activity = services.activity_create(
            acting_user=request.user,
            secondment=s,
            data={**payload.dict(exclude={"member_ids"}), "members": members},
            request=request,
        )
    except ValidationError as exc:
        errors = exc.message_dict
        if "members" in errors:
            errors["member_ids"] = errors.pop("members")
        raise ValidationError(errors) from None
    return Reply(201, _activity(activity))


@router.get(
    "/{secondment_id}/activities",
    response={200: ActivityListOut, 404: ErrorOut},
    summary="The team's activities, newest first",
)
def activity_list(request, secondment_id: Id, params: Query[PageParams]):
    s = selectors.secondment_for(request.user, secondment_id)
    qs = selectors.activities_of(s)
    start = (params.page - 1) * params.page_size
    return {
        "items": [_activity(a) for a in qs[start : start + params.page_size]],
        "count": qs.count(),
    }


@router.get(
    "/{secondment_id}/report",
    response={200: SecondmentReportOut, 400: FieldErrorsOut, 404: ErrorOut},
    summary="学期报告 / 半年报告: attendance rates per member, activities by kind, turns ending soon",
)
def report_get(request, secondment_id: Id, params: Query[SecondmentReportParams]):
    s = selectors.secondment_for(request.user, secondment_id)
    try:
        start, end, label = selectors.report_dates(
            s, term=params.term, start=params.start, end=params.end
        )
    except ValueError as exc:
        # A range given by its dates is wrong in its dates, not in a term nobody sent.
        field = "term" if params.term and not (params.start or params.end) else "start"
        raise ValidationError({field: str(exc)}) from None
    report = selectors.term_report(s, start=start, end=end, label=label)
    today = timezone.localdate()
    return {
        "secondment_id": s.pk,
        "label": str(report.label),
        "start": report.start,
        "end": report.end,
        "lines": [
            {
                "member_id": line.member.pk,
                "name": line.member.name,
                "role": line.member.role,
                "days": line.days,
                "present": line.present,
                "late": line.late,
                "leave": line.leave,
                "absent": line.absent,
                "rate": line.rate,
                "activities": line.activities,
            }
            for line in report.lines
        ],
        "kinds": [
            {
                "kind": k.kind,
                "label": str(k.label),
                "count": k.count,
                "participants": k.participants,
            }
            for k in report.kinds
        ],
        "activity_count": report.activity_count,
        "participants": report.participants,
        "days": report.totals.days,
        "rate": report.totals.rate,
        "ending_soon": [_member(m, today) for m in report.ending_soon],
    }


# ------------------------------------------------------------------ teams and members kept


def _team_data(user, payload: SecondmentIn) -> dict:
    """The payload as the services take it, the registry records looked up in the caller's
    scope (one outside it reads as not there)."""
    from minqing.accounts.access import scope_queryset, visible_nodes
    from minqing.registry.models import Organisation, Place

    for field in ("cycle_start", "cycle_end"):
        if getattr(payload, field) is not None:
            _check_range(getattr(payload, field), field)
    data = payload.dict(exclude={"sending_org_id", "receiving_place_id", "node_code"})
    data["sending_org"] = data["receiving_place"] = data["node"] = None
    if payload.sending_org_id is not None:
        data["sending_org"] = scope_queryset(
            user, Organisation.objects.filter(pk=payload.sending_org_id)
        ).first()
        if data["sending_org"] is None:
            raise ValidationError({"sending_org_id": ERR_RECORD})
    if payload.receiving_place_id is not None:
        data["receiving_place"] = scope_queryset(
            user, Place.objects.filter(pk=payload.receiving_place_id)
        ).first()
        if data["receiving_place"] is None:
            raise ValidationError({"receiving_place_id": ERR_RECORD})
    code = payload.node_code.strip()
    if code:
        # A node the caller does not see reads as not there.
        data["node"] = visible_nodes(user).filter(code=code).first()
        if data["node"] is None:
            raise ValidationError({"node_code": ERR_RECORD})
    return data


def _detail(user, s: Secondment) -> dict:
    today = timezone.localdate()
    members = selectors.members_of(s)
    return {
        **_row(s, sum(1 for m in members if m.on_turn(today))),
        "note": s.note,
        "members": [_member(m, today) for m in members],
        "can_record": services.can_record(user, s),
    }


def _member_data(payload: SecondmentMemberIn) -> dict:
    from minqing.accounts.models import User

    for field in ("turn_start", "turn_end"):
        if getattr(payload, field) is not None:
            _check_range(getattr(payload, field), field)
    data = payload.dict(exclude={"username"})
    data["user"] = None
    if payload.username.strip():
        # Active or not, the services decide (a member keeps the account they were linked to).
        data["user"] = User.objects.filter(username=payload.username.strip()).first()
        if data["user"] is None:
            raise ValidationError({"username": ERR_USERNAME})
    return data


@router.post(
    "/",
    response={201: SecondmentDetailOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="Form a dispatched team (组团派驻) — county and street offices",
)
def secondment_post(request, payload: SecondmentIn):
    with payload_names(**TEAM_FIELDS):
        s = services.secondment_create(
            acting_user=request.user, data=_team_data(request.user, payload), request=request
        )
    return Reply(201, _detail(request.user, selectors.secondment_for(request.user, s.pk)))


@router.put(
    "/{secondment_id}",
    response={200: SecondmentDetailOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Change a team's units, cycle or turn length (members' turns must still fit)",
)
def secondment_put(request, secondment_id: Id, payload: SecondmentIn):
    s = selectors.secondment_for(request.user, secondment_id)
    data = _team_data(request.user, payload)
    # Units linked from the registry that this API does not name stay as they are.
    data.setdefault("sending_place", s.sending_place)
    data.setdefault("receiving_org", s.receiving_org)
    with payload_names(**TEAM_FIELDS):
        services.secondment_update(
            acting_user=request.user, secondment=s, data=data, request=request
        )
    return _detail(request.user, selectors.secondment_for(request.user, secondment_id))


@router.post(
    "/{secondment_id}/members",
    response={201: MemberOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Add a member's turn",
)
def member_post(request, secondment_id: Id, payload: SecondmentMemberIn):
    s = selectors.secondment_for(request.user, secondment_id)
    with payload_names(user="username"):
        m = services.member_add(
            acting_user=request.user, secondment=s, data=_member_data(payload), request=request
        )
    return Reply(201, _member(m, timezone.localdate()))


@router.put(
    "/{secondment_id}/members/{member_id}",
    response={200: MemberOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Change a member's details or turn (e.g. a turn ended early)",
)
def member_put(request, secondment_id: Id, member_id: Id, payload: SecondmentMemberIn):
    return _save_member(request, _member_of(request.user, secondment_id, member_id), payload)


@router.patch(
    "/{secondment_id}/members/{member_id}",
    response={200: MemberOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Change some of a member's details or turn; what is not sent stays",
)
def member_patch(request, secondment_id: Id, member_id: Id, payload: SecondmentMemberPatch):
    member = _member_of(request.user, secondment_id, member_id)
    current = {
        "name": member.name,
        "role": member.role,
        "speciality": member.speciality,
        "phone": member.phone,
        "username": member.user.username if member.user_id else "",
        "turn_start": member.turn_start,
        "turn_end": member.turn_end,
    }
    # null means "keep", as leaving a field out does; "" for username unlinks the account.
    sent = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return _save_member(request, member, SecondmentMemberIn(**{**current, **sent}))


def _save_member(request, member, payload: SecondmentMemberIn) -> dict:
    with payload_names(user="username"):
        m = services.member_update(
            acting_user=request.user, member=member, data=_member_data(payload), request=request
        )
    return _member(m, timezone.localdate())


def _member_of(user, secondment_id: int, member_id: int):
    """A member of a team the caller sees, or 404."""
    from django.http import Http404

    s = selectors.secondment_for(user, secondment_id)
    member = s.members.select_related("user").filter(pk=member_id).first()
    if member is None:
        raise Http404
    return member
