"""Reads of the resident files, always through the asking user's scope."""

import copy
import datetime
import json
import re
from collections import Counter
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, OperationalError, connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from minqing.accounts.access import can_reveal, scope_queryset, user_scope, visible_nodes
from minqing.core import statements
from minqing.core.digits import positive_id
from minqing.core.memo import Cached, forget_on_change
from minqing.core.paging import capped_count, count_cap
from minqing.core.pasted import plain
from minqing.core.pinyin import is_pinyin
from minqing.grids.models import Level, Node, subtree_q
from minqing.registry.identity import id_last4_q, id_number_q
from minqing.registry.models import Household, Organisation, Person, Place, Tag, TagTarget
from minqing.registry.search_compiled import PersonSearch

_LATIN = re.compile(r"^[a-zA-Z]+$")
_SPACED_LATIN = re.compile(r"^[a-zA-Z]+(?:\s+[a-zA-Z]+)+$")
_DIGITS = re.compile(r"^\d{4}$")
_ID_LAST4 = re.compile(r"^\d{3}[Xx]$")  # an ID number ending in the check character X
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


# PostgreSQL's id subqueries of one word (`_word`, `_short_word`): {union} is UNION for the
# search, UNION ALL for the density probe (which may count a person twice: it only asks
# "more than the cap?", and UNION would read every match before counting).
_PG_WORD_IDS = (
    "SELECT id FROM registry_person WHERE name LIKE %s"
    " {union} SELECT p.id FROM registry_household h"
    " JOIN registry_person p ON p.household_id = h.id WHERE h.address LIKE %s"
)
_PG_SHORT_IDS = (
    "SELECT id FROM registry_person WHERE name LIKE %s"
    " {union} SELECT id FROM registry_person WHERE reverse(name::text) LIKE %s"
)


def _pg_word_query(w: str) -> tuple[str, list]:
    """The id subquery of one word (any length) and its parameters, {union} left open."""
    if len(w) >= TRIGRAM:
        pattern = "%" + _escape_like(w) + "%"
        return _PG_WORD_IDS, [pattern, pattern]
    return _PG_SHORT_IDS, [_escape_like(w) + "%", _escape_like(w[::-1]) + "%"]


def one_word(q: str) -> bool:
    """Is `q` a single word of characters (not digits, an ID or pinyin)?"""
    return len(q.split()) == 1 and text_kind(q.strip()) == "words"


def common_word(q: str, cap: int) -> bool:
    """PostgreSQL: is `q`, a single word, found by more than `cap` people in the whole county?

    A word a tenth of the county shares (a road: 建设路, 30 000 people; a surname: 王) is best
    listed by walking the list in its order and testing each row, which stops after a page; a
    rare word by looking its few matches up through the index and sorting them. Which one it
    is, the trigram index tells in ≈ 1 ms for a rare word and ≈ 20 ms for a road (counting at
    most cap + 1).
    """
    if connection.vendor != "postgresql" or not one_word(q):
        return False
    sql, params = _pg_word_query(q.strip())
    with statements.planned_each_time(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM ({sql.format(union='UNION ALL')} LIMIT %s) AS found",
            [*params, cap + 1],
        )
        return cursor.fetchone()[0] > cap


def _pg_ids(sql: str, params: list) -> Q:
    """PostgreSQL: the ids a subquery over the trigram or prefix indexes finds (people's, or
    households' for `_household_text`), as an array.

    The planner cannot tell how many people a LIKE over a trigram index finds: it guessed
    3 000 for the 175 of 建设路200号 in the 300 000-person county, chose to walk every grid in
    list order against the whole match set, and took 27 ms; 王 (6 334) took 160 ms through a
    scan of the whole table. Read through ARRAY(…) the ids are a set it looks up by primary key
    and sorts: 3.7 ms and 77 ms (bench/README, search run 11).
    """
    return _ids(f"SELECT unnest(ARRAY({sql}))", params)


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
        sql, params = _pg_word_query(w)
        return _pg_ids(sql.format(union="UNION"), params)
    return Q(name__contains=w) | Q(household__address__contains=w)


