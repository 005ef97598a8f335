"""Reads of cases, always for a user: what they may see, what waits for them, how it is going.

Visibility: the cases whose grid lies in the user's part of the tree (accounts.access decides
that), plus those dispatched to them or to their department wherever they are.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connections
from django.db.models import BooleanField, Count, ExpressionWrapper, Min, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext

from minqing.accounts.access import (
    WHOLE_SCOPES,
    Scope,
    get_scoped_or_404,
    scope_node_ids,
    scope_q,
    scope_queryset,
    user_assignments,
    user_scope,
    visible_nodes,
    within_communities,
)
from minqing.accounts.models import Role
from minqing.cases.models import (
    OPEN_STATUSES,
    Case,
    IntakeState,
    Open311Intake,
    Satisfaction,
    Status,
    Unit,
)
from minqing.cases.workflow import ALL_STAFF, DISPATCHERS, SUPERVISORS
from minqing.core import memo, statements, workdays
from minqing.grids.models import Level, Node, subtree_q
from minqing.grids.subtree import grid_ids_below, level_ids_below


def unit_ids_of(user) -> list[int]:
    """The departments a user belongs to, read once per request (cached on the user). A user
    signed in by session comes with them (cases.apps: accounts.backends.USER_FIGURES)."""
    cached = getattr(user, "_minqing_case_unit_ids", None)
    if cached is None and hasattr(user, "_minqing_unit_ids_text"):
        text = user._minqing_unit_ids_text or ""
        cached = sorted(int(pk) for pk in text.split(",") if pk)
        user._minqing_case_unit_ids = cached
    if cached is None:
        # The membership table alone: no join to the departments, no sort by their code.
        members = Unit.members.through.objects.filter(user_id=user.pk)
        cached = list(members.values_list("unit_id", flat=True))
        user._minqing_case_unit_ids = cached
    return cached


def _also(user) -> Q:
    """Cases a user sees wherever they are: dispatched to them or to their department.

    The unit ids are a literal list, not a join through the members table, so no row repeats
    and the handler indexes stay usable.
    """
    q = Q(handler_user=user)
    units = unit_ids_of(user)
    return q | Q(handler_unit__in=units) if units else q


def cases_for(user, *, array: bool = False) -> QuerySet[Case]:
    """The cases a user may see. `array`: their places as one array (accounts.access.scope_q),
    for a query that joins the scope's index with another (the search's index of pairs, the
    indicators' period)."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    return scope_queryset(
        user,
        Case.objects.all(),
        owner_fields=("created_by", "handler_user"),
        also=_also(user),
        array=array,
    )


def case_for(user, number: str) -> Case:
    return get_scoped_or_404(
        user,
        Case.objects.select_related(
            "category", "grid", "level_node", "handler_user", "handler_unit", "created_by"
        ),
        owner_fields=("created_by", "handler_user"),
        also=_also(user),
        number=str(number)[:20],
    )


def with_list_columns(qs: QuerySet[Case]) -> QuerySet[Case]:
    # A list never draws the places' boundaries: do not read and parse two GeoJSONs per row.
    return qs.select_related(
        "category", "grid", "level_node", "handler_user", "handler_unit"
    ).defer("grid__boundary", "level_node__boundary")


# The texts a case search looks in, in the order cases 0012's index takes them.
TEXT_FIELDS = ("number", "title", "address", "description", "reporter_name")
# The most cases a search takes from the index of pairs (their ids, then the page sorted);
# a word in more is found faster by reading the list in its order and testing each case.
COMMON_TEXT = 5000
# Above a community, a word the statistics put in more than this share of the county's
# cases is not looked up in the index: reading the list finds a page of it at once, and
# PostgreSQL, expecting the index to hold most cases, tests the scope's cases one by one
# (a street's 9 600 for 请尽快, in every case: 0.9 s).
COMMON_SHARE = 0.2


def _pairs_sql(connection) -> str:
    """SQL true for the cases holding every character pair of the parameter (cases 0012)."""
    columns = ", ".join(connection.ops.quote_name(f) for f in TEXT_FIELDS)
    return f"minqing_case_bigrams({columns}) @> minqing_bigrams(%s)"


