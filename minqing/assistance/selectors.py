"""Reads of pairing assistance, scoped by `accounts.access`.

- A pairing is seen by whoever sees its target's place in the tree (Pairing.grid: a grid worker
  their grid's, leaders their subtree's), and by its own helpers wherever it is (仅本人).
- Contacts are read from the help log and from visits.Visit: a visit to the paired household
  whose visitors include one of the pairing's helpers' user accounts counts as contact.
- Due lists, coverage and the monthly report are computed from those contacts with the pure
  functions of `assistance.schedule`.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from minqing.accounts.access import (
    get_scoped_or_404,
    scope_node_ids,
    scope_queryset,
    user_scope,
    visible_nodes,
)
from minqing.assistance import schedule
from minqing.assistance.models import (
    TARGET_FIELD,
    FundSource,
    HelpEntry,
    Helper,
    HelperGroup,
    HelperKind,
    Pairing,
    Programme,
    TargetKind,
)
from minqing.core import statements
from minqing.grids.models import Node

CHUNK = 500
PAIRING_RELATED = (
    "programme",
    "programme__target_tag",
    "household",
    "household__grid",
    "person",
    "person__household",
    "node",
    "place",
    "organisation",
    "group",
    "grid",
)
# Contacts older than this do not change a due date or an occasion any more.
LOOKBACK_DAYS = 400


def _through():
    return Pairing.helpers.through.objects


# --- pairings --------------------------------------------------------------------------------


def own_pairing_ids(user, *, active: bool = False) -> QuerySet:
    """Ids of the pairings `user` is a helper of (qualified or not: their history stays theirs)."""
    if not getattr(user, "is_authenticated", False):
        return Pairing.objects.none().values("pk")
    rows = _through().filter(helper__user=user)
    if active:
        rows = rows.filter(pairing__end__isnull=True, helper__disqualified_on__isnull=True)
    return rows.values("pairing_id")


def pairings_for(user) -> QuerySet[Pairing]:
    """Every pairing the user may see: by the target's place, or as one of its helpers."""
    if not getattr(user, "is_authenticated", False):
        return Pairing.objects.none()
    return scope_queryset(
        user,
        Pairing.objects.all(),
        node_field="grid",
        owner_fields=(),
        also=Q(pk__in=own_pairing_ids(user)),
    )


def office_pairings(user) -> QuerySet[Pairing]:
    """Pairings of the user's part of the tree (not those they only help in elsewhere).

    A scope of one subtree is given as its literal node ids (`access.scope_node_ids`): from
    the path subquery PostgreSQL expected two grids, not a community's 57, and joined the
    programme, target and helper tables once per grid (40 ms for 19 pairings)."""
    ids = scope_node_ids(user)
    if ids is not None:
        return Pairing.objects.filter(grid_id__in=ids)
    return scope_queryset(user, Pairing.objects.all(), node_field="grid", owner_fields=())


def my_pairings(user) -> QuerySet[Pairing]:
    return Pairing.objects.filter(pk__in=own_pairing_ids(user))


def pairing_for(user, pk) -> Pairing:
    return get_scoped_or_404(
        user,
        Pairing.objects.select_related(*PAIRING_RELATED),
        node_field="grid",
        owner_fields=(),
        also=Q(pk__in=own_pairing_ids(user)),
        pk=pk,
    )


def pairing_search(
    user,
    *,
    programme: Programme | None = None,
    status: str = "active",
    q: str = "",
    mine: bool = False,
    group: HelperGroup | None = None,
    helper: Helper | None = None,
) -> QuerySet[Pairing]:
    qs = my_pairings(user) if mine else pairings_for(user)
    if programme is not None:
        qs = qs.filter(programme=programme)
    if group is not None:
        qs = qs.filter(group=group)
    if helper is not None:
        qs = qs.filter(pk__in=_through().filter(helper=helper).values("pairing_id"))
    if status == "active":
        qs = qs.filter(end__isnull=True)
    elif status == "ended":
        qs = qs.filter(end__isnull=False)
    q = q.strip()
    if q:
        qs = qs.filter(
            Q(household__head_name__contains=q)
            | Q(household__address__contains=q)
            | Q(person__name__contains=q)
            | Q(node__name__contains=q)
            | Q(place__name__contains=q)
            | Q(organisation__name__contains=q)
            | Q(pk__in=_through().filter(helper__name__contains=q).values("pairing_id"))
        )
    return qs.select_related(*PAIRING_RELATED).prefetch_related("helpers").order_by("-start", "-id")


