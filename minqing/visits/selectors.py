"""Reads for visits, always for the asking user (accounts.access decides what they see).

- Visits are seen by whoever sees their grid, and by their recorder.
- Due lists come from HouseholdVisitState: one range scan of (grid, next_due) per scope.
- The diary is the author's alone.
- The household timeline merges visits, the viewer's own diary mentions, the household's cases
  and whatever later apps register with `register_timeline_source` (help received, …).
"""

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Window
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from minqing.accounts.access import (
    node_visible,
    scope_queryset,
    single_subtree_path,
    user_assignments,
    user_scope,
    visible_nodes,
)
from minqing.core import statements
from minqing.grids import geo
from minqing.grids.models import Level, Node, subtree_q
from minqing.registry.models import Household
from minqing.visits import services
from minqing.visits.models import (
    Campaign,
    CampaignStatus,
    CampaignTarget,
    DiaryEntry,
    HouseholdVisitPlan,
    HouseholdVisitState,
    Visit,
)
from minqing.visits.services import Schedule, schedules_compute

# A due list ordered by distance is sorted in Python: at most this many rows of one grid.
MAX_SORTED = 2000


# --- schedules and due lists -----------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleView:
    schedule: Schedule
    today: dt.date

    @property
    def visit_class(self):
        return self.schedule.visit_class

    @property
    def last_visit_at(self):
        return self.schedule.last_visit_at

    @property
    def next_due(self):
        return self.schedule.next_due

    @property
    def overdue(self) -> bool:
        return self.next_due is not None and self.next_due < self.today

    @property
    def due_today(self) -> bool:
        return self.next_due == self.today

    @property
    def days_overdue(self) -> int:
        return (self.today - self.next_due).days if self.overdue else 0


def schedule_of(household: Household, *, today: dt.date | None = None) -> ScheduleView:
    """The household's schedule as stored, or computed now if the nightly refresh has not
    reached it yet (a household put on file today). Never writes."""
    today = today or timezone.localdate()
    state = (
        HouseholdVisitState.objects.filter(pk=household.pk).select_related("visit_class").first()
    )
    if state is not None:
        schedule = Schedule(
            grid_id=state.grid_id,
            visit_class=state.visit_class,
            last_visit_at=state.last_visit_at,
            next_due=state.next_due,
        )
    else:
        schedule = schedules_compute([household.pk], today=today)[household.pk]
    return ScheduleView(schedule, today)


def states_for(user) -> QuerySet[HouseholdVisitState]:
    return scope_queryset(user, HouseholdVisitState.objects.all(), owner_fields=())


# Columns no due list shows: a grid's outline (GeoJSON, kilobytes a row, which the database
# would otherwise carry through the sort of every due row) and the household's notes.
DUE_DEFERRED = ("grid__boundary", "household__note")
# What a row of the due page shows (visits.listing.due_rows_html): read these columns alone.
DUE_PAGE_FIELDS = (
    "next_due",
    "last_visit_at",
    "household__head_name",
    "household__address",
    "visit_class__name",
    "grid__code",
)


def linked_due_rows(user, *, today: dt.date | None = None, within: int = 0) -> "list[DueRow]":
    """What a cadre with no grid of their own owes the households linked to them personally:
    each household's next visit by the cadre's own rhythm — a contact duty's (a visit every k
    months, duties.selectors.link_visit_dues) or a pairing programme's (assistance's due
    contacts) — not the grid team's schedule, which a grid worker's visit moves on without
    doing the cadre's duty. The most pressing obligation per household, due by today +
    `within`; overdue first."""
    from minqing.assistance.selectors import due_rows as pairing_dues
    from minqing.assistance.selectors import household_of
    from minqing.duties.selectors import link_visit_dues
    from minqing.registry.models import Household

    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=within)
    best: dict[int, tuple[dt.date, tuple[str, str], dt.datetime | None]] = {}

    def owe(household_id, due, label, last):
        if due <= horizon and (household_id not in best or due < best[household_id][0]):
            best[household_id] = (due, label, last)

    for d in link_visit_dues(user, today=today):
        label = _("联系户·每月") if d.every == 1 else _("联系户·每%(n)s个月")
        owe(d.household_id, d.due, ("duty", label % {"n": d.every}), d.last_visit)
    for r in pairing_dues(user, today=today, within=within, mine=True):
        household_id = household_of(r.pairing)
        if household_id is not None:
            last = r.last_contact
            if last is not None:  # a contact day: its start, as an aware time
                last = timezone.make_aware(dt.datetime.combine(last, dt.time()))
            kind = ("pairing:" + r.pairing.programme.code, r.pairing.programme.name)
            owe(household_id, r.due.date, kind, last)
    if not best:
        return []
    households = Household.objects.filter(pk__in=list(best)).values_list(
        "pk", "head_name", "address", "building_id", "number", "grid__code", "grid__name"
    )
    rows = [
        DueRow(
            household=DueHousehold(pk, head, address, number, grid_code, grid_name),
            visit_class=DueVisitClass(best[pk][1][1], best[pk][1][0]),
            next_due=best[pk][0],
            last_visit_at=best[pk][2],
            building_id=building,
        )
        for pk, head, address, building, number, grid_code, grid_name in households
    ]
    rows.sort(key=lambda r: (r.next_due, r.household.address, r.household.pk))
    return rows


