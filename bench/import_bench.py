"""Importing a people-and-households ledger (人口台账): minqing beside its raw limit and beside
django-import-export, on the same generated file, in the same run.

    .venv/bin/python bench/import_bench.py --rows 100000
    .venv/bin/python bench/import_bench.py --rows 20000 --db sqlite          # a quick try
    .venv/bin/python bench/import_bench.py --rows 100000 --skip-iex          # without (c)

What it does:
  1. generates bench/out/ledger-<rows>.xlsx (XlsxWriter, constant memory): 20 grids, households
     of 1–5 people under a 户号, head first; ID numbers valid by GB 11643; about 70 % with a
     mobile number, half with a birth date cell (an Excel date), 10 % with care categories;
  2. for each database (SQLite file bench/out/import-bench.sqlite3; PostgreSQL database
     `import_bench` on 127.0.0.1, dropped and created), each run in a process of its own on a
     freshly migrated database (migrate runs in yet another process, so it is not measured):
     (a) minqing: the place tree, then the code path of `manage.py import_people FILE` — read
         with calamine, validate (ID check characters, dates, phones, grids, categories,
         existing people by ID hash), derive keys, encrypt, write people, households, category
         links and one audit entry per record, in one transaction; then the same file again in
         a new process (it must change nothing);
     (b) the raw limit: python-calamine reads the same file and the rows go straight into a
         table of 13 text columns, with stdlib sqlite3 executemany (same WAL/NORMAL pragmas as
         minqing's SQLite) or psycopg COPY: no validation, no encryption, no households, no
         audit. For information, also the same rows straight into registry_person (its indexes
         and, on SQLite, its full-text triggers, but nothing else of minqing's work);
     (c) django-import-export 4.4.3 importing the same rows into the same Person model, reading
         the file with tablib: its default row-by-row import (as its admin does) and again with
         the bulk options its documentation recommends (use_bulk, batch_size, skip_diff,
         force_init_instance, CachedInstanceLoader); people only, no households, no audit;
  3. prints seconds, rows/s and peak memory (ru_maxrss of each run's process) and the ratios.
     Targets: minqing ≤ 3× the raw limit's time, ≥ 10× faster than django-import-export,
     peak memory ≤ 500 MB. Exit status 1 when one is missed.

django-import-export is NOT a dependency of minqing. For (c) install it into the venv first:

    .venv/bin/pip install django-import-export==4.4.3

Without it, (c) is skipped with that hint.
"""

