"""Printable cards and forms: print-ready HTML for A4 and for a card (85.6 × 54 mm).

Every page is self-contained (inline CSS, no scripts beyond window.print, system fonts), so it
prints the same on an intranet PC without any asset server. `?size=a4` or `?size=card` picks
the layout where both make sense.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from minqing.accounts.access import node_visible
from minqing.cards import selectors
from minqing.registry.models import Household

SIZES = ("card", "a4")
BATCH_PER_PAGE = 10  # 2 × 5 cards of 85.6 × 54 mm on an A4 sheet


def _size(request, default: str) -> str:
    size = request.GET.get("size", "")
    return size if size in SIZES else default


def _pk(raw: int) -> int:
    if not 0 < raw < 2**63:
        raise Http404
    return raw


@login_required
def household_card(request, pk: int):
    """民情联系卡 of one household: its team, grid worker and helpers, with their phones."""
    household = selectors.household_for_card(request.user, _pk(pk))
    return render(
        request,
        "cards/household_card.html",
        {
            "household": household,
            "contacts": selectors.team_contacts(household.grid),
            "helpers": selectors.household_helpers(household),
            "size": _size(request, "a4"),
            "printed": timezone.localdate(),
            # A cadre reads a linked household, not its grid: no batch link for them.
            "grid_batch": node_visible(request.user, household.grid),
        },
    )


@login_required
def grid_cards(request, code: str):
    """Every household's contact card of a grid, ten card-sized cards to an A4 sheet."""
    grid = selectors.grid_for_batch(request.user, code)
    if grid is None:
        raise Http404
    contacts = selectors.team_contacts(grid)
    households = list(selectors.grid_households(request.user, grid)[: selectors.MAX_BATCH + 1])
    cut = len(households) > selectors.MAX_BATCH
    cards = [
        {"household": h, "helpers": selectors.household_helpers(h)}
        for h in households[: selectors.MAX_BATCH]
    ]
    sheets = [cards[i : i + BATCH_PER_PAGE] for i in range(0, len(cards), BATCH_PER_PAGE)]
    return render(
        request,
        "cards/grid_cards.html",
        {
            "grid": grid,
            "contacts": contacts,
            "sheets": sheets,
            "count": len(cards),
            "cut": cut,
            "backs": request.GET.get("backs") == "1",
            "back_slots": range(BATCH_PER_PAGE),
            "max_batch": selectors.MAX_BATCH,
        },
    )


@login_required
def yellow_ribbon(request, pk: int):
    """黄丝带 card of an elderly person living alone: paired party member, grid worker, team."""
    person = selectors.person_for_card(request.user, _pk(pk))
    refusal = selectors.yellow_ribbon_refusal(person)
    grid = person.household.grid if person.household_id else person.grid
    return render(
        request,
        "cards/yellow_ribbon.html",
        {
            "person": person,
            "address": person.household.address if person.household_id else "",
            "refusal": refusal,
            "contacts": None if refusal else selectors.team_contacts(grid),
            "helpers": [] if refusal else selectors.person_helpers(person),
            "size": _size(request, "card"),
        },
        status=400 if refusal else 200,
    )


# One A4 sheet (273 mm inside the margins): the heading, the household's table and the notes
# take about 80 mm, each member's row 7 mm, each visit row 25 mm. As many visit rows as fit, 3
# at least: six rows under a blank form's four member lines ran onto a second page.
PAGE_MM, FIXED_MM, MEMBER_MM, VISIT_MM = 273, 80, 7, 25


def visit_rows(member_rows: int) -> int:
    return max(3, min(8, (PAGE_MM - FIXED_MM - MEMBER_MM * (member_rows + 1)) // VISIT_MM))


@login_required
def visit_form(request, pk: int | None = None):
    """走访记录表 on A4: prefilled with a household (address, members), or blank."""
    household: Household | None = None
    members, schedule = [], None
    if pk is not None:
        household = selectors.household_for_card(request.user, _pk(pk))
        members = list(household.members.order_by("id"))
        from minqing.visits.selectors import schedule_of

        schedule = schedule_of(household)
    return render(
        request,
        "cards/visit_form.html",
        {
            "household": household,
            "members": members,
            "schedule": schedule,
            "contacts": selectors.team_contacts(household.grid) if household else None,
            "rows": range(visit_rows(len(members) if household else 4)),
            "blank_members": range(0 if household else 4),
        },
    )
