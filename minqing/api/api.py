"""The JSON API: the same selectors and services as the pages, under the same scoping.

Lists answer {"items": [...], "count": N}. Single objects outside the caller's scope answer 404.
"""

from django.core.exceptions import ValidationError
from django.db import DataError
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from ninja import Query, Router
from ninja.errors import HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.responses import Status as Reply
from pydantic import Field

from minqing.accounts.access import (
    can_audit,
    can_edit_registry,
    can_reveal,
    get_scoped_or_404,
    home_node,
    scope_queryset,
    user_scope,
    visible_nodes,
)
from minqing.accounts.links import linked_households_q
from minqing.accounts.models import Role
from minqing.api.assistance import router as assistance_router
from minqing.api.auth import API_AUTH
from minqing.api.cases import cases as cases_router
from minqing.api.cases import categories as case_categories_router
from minqing.api.cases import notifications as notifications_router
from minqing.api.cases import units as units_router
from minqing.api.duties import router as duties_router
from minqing.api.errors import API, payload_names
from minqing.api.imports import router as imports_router
from minqing.api.reception import router as reception_router
from minqing.api.schemas import (
    AuditOut,
    ErrorOut,
    FieldErrorsOut,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    InSchema,
    MeOut,
    NeedIn,
    NeedOut,
    NeedStatusIn,
    NodeOut,
    PersonIn,
    PersonOut,
    PersonPatch,
    RecordIn,
    RecordOut,
    RevealIn,
    RevealOut,
    TagOut,
)
from minqing.api.secondments import router as secondments_router
from minqing.api.teams import router as teams_router
from minqing.api.visits import router as visits_router
from minqing.cases.services import CaseConflict
from minqing.core.audit import history_for
from minqing.core.models import AuditEntry
from minqing.core.paging import COUNT_CAP, capped_count, capped_page
from minqing.grids.models import Node
from minqing.registry import selectors, services
from minqing.registry.models import Household, Organisation, Person, Place, Tag

ERR_INPUT = gettext_lazy("输入有误")
ERR_OUT_OF_RANGE = gettext_lazy("输入的值超出范围或格式不被接受。")
ERR_AUDIT = gettext_lazy("只有县级和系统管理员可以查看审计日志。")
ERR_TAGS = gettext_lazy("未知的类别：{names}")
ERR_KIND = gettext_lazy("类型不对。")

api = API(
    title="minqing 民情 API",
    version="1",
    description="网格化管理、组团式服务. Authenticate with the session cookie or `Authorization: Bearer <token>`.",
    auth=API_AUTH,
    urls_namespace="api",
    # The schema and its page are read, never written to: another method is a JSON 405, not
    # Django's HTML CSRF page.
    docs_decorator=lambda view: csrf_exempt(require_safe(view)),
)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": str(ERR_INPUT), "errors": errors}, status=400)


# What a schema check found, by pydantic's error type, said the way the services say it.
SCHEMA_MESSAGES = {
    "missing": gettext_lazy("必填。"),
    "int_parsing": gettext_lazy("应为整数。"),
    "int_type": gettext_lazy("应为整数。"),
    "float_parsing": gettext_lazy("应为数字。"),
    "bool_parsing": gettext_lazy("应为 true 或 false。"),
    "date_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "date_from_datetime_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "datetime_parsing": gettext_lazy("时间格式应为 ISO 8601，如 2026-11-27T09:30:00+08:00。"),
    "string_too_long": gettext_lazy("内容过长。"),
    "string_too_short": gettext_lazy("内容过短。"),
    "greater_than_equal": gettext_lazy("超出允许的范围。"),
    "less_than_equal": gettext_lazy("超出允许的范围。"),
    "greater_than": gettext_lazy("超出允许的范围。"),
    "less_than": gettext_lazy("超出允许的范围。"),
    "literal_error": gettext_lazy("不是可选的值。"),
    "enum": gettext_lazy("不是可选的值。"),
    "string_pattern_mismatch": gettext_lazy("格式不正确。"),
}
ERR_SCHEMA = gettext_lazy("格式不正确。")


