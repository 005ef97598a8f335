"""The place tree: 县/区 → 街道/乡镇 → 社区/村 → 片区 → 网格 → 楼栋.

Every node stores its materialised path of codes, so "everything under a street" is one
indexed prefix query on this small table, never a walk of the tree.
"""

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from minqing.core.digits import plain_digits


class Level(models.IntegerChoices):
    COUNTY = 1, _("县/区")
    STREET = 2, _("街道/乡镇")
    COMMUNITY = 3, _("社区/村")
    ZONE = 4, _("片区")
    GRID = 5, _("网格")
    BUILDING = 6, _("楼栋")


# The code of a node extends the code of its nearest "coded" ancestor (GB/T 2260 county code,
# then street +3, community +3, grid +3 as in 数字城管 unit grid codes). Zones sit between
# community and grid but do not take part in the grid code, so a grid's code always extends
# its community's code whether or not a zone is in between.
CODE_LENGTH = {
    Level.COUNTY: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.ZONE: 14,
    Level.GRID: 15,
    Level.BUILDING: 18,
}
CODE_BASE_LEVEL = {
    Level.STREET: Level.COUNTY,
    Level.COMMUNITY: Level.STREET,
    Level.ZONE: Level.COMMUNITY,
    Level.GRID: Level.COMMUNITY,
    Level.BUILDING: Level.GRID,
}

# Which level may sit directly under which: levels nest in order; a zone (片区) is optional.
ALLOWED_PARENT = {
    Level.STREET: {Level.COUNTY},
    Level.COMMUNITY: {Level.STREET},
    Level.ZONE: {Level.COMMUNITY},
    Level.GRID: {Level.COMMUNITY, Level.ZONE},
    Level.BUILDING: {Level.GRID},
}

ERR_LEVEL_ORDER = _("层级不对：{child}不能直接放在{parent}之下。")
ERR_ROOT_LEVEL = _("只有县/区可以没有上级。")
ERR_CODE_FORMAT = _("{level}编码应为{length}位数字。")
ERR_CODE_PREFIX = _("编码应以上级{level}编码 {prefix} 开头。")


def subtree_q(path: str) -> models.Q:
    """Nodes whose path starts with `path`, in the form each database answers from an index.

    PostgreSQL serves LIKE 'prefix%' from the varchar_pattern_ops index. SQLite cannot use an
    index for Django's LIKE … ESCAPE, but compares text bytewise (BINARY), so the prefix is a
    plain range there: paths hold only digits and '/', all below U+FFFF.
    """
    if connection.vendor == "sqlite":
        return models.Q(path__gte=path, path__lt=path + "\uffff")
    return models.Q(path__startswith=path)


class Node(models.Model):
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("编码"), max_length=20, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # "/330110/330110001/…/": the codes from the root down, for subtree prefix queries.
    path = models.CharField(max_length=255, unique=True, editable=False)
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("区划节点")
        verbose_name_plural = _("区划节点")
        ordering = ["path"]
        indexes = [
            # LIKE 'prefix%' uses a btree index on PostgreSQL only with pattern opclasses.
            models.Index(
                fields=["path"], name="grids_node_path_like", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["parent", "sort"], name="grids_node_parent_sort"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label)

    def ancestor_codes(self) -> list[str]:
        return [c for c in self.path.split("/") if c]

    def ancestor_paths(self) -> list[str]:
        """The paths of this node and every node above it, county first (no query)."""
        codes = self.ancestor_codes()
        return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.parent is None:
            if self.level != Level.COUNTY:
                errors["parent"] = ERR_ROOT_LEVEL
        elif self.level is not None and self.parent.level not in ALLOWED_PARENT.get(self.level, ()):
            errors["level"] = ERR_LEVEL_ORDER.format(
                child=Level(self.level).label, parent=Level(self.parent.level).label
            )
        if self.level is not None and self.code:
            length = CODE_LENGTH[Level(self.level)]
            if not plain_digits(self.code, length=length):
                errors["code"] = ERR_CODE_FORMAT.format(
                    level=Level(self.level).label, length=length
                )
            elif self.parent is not None and "level" not in errors:
                base = self.coded_ancestor()
                if base is not None and not self.code.startswith(base.code):
                    errors["code"] = ERR_CODE_PREFIX.format(
                        level=Level(base.level).label, prefix=base.code
                    )
        if errors:
            raise ValidationError(errors)

    def coded_ancestor(self) -> "Node | None":
        """The ancestor whose code this node's code extends."""
        wanted = CODE_BASE_LEVEL.get(Level(self.level))
        node = self.parent
        while node is not None and node.level > wanted:
            node = node.parent
        return node if node is not None and node.level == wanted else None

    def save(self, *args, **kwargs):
        # The path is derived data kept with the row; it is not business logic.
        prefix = self.parent.path if self.parent_id else "/"
        self.path = f"{prefix}{self.code}/"
        super().save(*args, **kwargs)

    def subtree(self):
        return Node.objects.filter(subtree_q(self.path))

    def holds_every_node(self) -> bool:
        """Is this the only root? Then "in its subtree" is true of every record, and a query
        over a county's year of cases need not join each case to the tree (0.3 s of 0.65)."""
        return (
            self.parent_id is None
            and not Node.objects.filter(parent__isnull=True).exclude(pk=self.pk).exists()
        )

    def ancestors(self):
        return Node.objects.filter(code__in=self.ancestor_codes()[:-1]).order_by("level")
