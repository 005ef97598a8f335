"""Thin views: parse the request, call a selector or a service, render."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from minqing.accounts.access import (
    can_edit_registry,
    can_reveal,
    get_scoped_or_404,
    scope_queryset,
    user_scope,
    visible_nodes,
)
from minqing.accounts.links import linked_households_q
from minqing.core.audit import history_for
from minqing.core.digits import positive_id
from minqing.core.forms import (
    apply_errors,
    once_token,
    save_once,
)
from minqing.core.paging import (
    capped_count,
    int_param,
    page_of,
    querystring_without_page,
    search_page,
)
from minqing.registry import selectors, services
from minqing.registry.forms import HouseholdForm, OrganisationForm, PersonForm, PlaceForm
from minqing.registry.models import (
    Household,
    Housing,
    Organisation,
    OrgKind,
    Person,
    Place,
    PlaceKind,
    Residence,
    Sex,
)


def _filters(request) -> dict:
    """The list filters; `unknown_node`: a place code the user cannot see (or mistyped) — the
    list finds nothing and says so, not everything as if the filter had been applied."""
    node_code = request.GET.get("node", "").strip()[:20]
    node = visible_nodes(request.user).filter(code=node_code).first() if node_code else None
    tag = selectors.tag_choice(request.user, request.GET.get("tag", "").strip())
    unknown = node_code if node_code and node is None else ""
    return {"q": request.GET.get("q", "")[:100], "node": node, "tag": tag, "unknown_node": unknown}


def _list_response(request, template: str, qs, context: dict):
    page = page_of(request, qs)
    context.update({"page": page, "qs_no_page": querystring_without_page(request)})
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, template.replace(".html", "_results.html"), context)
    return render(request, template, context)


def _search_response(request, template: str, qs, context: dict, *, read, count=capped_count):
    """A people or households search list: its page read with `search_page` (the total counted
    up to 1 000, then "超过1000条"; rows and tags in one query by `read`), its pager
    `registry/_list_pager.html`."""
    page = search_page(request, qs, read=read, count=count)
    context.update({"page": page, "qs_no_page": querystring_without_page(request)})
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, template.replace(".html", "_results.html"), context)
    return render(request, template, context)


def _edit_allowed(request) -> None:
    if not can_edit_registry(request.user):
        raise DjangoPermissionDenied(services.ERR_NOT_ALLOWED)


def _save_form(request, form, save, *, success_url, creating: bool = False):
    """creating: the form makes a new record, and sent again (Back, then 保存) it goes to the
    one it made instead of making a second (core.forms.once_*; the page has {{ once }})."""
    if creating:
        return save_once(
            request,
            form,
            lambda: save(_form_data(form)),
            url=success_url,
            again=_("这份表单已经保存过，没有重复新增。"),
            saved=_("已保存。"),
            fallback=request.path,
        )
    if form.is_valid():
        try:
            obj = save(_form_data(form))
        except ValidationError as exc:
            apply_errors(form, exc)
        except services.PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from None
        else:
            messages.success(request, _("已保存。"))
            return redirect(success_url(obj))
    return None


def _form_data(form) -> dict:
    return form.service_data() if hasattr(form, "service_data") else dict(form.cleaned_data)


# ------------------------------------------------------------- people


@login_required
def person_list(request):
    f = _filters(request)
    sex = request.GET.get("sex", "") if request.GET.get("sex") in Sex.values else ""
    qs = selectors.PersonSearch(
        request.user,
        q=f["q"],
        node=f["node"],
        tag=f["tag"],
        age_min=int_param(request, "age_min"),
        age_max=int_param(request, "age_max"),
        sex=sex,
    )
    if f["unknown_node"]:
        qs = Person.objects.none()
    return _search_response(
        request,
        "registry/person_list.html",
        qs,
        {
            "f": f,
            "tags": selectors.tag_choices(request.user),
            "sexes": Sex.choices,
            "can_edit": can_edit_registry(request.user),
        },
        read=selectors.person_rows,
        count=selectors.person_capped_count,
    )


@login_required
def person_detail(request, pk: int):
    # A cadre paired with or duty-linked to the household reads its members' files too.
    person = get_scoped_or_404(
        request.user,
        Person.objects.select_related("grid", "household"),
        also=linked_households_q(request.user, "household"),
        pk=pk,
    )
    by_place = _by_place(request.user, Person, pk)
    return render(
        request,
        "registry/person_detail.html",
        {
            "person": person,
            "history": history_for(person)[:50] if by_place else [],
            "can_reveal": by_place and can_reveal(request.user),
            "can_edit": by_place and can_edit_registry(request.user),
            "by_place": by_place,
        },
    )


def _by_place(user, model, pk: int) -> bool:
    """Whether the user sees the record through their place in the tree, not only through a
    personal link (a linked cadre reads the file; they do not edit it or read its history)."""
    return scope_queryset(user, model.objects.filter(pk=pk)).exists()


@login_required
def person_create(request):
    _edit_allowed(request)
    initial = {}
    household = None
    hid = positive_id(request.GET.get("household") or request.POST.get("household"))
    if hid:
        household = get_scoped_or_404(request.user, Household.objects.all(), pk=hid)
        initial = {"household": household.pk, "grid": household.grid_id}
    form = PersonForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST":
        done = _save_form(
            request,
            form,
            lambda data: services.person_create(
                acting_user=request.user, data=data, request=request
            ),
            success_url=lambda p: f"/people/{p.pk}/",
            creating=True,
        )
        if done:
            return done
    return render(
        request,
        "form.html",
        {
            "form": form,
            "once": once_token(request),
            "title": _("新增人员"),
            "household": household,
            "cancel": f"/households/{household.pk}/" if household else "/people/",
        },
    )


@login_required
def person_edit(request, pk: int):
    person = get_scoped_or_404(request.user, Person.objects.all(), pk=pk)
    _edit_allowed(request)
    form = PersonForm(request.POST or None, user=request.user, instance=person)
    if request.method == "POST":
        done = _save_form(
            request,
            form,
            lambda data: services.person_update(
                acting_user=request.user, person=person, data=data, request=request
            ),
            success_url=lambda p: f"/people/{p.pk}/",
        )
        if done:
            return done
    return render(
        request,
        "form.html",
        {
            "form": form,
            "title": _("修改人员：%(name)s") % {"name": person.name},
            "cancel": f"/people/{pk}/",
        },
    )


@login_required
@require_POST
def person_delete(request, pk: int):
    person = get_scoped_or_404(request.user, Person.objects.all(), pk=pk)
    _edit_allowed(request)
    household = person.household
    try:
        services.person_delete(acting_user=request.user, person=person, request=request)
    except ValidationError as exc:
        messages.error(request, _("；").join(m for ms in exc.message_dict.values() for m in ms))
        return redirect(f"/people/{pk}/")
    messages.success(request, _("已删除。"))
    return redirect(f"/households/{household.pk}/" if household else "/people/")


@login_required
@require_POST
def person_reveal(request, pk: int):
    return _reveal(request, get_scoped_or_404(request.user, Person.objects.all(), pk=pk))


def _reveal(request, obj):
    """The reveal form's answer (HTMX): the full value in place of the masked one."""
    field = request.POST.get("field", "")
    try:
        value = services.record_reveal(
            acting_user=request.user,
            obj=obj,
            field=field,
            reason=request.POST.get("reason", ""),
            request=request,
        )
    except services.PermissionDenied as exc:
        return _reveal_refused(field, str(exc), 403)
    except ValidationError as exc:
        return _reveal_refused(
            field, " ".join(m for ms in exc.message_dict.values() for m in ms), 400
        )
    return render(request, "registry/_revealed.html", {"value": value, "field": field})


