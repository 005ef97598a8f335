"""Who may see and do what: the one place where scoping and permissions are decided.

Every page, API call, search, export and admin list narrows its queryset with
`scope_queryset`, and fetches single objects with `get_scoped_or_404`, so an object outside a
user's part of the place tree answers 404 exactly like one that does not exist.
"""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, prefetch_related_objects
from django.http import Http404

from minqing.accounts.models import DataScope, Role
from minqing.grids.models import Level, Node, subtree_q
from minqing.grids.subtree import node_ids_below

# Data scopes that reach everything below the node of their assignment (the others narrow it).
WHOLE_SCOPES = (DataScope.ALL, DataScope.NODE_AND_BELOW)
# Roles that may reveal full ID and phone numbers (with a reason, audited).
REVEAL_ROLES = {
    Role.GRID_WORKER,  # calls and visits their own households
    Role.COMMUNITY_SECRETARY,
    Role.STREET_OFFICER,
    Role.COUNTY_OFFICER,
    Role.ADMIN,
}
# Roles that may read the audit log (等级保护: the auditor role is separate from data entry).
AUDIT_ROLES = {Role.COUNTY_OFFICER, Role.ADMIN}
# Roles that may create and edit registry records.
EDIT_ROLES = {Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.COMMUNITY_SECRETARY, Role.ADMIN}


@dataclass
class Scope:
    everything: bool = False
    subtree_paths: set[str] = field(default_factory=set)  # 本部门及以下 / 自定数据
    exact_node_ids: set[int] = field(default_factory=set)  # 本部门
    own_user_id: int | None = None  # 仅本人
    roles: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple:
        """What the scope is, hashable: two users with the same key see the same rows (a
        cache of compiled statements, `core.statements`, keys scoped queries by it)."""
        return (
            self.everything,
            tuple(sorted(self.subtree_paths)),
            tuple(sorted(self.exact_node_ids)),
            self.own_user_id,
        )

    @classmethod
    def from_key(cls, key: tuple) -> "Scope":
        """The scope a `key` was taken from (its roles aside): for a query compiled from it."""
        everything, paths, node_ids, own_user_id = key
        return cls(everything, set(paths), set(node_ids), own_user_id)

    @property
    def empty(self) -> bool:
        return not (
            self.everything or self.subtree_paths or self.exact_node_ids or self.own_user_id
        )


def user_assignments(user) -> list:
    """A user's role assignments with their nodes, read once per request (cached on the user).

    The same rows `user_scope` is computed from, for callers that need the assignments
    themselves (the case inbox).
    """
    cached = getattr(user, "_minqing_assignments", None)
    if cached is None:
        cached = list(user.assignments.select_related("node").defer("node__boundary"))
        user._minqing_assignments = cached
    return cached


