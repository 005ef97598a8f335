"""Excel exports of the lists (人员、家庭户、场所、组织、关爱对象台账、审计日志).

Each export takes the list page's GET filters, runs the list page's selector (so the user's
scope and the filters are exactly what the screen shows), writes the values as the screen
shows them (ID and phone numbers masked), and ends with the stamp 导出人 / 导出时间 / 范围.
Every export writes one audit entry with the filters in words and the number of rows.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from minqing.accounts.access import can_audit, home_node, scope_queryset, user_scope
from minqing.core.audit import client_ip
from minqing.core.i18n import source, source_choices
from minqing.core.masking import mask_birth_date
from minqing.core.models import AuditAction, AuditEntry
from minqing.core.paging import int_param
from minqing.core.templatetags.minqing_tags import field_label, field_value
from minqing.core.xlsx import Column, Sheet, Stamp, xlsx_response
from minqing.grids.models import Node
from minqing.registry import selectors
from minqing.registry.models import (
    DisabilityGrade,
    Employment,
    Health,
    Household,
    Housing,
    OrgKind,
    Person,
    Place,
    PlaceKind,
    Relation,
    Residence,
    Sex,
    Tag,
    TagTarget,
)
from minqing.registry.views import SIMPLE
from minqing.registry.views import _filters as list_filters

CHUNK = 2000
ALL_DATA = gettext_noop("全部数据")


def _labels(choices) -> dict:
    # Ledgers are official Chinese documents: their values stay Chinese in the English UI.
    return source_choices(choices)


SEX, RELATION, EMPLOYMENT = _labels(Sex), _labels(Relation), _labels(Employment)
HEALTH, DISABILITY = _labels(Health), _labels(DisabilityGrade)
HOUSING, RESIDENCE = _labels(Housing), _labels(Residence)
KINDS = {"places": _labels(PlaceKind), "orgs": _labels(OrgKind)}


@dataclass
class Export:
    """One export: what to write and how to describe it in the stamp and the audit log."""

    title: str
    model: str  # model label for the audit entry, e.g. "registry.person"
    columns: list[Column]
    rows: Iterable[list]
    filters: list[str] = field(default_factory=list)  # the filters applied, in words
    node: Node | None = None  # the place node the export was narrowed to, if any
    more: list[Sheet] = field(default_factory=list)  # further sheets (a report's totals)


# ------------------------------------------------------------- the stamp and the audit entry


def exporter_name(user) -> str:
    full = (getattr(user, "full_name", "") or "").strip()
    return f"{full}（{user.username}）" if full and full != user.username else user.username


def scope_words(user) -> str:
    """The part of the place tree the user may see, in words (e.g. 东门社区第1网格), in the
    reader's language; an export's stamp takes them in Chinese (`stamp_scope_words`)."""
    scope = user_scope(user)
    sep = gettext("、")
    if scope.everything:
        roots = list(Node.objects.filter(parent__isnull=True).values_list("name", flat=True))
        return sep.join(roots) or gettext(ALL_DATA)  # the whole county: its name
    parts = list(
        Node.objects.filter(path__in=scope.subtree_paths)
        .order_by("path")
        .values_list("name", flat=True)
    )
    parts += [
        gettext("%(name)s（本级）") % {"name": name}
        for name in Node.objects.filter(pk__in=scope.exact_node_ids)
        .order_by("path")
        .values_list("name", flat=True)
    ]
    if scope.own_user_id:
        parts.append(gettext("本人录入的记录"))
    return sep.join(parts) or gettext("无（未分配网格）")


def stamp_scope_words(user) -> str:
    """scope_words in Chinese, for an export's stamp (its header row is Chinese too)."""
    with translation.override(None):
        return scope_words(user)


def range_words(user, filters: list[str]) -> str:
    words = stamp_scope_words(user)
    return f"{words}；筛选条件：{'，'.join(filters) if filters else '无'}"


def record_export(request, export: Export, count: int) -> None:
    """One EXPORT audit entry: who exported what, with which filters, how many rows."""
    words = "，".join(export.filters) or "无"
    AuditEntry.objects.create(
        actor=request.user,
        action=AuditAction.EXPORT,
        model=export.model,
        object_id="",
        object_repr=f"{export.title}（{count}条）"[:200],
        changes={
            "filters": [None, words],
            "rows": [None, count],
            "query": [None, request.GET.urlencode()[:500]],
        },
        ip=client_ip(request),
        node=export.node or home_node(request.user),
    )