def _short_word(w: str, indexed: bool) -> Q:
    """In a query of only one- or two-character words: the name starts or ends with the word."""
    if indexed and connection.vendor == "sqlite":
        return _ids(
            "SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s",
            [_fts_edges("name", w)],
        )
    if indexed and connection.vendor == "postgresql":
        sql, params = _pg_word_query(w)
        return _pg_ids(sql.format(union="UNION"), params)
    return _edges("name", w)


def search_text(q: str) -> str:
    """What a search box's text is searched as: pinyin typed in syllables (``zhang feng``, as a
    phone keyboard spaces them) is one pinyin query (``zhangfeng``) — as separate words it
    looked for each in names and addresses, and found nobody. Words that are not pinyin (a
    foreign resident's ``John Smith``) stay words."""
    q = plain(q)
    if _SPACED_LATIN.match(q) and all(is_pinyin(w) for w in q.split()):
        return re.sub(r"\s+", "", q)
    return q  # John Smith: words, each looked for in names and addresses


def text_kind(q: str) -> str:
    """Which kind of search the stripped text `q` is: how text_query reads it."""
    if "\x00" in q:
        return "nul"
    if _ID.match(q):
        return "id"
    if _DIGITS.match(q):
        return "digits"
    if _ID_LAST4.match(q):
        return "id_last4"
    if _LATIN.match(q):
        return "latin"
    return "words"


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
    kind = text_kind(q)
    if kind == "nul":  # no stored text holds NUL (PostgreSQL cannot); FTS5 would stop at it
        return Q(pk__in=[])
    if kind == "id":
        return id_number_q(q.upper())
    if kind == "digits":
        return id_last4_q(q) | Q(phone_last4=q)
    if kind == "id_last4":
        return id_last4_q(q)
    if kind == "latin":
        return _latin(q.lower(), indexed)
    words = q.split()
    # A word in letters beside words in characters is pinyin or initials (`rnl 26号`: the
    # name's initials and the address); it found nothing, being looked for in name and address.
    latin = [w for w in words if _LATIN.match(w)]
    words = [w for w in words if not _LATIN.match(w)]
    cond = Q()
    for w in latin:
        cond &= _latin(w.lower(), indexed)
    if not any(len(w) >= TRIGRAM for w in words):
        for w in words:
            cond &= _short_word(w, indexed)
        return cond
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
    # Levels only grow downwards, so a node n deep in the tree is at level n or below: a
    # grid worker's or community's scope is decided from its paths, with no query.
    if all(path.count("/") - 1 >= Level.COMMUNITY for path in scope.subtree_paths):
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
    walk: bool = False,
) -> QuerySet[Person]:
    """walk: match the text row by row (no text index) even over a large scope — for a word
    so common that the list, read in its order, fills a page at once (`common_word`)."""
    qs = _under(people_for(user), node)
    text = None
    q = search_text(q)
    if q.strip():
        text = text_query(q, indexed=not walk and not _small_scope(user, node))
        qs = qs.filter(text)
    if tag is not None:
        qs = qs.filter(in_care_group(tag))
    if age_min is not None or age_max is not None:
        qs = qs.filter(age_bounds(age_min, age_max))
    if sex:
        qs = qs.filter(sex=sex)
    if household is not None:
        qs = qs.filter(household=household)
    qs = qs.select_related("grid", "household").order_by("grid__path", "household_id", "id")
    ids = _index_ids(text) if text is not None else None
    if ids is not None:
        # For the list pages (person_rows, person_capped_count); kept by every clone.
        only_text = user_scope(user).everything and node is None and tag is None
        only_text = only_text and age_min is None and age_max is None
        only_text = only_text and not sex and household is None
        short = all(len(w) < TRIGRAM for w in q.split())
        qs.query.minqing_text_ids = TextIds(ids.sql, ids.params, only_text, short)
    return qs


