"""Thin views: parse the request, call a selector or a service, render. Phone first."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minqing.accounts.access import get_scoped_or_404
from minqing.core.paging import page_of, querystring_without_page
from minqing.grids import geo
from minqing.registry.models import Household
from minqing.registry.selectors import household_search, households_for
from minqing.registry.services import PermissionDenied
from minqing.visits import selectors, services
from minqing.visits.forms import CaseFromVisitForm, DiaryForm, PlanForm, VisitForm
from minqing.visits.models import DiaryEntry, HouseholdVisitPlan


def _apply_errors(form, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _pk(raw) -> int | None:
    raw = str(raw or "").strip()
    if raw.isascii() and raw.isdigit() and 0 < len(raw) < 12:
        return int(raw)
    return None


def _household_or_404(request, raw) -> Household:
    pk = _pk(raw)
    if pk is None:
        raise Http404
    return get_scoped_or_404(
        request.user, Household.objects.select_related("grid", "building"), pk=pk
    )


def _lat_lng(request) -> tuple[float, float] | None:
    """The phone's position from ?lat=&lng=, or None when absent or not a place on Earth."""
    try:
        lat, lng = float(request.GET["lat"][:20]), float(request.GET["lng"][:20])
    except (KeyError, ValueError):
        return None
    return (lat, lng) if geo.valid_lat_lng(lat, lng) else None


@login_required
def index(request):
    return render(
        request,
        "visits/index.html",
        {
            "totals": selectors.due_totals(request.user),
            "recent": selectors.my_visits(request.user)[:20],
        },
    )


@login_required
def due(request):
    """Today's due and overdue households: a grid's list, or counts per grid for leaders."""
    user = request.user
    today = timezone.localdate()
    within = 7 if request.GET.get("within") == "7" else 0
    grids = selectors.grids_for(user)
    code = request.GET.get("grid", "").strip()[:20]
    grid = grids.filter(code=code).first() if code else None
    if code and grid is None:
        raise Http404
    if grid is None:
        only = list(grids[:2])
        if len(only) == 1:
            grid = only[0]
    if grid is None:
        return render(
            request,
            "visits/due_grids.html",
            {
                "rows": selectors.due_counts_by_grid(user, today=today),
                "totals": selectors.due_totals(user, today=today),
                "today": today,
            },
        )
    qs = selectors.due_for(user, today=today, within=within, grid=grid)
    here = _lat_lng(request)
    rows = selectors.nearest_first(qs[: selectors.MAX_SORTED], *here) if here else qs
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "visits/due.html",
        {
            "grid": grid,
            "page": page,
            "today": today,
            "within": within,
            "here": here,
            "several_grids": grids.count() > 1,
            "qs_no_page": querystring_without_page(request),
            "has_map": grid.boundary is not None,
        },
    )


