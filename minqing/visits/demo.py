"""Demo visits: a year of them, about a cycle apart with a missed cycle now and then, each
household's last visit somewhere in its cycle, so the due lists look like a working county
(most households on schedule, some due this week, some overdue); and two
campaigns (走访活动): this year's 重阳节 visits to the street's 80+ and lone elderly, closed and
mostly done, and an open 寒潮 visit round in the first community with partial progress."""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from minqing.accounts.models import Role, RoleAssignment, User
from minqing.grids.models import Level
from minqing.registry.models import Household, Tag
from minqing.visits import services
from minqing.visits.models import Campaign, CampaignKind, CampaignTarget, Visit, VisitMode
from minqing.visits.services import schedules_compute, visit_states_refresh

SEEN = [
    "家中一切正常，老人身体尚可。",
    "了解家庭收入情况，暂无困难。",
    "宣传防诈骗知识，发放联系卡。",
    "孩子在校情况良好，家长无诉求。",
    "询问医保报销进度，已现场解答。",
    "楼道有杂物，已提醒清理。",
    "独居老人，叮嘱注意用电安全。",
    "反映小区停车难，已记录。",
]
CHUNK = 5000
YEAR = 365  # days of visit history the demo county has
MISSED_CYCLE = 0.1  # the share of cycles in that year that passed without a visit
MODES = [VisitMode.HOME] * 6 + [VisitMode.PHONE] * 3 + [VisitMode.MEETING]


def seed_visits(*, rng: random.Random, now: dt.datetime | None = None) -> dict:
    """Past visits (skipped if any visit exists) and the schedules, then the demo campaigns
    (skipped if any campaign exists)."""
    now = now or timezone.now()
    if Visit.objects.exists():
        result = {"visits": Visit.objects.count(), "skipped": True}
    else:
        result = _seed_past_visits(rng=rng, now=now)
    campaigns = seed_campaigns(rng=rng, now=now)
    if not campaigns["skipped"]:
        result = {**result, "skipped": False, "campaign_visits": campaigns["visits"]}
    result["summary"] = campaigns["summary"]
    return result


def _seed_past_visits(*, rng: random.Random, now: dt.datetime) -> dict:
    workers = dict(
        RoleAssignment.objects.filter(role=Role.GRID_WORKER)
        .order_by("user_id")
        .values_list("node_id", "user_id")
    )
    households = list(Household.objects.values_list("pk", "grid_id", "created_at"))
    # Back-date the files: they were opened over the last two years, not today.
    created = {pk: now - dt.timedelta(days=rng.randint(400, 730)) for pk, _g, _c in households}
    with transaction.atomic():
        for pk, when in created.items():
            Household.objects.filter(pk=pk).update(created_at=when)
        ids = [pk for pk, _g, _c in households]
        schedules = {}
        for i in range(0, len(ids), CHUNK):  # SQLite limits the variables of one statement
            schedules.update(schedules_compute(ids[i : i + CHUNK], today=now.date()))
        visits, visitor_rows, reached = [], [], 0
        for pk, grid_id, _c in households:
            vc = schedules[pk].visit_class
            if vc is None or rng.random() < 0.04:
                continue  # a few households nobody has reached yet
            reached += 1
            cycle = max(7.0, vc.approx_days)
            # The last visit mostly inside the cycle; about one in eight a little past it
            # (overdue). Before it, a year of visits about a cycle apart, with the gaps of a
            # real year: now and then a cycle missed, never before the file was opened.
            back = rng.uniform(0.05, 1.15) * cycle
            first = max(now - dt.timedelta(days=YEAR), created[pk])
            while (day := now - dt.timedelta(days=back)) >= first:
                at = min(_at(timezone.localtime(day).date(), rng), now - dt.timedelta(hours=1))
                visits.append(
                    Visit(
                        household_id=pk,
                        grid_id=grid_id,
                        visited_at=at,
                        mode=rng.choice(MODES),
                        seen=rng.choice(SEEN),
                        created_by_id=workers.get(grid_id),
                        created_at=at,
                    )
                )
                missed = 2 if rng.random() < MISSED_CYCLE else 1
                back += cycle * missed * rng.uniform(0.75, 1.1)
        Visit.objects.bulk_create(visits, batch_size=2000)
        through = Visit.visitors.through
        for v in Visit.objects.filter(created_by__isnull=False).values_list("pk", "created_by_id"):
            visitor_rows.append(through(visit_id=v[0], user_id=v[1]))
        through.objects.bulk_create(visitor_rows, batch_size=5000)
    counts = visit_states_refresh()
    return {"visits": len(visits), "households_visited": reached, "skipped": False, **counts}


# --- campaigns -------------------------------------------------------------------------------

# 重阳节 (the 9th day of the 9th lunar month) in the Gregorian calendar.
CHONGYANG = {
    2024: dt.date(2024, 10, 11),
    2025: dt.date(2025, 10, 29),
    2026: dt.date(2026, 10, 18),
    2027: dt.date(2027, 10, 8),
    2028: dt.date(2028, 10, 26),
    2029: dt.date(2029, 10, 16),
    2030: dt.date(2030, 10, 5),
}
CAMPAIGN_SEEN = [
    "送去慰问品，老人精神很好。",
    "陪老人聊天，了解身体和用药情况。",
    "检查家中用电用气安全。",
    "老人反映想参加社区老年食堂。",
    "子女在外地，叮嘱有事打网格员电话。",
]
GIFTS = ["重阳糕、牛奶", "米一袋、油一桶", "棉被一床", "保暖内衣一套"]