def linked_household_search(user, *, q: str, exclude=(), limit: int = 20) -> list[Household]:
    """Households linked to the user personally (outside their scope) matching a name, address
    or number: the visit form's lookup adds them to the scoped search."""
    from minqing.accounts.links import linked_households_q

    q = q.strip()
    if not q or not getattr(user, "is_authenticated", False):
        return []
    cond = Q(number__contains=q) | Q(head_name__contains=q)
    for w in q.split():
        cond |= Q(address__contains=w)
    return list(
        Household.objects.filter(linked_households_q(user))
        .filter(cond)
        .exclude(pk__in=list(exclude))
        .select_related("grid")
        .order_by("number")[:limit]
    )


def due_for(
    user,
    *,
    today: dt.date | None = None,
    within: int = 0,
    grid: Node | None = None,
    with_building: bool = True,
) -> QuerySet[HouseholdVisitState]:
    """Households whose next visit is due by today + `within` days, overdue first.

    For one grid the user may see, the rows are read by grid alone: the same rows as through
    the scope subquery, with a plan the database makes five times faster. `with_building` only
    when the rows will be sorted by distance."""
    today = today or timezone.localdate()
    by = today + dt.timedelta(days=within)
    if grid is not None and node_visible(user, grid):
        qs = HouseholdVisitState.objects.filter(grid=grid, next_due__lte=by)
    else:
        qs = states_for(user).filter(next_due__lte=by)
        if grid is not None:
            qs = qs.filter(grid=grid)
        path = single_subtree_path(user)
        if path is not None:  # the same rows; a plan twice as fast on PostgreSQL (bench/README)
            qs = qs.filter(grid__path__startswith=path)
    related = ["household", "visit_class", "grid"]
    if with_building:
        related.append("household__building")
    return (
        qs.select_related(*related)
        .defer(*DUE_DEFERRED)
        .order_by("next_due", "household__address", "household_id")
    )


# A row of a grid's due page, read by grid_due_page_rows: what due_rows_html reads of it.
@dataclass(slots=True)
class DueHousehold:
    pk: int
    head_name: str
    address: str
    number: str = ""  # these three for the API's rows (linked_due_rows)
    grid_code: str = ""
    grid_name: str = ""


@dataclass(slots=True)
class DueVisitClass:
    name: str
    code: str = ""


@dataclass(slots=True)
class DueRow:
    household: DueHousehold
    visit_class: DueVisitClass | None
    next_due: dt.date
    last_visit_at: dt.datetime | None
    building_id: int | None = None

    @property
    def household_id(self) -> int:
        return self.household.pk


_DUE_ROW_COLUMNS = (
    "household_id",
    "household__head_name",
    "household__address",
    "visit_class__name",
    "next_due",
    "last_visit_at",
    "household__building_id",
)


def grid_due_page_rows(user, grid: Node, *, today: dt.date, within: int = 0, limit: int):
    """A grid's due page rows (`due_for` with DUE_PAGE_FIELDS, the first `limit`).

    A grid worker opens this list many times a day: the statement is compiled once per grid,
    scope and day (`core.statements`) and its rows are plain objects, not models."""
    scope = None if node_visible(user, grid) else user_scope(user).key
    by = today + dt.timedelta(days=within)

    def build():
        qs = due_for(user, today=today, within=within, grid=grid, with_building=False)
        return qs.values_list(*_DUE_ROW_COLUMNS)[:limit]

    return [
        DueRow(
            DueHousehold(pk, head, address),
            DueVisitClass(klass) if klass is not None else None,
            next_due,
            last,
            building,
        )
        for pk, head, address, klass, next_due, last, building in statements.rows(
            ("visits.grid_due_page", scope, grid.pk, by, limit), build
        )
    ]


