"""接待日 in the JSON API: the same reads and services as the /reception/ pages.

A day outside the caller's part of the tree answers 404 like one that does not exist. Visitors'
phones are only ever shown masked. A matter filed as a case answers 201 with the case's row
(its number, status and 7-working-day deadline); filing it twice answers 409.
"""

import datetime

from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.responses import Status as Reply
from pydantic import Field

from minqing.api.cases import CaseRowOut, case_row
from minqing.api.errors import payload_names
from minqing.api.schemas import ErrorOut, FieldErrorsOut, InSchema
from minqing.cases import reception
from minqing.cases.models import ReceptionDay, ReceptionMatter
from minqing.core.masking import mask_phone

router = Router(tags=["reception"])


class ReceptionDayOut(Schema):
    id: int
    node_code: str
    node_name: str
    date: datetime.date
    receivers: str
    place: str
    matters: int
    can_register: bool


class MatterOut(Schema):
    id: int
    visitor_name: str
    visitor_phone_masked: str
    matter: str
    opinion: str
    opinion_label: str
    opinion_note: str
    case_number: str | None
    case_status: str | None
    answer_by: datetime.datetime = Field(
        description="答复期限: the end of the 7th working day after the reception day"
    )
    answer_state: str = Field(description="answered, answered_late, pending or overdue")
    answer_label: str


class DayDetailOut(ReceptionDayOut):
    items: list[MatterOut]


class DayListOut(Schema):
    items: list[ReceptionDayOut]
    count: int


class DayFilter(InSchema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)


class ReceptionDayIn(InSchema):
    node_code: str = Field(max_length=20, description="the receiving community")
    date: datetime.date
    receivers: str = Field(max_length=400, description="who received, e.g. 社区书记 张某")
    place: str = Field("", max_length=200)


class MatterIn(InSchema):
    """One visitor's matter with its 处理意见 (required): solved (当场解决), deadline (限期办理),
    transfer (转办) or meeting (提交班子会议)."""

    visitor_name: str = Field(max_length=100)
    visitor_phone: str = Field("", max_length=30)
    matter: str = Field(max_length=8000)
    opinion: str = Field(
        max_length=12,
        description="处理意见: solved (当场解决) / deadline (限期办理) / transferred (转办) / "
        "meeting (提交班子会议)",
    )
    opinion_note: str = Field("", max_length=1000)


class ToCaseIn(InSchema):
    grid_code: str = Field("", max_length=20, description="default: the community's first grid")
    category: str = Field(
        "",
        max_length=20,
        description="category code of a class with none below it (0701 …); default 0702 民生求助",
    )


def day_out(day: ReceptionDay, matters: int, today=None) -> dict:
    return {
        "id": day.pk,
        "node_code": day.node.code,
        "node_name": day.node.name,
        "date": day.date,
        "receivers": day.receivers,
        "place": day.place,
        "matters": matters,
        "can_register": reception.can_register(day, today),
    }


def matter_out(m: ReceptionMatter) -> dict:
    return {
        "id": m.pk,
        "visitor_name": m.visitor_name,
        "visitor_phone_masked": mask_phone(m.visitor_phone),
        "matter": m.matter,
        "opinion": m.opinion,
        "opinion_label": str(m.get_opinion_display()),
        "opinion_note": m.opinion_note,
        "case_number": m.case.number if m.case_id else None,
        "case_status": m.case.status if m.case_id else None,
        "answer_by": (due := reception.answer_by(m.day)),
        "answer_state": (state := reception.answer_state(m, due=due)).value,
        "answer_label": str(state.label),
    }


def _day_detail(day: ReceptionDay) -> dict:
    matters = list(day.matters.select_related("case"))
    return {**day_out(day, len(matters)), "items": [matter_out(m) for m in matters]}


def _matter_for(user, pk: int) -> ReceptionMatter:
    matter = (
        ReceptionMatter.objects.filter(pk=pk, day__in=reception.reception_days_for(user))
        .select_related("day__node", "case")
        .first()
    )
    if matter is None:
        raise Http404
    return matter


@router.get("/days/", response={200: DayListOut, 400: FieldErrorsOut}, summary="Reception days")
def day_list(request, f: Query[DayFilter]):
    from django.db.models import Count

    qs = (
        reception.reception_days_for(request.user)
        .select_related("node")
        .annotate(n=Count("matters"))
        .order_by("-date", "-id")
    )
    today = timezone.localdate()
    start = (f.page - 1) * f.page_size
    return {
        "items": [day_out(d, d.n, today) for d in qs[start : start + f.page_size]],
        "count": qs.count(),
    }


@router.get("/days/{int:pk}", response={200: DayDetailOut, 404: ErrorOut})
def day_get(request, pk: int):
    return _day_detail(reception.reception_day_for(request.user, pk))


@router.post(
    "/days/",
    response={201: DayDetailOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="Open a reception day (接待日) for a community in the caller's scope",
)
def day_create(request, payload: ReceptionDayIn):
    with payload_names(node="node_code"):
        day = reception.reception_day_create(
            acting_user=request.user,
            data={
                "node": payload.node_code,
                "date": payload.date.isoformat(),
                "receivers": payload.receivers,
                "place": payload.place,
            },
        )
    return Reply(201, _day_detail(reception.reception_day_for(request.user, day.pk)))


@router.post(
    "/days/{int:pk}/matters",
    response={201: MatterOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Register a visitor's matter with its 处理意见",
)
def matter_add(request, pk: int, payload: MatterIn):
    day = reception.reception_day_for(request.user, pk)
    row = reception.reception_matter_add(
        acting_user=request.user, day=day, data=payload.dict(), request=request
    )
    return Reply(201, matter_out(_matter_for(request.user, row.pk)))


@router.post(
    "/matters/{int:pk}/case",
    response={201: CaseRowOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="转为案件: file a matter as a case (channel 接待日, 7 working days)",
)
def matter_to_case(request, pk: int, payload: ToCaseIn):
    matter = _matter_for(request.user, pk)
    with payload_names(grid="grid_code"):
        case = reception.reception_matter_to_case(
            acting_user=request.user,
            matter=matter,
            grid=payload.grid_code,
            category=payload.category,
        )
    return Reply(201, case_row(case))