def in_care_group(tag: Tag) -> Q:
    """People of a care group. A household's group (低保, 贫困户: imports file it on the
    household) takes in the household's members, and anyone given it in person."""
    q = Q(pk__in=Person.tags.through.objects.filter(tag=tag).values("person_id"))
    if tag.target == TagTarget.HOUSEHOLD:
        q |= Q(household__in=Household.tags.through.objects.filter(tag=tag).values("household_id"))
    return q


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
    q = search_text(q)
    if q:
        qs = qs.filter(_household_text(q, large=not _small_scope(user, node)))
    if tag is not None:
        # Two semi-joins, not joins: through both links a household repeated once per
        # member and tag, and the DISTINCT over every column of the result took a county
        # 0.65 s to count (关爱对象台账 counts three household groups).
        tagged = Household.tags.through.objects.filter(tag=tag).values("household_id")
        members = Person.tags.through.objects.filter(tag=tag).values("person__household_id")
        qs = qs.filter(Q(pk__in=tagged) | Q(pk__in=members))
    if housing:
        qs = qs.filter(housing=housing)
    if residence:
        qs = qs.filter(residence=residence)
    return qs.select_related("grid", "building").order_by("grid__path", "number")


def _household_text(q: str, *, large: bool) -> Q:
    """A household whose member the person search finds, or whose number or address holds q
    (an address: every one of its words — "88号 和平路", as the person search reads words).

    PostgreSQL, over more than a community: the three are one set of ids, read as an array
    (`_pg_ids`) — ORed as conditions, the planner walked every household of the county in list
    order testing each (36 ms for a name only one household has, 510 ms for a road). There, as
    in the person search, a word under three characters is not looked for inside numbers and
    addresses (no trigram index can answer it; it still finds members by name), and a single
    word finds members by name only: a member found by the household's address is the
    household's own address, which the address part finds.
    """
    members = Person.objects.filter(text_query(q))
    if large and connection.vendor == "postgresql" and "\x00" not in q:
        words = q.split()
        if len(words) == 1 and len(q) >= TRIGRAM and text_kind(q) == "words":
            members = Person.objects.filter(name__contains=q)
        parts = []
        if len(q) >= TRIGRAM:
            parts.append(Household.objects.filter(number__contains=q).order_by().values("id"))
        if any(len(w) >= TRIGRAM for w in words):
            # An address holding every word, as the person search asks: the index answers the
            # long word, the short ones filter its rows (a lone short word finds no address).
            address = Household.objects.all()
            for w in words:
                address = address.filter(address__contains=w)
            parts.append(address.order_by().values("id"))
        found = members.exclude(household=None).order_by().values("household_id").union(*parts)
        sql, params = found.query.sql_with_params()
        return _pg_ids(sql, list(params))
    members = members.exclude(household=None).values("household_id")
    every_word = Q()
    for w in q.split():
        every_word &= Q(address__contains=w)
    return Q(pk__in=members) | Q(number__contains=q) | every_word


@dataclass(frozen=True)
class TextIds:
    """A person search whose text condition is one raw subquery over the text index: its SQL,
    and whether that condition is all the search has (the whole county, no other filter)."""

    sql: str
    params: list
    only_text: bool
    short: bool = False  # only words under three characters: cheap to match, may match thousands


def _index_ids(cond: Q) -> RawSQL | None:
    """The raw id subquery when a text condition is exactly one (`_ids`), else None."""
    if cond.negated or len(cond.children) != 1:
        return None
    child = cond.children[0]
    if isinstance(child, tuple) and child[0] == "pk__in" and isinstance(child[1], RawSQL):
        return child[1]
    return None


def _text_ids(qs) -> TextIds | None:
    return getattr(qs.query, "minqing_text_ids", None)


