"""Reads of contact duties, scoped by `accounts.access`.

The monthly compliance report is set-based: whatever the number of holders it runs a fixed
number of queries (the holders, their links, their days, their visits), then adds up in Python.

What a holder owes in a month and what they did:

* links (communities, households, service targets) are counted on the month's reference day:
  its last day, today for the running month, or the holder's last day if their duty ended in
  the month;
* days in the community owed are the rule's days, pro rata when the duty started or ended
  within the month (rounded up); days done are the DutyDay rows dated in the month;
* visits owed are one per household or service target linked on the reference day (when the
  rule asks for visits); a link is visited when a visits.Visit with the holder among its
  visitors, or a 走访慰问 the holder logged as the helper of a pairing (assistance's help log),
  to that household (or the target's household), falls in the visit window: the month, or
  the last k months for a rule "every k months", and not after the end of the duty or of
  the link. Several visits to one household count once.

Months after the current one are refused; a holder whose duty starts after the month (or
ended before it) is not in that month's report.
"""

import calendar
import datetime as dt
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import get_scoped_or_404, scope_queryset, user_scope
from minqing.duties.models import DutyDay, DutyHolder, DutyLink, DutyRule, LinkKind
from minqing.grids.models import Node, subtree_q
from minqing.registry.models import household_short_name

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
FIRST_YEAR = 2000
ERR_MONTH = _("月份格式应为 YYYY-MM，例如 2026-03。")
ERR_MONTH_RANGE = _("月份超出范围（2000 年 1 月至今）。")
ERR_MONTH_FUTURE = _("该月份尚未到来，没有可统计的履职情况。")

QUOTA_KINDS = ("communities", "households", "targets", "days", "visits")


# --- one record by id, in the user's scope (404 otherwise): pages and API alike ---------------


def holder_for(user, pk: int) -> DutyHolder:
    """A holder the user may see (their own, or one in their subtree)."""
    return get_scoped_or_404(
        user,
        DutyHolder.objects.select_related("user", "rule", "node"),
        node_field="node",
        owner_fields=("user",),
        pk=pk,
    )


def link_for(user, pk: int) -> DutyLink:
    """A link of a holder the user may see."""
    return get_scoped_or_404(
        user,
        DutyLink.objects.select_related(
            "holder__user", "holder__rule", "holder__node", "community", "household", "person"
        ),
        node_field="holder__node",
        owner_fields=("holder__user",),
        pk=pk,
    )


def own_day_for(user, pk: int) -> DutyDay:
    """One of the user's own days in the community (nobody removes another's record)."""
    return get_scoped_or_404(
        user,
        DutyDay.objects.select_related("holder", "community").filter(holder__user=user),
        node_field="community",
        owner_fields=("holder__user",),
        pk=pk,
    )


QUOTA_LABELS = {
    "communities": "联系社区",
    "households": "联系困难户",
    "targets": "服务对象",
    "days": "驻社区天数",
    "visits": "走访",
}
# A gap as a page says it, in the page's language (gap_words, for ledgers, stays Chinese).
GAP_TEXT = {
    "communities": gettext_noop("联系社区差%(n)s"),
    "households": gettext_noop("联系困难户差%(n)s"),
    "targets": gettext_noop("服务对象差%(n)s"),
    "days": gettext_noop("驻社区天数差%(n)s天"),
    "visits": gettext_noop("走访差%(n)s"),
}