def user_scope(user) -> Scope:
    """The union of what all of a user's role assignments let them see (cached per request)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached = getattr(user, "_minqing_scope", None)
    if cached is not None:
        return cached
    scope = Scope(everything=user.is_superuser)
    assignments = user_assignments(user)
    custom = [a for a in assignments if a.data_scope == DataScope.CUSTOM]
    if custom:
        prefetch_related_objects(custom, "custom_nodes")
    for a in assignments:
        scope.roles.add(a.role)
        if a.data_scope == DataScope.ALL:
            scope.everything = True
        elif a.data_scope == DataScope.NODE_AND_BELOW:
            scope.subtree_paths.add(a.node.path)
        elif a.data_scope == DataScope.NODE:
            scope.exact_node_ids.add(a.node_id)
        elif a.data_scope == DataScope.CUSTOM:
            scope.subtree_paths.update(n.path for n in a.custom_nodes.all())
        elif a.data_scope == DataScope.SELF:
            scope.own_user_id = user.pk
    # The whole tree below the only root is everything: skip the filter rather than join
    # every county-wide query against every node.
    roots = {p for p in scope.subtree_paths if p.count("/") == 2}
    if roots and not scope.everything:
        all_roots = set(Node.objects.filter(parent__isnull=True).values_list("path", flat=True))
        if all_roots and all_roots <= roots:
            scope.everything = True
    # A path inside another path adds nothing.
    scope.subtree_paths = {
        p
        for p in scope.subtree_paths
        if not any(p != q and p.startswith(q) for q in scope.subtree_paths)
    }
    user._minqing_scope = scope
    return scope


def single_subtree_path(user) -> str | None:
    """The path of the one subtree a user's scope is, when it is exactly that (not everything,
    no single nodes, no own records), else None.

    A query that joins the node anyway may repeat the scope as a condition on the joined path:
    the same rows, but PostgreSQL then reads the nodes through the path index instead of
    scanning them all to meet the scope's id list.
    """
    scope = user_scope(user)
    if scope.everything or scope.exact_node_ids or scope.own_user_id:
        return None
    if len(scope.subtree_paths) != 1:
        return None
    return next(iter(scope.subtree_paths))


# Above this many nodes a one-subtree scope stays a subquery (a street has a few hundred).
LITERAL_SCOPE_NODES = 1000


def scope_node_ids(user) -> tuple[int, ...] | None:
    """The ids of every node a scope of one subtree covers, from the process's copy of the
    tree (`grids.subtree`); None for any other scope, or a subtree of more than
    LITERAL_SCOPE_NODES nodes.

    `node__in=scope_node_ids(user)` selects what scope_queryset's node condition selects, as a
    statement PostgreSQL keeps prepared; a node made by another process in the last minute may
    be missing (see grids.subtree). For lists a user reloads all day, not for checks."""
    path = single_subtree_path(user)
    if path is None:
        return None
    ids = node_ids_below(path)
    return ids if len(ids) <= LITERAL_SCOPE_NODES else None


def _node_filter(scope: Scope) -> Q | None:
    q = Q(pk__in=[])
    any_part = False
    for path in sorted(scope.subtree_paths):
        q |= subtree_q(path)
        any_part = True
    if scope.exact_node_ids:
        q |= Q(pk__in=scope.exact_node_ids)
        any_part = True
    return q if any_part else None


# The most parts (subtrees or single nodes) a scope may have for its node ids to be written as
# one array (core.lookups): a few communities' worth, a few hundred ids at most.
ARRAY_SCOPE_PARTS = 4


def _within(scope: Scope, level: Level) -> bool:
    """A few parts, each at `level` or below (a path of that many codes or more) or a single
    node (本部门): for a community a few hundred node ids at most, for a street a few thousand."""
    parts = len(scope.subtree_paths) + len(scope.exact_node_ids)
    return parts <= ARRAY_SCOPE_PARTS and all(
        path.strip("/").count("/") + 1 >= level for path in scope.subtree_paths
    )


def within_communities(user) -> bool:
    """Is the user's scope a community or less (a few parts, each a community or below)?
    Then their lists are short enough to read whole and sort, rather than walk a date index
    of the county's rows looking for theirs."""
    scope = user_scope(user)
    return not scope.everything and _within(scope, Level.COMMUNITY)


def visible_nodes(user) -> QuerySet[Node]:
    """The place-tree nodes a user may browse (their subtrees)."""
    scope = user_scope(user)
    if scope.everything:
        return Node.objects.all()
    q = _node_filter(scope)
    return Node.objects.filter(q) if q is not None else Node.objects.none()


