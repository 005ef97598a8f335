"""Households a user reaches through a personal link rather than their place in the tree.

A cadre paired with a household (结对帮扶) or linked to it by a contact duty (联系户) must be able
to visit it and log help wherever it lives, and see nothing else of that grid. The apps that
create such links each answer `linked_household_ids(user)`; this module joins them so visits and
household pages ask one question.
"""

from django.db.models import Q


def linked_households_q(user, field: str = "pk") -> Q:
    """A Q on households (or on a model whose `field` is a household FK) for the linked ones."""
    from minqing.assistance.selectors import linked_household_ids as paired
    from minqing.duties.selectors import linked_household_ids as linked

    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    return Q(**{f"{field}__in": paired(user)}) | Q(**{f"{field}__in": linked(user)})