@login_required
def visit_new(request):
    raw = request.POST.get("household") or request.GET.get("household")
    if not raw:
        q = request.GET.get("q", "")[:100]
        results = household_search(request.user, q=q)[:20] if q.strip() else []
        return render(request, "visits/household_pick.html", {"q": q, "results": results})
    household = _household_or_404(request, raw)
    candidates = services.team_candidates(household)
    form = VisitForm(
        request.POST or None, household=household, candidates=candidates, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.visit_record(
                acting_user=request.user,
                household=household,
                data=form.service_data(),
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("走访已记录。"))
            return redirect(f"/visits/{visit.pk}/")
    return render(
        request,
        "visits/visit_form.html",
        {
            "form": form,
            "household": household,
            "schedule": selectors.schedule_of(household),
        },
        status=400 if form.errors else 200,
    )


def _visit_page(request, visit, case_form=None, status=200):
    return render(
        request,
        "visits/visit_detail.html",
        {
            "visit": visit,
            "visitors": visit.visitors.all(),
            "members_met": visit.members_met.all(),
            "needs": visit.needs.all(),
            "cases": visit.cases.select_related("category").order_by("accepted_at"),
            "case_form": case_form or CaseFromVisitForm(visit=visit),
        },
        status=status,
    )


@login_required
def visit_detail(request, pk: int):
    return _visit_page(request, selectors.visit_for(request.user, pk))


@login_required
@require_POST
def visit_to_case(request, pk: int):
    visit = selectors.visit_for(request.user, pk)
    form = CaseFromVisitForm(request.POST, visit=visit)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = services.visit_demand_to_case(
                acting_user=request.user,
                visit=visit,
                category=data["category"],
                description=data["description"],
                title=data["title"],
                reporter=data["reporter"],
                priority=data["priority"],
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from None
        else:
            messages.success(request, _("已转为案件 %(number)s。") % {"number": case.number})
            return redirect(f"/visits/{visit.pk}/")
    return _visit_page(request, visit, case_form=form, status=400)


# --- plans -----------------------------------------------------------------------------------


@login_required
@require_POST
def plan_set(request):
    household = _household_or_404(request, request.POST.get("household"))
    form = PlanForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, _("；").join(errors))
        return redirect(f"/households/{household.pk}/#visits")
    try:
        services.visit_plan_set(
            acting_user=request.user,
            household=household,
            visit_class=form.cleaned_data["visit_class"],
            reason=form.cleaned_data["reason"],
            until=form.cleaned_data["until"],
            request=request,
        )
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            messages.error(request, _("；").join(errors))
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from None
    else:
        messages.success(request, _("走访类别已安排。"))
    return redirect(f"/households/{household.pk}/#visits")


@login_required
@require_POST
def plan_remove(request, pk: int):
    plan = get_scoped_or_404(
        request.user,
        HouseholdVisitPlan.objects.select_related("household", "visit_class"),
        node_field="household__grid",
        owner_fields=(),
        pk=pk,
    )
    try:
        services.visit_plan_remove(acting_user=request.user, plan=plan, request=request)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from None
    messages.success(request, _("已取消该走访安排。"))
    return redirect(f"/households/{plan.household_id}/#visits")


# --- the diary -------------------------------------------------------------------------------


def _diary_data(request, form) -> dict:
    data = dict(form.cleaned_data)
    number = data.pop("household_number", "").strip()
    data["household"] = None
    if number:
        household = households_for(request.user).filter(number=number).first()
        if household is None:
            raise ValidationError({"household_number": services.ERR_HOUSEHOLD_SCOPE})
        data["household"] = household
    return data


def _diary_initial(request) -> dict:
    pk = _pk(request.GET.get("household"))
    if pk is None:
        return {}
    household = households_for(request.user).filter(pk=pk).first()
    return {"household_number": household.number} if household else {}


@login_required
def diary(request):
    form = DiaryForm(request.POST or None, initial=_diary_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.diary_entry_save(
                acting_user=request.user, data=_diary_data(request, form), request=request
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("日记已保存。"))
            return redirect("/visits/diary/")
    q = request.GET.get("q", "").strip()[:50]
    tag = request.GET.get("tag", "").strip()[:30]
    page = page_of(request, selectors.diary_for(request.user, q=q, tag=tag))
    return render(
        request,
        "visits/diary.html",
        {
            "form": form,
            "page": page,
            "q": q,
            "tag": tag,
            "qs_no_page": querystring_without_page(request),
        },
        status=400 if form.errors else 200,
    )


def _own_entry(request, pk: int) -> DiaryEntry:
    if not 0 < pk < 2**63:
        raise Http404
    entry = selectors.diary_for(request.user).filter(pk=pk).first()
    if entry is None:
        raise Http404
    return entry


@login_required
def diary_edit(request, pk: int):
    entry = _own_entry(request, pk)
    initial = {
        "date": entry.date,
        "text": entry.text,
        "tags": entry.tags,
        "household_number": entry.household.number if entry.household_id else "",
    }
    form = DiaryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.diary_entry_save(
                acting_user=request.user,
                data=_diary_data(request, form),
                entry=entry,
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("日记已保存。"))
            return redirect("/visits/diary/")
    return render(request, "visits/diary_edit.html", {"form": form, "entry": entry})


@login_required
@require_POST
def diary_delete(request, pk: int):
    entry = _own_entry(request, pk)
    services.diary_entry_delete(acting_user=request.user, entry=entry, request=request)
    messages.success(request, _("日记已删除。"))
    return redirect("/visits/diary/")
