"""The campaign target list (走访名单) as .xlsx, with each household's status.

Same selector and filters as the target list page (so the user's scope and the filters are
what the screen shows), written through registry.exports.respond: streamed, stamped
(导出人 / 导出时间 / 范围), formula-safe and audited as an EXPORT.
"""

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import QuerySet

from minqing.core.xlsx import Column
from minqing.grids.models import Node
from minqing.registry.exports import Export
from minqing.visits.models import Campaign, CampaignTarget, TargetSource, Visit

CHUNK = 2000
DONE, TODO = "已走访", "未走访"

TARGET_COLUMNS = [
    Column("网格", 18),
    Column("户号", 18),
    Column("户主", 10),
    Column("现住址", 34),
    Column("走访责任人", 16),
    Column("状态", 8),
    Column("走访时间", 18, "datetime"),
    Column("填报人", 14),
    Column("慰问品", 20),
    Column("慰问金(元)", 10),
    Column("来源", 8),
]

TARGET_FIELDS = (
    "pk",
    "household_id",
    "grid__name",
    "household__number",
    "household__head_name",
    "household__address",
    "visited_at",
    "visit__created_by__username",
    "visit__created_by__full_name",
    "source",
)
SOURCES = {TargetSource.RULE.value: "按规则", TargetSource.MANUAL.value: "手工添加"}


def _name(username, full_name) -> str:
    if not username:
        return ""
    return full_name or username


def target_rows(campaign: Campaign, qs: QuerySet[CampaignTarget]) -> Iterator[list]:
    """One row per target, with its assignees and the gifts of the campaign's visits to it:
    three queries per chunk of rows."""
    rows = qs.order_by("grid__path", "household__address", "household_id").values_list(
        *TARGET_FIELDS
    )
    batch: list[tuple] = []

    def flush(batch):
        through = CampaignTarget.assignees.through
        who = defaultdict(list)
        for t_pk, username, full_name in (
            through.objects.filter(campaigntarget_id__in=[r[0] for r in batch])
            .order_by("user__full_name", "user__username")
            .values_list("campaigntarget_id", "user__username", "user__full_name")
        ):
            who[t_pk].append(full_name or username)
        goods: dict[int, list[str]] = defaultdict(list)
        amounts: dict[int, Decimal] = {}
        for hid, g, amount in Visit.objects.filter(
            campaign=campaign, household_id__in=[r[1] for r in batch]
        ).values_list("household_id", "gift_goods", "gift_amount"):
            if g:
                goods[hid].append(g)
            if amount is not None:
                amounts[hid] = amounts.get(hid, Decimal(0)) + amount
        for t_pk, hid, grid, number, head, address, at, username, full, source in batch:
            yield [
                grid,
                number,
                head or "",
                address,
                "、".join(who.get(t_pk, [])),
                DONE if at else TODO,
                at,
                _name(username, full),
                "；".join(goods.get(hid, [])),
                amounts.get(hid),
                SOURCES.get(source, ""),
            ]

    for row in rows.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) >= CHUNK:
            yield from flush(batch)
            batch = []
    if batch:
        yield from flush(batch)


def targets_export(
    campaign: Campaign, qs: QuerySet[CampaignTarget], *, grid: Node | None, status: str
) -> Export:
    words = [f"活动：{campaign.name}（{campaign.start:%Y-%m-%d} 至 {campaign.end:%Y-%m-%d}）"]
    if grid is not None:
        words.append(f"网格：{grid.name}")
    if status:
        words.append(f"状态：{DONE if status == 'done' else TODO}")
    return Export(
        f"{campaign.name}走访名单",
        "visits.campaigntarget",
        TARGET_COLUMNS,
        target_rows(campaign, qs),
        words,
        campaign.node,
    )
