"""Build the demo county: streets, communities, grids that tile each community, buildings,
households, people with valid ID numbers, tags, needs, places, organisations, service teams and
the demo accounts. Runs once; `--reset` is not offered on purpose (drop the database instead).

`--people 1000000` scales the county for benchmarks (more communities and grids, same shape).
"""

import datetime
import math
import random
import time

from django.core.management.base import BaseCommand
from django.db import transaction

from minqing.accounts.models import (
    DataScope,
    MemberKind,
    Responsibility,
    Role,
    RoleAssignment,
    ServiceTeam,
    TeamMember,
    User,
)
from minqing.core.crypto import blind_index
from minqing.core.idnumber import make_id_number
from minqing.core.pinyin import pinyin_keys
from minqing.grids.models import Level, Node
from minqing.registry import demo_names as W
from minqing.registry.identity import id_last4_digest
from minqing.registry.models import (
    Household,
    HouseholdNeed,
    Organisation,
    Person,
    Place,
    PlaceKind,
    Relation,
    Tag,
)

COUNTY_CODE = "330188"
COUNTY_NAME = "民安县"
DEMO_PASSWORD = "minqing-demo"
GRIDS_PER_COMMUNITY = 8  # 4 × 2 rectangles that tile the community exactly
BUILDINGS_PER_GRID = 6
PEOPLE_PER_GRID = 290
ORIGIN = (120.10, 30.20)  # lon, lat of the county's south-west corner (fictional place)
COMMUNITY_SIZE = (0.012, 0.008)  # degrees


