"""Thin views of team dispatch: parse, call a selector or a service, render. Phone first."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from minqing.core.forms import NOT_SAVED, submitted
from minqing.core.paging import page_of, querystring_without_page
from minqing.registry.services import PermissionDenied
from minqing.secondments import selectors, services
from minqing.secondments.exports import report_response
from minqing.secondments.forms import ActivityForm, MemberForm, SecondmentForm
from minqing.secondments.models import AttendanceStatus, SecondmentKind


def _secondment(request, pk: int):
    return selectors.secondment_for(request.user, pk)


def _forbid(exc: PermissionDenied):
    raise DjangoPermissionDenied(str(exc)) from None


def _form_page(request, template: str, context: dict):
    return render(request, template, context, status=400 if context["form"].errors else 200)


@login_required
def index(request):
    q = request.GET.get("q", "")[:50]
    kind = request.GET.get("kind", "")
    kind = kind if kind in SecondmentKind.values else ""
    state = request.GET.get("state", "")
    state = state if state in ("active", "ended", "planned") else ""
    page = page_of(request, selectors.secondment_list(request.user, q=q, kind=kind, state=state))
    return render(
        request,
        "secondments/index.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "state": state,
            "kinds": SecondmentKind.choices,
            "today": timezone.localdate(),
            "can_manage": services.can_manage(request.user),
            "qs_no_page": querystring_without_page(request),
        },
    )


def _team_data(form) -> dict:
    return dict(form.cleaned_data)


@login_required
def secondment_new(request):
    if not services.can_manage(request.user):
        raise DjangoPermissionDenied(services.ERR_NOT_MANAGER)
    form = SecondmentForm(request.POST or None, user=request.user)
    secondment = submitted(
        request,
        form,
        lambda: services.secondment_create(
            acting_user=request.user, data=_team_data(form), request=request
        ),
        check=lambda: services.team_check(acting_user=request.user, data=_team_data(form)),
    )
    if secondment is not NOT_SAVED:
        messages.success(request, _("派驻团队已创建，请添加成员。"))
        return redirect(f"/secondments/{secondment.pk}/")
    return _form_page(request, "secondments/form.html", {"form": form, "title": _("新建组团派驻")})


@login_required
def secondment_edit(request, pk: int):
    secondment = _secondment(request, pk)
    if not services.can_manage(request.user):
        raise DjangoPermissionDenied(services.ERR_NOT_MANAGER)
    initial = {
        "kind": secondment.kind,
        "name": secondment.name,
        "sending_org": secondment.sending_org_id,
        "sending_name": secondment.sending_name,
        "receiving_place": secondment.receiving_place_id,
        "receiving_name": secondment.receiving_name,
        "node": secondment.node_id,
        "cycle_start": secondment.cycle_start,
        "cycle_end": secondment.cycle_end,
        "turn_months": secondment.turn_months,
        "note": secondment.note,
    }
    form = SecondmentForm(request.POST or None, user=request.user, initial=initial)

    def save():
        data = _team_data(form)
        # Units kept from the registry when the form could not offer them (outside the scope).
        data.setdefault("sending_place", secondment.sending_place)
        data.setdefault("receiving_org", secondment.receiving_org)
        return services.secondment_update(
            acting_user=request.user, secondment=secondment, data=data, request=request
        )

    if submitted(request, form, save) is not NOT_SAVED:
        messages.success(request, _("已保存。"))
        return redirect(f"/secondments/{secondment.pk}/")
    return _form_page(
        request,
        "secondments/form.html",
        {"form": form, "title": _("修改组团派驻"), "secondment": secondment},
    )


@login_required
def secondment_detail(request, pk: int):
    secondment = _secondment(request, pk)
    today = timezone.localdate()
    members = selectors.members_of(secondment)
    term = selectors.default_term(secondment, today)
    soon = today + dt.timedelta(days=selectors.TURN_ENDING_DAYS)
    return render(
        request,
        "secondments/detail.html",
        {
            "secondment": secondment,
            "members": members,
            "on_turn": [m for m in members if m.on_turn(today)],
            "ending_soon_ids": {m.pk for m in members if today <= m.turn_end <= soon},
            "today": today,
            "activities": selectors.activities_of(secondment)[:15],
            "days": selectors.recent_days(secondment),
            "term": term,
            "terms": selectors.terms_of(secondment),
            "can_manage": services.can_manage(request.user),
            "can_record": services.can_record(request.user, secondment),
            "in_cycle": secondment.cycle_start <= today <= secondment.cycle_end,
        },
    )


@login_required
def member_new(request, pk: int):
    secondment = _secondment(request, pk)
    if not services.can_manage(request.user):
        raise DjangoPermissionDenied(services.ERR_NOT_MANAGER)
    today = timezone.localdate()
    initial = {"turn_start": min(max(today, secondment.cycle_start), secondment.cycle_end)}
    form = MemberForm(request.POST or None, initial=initial, secondment=secondment)
    saved = submitted(
        request,
        form,
        lambda: services.member_add(
            acting_user=request.user,
            secondment=secondment,
            data=form.service_data(),
            request=request,
        ),
        check=lambda: services.member_check(secondment=secondment, data=form.service_data()),
    )
    if saved is not NOT_SAVED:
        messages.success(request, _("成员已添加。"))
        if "again" in request.POST:
            return redirect(f"/secondments/{secondment.pk}/members/new/")
        return redirect(f"/secondments/{secondment.pk}/#members")
    return _form_page(
        request,
        "secondments/member_form.html",
        {"form": form, "secondment": secondment, "member": None},
    )


@login_required
def member_edit(request, pk: int, member_pk: int):
    secondment = _secondment(request, pk)
    if not services.can_manage(request.user):
        raise DjangoPermissionDenied(services.ERR_NOT_MANAGER)
    member = secondment.members.filter(pk=member_pk).select_related("user").first()
    if member is None:
        raise Http404
    initial = {
        "name": member.name,
        "role": member.role,
        "speciality": member.speciality,
        "phone": member.phone,
        "turn_start": member.turn_start,
        "turn_end": member.turn_end,
        "username": member.user.username if member.user else "",
    }
    form = MemberForm(request.POST or None, initial=initial, secondment=secondment)
    saved = submitted(
        request,
        form,
        lambda: services.member_update(
            acting_user=request.user, member=member, data=form.service_data(), request=request
        ),
    )
    if saved is not NOT_SAVED:
        messages.success(request, _("已保存。"))
        return redirect(f"/secondments/{secondment.pk}/#members")
    return _form_page(
        request,
        "secondments/member_form.html",
        {"form": form, "secondment": secondment, "member": member},
    )


def _day(raw: str, default: dt.date) -> dt.date | None:
    raw = (raw or "").strip()[:10]
    if not raw:
        return default
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    # A day a term can have: the page links the day before and after (0001-01-01 - 1 overflows).
    return day if 1900 <= day.year <= 2199 else None


@login_required
def attendance(request, pk: int):
    """考勤表 of one day: one row per member on turn, four choices each, quick on a phone."""
    secondment = _secondment(request, pk)
    today = timezone.localdate()
    default = min(max(today, secondment.cycle_start), secondment.cycle_end)
    raw = request.POST.get("date") if request.method == "POST" else request.GET.get("date")
    day = _day(raw, default)
    errors: dict = {}
    if day is None:
        errors["date"] = [_("日期格式应为 YYYY-MM-DD。")]
        day = default
    can_record = services.can_record(request.user, secondment)
    if request.method == "POST" and not errors:
        if not can_record:
            raise DjangoPermissionDenied(services.ERR_NOT_RECORDER)
        members = {m.pk: m for m in selectors.members_on(secondment, day)}
        entries = [
            (m, request.POST.get(f"status_{m.pk}", ""), request.POST.get(f"note_{m.pk}", "")[:300])
            for m in members.values()
            if f"status_{m.pk}" in request.POST
        ]
        try:
            services.attendance_record(
                acting_user=request.user,
                secondment=secondment,
                date=day,
                entries=entries,
                request=request,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        except PermissionDenied as exc:
            _forbid(exc)
        else:
            messages.success(
                request, _("%(date)s 的考勤已保存（%(n)s 人）。") % {"date": day, "n": len(entries)}
            )
            return redirect(f"/secondments/{secondment.pk}/attendance/?date={day:%Y-%m-%d}")
    rows = selectors.attendance_sheet(secondment, day)
    if request.method == "POST":
        # Show what was sent, not what is stored, so nothing typed is lost.
        for row in rows:
            row.status = request.POST.get(f"status_{row.member.pk}", row.status)
            row.note = request.POST.get(f"note_{row.member.pk}", row.note)[:300]
    return render(
        request,
        "secondments/attendance.html",
        {
            "secondment": secondment,
            "day": day,
            "prev": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "today": today,
            "rows": rows,
            "errors": errors,
            "statuses": AttendanceStatus.choices,
            "can_record": can_record and day <= today,
            "days": selectors.recent_days(secondment),
        },
        status=400 if errors else 200,
    )


@login_required
def activity_new(request, pk: int):
    secondment = _secondment(request, pk)
    if not services.can_record(request.user, secondment):
        raise DjangoPermissionDenied(services.ERR_NOT_RECORDER)
    form = ActivityForm(request.POST or None, secondment=secondment)
    saved = submitted(
        request,
        form,
        lambda: services.activity_create(
            acting_user=request.user,
            secondment=secondment,
            data=form.cleaned_data,
            request=request,
        ),
    )
    if saved is not NOT_SAVED:
        messages.success(request, _("活动已登记。"))
        return redirect(f"/secondments/{secondment.pk}/#activities")
    return _form_page(
        request, "secondments/activity_form.html", {"form": form, "secondment": secondment}
    )


def _report(request, secondment):
    try:
        start, end, label = selectors.report_dates(
            secondment,
            term=request.GET.get("term", ""),
            start=request.GET.get("start", ""),
            end=request.GET.get("end", ""),
        )
    except ValueError as exc:
        return None, str(exc)
    return selectors.term_report(secondment, start=start, end=end, label=label), ""


@login_required
def report(request, pk: int):
    secondment = _secondment(request, pk)
    result, error = _report(request, secondment)
    return render(
        request,
        "secondments/report.html",
        {
            "secondment": secondment,
            "report": result,
            "error": error,
            "terms": selectors.terms_of(secondment),
            "term_key": request.GET.get("term", ""),
            "query": request.GET.urlencode(),
            "ending_days": selectors.TURN_ENDING_DAYS,
            "today": timezone.localdate(),  # a past term's turns have ended: marked so
        },
        status=400 if error else 200,
    )


@login_required
def report_xlsx(request, pk: int):
    secondment = _secondment(request, pk)
    result, error = _report(request, secondment)
    if result is None:
        messages.error(request, error)
        return redirect(f"/secondments/{secondment.pk}/report/")
    return report_response(request, result)