@api.exception_handler(SchemaError)
def on_schema_error(request, exc: SchemaError):
    """A request the endpoint's schema refuses (a missing field, a word where a number goes):
    422 as before, with the shape and the language of the services' 400 answers."""
    errors: dict[str, list[str]] = {}
    for e in exc.errors:
        loc = [
            str(part)
            for part in e.get("loc", ())
            if part not in ("body", "query", "path", "form", "payload", "file")
        ]
        field = ".".join(loc) or "__all__"
        cause = (e.get("ctx") or {}).get("error")
        if e.get("type") == "value_error" and cause is not None:
            reason = str(cause)  # our validators' own words
        else:
            reason = str(SCHEMA_MESSAGES.get(e.get("type"), ERR_SCHEMA))
        errors.setdefault(field, []).append(reason)
    return api.create_response(request, {"detail": str(ERR_INPUT), "errors": errors}, status=422)


ERR_BODY = gettext_lazy("请求内容无法解析：应为有效的 JSON（或表单）。")
ERR_NOT_FOUND = gettext_lazy("未找到：不存在，或不在您的管辖范围内。")
ERR_MULTIPART = gettext_lazy("上传的内容无法解析：应为 multipart/form-data，文件放在 file 字段。")
ERR_UNAUTHORIZED = gettext_lazy("请先登录，或在 Authorization 中提供有效的令牌（Bearer）。")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    """ninja's own refusals, said in the reader's language like every other answer; a 400 in
    the documented shape of every 400 (FieldErrorsOut), with no field to blame."""
    detail = str(exc)
    if detail.startswith("Cannot parse request body"):
        detail = str(ERR_BODY)
    elif exc.status_code == 401:
        detail = str(ERR_UNAUTHORIZED)
    body = {"detail": detail, "errors": {}} if exc.status_code == 400 else {"detail": detail}
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    """What does not exist and what the caller may not see answer alike, in their language."""
    return api.create_response(request, {"detail": str(ERR_NOT_FOUND)}, status=404)


@csrf_exempt
def no_such_address(request, rest: str = ""):
    """Anything under /api/ that no operation takes (/api/people/-1, /api/people/abc, an unknown
    name): the API's JSON 404, not the site's HTML page. No CSRF check: there is nothing to
    protect, and a POST is told the same."""
    return JsonResponse({"detail": str(ERR_NOT_FOUND)}, status=404)


@api.exception_handler(services.PermissionDenied)
def on_permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(CaseConflict)
def on_case_conflict(request, exc: CaseConflict):
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(DataError)
def on_data_error(request, exc):
    return api.create_response(request, {"detail": str(ERR_OUT_OF_RANGE), "errors": {}}, status=400)


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request, exc):
    """A file upload whose body is not multipart (no boundary, cut short): 400 with a reason,
    not Django's HTML page."""
    return api.create_response(request, {"detail": str(ERR_MULTIPART), "errors": {}}, status=400)


class PageParams(InSchema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)


def _page(qs, params: PageParams, convert):
    start = (params.page - 1) * params.page_size
    items = [convert(o) for o in qs[start : start + params.page_size]]
    return {"items": items, "count": qs.count()}


def _filter_node(user, code: str | None) -> Node | None:
    """A list's `node` filter: the place with that code the user may see (the code trimmed,
    as the pages trim it: "330188001001001 " matched nothing)."""
    code = (code or "").strip()
    return visible_nodes(user).filter(code=code).first() if code else None


def _node(
    user, code: str | None, *, field: str = "grid_code", required: bool = False
) -> Node | None:
    if not code:
        if required:
            raise ValidationError({field: services.ERR_REQUIRED})
        return None
    node = visible_nodes(user).filter(code=code).first()
    if node is None:
        raise ValidationError({field: services.ERR_GRID_SCOPE})
    return node