# ------------------------------------------------------------------ the month


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    today: dt.date

    @cached_property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @cached_property
    def end(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def days(self) -> int:
        return self.end.day

    @property
    def current(self) -> bool:
        """The running month: gaps may still be closed before it ends."""
        return self.start <= self.today <= self.end

    @cached_property
    def ref(self) -> dt.date:
        """The day links are counted on: the month's last day, or today for the running month."""
        return min(self.end, self.today)

    @property
    def code(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """The month in Chinese, as the exported ledger names it."""
        return f"{self.year}年{self.month}月"

    @property
    def display(self) -> str:
        """The month in the page's language (2026年11月, November 2026)."""
        return date_format(dt.date(self.year, self.month, 1), "YEAR_MONTH_FORMAT")

    def shift(self, months: int) -> tuple[int, int]:
        n = self.year * 12 + self.month - 1 + months
        return n // 12, n % 12 + 1

    def window_start(self, every: int) -> dt.date:
        """First day of the visit window of a rule 'every k months' ending with this month."""
        y, m = self.shift(-(max(every, 1) - 1))
        return dt.date(y, m, 1)

    @property
    def previous(self) -> str:
        y, m = self.shift(-1)
        return f"{y:04d}-{m:02d}" if y >= FIRST_YEAR else ""

    @property
    def next(self) -> str:
        y, m = self.shift(1)
        return f"{y:04d}-{m:02d}" if dt.date(y, m, 1) <= self.today else ""


def month_of(year: int, month: int, *, today: dt.date | None = None) -> Month:
    """A month that may be reported on; ValidationError for a bad or future month."""
    today = today or timezone.localdate()
    if not (isinstance(year, int) and isinstance(month, int)) or not 1 <= month <= 12:
        raise ValidationError({"month": ERR_MONTH})
    if year < FIRST_YEAR or year > 9999:
        raise ValidationError({"month": ERR_MONTH_RANGE})
    m = Month(year, month, today)
    if m.start > today:
        raise ValidationError({"month": ERR_MONTH_FUTURE})
    return m


def parse_month(text: str | None, *, today: dt.date | None = None) -> Month:
    """'YYYY-MM' (empty: the current month) → Month; ValidationError with a clear message."""
    today = today or timezone.localdate()
    text = (text or "").strip()
    if not text:
        return Month(today.year, today.month, today)
    match = MONTH_RE.match(text[:10])
    if match is None:
        raise ValidationError({"month": ERR_MONTH})
    return month_of(int(match[1]), int(match[2]), today=today)


# ------------------------------------------------------------------ report lines


def _zero() -> dict:
    return dict.fromkeys(QUOTA_KINDS, 0)


@dataclass
class Line:
    """One holder's month: what they owed and what they did."""

    holder: DutyHolder
    owed: dict = field(default_factory=_zero)
    done: dict = field(default_factory=_zero)
    ref: dt.date | None = None
    links: list = field(default_factory=list)  # LinkState for the detail pages

    @property
    def gaps(self) -> dict:
        return {k: max(0, self.owed[k] - self.done[k]) for k in QUOTA_KINDS}

    @property
    def ok(self) -> bool:
        return not any(self.gaps.values())

    @property
    def gap_words(self) -> str:
        return "，".join(
            f"{QUOTA_LABELS[k]}差{n}" + ("天" if k == "days" else "")
            for k, n in self.gaps.items()
            if n
        )

    @property
    def gap_text(self) -> str:
        """gap_words in the page's language."""
        return gettext("、").join(
            gettext(GAP_TEXT[k]) % {"n": n} for k, n in self.gaps.items() if n
        )

    def cells(self) -> list[dict]:
        """owed/done/gap per quota kind, in report column order (templates loop over these)."""
        return [
            {"kind": k, "owed": self.owed[k], "done": self.done[k], "gap": self.gaps[k]}
            for k in QUOTA_KINDS
        ]


@dataclass
class LinkState:
    """A linked community, household or person, with its visit in the window (if any)."""

    pk: int
    kind: str
    community_id: int | None
    household_id: int | None  # the household visited: the linked one or the target's own
    person_id: int | None
    started_on: dt.date
    ended_on: dt.date | None
    last_visit: dt.datetime | None = None
    label: str = ""
    detail: str = ""

    @property
    def visited(self) -> bool:
        return self.last_visit is not None


@dataclass
class UnitTotal:
    """A unit's (or the whole report's) month: sums of what its holders owed and did.

    Gaps are the holders' shortfalls added up: one holder's surplus never hides another's gap.
    `met` is what counts against the quotas (each holder's done, up to what they owed), so a
    subtotal reads met/owed with owed − met = the gap: "2/3", never "4/3" with a gap because
    two holders without a quota did one day each. `done` is everything done.
    """

    unit: str
    holders: int = 0
    holders_ok: int = 0
    owed: dict = field(default_factory=_zero)
    done: dict = field(default_factory=_zero)
    met: dict = field(default_factory=_zero)
    gaps: dict = field(default_factory=_zero)

    def add(self, line: Line) -> None:
        self.holders += 1
        self.holders_ok += line.ok
        gaps = line.gaps
        for k in QUOTA_KINDS:
            self.owed[k] += line.owed[k]
            self.done[k] += line.done[k]
            self.met[k] += line.owed[k] - gaps[k]
            self.gaps[k] += gaps[k]

    @property
    def ok(self) -> bool:
        return not any(self.gaps.values())

    @property
    def holders_gap(self) -> int:
        return self.holders - self.holders_ok

    @property
    def rate(self) -> int | None:
        """Share of holders with no gap, in percent; None without holders (nobody to rate)."""
        return round(100 * self.holders_ok / self.holders) if self.holders else None

    @property
    def rate_shown(self) -> str:
        """ "87%", or "—" where there are no holders (0 of 0 is not 100% met)."""
        return "—" if self.rate is None else f"{self.rate}%"

    def cells(self) -> list[dict]:
        """Per quota: owed, done as shown (met against the quotas where any is owed), gap."""
        return [
            {
                "kind": k,
                "owed": self.owed[k],
                "done": self.met[k] if self.owed[k] else self.done[k],
                "gap": self.gaps[k],
            }
            for k in QUOTA_KINDS
        ]


@dataclass
class Report:
    month: Month
    lines: list[Line]
    units: list[UnitTotal]
    total: UnitTotal
    node: Node | None = None

    def by_unit(self) -> list[tuple[UnitTotal, list[Line]]]:
        grouped = defaultdict(list)
        for line in self.lines:
            grouped[line.holder.unit].append(line)
        return [(u, grouped[u.unit]) for u in self.units]


# ------------------------------------------------------------------ the computation


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _active_in(month: Month) -> Q:
    return Q(active_from__lte=month.ref) & (
        Q(active_to__isnull=True) | Q(active_to__gte=month.start)
    )


HOLDER_COLUMNS = (
    "pk",
    "user_id",
    "rule_id",
    "unit",
    "position",
    "node_id",
    "active_from",
    "active_to",
    "user__username",
    "user__full_name",
)


def _lines(holders: QuerySet, month: Month, *, with_links: bool = False) -> list[Line]:
    """The month of every holder in `holders`: seven queries whatever their number."""
    holders = holders.filter(_active_in(month))
    rows = list(
        holders.select_related("user")
        .only(*HOLDER_COLUMNS)
        .order_by("unit", "user__full_name", "pk")
    )
    if not rows:
        return []
    # Rules and nodes are few and shared: fetched once, not joined into thousands of rows.
    rules = {r.pk: r for r in DutyRule.objects.filter(pk__in={h.rule_id for h in rows})}
    nodes = {
        n.pk: n
        for n in Node.objects.filter(pk__in={h.node_id for h in rows}).only(
            "pk", "code", "name", "level", "path"
        )
    }
    ids = holders.values("pk")
    by_pk: dict[int, Line] = {}
    for h in rows:
        h.rule, h.node = rules[h.rule_id], nodes[h.node_id]
        ref = min(month.ref, h.active_to) if h.active_to else month.ref
        line = Line(holder=h, ref=ref)
        rule = h.rule
        line.owed["communities"] = rule.communities
        line.owed["households"] = rule.households
        line.owed["targets"] = rule.targets
        if rule.days_per_month:
            first = max(month.start, h.active_from)
            last = min(month.end, h.active_to) if h.active_to else month.end
            share = ((last - first).days + 1) / month.days
            line.owed["days"] = min(rule.days_per_month, math.ceil(rule.days_per_month * share))
        by_pk[h.pk] = line

    # Links in force on some day of the month; each holder's reference day decides below.
    links = DutyLink.objects.filter(holder__in=ids, started_on__lte=month.ref).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=month.start)
    )
    link_rows = links.values_list(
        "pk",
        "holder_id",
        "kind",
        "community_id",
        "household_id",
        "person_id",
        "person__household_id",
        "started_on",
        "ended_on",
        *(
            (
                "community__name",
                "household__head_name",
                "household__address",
                "person__name",
                "person__household__address",
            )
            if with_links
            else ()
        ),
    ).order_by("holder_id", "kind", "started_on", "pk")
    states: dict[int, list[LinkState]] = defaultdict(list)
    for row in link_rows:
        pk, holder_id, kind, community_id, household_id, person_id, p_household, start, end = row[
            :9
        ]
        line = by_pk.get(holder_id)
        if line is None or start > line.ref or (end is not None and end < line.ref):
            continue
        state = LinkState(
            pk=pk,
            kind=kind,
            community_id=community_id,
            household_id=household_id if kind == LinkKind.HOUSEHOLD else p_household,
            person_id=person_id,
            started_on=start,
            ended_on=end,
        )
        if with_links:
            c_name, head, address, p_name, p_address = row[9:]
            if kind == LinkKind.COMMUNITY:
                state.label = c_name
            elif kind == LinkKind.HOUSEHOLD:
                state.label, state.detail = household_short_name(head), address
            else:
                state.label, state.detail = p_name, p_address or gettext("（无家庭）")
        states[holder_id].append(state)

    # Days in the month.
    days = dict(
        DutyDay.objects.filter(holder__in=ids, date__gte=month.start, date__lte=month.end)
        .values("holder_id")
        .annotate(n=Count("pk"))
        .values_list("holder_id", "n")
    )

    # Visits: every visit of a holder to a linked household in the widest window any rule asks
    # (a few per link), and the 走访慰问 they logged in a pairing's help log (enter once).
    widest = max((line.holder.rule.visit_every_months for line in by_pk.values()), default=1)
    window_start = month.window_start(widest)
    seen: dict[tuple[int, int], list[dt.datetime]] = defaultdict(list)
    if any(line.holder.rule.visit_every_months for line in by_pk.values()):
        for key, at in _visits_made(holders, links, window_start, month.end):
            seen[key].append(at)

    window: dict[int, dt.datetime] = {}
    for holder_id, line in by_pk.items():
        h = line.holder
        every = h.rule.visit_every_months
        since = window.get(every) or window.setdefault(every, _aware(month.window_start(every)))
        line.done["days"] = days.get(holder_id, 0)
        for state in states.get(holder_id, ()):
            if state.kind == LinkKind.COMMUNITY:
                line.done["communities"] += 1
                continue
            line.done["households" if state.kind == LinkKind.HOUSEHOLD else "targets"] += 1
            if every:
                line.owed["visits"] += 1
                # Up to the end of the duty and of the link: a visit after either is not the
                # duty's (a duty ended on the 15th was credited with visits of the 23rd, QA).
                last_day = min(d for d in (month.end, h.active_to, state.ended_on) if d)
                until = _aware(last_day + dt.timedelta(days=1))
                made = [
                    at
                    for at in seen.get((h.user_id, state.household_id), ())
                    if since <= at < until
                ]
                if made:
                    state.last_visit = max(made)
                    line.done["visits"] += 1
        if with_links:
            line.links = states.get(holder_id, [])
    return list(by_pk.values())


