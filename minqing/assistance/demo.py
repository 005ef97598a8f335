"""Demo data of assistance (called by seed_demo after the county, cases and visits exist).

Pairings of every kind — 一对一 (cadres ↔ 低保 households), 多对一 (several cadres ↔ a 特困
household), 4 groups × 2 households (weekly), 爱心妈妈 ↔ orphans (about 90% covered, so the
unpaired list is not empty), 党员 ↔ elderly living alone, units ↔ communities — with a year of
help logs with realistic gaps, the demo account `cadre` as a helper with four households in
different grids (two of them overdue) and one 爱心妈妈 disqualified for neglect.

The demo county has no orphans on file: a few children are tagged 孤儿 here.
"""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minqing.accounts.models import User
from minqing.assistance.models import (
    FundSource,
    HelpEntry,
    Helper,
    HelperGroup,
    HelperKind,
    HelpKind,
    Pairing,
    Programme,
    TargetKind,
)
from minqing.assistance.schedule import SPRING_FESTIVAL, birthday_in, interval_days
from minqing.grids.models import Level, Node
from minqing.registry import demo_names as W
from minqing.registry.models import Household, Person, Place, PlaceKind, Tag

TEXTS = {
    HelpKind.VISIT: ["上门看望，了解近况。", "节前走访慰问。", "电话问候，叮嘱注意身体。"],
    HelpKind.GOODS: ["送去米、面、油。", "送去过冬棉被。", "送去学习用品。"],
    HelpKind.HEALTH: ["陪同到卫生院体检。", "送药上门，讲解用药。"],
    HelpKind.SKILLS: ["介绍参加电商技能培训。", "联系家政培训班。"],
    HelpKind.EMPLOYMENT: ["推荐到园区企业应聘。", "介绍公益性岗位。"],
    HelpKind.POLICY: ["讲解低保和医保政策。", "协助办理残疾人补贴。"],
    HelpKind.EMOTIONAL: ["谈心谈话，鼓励树立信心。", "陪孩子做作业、聊天。"],
    HelpKind.LIVING: ["帮忙打扫卫生、买菜。", "修理漏水的水龙头。"],
    HelpKind.PRODUCTION: ["协调种苗，指导种植。", "帮助联系农产品销路。"],
    HelpKind.INDUSTRY: ["介绍加入合作社。"],
    HelpKind.LABOUR: ["组织志愿者帮助秋收。"],
    HelpKind.TECHNOLOGY: ["请农技员上门指导。"],
}
UNITS = ["县民政局", "县教育局", "县人民医院", "县供电公司", "县农业农村局", "县财政局"]


def _name(rng: random.Random, male: bool) -> str:
    surname = rng.choices(W.SURNAMES, weights=W.SURNAME_WEIGHTS)[0]
    given = W.GIVEN_MALE if male else W.GIVEN_FEMALE
    return surname + rng.choice(given) + (rng.choice(given) if rng.random() < 0.7 else "")


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


class _Log:
    """Help-log rows for bulk_create, with the money realistic and the gaps deliberate."""

    def __init__(self, rng: random.Random, today: dt.date):
        self.rng = rng
        self.today = today
        self.rows: list[HelpEntry] = []

    def add(self, pairing: Pairing, helper: Helper, day: dt.date, kind=None, creator=None):
        rng = self.rng
        kind = kind or rng.choice([HelpKind.VISIT] * 5 + [HelpKind.GOODS] * 2 + list(TEXTS))
        amount = goods_value = None
        goods = ""
        source = ""
        if kind == HelpKind.GOODS:
            goods = rng.choice(["米面油", "棉被", "牛奶", "学习用品", "衣物"])
            goods_value = Decimal(rng.choice([80, 120, 150, 200, 300]))
            source = rng.choice([FundSource.CADRE, FundSource.SOCIAL])
        elif rng.random() < 0.12:
            amount = Decimal(rng.choice([200, 300, 500, 800, 1000]))
            source = rng.choice([FundSource.POVERTY, FundSource.CADRE, FundSource.SOCIAL])
        self.rows.append(
            HelpEntry(
                pairing=pairing,
                helper=helper,
                kind=kind,
                occurred_on=day,
                text=rng.choice(TEXTS[kind]),
                amount=amount,
                goods=goods,
                goods_value=goods_value,
                fund_source=source,
                created_by=creator or helper.user,
                created_at=timezone.make_aware(dt.datetime.combine(day, dt.time(18, 0))),
            )
        )

    def rhythm(self, pairing: Pairing, helpers: list[Helper], *, gap: float = 0.15, stop_days=0):
        """Contacts through the year at the programme's rhythm, some missed; the last
        `stop_days` without any (an overdue pairing)."""
        rng = self.rng
        step = interval_days(pairing.programme.every, pairing.programme.unit)
        day = pairing.start + dt.timedelta(days=rng.randint(1, max(1, int(step * 0.6))))
        last = self.today - dt.timedelta(days=stop_days)
        while day <= last:
            if rng.random() >= gap:
                self.add(pairing, rng.choice(helpers), day)
            day += dt.timedelta(days=max(1, int(step * rng.uniform(0.7, 1.0))))

    def occasions(self, pairing: Pairing, helper: Helper, birth: dt.date | None, miss: float):
        """春节, 六一 and birthday visits of an 爱心妈妈, most of them kept."""
        days = []
        for year in (self.today.year - 1, self.today.year):
            if year in SPRING_FESTIVAL:
                days.append(SPRING_FESTIVAL[year] - dt.timedelta(days=2))
            days.append(dt.date(year, 6, 1))
            if birth is not None:
                days.append(birthday_in(year, birth))
        for day in days:
            if pairing.start <= day <= self.today and self.rng.random() >= miss:
                self.add(pairing, helper, day, kind=HelpKind.VISIT)