def _tags(user, names: list[str] | None, record=None) -> list[Tag] | None:
    """Tags by name among those the user may see (a hidden sensitive one is 'unknown' to
    them); on an update the record keeps the hidden ones it carries."""
    if names is None:
        return None
    tags = list(selectors.visible_tags(user).filter(name__in=names))
    unknown = sorted(set(names) - {t.name for t in tags})
    if unknown:
        raise ValidationError({"tags": ERR_TAGS.format(names="、".join(unknown))})
    if record is not None:
        shown = set(selectors.shown_tags(user, record.tags.all()))
        tags += [t for t in record.tags.all() if t not in shown]
    return tags


def _tag_filter(user, name: str | None) -> Tag | None | bool:
    """The list filter's tag, by name or by the id the pages' links carry (`/people/?tag=6`);
    False when it is not a tag the user may see (no rows)."""
    if not name:
        return None
    visible = selectors.visible_tags(user)
    tag = visible.filter(name=name).first()
    if tag is None and name.isdecimal() and len(name) < 10:
        tag = visible.filter(pk=int(name)).first()
    return tag or False


# ------------------------------------------------------------------ me, nodes, tags

common = Router(tags=["common"])


@common.get("/me", response=MeOut)
def me(request):
    node = home_node(request.user)
    return {
        "username": request.user.username,
        "full_name": request.user.full_name,
        "roles": sorted(user_scope(request.user).roles),
        "home_node": node.code if node else None,
        "can_reveal": can_reveal(request.user),
        "can_edit": can_edit_registry(request.user),
        "can_audit": can_audit(request.user),
    }


def node_out(n: Node) -> dict:
    parent_code = n.ancestor_codes()[-2] if n.parent_id else None
    return {
        "id": n.pk,
        "code": n.code,
        "name": n.name,
        "level": n.level,
        "level_label": n.level_label,
        "parent_code": parent_code,
        "path": n.path,
        "has_boundary": n.boundary is not None,
    }


class NodeFilter(PageParams):
    parent: str | None = Field(None, max_length=20)
    level: int | None = Field(None, ge=1, le=6)


@common.get("/nodes", response={200: dict}, summary="Place-tree nodes in the caller's scope")
def nodes(request, f: Query[NodeFilter]):
    qs = visible_nodes(request.user)
    if f.parent:
        qs = qs.filter(parent__code=f.parent)
    if f.level:
        qs = qs.filter(level=f.level)
    return _page(qs.order_by("path"), f, node_out)


def _code(code: str) -> str:
    """A node code from the path: no node's code is longer than 20 or holds a NUL."""
    if len(code) > 20 or "\x00" in code:
        raise Http404
    return code


@common.get("/nodes/{code}", response={200: NodeOut, 404: ErrorOut})
def node(request, code: str):
    n = visible_nodes(request.user).filter(code=_code(code)).first()
    if n is None:
        raise Http404
    return node_out(n)


@common.get("/nodes/{code}/geojson", response={200: dict, 404: ErrorOut})
def node_geojson(request, code: str):
    import json

    from minqing.grids.views import node_geojson as view

    return json.loads(view.__wrapped__(request, _code(code)).content)


@common.get("/tags", response=list[TagOut])
def tags(request):
    return list(selectors.visible_tags(request.user))


class AuditFilter(PageParams):
    model: str | None = Field(None, max_length=50)
    object_id: str | None = Field(None, max_length=40)
    action: str | None = Field(None, max_length=10)


def audit_out(e: AuditEntry) -> dict:
    return {
        "id": e.pk,
        "at": e.at,
        "actor": e.actor.username if e.actor else None,
        "action": e.action,
        "model": e.model,
        "object_id": e.object_id,
        "object_repr": e.object_repr,
        "changes": e.changes,
        "reason": e.reason,
    }


