"""Reads of the resident files, always through the asking user's scope."""

import datetime
import re

from django.db.models import Q, QuerySet
from django.utils import timezone

from minqing.accounts.access import scope_queryset, visible_nodes
from minqing.grids.models import Node
from minqing.registry.models import Household, Organisation, Person, Place, Tag

_LATIN = re.compile(r"^[a-zA-Z]+$")
_DIGITS = re.compile(r"^\d{4}$")
_ID = re.compile(r"^(\d{17}[\dXx]|\d{15})$")


def people_for(user) -> QuerySet[Person]:
    return scope_queryset(user, Person.objects.all())


def households_for(user) -> QuerySet[Household]:
    return scope_queryset(user, Household.objects.all())


def places_for(user) -> QuerySet[Place]:
    return scope_queryset(user, Place.objects.all())


def organisations_for(user) -> QuerySet[Organisation]:
    return scope_queryset(user, Organisation.objects.all())


def _under(qs: QuerySet, node: Node | None, field: str = "grid") -> QuerySet:
    if node is None:
        return qs
    return qs.filter(
        **{f"{field}__in": Node.objects.filter(path__startswith=node.path).values("pk")}
    )


def text_query(q: str) -> Q:
    """Name by characters, full pinyin or initials; last 4 of ID or phone; a whole ID; address words."""
    q = q.strip()
    if _ID.match(q):
        return Q(id_number=q.upper())
    if _DIGITS.match(q):
        return Q(id_last4=q) | Q(phone_last4=q)
    if _LATIN.match(q):
        q = q.lower()
        return Q(name_pinyin__contains=q) | Q(name_initials__contains=q)
    words = q.split()
    cond = Q()
    for w in words:
        cond &= Q(name__contains=w) | Q(household__address__contains=w)
    return cond


def age_bounds(age_min: int | None, age_max: int | None, today: datetime.date | None = None) -> Q:
    today = today or timezone.localdate()
    cond = Q()
    if age_min is not None:
        latest = _years_before(today, age_min)
        cond &= Q(birth_date__lte=latest)
    if age_max is not None:
        earliest = _years_before(today, age_max + 1) + datetime.timedelta(days=1)
        cond &= Q(birth_date__gte=earliest)
    return cond


def _years_before(d: datetime.date, years: int) -> datetime.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def person_search(
    user,
    *,
    q: str = "",
    node: Node | None = None,
    tag: Tag | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
    sex: str = "",
    household: Household | None = None,
) -> QuerySet[Person]:
    qs = _under(people_for(user), node)
    if q.strip():
        qs = qs.filter(text_query(q))
    if tag is not None:
        qs = qs.filter(tags=tag)
    if age_min is not None or age_max is not None:
        qs = qs.filter(age_bounds(age_min, age_max))
    if sex:
        qs = qs.filter(sex=sex)
    if household is not None:
        qs = qs.filter(household=household)
    return qs.select_related("grid", "household").order_by("grid__path", "household_id", "id")


def household_search(
    user,
    *,
    q: str = "",
    node: Node | None = None,
    tag: Tag | None = None,
    housing: str = "",
    residence: str = "",
) -> QuerySet[Household]:
    qs = _under(households_for(user), node)
    q = q.strip()
    if q:
        member_ids = (
            Person.objects.filter(text_query(q)).exclude(household=None).values("household_id")
        )
        cond = Q(pk__in=member_ids) | Q(number__contains=q)
        for w in q.split():
            cond |= Q(address__contains=w)
        qs = qs.filter(cond)
    if tag is not None:
        qs = qs.filter(Q(tags=tag) | Q(members__tags=tag)).distinct()
    if housing:
        qs = qs.filter(housing=housing)
    if residence:
        qs = qs.filter(residence=residence)
    return qs.select_related("grid", "building").order_by("grid__path", "number")


def simple_search(
    user, model, *, q: str = "", node: Node | None = None, kind: str = ""
) -> QuerySet:
    qs = _under(scope_queryset(user, model.objects.all()), node)
    if q.strip():
        qs = qs.filter(Q(name__contains=q.strip()) | Q(address__contains=q.strip()))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("grid")


def grids_for(user) -> QuerySet[Node]:
    from minqing.grids.models import Level

    return visible_nodes(user).filter(level=Level.GRID)
