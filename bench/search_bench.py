"""Scoped person search through HTTP, beside a trivial view on the same server in the same run.

For each database (SQLite, PostgreSQL) this script:
  1. creates its own database (a SQLite file, a PostgreSQL database `bench`) unless --reuse,
  2. runs `migrate` and `seed_demo --people N`, then ANALYZE (PostgreSQL: VACUUM ANALYZE),
  3. issues API tokens and sessions for grid_a (one grid) and county (the whole county),
     and picks search queries from the seeded people,
  4. starts gunicorn on 127.0.0.1 with --workers workers,
  5. fires --rounds rounds of requests, interleaved: /healthz (the trivial view, SELECT 1),
     GET /api/people?q=… (token) and GET /people/?q=… (session), one at a time,
  6. prints p50/p95 per user and page, and the ratio of each p95 to the trivial view's p95,
  7. stops gunicorn.

Targets: API search p95 ≤ 3× /healthz p95, HTML list page p95 ≤ 6×.

    .venv/bin/python bench/search_bench.py --people 20000 --rounds 10      # a quick try
    .venv/bin/python bench/search_bench.py                                 # 1 000 000 people
    .venv/bin/python bench/search_bench.py --db postgres --reuse            # keep the seeded db
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TARGET = {"api": 3.0, "html": 6.0}

# Runs inside the project (manage.py shell): tokens, sessions and queries, printed as JSON.
SETUP = r"""
import json, random
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from minqing.accounts.sessions import SessionStore
from django.db import connection
from minqing.accounts.access import scope_queryset
from minqing.accounts.models import ApiToken, User
from minqing.registry.models import Person

with connection.cursor() as c:
    # After a bulk load: fresh statistics, and on PostgreSQL a visibility map (index-only
    # scans) and no dead rows from migrations that rewrote the table.
    c.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
out = {"tokens": {}, "sessions": {}, "queries": {}, "people": Person.objects.count()}
rng = random.Random(7)
for username in ("grid_a", "county"):
    user = User.objects.get(username=username)
    out["tokens"][username] = ApiToken.issue(user=user, name="bench")[1]
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "minqing.accounts.backends.ScopedModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.set_expiry(24 * 3600)
    s.save()
    out["sessions"][username] = s.session_key
    # Somebody this user may see, found by each kind of query.
    qs = scope_queryset(user, Person.objects.all())
    top = qs.order_by("-id").values_list("id", flat=True).first()
    while True:
        p = (
            qs.filter(id__lte=rng.randint(1, top), household__isnull=False)
            .exclude(phone_last4="").select_related("household").order_by("-id").first()
        )
        if p and len(p.name) == 3 and " " not in p.name_pinyin:
            break
    road = p.household.address.split("号")[0] + "号"
    out["queries"][username] = {
        "name3": p.name,
        "name2": p.name[:2],
        "given2": p.name[1:],
        "pinyin": p.name_pinyin,
        "initials3": p.name_initials,
        "initials2": p.name_initials[:2],
        "last4": p.phone[-4:],
        "id": p.id_number,
        "address": road,
        "address+name": road + " " + p.name[1:],
    }
