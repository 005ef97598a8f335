"""Visits at county scale: the schedule refresh, the due lists, the duty compliance report.

For each database (SQLite, PostgreSQL) this script:
  1. creates its own database unless --reuse (SQLite file, PostgreSQL database `visitsbench`,
     or --database-url), runs `migrate`, and builds the demo county's place tree at the size
     `seed_demo --people N` makes (3 456 grids in 432 communities and 54 streets for 1 000 000)
     with the demo accounts and a grid worker per grid (seed_demo's own build_tree and
     build_accounts); then writes straight into the tables (COPY on PostgreSQL, executemany on
     SQLite — the services would take hours): --households households spread evenly over the
     grids and their buildings, --people people in them, care-group tags on ~6% of households
     and ~4% of people (低保, 空巢, 高龄 …: those households are 重点必访, monthly), and
     --visits visit records (with their 走访人 rows) over the last years, each household's
     spaced by its class's interval with jitter, the last one placed so that ~10% of
     households are overdue today; contact duties (duties.models as they stand): a secretary
     per community with 5 linked households, 6 leaders per street (2 communities, 5
     households, days in the community), 60 cadres in each of 30 county bureaus (1 community,
     1 household, 3 service targets), and this month's and last month's visits of ~80% of the
     linked households by their holders; then ANALYZE (VACUUM ANALYZE on PostgreSQL);
  2. runs `visits.services.visit_states_refresh()` in a fresh process and times it: first with
     no schedule rows (creates them all), then again (nothing to change: the nightly run);
  3. starts gunicorn (--workers sync workers) and sends --rounds rounds, one request at a time,
     of the due/overdue list — the page /visits/due/ (session) and GET /api/visits/due (Bearer
     token) — as the demo grid worker `grid_a` (one grid) and the demo street officer `street`
     (a street: the page shows counts per grid, the API the street's whole list), each preceded
     by GET /healthz (the trivial view);
  4. times `duties.selectors.compliance(county, year, month)` — the monthly report of every duty
     holder in the county — in a fresh process, --compliance-rounds times;
  5. in a fresh process counts and times each page's SQL (the Django test client) and prints
     the plans of the slowest statements.

Targets: due list p95 ≤ 4 × /healthz p95 for the grid worker, ≤ 10 × for the street officer;
compliance report ≤ 5 s. Exit status 1 when a target is missed. JSON and the diagnostics go to
bench/out/ (git-ignored).

    .venv/bin/python bench/visits_bench.py --people 50000 --households 20000 --visits 250000
    .venv/bin/python bench/visits_bench.py --db sqlite             # 1 000 000 / 400 000 / 5 000 000
    .venv/bin/python bench/visits_bench.py --db postgres --reuse   # keep the seeded database
"""

import argparse
import bisect
import datetime as dt
import json
import math
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from cases_bench import (  # noqa: E402  (the shared seeding and server helpers)
    _bulk_insert,
    _db_time,
    analyze,
    bench_json,
    database_env,
    django_setup,
    fresh_database,
    start_gunicorn,
)
from search_bench import GUNICORN, PYTHON, fetch, log, pct, stop_gunicorn  # noqa: E402

OUT = ROOT / "bench" / "out"
TARGET_RATIO = {"grid_a": 4.0, "street": 10.0}
TARGET_COMPLIANCE_SECONDS = 5.0
# (user, kind, path): kind "html" uses the session, "api" the Bearer token.
PAGES = [
    ("grid_a", "html", "/visits/due/"),
    ("grid_a", "api", "/api/visits/due"),
    ("street", "html", "/visits/due/"),
    ("street", "api", "/api/visits/due"),
]
# Also measured, without a target: the grid worker's list nearest first (position in setup).
EXTRA = [("grid_a", "api-near", "/api/visits/due?lat={lat}&lng={lng}")]