def linked_household_ids(user):
    """Households `user` is personally paired with (as a helper): they may visit them and log help
    even outside their place in the grid tree. A queryset of household ids."""
    from minqing.registry.models import Household, Person

    if not getattr(user, "is_authenticated", False):
        return Household.objects.none().values("pk")
    active = Pairing.objects.filter(pk__in=own_pairing_ids(user, active=True))
    return Household.objects.filter(
        Q(pk__in=active.filter(household__isnull=False).values("household_id"))
        | Q(
            pk__in=Person.objects.filter(
                pk__in=active.filter(person__isnull=False).values("person_id"),
                household__isnull=False,
            ).values("household_id")
        )
    ).values("pk")


# --- helpers ---------------------------------------------------------------------------------


def _ancestor_ids(user) -> QuerySet:
    """Nodes above the user's own nodes: the county's cadres are helpers a community may pick."""
    scope = user_scope(user)
    paths = set(scope.subtree_paths)
    paths.update(Node.objects.filter(pk__in=scope.exact_node_ids).values_list("path", flat=True))
    codes = {c for p in paths for c in p.split("/") if c}
    return Node.objects.filter(code__in=codes).values("pk")


def helpers_for(user) -> QuerySet[Helper]:
    """Helpers the user may see and pick: those registered in their subtree or above it, those
    of pairings they see, and themselves."""
    if not getattr(user, "is_authenticated", False):
        return Helper.objects.none()
    scope = user_scope(user)
    if scope.everything:
        return Helper.objects.all()
    q = Q(user=user) | Q(
        pk__in=_through().filter(pairing__in=pairings_for(user)).values("helper_id")
    )
    if scope.subtree_paths or scope.exact_node_ids:
        q |= Q(node__in=visible_nodes(user).values("pk")) | Q(node__in=_ancestor_ids(user))
    return Helper.objects.filter(q)


def helper_for(user, pk) -> Helper:
    from django.http import Http404

    if not isinstance(pk, int) or not 0 < pk < 2**63:
        raise Http404
    helper = helpers_for(user).select_related("user", "node").filter(pk=pk).first()
    if helper is None:
        raise Http404
    return helper


def helper_search(user, *, q: str = "", status: str = "") -> QuerySet[Helper]:
    """The helper list of the page and the API: name or unit containing q; qualified or
    disqualified ones only when status says so."""
    qs = helpers_for(user)
    q = q.strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(unit_name__contains=q))
    if status == "qualified":
        qs = qs.filter(disqualified_on__isnull=True)
    elif status == "disqualified":
        qs = qs.filter(disqualified_on__isnull=False)
    return qs.order_by("kind", "name", "pk")


def group_list(user) -> QuerySet[HelperGroup]:
    """Groups the user sees with their member and running-pairing counts, in tree order."""
    from django.db.models import Count

    return (
        groups_for(user)
        .select_related("programme", "node")
        .annotate(
            member_count=Count("members", distinct=True),
            active_count=Count("pairings", filter=Q(pairings__end__isnull=True), distinct=True),
        )
        .order_by("node__path", "name")
    )


def groups_for(user) -> QuerySet[HelperGroup]:
    scope = user_scope(user)
    if scope.everything:
        return HelperGroup.objects.all()
    q = Q(pk__in=pairings_for(user).filter(group__isnull=False).values("group_id"))
    if scope.subtree_paths or scope.exact_node_ids:
        q |= Q(node__in=visible_nodes(user).values("pk"))
    return HelperGroup.objects.filter(q)


def programmes() -> QuerySet[Programme]:
    return Programme.objects.filter(active=True).select_related("target_tag")


# --- contacts --------------------------------------------------------------------------------


def household_of(p: Pairing) -> int | None:
    """The household a pairing's target lives in (None for a school, a community …)."""
    if p.household_id:
        return p.household_id
    if p.person_id:
        return p.person.household_id
    return None


