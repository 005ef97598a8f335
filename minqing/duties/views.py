"""Thin views: parse the request, call a selector or a service, render. Phone first."""

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minqing.accounts.access import visible_nodes
from minqing.core.forms import NOT_SAVED, submitted
from minqing.duties import exports, permissions, selectors, services
from minqing.duties.forms import DayForm, HolderForm, LinkEndForm, LinkForm
from minqing.duties.models import DutyHolder, DutyLink
from minqing.grids.models import Level, Node
from minqing.registry.services import PermissionDenied


def _first_error(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(m for msgs in exc.message_dict.values() for m in msgs)
    return "；".join(exc.messages)


def report_nodes(user):
    """The places an office may narrow the report to (county, streets, communities)."""
    return visible_nodes(user).filter(level__lte=Level.COMMUNITY).order_by("path")


def _node_param(request) -> Node | None:
    code = request.GET.get("node", "").strip()[:20]
    if not code:
        return None
    node = report_nodes(request.user).filter(code=code).first()
    if node is None:
        raise Http404
    return node


def _last_day(holder) -> dt.date:
    """Today, or the last day of a duty that has ended (whose communities the form offers)."""
    today = timezone.localdate()
    return min(today, holder.active_to) if holder.active_to else today


def _my_part(request, form=None) -> dict:
    """The signed-in holder's month: quotas, linked places with visit ticks, days, the day form."""
    user = request.user
    month = selectors.parse_month("")
    holder = selectors.recording_holder(user, today=month.today)
    ctx = {"month": month, "holder": holder, "line": None, "days": [], "form": None}
    if holder is None:
        return ctx
    ctx["line"] = next((ln for ln in selectors.my_lines(user, month) if ln.holder == holder), None)
    ctx["days"] = list(selectors.days_of(holder, month))
    communities = selectors.day_communities(holder, day=_last_day(holder))
    ctx["form"] = form or DayForm(communities=communities)
    ctx["can_record"] = communities.exists()
    return ctx


def _index(request, form=None, status=200):
    user = request.user
    ctx = _my_part(request, form)
    ctx["office"] = selectors.is_office(user)
    ctx["can_create_holder"] = permissions.can_create_holder(user)
    if ctx["office"]:
        m = ctx["month"]
        ctx["report"] = selectors.compliance(user, m.year, m.month)
    return render(request, "duties/index.html", ctx, status=status)


@login_required
def index(request):
    return _index(request)


@login_required
@require_POST
def day_new(request):
    holder = selectors.recording_holder(request.user)
    if holder is None:
        raise Http404
    form = DayForm(
        request.POST, communities=selectors.day_communities(holder, day=_last_day(holder))
    )
    if form.is_valid():
        try:
            day = services.day_record(
                acting_user=request.user,
                holder=None,  # the duty in force on the day's date (services.day_record)
                date=form.cleaned_data["date"],
                community=form.cleaned_data["community"],
                kind=form.cleaned_data["kind"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(
                request, _("已记录 %(date)s 驻社区。") % {"date": f"{day.date:%Y-%m-%d}"}
            )
            return redirect("/duties/")
    return _index(request, form=form, status=400)


@login_required
@require_POST
def day_remove(request, pk: int):
    day = selectors.own_day_for(request.user, pk)
    services.day_delete(acting_user=request.user, day=day, request=request)
    messages.success(request, _("已删除该驻社区记录。"))
    return redirect("/duties/")


def _month_or_error(request):
    try:
        return selectors.parse_month(request.GET.get("month")), None
    except ValidationError as exc:
        return selectors.parse_month(""), _first_error(exc)


# A county's report has thousands of rows: above this the page shows the units, and a unit's
# rows when one is picked; the Excel file always has every row.
MAX_ROWS = 300


def _narrowing(request) -> tuple[str, bool]:
    return request.GET.get("unit", "").strip()[:100], request.GET.get("gaps") == "1"


@login_required
def report(request):
    """The monthly compliance report of the holders in the user's scope."""
    month, error = _month_or_error(request)
    node = _node_param(request)
    unit, gaps_only = _narrowing(request)
    full = selectors.compliance(request.user, month.year, month.month, node=node)
    rep = selectors.narrow(full, unit=unit, gaps_only=gaps_only)
    params = {"month": month.code, "node": node.code if node else "", "unit": unit}
    if gaps_only:
        params["gaps"] = "1"
    return render(
        request,
        "duties/report.html",
        {
            "report": rep,
            "units": full.units,
            "month": month,
            "error": error,
            "node": node,
            "unit": unit,
            "gaps_only": gaps_only,
            "summary_only": len(rep.lines) > MAX_ROWS,
            "query": urlencode({k: v for k, v in params.items() if v}),
            "nodes": report_nodes(request.user)[:300],
        },
        status=400 if error else 200,
    )


@login_required
def report_xlsx(request):
    try:
        month = selectors.parse_month(request.GET.get("month"))
    except ValidationError as exc:
        return render(
            request,
            "duties/report.html",
            {"error": _first_error(exc), "month": selectors.parse_month(""), "report": None},
            status=400,
        )
    node = _node_param(request)
    unit, gaps_only = _narrowing(request)
    rep = selectors.compliance(request.user, month.year, month.month, node=node)
    rep = selectors.narrow(rep, unit=unit, gaps_only=gaps_only)
    return exports.report_response(request, rep, unit=unit, gaps_only=gaps_only)


def _holder(request, pk: int) -> DutyHolder:
    """A holder the user may see (their own, or one in their subtree), else 404."""
    return selectors.holder_for(request.user, pk)


# The picker lists this many households and people per search: enough to pick from on a phone.
PICK_ROWS = 8


def _picked(request) -> tuple[str, list, list]:
    """Households and people in the user's scope matching ?find= (name, number, address)."""
    from minqing.registry.selectors import household_search, person_search

    q = request.GET.get("find", "").strip()[:50]
    if not q:
        return "", [], []
    households = list(household_search(request.user, q=q)[:PICK_ROWS])
    people = list(person_search(request.user, q=q).select_related("household", "grid")[:PICK_ROWS])
    return q, households, people


def _holder_page(request, holder, *, link_form=None, end_error=None, status=200):
    """The holder's month; for an office that manages them, the forms to add and end links."""
    month, error = _month_or_error(request)
    line = selectors.holder_line(holder, month)
    ctx = {
        "holder": holder,
        "month": month,
        "error": error,
        "line": line,
        "days": list(selectors.days_of(holder, month)),
        "history": selectors.holder_history(holder),
        "can_manage": permissions.can_manage_holder(request.user, holder),
        "end_error": end_error,
    }
    if ctx["can_manage"]:
        communities = visible_nodes(request.user).filter(level=Level.COMMUNITY).order_by("path")
        ctx["link_form"] = link_form or LinkForm(communities=communities[:500])
        # An end set for later may still be brought forward (QA: the form vanished with it).
        ctx["can_end"] = holder.active_to is None or holder.active_to >= timezone.localdate()
        shown = {s.pk for s in line.links} if line else set()
        ctx["other_links"] = [
            link
            for link in DutyLink.objects.filter(holder=holder, ended_on__isnull=True)
            .select_related("community", "household", "person")
            .order_by("kind", "started_on", "pk")
            if link.pk not in shown
        ]
        ctx["find"], ctx["found_households"], ctx["found_people"] = _picked(request)
        if end_error is not None:
            # Next to its link when the page lists it, else at the top of the card.
            listed = shown | {link.pk for link in ctx["other_links"]}
            end_error["inline"] = end_error["pk"] in listed
    if error and status == 200:
        status = 400
    return render(request, "duties/holder_detail.html", ctx, status=status)


@login_required
def holder_detail(request, pk: int):
    return _holder_page(request, _holder(request, pk))


def _manager_of(request, holder) -> None:
    """403 for someone who sees the holder (the holder themself) but may not set their links."""
    if not permissions.can_manage_holder(request.user, holder):
        raise Forbidden(services.ERR_NOT_MANAGER)


@login_required
@require_POST
def link_new(request, pk: int):
    """添加联系对象."""
    holder = _holder(request, pk)
    _manager_of(request, holder)
    communities = visible_nodes(request.user).filter(level=Level.COMMUNITY).order_by("path")
    form = LinkForm(request.POST, communities=communities[:500])
    link = submitted(
        request,
        form,
        lambda: services.office_link_add(
            acting_user=request.user,
            holder=holder,
            request=request,
            **{
                k: form.cleaned_data[k]
                for k in ("kind", "community", "household", "person", "started_on", "note")
            },
        ),
    )
    if link is not NOT_SAVED:
        messages.success(request, _("已添加联系对象：%(target)s。") % {"target": link.target})
        return redirect(f"/duties/holders/{holder.pk}/#manage")
    return _holder_page(request, holder, link_form=form, status=400)


@login_required
@require_POST
def link_end(request, pk: int):
    """结束联系 (today, or the date given)."""
    link = selectors.link_for(request.user, pk)
    holder = link.holder
    _manager_of(request, holder)
    form = LinkEndForm(request.POST)
    ended = submitted(
        request,
        form,
        lambda: services.office_link_end(
            acting_user=request.user,
            link=link,
            ended_on=form.cleaned_data["ended_on"],
            request=request,
        ),
    )
    if ended is not NOT_SAVED:
        messages.success(request, _("已结束联系：%(target)s。") % {"target": link.target})
        return redirect(f"/duties/holders/{holder.pk}/#manage")
    words = [m for msgs in form.errors.values() for m in msgs]
    return _holder_page(
        request, holder, end_error={"pk": link.pk, "message": "；".join(words)}, status=400
    )


@login_required
def holder_new(request):
    """新增联系任务: an office gives a user in its scope a duty, then sets the links."""
    user = request.user
    if not permissions.can_create_holder(user):
        raise Forbidden(services.ERR_HOLDER_NOT_ALLOWED)
    form = HolderForm(
        request.POST or None,
        users=permissions.holder_users(user),
        nodes=permissions.holder_nodes(user),
    )
    holder = submitted(
        request,
        form,
        lambda: services.office_holder_create(
            acting_user=user, data=form.cleaned_data, request=request
        ),
    )
    if holder is not NOT_SAVED:
        messages.success(request, _("已新增联系任务，请添加联系对象。"))
        return redirect(f"/duties/holders/{holder.pk}/#manage")
    return render(
        request, "duties/holder_form.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def holder_end(request, pk: int):
    """结束联系任务 (today, or the date given), with its open links."""
    holder = _holder(request, pk)
    _manager_of(request, holder)
    form = LinkEndForm(request.POST)
    ended = submitted(
        request,
        form,
        lambda: services.office_holder_end(
            acting_user=request.user,
            holder=holder,
            ended_on=form.cleaned_data["ended_on"],
            request=request,
        ),
    )
    if ended is not NOT_SAVED:
        messages.success(request, _("联系任务已结束，其联系对象一并结束。"))
        return redirect(f"/duties/holders/{holder.pk}/")
    words = [m for msgs in form.errors.values() for m in msgs]
    return _holder_page(
        request, holder, end_error={"pk": None, "message": "；".join(words)}, status=400
    )
