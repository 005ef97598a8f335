"""Thin views: parse the request, call a selector or a service, render. Phone first."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from minqing.assistance import exports, handover, schedule, selectors, services
from minqing.assistance.forms import (
    DisqualifyForm,
    EndForm,
    GroupForm,
    HandoverForm,
    HelpEntryForm,
    HelperEditForm,
    HelperForm,
    PairingEditForm,
    PairingForm,
    ReasonForm,
    parse_month,
)
from minqing.assistance.models import FundSource, HelpEntry, Helper, Programme, TargetKind
from minqing.assistance.strategies import strategies_for
from minqing.core.digits import positive_id
from minqing.core.forms import (
    NOT_SAVED,
    apply_errors,
    once_token,
    save_once,
    submitted,
)
from minqing.core.paging import querystring_without_page
from minqing.registry.services import PermissionDenied


def _programme(request, name: str = "programme") -> Programme | None:
    code = request.GET.get(name, "").strip()[:20]
    if not code:
        return None
    p = selectors.programmes().filter(code=code).first()
    if p is None:
        raise Http404
    return p


def _within(request) -> int:
    return {"0": 0, "7": 7, "30": 30}.get(request.GET.get("within", "7"), 7)


# --- overview --------------------------------------------------------------------------------


@login_required
def index(request):
    user = request.user
    today = timezone.localdate()
    mine = selectors.due_rows(user, today=today, mine=True)
    my_pairings = list(selectors.pairing_search(user, mine=True))
    office = None
    if services.can_manage(user) or selectors.office_pairings(user).exists():
        office_rows = selectors.due_rows(user, today=today, qs=selectors.office_pairings(user))
        office = {
            "counts": selectors.due_counts(office_rows),
            "overdue": [r for r in office_rows if r.due.status == "overdue"][:10],
            "coverage": selectors.coverage_all(user),
            "active": selectors.office_pairings(user).filter(end__isnull=True).count(),
        }
    return render(
        request,
        "assistance/index.html",
        {
            "today": today,
            "my_pairings": my_pairings,
            "my_due": mine,
            "my_counts": selectors.due_counts(mine),
            "office": office,
            "can_manage": services.can_manage(user),
        },
    )


# --- pairings --------------------------------------------------------------------------------


@login_required
def pairing_list(request):
    user = request.user
    programme = _programme(request)
    status = request.GET.get("status", "active")
    if status not in ("active", "ended", "all"):
        status = "active"
    q = request.GET.get("q", "").strip()[:50]
    mine = request.GET.get("mine") == "1"
    qs = selectors.pairing_search(user, programme=programme, status=status, q=q, mine=mine)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/pairing_list.html",
        {
            "page": page,
            "programmes": selectors.programmes(),
            "programme": programme,
            "status": status,
            "q": q,
            "mine": mine,
            "qs_no_page": querystring_without_page(request),
            "can_manage": services.can_manage(user),
        },
    )


def _target_summary(pairing) -> dict:
    """What a helper needs to know of their target, masked as everywhere."""
    t = pairing.target
    kind = pairing.target_kind
    out = {"kind": kind, "obj": t}
    if kind == TargetKind.HOUSEHOLD:
        out["members"] = list(t.members.prefetch_related("tags").order_by("id"))
        out["tags"] = list(t.tags.all())
    elif kind == TargetKind.PERSON:
        out["tags"] = list(t.tags.all())
    return out


def _pairing_page(request, pairing, *, help_form=None, end_form=None, status=200):
    user = request.user
    own = services.helper_of(user, pairing)
    strategies = strategies_for(pairing.causes, pairing.work_ability)
    hint = strategies[0].help_kinds[0] if strategies and strategies[0].help_kinds else ""
    can_log = services.can_log_help(user, pairing)
    if help_form is None and can_log:
        help_form = HelpEntryForm(pairing=pairing, own_helper=own, kind_hint=hint)
    today = timezone.localdate()
    entries = list(selectors.help_of(pairing)[:100])
    contacts = selectors.contacts_by_pairing(
        [pairing], since=today - dt.timedelta(days=selectors.LOOKBACK_DAYS)
    ).get(pairing.pk, [])
    dues = (
        schedule.dues(
            selectors.rhythm_of(pairing),
            start=pairing.start,
            contacts=contacts,
            today=today,
            within=30,
        )
        if pairing.active
        else []
    )
    return render(
        request,
        "assistance/pairing_detail.html",
        {
            "p": pairing,
            "helpers": pairing.helpers.all(),
            "target": _target_summary(pairing),
            "strategies": strategies,
            "entries": entries,
            "correctable": {e.pk for e in entries if services.can_correct_help(user, e)},
            "help_form": help_form,
            "once": once_token(request),
            "can_log": can_log,
            "can_manage": services.can_manage_pairing(user, pairing),
            "end_form": end_form or EndForm(),
            "dues": dues,
            "last_contact": contacts[-1] if contacts else None,
            "contact_count": len(contacts),
            "today": today,
        },
        status=status,
    )


@login_required
def pairing_detail(request, pk: int):
    return _pairing_page(request, selectors.pairing_for(request.user, pk))


@login_required
@require_POST
def pairing_help(request, pk: int):
    pairing = selectors.pairing_for(request.user, pk)
    own = services.helper_of(request.user, pairing)
    form = HelpEntryForm(request.POST, pairing=pairing, own_helper=own)
    # Back after saving brings the filled form again: sent twice, the money would count twice.
    done = save_once(
        request,
        form,
        lambda: services.help_entry_add(
            acting_user=request.user,
            pairing=pairing,
            data=form.service_data(),
            request=request,
        ),
        url=lambda entry: f"/assistance/pairings/{pairing.pk}/",
        again=_("这条帮扶记录已经保存过，没有重复记录。"),
        saved=_("帮扶记录已保存。"),
        fallback=f"/assistance/pairings/{pairing.pk}/",
    )
    if done is not None:
        return done
    return _pairing_page(request, pairing, help_form=form, status=400)


def _help_entry(request, pk: int) -> HelpEntry:
    """A help entry of a pairing the user sees (404 otherwise, as for the pairing)."""
    entry = HelpEntry.objects.select_related("helper").filter(pk=pk).first()
    if entry is None:
        raise Http404
    entry.pairing = selectors.pairing_for(request.user, entry.pairing_id)
    if not services.can_correct_help(request.user, entry):
        raise DjangoPermissionDenied(services.ERR_HELP_CORRECT)
    return entry


@login_required
@require_http_methods(["GET", "POST"])
def help_edit(request, pk: int):
    """更正 or delete a help entry: a sum typed wrong, the wrong day, a double entry."""
    entry = _help_entry(request, pk)
    pairing = entry.pairing
    own = services.helper_of(request.user, pairing)
    initial = {
        "kind": entry.kind,
        "occurred_on": entry.occurred_on,
        "text": entry.text,
        "amount": entry.amount if entry.amount is not None else "",
        "goods": entry.goods,
        "goods_value": entry.goods_value if entry.goods_value is not None else "",
        "fund_source": entry.fund_source,
        "helper": entry.helper_id,
    }
    post = request.POST if request.method == "POST" else None
    form = HelpEntryForm(post, pairing=pairing, own_helper=own, initial=initial)
    reason = ReasonForm(post)
    status = 200
    if post is not None:
        deleting = "delete" in post
        if reason.is_valid() and (deleting or form.is_valid()):
            try:
                if deleting:
                    services.help_entry_delete(
                        acting_user=request.user,
                        entry=entry,
                        reason=reason.cleaned_data["reason"],
                        request=request,
                    )
                    messages.success(request, _("帮扶记录已删除。"))
                else:
                    services.help_entry_update(
                        acting_user=request.user,
                        entry=entry,
                        data=form.service_data(),
                        reason=reason.cleaned_data["reason"],
                        request=request,
                    )
                    messages.success(request, _("帮扶记录已更正。"))
            except ValidationError as exc:
                apply_errors(form, exc)
                if "reason" in getattr(exc, "message_dict", {}):
                    reason.add_error("reason", exc.message_dict["reason"])
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(str(exc)) from None
            else:
                return redirect(f"/assistance/pairings/{pairing.pk}/#help-records")
        status = 400
    return render(
        request,
        "assistance/help_edit.html",
        {"p": pairing, "entry": entry, "help_form": form, "reason_form": reason},
        status=status,
    )


@login_required
@require_POST
def pairing_end(request, pk: int):
    pairing = selectors.pairing_for(request.user, pk)
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.pairing_end(
                acting_user=request.user,
                pairing=pairing,
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
                request=request,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from None
        else:
            messages.success(request, _("结对已结束。"))
            return redirect(f"/assistance/pairings/{pairing.pk}/")
    return _pairing_page(request, pairing, end_form=form, status=400)


@login_required
def pairing_edit(request, pk: int):
    """Change who helps (帮扶人调动), the causes or the plan of a running pairing."""
    user = request.user
    pairing = selectors.pairing_for(user, pk)
    if not services.can_manage_pairing(user, pairing):
        raise DjangoPermissionDenied(services.ERR_NOT_MANAGER)
    if pairing.end is not None:
        messages.error(request, services.ERR_PAIRING_ENDED_EDIT)
        return redirect(f"/assistance/pairings/{pairing.pk}/")
    posted = request.POST if request.method == "POST" else None
    form = PairingEditForm(posted, user=user, pairing=pairing)
    saved = submitted(
        request,
        form,
        lambda: services.pairing_update(
            acting_user=user, pairing=pairing, data=form.service_data(), request=request
        ),
    )
    if saved is not NOT_SAVED:
        messages.success(request, _("结对已更新。"))
        return redirect(f"/assistance/pairings/{pairing.pk}/")
    causes = form.data.getlist("causes") if form.is_bound else pairing.causes
    ability = form.data.get("work_ability", "") if form.is_bound else pairing.work_ability
    return render(
        request,
        "assistance/pairing_edit.html",
        {"form": form, "p": pairing, "strategies": strategies_for(causes, ability)},
        status=400 if form.errors else 200,
    )


def _prefill(request) -> dict:
    """From the coverage page's unpaired list: ?programme=mother&person=123."""
    initial = {}
    programme = selectors.programmes().filter(code=request.GET.get("programme", "")[:20]).first()
    if programme is not None:
        initial["programme"] = programme.pk
    pk = positive_id(request.GET.get("person"))
    if pk is not None:
        initial["person"] = f"#{pk}"
    pk = positive_id(request.GET.get("household"))
    if pk is not None:
        from minqing.registry.selectors import households_for

        h = households_for(request.user).filter(pk=pk).first()
        if h is not None:
            initial["household"] = h.number
    return initial