def contacts_by_pairing(
    pairings: Iterable[Pairing], *, since: dt.date | None = None, until: dt.date | None = None
) -> dict[int, list[dt.date]]:
    """{pairing id: sorted distinct contact dates}: help-log days and days a helper visited.

    `pairings` need `person` loaded for person targets (select_related). A fixed number of
    queries per CHUNK pairings."""
    from minqing.visits.models import Visit

    pairings = list(pairings)
    out: dict[int, set[dt.date]] = defaultdict(set)
    for i in range(0, len(pairings), CHUNK):
        chunk = pairings[i : i + CHUNK]
        ids = [p.pk for p in chunk]
        entries = HelpEntry.objects.filter(pairing_id__in=ids)
        if since:
            entries = entries.filter(occurred_on__gte=since)
        if until:
            entries = entries.filter(occurred_on__lte=until)
        for pid, day in entries.values_list("pairing_id", "occurred_on"):
            out[pid].add(day)
        users: dict[int, set[int]] = defaultdict(set)
        for pid, uid in (
            _through()
            .filter(pairing_id__in=ids, helper__user__isnull=False)
            .values_list("pairing_id", "helper__user_id")
        ):
            users[pid].add(uid)
        by_household: dict[int, list[Pairing]] = defaultdict(list)
        for p in chunk:
            hid = household_of(p)
            if hid and users[p.pk]:
                by_household[hid].append(p)
        if not by_household:
            continue
        visits = Visit.objects.filter(household_id__in=list(by_household))
        if since:
            visits = visits.filter(visited_at__gte=_aware(since))
        if until:
            visits = visits.filter(visited_at__lt=_aware(until + dt.timedelta(days=1)))
        for hid, at, uid in visits.values_list("household_id", "visited_at", "visitors"):
            day = timezone.localdate(at)
            for p in by_household[hid]:
                if uid in users[p.pk] and day >= p.start and (p.end is None or day <= p.end):
                    out[p.pk].add(day)
    return {pid: sorted(days) for pid, days in out.items()}


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)))


def rhythm_of(p: Pairing) -> schedule.Rhythm:
    prog = p.programme
    birth = p.person.birth_date if p.person_id else None
    return schedule.Rhythm(
        every=prog.every,
        unit=prog.unit,
        spring=prog.on_spring_festival,
        childrens_day=prog.on_childrens_day,
        birthday=prog.on_birthday,
        birth=birth,
    )


# --- due and overdue -------------------------------------------------------------------------


@dataclass
class DueRow:
    pairing: Pairing
    due: schedule.Due
    last_contact: dt.date | None


def due_rows(
    user, *, today: dt.date | None = None, within: int = 7, mine: bool = False, qs=None
) -> list[DueRow]:
    """Contacts owed by today + `within` days for the user's own pairings (`mine`) or every
    pairing they see: overdue first (most overdue first), then by due date."""
    today = today or timezone.localdate()
    if qs is None:
        qs = my_pairings(user) if mine else pairings_for(user)
    pairings = list(
        qs.filter(end__isnull=True, start__lte=today)
        .select_related(*PAIRING_RELATED)
        .prefetch_related("helpers")
    )
    contacts = contacts_by_pairing(pairings, since=today - dt.timedelta(days=LOOKBACK_DAYS))
    rows = []
    for p in pairings:
        days = contacts.get(p.pk, [])
        for d in schedule.dues(
            rhythm_of(p), start=p.start, contacts=days, today=today, within=within
        ):
            rows.append(DueRow(p, d, days[-1] if days else None))
    rows.sort(
        key=lambda r: (
            r.due.status != schedule.OVERDUE,
            -r.due.days_overdue,
            r.due.date,
            r.pairing.pk,
        )
    )
    return rows


def due_counts(rows: list[DueRow]) -> dict:
    counts = {"overdue": 0, "due": 0, "soon": 0}
    for r in rows:
        counts[r.due.status] += 1
    return counts


def concerns(user) -> str:
    """'mine' when the user is a helper with active pairings, 'office' when pairings of their
    part of the tree exist, '' when no pairing concerns them."""
    if my_pairings(user).filter(end__isnull=True).exists():
        return "mine"
    if not user_scope(user).empty and office_pairings(user).filter(end__isnull=True).exists():
        return "office"
    return ""


# --- coverage --------------------------------------------------------------------------------


