"""接待日 pages: the days in the user's scope, a day's register, its matters turned into cases.

Thin views: parse the request, call minqing.cases.reception, render.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.views.decorators.http import require_POST

from minqing.cases import reception, services
from minqing.cases.models import OpinionKind, Status
from minqing.core.audit import audit_log
from minqing.core.i18n import source_choices
from minqing.core.masking import mask_phone
from minqing.core.models import AuditAction
from minqing.core.paging import page_of, querystring_without_page
from minqing.core.xlsx import Column, Stamp, xlsx_response
from minqing.registry.exports import exporter_name
from minqing.registry.services import PermissionDenied

ERR_NO_COMMUNITY = gettext_lazy("您的管辖范围内没有社区，不能登记接待日。")
MSG_DAY_CREATED = gettext_noop("接待日已建立，可以登记来访事项了。")
MSG_MATTER_ADDED = gettext_noop("来访事项已登记。")
MSG_CONVERTED = gettext_noop("已转为案件 {number}。")

DAY_FIELDS = ("node", "date", "receivers", "place")
MATTER_FIELDS = ("visitor_name", "visitor_phone", "matter", "opinion", "opinion_note")


def _errors(exc: ValidationError) -> dict[str, str]:
    return {field: " ".join(msgs) for field, msgs in exc.message_dict.items()}


def _values(request, fields) -> dict[str, str]:
    return {f: str(request.POST.get(f, "")) for f in fields}


@login_required
def day_list(request):
    qs = (
        reception.reception_days_for(request.user)
        .annotate(
            matter_count=Count("matters"),
            case_count=Count("matters__case"),
            overdue_count=Count(
                "matters",
                filter=reception.overdue_q(on_days=True),
            ),
        )
        .order_by("-date", "-id")
    )
    return render(
        request,
        "cases/reception_list.html",
        {
            "page": page_of(request, qs),
            "qs_no_page": querystring_without_page(request),
            "can_create": reception.communities_for(request.user).exists(),
        },
    )


@login_required
def day_create(request):
    communities = list(reception.communities_for(request.user))
    if not communities:
        raise DjangoPermissionDenied(ERR_NO_COMMUNITY)
    errors: dict[str, str] = {}
    values = {
        "node": communities[0].code if len(communities) == 1 else "",
        "date": timezone.localdate().isoformat(),
        "receivers": "",
        "place": "",
    }
    if request.method == "POST":
        values = _values(request, DAY_FIELDS)
        try:
            day = reception.reception_day_create(acting_user=request.user, data=values)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, gettext(MSG_DAY_CREATED))
            return redirect(f"/reception/{day.pk}/")
    return render(
        request,
        "cases/reception_form.html",
        {"communities": communities, "values": values, "errors": errors},
        status=400 if errors else 200,
    )


def _detail(request, day, *, values=None, errors=None, status=200):
    today = timezone.localdate()
    grids = list(reception.grids_for(request.user, day))
    default = reception.default_category()
    matters = list(day.matters.select_related("case"))
    now, due = timezone.now(), reception.answer_by(day)
    for m in matters:
        m.phone_masked = mask_phone(m.visitor_phone)
        m.answer = reception.answer_state(m, now=now, due=due)
    return render(
        request,
        "cases/reception_detail.html",
        {
            "day": day,
            "matters": matters,
            "grids": grids,
            "categories": reception.categories(),
            "default_category": default.code if default else "",
            "opinions": OpinionKind.choices,
            "solved": OpinionKind.SOLVED,
            "answer_by": reception.answer_by(day),
            "late_states": (reception.Answer.OVERDUE, reception.Answer.ANSWERED_LATE),
            "can_register": reception.can_register(day, today),
            "values": values or {},
            "errors": errors or {},
        },
        status=status,
    )


@login_required
def day_detail(request, pk: int):
    return _detail(request, reception.reception_day_for(request.user, pk))


@login_required
@require_POST
def matter_add(request, pk: int):
    day = reception.reception_day_for(request.user, pk)
    values = _values(request, MATTER_FIELDS)
    try:
        reception.reception_matter_add(
            acting_user=request.user, day=day, data=values, request=request
        )
    except ValidationError as exc:
        return _detail(request, day, values=values, errors=_errors(exc), status=400)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from None
    messages.success(request, gettext(MSG_MATTER_ADDED))
    return redirect(f"/reception/{day.pk}/#matters")


@login_required
@require_POST
def matter_to_case(request, pk: int, mid: int):
    day = reception.reception_day_for(request.user, pk)
    matter = day.matters.filter(pk=mid).first() if 0 < mid < 2**63 else None
    if matter is None:
        raise Http404
    try:
        case = reception.reception_matter_to_case(
            acting_user=request.user,
            matter=matter,
            grid=str(request.POST.get("grid", "")),
            category=str(request.POST.get("category", "")),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc).values()))
    except services.CaseConflict as exc:
        messages.error(request, str(exc))
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from None
    else:
        messages.success(request, gettext(MSG_CONVERTED).format(number=case.number))
    return redirect(f"/reception/{day.pk}/#matter-{matter.pk}")


EXPORT_COLUMNS = [
    Column("序号", 6),
    Column("来访人", 10),
    Column("联系电话", 14),
    Column("反映事项", 48),
    Column("处理意见", 12),
    Column("处理说明", 30),
    Column("案件编号", 18),
    Column("案件状态", 10),
    Column("答复期限", 12),
    Column("答复情况", 12),
]


def _export_rows(day):
    # The register is an official Chinese document: its labels stay Chinese in the English UI.
    opinions, statuses = source_choices(OpinionKind), source_choices(Status)
    answers = source_choices(reception.Answer)
    answer_by = reception.answer_by(day)
    due = timezone.localtime(answer_by).date()
    for i, m in enumerate(day.matters.select_related("case"), start=1):
        yield [
            i,
            m.visitor_name,
            mask_phone(m.visitor_phone),
            m.matter,
            opinions.get(m.opinion, m.opinion),
            m.opinion_note,
            m.case.number if m.case_id else "",
            statuses.get(m.case.status, m.case.status) if m.case_id else "",
            due,
            answers[reception.answer_state(m, due=answer_by)],
        ]


@login_required
def day_export(request, pk: int):
    """The day's register as .xlsx (phones masked), stamped and audited like every export."""
    day = reception.reception_day_for(request.user, pk)
    scope = f"{day.node.name} {day.date:%Y-%m-%d} 接待日（接待人：{day.receivers}）"
    stamp = Stamp(exporter=exporter_name(request.user), scope=scope)

    def audited(count: int) -> None:
        audit_log(
            actor=request.user,
            action=AuditAction.EXPORT,
            obj=day,
            changes={"rows": [None, count]},
            request=request,
            node=day.node,
        )

    return xlsx_response(
        _export_rows(day),
        columns=EXPORT_COLUMNS,
        title="接待日登记表",
        filename=f"接待日登记表-{day.node.name}-{day.date:%Y%m%d}.xlsx",
        stamp=stamp,
        on_written=audited,
    )
