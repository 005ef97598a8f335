from django.db.models import QuerySet

from minqing.accounts.access import visible_nodes
from minqing.grids.models import Node


def top_nodes(user) -> QuerySet[Node]:
    """The highest visible nodes: the roots of the user's part of the tree."""
    visible = visible_nodes(user)
    return visible.exclude(parent__in=visible.values("pk")).order_by("path")


def node_counts(user, node: Node) -> dict:
    from minqing.registry.selectors import _under, households_for, people_for, places_for

    return {
        "households": _under(households_for(user), node).count(),
        "people": _under(people_for(user), node).count(),
        "places": _under(places_for(user), node).count(),
        "children": visible_nodes(user).filter(parent=node).count(),
    }