@common.get("/audit", response={200: dict, 403: ErrorOut})
def audit(request, f: Query[AuditFilter]):
    if not can_audit(request.user):
        return Reply(403, {"detail": str(ERR_AUDIT)})
    qs = scope_queryset(
        request.user,
        AuditEntry.objects.select_related("actor"),
        node_field="node",
        owner_fields=("actor",),
    )
    if f.model:
        qs = qs.filter(model=f.model)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.action:
        qs = qs.filter(action=f.action)
    return _page(qs, f, audit_out)


# ------------------------------------------------------------------ people

people = Router(tags=["people"])


def person_out(p: Person, user) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "id_number_masked": p.id_masked,
        "id_legacy": p.id_legacy,
        # Beside id_number_masked a full birth date would give the whole ID number.
        "birth_date": None if p.id_number else p.birth_date,
        "birth_year": p.birth_date.year if p.birth_date else None,
        "age": p.age(),
        "sex": p.sex,
        "phone_masked": p.phone_masked,
        "ethnicity": p.ethnicity,
        "registered_address": p.registered_address,
        "household_id": p.household_id,
        "relation": p.relation,
        "employment": p.employment,
        "health": p.health,
        "disability_grade": p.disability_grade,
        "party_member": p.party_member,
        "grid_code": p.grid.code,
        "grid_name": p.grid.name,
        "tags": [t.name for t in selectors.shown_tags(user, p.tags.all())],
        "note": p.note,
    }


class PersonFilter(PageParams):
    q: str = Field("", max_length=100)
    node: str | None = Field(None, max_length=20)
    tag: str | None = Field(None, max_length=30, description="标签名称（如 高龄）或编号")
    age_min: int | None = Field(None, ge=0, le=150)
    age_max: int | None = Field(None, ge=0, le=150)
    sex: str = Field("", pattern=r"^(M|F)?$")
    household_id: int | None = Field(None, ge=1, le=2**62)


SEARCH_LIST_DESCRIPTION = (
    'Answers {"items": [...], "count": N, "count_capped": bool, "has_next": bool}. Matches are '
    f"counted up to {COUNT_CAP}: with more, `count` is {COUNT_CAP} and `count_capped` is true "
    "(超过1000条). `has_next` says whether page + 1 has rows."
)
NO_MATCHES = {"items": [], "count": 0, "count_capped": False, "has_next": False}


def _search_page(qs, params: PageParams, convert, read, count=capped_count) -> dict:
    """A search list's page: total counted up to COUNT_CAP (core.paging.capped_page)."""
    page = capped_page(qs, params.page, params.page_size, read=read, count=count)
    return {
        "items": [convert(o) for o in page],
        "count": page.count,
        "count_capped": page.count_capped,
        "has_next": page.has_next(),
    }


@people.get(
    "",
    response=dict,
    summary="Search people: name, pinyin, initials, last 4 digits, address",
    description=SEARCH_LIST_DESCRIPTION,
)
def person_list(request, f: Query[PersonFilter]):
    node = _filter_node(request.user, f.node)
    if (f.node or "").strip() and node is None:
        return dict(NO_MATCHES)
    tag = _tag_filter(request.user, f.tag)
    if tag is False:
        return dict(NO_MATCHES)
    household = Household(pk=f.household_id) if f.household_id else None
    qs = selectors.PersonSearch(
        request.user,
        q=f.q,
        node=node,
        tag=tag,
        age_min=f.age_min,
        age_max=f.age_max,
        sex=f.sex,
        household=household,
    )
    return _search_page(
        qs,
        f,
        lambda p: person_out(p, request.user),
        read=selectors.person_rows,
        count=selectors.person_capped_count,
    )


def _person(request, pk: int) -> Person:
    return get_scoped_or_404(request.user, Person.objects.select_related("grid"), pk=pk)


@people.get("/{int:pk}", response={200: PersonOut, 404: ErrorOut})
def person_get(request, pk: int):
    return person_out(_person(request, pk), request.user)