def scope_queryset(
    user,
    qs: QuerySet,
    *,
    node_field: str = "grid",
    owner_fields: tuple[str, ...] = ("created_by",),
    also: Q | None = None,
    array: bool = False,
) -> QuerySet:
    """Narrow any queryset of place-bound records to what `user` may see.

    node_field names the record's FK to its base node; owner_fields are the user FKs that
    make a record the user's own for the 仅本人 scope; `also` adds records the user sees
    wherever they are (a case dispatched to them or to their department); `array` writes the
    visible nodes as one array for a scope of a few streets or less (see scope_q).
    """
    scope = user_scope(user)
    if scope.everything:
        return qs
    if scope.empty and also is None:
        return qs.none()
    q = scope_q(
        scope, node_field=node_field, owner_fields=owner_fields, ored=also is not None, array=array
    )
    return qs.filter(q if also is None else also | q)


def scope_q(
    scope: Scope,
    *,
    node_field: str = "grid",
    owner_fields=("created_by",),
    ored: bool = False,
    array: bool = False,
) -> Q:
    """The condition of scope_queryset for a scope in hand (not everything): for a query
    built from a scope's key rather than from the user (a compiled statement).

    ored: the condition will be ORed with another (scope_queryset's `also`); then a small
    scope's nodes are written as one array, which keeps the OR indexed on PostgreSQL
    (core.lookups). Not otherwise: a search over a grid worker's 290 people, given the array,
    was planned over the whole county's text index instead (45 ms against 9, search bench).

    array: the nodes as one array for a scope of a few streets or less too, for a query that
    joins the scope's index with another (the case search's look-up in its index of pairs, a
    street's indicators: 1.1 → 0.2 s). A larger scope keeps the subquery: a wrong guess over
    thousands of ids could test each of a year's cases against every id.
    """
    q = Q(pk__in=[])
    node_q = _node_filter(scope)
    if node_q is not None:
        # One query: the record's node must be in the (small, indexed) set of visible nodes —
        # ORed with `also`, for a community or less as one array (see above).
        nodes = Node.objects.filter(node_q).order_by().values("pk")
        small = _within(scope, Level.STREET if array else Level.COMMUNITY)
        lookup = "any_ids" if (array or ored) and small else "in"
        q |= Q(**{f"{node_field}__{lookup}": nodes})
    if scope.own_user_id:
        for f in owner_fields:
            q |= Q(**{f: scope.own_user_id})
    return q


def get_scoped_or_404(
    user,
    qs: QuerySet,
    *,
    node_field: str = "grid",
    owner_fields: tuple[str, ...] = ("created_by",),
    also: Q | None = None,
    **lookup,
):
    """Fetch one record the user may see; 'not yours' and 'does not exist' look the same."""
    pk = lookup.get("pk")
    if isinstance(pk, int) and not (0 < pk < 2**63):
        raise Http404
    try:
        return scope_queryset(
            user, qs, node_field=node_field, owner_fields=owner_fields, also=also
        ).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def node_visible(user, node: Node) -> bool:
    """node_in_scope without a query: decided from the user's (cached) scope and the node's
    path. For a node already fetched — e.g. to read its records without a scope subquery."""
    scope = user_scope(user)
    return (
        scope.everything
        or node.pk in scope.exact_node_ids
        or any(node.path.startswith(p) for p in scope.subtree_paths)
    )


def node_in_scope(user, node: Node) -> bool:
    return visible_nodes(user).filter(pk=node.pk).exists()


def has_role(user, roles: set) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return bool(user_scope(user).roles & {str(r) for r in roles})


def can_reveal(user) -> bool:
    return has_role(user, REVEAL_ROLES) or user.has_perm("registry.reveal_personal_data")


def can_audit(user) -> bool:
    return has_role(user, AUDIT_ROLES)


def can_edit_registry(user) -> bool:
    return has_role(user, EDIT_ROLES)


def home_node(user) -> Node | None:
    """The highest node a user is assigned at: where their home page starts."""
    assignments = user_assignments(user) if user.is_authenticated else []
    if assignments:
        return min(assignments, key=lambda a: (a.node.level, a.pk)).node
    if getattr(user, "is_superuser", False):
        return Node.objects.filter(parent__isnull=True).first()
    return None
