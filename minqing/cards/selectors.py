"""What goes on a card: the household's team, grid worker and helpers; never residents' numbers.

A card is handed to the household (or hung at an elderly person's door), so the only resident
data on it is the household's address; everything else is the people who serve it: the block's
service team (一块区，一组团: its office phone, the first and second responsible persons with
their mobiles, the members), the grid worker, and the helpers paired with the household
(assistance.selectors.helpers_for_household / helpers_for_person, whose phones are printed in
full because the card exists to be called from).
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import get_scoped_or_404, scope_queryset
from minqing.accounts.links import linked_households_q
from minqing.accounts.models import Responsibility, Role, RoleAssignment, ServiceTeam, TeamMember
from minqing.grids.models import Node
from minqing.registry.models import Household, Person

YELLOW_RIBBON_TAG = "独居"
ELDERLY_AGE = 60  # 老年人权益保障法: 60 周岁以上
MAX_BATCH = 1000  # cards in one batch print of a grid
ERR_NOT_ALONE = _("黄丝带卡只为独居老人制作：{name}没有“独居”类别标签，请先在人员档案中核实。")
ERR_TOO_YOUNG = _("黄丝带卡只为{age}周岁以上的独居老人制作：{name}现年{years}岁。")


@dataclass
class Contact:
    name: str
    role: str = ""
    phone: str = ""
    extra: str = ""
    party: bool = False  # a party member (党员干部, 在职党员), whatever the label's language


@dataclass
class TeamContacts:
    """The service team of a grid, resolved once for all the households of a batch."""

    team: ServiceTeam | None
    first: TeamMember | None = None
    second: TeamMember | None = None
    members: list[TeamMember] = field(default_factory=list)
    grid_workers: list[Contact] = field(default_factory=list)


def household_for_card(user, pk: int) -> Household:
    """A household the user may see (their part of the tree, or one they are linked to)."""
    return get_scoped_or_404(
        user,
        Household.objects.select_related("grid", "building"),
        also=linked_households_q(user),
        pk=pk,
    )


def person_for_card(user, pk: int) -> Person:
    return get_scoped_or_404(
        user,
        Person.objects.select_related("grid", "household", "household__grid"),
        also=linked_households_q(user, "household"),
        pk=pk,
    )


def team_of(grid: Node) -> ServiceTeam | None:
    """The team of the grid, or of its nearest ancestor that has one (a team per 片区)."""
    codes = grid.ancestor_codes()  # the grid's own code last
    teams = {
        t.node.code: t
        for t in ServiceTeam.objects.filter(node__code__in=codes).select_related("node")
    }
    for code in reversed(codes):
        if code in teams:
            return teams[code]
    return None


def team_contacts(grid: Node) -> TeamContacts:
    team = team_of(grid)
    members = (
        sorted(team.members.select_related("user"), key=lambda m: m.sort_key()) if team else []
    )
    by_resp = {m.responsibility: m for m in members}
    workers = [
        Contact(name=str(a.user), role="网格员", phone=a.user.mobile)
        for a in RoleAssignment.objects.filter(
            role=Role.GRID_WORKER, node=grid, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    ]
    if not workers:
        # No account at this grid: the team member whose duty is the grid (网格员/网格长).
        # (Not one whose account was switched off: they no longer work here — QA found the
        # deactivated worker printed on every card through this fallback.)
        workers = [
            Contact(name=m.name, role="网格员", phone=m.mobile)
            for m in members
            if ("网格员" in m.duty or "网格长" in m.duty) and (m.user is None or m.user.is_active)
        ]
    return TeamContacts(
        team=team,
        first=by_resp.get(Responsibility.FIRST),
        second=by_resp.get(Responsibility.SECOND),
        members=members,
        grid_workers=workers,
    )


def _helpers(rows) -> list[Contact]:
    """The assistance app's dicts (name, kind, phone, programme) as contacts; tolerant of
    missing keys so a card never fails on a helper row."""
    out = []
    for row in rows or []:
        if not isinstance(row, dict) or not str(row.get("name") or "").strip():
            continue
        out.append(
            Contact(
                name=str(row.get("name")).strip(),
                role=str(row.get("kind") or "帮扶人"),
                phone=str(row.get("phone") or ""),
                extra=str(row.get("programme") or ""),
                party=bool(row.get("party")),
            )
        )
    return out


def household_helpers(household: Household) -> list[Contact]:
    from minqing.assistance import selectors as assistance

    return _helpers(assistance.helpers_for_household(household))


def person_helpers(person: Person) -> list[Contact]:
    """The person's helpers, the paired party members (党员) first."""
    from minqing.assistance import selectors as assistance

    helpers = _helpers(assistance.helpers_for_person(person))
    return sorted(helpers, key=lambda c: 0 if c.party or "党员" in c.extra else 1)


def yellow_ribbon_refusal(person: Person) -> str:
    """Why this person gets no 黄丝带 card ("" when they do): the card marks the door of an
    elderly person living alone, so it needs the 独居 tag and, when the birth date is known,
    an age of 60 or more."""
    if not person.tags.filter(name=YELLOW_RIBBON_TAG).exists():
        return ERR_NOT_ALONE.format(name=person.name)
    years = person.age()
    if years is not None and years < ELDERLY_AGE:
        return ERR_TOO_YOUNG.format(age=ELDERLY_AGE, name=person.name, years=years)
    return ""


def grid_for_batch(user, code: str) -> Node | None:
    from minqing.accounts.access import visible_nodes
    from minqing.grids.models import Level

    return visible_nodes(user).filter(code=code[:20], level=Level.GRID).first()


def grid_households(user, grid: Node) -> QuerySet[Household]:
    return scope_queryset(
        user, Household.objects.filter(grid=grid).select_related("building")
    ).order_by("building__code", "number")