def _index_count(info: TextIds, cap: int) -> int:
    """How many people the text index alone finds, counting at most cap + 1 (no table read)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({info.sql} LIMIT %s) AS t", [*info.params, cap + 1])
        return cursor.fetchone()[0]


def person_capped_count(qs, cap: int | None = None) -> int:
    """core.paging.capped_count for person_search (or a PersonSearch, compiled where it can
    be): a county-wide search by text alone is counted in the text index (SQLite FTS5 stops
    after cap + 1 matches), not the table."""
    cap = count_cap() if cap is None else cap
    if isinstance(qs, PersonSearch):
        found = qs.capped_count(cap)
        if found is not None:
            return found
        qs = qs.queryset
    info = _text_ids(qs)
    if info is not None and info.only_text and connection.vendor == "sqlite":
        return _index_count(info, cap)
    return capped_count(qs, cap)


# SQLite reads the page of an indexed person search in one of two ways. The usual plan takes
# every match from the text index and sorts them: cheap for a few hundred, but `yc` finds 13 000
# people in the 1 M county (≈ 50 ms of primary-key lookups and sorting). So the sorted plan gets
# SORT_BUDGET_STEPS SQLite VM steps (progress handler; a few hundred matches need far fewer);
# past them the page is read by walking the grids in path order through person_grid_idx and
# keeping the people the index matched, stopping when the page is full (the walk is in the
# list's order, so nothing is sorted). Were the matches bunched at the end of the tree, the walk
# could read the whole index: past WALK_BUDGET_STEPS the sorted plan runs without a budget.
# Same rows, same order, every time; only the plan differs.
SORT_BUDGET_STEPS = 30_000
WALK_BUDGET_STEPS = 1_000_000
_PROGRESS_EVERY = 5_000
_FROM_PERSON = (
    'FROM "registry_person" INNER JOIN "grids_node"'
    ' ON ("registry_person"."grid_id" = "grids_node"."id")'
)
_FROM_GRIDS = (
    'FROM "grids_node" CROSS JOIN "registry_person" INDEXED BY "person_grid_idx"'
    ' ON ("registry_person"."grid_id" = "grids_node"."id")'
)


class _OverBudget(Exception):
    pass


def _within(budget: int, read):
    """read() with SQLite stopping it after `budget` VM steps (then _OverBudget).

    Only for SELECTs: SQLite rolls an interrupted transaction back only when the interrupted
    statement writes."""
    steps = [0]
    every = max(1, min(_PROGRESS_EVERY, budget))

    def tick() -> int:
        steps[0] += every
        return 1 if steps[0] > budget else 0

    connection.ensure_connection()
    raw = connection.connection
    raw.set_progress_handler(tick, every)
    try:
        return read()
    except OperationalError:
        if steps[0] <= budget:
            raise
        raise _OverBudget from None
    finally:
        raw.set_progress_handler(None, 0)


def _walk_ids(qs: QuerySet[Person], start: int, stop: int) -> list[int] | None:
    """Person ids start..stop of qs through the grid walk (None: the SQL has another shape)."""
    sql, params = qs.values_list("pk", flat=True)[start:stop].query.sql_with_params()
    if sql.count(_FROM_PERSON) != 1:
        return None
    sql = sql.replace(_FROM_PERSON, _FROM_GRIDS)
    # `+` keeps SQLite from answering these IN lists through an index instead of the walk.
    sql = sql.replace('"registry_person"."id" IN (', '+"registry_person"."id" IN (')
    sql = sql.replace('"registry_person"."grid_id" IN (', '+"registry_person"."grid_id" IN (')
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _sqlite_rows(qs: QuerySet[Person], info: TextIds, start: int, stop: int) -> list[Person]:
    # A short query (`yc`, `张`) is cheap to count in the index (it stops after COUNT_CAP + 1)
    # and often matches thousands: over the cap it walks at once. A longer one (`yuancuichen`)
    # can cost more to match than to sort its few rows, so it is not matched twice.
    big = info.short and _index_count(info, count_cap()) > count_cap()
    if not big:
        try:
            return _within(SORT_BUDGET_STEPS, lambda: list(_list_columns(qs)[start:stop]))
        except _OverBudget:
            pass
    try:
        ids = _within(WALK_BUDGET_STEPS, lambda: _walk_ids(qs, start, stop))
    except _OverBudget:
        ids = None
    if ids is None:
        return list(_list_columns(qs)[start:stop])
    found = {p.pk: p for p in _list_columns(Person.objects.filter(pk__in=ids))}
    return [found[i] for i in ids if i in found]


# What a people or households list page shows (the page and the API list): other columns,
# such as the encrypted health note or the grid's GeoJSON boundary, are not read.
PERSON_LIST_FIELDS = (
    "name",
    "id_number",
    "id_legacy",
    "birth_date",
    "sex",
    "phone",
    "ethnicity",
    "registered_address",
    "household",
    "relation",
    "employment",
    "health",
    "disability_grade",
    "party_member",
    "note",
    "grid__code",
    "grid__name",
)
HOUSEHOLD_LIST_FIELDS = (
    "number",
    "address",
    "housing",
    "floor_area",
    "residence",
    "head_name",
    "member_count",
    "note",
    "grid__code",
    "grid__name",
    "building__code",
)
_TAGS_JSON = "_tags_json"
_TAG_FIELDS = ["id", "name", "sensitive"]  # in Tag's field order (Model.from_db); others deferred


def _tags_sql(table: str, column: str) -> str:
    """A record's tags as one JSON array of [id, sensitive, name], in Tag's order (sort, id)."""
    if connection.vendor == "postgresql":
        return (
            "(SELECT json_agg(json_build_array(t.id, t.sensitive, t.name) ORDER BY t.sort, t.id)"
            f"::text FROM {table}_tags rt JOIN registry_tag t ON t.id = rt.tag_id"
            f' WHERE rt.{column} = "{table}"."id")'
        )
    return (
        "(SELECT json_group_array(json_array(x.id, x.sensitive, x.name)) FROM"
        f" (SELECT t.id, t.sensitive, t.name FROM {table}_tags rt"
        f' JOIN registry_tag t ON t.id = rt.tag_id WHERE rt.{column} = "{table}"."id"'
        " ORDER BY t.sort, t.id) x)"
    )


def _attach_tags(rows: list) -> list:
    """Give each row its tags as if prefetched (`row.tags.all()` reads no more), from the
    JSON the page query carried: one query for a page and its tags."""
    for row in rows:
        raw = getattr(row, _TAGS_JSON)
        delattr(row, _TAGS_JSON)
        items = json.loads(raw) if isinstance(raw, str) else (raw or [])
        tags = [Tag.from_db(DEFAULT_DB_ALIAS, _TAG_FIELDS, (i, n, bool(s))) for i, s, n in items]
        related = row.tags.get_queryset()
        related._result_cache = tags
        related._prefetch_done = True
        row.__dict__.setdefault("_prefetched_objects_cache", {})["tags"] = related
    return rows


def _list_columns(qs: QuerySet[Person]) -> QuerySet[Person]:
    return (
        qs.select_related(None)
        .select_related("grid")
        .only(*PERSON_LIST_FIELDS)
        .annotate(**{_TAGS_JSON: RawSQL(_tags_sql("registry_person", "person_id"), [])})
    )


def person_rows(qs, start: int, stop: int) -> list[Person]:
    """Rows start..stop of a person_search queryset (or a PersonSearch, compiled where it can
    be) for a list: its columns, its grid's code and name and its tags, in one query (SQLite,
    many text matches: see SORT_BUDGET_STEPS)."""
    if isinstance(qs, PersonSearch):
        found = qs.rows(start, stop, PERSON_LIST_FIELDS)
        if found is not None:
            return _attach_tags(found)
        qs = qs.queryset
    info = _text_ids(qs)
    if info is not None and connection.vendor == "sqlite":
        return _attach_tags(_sqlite_rows(qs, info, start, stop))
    return _attach_tags(list(_list_columns(qs)[start:stop]))


def household_rows(qs: QuerySet[Household], start: int, stop: int) -> list[Household]:
    """Rows start..stop of a household_search queryset for a list, with tags, in one query."""
    qs = qs.only(*HOUSEHOLD_LIST_FIELDS).annotate(
        **{_TAGS_JSON: RawSQL(_tags_sql("registry_household", "household_id"), [])}
    )
    return _attach_tags(list(qs[start:stop]))


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


def _load_tags() -> list[Tag]:
    return list(Tag.objects.order_by("sort", "id"))


_tags = Cached(_load_tags)
forget_on_change(_tags, Tag)


def tag_choices(user) -> list[Tag]:
    """`visible_tags` as a list, from the process's copy of the table (core.memo): the
    drop-down of every people and household list, drawn on each page and search keystroke."""
    tags = _tags.get()
    return tags if can_reveal(user) else [t for t in tags if not t.sensitive]


def tag_choice(user, raw: str) -> Tag | None:
    """The visible care group whose id `raw` (a query parameter) names, or None."""
    pk = positive_id(raw)
    if pk is None:
        return None
    found = next((t for t in tag_choices(user) if t.pk == pk), None)
    if found is None:
        # Not in this process's copy: bad input, or a group created moments ago elsewhere
        # (a link to it must not fall back to the unfiltered list).
        found = visible_tags(user).filter(pk=pk).first()
    return found


def care_group_counts(user) -> list[Tag]:
    """The care groups a user may see that have people in the user's scope, each with `.n`,
    how many (the home page's 关爱对象).

    Counted on the person–tag links, narrowed through their person's grid, rather than by
    testing every link against the set of people in scope: a county's home page counted
    300 000 people for 100 000 links (89 ms), the links alone take a fraction of it.
    """

    def links():
        return scope_queryset(
            user,
            Person.tags.through.objects.all(),
            node_field="person__grid",
            owner_fields=("person__created_by",),
        )

    def households():
        return scope_queryset(
            user,
            Household.tags.through.objects.filter(tag__target=TagTarget.HOUSEHOLD),
            node_field="household__grid",
            owner_fields=("household__created_by",),
        )

    def both():
        return links().filter(
            tag__target=TagTarget.HOUSEHOLD,
            person__household__tags=F("tag_id"),
        )

    # The three statements compiled once per user and scope (core.statements): the home page
    # shows them on every visit.
    key = (user.pk, user_scope(user).key)
    counts = Counter(
        dict(
            statements.rows(
                ("registry.care_links", *key),
                lambda: links().values("tag_id").annotate(n=Count("pk")).values_list("tag_id", "n"),
            )
        )
    )
    # A household's group counts its members too (in_care_group), each person once: the
    # members of the tagged households, less those also given the group in person.
    counts.update(
        dict(
            statements.rows(
                ("registry.care_households", *key),
                lambda: (
                    households()
                    .values("tag_id")
                    .annotate(n=Sum("household__member_count"))
                    .values_list("tag_id", "n")
                ),
            )
        )
    )
    counts.subtract(
        dict(
            statements.rows(
                ("registry.care_both", *key),
                lambda: both().values("tag_id").annotate(n=Count("pk")).values_list("tag_id", "n"),
            )
        )
    )
    # Copies of the process's shared tag objects, each given its count.
    tags = [copy.copy(t) for t in tag_choices(user) if counts.get(t.pk, 0) > 0]
    for tag in tags:
        tag.n = counts[tag.pk]
    return tags


def shown_tags(user, tags) -> list[Tag]:
    """`tags` (a record's, usually prefetched) without the ones `user` may not see."""
    if can_reveal(user):
        return list(tags)
    return [t for t in tags if not t.sensitive]