# The services name the fields as the pages do; the API's payloads name them so.
PERSON_NAMES = {"household": "household_id", "grid": "grid_code"}
HOUSEHOLD_NAMES = {"grid": "grid_code", "building": "building_code"}


def _person_data(request, payload: dict, record: Person | None = None) -> dict:
    data = dict(payload)
    if "household_id" in data:
        hid = data.pop("household_id")
        # Named in the body: a field's error (404 is for the URL's own person), as on cases.
        data["household"] = (
            scope_queryset(request.user, Household.objects.select_related("grid"))
            .filter(pk=hid)
            .first()
            if hid
            else None
        )
        if hid and data["household"] is None:
            raise ValidationError({"household_id": services.ERR_HOUSEHOLD_SCOPE})
    if "grid_code" in data:
        data["grid"] = _node(request.user, data.pop("grid_code"))
    if "tags" in data:
        data["tags"] = _tags(request.user, data["tags"], record)
    return data


@people.post("", response={201: PersonOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut})
def person_create(request, payload: PersonIn):
    with payload_names(**PERSON_NAMES):
        data = _person_data(request, payload.dict())
        person = services.person_create(acting_user=request.user, data=data, request=request)
    return Reply(201, person_out(person, request.user))


@people.patch(
    "/{int:pk}", response={200: PersonOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut}
)
def person_update(request, pk: int, payload: PersonPatch):
    person = _person(request, pk)
    with payload_names(**PERSON_NAMES):
        data = _person_data(request, payload.dict(exclude_unset=True), person)
        person = services.person_update(
            acting_user=request.user, person=person, data=data, request=request
        )
    return person_out(Person.objects.select_related("grid").get(pk=person.pk), request.user)


@people.delete("/{int:pk}", response={204: None, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut})
def person_delete(request, pk: int):
    services.person_delete(acting_user=request.user, person=_person(request, pk), request=request)
    return Reply(204, None)