KEY_HOUSEHOLD_TAGS = ["低保", "贫困户", "零就业家庭"]
KEY_PERSON_TAGS = ["空巢", "独居", "高龄", "特困", "留守儿童", "留守老人", "孤儿", "三无"]
OTHER_PERSON_TAGS = ["残疾", "下岗失业", "4050", "流动党员", "优抚对象"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海燕鹏辉林玲"
ROADS = ["东门路", "学府路", "解放路", "人民路", "建设路", "和平街", "新华路", "中山路"]
SEEN = ["入户走访，家中情况正常。", "老人身体尚可，叮嘱注意防寒。", "了解家庭收入和就业情况。"]
OPINIONS = ["希望楼道灯修好。", "反映小区停车难。", "咨询医保报销政策。", "希望加装扶手。"]


# =============================================================================================
# Inside the project (a subprocess with DATABASE_URL set): seed, refresh, setup, compliance,
# diagnose.
# =============================================================================================


def _columns(model, values: dict, to_db):
    """The model's columns and a function turning a dict of overrides into a full row: every
    column this benchmark does not set gets its field default (so new columns do not break it).
    """
    from django.db import models
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields]
    base = {}
    for f in fields:
        if f.column in values:
            continue
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif isinstance(f, models.BooleanField):
            value = False
        elif isinstance(f, models.IntegerField | models.DecimalField | models.FloatField):
            value = 0
        elif isinstance(f, models.DateTimeField):
            value = now
        else:
            value = ""
        if isinstance(f, models.DateTimeField):
            value = to_db(value)
        base[f.column] = value
    columns = [f.column for f in fields]
    dt_columns = {f.column for f in fields if isinstance(f, models.DateTimeField)}

    def row(r: dict) -> tuple:
        out = dict(base)
        for k, v in r.items():
            out[k] = to_db(v) if k in dt_columns else v
        return tuple(out[c] for c in columns)

    return columns, row