def _reveal_refused(field: str, message: str, status: int) -> HttpResponse:
    """Why nothing is shown, next to the reveal form (HX-Retarget: not in place of the masked
    value); behaviours.js lets htmx swap such an answer in (it dropped 4xx: nothing happened)."""
    response = HttpResponse(format_html('<span class="error">{}</span>', message), status=status)
    if re.fullmatch(r"[a-z_]{1,30}", field):
        response["HX-Retarget"] = f"#reveal-error-{field}"
        response["HX-Reswap"] = "innerHTML"
    return response


# ------------------------------------------------------------- households


@login_required
def household_list(request):
    f = _filters(request)
    housing = request.GET.get("housing", "") if request.GET.get("housing") in Housing.values else ""
    residence = (
        request.GET.get("residence", "") if request.GET.get("residence") in Residence.values else ""
    )
    qs = selectors.household_search(
        request.user, q=f["q"], node=f["node"], tag=f["tag"], housing=housing, residence=residence
    )
    if f["unknown_node"]:
        qs = qs.none()
    return _search_response(
        request,
        "registry/household_list.html",
        qs,
        {
            "f": f,
            "tags": selectors.tag_choices(request.user),
            "housings": Housing.choices,
            "residences": Residence.choices,
            "can_edit": can_edit_registry(request.user),
        },
        read=selectors.household_rows,
    )