# A row of the API's due list (api.visits._due_tuple), in this order.
DUE_API_COLUMNS = (
    "household_id",
    "household__number",
    "household__address",
    "household__head_name",
    "grid__code",
    "grid__name",
    "visit_class__code",
    "visit_class__name",
    "last_visit_at",
    "next_due",
)
DUE_WHEN = {
    "overdue": lambda today: Q(next_due__lt=today),
    "today": lambda today: Q(next_due=today),
    "upcoming": lambda today: Q(next_due__gt=today),
}


def due_when(when: str, due: dt.date, today: dt.date) -> bool:
    """DUE_WHEN for one date in hand."""
    return {"overdue": due < today, "today": due == today, "upcoming": due > today}[when]


def due_page(
    user, *, today: dt.date, within: int, grid: Node | None, when: str, start: int, size: int
) -> tuple[list[tuple], int]:
    """One page of `due_for` (DUE_API_COLUMNS) narrowed by `when`, and how many rows in all.

    The total comes with the rows (COUNT(*) OVER ()), and the statement is compiled once per
    scope, grid, day and page (`core.statements`): the API's due list is asked for again and
    again by the same phones."""
    grid_only = grid is not None and node_visible(user, grid)
    scope = None if grid_only else user_scope(user).key

    def rows_of():
        qs = due_for(user, today=today, within=within, grid=grid, with_building=False)
        return qs.filter(DUE_WHEN[when](today)) if when in DUE_WHEN else qs

    def build():
        qs = rows_of().annotate(_total=Window(Count("pk")))
        return qs.values_list(*DUE_API_COLUMNS, "_total")[start : start + size]

    key = ("visits.due_page", scope, grid.pk if grid else None, today, within, when, start, size)
    rows = statements.rows(key, build)
    if rows:
        return [r[:-1] for r in rows], rows[0][-1]
    if start == 0:
        return [], 0
    return [], rows_of().count()  # a page past the end


@dataclass(slots=True)
class DueGrid:
    pk: int
    code: str
    name: str


@dataclass
class GridDue:
    grid: DueGrid
    overdue: int
    today: int
    soon: int


def due_counts_by_grid(user, *, today: dt.date | None = None, soon: int = 7) -> list[GridDue]:
    """Per grid in the user's scope, in path order: overdue, due today, due within `soon` days
    (only grids with something due).

    One statement, compiled once per scope and day (`core.statements`): the grids' names come
    in the same statement, and the counts are of `next_due`, so PostgreSQL answers them from
    the (grid, next_due) index alone without reading the rows."""
    today = today or timezone.localdate()

    def build():
        qs = states_for(user).filter(next_due__lte=today + dt.timedelta(days=soon))
        path = single_subtree_path(user)
        if path is not None:  # the same rows; the grids read through their path index
            qs = qs.filter(grid__path__startswith=path)
        return (
            qs.values_list("grid_id", "grid__code", "grid__name")
            .annotate(
                overdue=Count("next_due", filter=Q(next_due__lt=today)),
                due_today=Count("next_due", filter=Q(next_due=today)),
                due_soon=Count("next_due", filter=Q(next_due__gt=today)),
            )
            .order_by("grid__path")
        )

    key = ("visits.due_counts_by_grid", user_scope(user).key, today, soon)
    return [
        GridDue(DueGrid(pk, code, name), overdue, due_today, due_soon)
        for pk, code, name, overdue, due_today, due_soon in statements.rows(key, build)
    ]


def totals_of(rows: list[GridDue]) -> dict:
    """Overdue and due today over the per-grid rows: every such household is in one of them,
    so the office page needs no second pass over its states."""
    return {"overdue": sum(r.overdue for r in rows), "today": sum(r.today for r in rows)}