def internal_seed(opts: dict) -> None:
    django_setup()
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from minqing.accounts.models import DataScope, Role, RoleAssignment, User
    from minqing.grids.models import Level, Node
    from minqing.registry.management.commands import seed_demo
    from minqing.registry.models import Household, Person, Tag
    from minqing.visits.models import Visit

    started = time.monotonic()
    rng = random.Random(opts["seed"])
    now = timezone.now()
    tz = timezone.get_default_timezone()
    to_db = _db_time(connection)

    # --- the place tree and the people who work on it (as seed_demo --people N) --------------
    demo = seed_demo.Command()
    demo.rng = random.Random(opts["seed"])
    demo.used_ids = set()
    per = seed_demo.PEOPLE_PER_GRID * seed_demo.GRIDS_PER_COMMUNITY
    n_grids = max(48, math.ceil(opts["people"] / per) * seed_demo.GRIDS_PER_COMMUNITY)
    n_communities = n_grids // seed_demo.GRIDS_PER_COMMUNITY
    n_streets = (
        max(2, math.ceil(n_communities / 3))
        if n_communities <= 6
        else max(2, math.ceil(n_communities / 8))
    )
    with transaction.atomic():
        grids = demo.build_tree(n_streets, n_communities)
        demo.build_accounts(grids)
    communities = list(Node.objects.filter(level=Level.COMMUNITY).order_by("path"))
    streets = list(Node.objects.filter(level=Level.STREET).order_by("path"))
    county = Node.objects.get(level=Level.COUNTY)
    print(f"tree: {len(grids)} grids, {len(communities)} communities, {len(streets)} streets")

    demo_users = {u.username: u for u in User.objects.all()}
    worker = {grids[0].pk: demo_users["grid_a"].pk, grids[1].pk: demo_users["grid_b"].pk}
    with transaction.atomic():
        names = [f"gw{g.code}" for g in grids[2:]]
        User.objects.bulk_create(
            [
                User(username=u, full_name=f"网格员{i}", password="!bench")
                for i, u in enumerate(names)
            ],
            batch_size=2000,
        )
        ids = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
        RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(
                    user_id=ids[f"gw{g.code}"],
                    role=Role.GRID_WORKER,
                    node=g,
                    data_scope=DataScope.NODE_AND_BELOW,
                )
                for g in grids[2:]
            ],
            batch_size=2000,
        )
        worker.update({g.pk: ids[f"gw{g.code}"] for g in grids[2:]})

    # --- households and people ---------------------------------------------------------------
    buildings: dict[int, list[int]] = {}
    for pk, parent in Node.objects.filter(level=Level.BUILDING).values_list("pk", "parent_id"):
        buildings.setdefault(parent, []).append(pk)
    n_h, n_p, n_v = opts["households"], opts["people"], opts["visits"]
    grid_ids = [g.pk for g in grids]
    grid_code = {g.pk: g.code for g in grids}
    grid_of_h = [grid_ids[i * len(grid_ids) // n_h] for i in range(n_h)]  # contiguous per grid
    seq_in_grid: dict[int, int] = {}
    created_at_h = []
    heads = []
    h_cols, h_row = _columns(Household, {}, to_db)
    members = [n_p // n_h + (1 if i < n_p % n_h else 0) for i in range(n_h)]

    def household_rows():
        for i in range(n_h):
            pk = i + 1
            grid = grid_of_h[i]
            seq_in_grid[grid] = seq_in_grid.get(grid, 0) + 1
            seq = seq_in_grid[grid]
            head = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            heads.append(head)
            b = buildings[grid]
            created = now - dt.timedelta(days=rng.uniform(400, 2000))
            created_at_h.append(created)
            yield h_row(
                {
                    "id": pk,
                    "number": f"{grid_code[grid]}-{seq:05d}",
                    "address": f"{rng.choice(ROADS)}{seq // 12 + 1}号{(seq % len(b)) + 1}幢"
                    f"{seq % 6 + 1}0{seq % 4 + 1}室",
                    "grid_id": grid,
                    "building_id": b[seq % len(b)],
                    "housing": "own",
                    "residence": "permanent",
                    "head_name": head,
                    "member_count": members[i],
                    "created_at": created,
                    "updated_at": created,
                }
            )

    p_cols, p_row = _columns(Person, {}, to_db)
    relations = ["head", "spouse", "child", "child", "parent", "other"]

    def person_rows():
        pk = 0
        for i in range(n_h):
            for k in range(members[i]):
                pk += 1
                name = heads[i] if k == 0 else rng.choice(SURNAMES) + rng.choice(GIVEN)
                yield p_row(
                    {
                        "id": pk,
                        "name": name,
                        "sex": rng.choice("MF"),
                        "birth_date": dt.date(rng.randint(1935, 2020), rng.randint(1, 12), 1),
                        "household_id": i + 1,
                        "relation": relations[min(k, len(relations) - 1)],
                        "grid_id": grid_of_h[i],
                        "created_at": created_at_h[i],
                        "updated_at": created_at_h[i],
                    }
                )

    t = time.monotonic()
    with transaction.atomic():
        _bulk_insert(connection, Household._meta.db_table, h_cols, household_rows())
        _bulk_insert(connection, Person._meta.db_table, p_cols, person_rows())
    print(f"households {n_h}, people {n_p}: {time.monotonic() - t:.0f}s", flush=True)

    # --- tags: ~6% of households, ~4% of people in a care group; the key ones are monthly ----
    tag = dict(Tag.objects.values_list("name", "pk"))
    key_h: set[int] = set()
    h_tags, p_tags = [], []
    for hid in rng.sample(range(1, n_h + 1), int(n_h * 0.06)):
        h_tags.append((hid, tag[rng.choice(KEY_HOUSEHOLD_TAGS)]))
        key_h.add(hid)
    first_person = [0] * n_h
    acc = 1
    for i in range(n_h):
        first_person[i] = acc
        acc += members[i]
    for pid in rng.sample(range(1, n_p + 1), int(n_p * 0.04)):
        name = rng.choice(KEY_PERSON_TAGS + OTHER_PERSON_TAGS)
        p_tags.append((pid, tag[name]))
        if name in KEY_PERSON_TAGS:
            # the household of person pid: the last household starting at or before it
            key_h.add(bisect.bisect_right(first_person, pid))
    with transaction.atomic():
        _bulk_insert(
            connection, Household.tags.through._meta.db_table, ["household_id", "tag_id"], h_tags
        )
        _bulk_insert(
            connection, Person.tags.through._meta.db_table, ["person_id", "tag_id"], p_tags
        )
    print(f"tags: {len(h_tags)} households, {len(p_tags)} people; {len(key_h)} key households")

    # --- contact duties ----------------------------------------------------------------------
    duty_visits = seed_duties(
        opts, rng, now, communities, streets, county, grid_of_h, members, key_h
    )

    # --- visits ------------------------------------------------------------------------------
    # Each household's visits, newest first: the last one so that ~10% are overdue today, the
    # earlier ones one interval (with jitter) apart. Key households are visited 3× as often.
    weight = [3.0 if (i + 1) in key_h else 1.0 for i in range(n_h)]
    budget = max(0, n_v - len(duty_visits))
    scale = budget / sum(weight)
    v_cols, v_row = _columns(Visit, {}, to_db)
    modes = ["home"] * 7 + ["phone"] * 2 + ["reception"]
    local_now = now.astimezone(tz)
    made = 0

    def at_day(day_offset: float) -> dt.datetime:
        moment = local_now - dt.timedelta(days=day_offset)
        return moment.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59), second=0)

    def visit_rows():
        nonlocal made
        pk = 0
        carry = 0.0
        for i in range(n_h):
            hid = i + 1
            grid = grid_of_h[i]
            key = hid in key_h
            interval = 30.4 if key else 91.3
            carry += weight[i] * scale
            n = int(carry)
            carry -= n
            offset = rng.uniform(0.2, interval * 1.12)  # > interval: overdue
            for _k in range(n):
                pk += 1
                when = at_day(offset)
                if when > now:
                    when = now - dt.timedelta(minutes=rng.randint(5, 600))
                yield v_row(
                    {
                        "id": pk,
                        "household_id": hid,
                        "grid_id": grid,
                        "visited_at": when,
                        "mode": rng.choice(modes),
                        "seen": rng.choice(SEEN),
                        "opinions": rng.choice(OPINIONS) if rng.random() < 0.15 else "",
                        "created_by_id": worker[grid],
                        "created_at": when,
                    }
                )
                offset += interval * rng.uniform(0.75, 1.1)
        for hid, user_id, when in duty_visits:
            pk += 1
            yield v_row(
                {
                    "id": pk,
                    "household_id": hid,
                    "grid_id": grid_of_h[hid - 1],
                    "visited_at": when,
                    "mode": "home",
                    "seen": "联系户走访。",
                    "created_by_id": user_id,
                    "created_at": when,
                }
            )
        made = pk

    t = time.monotonic()
    with transaction.atomic():
        _bulk_insert(connection, Visit._meta.db_table, v_cols, visit_rows())
        through = Visit.visitors.through._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {through} (visit_id, user_id) "
                f"SELECT id, created_by_id FROM {Visit._meta.db_table}"
            )
    print(f"visits: {made} (+ visitors) in {time.monotonic() - t:.0f}s", flush=True)

    if connection.vendor == "postgresql":
        from minqing.duties import models as duties

        with connection.cursor() as cur:
            models_ = [Household, Person, Visit, duties.DutyHolder, duties.DutyLink]
            for sql in connection.ops.sequence_reset_sql(no_style(), models_):
                cur.execute(sql)
    print(f"seeded in {time.monotonic() - started:.0f}s", flush=True)
    analyze()