def respond(request, export: Export):
    stamp = Stamp(
        exporter=exporter_name(request.user), scope=range_words(request.user, export.filters)
    )
    day = timezone.localtime(stamp.at).strftime("%Y%m%d")
    return xlsx_response(
        export.rows,
        columns=export.columns,
        title=export.title,
        filename=f"{export.title}-{day}.xlsx",
        stamp=stamp,
        on_written=lambda count: record_export(request, export, count),
        more=export.more,
    )


# ------------------------------------------------------------- filters, as on the list pages


def _common_words(f: dict) -> list[str]:
    words = []
    if f["unknown_node"]:
        words.append(f"区划：{f['unknown_node']}（不存在或不在范围内）")
    if f["q"].strip():
        words.append(f"关键词“{f['q'].strip()}”")
    if f["node"] is not None:
        words.append(f"区划：{f['node'].name}（{f['node'].code}）")
    if f["tag"] is not None:
        words.append(f"类别：{f['tag'].name}")
    return words


def _choice(request, name: str, labels: dict) -> str:
    value = request.GET.get(name, "")
    return value if value in labels else ""


def _with_tags(rows: Iterable[tuple], through, fk: str, user=None, chunk: int = CHUNK) -> Iterator:
    """Each row (its pk first) with the names of the tags `user` may see (all without a user),
    in the tags' order: one query per chunk."""
    visible = selectors.visible_tags(user) if user is not None else Tag.objects.all()
    tags = list(visible.order_by("sort", "id").values_list("pk", "name"))
    order = {pk: i for i, (pk, _) in enumerate(tags)}
    names = dict(tags)

    def flush(batch):
        by_pk = defaultdict(list)
        for pk, tag_id in through.objects.filter(
            **{f"{fk}__in": [row[0] for row in batch]}
        ).values_list(fk, "tag_id"):
            if tag_id in names:
                by_pk[pk].append(tag_id)
        for row in batch:
            ids = by_pk.get(row[0])
            yield (
                row,
                "、".join(names[t] for t in sorted(ids, key=order.__getitem__)) if ids else "",
            )

    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            yield from flush(batch)
            batch = []
    if batch:
        yield from flush(batch)


# ------------------------------------------------------------- people

PEOPLE_COLUMNS = [
    Column("姓名", 10),
    Column("性别", 6),
    Column("出生日期", 12, "date"),
    Column("年龄", 6),
    Column("公民身份号码", 21),
    Column("联系电话", 14),
    Column("民族", 8),
    Column("与户主关系", 10),
    Column("户号", 18),
    Column("现住址", 34),
    Column("户籍地址", 34),
    Column("所属网格", 18),
    Column("人员类别", 20),
    Column("就业状况", 10),
    Column("健康状况", 10),
    Column("残疾等级", 9),
    Column("党员", 6),
]


PERSON_FIELDS = (
    "pk",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "phone",
    "ethnicity",
    "relation",
    "household__number",
    "household__address",
    "registered_address",
    "grid__name",
    "employment",
    "health",
    "disability_grade",
    "party_member",
)


def _age(birth: datetime.date | None, today: datetime.date) -> int | None:
    """Whole years, as Person.age shows on the list page."""
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def person_rows(qs: QuerySet[Person], user=None) -> Iterator[list]:
    """Rows of the selector's queryset, as the list page shows them: ID and phone numbers go
    through the model's masking functions (Person.MASKED) and never leave this function whole,
    nor does the birth date of a person with an ID number (it would fill in the mask).
    Plain values, not model instances: a third of the time for the same result."""
    today = timezone.localdate()
    mask_id, mask_phone = Person.MASKED["id_number"], Person.MASKED["phone"]
    mask_birth = mask_birth_date
    rows = qs.values_list(*PERSON_FIELDS).iterator(chunk_size=CHUNK)
    for row, tags in _with_tags(rows, Person.tags.through, "person_id", user):
        (_, name, sex, birth, id_number, phone, ethnicity, relation, h_number, h_address,
         registered, grid, employment, health, disability, party) = row  # fmt: skip
        yield [
            name,
            SEX.get(sex, ""),
            mask_birth(birth) if id_number else birth,  # as Person.birth_shown
            _age(birth, today),
            mask_id(id_number),
            mask_phone(phone),
            ethnicity,
            RELATION.get(relation, ""),
            h_number or "",
            h_address or "",
            registered,
            grid,
            tags,
            EMPLOYMENT.get(employment, ""),
            HEALTH.get(health, ""),
            DISABILITY[disability] if disability else "",
            "是" if party else "",
        ]