def _visits_made(holders: QuerySet, links: QuerySet, start: dt.date, end: dt.date):
    """((user id, household id), moment) of each visit the holders' users made to a linked
    household from `start` to `end`: a visits.Visit they went on, or a 走访慰问 they logged as
    the helper of a pairing with that household (the start of its day). Two queries."""
    from minqing.assistance.models import HelpEntry, HelpKind
    from minqing.visits.models import Visit

    users = holders.values("user_id")
    households = links.filter(kind=LinkKind.HOUSEHOLD).values("household_id")
    targets = links.filter(kind=LinkKind.TARGET).values("person__household_id")
    went = Visit.visitors.through.objects.filter(
        user_id__in=users,
        visit__visited_at__gte=_aware(start),
        visit__visited_at__lt=_aware(end + dt.timedelta(days=1)),
    ).filter(Q(visit__household_id__in=households) | Q(visit__household_id__in=targets))
    for user_id, household_id, at in went.values_list(
        "user_id", "visit__household_id", "visit__visited_at"
    ):
        yield (user_id, household_id), at
    logged = HelpEntry.objects.filter(
        kind=HelpKind.VISIT,
        helper__user_id__in=users,
        occurred_on__gte=start,
        occurred_on__lte=end,
    ).values_list(
        "helper__user_id", "pairing__household_id", "pairing__person__household_id", "occurred_on"
    )
    for user_id, household_id, person_household_id, on in logged:
        household_id = household_id or person_household_id
        if household_id is not None:
            yield (user_id, household_id), _aware(on)