def seed_duties(opts, rng, now, communities, streets, county, grid_of_h, members, key_h) -> list:
    """Duty holders, their links and days (ORM bulk_create: tens of thousands of rows), and the
    visits the holders made to their linked households (returned, written with the others)."""
    from django.db import transaction
    from django.utils import timezone

    from minqing.accounts.models import DataScope, Role, RoleAssignment, User
    from minqing.duties.models import DutyDay, DutyHolder, DutyLink, DutyRule, LinkKind

    rules = {r.code: r for r in DutyRule.objects.all()}
    if not {"leader", "cadre", "secretary"} <= set(rules):
        print(f"duties: rules {sorted(rules)} lack leader/cadre/secretary; skipped")
        return []
    today = timezone.localdate()
    month_start = today.replace(day=1)
    last_month_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    since = dt.date(today.year - 1, 1, 1)
    # Households of a community: grids are contiguous, communities are 8 grids in path order.
    community_of_grid = {}
    from minqing.grids.models import Level, Node

    for pk, parent in Node.objects.filter(level=Level.GRID).values_list("pk", "parent_id"):
        community_of_grid[pk] = parent
    households_of: dict[int, list[int]] = {}
    for i, grid in enumerate(grid_of_h):
        households_of.setdefault(community_of_grid[grid], []).append(i + 1)
    first_person = []
    acc = 1
    for m in members:
        first_person.append(acc)
        acc += m
    street_communities: dict[int, list] = {}
    for c in communities:
        street_communities.setdefault(c.parent_id, []).append(c)

    specs = []  # (username, full name, rule, node, unit, role, scope node)
    for c in communities:
        specs.append((f"sec{c.code}", f"{c.name}书记", "secretary", c, f"{c.name}居委会"))
    for s in streets:
        for k in range(6):
            specs.append((f"ld{s.code}{k}", f"{s.name}领导{k + 1}", "leader", s, f"{s.name}办事处"))
    # 30 county bureaus of 60 cadres at 432 communities (1 000 000 people); fewer below that.
    per_bureau = max(3, round(60 * len(communities) / 432))
    for b in range(30):
        for k in range(per_bureau):
            specs.append(
                (
                    f"cd{b:02d}{k:02d}",
                    f"县第{b + 1}局干部{k + 1}",
                    "cadre",
                    county,
                    f"县第{b + 1}局",
                )
            )
    with transaction.atomic():
        User.objects.bulk_create(
            [User(username=u, full_name=n, password="!bench") for u, n, *_ in specs],
            batch_size=2000,
        )
        ids = dict(
            User.objects.filter(username__in=[s[0] for s in specs]).values_list("username", "pk")
        )
        RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(
                    user_id=ids[u],
                    role=Role.COMMUNITY_SECRETARY if rule == "secretary" else Role.CADRE,
                    node=node,
                    data_scope=DataScope.NODE_AND_BELOW if rule == "secretary" else DataScope.SELF,
                )
                for u, _n, rule, node, _unit in specs
            ],
            batch_size=2000,
        )
        DutyHolder.objects.bulk_create(
            [
                DutyHolder(
                    user_id=ids[u],
                    rule=rules[rule],
                    unit=unit,
                    node=node,
                    active_from=since,
                )
                for u, _n, rule, node, unit in specs
            ],
            batch_size=2000,
        )
        holders = {h.user_id: h for h in DutyHolder.objects.all()}
        links, days, visits = [], [], []

        def visited(hid: int, user_id: int) -> None:
            for start, end in (
                (last_month_start, month_start - dt.timedelta(days=1)),
                (month_start, today),
            ):
                if rng.random() < 0.8:
                    day = start + dt.timedelta(days=rng.randint(0, (end - start).days))
                    when = timezone.make_aware(
                        dt.datetime.combine(day, dt.time(rng.randint(8, 17), 0))
                    )
                    visits.append((hid, user_id, min(when, now - dt.timedelta(minutes=5))))

        for u, _n, rule, node, _unit in specs:
            h = holders[ids[u]]
            if rule == "secretary":
                pool, communities_ = households_of.get(node.pk, []), []
                n_households, n_targets = 5, 0
            elif rule == "leader":
                communities_ = rng.sample(
                    street_communities[node.pk], min(2, len(street_communities[node.pk]))
                )
                pool = [
                    x
                    for c in street_communities[node.pk]
                    for x in households_of.get(c.pk, [])[:200]
                ]
                n_households, n_targets = 5, 0
            else:
                communities_ = [rng.choice(communities)]
                pool = households_of.get(communities_[0].pk, [])
                n_households, n_targets = 1, 3
            for c in communities_:
                links.append(
                    DutyLink(holder=h, kind=LinkKind.COMMUNITY, community=c, started_on=since)
                )
            chosen = rng.sample(pool, min(n_households + n_targets, len(pool)))
            for hid in chosen[:n_households]:
                links.append(
                    DutyLink(holder=h, kind=LinkKind.HOUSEHOLD, household_id=hid, started_on=since)
                )
                visited(hid, h.user_id)
            for hid in chosen[n_households:]:
                person = first_person[hid - 1]
                links.append(
                    DutyLink(holder=h, kind=LinkKind.TARGET, person_id=person, started_on=since)
                )
                visited(hid, h.user_id)
            if rule == "leader":
                for d in rng.sample(
                    range(1, today.day + 1), min(today.day, rng.choice([2, 3, 3, 4]))
                ):
                    days.append(
                        DutyDay(
                            holder=h, community=communities_[0], date=month_start.replace(day=d)
                        )
                    )
        DutyLink.objects.bulk_create(links, batch_size=2000)
        DutyDay.objects.bulk_create(days, batch_size=2000)
    print(f"duties: {len(holders)} holders, {len(links)} links, {len(days)} days, "
          f"{len(visits)} holder visits")  # fmt: skip
    return visits