@dataclass
class Coverage:
    programme: Programme
    total: int
    paired: int
    unpaired_query: Callable[[], QuerySet] | None = None  # built only when asked for

    @property
    def unpaired(self) -> QuerySet | None:
        return self.unpaired_query() if self.unpaired_query is not None else None

    @property
    def rate(self) -> float | None:
        return round(100 * self.paired / self.total, 1) if self.total else None

    @property
    def goal(self) -> int | None:
        return self.programme.coverage_goal

    @property
    def below_goal(self) -> bool:
        return self.goal is not None and self.rate is not None and self.rate < self.goal


def paired_target_ids(programme: Programme) -> QuerySet:
    """Targets with an active pairing in the programme that has at least one qualified helper
    (a disqualified helper's targets count as unpaired)."""
    field = TARGET_FIELD[TargetKind(programme.target_kind)]
    return (
        Pairing.objects.filter(
            programme=programme,
            end__isnull=True,
            **{f"{field}__isnull": False},
        )
        .filter(pk__in=_through().filter(helper__disqualified_on__isnull=True).values("pairing_id"))
        .values(f"{field}_id")
    )


def target_population(user, programme: Programme) -> QuerySet | None:
    """The programme's target group (by tag) in the user's scope, or None when it has none."""
    from minqing.registry.models import Person
    from minqing.registry.selectors import households_for, people_for

    tag = programme.target_tag
    if tag is None:
        return None
    if programme.target_kind == TargetKind.PERSON:
        return people_for(user).filter(tags=tag)
    if programme.target_kind == TargetKind.HOUSEHOLD:
        return households_for(user).filter(
            Q(tags=tag)
            | Q(
                pk__in=Person.objects.filter(tags=tag, household__isnull=False).values(
                    "household_id"
                )
            )
        )
    return None


def coverage(user, programme: Programme) -> Coverage | None:
    if programme.target_tag_id is None or programme.target_kind not in (
        TargetKind.PERSON,
        TargetKind.HOUSEHOLD,
    ):
        return None  # no target group (target_population would say None)

    def population():
        return target_population(user, programme)

    # Both counts compiled once per user, scope and programme setting (core.statements): the
    # overview shows every programme's coverage, and building these scoped queries cost Django
    # more than counting cost the database.
    key = (
        user.pk,
        user_scope(user).key,
        programme.pk,
        programme.target_kind,
        programme.target_tag_id,
    )
    total = statements.count(("assistance.population", *key), population)
    paired = statements.count(
        ("assistance.paired", *key),
        lambda: population().filter(pk__in=paired_target_ids(programme)),
    )
    return Coverage(
        programme,
        total,
        paired,
        lambda: population().exclude(pk__in=paired_target_ids(programme)),
    )


def coverage_all(user) -> list[Coverage]:
    out = []
    for p in programmes().filter(target_tag__isnull=False):
        c = coverage(user, p)
        if c is not None:
            out.append(c)
    return out


# --- the monthly report ----------------------------------------------------------------------


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, schedule.add_months(first, 1) - dt.timedelta(days=1)


@dataclass
class ReportRow:
    pairing: Pairing
    need: schedule.MonthNeed
    help_count: int = 0
    money: dict = field(default_factory=dict)  # fund source → Decimal (cash + goods value)

    @property
    def total(self) -> Decimal:
        return sum(self.money.values(), Decimal("0"))


@dataclass
class ReportGroup:
    """Totals of some rows: one programme, one group or one helper."""

    key: str
    name: str
    pk: int | str | None = None  # what the report page filters by (a programme's code)
    pairings: int = 0
    required: int = 0
    made: int = 0
    gaps: int = 0  # pairings with a gap
    help_count: int = 0
    money: dict = field(default_factory=dict)

    def add(self, row: ReportRow, *, help_count: int | None = None, money: dict | None = None):
        """A pairing's row; help_count/money: a helper's own part of its help (who gave it)."""
        self.pairings += 1
        self.required += row.need.required + len(row.need.occasions)
        self.made += row.need.made
        self.gaps += 1 if row.need.gap else 0
        self.add_help(row.help_count if help_count is None else help_count,
                      row.money if money is None else money)  # fmt: skip

    def add_help(self, help_count: int, money: dict) -> None:
        self.help_count += help_count
        for k, v in money.items():
            self.money[k] = self.money.get(k, Decimal("0")) + v

    @property
    def total(self) -> Decimal:
        return sum(self.money.values(), Decimal("0"))


