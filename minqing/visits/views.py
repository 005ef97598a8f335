"""Thin views: parse the request, call a selector or a service, render. Phone first."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from minqing.accounts.access import get_scoped_or_404, visible_nodes
from minqing.core.audit import history_for
from minqing.core.digits import positive_id
from minqing.core.forms import (
    NOT_SAVED,
    apply_errors,
    once_token,
    save_once,
    submitted,
)
from minqing.core.paging import page_of, querystring_without_page
from minqing.grids import geo
from minqing.grids.models import Level, Node
from minqing.registry.exports import respond
from minqing.registry.models import Household
from minqing.registry.selectors import household_search, households_for
from minqing.registry.services import PermissionDenied
from minqing.registry.views import household_page
from minqing.visits import selectors, services
from minqing.visits.exports import targets_export
from minqing.visits.forms import (
    CampaignAddForm,
    CampaignAssignForm,
    CampaignForm,
    CaseFromVisitForm,
    DiaryForm,
    PlanForm,
    VisitCorrectForm,
    VisitForm,
)
from minqing.visits.models import CampaignStatus, DiaryEntry, HouseholdVisitPlan


def _household_or_404(request, raw) -> Household:
    pk = positive_id(raw)
    if pk is None:
        raise Http404
    return get_scoped_or_404(
        request.user, Household.objects.select_related("grid", "building"), pk=pk
    )


def _visitable_or_404(request, raw) -> Household:
    """A household in the user's scope or personally linked to them (accounts.links)."""
    pk = positive_id(raw)
    household = (
        services.visitable_households(request.user)
        .select_related("grid", "building")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if household is None:
        raise Http404
    return household


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
            "campaigns": selectors.campaign_card(request.user),
        },
    )


@login_required
def due(request):
    """Today's due and overdue households: a grid's list, or counts per grid for leaders."""
    user = request.user
    today = timezone.localdate()
    within = 7 if request.GET.get("within") == "7" else 0
    only = selectors.first_grids(user)  # none (a cadre), one (a grid worker) or several
    code = request.GET.get("grid", "").strip()[:20]
    grid = selectors.grids_for(user).filter(code=code).first() if code else None
    if code and grid is None:
        raise Http404
    if grid is None and len(only) == 1:
        grid = only[0]
    if grid is None and not only:
        # No grid of their own (a cadre): what they owe the households linked to them.
        rows = selectors.linked_due_rows(user, today=today, within=within)
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        return render(
            request,
            "visits/due.html",
            {
                "grid": None,
                "page": page,
                "today": today,
                "within": within,
                "here": None,
                "several_grids": False,
                "qs_no_page": querystring_without_page(request),
                "has_map": False,
            },
        )
    if grid is None:
        rows = selectors.due_counts_by_grid(user, today=today)
        return render(
            request,
            "visits/due_grids.html",
            {"rows": rows, "totals": selectors.totals_of(rows), "today": today},
        )
    here = _lat_lng(request)
    # A grid's due list is short: read it once and page it in Python (no COUNT query); a list
    # longer than MAX_SORTED is left to the database to page.
    if here:
        qs = selectors.due_for(user, today=today, within=within, grid=grid, with_building=True)
        rows = selectors.nearest_first(list(qs[: selectors.MAX_SORTED]), *here)
    else:
        rows = selectors.grid_due_page_rows(
            user, grid, today=today, within=within, limit=selectors.MAX_SORTED + 1
        )
        if len(rows) > selectors.MAX_SORTED:
            qs = selectors.due_for(user, today=today, within=within, grid=grid)
            rows = qs.only(*selectors.DUE_PAGE_FIELDS)
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
            "several_grids": len(only) > 1,
            "qs_no_page": querystring_without_page(request),
            # The map draws the grid's outline from /tree/<code>/geojson and hides itself when
            # there is none: the page need not read the (large) outline to decide.
            "has_map": True,
            "due_buildings": (
                selectors.due_by_building(rows, today) if isinstance(rows, list) else {}
            ),
        },
    )