def due_totals(user, *, today: dt.date | None = None, grid: Node | None = None) -> dict:
    """逾期 and 今日应访 in the user's scope, or in one of their grids."""
    today = today or timezone.localdate()
    scope = user_scope(user)
    if grid is not None:
        return (
            states_for(user)
            .filter(grid=grid)
            .aggregate(
                overdue=Count("next_due", filter=Q(next_due__lt=today)),
                today=Count("next_due", filter=Q(next_due=today)),
            )
        )
    if not (scope.everything or scope.subtree_paths or scope.exact_node_ids):
        # No place in the tree (a cadre): what they owe their linked households.
        rows = linked_due_rows(user, today=today)
        return {
            "overdue": sum(1 for r in rows if r.next_due < today),
            "today": sum(1 for r in rows if r.next_due == today),
        }
    return states_for(user).aggregate(
        overdue=Count("next_due", filter=Q(next_due__lt=today)),
        today=Count("next_due", filter=Q(next_due=today)),
    )


def grids_for(user) -> QuerySet[Node]:
    return visible_nodes(user).filter(level=Level.GRID).order_by("path")


def first_grids(user) -> list[Node]:
    """Up to two of the user's grids: none (a cadre), one (a grid worker) or two (an office).

    A grid worker's scope is their grid's subtree, and that grid is already in hand with their
    role assignments (read with the user): no query. Others ask the database.
    """
    path = single_subtree_path(user)
    if path is not None:
        for assignment in user_assignments(user):
            if assignment.node.path == path and assignment.node.level == Level.GRID:
                return [assignment.node]
    return list(grids_for(user).defer("boundary")[:2])


