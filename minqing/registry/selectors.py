"""Reads of the resident files, always through the asking user's scope."""

import datetime
import re

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from minqing.accounts.access import can_reveal, scope_queryset, user_scope, visible_nodes
from minqing.grids.models import Level, Node, subtree_q
from minqing.registry.identity import id_number_q
from minqing.registry.models import Household, Organisation, Person, Place, Tag

_LATIN = re.compile(r"^[a-zA-Z]+$")
_DIGITS = re.compile(r"^\d{4}$")
_ID = re.compile(r"^(\d{17}[\dXx]|\d{15})$")
# Below this many characters a query has no trigram of its own (see text_query).
TRIGRAM = 3
# person_search reads the scope instead of the text index when the scope is at most this many
# subtrees of community level or below (a community: about 2 300 people in the demo county).
SMALL_SCOPE_ROOTS = 4


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
    return qs.filter(**{f"{field}__in": Node.objects.filter(subtree_q(node.path)).values("pk")})


def _fts_phrase(text: str) -> str:
    """One FTS5 phrase: the trigram tokenizer matches it as a substring."""
    return '"' + text.replace('"', '""') + '"'


def _fts_edges(columns: str, text: str) -> str:
    """FTS5: a (padded) value or variant in `columns` starts or ends with `text`."""
    return f"{columns} : ({_fts_phrase('  ' + text)} OR {_fts_phrase(text + '  ')})"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ids(sql: str, params: list) -> Q:
    """Person ids from one raw subquery over the text indexes (the caller's scope still applies)."""
    return Q(pk__in=RawSQL(sql, params))


def _edges(field: str, text: str) -> Q:
    """Unindexed twin of the short-query index match: a space-separated variant of `field`
    starts or ends with `text`."""
    return (
        Q(**{f"{field}__startswith": text})
        | Q(**{f"{field}__contains": " " + text})
        | Q(**{f"{field}__endswith": text})
        | Q(**{f"{field}__contains": text + " "})
    )


def _latin(q: str, indexed: bool) -> Q:
    """Pinyin or initials, lower case: substring if ≥ 3 letters, else a variant's start or end."""
    if len(q) >= TRIGRAM:
        if indexed and connection.vendor == "sqlite":
            match = "{pinyin initials} : " + _fts_phrase(q)
            return _ids(
                "SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s",
                [match],
            )
        return Q(name_pinyin__contains=q) | Q(name_initials__contains=q)  # pg_trgm if indexed
    if indexed and connection.vendor == "sqlite":
        return _ids(
            "SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s",
            [_fts_edges("{pinyin initials}", q)],
        )
    # PostgreSQL: pg_trgm also serves these anchored LIKE patterns (trigrams "  z", " zs").
    return _edges("name_pinyin", q) | _edges("name_initials", q)


def _word(w: str, indexed: bool) -> Q:
    """A word of three characters or more: in the name or in the household's address."""
    if indexed and connection.vendor == "sqlite":
        phrase = _fts_phrase(w)
        return _ids(
            "SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s"
            " UNION SELECT p.id FROM registry_household_fts f"
            " JOIN registry_person p ON p.household_id = f.rowid"
            " WHERE registry_household_fts MATCH %s",
            ["name : " + phrase, phrase],
        )
    if indexed and connection.vendor == "postgresql":
        pattern = "%" + _escape_like(w) + "%"
        return _ids(
            "SELECT id FROM registry_person WHERE name LIKE %s"
            " UNION SELECT p.id FROM registry_household h"
            " JOIN registry_person p ON p.household_id = h.id WHERE h.address LIKE %s",
            [pattern, pattern],
        )
    return Q(name__contains=w) | Q(household__address__contains=w)


def _short_word(w: str, indexed: bool) -> Q:
    """In a query of only one- or two-character words: the name starts or ends with the word."""
    if indexed and connection.vendor == "sqlite":
        return _ids(
            "SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s",
            [_fts_edges("name", w)],
        )
    if indexed and connection.vendor == "postgresql":
        return _ids(
            "SELECT id FROM registry_person WHERE name LIKE %s"
            " UNION SELECT id FROM registry_person WHERE reverse(name::text) LIKE %s",
            [_escape_like(w) + "%", _escape_like(w[::-1]) + "%"],
        )
    return _edges("name", w)


def text_query(q: str, *, indexed: bool = True) -> Q:
    """Name by characters, full pinyin or initials; last 4 of ID or phone; a whole ID; address words.

    Substring search uses the text indexes of migration registry 0003 (SQLite FTS5 trigram,
    PostgreSQL pg_trgm), so it does not scan the table even when the scope is the whole county.
    A trigram index cannot answer a query shorter than three characters; those match where an
    index can: a query of only short words (``张三``, ``伟``) finds names that start or end with
    it, and a short Latin query (``zs``) finds pinyin or initials variants that start or end with
    it. For names of up to three characters that is every substring. In a query that also has a
    word of three characters or more, short words keep plain substring matching (name or
    address) on the rows the long word found.

    ``indexed=False`` gives the same answers as plain column conditions, for a query already
    narrowed to a small scope (person_search), where reading the scope beats any index.
    """
    q = q.strip()
    if "\x00" in q:  # no stored text holds NUL (PostgreSQL cannot); FTS5 would stop at it
        return Q(pk__in=[])
    if _ID.match(q):
        return id_number_q(q.upper())
    if _DIGITS.match(q):
        return Q(id_last4=q) | Q(phone_last4=q)
    if _LATIN.match(q):
        return _latin(q.lower(), indexed)
    words = q.split()
    if not any(len(w) >= TRIGRAM for w in words):
        cond = Q()
        for w in words:
            cond &= _short_word(w, indexed)
        return cond
    cond = Q()
    for w in words:
        if len(w) >= TRIGRAM:
            cond &= _word(w, indexed)
        else:
            cond &= Q(name__contains=w) | Q(household__address__contains=w)
    return cond


def _small_scope(user, node: Node | None) -> bool:
    """Is what this search covers a community or less? Then reading it beats any text index.

    Decided from the user's scope roots (at most one indexed query), never by counting rows.
    """
    if node is not None and node.level >= Level.COMMUNITY:
        return True
    scope = user_scope(user)
    if scope.everything:
        return False
    if (
        len(scope.subtree_paths) > SMALL_SCOPE_ROOTS
        or len(scope.exact_node_ids) > SMALL_SCOPE_ROOTS
    ):
        return False
    if not scope.subtree_paths:
        return True
    levels = Node.objects.filter(path__in=scope.subtree_paths).values_list("level", flat=True)
    return all(level >= Level.COMMUNITY for level in levels)


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
        qs = qs.filter(text_query(q, indexed=not _small_scope(user, node)))
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
    return visible_nodes(user).filter(level=Level.GRID)


def visible_tags(user) -> QuerySet[Tag]:
    """The care groups a user may see. A sensitive group (重点人员) says something about a person
    that is as private as their ID number: only users with the reveal right see it, in every
    list, page, filter, export and API answer."""
    tags = Tag.objects.all()
    return tags if can_reveal(user) else tags.filter(sensitive=False)


def shown_tags(user, tags) -> list[Tag]:
    """`tags` (a record's, usually prefetched) without the ones `user` may not see."""
    if can_reveal(user):
        return list(tags)
    return [t for t in tags if not t.sensitive]