@login_required
def visit_new(request):
    raw = request.POST.get("household") or request.GET.get("household")
    if not raw:
        q = request.GET.get("q", "")[:100]
        results = []
        if q.strip():
            results = list(household_search(request.user, q=q)[:20])
            results += selectors.linked_household_search(
                request.user, q=q, exclude={h.pk for h in results}
            )
        return render(request, "visits/household_pick.html", {"q": q, "results": results})
    household = _visitable_or_404(request, raw)
    candidates = services.team_candidates(household)
    campaigns = selectors.open_campaigns_of(household)
    initial = {}
    chosen = positive_id(request.GET.get("campaign"))
    if chosen is not None and campaigns.filter(pk=chosen).exists():
        initial["campaign"] = chosen
    form = VisitForm(
        request.POST or None,
        household=household,
        candidates=candidates,
        user=request.user,
        campaigns=campaigns,
        initial=initial,
    )
    if request.method == "POST":

        def refused(exc):
            raise Http404 from None

        done = save_once(
            request,
            form,
            lambda: services.visit_record(
                acting_user=request.user,
                household=household,
                data=form.service_data(),
                request=request,
            ),
            url=lambda visit: f"/visits/{visit.pk}/",
            again=_("这次走访已经记录过，没有重复保存。"),
            saved=_("走访已记录。"),
            fallback=f"/households/{household.pk}/",
            refused=refused,
        )
        if done is not None:
            return done
    return render(
        request,
        "visits/visit_form.html",
        {
            "form": form,
            "once": once_token(request),
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
            "can_correct": (can_correct := services.can_correct_visit(request.user, visit)),
            "history": history_for(visit)[:20] if can_correct else [],
        },
        status=status,
    )