def _centre(boundary) -> tuple[float, float] | None:
    geometry = geo.geometry_of(boundary) if boundary else None
    if geometry is None:
        return None
    try:
        min_lng, min_lat, max_lng, max_lat = geo.bbox(geometry)
    except ValueError:
        return None
    return (min_lat + max_lat) / 2, (min_lng + max_lng) / 2


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two (lat, lng) points; an equirectangular approximation is enough in a grid."""
    lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(lat)
    dy = math.radians(b[0] - a[0])
    return 6_371_000 * math.hypot(dx, dy)


def due_by_building(rows, today: dt.date) -> dict[int, list[int]]:
    """{building id: [overdue, due today]} of a grid's due rows, for its map: the buildings
    to go to, coloured, without another query (the rows are the grid's whole list)."""
    out: dict[int, list[int]] = {}
    for row in rows:
        building = getattr(row, "building_id", None)
        if building is None:
            building = getattr(getattr(row, "household", None), "building_id", None)
        if building is None or row.next_due > today:
            continue
        counts = out.setdefault(building, [0, 0])
        counts[0 if row.next_due < today else 1] += 1
    return out


def nearest_first(states: Iterable[HouseholdVisitState], lat: float, lng: float) -> list:
    """Due households ordered by the distance of their building from (lat, lng); households
    whose building has no outline come last, by address. Sets `.distance_m` on each row."""
    here = (lat, lng)
    centres: dict[int, tuple[float, float] | None] = {}
    out = []
    for s in states:
        b = s.household.building
        if b is not None and b.pk not in centres:
            centres[b.pk] = _centre(b.boundary)
        c = centres.get(b.pk) if b is not None else None
        s.distance_m = round(_distance_m(here, c)) if c else None
        out.append(s)
    out.sort(key=lambda s: (s.distance_m is None, s.distance_m or 0, s.household.address, s.pk))
    return out


# --- visits ----------------------------------------------------------------------------------


def _went_on(user) -> Q | None:
    """Under 仅本人, the visits the user went on: one of several visitors need not be the one
    who filled the record in. (Scoped by place, a user sees them by their grid anyway.)"""
    own = user_scope(user).own_user_id
    if not own:
        return None
    return Q(pk__in=Visit.visitors.through.objects.filter(user_id=own).values("visit_id"))


def visits_for(user) -> QuerySet[Visit]:
    return scope_queryset(
        user, Visit.objects.all(), owner_fields=("created_by",), also=_went_on(user)
    )


def visit_for(user, pk) -> Visit:
    from minqing.accounts.access import get_scoped_or_404

    return get_scoped_or_404(
        user,
        Visit.objects.select_related("household", "household__grid", "created_by"),
        owner_fields=("created_by",),
        also=_went_on(user),
        pk=pk,
    )


def my_visits(user) -> QuerySet[Visit]:
    """Visits the user went on (as recorder or companion), newest first."""
    return (
        Visit.objects.filter(visitors=user)
        .select_related("household", "grid")
        .order_by("-visited_at", "-id")
    )


def plans_of(household: Household) -> QuerySet[HouseholdVisitPlan]:
    return household.visit_plans.select_related("visit_class", "created_by")


# --- the diary -------------------------------------------------------------------------------


def diary_for(user, *, q: str = "", tag: str = "") -> QuerySet[DiaryEntry]:
    """The user's own diary: nobody else's, whatever their role."""
    if not getattr(user, "is_authenticated", False):
        return DiaryEntry.objects.none()
    qs = DiaryEntry.objects.filter(author=user).select_related("household")
    if q:
        qs = qs.filter(Q(text__contains=q) | Q(tags__contains=q))
    if tag:
        # Tags are stored space-separated; match a whole word.
        qs = qs.filter(
            Q(tags=tag)
            | Q(tags__startswith=tag + " ")
            | Q(tags__endswith=" " + tag)
            | Q(tags__contains=" " + tag + " ")
        )
    return qs.order_by("-date", "-id")


# --- the household timeline ------------------------------------------------------------------


@dataclass
class TimelineItem:
    at: dt.datetime
    kind: str  # "visit", "diary", "case", "help", …
    label: str  # what kind of thing, in words: 走访 · 入户
    title: str
    url: str = ""
    text: str = ""
    badges: list[str] = field(default_factory=list)
    # Recorded as a day (a diary entry, help given): the time in `at` only places it in the day.
    date_only: bool = False


TimelineSource = Callable[[object, Household, int], Iterable[TimelineItem]]
_SOURCES: list[TimelineSource] = []


def register_timeline_source(source: TimelineSource) -> TimelineSource:
    """Add a source of timeline items (e.g. help received, from the pairing app's ready()).

    A source takes (user, household, limit) and yields at most `limit` TimelineItems the user
    may see. Usable as a decorator.
    """
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def _day_start(d: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(d, dt.time(0, 0)))


@register_timeline_source
def _visit_items(user, household: Household, limit: int) -> Iterable[TimelineItem]:
    visits = (
        visits_for(user)
        .filter(household=household)
        .select_related("campaign")
        .prefetch_related("visitors", "members_met", "cases")
        .order_by("-visited_at", "-id")[:limit]
    )
    for v in visits:
        who = _("、").join(str(u) for u in v.visitors.all())
        if v.other_visitors:
            who = _("、").join((who, v.other_visitors)) if who else v.other_visitors
        yield TimelineItem(
            at=v.visited_at,
            kind="visit",
            label=_("走访 · %(mode)s") % {"mode": v.get_mode_display()},
            title=who,
            url=f"/visits/{v.pk}/",
            text=v.opinions or v.seen,
            badges=([v.campaign.name] if v.campaign_id else []) + [c.number for c in v.cases.all()],
        )


@register_timeline_source
def _diary_items(user, household: Household, limit: int) -> Iterable[TimelineItem]:
    entries = diary_for(user).filter(household=household)[:limit]
    for e in entries:
        yield TimelineItem(
            at=_day_start(e.date),
            kind="diary",
            label=_("我的民情日记"),
            title=" ".join(f"#{t}" for t in e.tag_list),
            url=f"/visits/diary/{e.pk}/edit/",
            text=e.text,
            date_only=True,
        )


@register_timeline_source
def _case_items(user, household: Household, limit: int) -> Iterable[TimelineItem]:
    from minqing.cases.selectors import cases_for

    cases = (
        cases_for(user)
        .filter(household=household)
        .select_related("category")
        .order_by("-accepted_at", "-id")[:limit]
    )
    for c in cases:
        yield TimelineItem(
            at=c.accepted_at,
            kind="case",
            label=_("案件 · %(channel)s") % {"channel": c.get_channel_display()},
            title=f"{c.number} {c.title}",
            url=f"/cases/{c.number}/",
            text=c.category.name if c.category_id else "",
            badges=[c.get_status_display()],
        )


@register_timeline_source
def _help_items(user, household: Household, limit: int) -> Iterable[TimelineItem]:
    """Help received (结对帮扶 help log), as the assistance app lets `user` see it."""
    from minqing.assistance import selectors as assistance

    for item in list(assistance.timeline_items(user, household) or [])[:limit]:
        at = item.get("at") if isinstance(item, dict) else None
        if not isinstance(at, dt.datetime):
            continue  # a malformed item must not break the household page
        yield TimelineItem(
            at=at if timezone.is_aware(at) else timezone.make_aware(at),
            kind="help",
            label=_("帮扶"),
            title=str(item.get("title") or ""),
            url=str(item.get("url") or ""),
            text=str(item.get("text") or ""),
            date_only=bool(item.get("date_only")),
        )


def timeline_for(user, household: Household, *, limit: int = 50) -> list[TimelineItem]:
    """Everything that happened with a household, newest first, as far as `user` may see."""
    items: list[TimelineItem] = []
    for source in _SOURCES:
        items.extend(source(user, household, limit))
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


# --- campaigns (走访活动) ----------------------------------------------------------------------


def _ancestor_codes(paths: Iterable[str]) -> set[str]:
    return {code for p in paths for code in p.split("/") if code}


def campaigns_for(user) -> QuerySet[Campaign]:
    """Campaigns the user may open: those whose node is in their part of the tree (an office's
    subtree), those covering it from above (a county campaign seen by a grid worker, who then
    sees only their grid's targets), those they created or hold a target of. Drafts only for
    the offices that may prepare them."""
    scope = user_scope(user)
    if not getattr(user, "is_authenticated", False):
        return Campaign.objects.none()
    qs = Campaign.objects.select_related("node", "created_by")
    if scope.everything:
        return qs
    mine = Q(created_by=user) | Q(
        pk__in=CampaignTarget.objects.filter(pk__in=assigned_targets(user)).values("campaign_id")
    )
    nodes = visible_nodes(user)
    below = Q(node__in=nodes.values("pk"))
    paths = set(scope.subtree_paths)
    if scope.exact_node_ids:
        paths |= set(
            Node.objects.filter(pk__in=scope.exact_node_ids).values_list("path", flat=True)
        )
    above = Q(node__code__in=sorted(_ancestor_codes(paths))) if paths else Q(pk__in=[])
    qs = qs.filter(mine | below | above)
    drafts_ok = Q(created_by=user)
    if services.can_create_campaign(user):
        drafts_ok |= below
    return qs.filter(~Q(status=CampaignStatus.DRAFT) | drafts_ok)


def campaign_for(user, pk) -> Campaign:
    """One campaign the user may open, or 404."""
    if not isinstance(pk, int) or not 0 < pk < 2**63:
        raise Http404
    campaign = campaigns_for(user).filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


def assigned_targets(user) -> QuerySet:
    """The ids of the campaign targets given to the user that are still theirs: in a grid whose
    team they are still on (`services.grid_team_users`: assigned at the grid or above it up to
    its community, or a member of its service team). A grid worker moved to another grid, or a
    volunteer who left the team, no longer reads the old grid's households through targets once
    given to them; the grid's present team sees and may reassign them."""
    if not getattr(user, "is_authenticated", False):
        return CampaignTarget.objects.none().values("pk")
    from minqing.accounts.models import TeamMember

    still = Q(grid_id__in=TeamMember.objects.filter(user=user).values("team__node_id"))
    for a in user_assignments(user):
        if a.node.level >= Level.COMMUNITY:
            still |= Q(grid__in=Node.objects.filter(subtree_q(a.node.path)).values("pk"))
    return CampaignTarget.objects.filter(still, assignees=user).values("pk")


def campaign_targets_for(user, campaign: Campaign) -> QuerySet[CampaignTarget]:
    """The campaign's targets the user may see: those in their part of the tree, and those
    given to them that are still theirs (`assigned_targets`: a team member without a scope)."""
    return scope_queryset(
        user,
        campaign.targets.all(),
        node_field="grid",
        owner_fields=(),
        also=Q(pk__in=assigned_targets(user)) if getattr(user, "is_authenticated", False) else None,
    )


@dataclass
class Progress:
    grid: Node | None
    total: int
    done: int

    @property
    def remaining(self) -> int:
        return self.total - self.done

    @property
    def percent(self) -> int:
        """Whole percent done, rounded down (99.6% is not done)."""
        return self.done * 100 // self.total if self.total else 0


def campaign_progress(user, campaign: Campaign) -> tuple[list[Progress], Progress]:
    """Targets, visited, remaining and % done per grid the user sees, and in total."""
    rows = (
        campaign_targets_for(user, campaign)
        .values("grid_id")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(visit__isnull=False)))
        .order_by()
    )
    counts = {r["grid_id"]: r for r in rows}
    grids = Node.objects.filter(pk__in=list(counts)).only("code", "name", "path").order_by("path")
    out = [Progress(g, counts[g.pk]["total"], counts[g.pk]["done"]) for g in grids]
    total = Progress(None, sum(p.total for p in out), sum(p.done for p in out))
    return out, total