@login_required
def pairing_new(request):
    user = request.user
    if not services.can_manage(user):
        raise DjangoPermissionDenied(services.ERR_NOT_MANAGER)
    form = PairingForm(request.POST or None, user=user, initial=_prefill(request))
    if request.method == "POST" and form.is_valid():
        try:
            pairing = services.pairing_create(
                acting_user=user, data=form.service_data(), request=request
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from None
        else:
            messages.success(request, _("结对已建立。"))
            return redirect(f"/assistance/pairings/{pairing.pk}/")
    causes = form.data.getlist("causes") if form.is_bound else []
    ability = form.data.get("work_ability", "") if form.is_bound else ""
    return render(
        request,
        "assistance/pairing_form.html",
        {
            "form": form,
            "strategies": strategies_for(causes, ability),
            "programmes": selectors.programmes(),
        },
        status=400 if form.errors else 200,
    )


@login_required
def strategies(request):
    """The strategy suggestion as an HTML fragment (htmx, while the causes are ticked)."""
    causes = request.GET.getlist("causes")[:20]
    ability = request.GET.get("work_ability", "")[:10]
    return render(
        request, "assistance/_strategies.html", {"strategies": strategies_for(causes, ability)}
    )


# --- due, coverage, report -------------------------------------------------------------------


@login_required
def due(request):
    user = request.user
    today = timezone.localdate()
    within = _within(request)
    has_own = selectors.my_pairings(user).filter(end__isnull=True).exists()
    mine = has_own and request.GET.get("mine") != "0"
    programme = _programme(request)
    qs = selectors.my_pairings(user) if mine else selectors.pairings_for(user)
    if programme is not None:
        qs = qs.filter(programme=programme)
    rows = selectors.due_rows(user, today=today, within=within, qs=qs)
    return render(
        request,
        "assistance/due.html",
        {
            "rows": rows,
            "counts": selectors.due_counts(rows),
            "today": today,
            "within": within,
            "mine": mine,
            "has_own": has_own,
            "office_too": has_own and selectors.office_pairings(user).exists(),
            "programme": programme,
            "programmes": selectors.programmes(),
        },
    )


@login_required
def coverage(request):
    user = request.user
    programme = _programme(request)
    rows = selectors.coverage_all(user)
    chosen = None
    page = None
    if programme is not None:
        chosen = selectors.coverage(user, programme)
        if chosen is None:
            raise Http404
    elif rows:
        chosen = rows[0]
    if chosen is not None:
        qs = chosen.unpaired.select_related("grid").order_by("grid__path", "pk")
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/coverage.html",
        {
            "rows": rows,
            "chosen": chosen,
            "page": page,
            "qs_no_page": querystring_without_page(request),
            "can_manage": services.can_manage(user),
        },
    )