def rect(lon0, lat0, w, h) -> dict:
    ring = [[lon0, lat0], [lon0 + w, lat0], [lon0 + w, lat0 + h], [lon0, lat0 + h], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


class Command(BaseCommand):
    help = "Load the demo county (once). --people N scales it for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=13_500)
        parser.add_argument("--seed", type=int, default=20261126)
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument(
            "--cases", type=int, default=1500, help="演示案件数（过去一年），0 表示不生成。"
        )

    def handle(self, *args, people: int, seed: int, quiet: bool, cases: int, **options):
        if Node.objects.filter(code=COUNTY_CODE).exists():
            self.stdout.write("演示数据已存在，跳过。")
            self.print_accounts()
            self.seed_cases(cases, seed, quiet)
            self.seed_visits(seed, quiet)
            self.seed_field_work(seed, quiet)
            return
        started = time.monotonic()
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()
        n_grids = max(
            48, math.ceil(people / PEOPLE_PER_GRID / GRIDS_PER_COMMUNITY) * GRIDS_PER_COMMUNITY
        )
        n_communities = n_grids // GRIDS_PER_COMMUNITY
        n_streets = (
            max(2, math.ceil(n_communities / 3))
            if n_communities <= 6
            else max(2, math.ceil(n_communities / 8))
        )
        with transaction.atomic():
            grids = self.build_tree(n_streets, n_communities)
            self.build_accounts(grids)
            self.build_teams(grids)
            self.build_places(grids)
        self.build_people(grids, people)
        if not quiet:
            self.stdout.write(
                self.style.SUCCESS(
                    f"演示县已生成：{Node.objects.filter(level=Level.STREET).count()} 个街道，"
                    f"{Node.objects.filter(level=Level.COMMUNITY).count()} 个社区，{len(grids)} 个网格，"
                    f"{Household.objects.count()} 户，{Person.objects.count()} 人，用时 {time.monotonic() - started:.0f} 秒。"
                )
            )
            self.print_accounts()
        self.seed_cases(cases, seed, quiet)
        self.seed_visits(seed, quiet)
        self.seed_field_work(seed, quiet)

    def seed_field_work(self, seed: int, quiet: bool):
        """Contact duties, pairings with their help log, one team dispatch (their demo modules)."""
        from minqing.assistance.demo import seed as seed_assistance
        from minqing.duties.demo import seed as seed_duties
        from minqing.secondments.demo import seed as seed_secondments

        self.field_accounts()
        for offset, seeder in enumerate((seed_assistance, seed_duties, seed_secondments), 3):
            result = seeder(rng=random.Random(seed + offset))
            if not quiet and not result["skipped"] and result.get("summary"):
                self.stdout.write(self.style.SUCCESS(result["summary"]))

    def field_accounts(self):
        """`secretary` (a community secretary with contact duties) and `cadre` (a county cadre
        paired with households, seeing only their own pairs); created once."""
        if User.objects.filter(username="cadre").exists():
            return
        county = Node.objects.get(code=COUNTY_CODE)
        communities = list(Node.objects.filter(level=Level.COMMUNITY).order_by("code")[:2])
        specs = [
            (
                "secretary",
                f"{communities[-1].name}书记 刘洋",
                Role.COMMUNITY_SECRETARY,
                communities[-1],
                DataScope.NODE_AND_BELOW,
            ),
            ("cadre", "县民政局 帮扶干部 赵磊", Role.CADRE, county, DataScope.SELF),
        ]
        rng = random.Random(len(specs))
        for username, full_name, role, node, scope in specs:
            user = User(
                username=username, full_name=full_name, mobile=f"138{rng.randrange(10**8):08d}"
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            RoleAssignment.objects.create(user=user, role=role, node=node, data_scope=scope)

    def seed_visits(self, seed: int, quiet: bool):
        """Past visits and every household's schedule (minqing.visits.demo)."""
        from minqing.visits.demo import seed_visits

        result = seed_visits(rng=random.Random(seed + 2))
        if not quiet and not result["skipped"]:
            self.stdout.write(self.style.SUCCESS(f"演示走访记录已生成：{result['visits']} 条。"))
        if not quiet and result.get("summary"):
            self.stdout.write(self.style.SUCCESS(result["summary"]))

    def seed_cases(self, count: int, seed: int, quiet: bool):
        """A year of cases, departments, the Open311 client and zoning (minqing.cases.demo)."""
        from minqing.cases.demo import UNITS, seed_cases

        if count <= 0:
            return
        result = seed_cases(
            count=count, rng=random.Random(seed + 1), county=Node.objects.get(code=COUNTY_CODE)
        )
        if result["skipped"]:
            if not quiet:
                self.stdout.write(f"演示案件已存在（{result['cases']} 件），跳过。")
            return
        if not quiet:
            self.stdout.write(
                self.style.SUCCESS(
                    f"演示案件已生成：{result['cases']} 件，其中办理中 {result['open']} 件，"
                    f"用时 {result['seconds']:.0f} 秒。"
                )
            )
            self.stdout.write(
                "部门账号（密码同上，只看本部门的案件）："
                + "、".join(f"{username} {name}" for _, name, username, *_ in UNITS)
            )
        if result["problems"]:
            self.stderr.write(f"演示案件回放中有未能完成的步骤：{result['problems']}")
        if result["open311_key"]:
            self.stdout.write(
                self.style.WARNING(
                    f"Open311 客户端“民安县市民APP”的 API 密钥（只显示这一次）："
                    f"{result['open311_key']}"
                )
            )

    def print_accounts(self):
        self.stdout.write(
            f"演示账号（密码均为 {DEMO_PASSWORD}）：admin 系统管理员、county 县指挥中心、street 街道干部、"
            "community 社区书记、grid_a 与 grid_b 同一社区两个网格的网格员、"
            "secretary 另一社区书记（干部联系群众）、cadre 帮扶干部（只看自己的结对）"
        )

    # ------------------------------------------------------------ places

    def build_tree(self, n_streets: int, n_communities: int) -> list[Node]:
        county = Node.objects.create(level=Level.COUNTY, name=COUNTY_NAME, code=COUNTY_CODE)
        per_street = math.ceil(n_communities / n_streets)
        cw, ch = COMMUNITY_SIZE
        grids: list[Node] = []
        community_index = 0
        all_bounds = []
        for s in range(n_streets):
            street_name = (W.STREETS[s] if s < len(W.STREETS) else f"第{s + 1}") + "街道"
            street = Node.objects.create(
                level=Level.STREET,
                name=street_name,
                code=f"{COUNTY_CODE}{s + 1:03d}",
                parent=county,
                sort=s,
            )
            street_communities = []
            for c in range(per_street):
                if community_index >= n_communities:
                    break
                base = W.COMMUNITY_NAMES[community_index % len(W.COMMUNITY_NAMES)]
                suffix = (
                    ""
                    if community_index < len(W.COMMUNITY_NAMES)
                    else str(community_index // len(W.COMMUNITY_NAMES) + 1)
                )
                kind = "村" if base == "青石" else "社区"
                lon0 = ORIGIN[0] + c * cw
                lat0 = ORIGIN[1] + s * ch
                community = Node.objects.create(
                    level=Level.COMMUNITY,
                    name=f"{base}{suffix}{kind}",
                    code=f"{street.code}{c + 1:03d}",
                    parent=street,
                    sort=c,
                    boundary=rect(lon0, lat0, cw, ch),
                )
                street_communities.append((lon0, lat0))
                gw, gh = cw / 4, ch / 2
                for g in range(GRIDS_PER_COMMUNITY):
                    gx, gy = g % 4, g // 4
                    grid = Node.objects.create(
                        level=Level.GRID,
                        name=f"{community.name}第{g + 1}网格",
                        code=f"{community.code}{g + 1:03d}",
                        parent=community,
                        sort=g,
                        boundary=rect(lon0 + gx * gw, lat0 + gy * gh, gw, gh),
                    )
                    Node.objects.bulk_create(
                        [
                            Node(
                                level=Level.BUILDING,
                                name=f"{b + 1}幢",
                                code=f"{grid.code}{b + 1:03d}",
                                parent=grid,
                                sort=b,
                                path=f"{grid.path}{grid.code}{b + 1:03d}/",
                            )
                            for b in range(BUILDINGS_PER_GRID)
                        ]
                    )
                    grids.append(grid)
                community_index += 1
            xs = [p[0] for p in street_communities]
            street.boundary = rect(min(xs), ORIGIN[1] + s * ch, cw * len(xs), ch)
            street.save(update_fields=["boundary"])
            all_bounds.append(len(xs))
        county.boundary = rect(ORIGIN[0], ORIGIN[1], cw * max(all_bounds), ch * n_streets)
        county.save(update_fields=["boundary"])
        return grids

    # ------------------------------------------------------------ people who work here

    def build_accounts(self, grids: list[Node]):
        county = grids[0].parent.parent.parent
        street = grids[0].parent.parent
        community = grids[0].parent
        specs = [
            ("admin", "系统管理员", Role.ADMIN, county, True),
            ("county", "周明", Role.COUNTY_OFFICER, county, False),
            ("street", "李娟", Role.STREET_OFFICER, street, False),
            ("community", "王芳", Role.COMMUNITY_SECRETARY, community, False),
            ("grid_a", "张伟", Role.GRID_WORKER, grids[0], False),
            ("grid_b", "陈静", Role.GRID_WORKER, grids[1], False),
        ]
        for username, full_name, role, node, is_admin in specs:
            user = User(
                username=username,
                full_name=full_name,
                is_staff=is_admin,
                is_superuser=is_admin,
                mobile=f"139{self.rng.randrange(10**8):08d}",
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            RoleAssignment.objects.create(
                user=user, role=role, node=node, data_scope=DataScope.NODE_AND_BELOW
            )

    def build_teams(self, grids: list[Node]):
        # The demo's accounts are on their grids' cards: the card's 网格员 is the grid's worker
        # (张伟 for grid A) and its first responsible person the community's secretary.
        staff = {
            (a.node_id, a.role): a.user
            for a in RoleAssignment.objects.filter(
                role__in=(Role.GRID_WORKER, Role.COMMUNITY_SECRETARY)
            ).select_related("user")
        }
        members = []
        for grid in grids:
            team = ServiceTeam.objects.create(
                node=grid,
                name=f"{grid.name}服务组团",
                office_phone=f"0571-8{self.rng.randrange(10**6, 10**7)}",
                office_address=f"{grid.parent.name}党群服务中心",
            )
            roster = [
                (MemberKind.COMMITTEE, Responsibility.FIRST, "社区书记，片区第一责任人"),
                (MemberKind.STAFF, Responsibility.SECOND, "服务站站长，第二责任人"),
                (MemberKind.STAFF, Responsibility.NONE, "网格员"),
                (MemberKind.BUILDING_LEADER, Responsibility.NONE, "楼组长"),
                (MemberKind.VOLUNTEER, Responsibility.NONE, "助老帮困"),
                (MemberKind.SERVING_PARTY, Responsibility.NONE, "联系困难户"),
                (MemberKind.RETIRED_PARTY, Responsibility.NONE, "调解纠纷"),
                (MemberKind.MASS_ORG, Responsibility.NONE, "妇联执委"),
                (MemberKind.PROPERTY, Responsibility.NONE, "物业管家"),
            ]
            for kind, resp, duty in roster:
                member = TeamMember(
                    team=team,
                    name=self.name(self.rng.random() < 0.5),
                    kind=kind,
                    responsibility=resp,
                    duty=duty,
                    office_phone=team.office_phone if resp else "",
                    mobile=self.phone(),
                )
                account = {
                    "网格员": staff.get((grid.pk, Role.GRID_WORKER)),
                    "社区书记，片区第一责任人": staff.get(
                        (grid.parent_id, Role.COMMUNITY_SECRETARY)
                    ),
                }.get(duty)
                if account is not None:
                    member.name, member.user, member.mobile = (
                        account.full_name,
                        account,
                        account.mobile,
                    )
                members.append(member)
        TeamMember.objects.bulk_create(members)

    def build_places(self, grids: list[Node]):
        places, orgs = [], []
        kinds = (
            [PlaceKind.SHOP] * 5
            + [PlaceKind.HOUSE] * 2
            + [PlaceKind.MARKET, PlaceKind.SCHOOL, PlaceKind.HOSPITAL]
        )
        for grid in grids:
            road = self.rng.choice(W.ROADS)
            for _ in range(self.rng.randint(3, 6)):
                kind = self.rng.choice(kinds)
                label = {
                    "shop": self.rng.choice(W.SHOPS),
                    "house": "出租房",
                    "market": "农贸市场",
                    "school": "幼儿园",
                    "hospital": "社区卫生服务站",
                }[kind]
                places.append(
                    Place(
                        kind=kind,
                        name=f"{self.rng.choice(W.SURNAMES)}记{label}"
                        if kind == "shop"
                        else f"{grid.parent.name[:2]}{label}",
                        address=f"{road}{self.rng.randint(1, 300)}号",
                        grid=grid,
                        contact=self.name(True),
                        phone=self.phone(),
                    )
                )
        for community in {g.parent_id: g for g in grids}.values():
            for kind, name in W.ORG_NAMES:
                orgs.append(
                    Organisation(
                        kind=kind,
                        name=f"{community.parent.name[:2]}{name}",
                        grid=community,
                        address=f"{self.rng.choice(W.ROADS)}{self.rng.randint(1, 300)}号",
                        contact=self.name(False),
                        phone=self.phone(),
                    )
                )
        Place.objects.bulk_create(places)
        Organisation.objects.bulk_create(orgs)

    # ------------------------------------------------------------ residents

    def name(self, male: bool) -> str:
        surname = self.rng.choices(W.SURNAMES, weights=W.SURNAME_WEIGHTS)[0]
        pool = W.GIVEN_MALE if male else W.GIVEN_FEMALE
        given = self.rng.choice(pool)
        if self.rng.random() < 0.6:
            given += self.rng.choice(pool + W.GIVEN_ANY)
        return surname + given

    def phone(self) -> str:
        return f"1{self.rng.choice('35789')}{self.rng.randrange(10**9):09d}"

    def id_number(self, birth: datetime.date, male: bool) -> str:
        area = (
            COUNTY_CODE
            if self.rng.random() < 0.85
            else self.rng.choice(["330102", "330106", "341122", "420111", "510104"])
        )
        while True:
            seq = self.rng.randrange(500) * 2 + (1 if male else 0)
            number = make_id_number(area, birth, seq)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    TODAY = datetime.date(2026, 11, 26)  # the demo county's day (its data are drawn around it)

    def birth(self, age_low: int, age_high: int) -> datetime.date:
        days = self.rng.randint(age_low * 365, age_high * 365 + 364)
        return self.TODAY - datetime.timedelta(days=days)

    def full_years(self, birth: datetime.date) -> int:
        """周岁 on the demo's day: 365 days a year drew some 80-year-olds a few days short."""
        today = self.TODAY
        return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))

    def build_people(self, grids: list[Node], target_people: int):
        tags = {t.name: t for t in Tag.objects.all()}
        buildings = {g.pk: list(Node.objects.filter(parent=g).order_by("sort")) for g in grids}
        per_grid = max(1, target_people // len(grids))
        PersonTags = Person.tags.through
        HouseholdTags = Household.tags.through
        batch_people: list[Person] = []
        batch_tags: list[tuple[int, str]] = []  # (index in batch_people, tag)
        for gi, grid in enumerate(grids):
            households, members_of = [], []
            made = 0
            seq = 0
            while made < per_grid:
                seq += 1
                b = buildings[grid.pk][seq % BUILDINGS_PER_GRID]
                size = self.rng.choices([1, 2, 3, 4, 5], weights=[20, 32, 26, 15, 7])[0]
                household = Household(
                    number=f"{grid.code}-{seq:04d}",
                    address=f"{self.rng.choice(W.ROADS)}{self.rng.randint(1, 200)}号{b.name}{self.rng.randint(1, 6)}单元{self.rng.randint(1, 18)}{self.rng.randint(1, 4):02d}室",
                    grid=grid,
                    building=b,
                    housing=self.rng.choices(["own", "rent", "public"], weights=[70, 22, 8])[0],
                    floor_area=round(self.rng.uniform(25, 140), 1),
                    residence=self.rng.choices(
                        ["permanent", "floating", "separated"], weights=[78, 15, 7]
                    )[0],
                )
                households.append(household)
                members_of.append(self.family(size, grid))
                made += size
            Household.objects.bulk_create(households, batch_size=2000)
            household_tags = []
            for household, members in zip(households, members_of, strict=True):
                head = members[0][0]
                household.head_name = head.name
                household.member_count = len(members)
                for person, person_tags in members:
                    person.household = household
                    batch_people.append(person)
                    batch_tags.extend((len(batch_people) - 1, t) for t in person_tags)
                if self.rng.random() < 0.03:
                    household_tags.append(
                        HouseholdTags(household_id=household.pk, tag_id=tags["低保"].pk)
                    )
                if all(
                    p.employment in ("unemployed", "retired", "child", "student")
                    for p, _ in members
                ) and any(p.employment == "unemployed" for p, _ in members):
                    household_tags.append(
                        HouseholdTags(household_id=household.pk, tag_id=tags["零就业家庭"].pk)
                    )
            Household.objects.bulk_update(
                households, ["head_name", "member_count"], batch_size=2000
            )
            HouseholdTags.objects.bulk_create(household_tags)
            self.build_needs(households)
            if len(batch_people) >= 20_000 or gi == len(grids) - 1:
                Person.objects.bulk_create(batch_people, batch_size=5000)
                PersonTags.objects.bulk_create(
                    [
                        PersonTags(person_id=batch_people[i].pk, tag_id=tags[t].pk)
                        for i, t in batch_tags
                    ],
                    batch_size=10000,
                )
                batch_people, batch_tags = [], []

    def family(self, size: int, grid: Node) -> list[tuple[Person, list[str]]]:
        rng = self.rng
        head_age = rng.randint(24, 92)
        head_male = rng.random() < 0.7
        out = [self.person(grid, head_age, head_male, Relation.HEAD, alone=size == 1)]
        if size >= 2:
            out.append(
                self.person(
                    grid,
                    max(20, head_age + rng.randint(-5, 5)),
                    not head_male,
                    Relation.SPOUSE,
                    elderly_couple=size == 2 and head_age >= 60,
                )
            )
        for _ in range(size - 2):
            if head_age > 55 and rng.random() < 0.3:
                out.append(
                    self.person(grid, rng.randint(1, 15), rng.random() < 0.5, Relation.GRANDCHILD)
                )
            else:
                out.append(
                    self.person(
                        grid,
                        max(0, head_age - rng.randint(22, 35)),
                        rng.random() < 0.5,
                        Relation.CHILD,
                    )
                )
        return out

    def person(
        self, grid, age: int, male: bool, relation, *, alone=False, elderly_couple=False
    ) -> tuple[Person, list[str]]:
        rng = self.rng
        birth = self.birth(age, age)
        age = self.full_years(birth)  # what the groups below go by (高龄 80周岁以上, 4050 …)
        name = self.name(male)
        number = self.id_number(birth, male)
        phone = self.phone() if age >= 14 and rng.random() < 0.9 else ""
        if age < 7:
            employment = "child"
        elif age < 19:
            employment = "student"
        elif age >= 60:
            employment = "retired"
        else:
            employment = rng.choices(
                ["employed", "farmer", "self", "unemployed", "other"], weights=[60, 10, 12, 8, 3]
            )[0]
        disability = rng.choices([0, 1, 2, 3, 4], weights=[95, 0.5, 1, 1.5, 2])[0]
        health = (
            "disabled"
            if disability
            else rng.choices(["good", "chronic", "serious"], weights=[80, 17, 3])[0]
            if age > 40
            else "good"
        )
        tags = []
        if age >= 80:
            tags.append("高龄")
        if age >= 60 and alone:
            tags.append("独居")
        if age >= 60 and (alone or elderly_couple) and rng.random() < 0.5:
            tags.append("空巢")
        if disability:
            tags.append("残疾")
        if employment == "unemployed":
            tags.append("下岗失业")
            if (not male and age >= 40) or (male and age >= 50):
                tags.append("4050")
        if relation == Relation.GRANDCHILD and age < 16 and rng.random() < 0.3:
            tags.append("留守儿童")
        if age >= 18 and rng.random() < 0.003:
            tags.append("重点人员")
        if age >= 60 and alone and rng.random() < 0.05:
            tags.append("特困")
        full, initials = pinyin_keys(name)
        person = Person(
            name=name,
            id_number=number,
            id_number_hash=blind_index(number),
            birth_date=birth,
            sex="M" if male else "F",
            phone=phone,
            ethnicity=rng.choice(W.ETHNICITIES),
            relation=relation,
            employment=employment,
            health=health,
            disability_grade=disability,
            party_member=age >= 22 and rng.random() < 0.08,
            grid=grid,
            name_pinyin=full,
            name_initials=initials,
            id_last4_digest=id_last4_digest(number),
            phone_last4=phone[-4:] if phone else "",
        )
        return person, tags

    def build_needs(self, households: list[Household]):
        needs = []
        for h in households:
            r = self.rng.random()
            if r < 0.10:
                category, text = self.rng.choice(W.NEEDS)
                needs.append(
                    HouseholdNeed(
                        household=h,
                        kind="need",
                        category=category,
                        description=text,
                        status="met" if self.rng.random() < 0.4 else "open",
                    )
                )
            elif r < 0.15:
                category, text = self.rng.choice(W.RESOURCES)
                needs.append(
                    HouseholdNeed(household=h, kind="resource", category=category, description=text)
                )
        HouseholdNeed.objects.bulk_create(needs)