def campaigns_progress(user, campaigns: Iterable[Campaign]) -> dict[int, Progress]:
    """{campaign id: Progress of the targets the user sees}, for a page of campaigns: one query."""
    ids = [c.pk for c in campaigns]
    assigned = assigned_targets(user)
    rows = (
        scope_queryset(
            user,
            CampaignTarget.objects.filter(campaign_id__in=ids),
            node_field="grid",
            owner_fields=(),
            also=Q(pk__in=assigned),
        )
        .values("campaign_id")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(visit__isnull=False)))
        .order_by()
    )
    out = {pk: Progress(None, 0, 0) for pk in ids}
    for r in rows:
        out[r["campaign_id"]] = Progress(None, r["total"], r["done"])
    return out


def campaign_target_list(
    user, campaign: Campaign, *, grid: Node | None = None, status: str = ""
) -> QuerySet[CampaignTarget]:
    """The target list as the user sees it, filtered by grid and 已访/未访."""
    qs = campaign_targets_for(user, campaign)
    if grid is not None:
        qs = qs.filter(grid=grid)
    if status == "done":
        qs = qs.filter(visit__isnull=False)
    elif status == "todo":
        qs = qs.filter(visit__isnull=True)
    return qs.select_related("household", "household__building", "grid", "visit").order_by(
        "grid__path", "household__address", "household_id"
    )


