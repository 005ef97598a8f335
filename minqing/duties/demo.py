"""Demo data of duties (called by seed_demo after the county, cases and visits exist).

The three rules come from the data migration. Holders: the demo `secretary` (社区书记, 5 key
households of her community), the demo `cadre` (其他干部 of 县民政局: 1 community, 1 hardship
household, 3 service targets) and about thirty cadres of county bureaus and street offices
(leaders and others), each with a year of days in the community and of visits to their linked
households. Some are diligent, some are not, a few started three months ago and a few link
fewer than their quota, so the monthly report shows its red.
"""

import datetime as dt
import random

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.duties.models import DayKind, DutyDay, DutyHolder, DutyLink, DutyRule, LinkKind
from minqing.grids.models import Level, Node
from minqing.registry import demo_names as W
from minqing.registry.models import Household, Person
from minqing.visits.models import Visit, VisitMode

DEMO_PASSWORD = "minqing-demo"
HARDSHIP_TAGS = ["低保", "特困", "贫困户", "零就业家庭", "三无", "残疾"]
TARGET_TAGS = ["独居", "空巢", "高龄", "留守儿童", "留守老人", "孤儿", "残疾", "4050"]
COUNTY_UNITS = [
    ("县民政局", ["局长", "副局长"], ["社会救助科科长", "科员", "科员"]),
    ("县人社局", ["局长"], ["就业促进科科长", "科员", "科员"]),
    ("县卫健委", ["副主任"], ["基层卫生科科员", "科员"]),
    ("县住建局", ["副局长"], ["房管科科员", "科员"]),
    ("县委组织部", ["副部长"], ["组织科科员", "科员"]),
    ("县教育局", ["副局长"], ["基础教育科科员", "科员"]),
    ("县农业农村局", ["局长"], ["科员", "科员", "科员"]),
]
STREET_POSITIONS = (["党工委书记", "办事处主任"], ["社会事务办主任", "科员", "科员"])
DAY_NOTES = [
    "参加居民议事会，听取意见",
    "走访困难家庭，了解生活情况",
    "在社区服务站接待群众来访",
    "协调小区加装电梯事宜",
    "检查社区疫情防控和安全生产",
    "调研老旧小区改造需求",
    "参加社区“三会一课”",
]
SEEN = [
    "了解家庭收入和低保待遇落实情况，无新增困难。",
    "老人身体尚可，叮嘱按时服药。",
    "询问孩子就学情况，帮助联系学校。",
    "宣传医保和养老保险政策。",
    "家中取暖设施老化，已联系社区帮助更换。",
    "了解就业意愿，推荐公益性岗位。",
]


def _months(start: dt.date, today: dt.date) -> list[dt.date]:
    out, m = [], start.replace(day=1)
    while m <= today:
        out.append(m)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    return out


def _month_days(first: dt.date, today: dt.date, since: dt.date) -> list[dt.date]:
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    days = []
    d = max(first, since)
    while d < nxt and d <= today:
        days.append(d)
        d += dt.timedelta(days=1)
    return days


def _name(rng: random.Random) -> str:
    surname = rng.choices(W.SURNAMES, weights=W.SURNAME_WEIGHTS)[0]
    pool = W.GIVEN_MALE if rng.random() < 0.6 else W.GIVEN_FEMALE
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.6 else "")
    return surname + given