def _pair_counts(alias: str) -> tuple[float, dict, float]:
    """PostgreSQL's statistics of cases 0012's index: (cases, {pair: share of cases holding
    it}, the share below which pairs are not listed). Read once per process per 10 minutes."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs"
            " FROM pg_class c LEFT JOIN pg_stats s ON s.tablename = 'case_text_bigrams'"
            " WHERE c.relname = %s",
            [Case._meta.db_table],
        )
        row = cursor.fetchone()
    if row is None or not row[1]:
        return 0.0, {}, 0.0
    cases, pairs, shares = row
    # The shares end with their minimum, maximum and the share of null elements.
    return max(cases, 0.0), dict(zip(pairs, shares, strict=False)), shares[len(pairs)]


_pair_stats = memo.Cached(lambda: _pair_counts("default"), ttl=600)


def _share(q: str, alias: str) -> tuple[float, float]:
    """(cases, the share of them the statistics expect to hold every pair of `q`).

    The pairs are taken as independent. Those of a phrase are not (学府 and 府路 go
    together), so a phrase is expected in fewer cases than hold it; the look-up that follows
    pays for that with at most COMMON_TEXT + 1 rows, where reading the list for a phrase found
    in 3 000 of 500 000 cases (学府路65号) cost 0.5–0.9 s.
    """
    cases, shares, floor = _pair_stats.get() if alias == "default" else _pair_counts(alias)
    upper = q.upper()
    share = 1.0
    for pair in {upper[i : i + 2] for i in range(len(upper) - 1)}:
        share *= shares.get(pair, floor)
    return cases, share


def _indexed_ids(q: str, alias: str, user=None) -> list[int] | None:
    """PostgreSQL: the ids of the cases `user` may see that hold every character pair of `q`
    (cases 0012's index), when there are at most COMMON_TEXT of them; else None — the
    search then reads the list in its order.

    None without a look-up for a single character, for a user within communities (their
    few cases are tested one by one), and for a word the statistics put in over 10 ×
    COMMON_TEXT cases county-wide (the look-up of one in 42 000 costs ≈ 40 ms before the
    list is read) or, for a scope above a community (a street), in over COMMON_SHARE of
    them: a street's look-up joins the index with the scope's (its places as one array), so
    a word in 42 000 cases and 828 of the street's takes 15–30 ms, not a read of the
    county's cases (0.3–0.8 s).
    """
    connection = connections[alias]
    if connection.vendor != "postgresql" or len(q) < 2:
        return None
    if user is not None and within_communities(user):
        return None
    cases, share = _share(q, alias)
    whole = user is None or user_scope(user).everything
    if (cases * share > 10 * COMMON_TEXT) if whole else (share > COMMON_SHARE):
        return None
    base = Case.objects.all() if whole else cases_for(user, array=True)
    found = RawSQL(_pairs_sql(connection), [q], output_field=BooleanField())
    probe = base.using(alias).filter(found).order_by().values_list("pk", flat=True)
    with statements.planned_each_time(alias):
        ids = list(probe[: COMMON_TEXT + 1])
    return ids if len(ids) <= COMMON_TEXT else None


MAX_WORDS = 5  # words of one search looked for; more are a sentence, not a search


def matching_text(qs: QuerySet[Case], q: str, user=None) -> QuerySet[Case]:
    """The cases whose number, title, address, description or reporter's name contain each
    word of `q` (any letter case), or, for four digits, whose reporter's phone ends in them.

    The case list, its export and the API search this way. On PostgreSQL a word in few of
    the user's cases is looked up in cases 0012's index of character pairs
    (`_indexed_ids`) and its ids come as one array (`pk__any_of`), each read by its key:
    the planner cannot tell how many cases a set of pairs holds, and given the pairs
    themselves it joined the index with the list's order (0.6 s). Such a word took 0.3–1.1 s
    before, every case read; 10–100 ms now. `user`: whose scope the look-up is narrowed to
    (the caller's `qs` is scoped anyway); a user within communities has few enough cases to
    test them all.
    """
    words = q.split()[:MAX_WORDS]
    if not words:
        return qs
    # Several words: each somewhere in the case (雨后 积水, 积水 解放路), as the registry's
    # search reads words; the whole text as one phrase found nothing.
    for word in words:
        text = Q()
        for field in TEXT_FIELDS:
            text |= Q(**{f"{field}__icontains": word})
        ids = _indexed_ids(word, qs.db, user)
        if ids is not None:
            text &= Q(pk__any_of=ids)
        if re.fullmatch(r"\d{4}", word):
            text |= Q(reporter_phone_last4=word)
        qs = qs.filter(text)
    return qs


def inbox_for(user) -> QuerySet[Case]:
    """待办: the cases waiting for this user to act, most urgent first.

    - dispatched to them (or their department) and not yet fed back;
    - held at a node they are assigned to, waiting to be registered, dispatched, checked or
      called back;
    - for dispatchers, cases registered by the grids below them that wait for dispatch, and
      cases those grids closed lately that a person handled (the grid's worker, most often,
      who may not rate them), to call back (回访);
    - for dispatchers, late cases held at their node that a handler still has (the sweeper
      moved them up) while they are past their deadline: to urge (督办) or recall;
    - for supervisors, cases whose handler asked for more time and that they decide (the
      holding level is the one just below theirs; at the top, their own).
    """
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    return _inbox_of(_inbox_inputs(user), timezone.now())


def inbox_head(user, limit: int) -> list[tuple[int, str, bool]]:
    """(id, status, waits for the user's decision on more time) of the first `limit` cases of
    inbox_for(user), in its order. The statement is compiled once per set of inputs
    (core.statements): a worker's inbox is opened all day."""
    if not getattr(user, "is_authenticated", False):
        return []
    inputs = _inbox_inputs(user)
    key = ("cases.inbox_head", inputs, limit)
    deciding = ExpressionWrapper(deciding_q(inputs), output_field=BooleanField())
    return statements.rows(
        key,
        lambda: (
            _inbox_of(inputs, statements.MOMENT)
            .annotate(deciding=deciding)
            .values_list("pk", "status", "deciding")[:limit]
        ),
        moment=_inbox_moment(inputs),
    )


def _inbox_moment(inputs: tuple) -> datetime | None:
    """The time a compiled inbox statement is asked at: only a dispatcher's looks at it (the
    late cases moved up to them are those still past their deadline)."""
    overseen, narrowed = inputs[4], inputs[6]
    if not overseen or (narrowed is not None and Scope.from_key(narrowed).empty):
        return None  # (a scope with nothing in it leaves no held case, no late one either)
    return timezone.now()


def deciding_q(inputs: tuple) -> Q:
    """An inbox's cases that wait for the user's decision on more time (申请延期): a request is
    pending at a level the user decides for (_inbox_inputs' `deciding`), and the case is not
    theirs to handle. (A late case the sweeper moves up closes its pending request, as 上报
    does: its handler asks the new level's superiors again.)"""
    user_id, unit_ids, deciding = inputs[0], inputs[1], inputs[5]
    if not deciding:
        return Q(pk__in=[])
    q = Q(extension_pending=True, level_node__in=list(deciding)) & ~Q(handler_user_id=user_id)
    if unit_ids:
        q &= ~Q(handler_unit__in=list(unit_ids))
    return q


def inbox_deciding(user) -> Q:
    """deciding_q for this user (the inbox page's groups and filter)."""
    return deciding_q(_inbox_inputs(user))


# What an inbox's cases wait for, by status, in the loop's order; DECIDE is not a status (a
# request for more time the user decides: deciding_q). The page's groups, the API's `wait`.
WAITING_STATUSES = {
    "register": (Status.ACCEPTED,),
    "dispatch": (Status.REGISTERED,),
    "handle": (Status.DISPATCHED, Status.HANDLING),
    "verify": (Status.FED_BACK,),
    "callback": (Status.CLOSED,),
    "decide": (),
}
DECIDE = "decide"


def inbox_waiting(base: QuerySet[Case], wait: str, deciding: Q) -> QuerySet[Case]:
    """The cases of an inbox (`base`) that wait for `wait`, each in one group only;
    `deciding`: the user's inbox_deciding (read once per request)."""
    if wait == DECIDE:
        return base.filter(deciding)
    return base.filter(status__in=WAITING_STATUSES[wait]).exclude(deciding)


def _inbox_inputs(user) -> tuple:
    """Everything inbox_for's query depends on: the user, their departments, the nodes they
    are assigned to, and the grids below the communities where they dispatch."""
    assignments = user_assignments(user)
    grids = set()
    for a in assignments:
        if a.role in DISPATCHERS and a.node.level == Level.COMMUNITY:
            grids.update(grid_ids_below(a.node.path))
    nodes = tuple(sorted({a.node.pk for a in assignments if a.role in ALL_STAFF}))
    overseen = tuple(sorted({a.node.pk for a in assignments if a.role in DISPATCHERS}))
    deciding = set()
    for a in assignments:
        if a.role in SUPERVISORS:
            below = _STAFFED_BELOW.get(a.node.level)
            if below is not None:
                deciding.update(level_ids_below(a.node.path, below))
            if a.node.parent_id is None:
                deciding.add(a.node.pk)
    # A narrowed data scope (自定数据, 本部门, 仅本人) may leave out cases held at the user's
    # node: those lists keep to what the user may see (a case dispatched to them stays).
    scope = user_scope(user)
    narrowed = not scope.everything and any(a.data_scope not in WHOLE_SCOPES for a in assignments)
    return (
        user.pk,
        tuple(sorted(unit_ids_of(user))),
        nodes,
        tuple(sorted(grids)),
        overseen,
        tuple(sorted(deciding)),
        scope.key if narrowed else None,
        callback_since(timezone.localdate()) if grids else None,
    )


# 回访 of what a grid solved itself: its worker may not record the rating of their own work
# (services.separation_refusal), so the community's dispatchers call the resident back, within
# this many working days of closing; after that the case leaves their list unrated (an inbox
# of every unrated case would only grow).
CALLBACK_WORKING_DAYS = 5


def callback_since(today: date) -> datetime:
    """The start (local midnight) of the CALLBACK_WORKING_DAYS-th working day before today."""
    day, left = today, CALLBACK_WORKING_DAYS
    while left:
        day -= timedelta(days=1)
        left -= workdays.is_working_day(day)
    return timezone.make_aware(datetime.combine(day, time.min))


# The level whose extension requests a supervisor decides: the staffed level just below (a
# grid's parent may be a zone, which has no staff: the community decides for its grids).
_STAFFED_BELOW = {
    Level.COUNTY: Level.STREET,
    Level.STREET: Level.COMMUNITY,
    Level.COMMUNITY: Level.GRID,
}


def _inbox_of(inputs: tuple, now: datetime) -> QuerySet[Case]:
    user_id, unit_ids, nodes, grids, overseen, deciding, narrowed, since = inputs
    handling = (Status.DISPATCHED, Status.HANDLING)
    holding = (Status.ACCEPTED, Status.REGISTERED, Status.FED_BACK, Status.CLOSED)
    q = Q(handler_user_id=user_id, status__in=handling)
    if unit_ids:
        q |= Q(handler_unit__in=unit_ids, status__in=handling)
    # 回访 is never recorded by whoever handled the case (services.separation_refusal): a
    # case they closed is not waiting on them. What a grid solved itself waits on its
    # community's dispatchers instead, for CALLBACK_WORKING_DAYS after closing.
    own_closed = Q(status=Status.CLOSED, handler_user_id=user_id)
    if unit_ids:
        own_closed |= Q(status=Status.CLOSED, handler_unit__in=unit_ids)
    held = Q(pk__in=[])
    if nodes:
        held |= Q(level_node__in=nodes, status__in=holding) & ~own_closed
    if grids:
        # A literal list: as a subquery PostgreSQL scans every registered case instead.
        held |= Q(level_node__in=grids, status=Status.REGISTERED)
        # Closed lately at a grid, handled by a person (its worker, most often, who may not
        # rate it; a department's cases the grid calls back itself): the community calls back.
        held |= (
            Q(level_node__in=grids, status=Status.CLOSED, closed_at__gte=since)
            & Q(handler_user__isnull=False, handler_unit__isnull=True)
            & ~own_closed
        )
    if overseen:
        # Moved up by the sweeper and still late (an extension granted since makes it the
        # handler's alone again, though `late` keeps that it was).
        held |= Q(level_node__in=overseen, status__in=handling, late=True, deadline__lt=now)
    if deciding:
        held |= Q(level_node__in=deciding, extension_pending=True)
    if narrowed is not None:
        held &= scope_q(Scope.from_key(narrowed), owner_fields=("created_by", "handler_user"))
    return Case.objects.filter(q | held).order_by("deadline", "id")


def _in_scope(user, qs: QuerySet[Case]) -> QuerySet[Case]:
    """qs narrowed to the cases in the user's part of the tree (not those dispatched to them).

    A scope of one subtree (a grid worker, a community, a street) is given as the literal list
    of its node ids (`access.scope_node_ids`): with the path pattern as a parameter
    PostgreSQL planned the overdue list afresh every time, 1.7 ms against 0.25 ms to run it.
    """
    ids = scope_node_ids(user)
    if ids is not None:
        return qs.filter(grid_id__in=ids)
    return scope_queryset(user, qs, owner_fields=("created_by", "handler_user"))


def overdue_for(user, *, now: datetime | None = None) -> QuerySet[Case]:
    """Open cases past their current deadline, the oldest deadline first."""
    now = now or timezone.now()
    late = Case.objects.filter(status__in=OPEN_STATUSES, deadline__lt=now)
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    if user_scope(user).everything:
        return late.order_by("deadline", "id")
    # One id list per way of seeing a case, joined by UNION: an OR across them keeps both
    # databases from using the grid and handler indexes, and reads every late case.
    parts = [_in_scope(user, late), late.filter(handler_user=user)]
    if unit_ids_of(user):
        parts.append(late.filter(handler_unit__in=unit_ids_of(user)))
    ids = parts[0].order_by().values("pk").union(*(p.order_by().values("pk") for p in parts[1:]))
    return Case.objects.filter(pk__in=ids).order_by("deadline", "id")


def overdue_head(user, limit: int, *, now: datetime) -> list[tuple[int, int]]:
    """(id, grid id) of the first `limit` cases of overdue_for(user, now=now), in its order.

    Compiled once per scope (core.statements, with `now` bound on each call): the overdue
    list is built from three queries joined by UNION, and building them cost more than
    PostgreSQL takes to run them.
    """
    if not getattr(user, "is_authenticated", False):
        return []
    key = _overdue_key(user, limit)

    def build():
        return overdue_for(user, now=statements.MOMENT).values_list("pk", "grid_id")[:limit]

    return statements.rows(key, build, moment=now)


def _overdue_key(user, limit: int | None) -> tuple:
    """What overdue_for(user)'s statement depends on (core.statements)."""
    scope = user_scope(user)
    nodes = None if scope.everything else scope_node_ids(user)
    return (
        "cases.overdue_head",
        scope.key if nodes is None else nodes,
        user.pk,
        tuple(sorted(unit_ids_of(user))),
        limit,
    )


def zoning_features() -> list[dict]:
    """The active planning zones (规划分区) as GeoJSON features for the maps, the most
    restrictive drawn last (on top). County planning data: the same for every signed-in user."""
    from minqing.cases.models import ZoneKind, ZoningLayer

    order = {k: i for i, k in enumerate(reversed(ZoneKind.values))}
    features = []
    for layer in ZoningLayer.objects.filter(active=True):
        g = layer.geometry
        geometry = g.get("geometry", g) if isinstance(g, dict) else None
        if not isinstance(geometry, dict) or "type" not in geometry:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "zone": layer.kind,
                    "label": str(ZoneKind(layer.kind).label),
                    "name": layer.name,
                },
            }
        )
    features.sort(key=lambda f: order.get(f["properties"]["zone"], 0))
    return features