def report_params(request) -> dict:
    """Month and filters of the report page and its export; ValueError(message) when bad."""
    user = request.user
    month = parse_month(request.GET.get("month", ""))
    programme = _programme(request)
    group = helper = None
    pk = positive_id(request.GET.get("group"))
    if request.GET.get("group"):
        group = selectors.groups_for(user).filter(pk=pk).first() if pk else None
        if group is None:
            raise Http404
    if request.GET.get("helper"):
        helper = selectors.helper_for(user, positive_id(request.GET.get("helper")) or 0)
    return {"month": month, "programme": programme, "group": group, "helper": helper}


@login_required
def report(request):
    user = request.user
    try:
        params = report_params(request)
    except ValueError as exc:
        return render(
            request,
            "assistance/report.html",
            {"error": str(exc), "programmes": selectors.programmes()},
            status=400,
        )
    data = selectors.month_report(user, **params)
    month = params["month"]
    return render(
        request,
        "assistance/report.html",
        {
            "report": data,
            "params": params,
            "month_text": f"{month:%Y-%m}",
            "prev": f"{schedule.add_months(month, -1):%Y-%m}",
            "next": f"{schedule.add_months(month, 1):%Y-%m}",
            "programmes": selectors.programmes(),
            "groups": selectors.groups_for(user).order_by("name"),
            "export_query": request.GET.urlencode(),
            "fund_sources": list(FundSource.choices),  # the page in its language
        },
    )