def _report(lines: list[Line], month: Month, node: Node | None = None) -> Report:
    units: dict[str, UnitTotal] = {}
    total = UnitTotal(unit="合计")
    for line in lines:
        units.setdefault(line.holder.unit, UnitTotal(unit=line.holder.unit)).add(line)
        total.add(line)
    return Report(month=month, lines=lines, units=list(units.values()), total=total, node=node)


def narrow(report: Report, *, unit: str = "", gaps_only: bool = False) -> Report:
    """The report of one unit, or of the holders with a gap only (totals recomputed)."""
    if not unit and not gaps_only:
        return report
    lines = [
        line
        for line in report.lines
        if (not unit or line.holder.unit == unit) and (not gaps_only or not line.ok)
    ]
    return _report(lines, report.month, report.node)


# ------------------------------------------------------------------ public reads


def holders_for(user) -> QuerySet[DutyHolder]:
    """Holders the user may see: their own, and those whose node is in their subtree."""
    return scope_queryset(user, DutyHolder.objects.all(), node_field="node", owner_fields=("user",))


def is_office(user) -> bool:
    """Whether the user sees anyone's duties besides their own (an office, a leader)."""
    scope = user_scope(user)
    return bool(scope.everything or scope.subtree_paths or scope.exact_node_ids)