def _office(role: Role, username: str) -> tuple[User, RoleAssignment] | None:
    """The demo account `username` with `role`, else the first user with that role."""
    qs = RoleAssignment.objects.filter(role=role, user__is_active=True).select_related(
        "user", "node"
    )
    a = qs.filter(user__username=username).first() or qs.order_by("node__path", "pk").first()
    return (a.user, a) if a else None


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(rng.randint(9, 17), rng.choice([0, 15, 30, 45])))
    )


def _visit_targets(campaign, share: float, *, rng, last: dt.datetime) -> list[int]:
    """Visits for about `share` of the campaign's targets, on days within its window up to
    `last`, by the targets' assignees, with the gifts given; the targets are then synced."""
    targets = list(campaign.targets.values_list("pk", "household_id", "grid_id"))
    assignees: dict[int, int] = {}
    for t_pk, u_pk in CampaignTarget.assignees.through.objects.filter(
        campaigntarget__campaign=campaign
    ).values_list("campaigntarget_id", "user_id"):
        assignees.setdefault(t_pk, u_pk)
    span = max(0, (min(campaign.end, timezone.localdate(last)) - campaign.start).days)
    visits = []
    for t_pk, hid, grid_id in targets:
        if rng.random() >= share:
            continue
        at = _at(campaign.start + dt.timedelta(days=rng.randint(0, span)), rng)
        if at > last:
            at = last - dt.timedelta(minutes=rng.randint(5, 600))
        visits.append(
            Visit(
                household_id=hid,
                grid_id=grid_id,
                visited_at=at,
                mode=VisitMode.HOME,
                seen=rng.choice(CAMPAIGN_SEEN),
                campaign=campaign,
                gift_goods=rng.choice(GIFTS),
                gift_amount=rng.choice([200, 300, 500]),
                created_by_id=assignees.get(t_pk),
                created_at=at,
            )
        )
    Visit.objects.bulk_create(visits, batch_size=2000)
    through = Visit.visitors.through
    through.objects.bulk_create(
        [
            through(visit_id=pk, user_id=u)
            for pk, u in Visit.objects.filter(
                campaign=campaign, created_by__isnull=False
            ).values_list("pk", "created_by_id")
        ],
        batch_size=5000,
    )
    services._campaign_targets_sync(campaign)
    return [v.household_id for v in visits]


def seed_campaigns(*, rng: random.Random, now: dt.datetime | None = None) -> dict:
    """This year's 重阳节 campaign of the `street` account (closed, mostly done) and an open
    寒潮 campaign of the `community` account (started 6 days ago, under half done)."""
    if Campaign.objects.exists():
        return {"skipped": True, "visits": 0, "summary": ""}
    now = now or timezone.now()
    today = timezone.localdate(now)
    street = _office(Role.STREET_OFFICER, "street")
    community = _office(Role.COMMUNITY_SECRETARY, "community")
    tags = {t.name: t for t in Tag.objects.all()}
    touched: list[int] = []
    names = []
    with transaction.atomic():
        past = [d for d in CHONGYANG.values() if d + dt.timedelta(days=3) < today]
        if street and past and street[1].node.level <= Level.COMMUNITY:
            day = max(past)
            user, a = street
            start, end = day - dt.timedelta(days=6), day + dt.timedelta(days=3)
            campaign = services.campaign_create(
                acting_user=user,
                data={
                    "name": f"{day.year}年重阳节走访慰问高龄独居老人",
                    "kind": CampaignKind.HOLIDAY,
                    "node": a.node,
                    "start": start,
                    "end": end,
                    "rule": "tags",
                    "tags": [tags[n] for n in ("高龄", "独居") if n in tags],
                    "description": "为辖区80岁以上及独居老人送去节日慰问品，了解生活和健康状况。",
                },
                now=_at(start - dt.timedelta(days=7), rng),
            )
            services.campaign_act(
                acting_user=user,
                campaign=campaign,
                action="launch",
                now=_at(start - dt.timedelta(days=1), rng),
            )
            touched += _visit_targets(campaign, 0.93, rng=rng, last=_at(end, rng).replace(hour=18))
            services.campaign_act(
                acting_user=user,
                campaign=campaign,
                action="close",
                note="按期完成，个别老人外出未遇，已电话问候。",
                now=_at(end + dt.timedelta(days=2), rng),
            )
            names.append(campaign.name)
        if community and community[1].node.level <= Level.GRID:
            user, a = community
            start = today - dt.timedelta(days=6)
            campaign = services.campaign_create(
                acting_user=user,
                data={
                    "name": f"{today.year}年寒潮降温困难群众走访",
                    "kind": CampaignKind.EVENT,
                    "node": a.node,
                    "start": start,
                    "end": today + dt.timedelta(days=8),
                    "rule": "tags",
                    "tags": [
                        tags[n] for n in ("独居", "高龄", "低保", "特困", "三无") if n in tags
                    ],
                    "description": "寒潮来临，逐户查看困难家庭取暖、用电和储备情况。",
                },
                now=_at(start - dt.timedelta(days=1), rng),
            )
            services.campaign_act(
                acting_user=user, campaign=campaign, action="launch", now=_at(start, rng)
            )
            touched += _visit_targets(campaign, 0.45, rng=rng, last=now - dt.timedelta(hours=1))
            names.append(campaign.name)
        # The campaign visits are the households' latest: move their due dates on.
        ids = sorted(set(touched))
        for i in range(0, len(ids), 1000):
            services._states_write(ids[i : i + 1000], today=today, now=now)
    if not names:
        return {"skipped": True, "visits": 0, "summary": ""}
    return {
        "skipped": False,
        "visits": len(touched),
        "summary": f"演示走访活动已生成：{'、'.join(names)}（活动走访 {len(touched)} 次）。",
    }