import argparse
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "import_bench"
GRIDS = 20
HEADERS = [
    "所属网格",
    "户号",
    "户主姓名",
    "与户主关系",
    "姓名",
    "公民身份号码",
    "性别",
    "出生日期",
    "民族",
    "联系电话",
    "现住址",
    "人员类别",
    "备注",
]
# The rows straight into registry_person (phase raw-table, for information): the ledger's
# columns, then constants for the other NOT NULL ones. A test checks that every column of Person
# is either written here or in RAW_PERSON_LEFT_OUT (the id, NULL, or the database's default): a
# NOT NULL column a migration adds without a database default stops this phase.
RAW_PERSON_COLUMNS = [
    "name",
    "id_number",
    "phone",
    "ethnicity",
    "note",
    "grid_id",
    "sex",
    "relation",
]
RAW_PERSON_CONSTANTS = {
    "id_legacy": False,
    "health": "good",
    "disability_grade": 0,
    "health_note": "",
    "party_member": False,
    "name_pinyin": "",
    "name_initials": "",
    "id_last4_digest": "",
    "phone_last4": "",
    "employment": "",
    "created_at": "2026-01-01 00:00:00",
    "updated_at": "2026-01-01 00:00:00",
}
RAW_PERSON_LEFT_OUT = {
    "id",  # autoincrement
    "id_number_hash",  # NULL
    "birth_date",  # NULL
    "household_id",  # NULL
    "created_by_id",  # NULL
    "registered_address",  # DEFAULT '' (registry 0006 adds it with ALTER TABLE … DEFAULT '')
}
TARGET_RAW_RATIO = 3.0
TARGET_IEX_RATIO = 10.0
TARGET_MEMORY_MB = 500

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕辉鹏建国志文斌宇浩凯秀兰春梅海波俊峰德福淑珍晓东建华丽华桂兰凤英荣金凤欣怡子涵雨轩梓萱诗涵浩然"
ROADS = ["人民路", "解放路", "建设路", "和平街", "新华路", "文化路", "东门街", "南苑路"]
TAG_CHOICES = ["残疾", "高龄", "低保", "空巢、独居", "留守儿童", "下岗失业", "4050", "优抚对象"]
RELATIONS = ["配偶", "子女", "子女", "父母", "孙子女"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


# ------------------------------------------------------------------ the ledger


def grid_code(i: int) -> str:
    return f"330188001001{i + 1:03d}"


def generate(path: Path, rows: int, seed: int = 7) -> None:
    import xlsxwriter

    sys.path.insert(0, str(ROOT))
    from minqing.core.idnumber import make_id_number

    rng = random.Random(seed)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("人员台账")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for c, h in enumerate(HEADERS):
        ws.write_string(0, c, h)
    used: set[str] = set()
    r = 1
    household = 0
    while r <= rows:
        household += 1
        grid = grid_code(rng.randrange(GRIDS))
        number = f"H{household:07d}"
        address = f"{rng.choice(ROADS)}{rng.randint(1, 300)}号{rng.randint(1, 20)}幢{rng.randint(1, 30)}0{rng.randint(1, 4)}室"
        size = min(rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5)), rows - r + 1)
        head_name = ""
        for k in range(size):
            male = rng.random() < 0.5
            age = rng.randint(35, 90) if k == 0 else rng.randint(1, 90)
            birth = datetime.date(2026 - age, rng.randint(1, 12), rng.randint(1, 28))
            while True:
                seq = rng.randrange(1, 500) * 2 + (1 if male else 0)
                number_id = make_id_number("330188", birth, seq % 1000)
                if number_id not in used:
                    used.add(number_id)
                    break
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
            )
            if k == 0:
                head_name = name
            row = [
                grid,
                number,
                head_name,
                "户主" if k == 0 else rng.choice(RELATIONS),
                name,
                number_id,
                "男" if male else "女",
                None,
                "汉族",
                f"13{rng.randrange(10**9):09d}" if rng.random() < 0.7 else "",
                address,
                rng.choice(TAG_CHOICES) if rng.random() < 0.1 else "",
                "独居" if rng.random() < 0.05 else "",
            ]
            for c, v in enumerate(row):
                if c == 7:
                    if rng.random() < 0.5:
                        ws.write_datetime(
                            r, c, datetime.datetime.combine(birth, datetime.time()), date_fmt
                        )
                elif v:
                    ws.write_string(r, c, v)
            r += 1
    wb.close()


# ------------------------------------------------------------------ phases (each in a subprocess)