def internal_refresh(opts: dict) -> None:
    django_setup()
    from minqing.visits.models import HouseholdVisitState
    from minqing.visits.services import visit_states_refresh

    before = HouseholdVisitState.objects.count()
    t = time.monotonic()
    result = visit_states_refresh()
    seconds = time.monotonic() - t
    result.update(seconds=seconds, states_before=before)
    print("BENCH-JSON " + json.dumps(result))


def internal_setup(opts: dict) -> None:
    """Sessions and tokens for the measured users, the sizes of their lists, a position."""
    django_setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import connection
    from django.utils import timezone

    from minqing.accounts.models import ApiToken, User
    from minqing.accounts.sessions import SessionStore
    from minqing.grids import geo
    from minqing.grids.models import Level, Node
    from minqing.registry.models import Household
    from minqing.visits import selectors
    from minqing.visits.models import HouseholdVisitState, Visit

    out = {"sessions": {}, "tokens": {}, "sizes": {}, "vendor": connection.vendor}
    for username in ("grid_a", "street"):
        user = User.objects.get(username=username)
        s = SessionStore()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = "minqing.accounts.backends.ScopedModelBackend"
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.set_expiry(24 * 3600)
        s.save()
        out["sessions"][username] = s.session_key
        out["tokens"][username] = ApiToken.issue(user=user, name="bench")[1]
        totals = selectors.due_totals(user)
        out["sizes"][username] = {
            "households": selectors.states_for(user).count(),
            "overdue": totals["overdue"],
            "today": totals["today"],
            "grids": selectors.grids_for(user).count(),
        }
    grid = Node.objects.get(pk=User.objects.get(username="grid_a").assignments.first().node_id)
    x0, y0, x1, y1 = geo.bbox(geo.geometry_of(grid.boundary))
    out["position"] = {"lat": round((y0 + y1) / 2, 6), "lng": round((x0 + x1) / 2, 6)}
    out["counts"] = {
        "households": Household.objects.count(),
        "visits": Visit.objects.count(),
        "states": HouseholdVisitState.objects.count(),
        "grids": Node.objects.filter(level=Level.GRID).count(),
        "overdue": HouseholdVisitState.objects.filter(next_due__lt=timezone.localdate()).count(),
    }
    from minqing.registry.models import Person

    out["counts"]["people"] = Person.objects.count()
    print("BENCH-JSON " + json.dumps(out, ensure_ascii=False))


