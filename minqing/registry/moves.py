"""When a record moves to another grid, what is placed by it moves with it.

Pairings (assistance), a household's visits and its places on the lists of campaigns still
open (visits) keep a copy of their target's grid, so that "everything in my grid" is one
indexed filter. Left behind by a move, the old grid's worker still opened the pairing of a
household no longer theirs, with its members' ages and phones, while the new grid's worker saw
"上次走访" on the household page and could open neither its pairing nor its visits. The record's
file follows the record: every writer that changes a grid (the forms, the API, an import)
calls `records_moved` in its transaction. A closed campaign keeps its lists as they were.
"""

from django.db.models import OuterRef, Subquery

from minqing.registry.models import Household, Organisation, Person, Place


def records_moved(*, households=(), people=(), places=(), organisations=()) -> None:
    """Copy the grid of the moved households, people, places and organisations (ids) to what
    is placed by them."""
    from minqing.assistance.models import Pairing
    from minqing.visits.models import CampaignStatus, CampaignTarget, Visit

    households, people = sorted(set(households)), sorted(set(people))
    if households:
        grid_of_household = Household.objects.filter(pk=OuterRef("household_id")).values("grid_id")
        Pairing.objects.filter(household_id__in=households).update(grid=Subquery(grid_of_household))
        Visit.objects.filter(household_id__in=households).update(grid=Subquery(grid_of_household))
        CampaignTarget.objects.filter(household_id__in=households).exclude(
            campaign__status=CampaignStatus.CLOSED
        ).update(grid=Subquery(grid_of_household))
        # The members moved with their household: their own pairings follow them.
        people = sorted(
            set(people)
            | set(Person.objects.filter(household_id__in=households).values_list("pk", flat=True))
        )
    for ids, field, model in (
        (people, "person_id", Person),
        (sorted(set(places)), "place_id", Place),
        (sorted(set(organisations)), "organisation_id", Organisation),
    ):
        if ids:
            grid = model.objects.filter(pk=OuterRef(field)).values("grid_id")
            Pairing.objects.filter(**{f"{field}__in": ids}).update(grid=Subquery(grid))
