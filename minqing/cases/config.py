"""The configuration every new case reads, kept in-process for a short while (core.memo).

Accepting a case reads the category tree (the service code, the category's parents for its
time limits and for the zoning flag), the time limits of its first stage and the zoning
layers, and an Open311 report the client its key belongs to. They change a few times a year, through the admin, and an Open311 client may
post many reports a second: here they are read once per CONFIG_TTL seconds per process, with
core.memo's rules (an edit in this process is seen at once, reads inside a transaction are
never kept, `flush` and `migrate` forget everything).
"""

from django.db.models.signals import post_migrate

from minqing.cases.models import Category, Open311Client, TimeLimit, ZoningLayer
from minqing.core.memo import Cached, forget_on_change

CONFIG_TTL = 60.0  # seconds a process may use its copy of the configuration


class Catalog:
    """The category tree as read at one moment: every category with its parent attached."""

    def __init__(self, categories: list[Category]):
        self.by_pk = {c.pk: c for c in categories}
        for c in categories:
            # Attach the parent read here, so walking up the tree asks the database nothing.
            c.parent = self.by_pk.get(c.parent_id) if c.parent_id else None
        with_children = {c.parent_id for c in categories if c.active and c.parent_id}
        leaves = []
        for category in sorted(categories, key=lambda c: (c.sort, c.code)):
            if not category.active or category.pk in with_children:
                continue
            node, ok, depth = category, True, 0
            while node.parent_id and depth < 10:
                node = self.by_pk.get(node.parent_id)
                depth += 1
                if node is None or not node.active:
                    ok = False
                    break
            if ok:
                leaves.append(category)
        self.leaves = leaves
        self.leaf_by_code = {c.code: c for c in leaves}


def _load_catalog() -> Catalog:
    return Catalog(list(Category.objects.all()))


def _load_time_limits() -> dict[str, list[TimeLimit]]:
    by_stage: dict[str, list[TimeLimit]] = {}
    for row in TimeLimit.objects.all():
        by_stage.setdefault(row.stage, []).append(row)
    return by_stage


def _load_zoning() -> list[tuple[str, dict]]:
    return list(ZoningLayer.objects.filter(active=True).values_list("kind", "geometry"))


def _load_open311_clients() -> dict[str, Open311Client]:
    return {c.key_digest: c for c in Open311Client.objects.filter(active=True)}


_catalog = Cached(_load_catalog, CONFIG_TTL)
_time_limits = Cached(_load_time_limits, CONFIG_TTL)
_zoning = Cached(_load_zoning, CONFIG_TTL)
_open311_clients = Cached(_load_open311_clients, CONFIG_TTL)
_BY_MODEL = {
    Category: _catalog,
    TimeLimit: _time_limits,
    ZoningLayer: _zoning,
    Open311Client: _open311_clients,
}


def catalog() -> Catalog:
    """The category tree (leaves = what Open311 offers as services)."""
    return _catalog.get()


def time_limits(stage: str) -> list[TimeLimit]:
    """The configured time limit rows of one stage."""
    return _time_limits.get().get(stage, [])


def zoning_layers() -> list[tuple[str, dict]]:
    """(kind, GeoJSON geometry) of every active zoning layer, in the model's order."""
    return _zoning.get()


def open311_client(key_digest: str) -> Open311Client | None:
    """The active Open311 client whose key has this SHA-256, or None.

    A client switched off in the admin is refused at once by the process that saved it and
    by the others within CONFIG_TTL seconds.
    """
    return _open311_clients.get().get(key_digest)


def clear() -> None:
    """Forget every cached table."""
    for cached in _BY_MODEL.values():
        cached.clear()


for _model, _cached in _BY_MODEL.items():
    forget_on_change(_cached, _model)
post_migrate.connect(lambda **kwargs: clear(), dispatch_uid="cases_config_migrated", weak=False)