@login_required
def household_detail(request, pk: int):
    household = get_scoped_or_404(
        request.user,
        Household.objects.select_related("grid", "building"),
        also=linked_households_q(request.user),
        pk=pk,
    )
    return household_page(request, household)


def household_page(request, household: Household, *, need: dict | None = None, status=200, **forms):
    """The household's file; `need`: a need or resource that could not be added, with its
    errors, shown in the form it came from (what was typed is kept). `forms`: other apps'
    panels' forms sent with errors (visits' plan_form), shown again as typed."""
    pk = household.pk
    by_place = _by_place(request.user, Household, pk)
    members = household.members.select_related("grid").prefetch_related("tags").order_by("id")
    # Members whose own page the user may open (as person_detail decides): 仅本人 may not reach
    # a member someone else added; such a name is shown without a link to a 404. Other scopes
    # reach every member (members live in the household's grid; a linked household's members
    # are linked too): None, no query.
    openable = None
    if user_scope(request.user).own_user_id:
        openable = set(
            scope_queryset(
                request.user,
                Person.objects.filter(household=household),
                also=linked_households_q(request.user, "household"),
            ).values_list("pk", flat=True)
        )
    return render(
        request,
        "registry/household_detail.html",
        {
            "household": household,
            "members": members,
            "openable": openable,
            "needs": household.needs.all(),
            "history": history_for(household)[:50] if by_place else [],
            "can_edit": by_place and can_edit_registry(request.user),
            # A linked cadre reads the file only: no grid page, team or case form to go to.
            "by_place": by_place,
            "team": getattr(household.grid, "service_team", None),
            "need": need or {},
            **forms,
        },
        status=status,
    )


@login_required
def household_create(request):
    _edit_allowed(request)
    form = HouseholdForm(request.POST or None, user=request.user)
    if request.method == "POST":
        done = _save_form(
            request,
            form,
            lambda data: services.household_create(
                acting_user=request.user, data=data, request=request
            ),
            success_url=lambda h: f"/households/{h.pk}/",
            creating=True,
        )
        if done:
            return done
    context = {"form": form, "title": _("新增家庭户"), "cancel": "/households/"}
    return render(request, "form.html", {**context, "once": once_token(request)})


@login_required
def household_edit(request, pk: int):
    household = get_scoped_or_404(request.user, Household.objects.all(), pk=pk)
    _edit_allowed(request)
    form = HouseholdForm(request.POST or None, user=request.user, instance=household)
    if request.method == "POST":
        done = _save_form(
            request,
            form,
            lambda data: services.household_update(
                acting_user=request.user, household=household, data=data, request=request
            ),
            success_url=lambda h: f"/households/{h.pk}/",
        )
        if done:
            return done
    return render(
        request,
        "form.html",
        {
            "form": form,
            "title": _("修改家庭户：%(name)s") % {"name": household},
            "cancel": f"/households/{pk}/",
        },
    )


@login_required
@require_POST
def household_delete(request, pk: int):
    household = get_scoped_or_404(request.user, Household.objects.all(), pk=pk)
    _edit_allowed(request)
    try:
        services.household_delete(acting_user=request.user, household=household, request=request)
    except ValidationError as exc:
        messages.error(request, _("；").join(m for ms in exc.message_dict.values() for m in ms))
        return redirect(f"/households/{pk}/")
    messages.success(request, _("已删除。"))
    return redirect("/households/")


@login_required
@require_POST
def household_need_add(request, pk: int):
    household = get_scoped_or_404(
        request.user, Household.objects.select_related("grid", "building"), pk=pk
    )
    _edit_allowed(request)
    typed = {f: request.POST.get(f, "") for f in ("kind", "category", "description")}
    try:
        services.household_need_add(
            acting_user=request.user, household=household, **typed, request=request
        )
    except ValidationError as exc:
        # Shown in the form, on the page itself: after a redirect to #needs the message at the
        # top of the page was out of sight, and what was typed was gone.
        labels = {"kind": _("需求/资源"), "category": _("类别"), "description": _("内容")}
        colon = pgettext("label separator", "：")  # outside the f-string, where xgettext looks
        errors = [
            f"{labels[field]}{colon}{m}" if field in labels else m
            for field, ms in exc.message_dict.items()
            for m in ms
        ]
        need = {**typed, "errors": errors, "first": next(iter(exc.message_dict), "")}
        return household_page(request, household, need=need, status=400)
    return redirect(f"/households/{pk}/#needs")


