"""The ids of a subtree's nodes, kept in-process: a scope of one subtree as a literal list.

A street officer's or a community's lists are narrowed to their part of the tree. As a
subquery on the nodes' paths, with the path pattern as a parameter, PostgreSQL cannot keep a
prepared statement's plan and plans the list afresh on every request (1.7 ms against 0.25 ms to
run an overdue list, bench/README "Cases" run 7); as a literal list of ids it keeps it. The
tree changes a few times a year: each process reads a subtree's ids at most once per TTL
seconds, forgets them at once when a Node is saved or deleted in this process (and after its
commit), never keeps what it read inside a transaction, and forgets all on migrate/flush.
A node added by another process is seen here within TTL seconds.
"""

import time

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

from minqing.grids.models import Level, Node, subtree_q

TTL = 60.0
_below: dict[tuple[str, int | None], tuple[float, tuple[int, ...]]] = {}


def node_ids_below(path: str) -> tuple[int, ...]:
    """Every node in the subtree at `path`, itself included."""
    return _ids(path, None)


def grid_ids_below(path: str) -> tuple[int, ...]:
    """The grids in the subtree at `path` (a community's grids, for its inbox)."""
    return _ids(path, Level.GRID)


def level_ids_below(path: str, level: int) -> tuple[int, ...]:
    """The nodes of one level in the subtree at `path` (a street's communities)."""
    return _ids(path, int(level))


def _ids(path: str, level: int | None) -> tuple[int, ...]:
    def load() -> tuple[int, ...]:
        nodes = Node.objects.filter(subtree_q(path))
        if level is not None:
            nodes = nodes.filter(level=level)
        return tuple(nodes.order_by("pk").values_list("pk", flat=True))

    if connection.in_atomic_block:
        return load()
    key = (path, level)
    entry = _below.get(key)
    if entry is not None and time.monotonic() - entry[0] < TTL:
        return entry[1]
    ids = load()
    if len(_below) > 10_000:  # a bound, not a policy: a county has a few hundred communities
        _below.clear()
    _below[key] = (time.monotonic(), ids)
    return ids


def clear() -> None:
    _below.clear()


def _tree_changed(sender, using="default", **kwargs) -> None:
    _below.clear()
    transaction.on_commit(_below.clear, using=using)


post_save.connect(_tree_changed, sender=Node, dispatch_uid="grids_subtree_node_saved")
post_delete.connect(_tree_changed, sender=Node, dispatch_uid="grids_subtree_node_deleted")
post_migrate.connect(lambda **kwargs: clear(), dispatch_uid="grids_subtree_migrated", weak=False)
