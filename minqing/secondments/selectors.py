"""Reads for team dispatch, always for the asking user (accounts.access decides).

A team is seen by whoever sees the node of its receiving unit (and everyone above), by whoever
created it, and by its own members who have a user account. The term report counts what the
team recorded between two dates.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import scope_queryset
from minqing.secondments.models import (
    Activity,
    ActivityKind,
    Attendance,
    AttendanceStatus,
    Secondment,
    SecondmentMember,
)

# A member's turn "ends soon" when it ends in the term or this many days after it.
TURN_ENDING_DAYS = 60
MAX_REPORT_DAYS = 366
ERR_TERM_ORDER = _("结束日期不能早于开始日期。")
ERR_TERM_SPAN = _("统计区间不能超过一年。")
ERR_TERM_FORMAT = _("日期格式应为 YYYY-MM-DD。")
ERR_TERM_UNKNOWN = _("没有这个统计期，请从列表中选择。")


def secondments_for(user) -> QuerySet[Secondment]:
    if not getattr(user, "is_authenticated", False):
        return Secondment.objects.none()
    own_turns = SecondmentMember.objects.filter(user=user).values("secondment_id")
    return scope_queryset(
        user,
        Secondment.objects.select_related("node"),
        node_field="node",
        owner_fields=("created_by",),
        also=Q(pk__in=own_turns),
    )


def secondment_for(user, pk) -> Secondment:
    """One team the user may see; 404 for 'missing' and 'not yours' alike."""
    if not isinstance(pk, int) or not 0 < pk < 2**63:
        raise Http404
    secondment = secondments_for(user).filter(pk=pk).first()
    if secondment is None:
        raise Http404
    return secondment


def secondment_list(user, *, q: str = "", kind: str = "", state: str = "", today=None):
    """The list page: with the number of members on turn today."""
    today = today or timezone.localdate()
    qs = secondments_for(user)
    q = q.strip()[:50]
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(sending_name__icontains=q) | Q(receiving_name__icontains=q)
        )
    if kind:
        qs = qs.filter(kind=kind)
    if state == "active":
        qs = qs.filter(cycle_start__lte=today, cycle_end__gte=today)
    elif state == "ended":
        qs = qs.filter(cycle_end__lt=today)
    elif state == "planned":
        qs = qs.filter(cycle_start__gt=today)
    return qs.annotate(
        on_turn=Count(
            "members",
            filter=Q(members__turn_start__lte=today, members__turn_end__gte=today),
            distinct=True,
        )
    ).order_by("-cycle_start", "id")


def members_of(secondment: Secondment) -> list[SecondmentMember]:
    return list(secondment.members.select_related("user").order_by("turn_start", "role", "id"))


def members_on(secondment: Secondment, day: dt.date) -> QuerySet[SecondmentMember]:
    return secondment.members.filter(turn_start__lte=day, turn_end__gte=day).order_by("role", "id")


@dataclass
class SheetRow:
    member: SecondmentMember
    status: str
    note: str
    recorded: bool


def attendance_sheet(secondment: Secondment, day: dt.date) -> list[SheetRow]:
    """One row per member on turn that day, with what was recorded (出勤 when nothing yet)."""
    members = list(members_on(secondment, day))
    rows = {
        a.member_id: a
        for a in Attendance.objects.filter(member__in=[m.pk for m in members], date=day)
    }
    out = []
    for m in members:
        a = rows.get(m.pk)
        out.append(
            SheetRow(
                member=m,
                status=a.status if a else AttendanceStatus.PRESENT,
                note=a.note if a else "",
                recorded=a is not None,
            )
        )
    return out


def recent_days(secondment: Secondment, limit: int = 10) -> list[tuple[dt.date, dict]]:
    """The last days with attendance recorded: (date, {status: count})."""
    days = list(
        Attendance.objects.filter(member__secondment=secondment)
        .values_list("date", flat=True)
        .distinct()
        .order_by("-date")[:limit]
    )
    counts: dict = defaultdict(Counter)
    for day, status in Attendance.objects.filter(
        member__secondment=secondment, date__in=days
    ).values_list("date", "status"):
        counts[day][status] += 1
    return [(d, dict(counts[d])) for d in days]


def activities_of(secondment: Secondment) -> QuerySet[Activity]:
    return secondment.activities.prefetch_related("members").order_by("-date", "-id")


# --- terms -----------------------------------------------------------------------------------


# Labels in the UI's language; exports and audit entries take their Chinese source (core.i18n).
TERM_SPRING = _("{year}年春季学期")
TERM_AUTUMN = _("{year}年秋季学期")
HALF_FIRST = _("{year}年上半年")
HALF_SECOND = _("{year}年下半年")
DATE_RANGE = _("{start} 至 {end}")


def _range_label(start: dt.date, end: dt.date):
    return format_lazy(DATE_RANGE, start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}")


@dataclass(frozen=True)
class Term:
    """A reporting period, every day in exactly one.

    A school team's is the school term (spring 1 Feb – 31 Jul, autumn 1 Aug – 31 Jan); a medical
    or other team's the half-year (1 Jan – 30 Jun, 1 Jul – 31 Dec), which is how a hospital or
    an office reports."""

    key: str  # "2025-spring" / "2025-autumn"; "2025-h1" / "2025-h2"
    label: str  # lazy: 2025年秋季学期 / autumn term 2025
    start: dt.date
    end: dt.date


def term_of(day: dt.date, *, teaching: bool = True) -> Term:
    if not teaching:
        y = day.year
        if day.month <= 6:
            return Term(
                f"{y}-h1", format_lazy(HALF_FIRST, year=y), dt.date(y, 1, 1), dt.date(y, 6, 30)
            )
        return Term(
            f"{y}-h2", format_lazy(HALF_SECOND, year=y), dt.date(y, 7, 1), dt.date(y, 12, 31)
        )
    if 2 <= day.month <= 7:
        y = day.year
        return Term(
            f"{y}-spring", format_lazy(TERM_SPRING, year=y), dt.date(y, 2, 1), dt.date(y, 7, 31)
        )
    y = day.year if day.month >= 8 else day.year - 1
    return Term(
        f"{y}-autumn", format_lazy(TERM_AUTUMN, year=y), dt.date(y, 8, 1), dt.date(y + 1, 1, 31)
    )


def terms_of(secondment: Secondment) -> list[Term]:
    terms, day = [], secondment.cycle_start
    while day <= secondment.cycle_end:
        t = term_of(day, teaching=secondment.is_teaching)
        terms.append(t)
        day = t.end + dt.timedelta(days=1)
    return terms


def default_term(secondment: Secondment, today: dt.date | None = None) -> Term:
    today = today or timezone.localdate()
    day = min(max(today, secondment.cycle_start), secondment.cycle_end)
    return term_of(day, teaching=secondment.is_teaching)


def term_by_key(secondment: Secondment, key: str) -> Term | None:
    return next((t for t in terms_of(secondment) if t.key == key), None)


def report_dates(secondment: Secondment, *, term: str = "", start: str = "", end: str = ""):
    """(start, end, label) from ?term= or ?start=&end= (YYYY-MM-DD), else the current term.

    Raises ValueError with a message (in the UI language) on bad input."""
    if start or end:
        try:
            a = dt.date.fromisoformat(start.strip()[:10])
            b = dt.date.fromisoformat(end.strip()[:10])
        except ValueError:
            raise ValueError(ERR_TERM_FORMAT) from None
        if b < a:
            raise ValueError(ERR_TERM_ORDER)
        if (b - a).days > MAX_REPORT_DAYS:
            raise ValueError(ERR_TERM_SPAN)
        return a, b, _range_label(a, b)
    if term:
        t = term_by_key(secondment, term.strip()[:20])
        if t is None:
            raise ValueError(ERR_TERM_UNKNOWN)
    else:
        t = default_term(secondment)
    return t.start, t.end, t.label


# --- the term report -------------------------------------------------------------------------


def rate(attended: int, days: int) -> float | None:
    """出勤率: (出勤 + 迟到) / days recorded; None when nothing was recorded."""
    return attended / days if days else None


@dataclass
class MemberLine:
    member: SecondmentMember
    days: int = 0
    present: int = 0
    late: int = 0
    leave: int = 0
    absent: int = 0
    activities: int = 0

    @property
    def rate(self) -> float | None:
        return rate(self.present + self.late, self.days)


@dataclass
class KindLine:
    kind: str
    label: str
    count: int
    participants: int


@dataclass
class TermReport:
    secondment: Secondment
    start: dt.date
    end: dt.date
    label: str
    lines: list[MemberLine]
    kinds: list[KindLine]
    activities: list[Activity]
    ending_soon: list[SecondmentMember]
    totals: MemberLine = field(default=None)

    @property
    def activity_count(self) -> int:
        return sum(k.count for k in self.kinds)

    @property
    def participants(self) -> int:
        return sum(k.participants for k in self.kinds)


def term_report(secondment: Secondment, *, start: dt.date, end: dt.date, label: str = ""):
    """Attendance per member, activities by kind, turns ending soon, between start and end."""
    members = list(
        secondment.members.filter(turn_start__lte=end, turn_end__gte=start).order_by(
            "turn_start", "role", "id"
        )
    )
    lines = {m.pk: MemberLine(member=m) for m in members}
    for member_id, status, n in (
        # Only the days of each member's turn: a turn shortened as someone left early kept the
        # absences marked after their last day, and their rate read 0%.
        Attendance.objects.filter(member__secondment=secondment, date__range=(start, end))
        .filter(date__gte=F("member__turn_start"), date__lte=F("member__turn_end"))
        .values("member_id", "status")
        .annotate(n=Count("id"))
        .values_list("member_id", "status", "n")
    ):
        line = lines.get(member_id)
        if line is None:  # a turn moved out of the period after its days were recorded
            m = SecondmentMember.objects.get(pk=member_id)
            line = lines[member_id] = MemberLine(member=m)
        setattr(line, status, getattr(line, status) + n)
        line.days += n
    activities = list(
        secondment.activities.filter(date__range=(start, end))
        .prefetch_related("members")
        .order_by("date", "id")
    )
    for a in activities:
        for m in a.members.all():
            if m.pk in lines:
                lines[m.pk].activities += 1
    by_kind = {
        row["kind"]: row
        for row in secondment.activities.filter(date__range=(start, end))
        .values("kind")
        .annotate(n=Count("id"), p=Sum("participants"))
    }
    kinds = [
        KindLine(
            kind=k,
            label=label_,  # lazy: the page reads it in its language, the ledger in Chinese
            count=by_kind.get(k, {}).get("n", 0),
            participants=by_kind.get(k, {}).get("p") or 0,
        )
        for k, label_ in ActivityKind.choices
    ]
    totals = MemberLine(member=None)
    for line in lines.values():
        for f in ("days", "present", "late", "leave", "absent"):
            setattr(totals, f, getattr(totals, f) + getattr(line, f))
    totals.activities = len(activities)
    ending_soon = list(
        secondment.members.filter(
            turn_end__gte=start, turn_end__lte=end + dt.timedelta(days=TURN_ENDING_DAYS)
        ).order_by("turn_end", "id")
    )
    return TermReport(
        secondment=secondment,
        start=start,
        end=end,
        label=label or _range_label(start, end),
        lines=list(lines.values()),
        kinds=kinds,
        activities=activities,
        ending_soon=ending_soon,
        totals=totals,
    )