def internal_compliance(opts: dict) -> None:
    """The county's monthly duty compliance report, in-process, best and median of N."""
    django_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from minqing.accounts.models import User

    try:
        from minqing.duties.selectors import compliance
    except ImportError:
        print("BENCH-JSON " + json.dumps({"missing": True}))
        return
    user = User.objects.get(username="county")
    today = timezone.localdate()
    runs = []
    report = None
    for _ in range(opts["compliance_rounds"]):
        user = User.objects.get(pk=user.pk)  # no cached scope between runs
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            report = compliance(user, today.year, today.month)
            lines = len(report.lines)
            runs.append(time.perf_counter() - t)
        statements = len(ctx.captured_queries)
    total = report.total
    summary = {}
    for attr in ("owed", "done"):
        value = getattr(total, attr, None)
        if isinstance(value, dict):
            summary[attr] = dict(value)
    out = {
        "runs": runs,
        "lines": lines,
        "units": len(report.units),
        "statements": statements,
        "total": summary,
        "month": f"{today:%Y-%m}",
    }
    print("BENCH-JSON " + json.dumps(out, ensure_ascii=False, default=str))


def internal_diagnose(opts: dict) -> None:
    """Each page in-process: how many statements, how long in SQL, the slowest and their plans."""
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from minqing.accounts.models import User

    report = {}
    for username, kind, path in PAGES:
        client = Client()
        client.force_login(User.objects.get(username=username))
        client.get(path)  # warm
        best = None
        for _ in range(5):
            timed = []

            def timer(execute, sql, params, many, context, timed=timed):
                t = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    timed.append({"time": time.perf_counter() - t, "sql": sql})

            with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
                t = time.perf_counter()
                response = client.get(path)
                total = (time.perf_counter() - t) * 1000
            for q, shown in zip(timed, ctx.captured_queries, strict=False):
                q["sql"] = shown["sql"]
            if best is None or total < best[0]:
                best = (total, timed, response.status_code)
        total, queries, status = best
        slow = sorted(queries, key=lambda q: -q["time"])[:3]
        entry = {
            "status": status,
            "ms": round(total, 1),
            "queries": len(queries),
            "sql_ms": round(sum(q["time"] for q in queries) * 1000, 1),
            "slowest": [],
        }
        for q in slow:
            plan = ""
            if q["sql"].startswith("SELECT"):
                with connection.cursor() as cur:
                    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
                    cur.execute(prefix + q["sql"])
                    plan = "\n".join(" ".join(str(c) for c in row) for row in cur.fetchall())
            entry["slowest"].append(
                {"ms": round(q["time"] * 1000, 2), "sql": q["sql"][:1500], "plan": plan}
            )
        report[f"{username} {kind}"] = entry
    print("BENCH-JSON " + json.dumps(report, ensure_ascii=False))


