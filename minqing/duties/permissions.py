"""Who may give contact duties and set their links: the one place this is decided.

An office (community worker or secretary, street officer, county officer, administrator) keeps
the duties of the holders whose node lies in the part of the tree that office role covers.
Only office roles count: a user who is a grid worker in one place and a community worker in
another manages from the community only. Nobody sets their own duty: a holder reads their page,
the office that supervises them writes it. Pages and the API ask these functions; the services
ask them again.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from minqing.accounts.access import user_assignments, user_scope
from minqing.accounts.models import DataScope, Role
from minqing.grids.models import Level, Node, subtree_q

MANAGE_ROLES = frozenset(
    {
        Role.COMMUNITY_WORKER,
        Role.COMMUNITY_SECRETARY,
        Role.STREET_OFFICER,
        Role.COUNTY_OFFICER,
        Role.ADMIN,
    }
)


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _office_assignments(user) -> list:
    """The user's office-role assignments (custom nodes prefetched by user_scope)."""
    user_scope(user)  # caches the assignments and prefetches their custom nodes
    return [a for a in user_assignments(user) if a.role in MANAGE_ROLES]


def _covers(assignment, node: Node) -> bool:
    scope = assignment.data_scope
    if scope == DataScope.ALL:
        return True
    if scope == DataScope.NODE_AND_BELOW:
        return node.path.startswith(assignment.node.path)
    if scope == DataScope.NODE:
        return node.pk == assignment.node_id
    if scope == DataScope.CUSTOM:
        return any(node.path.startswith(n.path) for n in assignment.custom_nodes.all())
    return False  # 仅本人: an office role limited to one's own records keeps no one's duties


def office_nodes(user) -> QuerySet[Node]:
    """The nodes the user's office roles cover (all of them for the administrator)."""
    if not _signed_in(user):
        return Node.objects.none()
    if user.is_superuser:
        return Node.objects.all()
    q = Q(pk__in=[])
    for a in _office_assignments(user):
        if a.data_scope == DataScope.ALL:
            return Node.objects.all()
        if a.data_scope == DataScope.NODE_AND_BELOW:
            q |= subtree_q(a.node.path)
        elif a.data_scope == DataScope.NODE:
            q |= Q(pk=a.node_id)
        elif a.data_scope == DataScope.CUSTOM:
            for n in a.custom_nodes.all():
                q |= subtree_q(n.path)
    return Node.objects.filter(q)


def can_create_holder(user) -> bool:
    """An office that covers some part of the tree may give duties there."""
    if not _signed_in(user):
        return False
    if user.is_superuser:
        return True
    return any(a.data_scope != DataScope.SELF for a in _office_assignments(user))


def can_manage_holder(user, holder) -> bool:
    """An office whose role covers the holder's node; never the holder themself."""
    if not _signed_in(user) or holder.user_id == user.pk:
        return False
    if user.is_superuser:
        return True
    return any(_covers(a, holder.node) for a in _office_assignments(user))


def holder_nodes(user) -> QuerySet[Node]:
    """Where a new holder may be placed: the unit's county, street or community, in cover."""
    return office_nodes(user).filter(level__lte=Level.COMMUNITY).order_by("path")


def holder_users(user) -> QuerySet:
    """Who may be given a duty: active users assigned within the office's cover, not oneself."""
    if not _signed_in(user):
        return get_user_model().objects.none()
    users = get_user_model().objects.filter(is_active=True).exclude(pk=user.pk)
    if not user.is_superuser:
        users = users.filter(assignments__node__in=office_nodes(user).values("pk"))
    return users.distinct().order_by("full_name", "username")
