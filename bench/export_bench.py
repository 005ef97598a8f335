"""Excel export of N people: minqing's export beside XlsxWriter writing the same rows directly.

This script:
  1. creates its own database (a SQLite file, or a PostgreSQL database `exportbench`) unless
     --reuse, runs `migrate` and `seed_demo --people N` into it (N = 100 000 by default);
  2. in a fresh process, as the `county` user (the whole county: every seeded person):
     a. minqing: the view behind /people/export.xlsx (minqing.registry.exports.people_xlsx,
        called through RequestFactory: selector, scope, masking, stamp, audit entry), the body
        read to the end as a server would send it;
     b. XlsxWriter directly: the very same rows, already in a Python list (made by the export's
        own row function, not timed), written with write_row in constant_memory mode, the way
        a hand-written export would write them;
     c. --rounds rounds of each, interleaved; best and median;
     d. peak memory: one more (untimed) run of each under tracemalloc, and the process's peak
        RSS before and after the export (ru_maxrss);
  3. prints the figures, the ratio (target: minqing ≤ 2 × XlsxWriter) and writes them as JSON
     to bench/out/.

    .venv/bin/python bench/export_bench.py                         # 100 000 people, SQLite
    .venv/bin/python bench/export_bench.py --people 20000 --rounds 2
    .venv/bin/python bench/export_bench.py --db postgres --reuse    # keep the seeded database
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TARGET = 2.0


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def prepare(args) -> dict:
    env = dict(os.environ, MINQING_DEV="1", DEBUG="0")
    if args.db == "sqlite":
        path = Path(args.sqlite_path or f"/tmp/minqing-bench/export-{args.people}.sqlite3")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        import psycopg

        if not args.reuse:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {args.pg_db} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {args.pg_db}")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.pg_db}"
    manage = [PYTHON, "manage.py"]
    log(f"{args.db}: migrate")
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    log(f"{args.db}: seed_demo --people {args.people} (skipped if already seeded)")
    t = time.monotonic()
    subprocess.run(
        [*manage, "seed_demo", "--people", str(args.people), "--cases", "0", "--quiet"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    log(f"{args.db}: seeded in {time.monotonic() - t:.0f}s")
    return env


# ------------------------------------------------------------------ the measuring process


def measure(rounds: int) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minqing.settings")
    import django

    django.setup()

    import resource
    import tempfile
    import tracemalloc

    import xlsxwriter
    from django.db import connection
    from django.test import RequestFactory

    from minqing.accounts.models import User
    from minqing.registry import exports, selectors

    user = User.objects.get(username="county")
    factory = RequestFactory()
    if connection.vendor == "sqlite":
        with connection.cursor() as c:
            c.execute("ANALYZE")

    def maxrss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def minqing_export() -> tuple[int, int]:
        request = factory.get("/people/export.xlsx")
        request.user = user
        response = exports.people_xlsx(request)
        size = 0
        for block in response.streaming_content:
            size += len(block)
        response.close()
        return response.row_count, size

    headers = [c.header for c in exports.PEOPLE_COLUMNS]

    def direct(rows: list) -> tuple[int, int]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "direct.xlsx"
            workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "in_memory": False})
            ws = workbook.add_worksheet("人员台账")
            ws.write_row(0, 0, headers)
            for i, row in enumerate(rows, start=1):
                ws.write_row(i, 0, row)
            workbook.close()
            return len(rows), path.stat().st_size

    def timed(fn, *a):
        t = time.perf_counter()
        out = fn(*a)
        return time.perf_counter() - t, out

    # Warm-up (imports, first queries), then peak memory of one export under tracemalloc.
    minqing_export()
    rss_before = maxrss_mb()
    tracemalloc.start()
    minqing_export()
    minqing_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rss_after_export = maxrss_mb()

    # The same rows, in memory, for XlsxWriter alone (not timed).
    t, rows = timed(lambda: list(exports.person_rows(selectors.person_search(user))))
    rows_only = t
    tracemalloc.start()
    direct(rows)
    direct_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    times = {"minqing": [], "xlsxwriter": []}
    counts = {}
    for r in range(rounds):
        for name, fn, arg in (("minqing", minqing_export, ()), ("xlsxwriter", direct, (rows,))):
            seconds, (n, size) = timed(fn, *arg)
            times[name].append(seconds)
            counts[name] = {"rows": n, "bytes": size}
            log(f"round {r + 1}: {name:10s} {seconds:6.2f}s  {n} rows  {size / 2**20:.1f} MiB")
    best = {k: min(v) for k, v in times.items()}
    return {
        "db": connection.vendor,
        "rows": counts["minqing"]["rows"],
        "rounds": rounds,
        "seconds": times,
        "best": best,
        "median": {k: statistics.median(v) for k, v in times.items()},
        "ratio_best": best["minqing"] / best["xlsxwriter"],
        "ratio_median": statistics.median(times["minqing"])
        / statistics.median(times["xlsxwriter"]),
        "rows_without_writing_seconds": rows_only,
        "file_bytes": {k: v["bytes"] for k, v in counts.items()},
        "tracemalloc_peak_mib": {"minqing": minqing_peak, "xlsxwriter": direct_peak},
        "maxrss_mib": {"before_export": rss_before, "after_export": rss_after_export},
    }


def report(result: dict, people: int) -> None:
    b, m = result["best"], result["median"]
    print()
    print(f"Export of {result['rows']} people ({result['db']}), best of {result['rounds']}:")
    print(f"  minqing /people/export.xlsx : {b['minqing']:6.2f}s (median {m['minqing']:.2f}s)")
    print(
        f"  XlsxWriter directly         : {b['xlsxwriter']:6.2f}s (median {m['xlsxwriter']:.2f}s)"
    )
    verdict = "OK" if result["ratio_best"] <= TARGET else "OVER TARGET"
    print(
        f"  ratio {result['ratio_best']:.2f}× best, {result['ratio_median']:.2f}× median"
        f"  (target ≤ {TARGET:g}×: {verdict})"
    )
    print(
        f"  of which reading + masking the rows alone: {result['rows_without_writing_seconds']:.2f}s"
    )
    peak = result["tracemalloc_peak_mib"]
    rss = result["maxrss_mib"]
    print(
        f"  peak Python memory (tracemalloc): minqing {peak['minqing']:.1f} MiB,"
        f" XlsxWriter {peak['xlsxwriter']:.1f} MiB (its rows already in memory)"
    )
    print(
        f"  process peak RSS: {rss['before_export']:.0f} MiB before the export,"
        f" {rss['after_export']:.0f} MiB after it"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"export-{people}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"  written to {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--sqlite-path")
    parser.add_argument("--pg-db", default="exportbench")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print("BENCH-JSON " + json.dumps(measure(args.rounds)), flush=True)
        return
    env = prepare(args)
    log("measuring in a fresh process")
    proc = subprocess.run(
        [PYTHON, __file__, "--measure", "--rounds", str(args.rounds)],
        env=env,
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    )
    lines = proc.stdout.splitlines()
    for line in lines:
        if not line.startswith("BENCH-JSON "):
            print(line)
    result = json.loads(next(x for x in lines if x.startswith("BENCH-JSON "))[11:])
    report(result, args.people)


if __name__ == "__main__":
    main()