def _pools(communities):
    """Hardship households and service targets, per community code."""
    by_code = {c.code: c for c in communities}
    hardship: dict[str, list[int]] = {c: [] for c in by_code}
    for pk, grid_code in (
        Household.objects.filter(
            Q(tags__name__in=HARDSHIP_TAGS) | Q(members__tags__name__in=HARDSHIP_TAGS)
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", "grid__code")
    ):
        if grid_code[:12] in hardship:
            hardship[grid_code[:12]].append(pk)
    targets: dict[str, list[tuple[int, int]]] = {c: [] for c in by_code}
    for pk, household_id, grid_code in (
        Person.objects.filter(tags__name__in=TARGET_TAGS, household__isnull=False)
        .distinct()
        .order_by("pk")
        .values_list("pk", "household_id", "grid__code")
    ):
        if grid_code[:12] in targets:
            targets[grid_code[:12]].append((pk, household_id))
    # A community without tagged residents still gets some: any households and people.
    for code in by_code:
        if len(hardship[code]) < 40:
            hardship[code] += list(
                Household.objects.filter(grid__code__startswith=code)
                .exclude(pk__in=hardship[code])
                .order_by("pk")
                .values_list("pk", flat=True)[: 40 - len(hardship[code])]
            )
        if len(targets[code]) < 40:
            targets[code] += list(
                Person.objects.filter(grid__code__startswith=code, household__isnull=False)
                .order_by("pk")
                .values_list("pk", "household_id")[:40]
            )
    return hardship, targets


def seed(*, rng: random.Random, now=None) -> dict:
    """Idempotent: returns {"skipped": True} when the demo rows exist already."""
    if DutyHolder.objects.exists():
        return {"skipped": True, "summary": ""}
    rules = {r.code: r for r in DutyRule.objects.all()}
    county = Node.objects.filter(level=Level.COUNTY).order_by("code").first()
    communities = list(Node.objects.filter(level=Level.COMMUNITY).order_by("code"))
    if county is None or not communities or not {"leader", "cadre", "secretary"} <= set(rules):
        return {"skipped": True, "summary": ""}
    now = now or timezone.now()
    today = timezone.localdate(now)
    start = (today.replace(day=1) - dt.timedelta(days=330)).replace(day=1)  # 12 months back
    late_start = (today.replace(day=1) - dt.timedelta(days=62)).replace(day=1)  # 3 months back
    streets = list(Node.objects.filter(level=Level.STREET).order_by("code"))
    by_street = {s.pk: [c for c in communities if c.parent_id == s.pk] for s in streets}
    hardship, targets = _pools(communities)
    taken_households: set[int] = set()
    taken_people: set[int] = set()
    password = make_password(DEMO_PASSWORD)

    # (user, rule code, unit, position, node, communities to draw from, since, diligence)
    plans = []
    secretary = User.objects.filter(username="secretary").first()
    if secretary is not None:
        a = RoleAssignment.objects.filter(user=secretary, role=Role.COMMUNITY_SECRETARY).first()
        node = a.node if a else communities[-1]
        plans.append(
            (secretary, "secretary", f"{node.name}居委会", "党委书记", node, [node], start, 0.9)
        )
    cadre = User.objects.filter(username="cadre").first()
    if cadre is not None:
        plans.append((cadre, "cadre", "县民政局", "科员", county, communities[:1], start, 0.85))

    units = [(u, county, communities, lead, rest) for u, lead, rest in COUNTY_UNITS]
    units += [
        (f"{s.name}办事处", s, by_street[s.pk] or communities, *STREET_POSITIONS) for s in streets
    ]
    n = 0
    new_users, new_roles = [], []
    for unit, node, pool, leaders, others in units:
        for position, code in [(p, "leader") for p in leaders] + [(p, "cadre") for p in others]:
            n += 1
            user = User(
                username=f"gb{n:02d}",
                full_name=_name(rng),
                mobile=f"139{rng.randrange(10**8):08d}",
                password=password,
            )
            new_users.append(user)
            since = late_start if rng.random() < 0.1 else start
            diligence = rng.choice([1.0, 0.95, 0.9, 0.85, 0.7, 0.5])
            plans.append((user, code, unit, position, node, pool, since, diligence))
    with transaction.atomic():
        User.objects.bulk_create(new_users)
        for user in new_users:
            node = next(p[4] for p in plans if p[0] is user)
            new_roles.append(
                RoleAssignment(user=user, role=Role.CADRE, node=node, data_scope=DataScope.SELF)
            )
        RoleAssignment.objects.bulk_create(new_roles)

        holders = [
            DutyHolder(
                user=user,
                rule=rules[code],
                unit=unit,
                position=position,
                node=node,
                active_from=since,
                created_at=now,
            )
            for user, code, unit, position, node, _pool, since, _d in plans
        ]
        DutyHolder.objects.bulk_create(holders)

        links: list[DutyLink] = []
        visit_targets: dict[int, list[int]] = {}  # holder pk → households to visit
        day_places: dict[int, list[Node]] = {}
        for h, (_u, code, _unit, _pos, _node, pool, since, _d) in zip(holders, plans, strict=True):
            rule = rules[code]
            # A few link fewer than their quota; the demo accounts show a complete set.
            short = rng.random() < 0.12 and h.user.username not in ("secretary", "cadre")
            n_comm = max(0, rule.communities - (1 if short and rule.communities > 1 else 0))
            chosen = rng.sample(pool, min(n_comm, len(pool))) if n_comm else []
            if code == "secretary":
                chosen_for_households = [h.node]
            else:
                chosen_for_households = chosen or rng.sample(pool, 1)
            day_places[h.pk] = chosen or ([h.node] if h.node.level == Level.COMMUNITY else [])
            for c in chosen:
                links.append(
                    DutyLink(holder=h, kind=LinkKind.COMMUNITY, community=c, started_on=since)
                )
            homes: list[int] = []
            n_hh = rule.households - (1 if short and rule.households > 1 else 0)
            candidates = sorted(
                {
                    pk
                    for c in chosen_for_households
                    for pk in hardship.get(c.code, [])
                    if pk not in taken_households
                }
            )
            for pk in rng.sample(candidates, min(n_hh, len(candidates))):
                taken_households.add(pk)
                homes.append(pk)
                links.append(
                    DutyLink(holder=h, kind=LinkKind.HOUSEHOLD, household_id=pk, started_on=since)
                )
            n_t = rule.targets - (1 if short and rule.targets > 1 else 0)
            people = list(
                {
                    p[0]: p
                    for c in chosen_for_households
                    for p in targets.get(c.code, [])
                    if p[0] not in taken_people
                }.values()
            )
            for pk, household_id in rng.sample(people, min(n_t, len(people))):
                taken_people.add(pk)
                homes.append(household_id)
                links.append(
                    DutyLink(holder=h, kind=LinkKind.TARGET, person_id=pk, started_on=since)
                )
            visit_targets[h.pk] = sorted(set(homes))
        DutyLink.objects.bulk_create(links)

        days: list[DutyDay] = []
        visits: list[Visit] = []
        visitors: list[int] = []
        grids = dict(
            Household.objects.filter(
                pk__in={pk for v in visit_targets.values() for pk in v}
            ).values_list("pk", "grid_id")
        )
        for h, plan in zip(holders, plans, strict=True):
            diligence = plan[7]
            rule = h.rule
            for first in _months(h.active_from, today):
                month_days = _month_days(first, today, h.active_from)
                working = [d for d in month_days if d.weekday() < 5] or month_days
                if not working:
                    continue
                # Days in the community: leaders mostly 3 or more, now and then too few.
                places = day_places.get(h.pk) or []
                if places and rule.days_per_month:
                    want = rule.days_per_month + rng.choice([0, 0, 1, 2])
                    if rng.random() > diligence:
                        want = rng.randint(0, rule.days_per_month - 1)
                    if first.year == today.year and first.month == today.month:
                        want = round(want * today.day / 30)
                    for d in sorted(rng.sample(working, min(want, len(working)))):
                        days.append(
                            DutyDay(
                                holder=h,
                                community=rng.choice(places),
                                date=d,
                                kind=rng.choices(list(DayKind.values), weights=[5, 3, 2])[0],
                                note=rng.choice(DAY_NOTES),
                                created_by_id=h.user_id,
                                created_at=now,
                            )
                        )
                elif places and rng.random() < 0.15:
                    d = rng.choice(working)
                    days.append(
                        DutyDay(
                            holder=h,
                            community=rng.choice(places),
                            date=d,
                            kind=DayKind.RECEPTION,
                            note=rng.choice(DAY_NOTES),
                            created_by_id=h.user_id,
                            created_at=now,
                        )
                    )
                # Visits: one a month to each linked household, unless this holder slipped.
                for household_id in visit_targets.get(h.pk, []):
                    if rng.random() > diligence:
                        continue
                    d = rng.choice(working)
                    when = timezone.make_aware(
                        dt.datetime.combine(d, dt.time(rng.randint(9, 16), rng.choice([0, 30])))
                    )
                    if when > now:
                        continue
                    visits.append(
                        Visit(
                            household_id=household_id,
                            grid_id=grids[household_id],
                            visited_at=when,
                            mode=rng.choice([VisitMode.HOME] * 4 + [VisitMode.PHONE]),
                            seen=rng.choice(SEEN),
                            created_by_id=h.user_id,
                            created_at=when,
                        )
                    )
                    visitors.append(h.user_id)
        DutyDay.objects.bulk_create(days, batch_size=2000)
        Visit.objects.bulk_create(visits, batch_size=2000)
        through = Visit.visitors.through
        through.objects.bulk_create(
            [through(visit_id=v.pk, user_id=u) for v, u in zip(visits, visitors, strict=True)],
            batch_size=5000,
        )
        _campaigns_ticked({v.household_id for v in visits})
    _refresh_schedules(sorted(grids), today)
    return {
        "skipped": False,
        "summary": (
            f"联系群众演示数据已生成：{len(holders)} 名干部，{len(links)} 个联系对象，"
            f"{len(days)} 天驻社区，{len(visits)} 次走访。"
        ),
        "holders": len(holders),
        "visits": len(visits),
        "days": len(days),
    }


def _campaigns_ticked(household_ids: set[int]) -> None:
    """The cadres' visits tick the open campaigns' households they reached in the window, as a
    visit recorded on the page does (visits.services._campaign_targets_close)."""
    from minqing.visits.models import Campaign, CampaignStatus
    from minqing.visits.services import _campaign_targets_sync

    for campaign in Campaign.objects.filter(status=CampaignStatus.OPEN):
        _campaign_targets_sync(campaign, household_ids)


def _refresh_schedules(household_ids: list[int], today: dt.date) -> None:
    """The new visits move these households' last visit and next due date."""
    from minqing.visits.services import household_visit_state_refresh

    for household in Household.objects.filter(pk__in=household_ids):
        with transaction.atomic():
            household_visit_state_refresh(household=household, today=today)