def open_on_map(user, *, limit: int = 2000) -> list[dict]:
    """Open cases with a point, for the map: coloured by lateness."""
    now = timezone.now()
    rows = (
        cases_for(user)
        .filter(status__in=OPEN_STATUSES, lat__isnull=False)
        .order_by("deadline")
        .values("number", "title", "lat", "lng", "deadline", "remind_at", "status")[:limit]
    )
    out = []
    for r in rows:
        if r["deadline"] and r["deadline"] < now:
            colour = "late"
        elif r["remind_at"] and r["remind_at"] <= now:
            colour = "due"
        else:
            colour = "ok"
        out.append(
            {
                "number": r["number"],
                "title": r["title"],
                "lat": float(r["lat"]),
                "lng": float(r["lng"]),
                "status": Status(r["status"]).label,
                "state": colour,
            }
        )
    return out


def lateness(case: Case, now: datetime | None = None) -> str:
    """ok / due (past the 80% reminder) / late, for colouring rows."""
    now = now or timezone.now()
    if not case.is_open or case.deadline is None:
        return ""
    if case.deadline < now:
        return "late"
    if case.remind_at and case.remind_at <= now:
        return "due"
    return "ok"


def unread_count(user) -> int:
    """The user's unread notifications, counted once per request (cached on the user object,
    which each request loads afresh): the header's bell and the page body share it. A user
    signed in by session comes with it counted (cases.apps: accounts.backends.USER_FIGURES)."""
    count = getattr(user, "_minqing_unread", None)
    if count is None:
        count = user.notifications.filter(read_at__isnull=True).count()
        user._minqing_unread = count
    return count