@dataclass
class MonthReport:
    first: dt.date
    last: dt.date
    rows: list[ReportRow]
    by_programme: list[ReportGroup]
    by_group: list[ReportGroup]
    by_helper: list[ReportGroup]
    totals: ReportGroup


FUND_SOURCES = [v for v in FundSource.values]
NO_SOURCE = ""


def month_report(
    user,
    *,
    month: dt.date,
    programme: Programme | None = None,
    group: HelperGroup | None = None,
    helper: Helper | None = None,
    mine: bool = False,
    today: dt.date | None = None,
) -> MonthReport:
    """Per pairing active in the month: contacts owed and made (gaps), help given and money by
    fund source; totals per programme, group and helper. Occasions whose window is still open
    and months still running count only up to `today`."""
    today = today or timezone.localdate()
    first, last = month_bounds(month)
    qs = pairing_search(user, programme=programme, group=group, helper=helper, status="", mine=mine)
    qs = qs.filter(start__lte=last).filter(Q(end__isnull=True) | Q(end__gte=first))
    pairings = list(qs.order_by("programme__sort", "programme_id", "group__name", "start", "pk"))
    # Back far enough to find each pairing's last contact before the month: a quarterly one
    # is owed from the contact of up to three months ago (schedule._long_rhythm_owed).
    longest = max(
        (schedule.interval_days(p.programme.every, p.programme.unit) for p in pairings), default=0
    )
    contacts = contacts_by_pairing(
        pairings,
        since=first - dt.timedelta(days=max(20, int(longest) + 31)),
        until=last + dt.timedelta(days=20),
    )
    help_count: dict[int, int] = defaultdict(int)
    money: dict[int, dict] = defaultdict(dict)
    # The same per pairing and helper who gave it: a helper is credited with their own help, not
    # their group's (a group pairing's entries name who helped; none: the group as a whole).
    given: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    given_money: dict[int, dict[int, dict]] = defaultdict(lambda: defaultdict(dict))
    givers: dict[int, str] = {}
    ids = [p.pk for p in pairings]
    for i in range(0, len(ids), CHUNK):
        for pid, hid, hname, source_, amount, goods_value in HelpEntry.objects.filter(
            pairing_id__in=ids[i : i + CHUNK], occurred_on__gte=first, occurred_on__lte=last
        ).values_list(
            "pairing_id", "helper_id", "helper__name", "fund_source", "amount", "goods_value"
        ):
            help_count[pid] += 1
            value = (amount or Decimal("0")) + (goods_value or Decimal("0"))
            source_ = source_ or NO_SOURCE
            if value:
                money[pid][source_] = money[pid].get(source_, 0) + value
            if hid is not None:
                givers[hid] = hname
            # Entries naming nobody are kept under 0: the group's, or a lone helper's.
            given[pid][hid or 0] += 1
            if value:
                mine = given_money[pid][hid or 0]
                mine[source_] = mine.get(source_, 0) + value
    rows = []
    for p in pairings:
        need = schedule.month_need(
            rhythm_of(p),
            start=p.start,
            end=p.end,
            contacts=contacts.get(p.pk, []),
            first=first,
            last=last,
            today=today,
        )
        rows.append(ReportRow(p, need, help_count[p.pk], money[p.pk]))
    by_programme: dict[int, ReportGroup] = {}
    by_group: dict[int, ReportGroup] = {}
    by_helper: dict[int, ReportGroup] = {}
    totals = ReportGroup("all", "合计")
    for r in rows:
        p = r.pairing
        by_programme.setdefault(
            p.programme_id,
            ReportGroup(f"programme-{p.programme_id}", p.programme.name, p.programme.code),
        ).add(r)
        if p.group_id:
            by_group.setdefault(
                p.group_id, ReportGroup(f"group-{p.group_id}", p.group.name, p.group_id)
            ).add(r)
        # The pairing's contacts are its helpers' shared duty; its help, each one's own.
        members = {h.pk: h.name for h in p.helpers.all()}
        mine, mine_money = given.get(p.pk, {}), given_money.get(p.pk, {})
        lone = p.group_id is None and len(members) == 1
        for hid, name in members.items():
            help_count, money_ = mine.get(hid, 0), dict(mine_money.get(hid, {}))
            if lone:  # entries from before a helper had to be named are the lone helper's
                help_count += mine.get(0, 0)
                for k, v in mine_money.get(0, {}).items():
                    money_[k] = money_.get(k, 0) + v
            by_helper.setdefault(hid, ReportGroup(f"helper-{hid}", name, hid)).add(
                r, help_count=help_count, money=money_
            )
        # Help given by someone no longer among its helpers is still theirs.
        for hid, n in mine.items():
            if hid and hid not in members:
                group_ = by_helper.setdefault(hid, ReportGroup(f"helper-{hid}", givers[hid], hid))
                group_.add_help(n, mine_money.get(hid, {}))
        totals.add(r)
    return MonthReport(
        first,
        last,
        rows,
        list(by_programme.values()),
        sorted(by_group.values(), key=lambda g: g.name),
        sorted(by_helper.values(), key=lambda g: (-g.gaps, g.name)),
        totals,
    )


