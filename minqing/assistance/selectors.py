"""Reads of pairing assistance, scoped by `accounts.access`."""


def linked_household_ids(user):
    """Households `user` is personally paired with (as a helper): they may visit them and log help
    even outside their place in the grid tree. A queryset of household ids."""
    from minqing.registry.models import Household

    return Household.objects.none().values("pk")


def helpers_for_household(household) -> list[dict]:
    """The helpers actively paired with a household or any of its members, for its contact card:
    dicts with name, kind (helper kind label), phone (full: the card is given to the household),
    programme (name). Empty until the assistance app fills this in."""
    return []


def helpers_for_person(person) -> list[dict]:
    """The helpers actively paired with one person (the 黄丝带 card of an elderly person living
    alone shows their paired party member): same dicts as `helpers_for_household`."""
    return []


def timeline_items(user, household) -> list[dict]:
    """Help given to a household, for its timeline: dicts with at (aware datetime), title, text,
    url; only what `user` may see."""
    return []