def people_export(request) -> Export:
    """Same filters and selector as registry.views.person_list."""
    f = list_filters(request)
    sex = _choice(request, "sex", SEX)
    age_min, age_max = int_param(request, "age_min"), int_param(request, "age_max")
    qs = selectors.person_search(
        request.user,
        q=f["q"],
        node=f["node"],
        tag=f["tag"],
        age_min=age_min,
        age_max=age_max,
        sex=sex,
    )
    if f["unknown_node"]:
        qs = qs.none()
    words = _common_words(f)
    if sex:
        words.append(f"性别：{SEX[sex]}")
    if age_min is not None or age_max is not None:
        if age_max is None:
            words.append(f"年龄：{age_min}岁及以上")
        elif age_min is None:
            words.append(f"年龄：{age_max}岁及以下")
        else:
            words.append(f"年龄：{age_min}–{age_max}岁")
    title = f"{f['tag'].name}台账" if f["tag"] is not None else "人员台账"
    return Export(
        title, "registry.person", PEOPLE_COLUMNS, person_rows(qs, request.user), words, f["node"]
    )


# ------------------------------------------------------------- households

HOUSEHOLD_COLUMNS = [
    Column("户号", 18),
    Column("户主", 10),
    Column("现住址", 34),
    Column("网格", 18),
    Column("楼栋", 10),
    Column("人口数", 7),
    Column("住房性质", 9),
    Column("面积(m²)", 9),
    Column("居住类型", 9),
    Column("家庭类别", 20),
]


HOUSEHOLD_FIELDS = (
    "pk",
    "number",
    "head_name",
    "address",
    "grid__name",
    "building__name",
    "member_count",
    "housing",
    "floor_area",
    "residence",
)


def household_rows(qs: QuerySet[Household], user=None) -> Iterator[list]:
    rows = qs.values_list(*HOUSEHOLD_FIELDS).iterator(chunk_size=CHUNK)
    for row, tags in _with_tags(rows, Household.tags.through, "household_id", user):
        _, number, head, address, grid, building, members, housing, area, residence = row
        yield [
            number,
            head,
            address,
            grid,
            building or "",
            members,
            HOUSING.get(housing, ""),
            area,
            RESIDENCE.get(residence, ""),
            tags,
        ]


def households_export(request) -> Export:
    """Same filters and selector as registry.views.household_list."""
    f = list_filters(request)
    housing = _choice(request, "housing", HOUSING)
    residence = _choice(request, "residence", RESIDENCE)
    qs = selectors.household_search(
        request.user, q=f["q"], node=f["node"], tag=f["tag"], housing=housing, residence=residence
    )
    if f["unknown_node"]:
        qs = qs.none()
    words = _common_words(f)
    if housing:
        words.append(f"住房性质：{HOUSING[housing]}")
    if residence:
        words.append(f"居住类型：{RESIDENCE[residence]}")
    title = f"{f['tag'].name}台账" if f["tag"] is not None else "家庭户台账"
    return Export(
        title,
        "registry.household",
        HOUSEHOLD_COLUMNS,
        household_rows(qs, request.user),
        words,
        f["node"],
    )


# ------------------------------------------------------------- places and organisations


SIMPLE_COLUMNS = [
    Column("名称", 24),
    Column("类型", 10),
    Column("地址", 34),
    Column("所属网格", 18),
    Column("联系人", 10),
    Column("联系电话", 14),
    Column("备注", 30),
]


def simple_rows(qs: QuerySet, kinds: dict) -> Iterator[list]:
    # The contact's phone, masked as on the record's page (GridRecord.phone_masked).
    mask = Place.MASKED["phone"]
    fields = ("name", "kind", "address", "grid__name", "contact", "phone", "note")
    for name, kind, address, grid, contact, phone, note in qs.values_list(*fields).iterator(
        chunk_size=CHUNK
    ):
        yield [name, kinds.get(kind, ""), address, grid, contact, mask(phone), note]


def simple_export(request, kind: str) -> Export:
    """Same filters and selector as registry.views.simple_list."""
    model, _, _, label = SIMPLE[kind]
    f = list_filters(request)
    kinds = KINDS[kind]
    k = _choice(request, "kind", kinds)
    qs = selectors.simple_search(request.user, model, q=f["q"], node=f["node"], kind=k)
    if f["unknown_node"]:
        qs = qs.none()
    words = _common_words({**f, "tag": None})
    if k:
        words.append(f"类型：{kinds[k]}")
    return Export(
        f"{source(label)}台账",  # an official ledger's name stays Chinese
        model._meta.label_lower,
        SIMPLE_COLUMNS,
        simple_rows(qs, kinds),
        words,
        f["node"],
    )