def _pairing(programme, target, grid, start, **extra) -> Pairing:
    field = {
        TargetKind.HOUSEHOLD: "household",
        TargetKind.PERSON: "person",
        TargetKind.NODE: "node",
        TargetKind.PLACE: "place",
    }[TargetKind(programme.target_kind)]
    return Pairing(
        programme=programme,
        target_kind=programme.target_kind,
        grid=grid,
        start=start,
        **{field: target},
        **extra,
    )


def seed(*, rng: random.Random, now=None) -> dict:
    """Idempotent: returns {"skipped": True} when the demo rows exist already."""
    if Helper.objects.exists() or Pairing.objects.exists():
        return {"skipped": True, "summary": ""}
    county = Node.objects.filter(level=Level.COUNTY).order_by("code").first()
    programmes = {p.code: p for p in Programme.objects.all()}
    needed = {"cadre", "many", "group", "mother", "ribbon", "unit"}
    if county is None or not needed <= set(programmes):
        return {"skipped": True, "summary": ""}
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        return _seed(rng, today, county, programmes)


def _seed(rng, today, county, programmes) -> dict:
    log = _Log(rng, today)
    tags = {t.name: t for t in Tag.objects.all()}
    communities = list(Node.objects.filter(level=Level.COMMUNITY).order_by("code"))
    office = (
        User.objects.filter(username="county").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
    )

    def start_within(days_back_low=200, days_back_high=365) -> dt.date:
        return today - dt.timedelta(days=rng.randint(days_back_low, days_back_high))

    # --- helpers ----------------------------------------------------------------------------
    helpers: list[Helper] = []
    cadre_user = User.objects.filter(username="cadre").first()
    cadre = None
    if cadre_user is not None:
        cadre = Helper(
            kind=HelperKind.CADRE,
            name=cadre_user.full_name or cadre_user.username,
            phone=cadre_user.mobile,
            unit_name="县民政局",
            user=cadre_user,
            node=county,
            created_by=office,
        )
        helpers.append(cadre)
    cadres = [
        Helper(
            kind=HelperKind.CADRE,
            name=_name(rng, rng.random() < 0.6),
            phone=_phone(rng),
            unit_name=rng.choice(UNITS),
            node=county,
            created_by=office,
        )
        for _ in range(24)
    ]
    party = [
        Helper(
            kind=HelperKind.PARTY,
            name=_name(rng, rng.random() < 0.5),
            phone=_phone(rng),
            unit_name=rng.choice(UNITS),
            node=rng.choice(communities),
            created_by=office,
        )
        for _ in range(16)
    ]
    units = [
        Helper(kind=HelperKind.UNIT, name=name, unit_name=name, node=county, created_by=office)
        for name in UNITS[:3]
    ]
    helpers += cadres + party + units
    Helper.objects.bulk_create(helpers)

    pairings: list[Pairing] = []
    members: list[tuple[Pairing, list[Helper]]] = []

    def add(p: Pairing, who: list[Helper]) -> Pairing:
        p.created_by = office
        pairings.append(p)
        members.append((p, who))
        return p

    # --- 一对一: cadres ↔ 低保 households; the demo cadre gets 4 in different grids ------------
    dibao = list(
        Household.objects.filter(tags=tags.get("低保")).select_related("grid").order_by("pk")[:200]
    )
    rng.shuffle(dibao)
    by_grid: dict[int, Household] = {}
    for h in dibao:
        by_grid.setdefault(h.grid_id, h)
    if len(by_grid) < 4:
        # A small county has few 低保 households: other households in need fill the cadre's four.
        for h in (
            Household.objects.filter(members__tags__isnull=False)
            .exclude(grid_id__in=list(by_grid))
            .select_related("grid")
            .distinct()
            .order_by("pk")[:200]
        ):
            by_grid.setdefault(h.grid_id, h)
            if len(by_grid) >= 4:
                break
    cadre_households = list(by_grid.values())[:4]
    if cadre is not None:
        for i, h in enumerate(cadre_households):
            p = add(
                _pairing(
                    programmes["cadre"],
                    h,
                    h.grid,
                    start_within(250, 330),
                    causes=rng.choice([["illness"], ["age", "disability"], ["skills", "capital"]]),
                    work_ability=rng.choice(["able", "unable"]),
                ),
                [cadre],
            )
            # Two of them overdue: the cadre has not been for over a month.
            p._demo = {"stop": 45 if i < 2 else 0}
    others = [h for h in dibao if h not in cadre_households][: len(cadres)]
    for h, helper in zip(others, cadres, strict=False):
        p = add(
            _pairing(
                programmes["cadre"],
                h,
                h.grid,
                start_within(),
                causes=rng.sample(
                    ["attitude", "age", "illness", "skills", "capital", "information"], 2
                ),
                work_ability=rng.choice(["able", "unable", ""]),
            ),
            [helper],
        )
        p._demo = {"stop": rng.choice([0, 0, 0, 0, 40])}

    # --- 多对一: 3 cadres ↔ a 特困 household --------------------------------------------------
    tekun = list(
        Household.objects.filter(members__tags=tags.get("特困"))
        .exclude(pk__in=[h.pk for h in dibao])
        .select_related("grid")
        .distinct()
        .order_by("pk")[:4]
    )
    for i, h in enumerate(tekun):
        who = [cadres[(i * 3 + k) % len(cadres)] for k in range(3)]
        p = add(
            _pairing(
                programmes["many"],
                h,
                h.grid,
                start_within(),
                causes=["age", "illness"],
                work_ability="unable",
            ),
            who,
        )
        p._demo = {"stop": 0}

    # --- 4 groups × 2 households, weekly, in the second community ------------------------------
    group_community = communities[1] if len(communities) > 1 else communities[0]
    group_households = list(
        Household.objects.filter(grid__parent=group_community)
        .exclude(pk__in=[h.pk for h in dibao + tekun])
        .filter(Q(tags__isnull=False) | Q(members__tags__isnull=False))
        .select_related("grid")
        .distinct()
        .order_by("pk")[:8]
    )
    groups = []
    for i in range(min(4, len(group_households) // 2)):
        g = HelperGroup.objects.create(
            programme=programmes["group"], name=f"第{'一二三四'[i]}帮扶小组", node=group_community
        )
        who = party[i * 3 : i * 3 + 3] or party[:3]
        g.members.set(who)
        groups.append(g)
        start = start_within(300, 340)
        for h in group_households[i * 2 : i * 2 + 2]:
            p = add(_pairing(programmes["group"], h, h.grid, start, group=g), who)
            # The fourth group has let its weekly visits slip lately.
            p._demo = {"stop": 16 if i == 3 else 0, "gap": 0.25 if i == 2 else 0.1}

    # --- 爱心妈妈 ↔ orphans (about 90%), one mother disqualified ------------------------------
    orphan_tag = tags.get("孤儿")
    orphans = []
    if orphan_tag is not None:
        kids = list(
            Person.objects.filter(birth_date__gt=today - dt.timedelta(days=16 * 365))
            .select_related("household__grid", "grid")
            .order_by("pk")
        )
        step = max(1, len(kids) // 30)
        orphans = kids[::step][:30]
        Person.tags.through.objects.bulk_create(
            [Person.tags.through(person_id=o.pk, tag_id=orphan_tag.pk) for o in orphans],
            ignore_conflicts=True,
        )
        # 孤儿 is a 重点必访 group: their homes' visit schedules move to its rhythm, as a tag
        # given on the page moves it (registry.services._household_schedule_refresh).
        from minqing.visits.services import household_states_write

        household_states_write([o.household_id for o in orphans if o.household_id])
    mothers = []
    paired_orphans = orphans[: max(0, len(orphans) - 2)]
    for o in paired_orphans:
        mothers.append(
            Helper(
                kind=HelperKind.MOTHER,
                name=_name(rng, False),
                phone=_phone(rng),
                unit_name=rng.choice(["县妇联", "城关街道", "县人民医院", "县实验小学"]),
                node=o.grid.parent or county,
                created_by=office,
            )
        )
    Helper.objects.bulk_create(mothers)
    mother_pairs = []
    for o, m in zip(paired_orphans, mothers, strict=True):
        grid = o.household.grid if o.household_id else o.grid
        start = start_within(300, 360)
        if o.birth_date and start < o.birth_date:  # a baby is paired once born, not before
            start = min(o.birth_date + dt.timedelta(days=rng.randint(7, 60)), today)
        p = add(_pairing(programmes["mother"], o, grid, start, work_ability="unable"), [m])
        p._demo = {"stop": 0, "birth": o.birth_date, "miss": 0.15}
        mother_pairs.append(p)

    # --- 党员 ↔ elderly living alone (黄丝带) -------------------------------------------------
    alone = list(
        Person.objects.filter(tags=tags.get("独居"))
        .select_related("household__grid", "grid")
        .order_by("pk")[:10]
    )
    for i, person in enumerate(alone):
        grid = person.household.grid if person.household_id else person.grid
        p = add(
            _pairing(
                programmes["ribbon"],
                person,
                grid,
                start_within(),
                causes=["age"],
                work_ability="unable",
            ),
            [party[(i + 12) % len(party)]],
        )
        p._demo = {"stop": 0}

    # --- units ↔ communities; a city school ↔ a school -----------------------------------------
    for unit, community in zip(units[:2], communities[2:4] or communities[:2], strict=False):
        p = add(_pairing(programmes["unit"], community, community, start_within(330, 365)), [unit])
        p._demo = {"stop": 0}
    school = (
        Place.objects.filter(kind=PlaceKind.SCHOOL).select_related("grid").order_by("pk").first()
    )
    if school is not None and "school" in programmes:
        p = add(
            _pairing(programmes["school"], school, school.grid, start_within(300, 365)), [units[2]]
        )
        p._demo = {"stop": 0}

    Pairing.objects.bulk_create(pairings)
    through = Pairing.helpers.through
    through.objects.bulk_create(
        [through(pairing_id=p.pk, helper_id=h.pk) for p, who in members for h in who]
    )

    # --- a year of help logs ---------------------------------------------------------------
    for p, who in members:
        info = p._demo
        log.rhythm(p, who, gap=info.get("gap", 0.15), stop_days=info["stop"])
        if p.programme.code == "mother":
            log.occasions(p, who[0], info.get("birth"), info["miss"])
        elif p.programme.on_spring_festival and rng.random() < 0.8:
            day = SPRING_FESTIVAL.get(today.year) or SPRING_FESTIVAL.get(today.year - 1)
            if day and p.start <= day <= today:
                log.add(p, who[0], day - dt.timedelta(days=3), kind=HelpKind.GOODS)
    HelpEntry.objects.bulk_create(log.rows, batch_size=2000)
    # A 走访慰问 in the help log is a visit for the household's schedule (visits.services
    # help_visits_last): the paired homes' schedules are written again, as help_entry_add does
    # (18 homes read 从未走访 beside a logged visit, QA).
    from minqing.visits.services import household_states_write

    household_states_write(
        sorted(
            {p.household_id for p in pairings if p.household_id}
            | {p.person.household_id for p in pairings if p.person_id and p.person.household_id}
        )
    )

    # --- one 爱心妈妈 disqualified for neglect: her orphan is unpaired again ------------------
    disqualified = 0
    if mother_pairs:
        p = mother_pairs[-1]
        m = members[[q for q, _ in members].index(p)][1][0]
        on = today - dt.timedelta(days=20)
        HelpEntry.objects.filter(pairing=p, occurred_on__gt=on).delete()
        Helper.objects.filter(pk=m.pk).update(
            disqualified_on=on,
            disqualified_reason="连续三个月未看望孩子，失职",
            disqualified_by=office,
        )
        Pairing.objects.filter(pk=p.pk).update(
            end=max(on, p.start), end_reason="帮扶人被取消资格：连续三个月未看望孩子，失职"
        )
        disqualified = 1
    summary = (
        f"结对帮扶：{len(helpers) + len(mothers)} 名帮扶人，{len(pairings)} 个结对"
        f"（小组 {len(groups)} 个，孤儿 {len(orphans)} 名），{len(log.rows)} 条帮扶记录，"
        f"{disqualified} 名帮扶人被取消资格。"
    )
    return {"skipped": False, "summary": summary, "pairings": len(pairings)}