INTERNAL = {
    "seed": internal_seed,
    "refresh": internal_refresh,
    "setup": internal_setup,
    "compliance": internal_compliance,
    "diagnose": internal_diagnose,
}


# =============================================================================================
# The driver.
# =============================================================================================


def run_internal(step: str, env: dict, opts: dict, capture: bool = False) -> str:
    cmd = [PYTHON, str(Path(__file__).resolve()), "--internal", step, "--opts", json.dumps(opts)]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, capture_output=capture)
    return proc.stdout if capture else ""


def opts(args) -> dict:
    return {
        "people": args.people,
        "households": args.households,
        "visits": args.visits,
        "seed": args.seed,
        "compliance_rounds": args.compliance_rounds,
    }


def prepare(db: str, args) -> tuple[dict, str]:
    env, url = database_env(db, args, f"visits-{args.visits}.sqlite3")
    if not args.reuse:
        fresh_database(db, env, url)
        log(f"{db}: seed {args.people} people, {args.households} households, {args.visits} visits")
        run_internal("seed", env, opts(args))
    return env, url


def measure_refresh(env: dict, args) -> list[dict]:
    runs = []
    for i in range(2):
        r = bench_json(run_internal("refresh", env, opts(args), capture=True))
        log(f"refresh {i + 1}: {r}")
        runs.append(r)
    return runs


def measure_http(env: dict, setup: dict, args) -> dict:
    proc, base = start_gunicorn(env, args.workers)
    try:
        trivial = base + "/healthz"
        targets = []
        for user, kind, path in PAGES + EXTRA:
            path = path.format(**setup["position"])
            if kind == "html":
                headers = {"Cookie": f"sessionid={setup['sessions'][user]}"}
            else:
                headers = {"Authorization": f"Bearer {setup['tokens'][user]}"}
            targets.append((user, kind, base + path, headers))
        rows = {}
        for user, kind, url, headers in targets:
            for _ in range(args.warmup):
                ms, status, body = fetch(url, headers)
            if status != 200:
                raise RuntimeError(f"{url} as {user} answered {status}: {body[:300]!r}")
            if kind.startswith("api"):
                rows[(user, kind)] = json.loads(body)["count"]
        for _ in range(args.warmup * 5):
            fetch(trivial, {})
        samples: dict[tuple, list[float]] = {("-", "healthz"): []}
        for _ in range(args.rounds):
            for user, kind, url, headers in targets:
                samples[("-", "healthz")].append(fetch(trivial, {})[0])
                ms, status, _ = fetch(url, headers)
                assert status == 200, (url, status)
                samples.setdefault((user, kind), []).append(ms)
    finally:
        stop_gunicorn(proc)
    return {"samples": samples, "rows": rows}