# ------------------------------------------------------------- the audit log

AUDIT_COLUMNS = [
    Column("时间", 20, "datetime"),
    Column("操作人", 16),
    Column("操作", 8),
    Column("对象类型", 10),
    Column("对象", 30),
    Column("变更", 50),
    Column("事由", 20),
    Column("IP", 15),
]
ACTIONS = _labels(AuditAction)


def _model_name(label: str, cache: dict) -> str:
    if label not in cache:
        from django.apps import apps

        try:
            cache[label] = source(apps.get_model(label)._meta.verbose_name)
        except (LookupError, ValueError):
            cache[label] = label
    return cache[label]


def _changes_text(e: AuditEntry) -> str:
    """The entry's changes as the audit page reads them, in Chinese whatever the UI language
    (the audit ledger is an official record): field names, choices by
    their labels (已解决, not solved), yes/no as 是/否."""
    if not isinstance(e.changes, dict):
        return str(e.changes or "")
    parts = []
    with translation.override(None):
        for k, v in e.changes.items():
            label = field_label(e.model, k)
            if isinstance(v, list | tuple) and len(v) == 2:
                old, new = ("" if x in (None, "") else field_value(e.model, k, x) for x in v)
                parts.append(f"{label}：{old} → {new}")
            else:
                parts.append(f"{label}：{field_value(e.model, k, v)}")
    return "；".join(parts)


def audit_rows(qs: QuerySet[AuditEntry]) -> Iterator[list]:
    names: dict = {}
    for e in qs.iterator(chunk_size=CHUNK):
        yield [
            e.at,
            exporter_name(e.actor) if e.actor else "系统",
            ACTIONS.get(e.action, e.action),
            _model_name(e.model, names),
            e.object_repr,
            _changes_text(e),
            e.reason,
            e.ip or "",
        ]


def audit_export(request) -> Export:
    """Same rule, scope and filters as accounts.views.audit_log."""
    if not can_audit(request.user):
        raise PermissionDenied
    qs = scope_queryset(
        request.user,
        AuditEntry.objects.select_related("actor"),
        node_field="node",
        owner_fields=("actor",),
    )
    words = []
    action = request.GET.get("action", "")
    if action:
        qs = qs.filter(action=action)
        words.append(f"操作：{ACTIONS.get(action, action)}")
    who = request.GET.get("who", "").strip()
    if who:
        qs = qs.filter(actor__username=who)
        words.append(f"操作人：{who}")
    return Export("审计日志", "core.auditentry", AUDIT_COLUMNS, audit_rows(qs), words)


# ------------------------------------------------------------- views


def _view(build: Callable[..., Export]):
    @login_required
    def view(request, **kwargs):
        return respond(request, build(request, **kwargs))

    view.__name__ = build.__name__.replace("_export", "_export_view")
    view.__doc__ = build.__doc__
    return view


people_xlsx = _view(people_export)
households_xlsx = _view(households_export)
simple_xlsx = _view(simple_export)
audit_xlsx = _view(audit_export)


@login_required
def ledgers(request):
    """关爱对象台账: every care group with its size in the user's scope, to view or export."""
    # One query for all person groups: the number of people in scope with each tag (what
    # person_search(tag=…) counts). A household group also counts households whose members
    # carry the tag (household_search), so those few are counted one by one.
    links = Person.tags.through.objects.all()
    if not user_scope(request.user).everything:  # the county's: every link, no semi-join
        links = links.filter(person__in=selectors.people_for(request.user))
    people = dict(links.values("tag_id").annotate(n=Count("id")).values_list("tag_id", "n"))
    rows = []
    for tag in selectors.visible_tags(request.user).order_by("sort", "id"):
        if tag.target == TagTarget.HOUSEHOLD:
            count = selectors.household_search(request.user, tag=tag).count()
            base = "/households/"
        else:
            count = people.get(tag.pk, 0)
            base = "/people/"
        rows.append(
            {
                "tag": tag,
                "count": count,
                "list_url": f"{base}?tag={tag.pk}",
                "export_url": f"{base}export.xlsx?tag={tag.pk}",
            }
        )
    return render(
        request,
        "registry/ledgers.html",
        {"rows": rows, "scope": scope_words(request.user)},
    )