@login_required
def report_xlsx(request):
    try:
        params = report_params(request)
    except ValueError as exc:
        return render(
            request,
            "assistance/report.html",
            {"error": str(exc), "programmes": selectors.programmes()},
            status=400,
        )
    return exports.respond_report(request, params)


# --- helpers ---------------------------------------------------------------------------------


@login_required
def helper_list(request):
    user = request.user
    q = request.GET.get("q", "").strip()[:50]
    status = request.GET.get("status", "")
    qs = selectors.helper_search(user, q=q, status=status).select_related("node", "user")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "assistance/helper_list.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "qs_no_page": querystring_without_page(request),
            "can_manage": services.can_manage(user),
        },
    )


def _helper_page(request, helper: Helper, *, form=None, handover_form=None, status=200):
    user = request.user
    groups = list(helper.groups.all())
    pairings = selectors.pairing_search(user, helper=helper, status="all")
    may_hand_over = services.can_manage(user) and (
        bool(groups) or handover.running_pairings(helper).exists()
    )
    return render(
        request,
        "assistance/helper_detail.html",
        {
            "h": helper,
            "pairings": pairings,
            "groups": groups,
            "form": form or DisqualifyForm(),
            "handover_form": (handover_form or HandoverForm(user=user, helper=helper))
            if may_hand_over
            else None,
            "can_disqualify": services.can_disqualify(user, helper),
            "entries": selectors.help_entries_for(user)
            .filter(helper=helper)
            .select_related("pairing__programme")
            .order_by("-occurred_on", "-id")[:20],
        },
        status=status,
    )


@login_required
def helper_detail(request, pk: int):
    return _helper_page(request, selectors.helper_for(request.user, pk))