@login_required
def visit_detail(request, pk: int):
    return _visit_page(request, selectors.visit_for(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def visit_edit(request, pk: int):
    """更正 or delete a visit: the wrong time or household, a typo, a double entry."""
    visit = selectors.visit_for(request.user, pk)
    if not services.can_correct_visit(request.user, visit):
        raise DjangoPermissionDenied(services.ERR_VISIT_CORRECT)
    post = request.POST if request.method == "POST" else None
    form = VisitCorrectForm(post, visit=visit, user=request.user)
    if post is not None:
        deleting = "delete" in post
        reason = str(post.get("reason", ""))[:1000]
        try:
            if deleting:
                services.visit_delete(
                    acting_user=request.user, visit=visit, reason=reason, request=request
                )
                messages.success(request, _("走访记录已删除。"))
                return redirect(f"/households/{visit.household_id}/#visits")
            if form.is_valid():
                services.visit_update(
                    acting_user=request.user,
                    visit=visit,
                    data=form.service_data(),
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
                messages.success(request, _("走访记录已更正。"))
                return redirect(f"/visits/{visit.pk}/")
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from None
    return render(
        request,
        "visits/visit_edit.html",
        {"form": form, "visit": visit},
        status=400 if post is not None else 200,
    )


@login_required
@require_POST
def visit_to_case(request, pk: int):
    visit = selectors.visit_for(request.user, pk)
    form = CaseFromVisitForm(request.POST, request.FILES, visit=visit)
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
                photos=data["photos"],
                request=request,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
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
    saved = submitted(
        request,
        form,
        lambda: services.visit_plan_set(
            acting_user=request.user,
            household=household,
            visit_class=form.cleaned_data["visit_class"],
            reason=form.cleaned_data["reason"],
            until=form.cleaned_data["until"],
            request=request,
        ),
    )
    if saved is NOT_SAVED:
        # The household page comes back with the form open, as typed, each error under its
        # field (visits/_household_timeline.html).
        return household_page(request, household, plan_form=form, status=400)
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
    pk = positive_id(request.GET.get("household"))
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
            apply_errors(form, exc)
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
            apply_errors(form, exc)
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


# --- campaigns (走访活动) ----------------------------------------------------------------------

CAMPAIGN_STATUSES = {s.value for s in CampaignStatus}
# Above this many grids in a user's scope the campaign form offers communities and up only.
MAX_GRID_CHOICES = 300


def _campaign_nodes(user):
    nodes = visible_nodes(user).filter(level__lte=Level.GRID)
    if nodes.filter(level=Level.GRID).count() > MAX_GRID_CHOICES:
        nodes = nodes.filter(level__lte=Level.COMMUNITY)
    return nodes.order_by("path")


def _form_data(form) -> dict:
    return dict(form.cleaned_data)


def _messages_of(request, exc: ValidationError) -> None:
    for errors in exc.message_dict.values():
        messages.error(request, _("；").join(errors))


@login_required
def campaign_list(request):
    status = request.GET.get("status", "")
    qs = selectors.campaigns_for(request.user)
    if status in CAMPAIGN_STATUSES:
        qs = qs.filter(status=status)
    open_first = Case(
        When(status=CampaignStatus.OPEN, then=Value(0)),
        When(status=CampaignStatus.DRAFT, then=Value(1)),
        default=Value(2),
    )
    page = page_of(request, qs.order_by(open_first, "-start", "-id"))
    progress = selectors.campaigns_progress(request.user, list(page))
    rows = [(c, progress[c.pk]) for c in page]
    return render(
        request,
        "visits/campaign_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": CampaignStatus.choices,
            "can_create": services.can_create_campaign(request.user),
            "mine": selectors.my_campaign_targets(request.user).count(),
            "qs_no_page": querystring_without_page(request),
        },
    )


def _campaign_form_page(request, form, campaign=None, status=200):
    return render(
        request,
        "visits/campaign_form.html",
        {"form": form, "campaign": campaign},
        status=400 if form.errors else status,
    )


@login_required
def campaign_new(request):
    if not services.can_create_campaign(request.user):
        raise DjangoPermissionDenied(services.ERR_CAMPAIGN_NOT_ALLOWED)
    form = CampaignForm(request.POST or None, nodes=_campaign_nodes(request.user))
    campaign = submitted(
        request,
        form,
        lambda: services.campaign_create(
            acting_user=request.user, data=_form_data(form), request=request
        ),
        check=lambda: services.campaign_check(acting_user=request.user, data=_form_data(form)),
    )
    if campaign is not NOT_SAVED:
        messages.success(request, _("走访活动已保存为草稿，确认无误后请启动。"))
        return redirect(f"/visits/campaigns/{campaign.pk}/")
    return _campaign_form_page(request, form)


@login_required
def campaign_edit(request, pk: int):
    campaign = selectors.campaign_for(request.user, pk)
    if not services.can_manage_campaign(request.user, campaign):
        raise DjangoPermissionDenied(services.ERR_CAMPAIGN_MANAGE)
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, services.ERR_CAMPAIGN_EDIT)
        return redirect(f"/visits/campaigns/{campaign.pk}/")
    initial = {
        "name": campaign.name,
        "kind": campaign.kind,
        "node": campaign.node_id,
        "start": campaign.start,
        "end": campaign.end,
        "rule": campaign.rule,
        "tags": [t.pk for t in campaign.tags.all()],
        "description": campaign.description,
    }
    form = CampaignForm(request.POST or None, initial=initial, nodes=_campaign_nodes(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(
                acting_user=request.user, campaign=campaign, data=_form_data(form), request=request
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from None
        else:
            messages.success(request, _("走访活动已保存。"))
            return redirect(f"/visits/campaigns/{campaign.pk}/")
    return _campaign_form_page(request, form, campaign)


@login_required
def campaign_detail(request, pk: int):
    user = request.user
    campaign = selectors.campaign_for(user, pk)
    rows, total = selectors.campaign_progress(user, campaign)
    can_manage = services.can_manage_campaign(user, campaign)
    chart = {
        "grids": [r.grid.name for r in rows],
        "done": [r.done for r in rows],
        "remaining": [r.remaining for r in rows],
    }
    preview = None
    if campaign.status == CampaignStatus.DRAFT:
        preview = services.campaign_rule_households(campaign).count()
    today = timezone.localdate()
    return render(
        request,
        "visits/campaign_detail.html",
        {
            "campaign": campaign,
            "rows": rows,
            "total": total,
            "chart": chart,
            "can_manage": can_manage,
            "preview": preview,
            "hand_picked": campaign.targets.count() if preview is not None else 0,
            "tags": list(campaign.tags.all()),
            "today": today,
            "can_add": services.can_add_to_campaign(user, campaign),
            "extend_min": max(today, campaign.end + dt.timedelta(days=1)),
            "add_form": CampaignAddForm(),
            "mine": selectors.my_campaign_targets(user, campaign=campaign).count(),
            "history": history_for(campaign)[:50] if can_manage else [],
        },
    )


def _safe_next(request) -> str | None:
    """The page to go back to (the household page's one-click add), if it is a path on this
    site (redirect() would read "x" as a view name)."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _manage_post(request, pk: int, run, *, back: str | None = None):
    campaign = selectors.campaign_for(request.user, pk)
    try:
        run(campaign)
    except ValidationError as exc:
        _messages_of(request, exc)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from None
    return redirect(back or f"/visits/campaigns/{campaign.pk}/")


@login_required
@require_POST
def campaign_action(request, pk: int, action: str):
    def run(campaign):
        services.campaign_act(
            acting_user=request.user,
            campaign=campaign,
            action=action,
            note=request.POST.get("note", "")[:1000],
            request=request,
        )
        if action == "launch":
            messages.success(request, _("活动已启动，走访名单已生成。"))
        else:
            messages.success(request, _("活动已结束。"))

    return _manage_post(request, pk, run)


@login_required
@require_POST
def campaign_delete(request, pk: int):
    deleted = []

    def run(campaign):
        services.campaign_delete(acting_user=request.user, campaign=campaign, request=request)
        messages.success(request, _("草稿“%(name)s”已删除。") % {"name": campaign.name})
        deleted.append(campaign)

    response = _manage_post(request, pk, run)
    return redirect("/visits/campaigns/") if deleted else response


@login_required
@require_POST
def campaign_rebuild(request, pk: int):
    def run(campaign):
        result = services.campaign_rebuild(
            acting_user=request.user, campaign=campaign, request=request
        )
        messages.success(
            request,
            _("走访名单已重新生成：新增 %(added)s 户，移除 %(removed)s 户。") % result,
        )

    return _manage_post(request, pk, run)


@login_required
@require_POST
def campaign_add(request, pk: int):
    def run(campaign):
        n = services.campaign_add_households(
            acting_user=request.user,
            campaign=campaign,
            numbers=request.POST.get("households", "")[:20000],
            request=request,
        )
        if n:
            messages.success(request, _("已追加 %(n)s 户。") % {"n": n})
        else:
            messages.info(
                request, _("所填家庭都已在“%(name)s”的走访名单中。") % {"name": campaign.name}
            )

    return _manage_post(request, pk, run, back=_safe_next(request))


@login_required
@require_POST
def campaign_extend(request, pk: int):
    """延长活动期限: the small form on the campaign page."""

    def run(campaign):
        campaign = services.campaign_extend(
            acting_user=request.user,
            campaign=campaign,
            ends_on=request.POST.get("ends_on", "")[:30],
            note=request.POST.get("note", "")[:1000],
            request=request,
        )
        messages.success(
            request,
            _("活动期限已延长至 %(end)s。") % {"end": f"{campaign.end:%Y-%m-%d}"},
        )

    return _manage_post(request, pk, run)


def _target_filters(request, campaign):
    grids = Node.objects.filter(
        pk__in=selectors.campaign_targets_for(request.user, campaign).values("grid_id")
    ).order_by("path")
    code = request.GET.get("grid", "").strip()[:20]
    grid = grids.filter(code=code).first() if code else None
    if code and grid is None:
        raise Http404
    status = request.GET.get("status", "")
    status = status if status in ("done", "todo") else ""
    return grids, grid, status


@login_required
def campaign_targets(request, pk: int):
    user = request.user
    campaign = selectors.campaign_for(user, pk)
    grids, grid, status = _target_filters(request, campaign)
    qs = selectors.campaign_target_list(user, campaign, grid=grid, status=status)
    page = Paginator(qs.prefetch_related("assignees"), 50).get_page(request.GET.get("page"))
    assign_form = None
    if grid is not None and services.can_assign_campaign(user, campaign):
        assign_form = CampaignAssignForm(
            targets=list(page), candidates=services.grid_team_users(grid)
        )
    return render(
        request,
        "visits/campaign_targets.html",
        {
            "campaign": campaign,
            "page": page,
            "grids": grids,
            "grid": grid,
            "status": status,
            "assign_form": assign_form,
            "open": campaign.status == CampaignStatus.OPEN,
            "qs_no_page": querystring_without_page(request),
        },
    )


@login_required
@require_POST
def campaign_assign(request, pk: int):
    user = request.user
    campaign = selectors.campaign_for(user, pk)
    code = request.POST.get("grid", "").strip()[:20]
    grid = visible_nodes(user).filter(code=code, level=Level.GRID).first() if code else None
    if grid is None or not services.can_assign_campaign(user, campaign):
        raise Http404
    targets = list(selectors.campaign_targets_for(user, campaign).filter(grid=grid))
    form = CampaignAssignForm(
        request.POST, targets=targets, candidates=services.grid_team_users(grid)
    )
    back = f"/visits/campaigns/{campaign.pk}/targets/?grid={grid.code}"
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, _("；").join(errors))
        return redirect(back)
    try:
        n = services.campaign_assign(
            acting_user=user,
            campaign=campaign,
            target_ids=form.cleaned_data["targets"],
            users=form.cleaned_data["users"],
            request=request,
        )
    except ValidationError as exc:
        _messages_of(request, exc)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from None
    else:
        messages.success(request, _("已分配 %(n)s 户。") % {"n": n})
    return redirect(back)


@login_required
def campaign_export(request, pk: int):
    user = request.user
    campaign = selectors.campaign_for(user, pk)
    _grids, grid, status = _target_filters(request, campaign)
    qs = selectors.campaign_target_list(user, campaign, grid=grid, status=status)
    return respond(request, targets_export(campaign, qs, grid=grid, status=status))


@login_required
def campaign_mine(request):
    """My targets in open campaigns, not yet visited: nearest first when the phone says where."""
    user = request.user
    campaigns = selectors.campaigns_for(user).filter(status=CampaignStatus.OPEN)
    chosen = None
    pk = positive_id(request.GET.get("campaign"))
    if request.GET.get("campaign"):
        chosen = campaigns.filter(pk=pk).first() if pk else None
        if chosen is None:
            raise Http404
    qs = selectors.my_campaign_targets(user, campaign=chosen)
    here = _lat_lng(request)
    rows = selectors.nearest_first(qs[: selectors.MAX_SORTED], *here) if here else qs
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "visits/campaign_mine.html",
        {
            "page": page,
            "chosen": chosen,
            "here": here,
            "today": timezone.localdate(),
            "qs_no_page": querystring_without_page(request),
        },
    )