def my_campaign_targets(user, *, campaign: Campaign | None = None) -> QuerySet[CampaignTarget]:
    """Targets assigned to the user in open campaigns, not visited yet; the soonest-ending
    campaign first."""
    if not getattr(user, "is_authenticated", False):
        return CampaignTarget.objects.none()
    qs = CampaignTarget.objects.filter(
        pk__in=assigned_targets(user), campaign__status=CampaignStatus.OPEN, visit__isnull=True
    )
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.select_related("household", "household__building", "grid", "campaign").order_by(
        "campaign__end", "campaign_id", "household__address", "household_id"
    )


def open_campaigns_of(household: Household) -> QuerySet[Campaign]:
    """Open campaigns with this household on their list (the visit form's choice)."""
    return Campaign.objects.filter(
        status=CampaignStatus.OPEN,
        pk__in=CampaignTarget.objects.filter(household=household).values("campaign_id"),
    ).order_by("end", "pk")


def campaign_card(user) -> dict:
    """Counts for the home page: open campaigns the user sees, their own targets left."""
    if not getattr(user, "is_authenticated", False):
        return {"open": 0, "mine": 0}
    # Compiled once per user and place in the tree (core.statements): building these nested
    # queries took Django ≈ 8 ms of the home page, PostgreSQL ≈ 3 ms to run them.
    key = (
        user.pk,
        user_scope(user).key,
        tuple((a.role, a.node.path, a.data_scope) for a in user_assignments(user)),
    )
    return {
        "open": statements.count(
            ("visits.campaigns_open", *key),
            lambda: campaigns_for(user).filter(status=CampaignStatus.OPEN),
        ),
        "mine": statements.count(("visits.my_targets", *key), lambda: my_campaign_targets(user)),
    }


def target_holders(user) -> dict[int, int]:
    """{user id: how many} of the unvisited targets of open campaigns in `user`'s part of the
    tree, by whom they were given to (人员交接's list of who holds what)."""
    targets = scope_queryset(
        user,
        CampaignTarget.objects.filter(
            campaign__status=CampaignStatus.OPEN, visit__isnull=True, assignees__isnull=False
        ),
        node_field="grid",
        owner_fields=(),
    )
    rows = targets.order_by().values("assignees").annotate(n=Count("pk", distinct=True))
    return {r["assignees"]: r["n"] for r in rows}