@login_required
@require_POST
def household_need_status(request, pk: int, need_pk: int):
    household = get_scoped_or_404(request.user, Household.objects.all(), pk=pk)
    need = get_object_or_404(household.needs, pk=need_pk)
    _edit_allowed(request)
    try:
        services.household_need_status(
            acting_user=request.user,
            need=need,
            status=request.POST.get("status", ""),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, _("；").join(m for ms in exc.message_dict.values() for m in ms))
    return redirect(f"/households/{pk}/#needs")


# ------------------------------------------------------------- places and organisations

SIMPLE = {
    "places": (Place, PlaceForm, PlaceKind, gettext_lazy("场所")),
    "orgs": (Organisation, OrganisationForm, OrgKind, gettext_lazy("组织")),
}
# The form's heading, new and edit, per kind.
SIMPLE_TITLES = {
    "places": (gettext_lazy("新增场所"), gettext_lazy("修改场所：%(name)s")),
    "orgs": (gettext_lazy("新增组织"), gettext_lazy("修改组织：%(name)s")),
}


@login_required
def simple_list(request, kind: str):
    model, _form, kinds, label = SIMPLE[kind]
    f = _filters(request)
    k = request.GET.get("kind", "") if request.GET.get("kind") in kinds.values else ""
    qs = selectors.simple_search(request.user, model, q=f["q"], node=f["node"], kind=k)
    if f["unknown_node"]:
        qs = qs.none()
    return _list_response(
        request,
        "registry/simple_list.html",
        qs,
        {
            "f": f,
            "kinds": kinds.choices,
            "label": label,
            "base": kind,
            "can_edit": can_edit_registry(request.user),
        },
    )


@login_required
def simple_detail(request, kind: str, pk: int):
    model, label = SIMPLE[kind][0], SIMPLE[kind][3]
    obj = get_scoped_or_404(request.user, model.objects.select_related("grid"), pk=pk)
    return render(
        request,
        "registry/simple_detail.html",
        {
            "obj": obj,
            "label": label,
            "base": kind,
            "history": history_for(obj)[:50],
            "can_edit": can_edit_registry(request.user),
            "can_reveal": can_reveal(request.user),
        },
    )


@login_required
@require_POST
def simple_reveal(request, kind: str, pk: int):
    obj = get_scoped_or_404(request.user, SIMPLE[kind][0].objects.select_related("grid"), pk=pk)
    return _reveal(request, obj)


@login_required
def simple_edit(request, kind: str, pk: int | None = None):
    model, form_class = SIMPLE[kind][:2]
    obj = get_scoped_or_404(request.user, model.objects.all(), pk=pk) if pk else None
    _edit_allowed(request)
    form = form_class(request.POST or None, user=request.user, instance=obj)
    if request.method == "POST":
        done = _save_form(
            request,
            form,
            lambda data: services.simple_record_save(
                acting_user=request.user, model=model, data=data, instance=obj, request=request
            ),
            success_url=lambda o: f"/{kind}/{o.pk}/",
            creating=obj is None,
        )
        if done:
            return done
    new, edit = SIMPLE_TITLES[kind]
    title = edit % {"name": obj} if obj else new
    context = {"form": form, "title": title, "cancel": f"/{kind}/{pk}/" if obj else f"/{kind}/"}
    return render(
        request, "form.html", {**context, "once": once_token(request) if obj is None else ""}
    )


@login_required
@require_POST
def simple_delete(request, kind: str, pk: int):
    model = SIMPLE[kind][0]
    obj = get_scoped_or_404(request.user, model.objects.all(), pk=pk)
    _edit_allowed(request)
    try:
        services.simple_record_delete(acting_user=request.user, obj=obj, request=request)
    except ValidationError as exc:
        messages.error(request, _("；").join(m for ms in exc.message_dict.values() for m in ms))
        return redirect(f"/{kind}/{pk}/")
    messages.success(request, _("已删除。"))
    return redirect(f"/{kind}/")