# --- the help log ----------------------------------------------------------------------------


def help_entries_for(user) -> QuerySet[HelpEntry]:
    return HelpEntry.objects.filter(pairing__in=pairings_for(user))


def help_of(pairing: Pairing) -> QuerySet[HelpEntry]:
    return pairing.help_entries.select_related("helper", "created_by").order_by(
        "-occurred_on", "-id"
    )


# --- contracts with the cards and the household timeline -------------------------------------


def _card_rows(pairings: QuerySet) -> list[dict]:
    out = []
    seen = set()
    for p in (
        pairings.filter(end__isnull=True)
        .select_related("programme")
        .prefetch_related("helpers")
        .order_by("programme__sort", "start", "pk")
    ):
        for h in p.helpers.all():
            if h.disqualified_on is not None or (h.pk, p.programme_id) in seen:
                continue
            seen.add((h.pk, p.programme_id))
            out.append(
                {
                    "name": h.name,
                    "kind": str(HelperKind(h.kind).label),
                    "party": h.kind in (HelperKind.CADRE, HelperKind.PARTY),
                    "phone": h.phone,
                    "programme": p.programme.name,
                }
            )
    return out


def helpers_for_household(household) -> list[dict]:
    """The helpers actively paired with a household or any of its members, for its contact card:
    dicts with name, kind (helper kind label), phone (full: the card is given to the household),
    programme (name)."""
    return _card_rows(
        Pairing.objects.filter(Q(household=household) | Q(person__household=household))
    )


def helpers_for_person(person) -> list[dict]:
    """The helpers actively paired with one person (the 黄丝带 card of an elderly person living
    alone shows their paired party member): same dicts as `helpers_for_household`."""
    return _card_rows(Pairing.objects.filter(person=person))


def timeline_items(user, household) -> list[dict]:
    """Help given to a household, for its timeline: dicts with at (aware datetime), title, text,
    url, date_only; only what `user` may see."""
    entries = (
        HelpEntry.objects.filter(
            pairing__in=pairings_for(user).filter(
                Q(household=household) | Q(person__household=household)
            )
        )
        .select_related("helper", "pairing__programme")
        .order_by("-occurred_on", "-id")[:50]
    )
    out = []
    for e in entries:
        money = []
        if e.amount:
            money.append(gettext("资金 %(a)s 元") % {"a": e.amount})
        if e.goods:
            worth = gettext("（折价 %(v)s 元）") % {"v": e.goods_value} if e.goods_value else ""
            money.append(e.goods + worth)
        who = e.helper.name if e.helper else ""
        out.append(
            {
                "at": timezone.make_aware(dt.datetime.combine(e.occurred_on, dt.time(12, 0))),
                "title": f"{e.get_kind_display()} · {who}" if who else e.get_kind_display(),
                # 送去过冬棉被。；… read badly: the text's own full stop ends it.
                "text": gettext("；").join(
                    t.rstrip("。；;.") for t in [e.text, *money] if t.rstrip("。；;.")
                ),
                "url": f"/assistance/pairings/{e.pairing_id}/",
                "date_only": True,  # help is logged by day; 12:00 only places it in the day
            }
        )
    return out