def compliance(user, year: int, month: int, node: Node | None = None) -> Report:
    """The monthly compliance report of every holder the user may see (under `node` if given):
    per person and per unit, what each owed and did. A fixed number of queries."""
    m = month_of(year, month)
    holders = holders_for(user)
    if node is not None:
        holders = holders.filter(node__in=Node.objects.filter(subtree_q(node.path)).values("pk"))
    return _report(_lines(holders, m), m, node)


def my_lines(user, month: Month, *, with_links: bool = True) -> list[Line]:
    """The user's own duties in a month (with links and their visits), [] for a non-holder."""
    if not getattr(user, "is_authenticated", False):
        return []
    return _lines(DutyHolder.objects.filter(user=user), month, with_links=with_links)


def holder_line(holder: DutyHolder, month: Month) -> Line | None:
    """One holder's month with their links (None when the duty does not cover the month)."""
    lines = _lines(DutyHolder.objects.filter(pk=holder.pk), month, with_links=True)
    return lines[0] if lines else None


def holder_history(holder: DutyHolder, *, months: int = 12, today: dt.date | None = None):
    """The holder's last `months` months (newest first) within their duty: (Month, Line)."""
    today = today or timezone.localdate()
    current = Month(today.year, today.month, today)
    out = []
    for back in range(months):
        y, m = current.shift(-back)
        month = Month(y, m, today)
        if month.end < holder.active_from or y < FIRST_YEAR:
            break
        if holder.active_to and month.start > holder.active_to:
            continue
        lines = _lines(DutyHolder.objects.filter(pk=holder.pk), month)
        if lines:
            out.append((month, lines[0]))
    return out


def recording_holder(user, *, today: dt.date | None = None) -> DutyHolder | None:
    """The duty whose days the user records on their page: the one in force today, else one
    that ended within the days a day may still be entered (a leaver catches up their last
    days; the service files each day under the duty in force on its date)."""
    from minqing.duties.services import BACKFILL_DAYS

    today = today or timezone.localdate()
    holder = current_holder(user, today=today)
    if holder is not None or not getattr(user, "is_authenticated", False):
        return holder
    return (
        DutyHolder.objects.filter(
            user=user, active_to__gte=today - dt.timedelta(days=BACKFILL_DAYS), active_to__lt=today
        )
        .select_related("rule", "node")
        .order_by("-active_to", "-pk")
        .first()
    )


def days_of(holder: DutyHolder, month: Month) -> QuerySet[DutyDay]:
    return DutyDay.objects.filter(
        holder=holder, date__gte=month.start, date__lte=month.end
    ).select_related("community")


def current_holder(user, *, today: dt.date | None = None) -> DutyHolder | None:
    """The user's duty in force today (the latest if several), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    today = today or timezone.localdate()
    return (
        DutyHolder.objects.filter(user=user, active_from__lte=today)
        .filter(Q(active_to__isnull=True) | Q(active_to__gte=today))
        .select_related("rule", "node")
        .order_by("-active_from", "-pk")
        .first()
    )


def day_communities(holder: DutyHolder, *, day: dt.date | None = None) -> QuerySet[Node]:
    """Communities a holder may record a day in: their linked communities in force on `day`
    and their own node when it is a community (a secretary's own community)."""
    from minqing.grids.models import Level

    day = day or timezone.localdate()
    linked = DutyLink.objects.filter(holder=holder, kind=LinkKind.COMMUNITY, started_on__lte=day)
    linked = linked.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=day))
    q = Q(pk__in=linked.values("community_id"))
    if holder.node.level == Level.COMMUNITY:
        q |= Q(pk=holder.node_id)
    return Node.objects.filter(q, level=Level.COMMUNITY).order_by("path")