print("BENCH-JSON " + json.dumps(out, ensure_ascii=False))
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, **kw)


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def prepare(db: str, args) -> dict:
    env = dict(os.environ, MINQING_DEV="1", DEBUG="0")
    if db == "sqlite":
        path = Path(args.sqlite_path or f"/tmp/minqing-bench/bench-{args.people}.sqlite3")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        if not args.reuse:
            pg_admin(f"DROP DATABASE IF EXISTS {args.pg_db} WITH (FORCE)")
            pg_admin(f"CREATE DATABASE {args.pg_db}")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.pg_db}"
    manage = [PYTHON, "manage.py"]
    log(f"{db}: migrate")
    t = time.monotonic()
    run([*manage, "migrate", "-v0"], env)
    if args.reuse:
        log(f"{db}: migrate done in {time.monotonic() - t:.0f}s; reusing the seeded county")
    else:
        log(f"{db}: migrate done in {time.monotonic() - t:.0f}s; seed_demo --people {args.people}")
        t = time.monotonic()
        run([*manage, "seed_demo", "--people", str(args.people), "--cases", "0", "--quiet"], env)
        log(f"{db}: seed done in {time.monotonic() - t:.0f}s; analyze, tokens, queries")
    out = run([*manage, "shell", "-c", SETUP], env, capture_output=True).stdout
    setup = json.loads(out.split("BENCH-JSON ", 1)[1])
    setup["env"] = env
    return setup


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            GUNICORN,
            "minqing.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
                if r.status == 200:
                    return proc, base
        except (urllib.error.URLError, OSError):  # refused, reset, or a slow first boot
            time.sleep(0.1)
    stop_gunicorn(proc)
    raise RuntimeError("gunicorn did not start")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def fetch(url: str, headers: dict) -> tuple[float, int, bytes]:
    req = urllib.request.Request(url, headers=headers)
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return (time.perf_counter() - t) * 1000, status, body


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def measure(db: str, setup: dict, args) -> dict:
    proc, base = start_gunicorn(setup["env"], args.workers)
    try:
        trivial = ("healthz", base + "/healthz", {})
        targets = []  # (user, page, kind, url, headers)
        for user, queries in setup["queries"].items():
            api_h = {"Authorization": f"Bearer {setup['tokens'][user]}"}
            html_h = {"Cookie": f"sessionid={setup['sessions'][user]}"}
            for kind, q in queries.items():
                qs = urllib.parse.urlencode({"q": q})
                targets.append((user, "api", kind, f"{base}/api/people?{qs}", api_h))
                targets.append((user, "html", kind, f"{base}/people/?{qs}", html_h))
        counts = {}
        for user, page, kind, url, headers in targets:  # warm up, check, and note result counts
            for _ in range(args.warmup):
                ms, status, body = fetch(url, headers)
            if status != 200:
                raise RuntimeError(f"{url} answered {status}: {body[:300]!r}")
            if page == "api":
                answer = json.loads(body)
                more = "+" if answer.get("count_capped") else ""  # "超过1000条"
                counts[(user, kind)] = f"{answer['count']}{more}"
        for _ in range(args.warmup * 5):
            fetch(trivial[1], {})
        samples: dict[tuple, list[float]] = {}
        for _ in range(args.rounds):
            for user, page, kind, url, headers in targets:
                samples.setdefault(("all", "healthz", ""), []).append(fetch(trivial[1], {})[0])
                ms, status, _ = fetch(url, headers)
                assert status == 200, (url, status)
                samples.setdefault((user, page, kind), []).append(ms)
    finally:
        stop_gunicorn(proc)
    return {"samples": samples, "counts": counts}


def report(db: str, setup: dict, result: dict, args) -> list[dict]:
    samples = result["samples"]
    trivial = samples[("all", "healthz", "")]
    t50, t95 = pct(trivial, 0.5), pct(trivial, 0.95)
    rows = [{"db": db, "user": "-", "page": "healthz", "p50": t50, "p95": t95, "ratio": 1.0}]
    detail = []
    for user in setup["queries"]:
        for page in ("api", "html"):
            allv = [
                v for (u, pg, _k), vs in samples.items() if u == user and pg == page for v in vs
            ]
            p95 = pct(allv, 0.95)
            rows.append(
                {
                    "db": db,
                    "user": user,
                    "page": page,
                    "p50": pct(allv, 0.5),
                    "p95": p95,
                    "ratio": p95 / t95,
                    "ok": p95 / t95 <= TARGET[page],
                }
            )
            for kind, q in setup["queries"][user].items():
                vs = samples[(user, page, kind)]
                detail.append(
                    {
                        "db": db,
                        "user": user,
                        "page": page,
                        "kind": kind,
                        "q": q,
                        "count": result["counts"][(user, kind)],
                        "p50": pct(vs, 0.5),
                        "p95": pct(vs, 0.95),
                    }
                )
    print()
    print(f"## {db}: {setup['people']} people, {args.rounds} rounds, {args.workers} workers")
    print()
    print("| user | page | p50 ms | p95 ms | p95 / healthz p95 | target | met |")
    print("|---|---|---:|---:|---:|---:|:-:|")
    for r in rows:
        target = f"≤ {TARGET[r['page']]:.0f}×" if r["page"] in TARGET else ""
        met = ("yes" if r["ok"] else "**no**") if "ok" in r else ""
        print(
            f"| {r['user']} | {r['page']} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['ratio']:.2f}× | {target} | {met} |"
        )
    print()
    print("| user | page | query | q | results | p50 ms | p95 ms |")
    print("|---|---|---|---|---:|---:|---:|")
    for d in detail:
        print(
            f"| {d['user']} | {d['page']} | {d['kind']} | {d['q']} | {d['count']} | "
            f"{d['p50']:.1f} | {d['p95']:.1f} |"
        )
    print(flush=True)
    return rows + detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=20, help="requests per query and page")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sqlite-path", default="")
    parser.add_argument("--pg-db", default="bench")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep an existing, already seeded database (migrate only; no seed_demo)",
    )
    args = parser.parse_args()
    if not shutil.which(GUNICORN):
        print("gunicorn is not installed in .venv", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    all_rows = []
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        setup = prepare(db, args)
        log(
            f"{db}: {setup['people']} people; queries {json.dumps(setup['queries'], ensure_ascii=False)}"
        )
        result = measure(db, setup, args)
        all_rows += report(db, setup, result, args)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"search-{args.people}-{stamp}.json").write_text(
        json.dumps(all_rows, ensure_ascii=False, indent=1)
    )
    return 0 if all(r.get("ok", True) for r in all_rows) else 1


if __name__ == "__main__":
    sys.exit(main())