@login_required
@require_POST
def helper_disqualify(request, pk: int):
    helper = selectors.helper_for(request.user, pk)
    form = DisqualifyForm(request.POST)
    if form.is_valid():
        try:
            ended = services.helper_disqualify(
                acting_user=request.user,
                helper=helper,
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
                request=request,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from None
        else:
            messages.success(
                request,
                _("已取消该帮扶人的资格，%(n)s 个结对随之结束，其帮扶对象列入未结对名单。")
                % {"n": len(ended)},
            )
            return redirect(f"/assistance/helpers/{helper.pk}/")
    return _helper_page(request, helper, form=form, status=400)


@login_required
@require_POST
def helper_handover(request, pk: int):
    """帮扶人交接: the leaver's running pairings and group places go to the successor."""
    user = request.user
    helper = selectors.helper_for(user, pk)
    if not services.can_manage(user):
        raise DjangoPermissionDenied(services.ERR_NOT_MANAGER)
    form = HandoverForm(request.POST, user=user, helper=helper)
    if form.is_valid():
        try:
            done = handover.hand_over(
                acting_user=user,
                helper=helper,
                successor=form.cleaned_data["successor"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            successor = form.cleaned_data["successor"]
            messages.success(
                request,
                _("已将 %(n)s 个结对、%(g)s 个帮扶小组交给%(name)s。")
                % {"n": len(done.pairings), "g": len(done.groups), "name": successor.name},
            )
            for what, why in done.skipped:
                messages.warning(
                    request, _("%(what)s 未交接：%(why)s") % {"what": what, "why": why}
                )
            return redirect(f"/assistance/helpers/{helper.pk}/")
    return _helper_page(request, helper, handover_form=form, status=400)


@login_required
def helper_new(request):
    user = request.user
    if not services.can_manage(user):
        raise DjangoPermissionDenied(services.ERR_NOT_MANAGER)
    form = HelperForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            helper = services.helper_create(
                acting_user=user, data=form.service_data(), request=request
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("帮扶人已登记。"))
            return redirect(f"/assistance/helpers/{helper.pk}/")
    return render(
        request,
        "assistance/helper_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
def helper_edit(request, pk: int):
    user = request.user
    helper = selectors.helper_for(user, pk)
    if not services.can_disqualify(user, helper):
        raise DjangoPermissionDenied(services.ERR_HELPER_EDIT_NOT_ALLOWED)
    posted = request.POST if request.method == "POST" else None
    form = HelperEditForm(posted, user=user, helper=helper)
    saved = submitted(
        request,
        form,
        lambda: services.helper_update(
            acting_user=user, helper=helper, data=form.service_data(), request=request
        ),
    )
    if saved is not NOT_SAVED:
        messages.success(request, _("帮扶人信息已更新。"))
        return redirect(f"/assistance/helpers/{helper.pk}/")
    return render(
        request,
        "assistance/helper_form.html",
        {"form": form, "h": helper},
        status=400 if form.errors else 200,
    )


def _group_for(user, pk: int):
    group = selectors.groups_for(user).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if group is None:
        raise Http404
    return group


@login_required
def group_detail(request, pk: int):
    group = _group_for(request.user, pk)
    return render(
        request,
        "assistance/group_detail.html",
        {
            "g": group,
            "members": group.members.all(),
            "pairings": selectors.pairing_search(request.user, group=group, status="all"),
            "can_edit": services.can_edit_group(request.user, group),
        },
    )


@login_required
def group_list(request):
    user = request.user
    return render(
        request,
        "assistance/group_list.html",
        {"groups": selectors.group_list(user), "can_manage": services.can_manage(user)},
    )


def _group_form_page(request, group=None):
    user = request.user
    if group is not None and not services.can_edit_group(user, group):
        raise DjangoPermissionDenied(services.ERR_GROUP_EDIT_NOT_ALLOWED)
    if group is None and not services.can_manage(user):
        raise DjangoPermissionDenied(services.ERR_NOT_MANAGER)
    posted = request.POST if request.method == "POST" else None
    form = GroupForm(posted, user=user, group=group)
    saved = submitted(
        request,
        form,
        lambda: services.group_save(
            acting_user=user, data=form.service_data(), group=group, request=request
        ),
    )
    if saved is not NOT_SAVED:
        messages.success(request, _("帮扶小组已保存，进行中的结对已按新组员更新。"))
        return redirect(f"/assistance/groups/{saved.pk}/")
    return render(
        request,
        "assistance/group_form.html",
        {"form": form, "g": group},
        status=400 if form.errors else 200,
    )


@login_required
def group_new(request):
    return _group_form_page(request)


@login_required
def group_edit(request, pk: int):
    return _group_form_page(request, _group_for(request.user, pk))
