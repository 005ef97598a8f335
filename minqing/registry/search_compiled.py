"""The people list's search as a statement compiled once per shape of query.

A grid worker's search runs in PostgreSQL in about a millisecond, but Django took longer than
that to build person_search's query and compile it (≈ 2–3 ms of a 5 ms request, bench/README,
search run 8). The SQL depends on the user's scope, the filters and the *shape* of the typed
text — which kind it is (an ID number, four digits, pinyin, words) and how long each word is —
never on the characters themselves. So the query is compiled for a shape with stand-in text,
twice with two different stand-ins; the parameters that differ between the two are the ones
the typed text fills, and how each is made from the text (the text itself, a LIKE pattern
around it, its keyed hash) is found by checking which way explains both compilations. The next
search of that shape only fills those parameters and runs the statement (`core.statements`).

What is not compiled goes through the ORM as before: text with characters a LIKE pattern or a
full-text phrase escapes (" \\ % _), more than MAX_WORDS words or a word over MAX_WORD
characters, text with NUL (it matches nothing), and on SQLite a search that reads the text
index (the whole county: person_rows chooses its plan at run time). A test compares both ways
on many searches.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection

from minqing.accounts.access import user_scope
from minqing.core import statements
from minqing.core.crypto import blind_index
from minqing.grids.models import Node
from minqing.registry.identity import id_last4_digest
from minqing.registry.models import Person

MAX_WORDS = 8
MAX_WORD = 60
_ESCAPED = set('"\\%_')
_PUA = 0xE000  # private-use characters: no name or address holds them


def _in_field_order(model, names) -> list[str]:
    """Attribute names of `names` (and the id) in the model's field order: Model.from_db
    takes the loaded values in that order."""
    wanted = {model._meta.get_field(f).attname for f in names} | {"id"}
    return [f.attname for f in model._meta.concrete_fields if f.attname in wanted]


_GRID_COLUMNS = _in_field_order(Node, ("id", "name", "code"))


@dataclass(frozen=True)
class _Compiled:
    statement: statements.Statement
    fills: tuple  # (position in params, function of the typed texts → value)


def _stand_ins(kind: str, texts: list[str], which: int) -> list[str]:
    """Text of the same shape as `texts` (so text_query takes the same branch), different for
    which = 0 and 1, sharing no character with anything else in the query."""
    if kind in ("id", "digits"):
        return [str(which + 1) * len(texts[0])]
    if kind == "id_last4":
        return [str(which + 1) * 3 + "X"]
    if kind == "latin":
        return ["qj"[which] * len(texts[0])]
    if kind == "words":
        # Each character its own: a word reversed (PostgreSQL's suffix match) is told apart.
        base = _PUA + which * 0x800
        return ["".join(chr(base + i * 64 + j) for j in range(len(w))) for i, w in enumerate(texts)]
    return []  # no text: nothing to fill


def _shape(q: str) -> tuple[str, list[str]] | None:
    """The kind of `q` and the texts text_query reads from it; None: not compiled."""
    from minqing.registry.selectors import text_kind

    q = q.strip()
    if not q:
        return "none", []
    if _ESCAPED & set(q):
        return None
    kind = text_kind(q)
    if kind == "nul":
        return None  # matches nothing: the ORM knows without asking the database
    if kind == "latin":
        return kind, [q.lower()]
    if kind == "id":
        return kind, [q.upper()]
    if kind == "words":
        words = q.split()
        if len(words) > MAX_WORDS or any(len(w) > MAX_WORD for w in words):
            return None
        if any(w.isascii() and w.isalpha() for w in words):
            return None  # letters beside characters (`rnl 26号`) take another branch: not compiled
        return kind, words
    return kind, [q]


def _fill(a, b, marks_a: list[str], marks_b: list[str]) -> Callable[[list[str]], object] | None:
    """How a parameter that was `a` with stand-ins marks_a and `b` with marks_b is made from
    the typed texts, or None if no way explains both."""
    if not (isinstance(a, str) and isinstance(b, str)):
        return None
    for i, (ma, mb) in enumerate(zip(marks_a, marks_b, strict=True)):
        for digest in (blind_index, id_last4_digest):
            if a == digest(ma) and b == digest(mb):
                return lambda texts, i=i, digest=digest: digest(texts[i])
    for i, (ma, mb) in enumerate(zip(marks_a, marks_b, strict=True)):
        for reverse in (False, True):
            ra, rb = (ma[::-1], mb[::-1]) if reverse else (ma, mb)
            if ra in a and a.replace(ra, rb) == b:
                return lambda texts, a=a, ra=ra, i=i, reverse=reverse: a.replace(
                    ra, texts[i][::-1] if reverse else texts[i]
                )
    return None


def _compile(build: Callable[[str], object], marks_a, marks_b, kind: str, count: bool = False):
    """Compile `build(text)` with both stand-ins; EMPTY, a _Compiled, or None (not compiled)."""
    from minqing.registry.selectors import text_kind

    for marks in (marks_a, marks_b):
        if kind != "none" and text_kind(" ".join(marks)) != kind:
            return None
    one = statements.compile_queryset(build(" ".join(marks_a)))
    two = statements.compile_queryset(build(" ".join(marks_b)))
    if one is statements.EMPTY or two is statements.EMPTY:
        return statements.EMPTY if one is two else None
    if one.sql != two.sql or len(one.params) != len(two.params):
        return None
    fills = []
    for pos, (a, b) in enumerate(zip(one.params, two.params, strict=True)):
        if a == b and type(a) is type(b):
            continue
        fill = _fill(a, b, marks_a, marks_b)
        if fill is None:
            return None
        fills.append((pos, fill))
    if count:  # SELECT COUNT(*) over the (sliced) query, as capped_count sends it
        sql = f"SELECT COUNT(*) FROM ({one.sql}) subquery"
        one = dataclasses.replace(one, sql=sql, converters=())
    return _Compiled(one, tuple(fills))


def _run(entry, texts: list[str]) -> list | None:
    if entry is None:
        return None
    if entry is statements.EMPTY:
        return []
    params = list(entry.statement.params)
    for pos, fill in entry.fills:
        params[pos] = fill(texts)
    return statements.execute(entry.statement, params)


@dataclass
class PersonSearch:
    """person_search's inputs, for a list page: its rows and count are read by compiled
    statements where they can be (person_rows, person_capped_count), and `queryset` builds
    the ORM query only when they cannot."""

    user: object
    q: str = ""
    node: Node | None = None
    tag: object = None
    age_min: int | None = None
    age_max: int | None = None
    sex: str = ""
    household: object = None

    def __post_init__(self):
        from minqing.registry.selectors import search_text

        self.q = search_text(self.q)
        self._queryset = None
        self._walk = None

    @property
    def walk(self) -> bool:
        """PostgreSQL, a large scope, one common word and no other filter: the list is read
        in its order, testing each row (selectors.common_word)."""
        if self._walk is None:
            from minqing.core.paging import count_cap
            from minqing.registry.selectors import _small_scope, common_word, one_word

            self._walk_cap = count_cap()
            self._walk = (
                connection.vendor == "postgresql"
                and one_word(self.q)
                and self.tag is None
                and self.household is None
                and (self.age_min, self.age_max, self.sex) == (None, None, "")
                and not _small_scope(self.user, self.node)
                and common_word(self.q, self._walk_cap)
            )
        return self._walk

    @property
    def queryset(self):
        """The ORM query (selectors.person_search, as the exports build it)."""
        if self._queryset is None:
            self._queryset = self._build(self.q)
        return self._queryset

    def count(self) -> int:
        return self.queryset.count()

    def _build(self, q: str):
        from minqing.registry.selectors import person_search

        return person_search(
            self.user,
            q=q,
            node=self.node,
            tag=self.tag,
            age_min=self.age_min,
            age_max=self.age_max,
            sex=self.sex,
            household=self.household,
            walk=self.walk,
        )

    def _key(self, what: str, shape, *extra) -> tuple | None:
        from minqing.registry.selectors import _small_scope

        if connection.vendor == "sqlite" and not _small_scope(self.user, self.node):
            return None  # the text index's plan is chosen at run time (selectors._sqlite_rows)
        kind, texts = shape
        ages = (self.age_min, self.age_max)
        if ages != (None, None):
            from django.utils import timezone

            ages += (timezone.localdate(),)
        return (
            "registry.person_search",
            what,
            user_scope(self.user).key,
            kind,
            tuple(len(t) for t in texts),
            # A node's path and level (person_search reads both) and a tag's target are part
            # of what the statement was compiled from: a moved node or a changed tag is a new key.
            (self.node.pk, self.node.path, self.node.level) if self.node is not None else None,
            (self.tag.pk, self.tag.target) if self.tag is not None else None,
            ages,
            self.sex,
            self.household.pk if self.household is not None else None,
            self.walk,
            *extra,
        )

    def _compiled(self, what: str, make_qs, *extra, count: bool = False) -> list | None:
        shape = _shape(self.q)
        if shape is None:
            return None
        key = self._key(what, shape, *extra)
        if key is None:
            return None
        kind, texts = shape
        marks_a = _stand_ins(kind, texts, 0)
        marks_b = _stand_ins(kind, texts, 1)
        entry = statements.remembered(
            key,
            lambda: _compile(lambda q: make_qs(self._build(q)), marks_a, marks_b, kind, count),
        )
        return _run(entry, texts)

    def rows(self, start: int, stop: int, fields) -> list[Person] | None:
        """Rows start..stop as Person objects with their grid and tags, or None."""
        from minqing.registry.selectors import _TAGS_JSON, _list_columns

        columns = _in_field_order(Person, (f for f in fields if "__" not in f))
        grid = [f"grid__{c}" for c in _GRID_COLUMNS]

        def values(qs):
            return _list_columns(qs).values_list(*columns, *grid, _TAGS_JSON)[start:stop]

        found = self._compiled("rows", values, start, stop)
        if found is None:
            return None
        alias = connection.alias
        n = len(columns)
        out = []
        for row in found:
            person = Person.from_db(alias, columns, row[:n])
            node = Node.from_db(alias, list(_GRID_COLUMNS), row[n : n + 3])
            person._state.fields_cache["grid"] = node
            setattr(person, _TAGS_JSON, row[n + 3])
            out.append(person)
        return out

    def capped_count(self, cap: int) -> int | None:
        """How many match, counting at most cap + 1 (core.paging.capped_count), or None."""
        if (
            self.walk
            and cap == self._walk_cap
            and self.node is None
            and user_scope(self.user).everything
        ):
            # The whole county: common_word counted past the cap already (a person matching by
            # name and by address may count twice there).
            return cap + 1
        found = self._compiled(
            "count", lambda qs: qs.order_by().values("pk")[: cap + 1], cap, count=True
        )
        return None if found is None else found[0][0]