def home_counts(user) -> dict:
    now = timezone.now()
    if not getattr(user, "is_authenticated", False):
        return {"inbox": 0, "overdue": 0, "unread": 0, "intake": None}
    inputs = _inbox_inputs(user)
    return {
        # Compiled once per set of inputs (core.statements), as the lists' heads are.
        "inbox": statements.count(
            ("cases.inbox", inputs),
            lambda: _inbox_of(inputs, statements.MOMENT),
            moment=_inbox_moment(inputs),
        ),
        "overdue": statements.count(
            _overdue_key(user, None),
            lambda: overdue_for(user, now=statements.MOMENT),
            moment=now,
        ),
        "unread": unread_count(user),
        "intake": intake_queue(now=now) if user_scope(user).everything else None,
    }


@dataclass
class IntakeQueue:
    """Deferred Open311 reports not filed: for county-wide staff (a report has no place yet)."""

    waiting: int = 0  # waiting, or being filed
    failed: int = 0
    stalled: bool = False  # one has waited longer than a filer run should take

    @property
    def any(self) -> bool:
        return bool(self.waiting or self.failed)


# A report kept this long and still not filed: the intake timer (and the sweeper) are not running.
INTAKE_STALLED_AFTER = timedelta(minutes=10)


def intake_queue(*, now: datetime | None = None) -> IntakeQueue:
    now = now or timezone.now()
    queue = IntakeQueue()
    rows = (
        Open311Intake.objects.filter(state__in=UNFILED)
        .values("state")
        .annotate(n=Count("id"), oldest=Min("received_at"))
    )
    for row in rows:
        if row["state"] == IntakeState.FAILED:
            queue.failed += row["n"]
        else:
            queue.waiting += row["n"]
            if row["oldest"] <= now - INTAKE_STALLED_AFTER:
                queue.stalled = True
    return queue