def django_setup(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("MINQING_DEV", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minqing.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()  # the database was migrated by run_phase, in its own process
    from minqing.accounts.models import User
    from minqing.grids.models import Level, Node

    county = Node.objects.create(level=Level.COUNTY, name="民安县", code="330188")
    street = Node.objects.create(
        level=Level.STREET, name="城关街道", code="330188001", parent=county
    )
    community = Node.objects.create(
        level=Level.COMMUNITY, name="东门社区", code="330188001001", parent=street
    )
    for i in range(GRIDS):
        Node.objects.create(
            level=Level.GRID, name=f"东门社区第{i + 1}网格", code=grid_code(i), parent=community
        )
    # No password: hashing one with Argon2 would add its 100 MB to the measured peak.
    return User.objects.create_superuser("bench", password=None)


def phase_minqing(args) -> dict:
    user = django_setup(args.db_url)
    from django.db import connection

    from minqing.core.models import AuditEntry
    from minqing.registry.imports.service import import_file
    from minqing.registry.imports.validate import Options
    from minqing.registry.models import Household, Person

    t0 = time.perf_counter()
    data = Path(args.file).read_bytes()
    plan, timings = import_file(
        acting_user=user, file_name=Path(args.file).name, data=data, options=Options()
    )
    seconds = time.perf_counter() - t0
    if not plan.ok:
        raise SystemExit(f"the generated ledger has errors: {plan.errors[:5]}")
    return {
        "seconds": seconds,
        "validate": timings.get("validate"),
        "write": timings.get("write"),
        "people": Person.objects.count(),
        "households": Household.objects.count(),
        "audit": AuditEntry.objects.count(),
        "peak_mb": peak_mb(),
        "vendor": connection.vendor,
    }


def phase_minqing_again(args) -> dict:
    """The same file once more, in a process of its own, on the database phase_minqing left."""
    os.environ["DATABASE_URL"] = args.db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minqing.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from minqing.accounts.models import User
    from minqing.core.models import AuditEntry
    from minqing.registry.imports.service import import_file
    from minqing.registry.imports.validate import Options

    user = User.objects.get(username="bench")
    audit = AuditEntry.objects.count()
    t0 = time.perf_counter()
    data = Path(args.file).read_bytes()
    plan, _ = import_file(
        acting_user=user, file_name=Path(args.file).name, data=data, options=Options()
    )
    return {
        "seconds": time.perf_counter() - t0,
        "unchanged": plan.counts["unchanged_people"],
        "changed": plan.counts["new_people"] + plan.counts["updated_people"],
        "new_audit": AuditEntry.objects.count() - audit,
        "peak_mb": peak_mb(),
    }


def phase_raw(args) -> dict:
    import python_calamine

    t0 = time.perf_counter()
    wb = python_calamine.CalamineWorkbook.from_path(args.file)
    rows = wb.get_sheet_by_index(0).iter_rows()
    next(rows)  # the header
    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    if args.db_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(args.db_url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"CREATE TABLE raw_people (id integer primary key, {columns})")
        marks = ", ".join("?" * len(HEADERS))
        names = ", ".join(f"c{i}" for i in range(len(HEADERS)))
        conn.executemany(f"INSERT INTO raw_people ({names}) VALUES ({marks})", rows)
        conn.commit()
        count = conn.execute("SELECT count(*) FROM raw_people").fetchone()[0]
        conn.close()
    else:
        import psycopg

        with psycopg.connect(args.db_url) as conn:
            conn.execute(f"CREATE TABLE raw_people (id bigserial primary key, {columns})")
            names = ", ".join(f"c{i}" for i in range(len(HEADERS)))
            with conn.cursor().copy(f"COPY raw_people ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            count = conn.execute("SELECT count(*) FROM raw_people").fetchone()[0]
    return {"seconds": time.perf_counter() - t0, "people": count, "peak_mb": peak_mb()}


def phase_raw_table(args) -> dict:
    """For information: the same rows straight into registry_person of a migrated database,
    with its indexes and (on SQLite) full-text triggers, but none of minqing's work."""
    django_setup(args.db_url)
    import python_calamine

    from minqing.grids.models import Node

    grid_ids = dict(Node.objects.values_list("code", "id"))
    constant = RAW_PERSON_CONSTANTS
    names = RAW_PERSON_COLUMNS + list(constant)
    t0 = time.perf_counter()
    wb = python_calamine.CalamineWorkbook.from_path(args.file)
    rows = wb.get_sheet_by_index(0).iter_rows()
    next(rows)

    def values():
        for r in rows:
            yield [r[4], r[5], r[9], r[8], r[12], grid_ids[r[0]], r[6], r[3], *constant.values()]

    if args.db_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(args.db_url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        marks = ", ".join("?" * len(names))
        conn.executemany(
            f"INSERT INTO registry_person ({', '.join(names)}) VALUES ({marks})", values()
        )
        conn.commit()
        count = conn.execute("SELECT count(*) FROM registry_person").fetchone()[0]
        conn.close()
    else:
        import psycopg

        with psycopg.connect(args.db_url) as conn:
            sql = f"COPY registry_person ({', '.join(names)}) FROM STDIN"
            with conn.cursor().copy(sql) as copy:
                for row in values():
                    copy.write_row(row)
            conn.commit()
            count = conn.execute("SELECT count(*) FROM registry_person").fetchone()[0]
    return {"seconds": time.perf_counter() - t0, "people": count, "peak_mb": peak_mb()}


def phase_iex(args) -> dict:
    try:
        import import_export  # noqa: F401
    except ImportError:
        return {"skipped": "pip install django-import-export==4.4.3 into the venv"}
    django_setup(args.db_url)
    import tablib
    from import_export import fields, resources, widgets
    from import_export.instance_loaders import CachedInstanceLoader

    from minqing.grids.models import Node
    from minqing.registry.identity import id_number_hash
    from minqing.registry.models import Person

    bulk = args.phase == "iex-bulk"

    class PersonResource(resources.ModelResource):
        grid = fields.Field(
            attribute="grid", column_name="所属网格", widget=widgets.ForeignKeyWidget(Node, "code")
        )
        name = fields.Field(attribute="name", column_name="姓名")
        id_number = fields.Field(attribute="id_number", column_name="公民身份号码")
        id_number_hash = fields.Field(attribute="id_number_hash", column_name="id_number_hash")
        birth_date = fields.Field(
            attribute="birth_date", column_name="出生日期", widget=widgets.DateWidget()
        )
        ethnicity = fields.Field(attribute="ethnicity", column_name="民族")
        phone = fields.Field(attribute="phone", column_name="联系电话")
        note = fields.Field(attribute="note", column_name="备注")

        class Meta:
            model = Person
            fields = (
                "grid",
                "name",
                "id_number",
                "id_number_hash",
                "birth_date",
                "ethnicity",
                "phone",
                "note",
            )
            import_id_fields = ("id_number_hash",)
            skip_unchanged = True
            if bulk:  # the options its documentation recommends for large imports
                use_bulk = True
                batch_size = 1000
                skip_diff = True
                force_init_instance = True
                instance_loader_class = CachedInstanceLoader

        def before_import_row(self, row, **kwargs):
            # The ID number is stored encrypted: rows are matched on its keyed hash.
            row["id_number_hash"] = id_number_hash(str(row["公民身份号码"]))
            for key in ("联系电话", "备注", "民族"):
                row[key] = row[key] or ""

    t0 = time.perf_counter()
    with open(args.file, "rb") as f:
        dataset = tablib.Dataset().load(f, format="xlsx")
    dataset.append_col([""] * len(dataset), header="id_number_hash")
    result = PersonResource().import_data(dataset, raise_errors=True)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "people": Person.objects.count(),
        "totals": {k: v for k, v in result.totals.items() if v},
        "peak_mb": peak_mb(),
    }


# ------------------------------------------------------------------ the parent


def db_url(db: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{OUT / 'import-bench.sqlite3'}"
    return f"postgres://postgres@127.0.0.1:5432/{PG_DB}"


def fresh_db(db: str) -> str:
    if db == "sqlite":
        path = OUT / "import-bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return db_url(db)
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    return db_url(db)


def run_phase(phase: str, db: str, file: Path, *, fresh: bool = True) -> dict:
    url = fresh_db(db) if fresh else db_url(db)
    env = dict(os.environ, MINQING_DEV="1", DEBUG="0", DATABASE_URL=url)
    if phase != "raw" and fresh:
        # Migrate in a process of its own, so peak memory is the run's, not the migration's.
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    cmd = [PYTHON, __file__, "--phase", phase, "--db-url", url, "--file", str(file)]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{phase} on {db} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--skip-iex", action="store_true", help="leave out django-import-export")
    parser.add_argument(
        "--iex-modes",
        default="default,bulk",
        help="django-import-export runs: default (row by row), bulk (use_bulk …)",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        fn = {
            "minqing": phase_minqing,
            "minqing-again": phase_minqing_again,
            "raw": phase_raw,
            "raw-table": phase_raw_table,
            "iex": phase_iex,
            "iex-bulk": phase_iex,
        }[args.phase]
        print(json.dumps(fn(args)))
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    file = OUT / f"ledger-{args.rows}.xlsx"
    if not file.exists():
        log(f"generating {file.name} ({args.rows} rows)")
        generate(file, args.rows)
    log(f"ledger: {file} ({file.stat().st_size / 1024 / 1024:.1f} MB)")

    results: dict[str, dict] = {}
    ok = True
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        r = results[db] = {}
        log(f"{db}: raw limit (calamine + {'executemany' if db == 'sqlite' else 'COPY'})")
        r["raw"] = run_phase("raw", db, file)
        log(f"{db}: the same rows straight into registry_person (for information)")
        r["raw-table"] = run_phase("raw-table", db, file)
        log(f"{db}: minqing import")
        r["minqing"] = run_phase("minqing", db, file)
        log(f"{db}: minqing import of the same file again")
        r["again"] = run_phase("minqing-again", db, file, fresh=False)
        if not args.skip_iex:
            for mode in [m.strip() for m in args.iex_modes.split(",") if m.strip()]:
                phase = "iex" if mode == "default" else "iex-bulk"
                log(f"{db}: django-import-export ({mode})")
                r[phase] = run_phase(phase, db, file)

    n = args.rows
    print()
    print(f"{'database':10} {'run':28} {'seconds':>9} {'rows/s':>9} {'peak MB':>8}  notes")
    for db, r in results.items():
        for key, label in (
            ("raw", "raw limit"),
            ("raw-table", "raw into registry_person"),
            ("minqing", "minqing import"),
            ("again", "minqing, same file again"),
            ("iex", "django-import-export"),
            ("iex-bulk", "django-import-export bulk"),
        ):
            x = r.get(key)
            if x is None:
                continue
            if "skipped" in x:
                print(f"{db:10} {label:28} {'—':>9} {'—':>9} {'—':>8}  skipped: {x['skipped']}")
                continue
            note = ""
            if key == "minqing":
                note = (
                    f"validate {x['validate']:.1f}s + write {x['write']:.1f}s; "
                    f"{x['people']} people, {x['households']} households, {x['audit']} audit"
                )
            elif key == "again":
                note = (
                    f"{x['unchanged']} unchanged, {x['changed']} changed, "
                    f"{x['new_audit']} new audit entries (the batch's own)"
                )
            elif key.startswith("iex"):
                note = f"{x['people']} people"
            print(
                f"{db:10} {label:28} {x['seconds']:9.2f} {n / x['seconds']:9.0f} "
                f"{x['peak_mb']:8.0f}  {note}"
            )
    print()
    for db, r in results.items():
        m = r["minqing"]
        raw_ratio = m["seconds"] / r["raw"]["seconds"]
        line = f"{db}: minqing / raw limit = {raw_ratio:.2f}× (target ≤ {TARGET_RAW_RATIO:.0f}×)"
        ok &= raw_ratio <= TARGET_RAW_RATIO
        for key in ("iex", "iex-bulk"):
            x = r.get(key)
            if x and "seconds" in x:
                speedup = x["seconds"] / m["seconds"]
                line += f"; {key} / minqing = {speedup:.1f}× (target ≥ {TARGET_IEX_RATIO:.0f}×)"
                ok &= speedup >= TARGET_IEX_RATIO
        peak = max(m["peak_mb"], r["again"]["peak_mb"])
        line += f"; minqing peak {peak:.0f} MB (target ≤ {TARGET_MEMORY_MB})"
        ok &= peak <= TARGET_MEMORY_MB
        ok &= r["again"]["changed"] == 0
        print(line)
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