def linked_household_ids(user):
    """Households `user` is linked to by a contact duty (联系户): they may visit them even
    outside their place in the grid tree. A queryset of household ids."""
    from minqing.registry.models import Household

    if not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return Household.objects.none().values("pk")
    today = timezone.localdate()
    links = DutyLink.objects.filter(
        holder__user=user,
        holder__active_from__lte=today,
        started_on__lte=today,
    ).filter(
        Q(holder__active_to__isnull=True) | Q(holder__active_to__gte=today),
        Q(ended_on__isnull=True) | Q(ended_on__gte=today),
    )
    return Household.objects.filter(
        Q(pk__in=links.filter(kind=LinkKind.HOUSEHOLD).values("household_id"))
        | Q(pk__in=links.filter(kind=LinkKind.TARGET).values("person__household_id"))
    ).values("pk")


@dataclass(frozen=True)
class LinkDue:
    """When a contact duty next asks its holder to visit one linked household."""

    household_id: int
    due: dt.date
    every: int  # the rule's "a visit every k months"
    last_visit: dt.datetime | None  # the holder's own last visit there


def _month_end(year: int, month: int, shift: int) -> dt.date:
    n = year * 12 + month - 1 + shift
    y, m = n // 12, n % 12 + 1
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def link_visit_dues(user, *, today: dt.date | None = None) -> list[LinkDue]:
    """The user's own next visit to each household their duties link them to today (联系户,
    and a service target's household), for rules that ask for visits.

    The compliance report counts a link visited in a month when the holder went there within
    the rule's window of k months ending with that month. So after the holder's last visit,
    in month L, the next one is due by the end of month L + k; never visited, by the end of
    the k-th month from the link's start (its own month counting as the first). Someone else's
    visit — the grid worker's — does not do the holder's duty.
    """
    today = today or timezone.localdate()
    links = (
        DutyLink.objects.filter(
            holder__user=user,
            holder__active_from__lte=today,
            started_on__lte=today,
            kind__in=(LinkKind.HOUSEHOLD, LinkKind.TARGET),
            holder__rule__visit_every_months__gt=0,
        )
        .filter(
            Q(holder__active_to__isnull=True) | Q(holder__active_to__gte=today),
            Q(ended_on__isnull=True) | Q(ended_on__gte=today),
        )
        .values_list(
            "kind",
            "household_id",
            "person__household_id",
            "started_on",
            "holder__active_from",
            "holder__rule__visit_every_months",
        )
    )
    # Per household the most demanding link: the shortest rhythm, then the earliest start.
    wanted: dict[int, tuple[int, dt.date]] = {}
    for kind, household_id, target_household, started, active_from, every in links:
        hh = household_id if kind == LinkKind.HOUSEHOLD else target_household
        if hh is None:
            continue  # a service target with no household on file
        start = max(started, active_from)
        wanted[hh] = min(wanted.get(hh, (every, start)), (every, start))
    if not wanted:
        return []
    from minqing.visits.models import Visit

    last = dict(
        Visit.visitors.through.objects.filter(user=user, visit__household_id__in=list(wanted))
        .values("visit__household_id")
        .annotate(at=Max("visit__visited_at"))
        .values_list("visit__household_id", "at")
    )
    from minqing.visits.services import help_visits_last

    for hh, at in help_visits_last(list(wanted), by=user).items():
        if hh not in last or at > last[hh]:
            last[hh] = at
    out = []
    for hh, (every, start) in wanted.items():
        at = last.get(hh)
        if at is not None and timezone.localtime(at).date() >= start:
            seen = timezone.localtime(at).date()
            due = _month_end(seen.year, seen.month, every)
        else:
            due = _month_end(start.year, start.month, every - 1)
        out.append(LinkDue(household_id=hh, due=due, every=every, last_visit=at))
    return out