@people.post(
    "/{int:pk}/reveal",
    response={200: RevealOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Full ID or phone number, with a reason; audited",
)
def person_reveal(request, pk: int, payload: RevealIn):
    return _reveal(request, _person(request, pk), payload)


def _reveal(request, obj, payload: RevealIn) -> dict:
    """One full value of a person, place or organisation, with the reason; audited."""
    value = services.record_reveal(
        acting_user=request.user,
        obj=obj,
        field=payload.field,
        reason=payload.reason,
        request=request,
    )
    return {"field": payload.field, "value": value}


@people.get("/{int:pk}/history", response={200: list[AuditOut], 404: ErrorOut})
def person_history(request, pk: int):
    return [audit_out(e) for e in history_for(_person(request, pk))[:200]]


# ------------------------------------------------------------------ households

households = Router(tags=["households"])


def household_out(h: Household, user) -> dict:
    return {
        "id": h.pk,
        "number": h.number,
        "address": h.address,
        "grid_code": h.grid.code,
        "grid_name": h.grid.name,
        "building_code": h.building.code if h.building_id else None,
        "housing": h.housing,
        "floor_area": h.floor_area,
        "residence": h.residence,
        "head_name": h.head_name,
        "member_count": h.member_count,
        "tags": [t.name for t in selectors.shown_tags(user, h.tags.all())],
        "note": h.note,
    }


class HouseholdFilter(PageParams):
    q: str = Field("", max_length=100)
    node: str | None = Field(None, max_length=20)
    tag: str | None = Field(None, max_length=30, description="标签名称（如 高龄）或编号")
    housing: str = Field("", pattern=r"^(own|rent|public|other)?$")
    residence: str = Field("", pattern=r"^(permanent|floating|separated)?$")


@households.get("", response=dict, description=SEARCH_LIST_DESCRIPTION)
def household_list(request, f: Query[HouseholdFilter]):
    node = _filter_node(request.user, f.node)
    if (f.node or "").strip() and node is None:
        return dict(NO_MATCHES)
    tag = _tag_filter(request.user, f.tag)
    if tag is False:
        return dict(NO_MATCHES)
    qs = selectors.household_search(
        request.user, q=f.q, node=node, tag=tag, housing=f.housing, residence=f.residence
    )
    return _search_page(
        qs, f, lambda h: household_out(h, request.user), read=selectors.household_rows
    )


def _household(request, pk: int, *, reading: bool = False) -> Household:
    """A household in the caller's scope; to read, also one personally linked to them (a
    cadre's paired or duty-linked household), as on its page (registry.views)."""
    return get_scoped_or_404(
        request.user,
        Household.objects.select_related("grid", "building"),
        also=linked_households_q(request.user) if reading else None,
        pk=pk,
    )


def _household_data(request, payload: dict, record: Household | None = None) -> dict:
    data = dict(payload)
    if "grid_code" in data:
        data["grid"] = _node(request.user, data.pop("grid_code"), required=True)
    if "building_code" in data:
        data["building"] = _node(request.user, data.pop("building_code"), field="building_code")
    if "tags" in data:
        data["tags"] = _tags(request.user, data["tags"], record)
    return data


@households.get("/{int:pk}", response={200: HouseholdOut, 404: ErrorOut})
def household_get(request, pk: int):
    return household_out(_household(request, pk, reading=True), request.user)


@households.get("/{int:pk}/members", response={200: list[PersonOut], 404: ErrorOut})
def household_members(request, pk: int):
    h = _household(request, pk, reading=True)
    return [
        person_out(p, request.user)
        for p in h.members.select_related("grid").prefetch_related("tags").order_by("id")
    ]


@households.post("", response={201: HouseholdOut, 400: FieldErrorsOut, 403: ErrorOut})
def household_create(request, payload: HouseholdIn):
    with payload_names(**HOUSEHOLD_NAMES):
        h = services.household_create(
            acting_user=request.user,
            data=_household_data(request, payload.dict()),
            request=request,
        )
    return Reply(201, household_out(h, request.user))


@households.patch(
    "/{int:pk}", response={200: HouseholdOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut}
)
def household_update(request, pk: int, payload: HouseholdPatch):
    h = _household(request, pk)
    with payload_names(**HOUSEHOLD_NAMES):
        h = services.household_update(
            acting_user=request.user,
            household=h,
            data=_household_data(request, payload.dict(exclude_unset=True), h),
            request=request,
        )
    return household_out(h, request.user)


@households.delete(
    "/{int:pk}", response={204: None, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut}
)
def household_delete(request, pk: int):
    services.household_delete(
        acting_user=request.user, household=_household(request, pk), request=request
    )
    return Reply(204, None)


@households.get("/{int:pk}/needs", response={200: list[NeedOut], 404: ErrorOut})
def household_needs(request, pk: int):
    return list(_household(request, pk).needs.all())


@households.post(
    "/{int:pk}/needs", response={201: NeedOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut}
)
def household_need_add(request, pk: int, payload: NeedIn):
    need = services.household_need_add(
        acting_user=request.user,
        household=_household(request, pk),
        request=request,
        **payload.dict(),
    )
    return Reply(201, need)


@households.patch(
    "/{int:pk}/needs/{int:need_id}",
    response={200: NeedOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
)
def household_need_status(request, pk: int, need_id: int, payload: NeedStatusIn):
    need = get_object_or_404(_household(request, pk).needs, pk=need_id)
    return services.household_need_status(
        acting_user=request.user, need=need, status=payload.status, request=request
    )


@households.get("/{int:pk}/history", response={200: list[AuditOut], 404: ErrorOut})
def household_history(request, pk: int):
    return [audit_out(e) for e in history_for(_household(request, pk))[:200]]


# ------------------------------------------------------------------ places and organisations


def record_out(o) -> dict:
    return {
        "id": o.pk,
        "kind": o.kind,
        "name": o.name,
        "address": o.address,
        "grid_code": o.grid.code,
        "grid_name": o.grid.name,
        "contact": o.contact,
        "phone_masked": o.MASKED["phone"](o.phone),
        "note": o.note,
    }


class RecordFilter(PageParams):
    q: str = Field("", max_length=100)
    node: str | None = Field(None, max_length=20)
    kind: str = Field("", max_length=12)


def _record_router(model, tag: str) -> Router:
    router = Router(tags=[tag])

    @router.get("", response=dict, operation_id=f"{tag}_list")
    def record_list(request, f: Query[RecordFilter]):
        node = _filter_node(request.user, f.node)
        if (f.node or "").strip() and node is None:
            return {"items": [], "count": 0}
        return _page(
            selectors.simple_search(request.user, model, q=f.q, node=node, kind=f.kind),
            f,
            record_out,
        )

    def _get(request, pk):
        return get_scoped_or_404(request.user, model.objects.select_related("grid"), pk=pk)

    @router.get("/{int:pk}", response={200: RecordOut, 404: ErrorOut}, operation_id=f"{tag}_get")
    def record_get(request, pk: int):
        return record_out(_get(request, pk))

    def _data(request, payload: dict) -> dict:
        data = dict(payload)
        if "grid_code" in data:
            data["grid"] = _node(request.user, data.pop("grid_code"), required=True)
        return data

    @router.post(
        "",
        response={201: RecordOut, 400: FieldErrorsOut, 403: ErrorOut},
        operation_id=f"{tag}_create",
    )
    def record_create(request, payload: RecordIn):
        if payload.kind not in dict(model._meta.get_field("kind").choices):
            raise ValidationError({"kind": ERR_KIND})
        with payload_names(grid="grid_code"):
            obj = services.simple_record_save(
                acting_user=request.user,
                model=model,
                data=_data(request, payload.dict()),
                request=request,
            )
        return Reply(201, record_out(obj))

    @router.patch(
        "/{int:pk}",
        response={200: RecordOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
        operation_id=f"{tag}_update",
    )
    def record_update(request, pk: int, payload: RecordIn):
        if payload.kind not in dict(model._meta.get_field("kind").choices):
            raise ValidationError({"kind": ERR_KIND})
        with payload_names(grid="grid_code"):
            obj = services.simple_record_save(
                acting_user=request.user,
                model=model,
                instance=_get(request, pk),
                # Left out, a field keeps its value: a client that read phone_masked does not
                # clear the phone by not sending it.
                data=_data(request, payload.dict(exclude_unset=True)),
                request=request,
            )
        return record_out(obj)

    @router.post(
        "/{int:pk}/reveal",
        response={200: RevealOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
        operation_id=f"{tag}_reveal",
        summary="The contact's full phone number, with a reason; audited",
    )
    def record_reveal(request, pk: int, payload: RevealIn):
        return _reveal(request, _get(request, pk), payload)

    @router.delete(
        "/{int:pk}",
        response={204: None, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
        operation_id=f"{tag}_delete",
    )
    def record_delete(request, pk: int):
        services.simple_record_delete(
            acting_user=request.user, obj=_get(request, pk), request=request
        )
        return Reply(204, None)

    return router


api.add_router("/", common)
api.add_router("/people", people)
api.add_router("/households", households)
api.add_router("/places", _record_router(Place, "places"))
api.add_router("/organisations", _record_router(Organisation, "organisations"))
api.add_router("/cases", cases_router)
api.add_router("/case-categories", case_categories_router)
api.add_router("/units", units_router)
api.add_router("/notifications", notifications_router)
api.add_router("/visits", visits_router)
api.add_router("/assistance", assistance_router)
api.add_router("/duties", duties_router)
api.add_router("/secondments", secondments_router)
api.add_router("/reception", reception_router)
api.add_router("/imports", imports_router)
api.add_router("/teams", teams_router)

__all__ = ["api", "Role"]