UNFILED = (IntakeState.WAITING, IntakeState.FILING, IntakeState.FAILED)


# --- indicators ---------------------------------------------------------------------------------


@dataclass
class Indicators:
    accepted: int = 0  # 受理数
    registered: int = 0  # 立案数
    registered_timed: int = 0  # 立案数 whose timeliness is known (all but cases before 0015)
    registered_on_time: int = 0  # 按时立案数
    dispatched: int = 0  # 派遣数
    dispatched_right: int = 0  # 准确派遣数 (no handler sent it back: 退单)
    handled: int = 0  # 处置数 (fed back)
    handled_on_time: int = 0  # 按期处置数
    closed: int = 0  # 结案数
    closed_on_time: int = 0  # 按期结案数
    closed_late: int = 0  # 超期结案数
    pending_on_time: int = 0  # 按时待处置数
    overdue: int = 0  # 超期数
    reworked: int = 0  # 返工数
    rated: int = 0
    satisfied: int = 0  # 满意 + 基本满意
    fully_satisfied: int = 0  # 满意 (of the satisfied; the rest said 基本满意)
    avg_hours: float | None = None  # 平均处置时长（工作小时）

    @staticmethod
    def _rate(n: int, d: int) -> float | None:
        return round(100.0 * n / d, 1) if d > 0 else None

    @property
    def register_rate(self) -> float | None:
        """按时立案率 = 按时立案数 / 立案数"""
        return self._rate(self.registered_on_time, self.registered_timed)

    @property
    def dispatch_rate(self) -> float | None:
        """准确派遣率 = 准确派遣数 / 派遣数"""
        return self._rate(self.dispatched_right, self.dispatched)

    @property
    def handle_rate(self) -> float | None:
        """按期处置率 = 按期处置数 / 处置数"""
        return self._rate(self.handled_on_time, self.handled)

    @property
    def close_rate(self) -> float | None:
        """结案率 = 结案数 / (立案数 − 按时待处置数)"""
        return self._rate(self.closed, self.registered - self.pending_on_time)

    @property
    def on_time_rate(self) -> float | None:
        """按期结案率 = 按期结案数 / (立案数 − 按时待处置数)"""
        return self._rate(self.closed_on_time, self.registered - self.pending_on_time)

    @property
    def rework_rate(self) -> float | None:
        """返工率 = 返工数 / 立案数"""
        return self._rate(self.reworked, self.registered)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 = (满意 + 基本满意) / 评价数"""
        return self._rate(self.satisfied, self.rated)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d.update(
            register_rate=self.register_rate,
            dispatch_rate=self.dispatch_rate,
            handle_rate=self.handle_rate,
            close_rate=self.close_rate,
            on_time_rate=self.on_time_rate,
            rework_rate=self.rework_rate,
            satisfaction_rate=self.satisfaction_rate,
        )
        return d


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def ever_late(now) -> Q:
    """超期, as the indicators, the case lists' API and the export count it: ever past a stage's
    limit (the sweeper's mark), open past it now (before the sweeper comes), or closed after it
    (超期结案: fed back in time and checked late is no stage the sweeper marks)."""
    return Q(late=True) | Q(status__in=OPEN_STATUSES, deadline__lt=now) | Q(closed_on_time=False)


def _counts(start: date, end: date, now) -> dict:
    """The counts behind the indicators, as aggregates over cases (one query computes them all).

    Counts follow 数字城管 practice: the base is the cases registered in the period and not
    cancelled (a case is 立案 or 注销, never both); of those, the ones still open and not yet
    due (按时待处置) are left out of the closure rates. 超期数 counts the cases that ever went
    past a limit, the open ones past it now (whether or not the sweeper has come by yet) and
    the ones closed late (超期结案: a check after the handling limit is not a stage the
    sweeper marks late), so it is never below 超期结案数.
    The n_ aliases keep aggregates from shadowing the fields the filters use (closed_on_time).
    """
    a, b = period_bounds(start, end)
    reg = Q(registered_at__gte=a, registered_at__lt=b) & ~Q(status=Status.CANCELLED)
    closed = reg & Q(status__in=(Status.CLOSED, Status.RATED))
    dispatched = reg & Q(dispatch_count__gt=0)
    return {
        "n_accepted": Count("pk", filter=Q(accepted_at__gte=a, accepted_at__lt=b)),
        "n_registered": Count("pk", filter=reg),
        "n_registered_timed": Count("pk", filter=reg & Q(registered_on_time__isnull=False)),
        "n_registered_on_time": Count("pk", filter=reg & Q(registered_on_time=True)),
        "n_dispatched": Count("pk", filter=dispatched),
        "n_dispatched_right": Count("pk", filter=dispatched & Q(decline_count=0)),
        "n_handled": Count("pk", filter=reg & Q(handled_on_time__isnull=False)),
        "n_handled_on_time": Count("pk", filter=reg & Q(handled_on_time=True)),
        "n_closed": Count("pk", filter=closed),
        "n_closed_on_time": Count("pk", filter=closed & Q(closed_on_time=True)),
        "n_closed_late": Count("pk", filter=closed & Q(closed_on_time=False)),
        "n_pending_on_time": Count(
            "pk", filter=reg & Q(status__in=OPEN_STATUSES) & (Q(deadline__gte=now))
        ),
        "n_overdue": Count("pk", filter=reg & ever_late(now)),
        "n_reworked": Count("pk", filter=reg & Q(rework_count__gt=0)),
        "n_rated": Count("pk", filter=reg & ~Q(satisfaction="")),
        "n_satisfied": Count(
            "pk",
            filter=reg & Q(satisfaction__in=(Satisfaction.SATISFIED, Satisfaction.FAIRLY)),
        ),
        "n_fully_satisfied": Count("pk", filter=reg & Q(satisfaction=Satisfaction.SATISFIED)),
        # the average handling time, as a sum and a count (added up over grids)
        "n_hours_sum": Sum("handling_hours", filter=closed),
        "n_hours_n": Count("handling_hours", filter=closed),
    }


def in_period(start: date, end: date) -> Q:
    """The cases `_counts` can count: registered or accepted in the period. Without it every
    case in scope was read and tested by each FILTER (a county's 500 000 for a year's page)."""
    a, b = period_bounds(start, end)
    return Q(registered_at__gte=a, registered_at__lt=b) | Q(accepted_at__gte=a, accepted_at__lt=b)


def _indicators_of(counts: dict) -> Indicators:
    """Indicators from the n_ counts (none at all: every count 0)."""
    values = {k[2:]: v or 0 for k, v in counts.items() if k.startswith("n_")}
    hours_sum, hours_n = values.pop("hours_sum", 0), values.pop("hours_n", 0)
    avg = round(hours_sum / hours_n, 1) if hours_n else None
    return Indicators(**values, avg_hours=avg)


def _added(rows: list[dict]) -> dict:
    out: dict = {}
    for row in rows:
        for k, v in row.items():
            if k.startswith("n_"):
                out[k] = out.get(k, 0) + (v or 0)
    return out


def indicators(qs: QuerySet[Case], start: date, end: date, *, now=None) -> Indicators:
    """The measures of the loop over cases registered in [start, end], in one query."""
    counts = qs.filter(in_period(start, end)).aggregate(
        **_counts(start, end, now or timezone.now())
    )
    return _indicators_of(counts)


def in_subtree(qs: QuerySet[Case], node: Node) -> QuerySet[Case]:
    """The cases of `qs` in the grids below `node` (all of them below the only root)."""
    if node.holds_every_node():
        return qs
    return qs.filter(grid__in=Node.objects.filter(subtree_q(node.path)).values("pk"))


def indicators_by_child(user, node: Node, start: date, end: date) -> list[tuple[Node, Indicators]]:
    """One row per child of `node` (streets of a county, grids of a community …) plus the total.

    One query counts per grid; the grids' counts are added up per child in Python (every
    measure is a count, or a sum and a count) — a query per child took 0.1 s for a
    community's ten grids on the cases benchmark.
    """
    now = timezone.now()
    qs = (
        in_subtree(cases_for(user, array=True), node)
        .filter(in_period(start, end))
        .order_by()
        .values("grid_id")
        .annotate(**_counts(start, end, now))
    )
    with statements.with_workers(qs.db):
        per_grid = list(qs)
    # The subtree's paths, not `pk__in` the grids counted: a county's 3 456 ids took
    # PostgreSQL 124 ms to plan and read.
    paths = dict(Node.objects.filter(subtree_q(node.path)).values_list("pk", "path"))
    rows = []
    for child in node.children.order_by("sort", "code"):
        if child.level == Level.BUILDING:
            continue
        mine = [r for r in per_grid if paths.get(r["grid_id"], "").startswith(child.path)]
        rows.append((child, _indicators_of(_added(mine))))
    # Cases placed at the node itself (a report that came without a grid, held by the county
    # until 指定网格): a row of their own, so the rows add up to the total.
    own = [r for r in per_grid if r["grid_id"] == node.pk] if node.level < Level.GRID else []
    if own:
        unplaced = Node(
            code=node.code, name=gettext("%(name)s本级（未指定网格）") % {"name": node.name},
            level=Level.GRID,
        )  # fmt: skip
        rows.append((unplaced, _indicators_of(_added(own))))
    rows.append((node, _indicators_of(_added(per_grid))))
    return rows


def solved_ledger(user, *, start: date | None = None, end: date | None = None) -> QuerySet[Case]:
    """民情实事解决台账: the cases closed in the period, oldest first."""
    qs = cases_for(user, array=True).filter(status__in=(Status.CLOSED, Status.RATED))
    if start and end:
        a, b = period_bounds(start, end)
        qs = qs.filter(closed_at__gte=a, closed_at__lt=b)
    return with_list_columns(qs).order_by("closed_at", "id")


def transfer_targets(case: Case):
    """Departments a case can be transferred to (转办): active ones whose area covers its grid.

    A street's 城管中队 serves that street only; a county department serves every street.
    """
    from minqing.cases.models import Unit

    return Unit.objects.filter(active=True, node__path__in=case.grid.ancestor_paths()).order_by(
        "code"
    )


def locate_targets(user, case: Case):
    """The grids a case held above grid level may be sent to (指定网格): below the level
    holding it and in the user's scope, not its present one."""
    return (
        visible_nodes(user)
        .filter(level=Level.GRID, path__startswith=case.level_node.path)
        .exclude(pk=case.grid_id)
        .order_by("path")
    )


def dispatch_targets(user, case: Case):
    """Staff a dispatcher can send this case to: the grid's workers and its community's staff —
    those whose place holds the case's grid (services._dispatch accepts no one else; listing
    the other grids' workers offered names the server then refused)."""
    from minqing.accounts.models import User

    chain = Node.objects.filter(path__in=case.grid.ancestor_paths(), level__gte=Level.COMMUNITY)
    return (
        User.objects.filter(
            is_active=True,
            assignments__node__in=chain.values("pk"),
            assignments__role__in=[
                Role.GRID_WORKER,
                Role.COMMUNITY_WORKER,
                Role.COMMUNITY_SECRETARY,
            ],
        )
        .distinct()
        .order_by("full_name", "username")
    )