def report(db, setup, refresh, http_, comp, diag, args) -> list[dict]:
    c = setup["counts"]
    out = []
    print()
    print(
        f"## {db}: {c['people']} people, {c['households']} households, {c['visits']} visits, "
        f"{c['grids']} grids; {c['overdue']} households overdue; {args.rounds} rounds, "
        f"{args.workers} workers"
    )
    print()
    print("| schedule refresh | households | created | updated | seconds |")
    print("|---|---:|---:|---:|---:|")
    for name, r in zip(("first (no rows)", "again (nightly)"), refresh, strict=False):
        print(f"| {name} | {r['checked']} | {r['created']} | {r['updated']} | {r['seconds']:.1f} |")
        out.append({"db": db, "what": f"refresh {name}", **r})

    samples = http_["samples"]
    trivial = samples[("-", "healthz")]
    t50, t95 = pct(trivial, 0.5), pct(trivial, 0.95)
    print()
    print("| user | page | rows | p50 ms | p95 ms | p95 / healthz p95 | target | met |")
    print("|---|---|---:|---:|---:|---:|---:|:-:|")
    print(f"| - | healthz | | {t50:.1f} | {t95:.1f} | 1.00× | | |")
    out.append({"db": db, "what": "healthz", "p50": t50, "p95": t95})
    for user, kind, _path in PAGES + EXTRA:
        vs = samples[(user, kind)]
        p95 = pct(vs, 0.95)
        targeted = (user, kind, _path) in PAGES
        ok = p95 / t95 <= TARGET_RATIO[user]
        n = http_["rows"].get((user, kind), "")
        target = f"≤ {TARGET_RATIO[user]:.0f}×" if targeted else "(info)"
        met = ("yes" if ok else "**no**") if targeted else ""
        print(
            f"| {user} | {kind} | {n} | {pct(vs, 0.5):.1f} | {p95:.1f} | {p95 / t95:.2f}× | "
            f"{target} | {met} |"
        )
        row = {"db": db, "what": kind, "user": user, "rows": n, "p50": pct(vs, 0.5), "p95": p95}
        row["ratio"] = p95 / t95
        if targeted:
            row["ok"] = ok
        out.append(row)

    print()
    if comp.get("missing"):
        print("compliance: duties.selectors.compliance does not exist yet; not measured")
    else:
        best, median = min(comp["runs"]), sorted(comp["runs"])[len(comp["runs"]) // 2]
        ok = best <= TARGET_COMPLIANCE_SECONDS
        print(
            f"compliance report, county, {comp['month']}: {comp['lines']} holders in "
            f"{comp['units']} units, {comp['statements']} statements; best {best:.2f} s, median "
            f"{median:.2f} s (target ≤ {TARGET_COMPLIANCE_SECONDS:.0f} s): "
            f"{'met' if ok else 'MISSED'}; totals {comp['total']}"
        )
        out.append({"db": db, "what": "compliance", "best": best, "median": median, "ok": ok,
                    **{k: comp[k] for k in ("lines", "units", "statements")}})  # fmt: skip

    print()
    print("In-process (Django test client, best of 5): statements, time in SQL, whole request")
    print()
    print("| user | page | statements | SQL ms | request ms | slowest statement ms |")
    print("|---|---|---:|---:|---:|---:|")
    for key, d in diag.items():
        user, kind = key.split()
        slowest = d["slowest"][0]["ms"] if d["slowest"] else ""
        print(f"| {user} | {kind} | {d['queries']} | {d['sql_ms']} | {d['ms']} | {slowest} |")
    print(flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--internal", default="", help=argparse.SUPPRESS)
    parser.add_argument("--opts", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--households", type=int, default=400_000)
    parser.add_argument("--visits", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--database-url", default="", help="use this database (one run)")
    parser.add_argument("--sqlite-path", default="")
    parser.add_argument("--pg-db", default="visitsbench")
    parser.add_argument("--reuse", action="store_true", help="keep a seeded database")
    parser.add_argument("--rounds", type=int, default=50, help="requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compliance-rounds", type=int, default=5)
    parser.add_argument(
        "--skip-refresh", action="store_true", help="with --reuse: keep the schedule rows"
    )
    args = parser.parse_args()
    if args.internal:
        INTERNAL[args.internal](json.loads(args.opts))
        return 0
    # A SIGTERM (timeout, Ctrl-C in a wrapper) unwinds normally, so gunicorn is stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    if not Path(GUNICORN).exists():
        print("gunicorn is not installed in .venv", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    if args.database_url:
        dbs = ["sqlite" if args.database_url.startswith("sqlite") else "postgres"]
    else:
        dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    all_rows, details = [], {}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for db in dbs:
        env, _url = prepare(db, args)
        if args.skip_refresh:
            refresh = []
        else:
            refresh = measure_refresh(env, args)
            subprocess.run(
                [PYTHON, "-c", "import sys; sys.path.insert(0, 'bench'); import cases_bench as c; "
                 "c.django_setup(); c.analyze()"],
                env=env, cwd=ROOT, check=True,
            )  # fmt: skip
        setup = bench_json(run_internal("setup", env, opts(args), capture=True))
        log(f"{db}: counts {setup['counts']}; sizes {setup['sizes']}")
        http_ = measure_http(env, setup, args)
        log(f"{db}: compliance")
        comp = bench_json(run_internal("compliance", env, opts(args), capture=True))
        diag = bench_json(run_internal("diagnose", env, opts(args), capture=True))
        all_rows += report(db, setup, refresh, http_, comp, diag, args)
        details[db] = {"refresh": refresh, "compliance": comp, "diagnose": diag, "setup": {
            k: setup[k] for k in ("counts", "sizes", "position")}}  # fmt: skip
        (OUT / f"visits-{db}-{args.visits}-{stamp}-diagnose.json").write_text(
            json.dumps(diag, ensure_ascii=False, indent=1)
        )
    (OUT / f"visits-{args.visits}-{stamp}.json").write_text(
        json.dumps({"rows": all_rows, "details": details}, ensure_ascii=False, indent=1)
    )
    return 0 if all(r.get("ok", True) for r in all_rows) else 1


if __name__ == "__main__":
    sys.exit(main())
