"""The deadline sweeper: 80% reminders, lateness and escalation, each exactly once.

Time is passed explicitly (`now=`): a case is filed on Monday 2 March 2026 at 09:00, an
ordinary working week (chinese-calendar: no holiday in March 2026), and the sweeper is run at
chosen moments after that. The escalation rules are the seeded ones (migration 0002): grid 0
working days, community 2, street 3, no rule for the county.

The last part runs only on PostgreSQL: two sweeper processes at once, and the sweeper meeting a
user on the same case. Those tests force the overlap with locks (they wait until the other side
is provably blocked) instead of hoping two processes happen to run at the same time.
"""

import datetime as dt
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from minqing.cases import services
from minqing.cases.models import Case, CaseEvent, Notification, NotificationKind, Status
from minqing.cases.texts import say
from minqing.core.workdays import add_working_days, deadline_after
from minqing.grids.models import Level

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[3]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # Monday
MINUTE = dt.timedelta(minutes=1)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def file_case(user, grid, category, now=T0, **extra):
    data = {"category": category, "description": "东门路3号路灯不亮。", "grid": grid, **extra}
    return services.case_accept(acting_user=user, data=data, now=now)


def notes(case, kind, user=None) -> int:
    qs = Notification.objects.filter(case=case, kind=kind)
    return (qs.filter(user=user) if user is not None else qs).count()


def events(case, action) -> list[CaseEvent]:
    return list(case.events.filter(action=action))


@pytest.fixture
def dispatched(tree, grid_a_worker, community_worker, street_light):
    """A street-light case of grid A, dispatched by the community to grid A's worker at T0.

    求助 (help): 3 working days to handle, so its deadline is Thursday 5 March, 17:30.
    """
    case = file_case(grid_a_worker, tree["grid_a"], street_light)
    return services.case_act(
        acting_user=community_worker,
        case=case,
        action="dispatch",
        target_user=grid_a_worker,
        now=T0,
    )


# --- reminders -------------------------------------------------------------------------------


def test_the_dispatch_sets_the_clock_the_tests_below_rely_on(dispatched):
    assert dispatched.deadline == at(2026, 3, 5, 17, 30)
    # 80% of Mon 09:00 … Thu 17:30 (8.5 + 9 + 9 + 9 = 35.5 working hours) is 28.4 h: Thu 10:24.
    assert dispatched.remind_at == at(2026, 3, 5, 10, 24)
    assert dispatched.next_check_at == dispatched.remind_at


def test_before_the_80_percent_point_the_sweeper_leaves_the_case_alone(dispatched):
    counts = services.sweep_deadlines(now=dispatched.remind_at - MINUTE)
    assert counts["checked"] == 0
    assert not Notification.objects.filter(kind=NotificationKind.REMINDER).exists()


def test_at_the_80_percent_point_the_handler_gets_one_reminder_however_often_it_runs(
    dispatched, grid_a_worker, community_worker
):
    remind_at = dispatched.remind_at
    counts = services.sweep_deadlines(now=remind_at)
    assert counts == {"checked": 1, "reminded": 1, "overdue": 0, "escalated": 0, "failed": 0}
    for later in (remind_at, remind_at + MINUTE, remind_at + 60 * MINUTE):
        assert services.sweep_deadlines(now=later)["reminded"] == 0

    assert notes(dispatched, NotificationKind.REMINDER, grid_a_worker) == 1
    assert notes(dispatched, NotificationKind.REMINDER) == 1  # nobody else, not the community
    assert len(events(dispatched, "remind")) == 1
    case = Case.objects.get(pk=dispatched.pk)
    assert case.reminded and not case.late and case.level_node_id == dispatched.level_node_id
    # The next look is the first moment the case is late, not before.
    assert dispatched.deadline < case.next_check_at <= dispatched.deadline + dt.timedelta(seconds=1)


def test_a_case_first_seen_after_its_deadline_gets_the_overdue_notice_and_no_reminder(
    dispatched, grid_a_worker
):
    services.sweep_deadlines(now=dispatched.deadline + MINUTE)
    assert notes(dispatched, NotificationKind.REMINDER) == 0
    assert notes(dispatched, NotificationKind.OVERDUE, grid_a_worker) == 1


# --- lateness and escalation -----------------------------------------------------------------


def test_at_the_deadline_itself_the_case_is_not_yet_late(dispatched):
    services.sweep_deadlines(now=dispatched.deadline)
    case = Case.objects.get(pk=dispatched.pk)
    assert not case.late and case.escalation_count == 0
    assert notes(dispatched, NotificationKind.OVERDUE) == 0
    assert case.next_check_at > dispatched.deadline


def test_past_the_deadline_it_is_late_once_and_goes_from_grid_to_community_once(
    dispatched, tree, grid_a_worker, community_worker
):
    late = dispatched.deadline + MINUTE
    counts = services.sweep_deadlines(now=late)
    assert counts == {"checked": 1, "reminded": 0, "overdue": 1, "escalated": 1, "failed": 0}
    for again in (late, late + MINUTE, late + 60 * MINUTE):
        counts = services.sweep_deadlines(now=again)
        assert counts["overdue"] == counts["escalated"] == 0

    case = Case.objects.get(pk=dispatched.pk)
    assert case.late and case.overdue_notified
    assert case.level_node == tree["community"] and case.escalation_count == 1
    assert case.auto_escalated_at == late
    assert case.version == dispatched.version + 1  # a form opened before this is now stale
    assert case.status == Status.DISPATCHED and case.handler_user == grid_a_worker

    assert notes(case, NotificationKind.OVERDUE, grid_a_worker) == 1
    assert notes(case, NotificationKind.OVERDUE) == 1
    assert notes(case, NotificationKind.ESCALATED, community_worker) == 1
    assert notes(case, NotificationKind.ESCALATED) == 1
    (overdue,) = events(case, "overdue")
    (escalate,) = events(case, "escalate")
    assert overdue.actor is None and overdue.actor_label == services.SYSTEM
    assert (escalate.from_node, escalate.to_node) == (tree["grid_a"], tree["community"])
    assert escalate.actor is None and escalate.at == late
    # Next look: when the community's 2 working days of grace are over (Mon 9 March, 17:30).
    assert case.next_check_at == at(2026, 3, 9, 17, 30)


def climb(case, *moments) -> Case:
    for moment in moments:
        services.sweep_deadlines(now=moment)
    return Case.objects.get(pk=case.pk)


def test_two_working_days_later_the_community_passes_it_to_the_street(
    dispatched, tree, street_officer, community_worker
):
    late = dispatched.deadline + MINUTE  # Thursday 5 March 17:31 → community
    friday = at(2026, 3, 6, 17, 31)  # one working day later: still the community's
    assert add_working_days(late.date(), 2) == dt.date(2026, 3, 9)
    case = climb(dispatched, late, friday, at(2026, 3, 9, 17, 29))
    assert case.level_node == tree["community"] and case.escalation_count == 1

    case = climb(case, at(2026, 3, 9, 17, 31), at(2026, 3, 9, 18, 0))
    assert case.level_node == tree["street"] and case.escalation_count == 2
    assert notes(case, NotificationKind.ESCALATED, street_officer) == 1
    assert notes(case, NotificationKind.ESCALATED, community_worker) == 1
    assert notes(case, NotificationKind.OVERDUE) == 1  # lateness is told once, not per level
    assert [(e.from_node, e.to_node) for e in events(case, "escalate")] == [
        (tree["grid_a"], tree["community"]),
        (tree["community"], tree["street"]),
    ]
    # The street's grace is 3 working days: Thursday 12 March at the end of the day.
    assert case.next_check_at == deadline_after(at(2026, 3, 9, 17, 31), days=3)


def test_the_county_never_passes_a_case_further(dispatched, tree, county_officer):
    case = climb(
        dispatched,
        dispatched.deadline + MINUTE,  # grid → community
        at(2026, 3, 9, 17, 31),  # community → street
        at(2026, 3, 12, 17, 29),  # street's grace not over yet
    )
    assert case.level_node == tree["street"]
    case = climb(case, at(2026, 3, 12, 17, 31))
    assert case.level_node == tree["county"] and case.escalation_count == 3
    assert notes(case, NotificationKind.ESCALATED, county_officer) == 1
    assert case.next_check_at is None  # nothing left to watch

    # Even if something puts it back on the sweeper's list, the county keeps it.
    Case.objects.filter(pk=case.pk).update(next_check_at=at(2026, 4, 1, 9, 0))
    case = climb(case, at(2026, 4, 30, 9, 0))
    assert case.level_node == tree["county"] and case.escalation_count == 3
    assert case.next_check_at is None
    assert len(events(case, "escalate")) == 3


def test_a_report_held_at_the_county_is_marked_late_and_stays_there(tree, county_officer):
    case = services.case_accept(
        data={"category": "0601", "description": "路灯坏了，不知道在哪个网格。"},
        public=True,
        now=T0,
    )
    assert case.level_node == tree["county"] and case.status == Status.ACCEPTED
    services.sweep_deadlines(now=at(2026, 3, 20, 9, 0))
    case = Case.objects.get(pk=case.pk)
    assert case.late and case.level_node == tree["county"] and case.escalation_count == 0
    assert notes(case, NotificationKind.OVERDUE, county_officer) == 1
    assert case.next_check_at is None


@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_one_run_tells_each_case_its_own_people_and_texts_them_after_commit(
    batch_size, tree, grid_a_worker, grid_b_worker, community_worker, water_unit, street_light,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from minqing.core.sms import LoggingSmsBackend

    water_1 = water_unit.members.get()
    to_worker = services.case_act(
        acting_user=community_worker, case=file_case(grid_a_worker, tree["grid_a"], street_light),
        action="dispatch", target_user=grid_a_worker, now=T0,
    )  # fmt: skip
    to_unit = services.case_act(
        acting_user=community_worker, case=file_case(grid_a_worker, tree["grid_a"], street_light),
        action="transfer", target_unit=water_unit, now=T0,
    )  # fmt: skip
    held_a = file_case(grid_a_worker, tree["grid_a"], street_light)
    held_b = file_case(grid_b_worker, tree["grid_b"], street_light)
    grid_b_worker.is_active = False  # left the job: told nothing
    grid_b_worker.save()
    LoggingSmsBackend.sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        counts = services.sweep_deadlines(now=at(2026, 3, 20, 9, 0), batch_size=batch_size)
    assert counts["checked"] == 4 and counts["overdue"] == 4 and counts["escalated"] == 4

    told = {
        case.pk: sorted(
            Notification.objects.filter(case=case, kind=NotificationKind.OVERDUE).values_list(
                "user__username", flat=True
            )
        )
        for case in (to_worker, to_unit, held_a, held_b)
    }
    assert told == {
        to_worker.pk: ["grid_a"],
        to_unit.pk: ["water_1"],
        held_a.pk: ["grid_a"],
        held_b.pk: [],
    }
    for case in (to_worker, to_unit, held_a, held_b):
        assert notes(case, NotificationKind.ESCALATED, community_worker) == 1
        assert notes(case, NotificationKind.ESCALATED) == 1
    texts = [t for m, t in LoggingSmsBackend.sent if m == water_1.mobile]
    assert texts == [f"【民情】案件 {to_unit.number}（{to_unit.title}）已超期，请尽快办理。"]


def test_a_pending_extension_request_lapses_when_the_sweeper_moves_the_case_up(
    client, tree, grid_a_worker, community_worker, street_officer, street_light
):
    """QA: a grid worker's request for more time, pending when the case went up to the
    community late: the community, asked to decide, got 403, and the street, who could, was never
    told. The escalation closes the request as 上报 does; the worker hears of it, asks again,
    and the street is asked and decides."""
    case = file_case(grid_a_worker, tree["grid_a"], street_light, now=timezone.now())
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take")
    url = f"/api/cases/{case.number}/actions/"
    client.force_login(grid_a_worker)
    r = client.post(url + "extend_request", {"days": 3, "note": "需等配件。"},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    assert notes(case, NotificationKind.EXTENSION, community_worker) == 1

    late = Case.objects.get(pk=case.pk).deadline + MINUTE
    out = io.StringIO()
    call_command("sweep_deadlines", now=late.isoformat(), stdout=out)
    call_command("sweep_deadlines", now=(late + MINUTE).isoformat(), stdout=out)  # idempotent
    case = Case.objects.get(pk=case.pk)
    assert case.level_node == tree["community"] and case.handler_user == grid_a_worker
    assert not case.extension_pending
    (asked,) = case.extensions.all()
    assert asked.status == "rejected" and asked.decided_at == late
    assert asked.decision_shown == "案件超期自动上报，延期申请自动失效，可重新申请。"
    (lapsed,) = Notification.objects.filter(case=case, kind=NotificationKind.EXTENSION,
                                            user=grid_a_worker)  # fmt: skip
    assert lapsed.message_key == "extension_lapsed" and "重新申请" in lapsed.message
    (escalate,) = events(case, "escalate")
    assert escalate.note_key == "log_escalated_lapsed"

    client.force_login(community_worker)
    assert "extend_decide" not in [a["action"] for a in client.get(
        f"/api/cases/{case.number}").json()["actions"]]  # fmt: skip
    client.force_login(grid_a_worker)
    r = client.post(url + "extend_request", {"days": 3, "note": "仍需等配件。"},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    assert notes(case, NotificationKind.EXTENSION, street_officer) == 1
    client.force_login(street_officer)
    r = client.post(url + "extend_decide", {"approve": True, "note": "同意。"},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    assert not r.json()["extension_pending"]


def test_an_inactive_rule_keeps_a_late_case_at_its_level(dispatched, tree):
    from minqing.cases.models import EscalationRule
    from minqing.grids.models import Level

    EscalationRule.objects.filter(level=Level.GRID).update(active=False)
    services.sweep_deadlines(now=dispatched.deadline + MINUTE)
    case = Case.objects.get(pk=dispatched.pk)
    assert case.late and case.level_node == tree["grid_a"] and case.next_check_at is None


def test_closed_and_cancelled_cases_are_never_touched(tree, grid_a_worker, street_light):
    closed = file_case(grid_a_worker, tree["grid_a"], street_light)
    for action, note in (("take", ""), ("feedback", "已修好"), ("verify", "")):
        closed = services.case_act(
            acting_user=grid_a_worker, case=closed, action=action, note=note, now=T0
        )
    cancelled = file_case(grid_a_worker, tree["grid_a"], street_light)
    cancelled = services.case_act(
        acting_user=grid_a_worker, case=cancelled, action="cancel", note="重复反映", now=T0
    )
    assert closed.status == Status.CLOSED and cancelled.status == Status.CANCELLED
    # As if left behind by older code: due long ago, past a deadline, never reminded.
    Case.objects.filter(pk__in=[closed.pk, cancelled.pk]).update(
        next_check_at=T0, remind_at=T0, deadline=T0 + MINUTE, stage="handle"
    )
    before = {c.pk: (c.version, c.events.count()) for c in (closed, cancelled)}

    counts = services.sweep_deadlines(now=at(2026, 4, 1, 9, 0))
    assert counts["checked"] == 0
    assert not Notification.objects.filter(
        kind__in=[NotificationKind.REMINDER, NotificationKind.OVERDUE, NotificationKind.ESCALATED]
    ).exists()
    for case in Case.objects.filter(pk__in=before):
        assert (case.version, case.events.count()) == before[case.pk]
        assert not case.late and not case.reminded and case.escalation_count == 0
        assert case.level_node == tree["grid_a"]
        assert case.next_check_at is None  # taken off the sweeper's list


def test_a_phone_no_key_in_force_can_open_stops_neither_the_sweep_nor_its_case(
    dispatched, tree, grid_a_worker, street_light
):
    """QA (ops): a reporter's phone sealed under a key id no longer configured ("k0") made
    loading the batch fail, every run: no case was swept county-wide. The sweep does not read
    the phone, so the case is swept like the others and its phone is left as it was."""
    from minqing.core import crypto

    other = file_case(grid_a_worker, tree["grid_a"], street_light)
    sealed = "v1$k0$" + crypto.encrypt("13812345678").split("$", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_case SET reporter_phone = %s WHERE id = %s", [sealed, dispatched.pk]
        )
    counts = services.sweep_deadlines(now=at(2026, 3, 20, 9, 0))
    assert counts["checked"] == 2 and counts["failed"] == 0 and counts["escalated"] == 2
    assert Case.objects.filter(pk__in=[dispatched.pk, other.pk], late=True).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [dispatched.pk])
        assert cursor.fetchone()[0] == sealed


def test_one_failing_case_is_logged_and_retried_later_without_stopping_the_others(
    dispatched, tree, grid_a_worker, street_light, monkeypatch, caplog
):
    other = file_case(grid_a_worker, tree["grid_a"], street_light)
    real = services._sweep_one

    def flaky(case, now, counts, rules, out):
        if case.pk == dispatched.pk:
            services._notify(
                [grid_a_worker],
                case,
                NotificationKind.OVERDUE,
                say("overdue", number=case.number, title=""),
            )
            raise RuntimeError("boom")
        return real(case, now, counts, rules, out)

    monkeypatch.setattr(services, "_sweep_one", flaky)
    late = at(2026, 3, 20, 9, 0)
    counts = services.sweep_deadlines(now=late)
    assert counts["checked"] == 2 and counts["failed"] == 1 and counts["escalated"] == 1
    assert "boom" in caplog.text and dispatched.number in caplog.text
    failed = Case.objects.get(pk=dispatched.pk)
    assert notes(failed, NotificationKind.OVERDUE) == 0  # its half-done work was undone
    assert not failed.late and failed.next_check_at == late + dt.timedelta(hours=1)
    assert Case.objects.get(pk=other.pk).escalation_count == 1

    monkeypatch.setattr(services, "_sweep_one", real)
    services.sweep_deadlines(now=late + dt.timedelta(hours=1))
    assert Case.objects.get(pk=dispatched.pk).escalation_count == 1


# --- next_check_at and the index -------------------------------------------------------------


def test_next_check_at_only_moves_forward(dispatched):
    seen = [dispatched.next_check_at]
    for moment in (
        dispatched.remind_at,
        dispatched.deadline + MINUTE,
        at(2026, 3, 9, 17, 31),
    ):
        services.sweep_deadlines(now=moment)
        nxt = Case.objects.get(pk=dispatched.pk).next_check_at
        assert nxt > moment and nxt > seen[-1]
        seen.append(nxt)


def test_the_sweepers_query_reads_the_partial_index_on_next_check_at(dispatched):
    with CaptureQueriesContext(connection) as ctx:
        services.sweep_deadlines(now=dispatched.remind_at)
    selects = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT") and '"next_check_at" <=' in q["sql"]
    ]
    assert selects, "the sweeper's due-cases query was not seen"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A few rows: the planner would rightly scan the table. Ask whether it *can* use it.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + selects[0])
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + selects[0])
        plan = " ".join(str(col) for row in cursor.fetchall() for col in row)
    assert "case_next_check" in plan, plan


# --- the command -----------------------------------------------------------------------------


def parse_counts(output: str) -> list[dict]:
    return [
        {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)\b(?!\.)", line)}
        for line in output.splitlines()
        if "checked=" in line
    ]


def test_the_command_sweeps_and_prints_the_counts(dispatched):
    out = io.StringIO()
    call_command("sweep_deadlines", now="2026-03-05T17:31:00+08:00", batch=1, stdout=out)
    (counts,) = parse_counts(out.getvalue())
    assert counts == {"checked": 1, "reminded": 0, "overdue": 1, "escalated": 1, "failed": 0}
    assert out.getvalue().startswith("2026-03-05T17:31:00+08:00 ")
    assert "seconds=" in out.getvalue()


def test_the_command_reads_a_time_without_offset_as_beijing_time(dispatched):
    out = io.StringIO()
    call_command("sweep_deadlines", now="2026-03-05 17:29", stdout=out)  # before 17:30
    assert parse_counts(out.getvalue())[0]["overdue"] == 0
    call_command("sweep_deadlines", now="2026-03-05 17:31", stdout=out)
    assert parse_counts(out.getvalue())[1]["overdue"] == 1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"now": "next tuesday"}, "ISO 8601"),
        ({"batch": 0}, "--batch"),
        ({"loop": 0.5}, "至少 1 秒"),
        ({"loop": 5, "now": "2026-03-05T17:31"}, "不能同时使用"),
    ],
)
def test_the_command_refuses_bad_options_with_a_clear_message(db, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("sweep_deadlines", stdout=io.StringIO(), **options)


def test_the_loop_runs_until_sigterm_and_then_exits_cleanly(dispatched):
    out = io.StringIO()
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(2.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        call_command("sweep_deadlines", loop=1, stdout=out)
    finally:
        timer.cancel()
    runs = parse_counts(out.getvalue())
    assert len(runs) >= 2
    assert runs[0]["escalated"] == 1  # real time is long after March 2026's deadline
    assert out.getvalue().rstrip().endswith("stopped")
    assert signal.getsignal(signal.SIGTERM) == before


# --- PostgreSQL: concurrency -----------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=(
        "needs PostgreSQL: the concurrent-sweeper guarantees are its row locks "
        "(SELECT … FOR UPDATE SKIP LOCKED), which SQLite does not have (it runs one write "
        "transaction at a time), and the test database must be reachable from other processes "
        "(SQLite's test database is in memory)"
    ),
)
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def sweeper_process(*args: str) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url(), MINQING_DEV="1")
    return subprocess.Popen(
        [sys.executable, "manage.py", "sweep_deadlines", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    (counts,) = parse_counts(out)
    return counts


def waiting_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


def wait_until(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def lock_notifications():
    """Hold back every sweeper at its first notification, with its first batch locked."""
    cursor = connection.cursor()
    cursor.execute("LOCK TABLE cases_notification IN EXCLUSIVE MODE")


LATE = at(2026, 3, 20, 10, 0)  # every case below is late, none yet seen by a sweeper


@postgres_only
@committed
def test_two_sweeper_processes_at_once_handle_each_late_case_exactly_once(
    tree, grid_a_worker, community_worker, water_unit, street_light
):
    n = 210
    water_1 = water_unit.members.get()
    expected_overdue = {}  # case pk → who must hear it is late
    for i in range(n):
        case = file_case(grid_a_worker, tree["grid_a"], street_light, description=f"路灯{i}")
        if i % 3 == 0:
            case = services.case_act(
                acting_user=community_worker, case=case, action="dispatch",
                target_user=grid_a_worker, now=T0,
            )  # fmt: skip
            expected_overdue[case.pk] = {grid_a_worker.pk}
        elif i % 3 == 1:
            case = services.case_act(
                acting_user=community_worker, case=case, action="transfer",
                target_unit=water_unit, now=T0,
            )  # fmt: skip
            expected_overdue[case.pk] = {water_1.pk}
        else:
            expected_overdue[case.pk] = {grid_a_worker.pk}  # held by grid A: its staff

    with transaction.atomic():
        lock_notifications()
        procs = [sweeper_process("--now", LATE.isoformat(), "--batch", "20") for _ in range(2)]
        # Both sweepers have locked a first batch and wait at their first notification.
        wait_until(lambda: waiting_locks() >= 2, "both sweepers to block")
    results = [finish(p) for p in procs]

    assert all(r["checked"] > 0 for r in results), results  # the work was shared
    assert sum(r["checked"] for r in results) == n
    assert sum(r["overdue"] for r in results) == n
    assert sum(r["escalated"] for r in results) == n
    assert sum(r["failed"] for r in results) == 0

    per_case = dict(
        CaseEvent.objects.filter(action="escalate")
        .values_list("case")
        .annotate(n=Count("id"))
        .values_list("case", "n")
    )
    assert per_case == {pk: 1 for pk in expected_overdue}
    overdue_events = CaseEvent.objects.filter(action="overdue")
    assert overdue_events.count() == n and overdue_events.values("case").distinct().count() == n
    told = {}
    for case_id, user_id in Notification.objects.filter(kind=NotificationKind.OVERDUE).values_list(
        "case", "user"
    ):
        told.setdefault(case_id, []).append(user_id)
    assert {pk: sorted(users) for pk, users in told.items()} == {
        pk: sorted(users) for pk, users in expected_overdue.items()
    }
    escalated = Notification.objects.filter(kind=NotificationKind.ESCALATED)
    assert escalated.count() == n and set(escalated.values_list("user", flat=True)) == {
        community_worker.pk
    }
    assert set(Case.objects.values_list("level_node", "escalation_count")) == {
        (tree["community"].pk, 1)
    }


@pytest.fixture
def handling(dispatched, grid_a_worker):
    return services.case_act(acting_user=grid_a_worker, case=dispatched, action="start", now=T0)


@postgres_only
@committed
def test_a_user_who_acts_while_the_sweeper_holds_the_case_waits_and_nothing_is_lost(
    handling, tree, grid_a_worker, community_worker
):
    result = {}

    def feed_back():
        try:
            result["case"] = services.case_act(
                acting_user=grid_a_worker, case=handling, action="feedback", note="已更换灯泡",
                now=LATE,
            )  # fmt: skip
        except Exception as exc:  # reported in the main thread
            result["error"] = exc
        finally:
            close_old_connections()
            connection.close()

    with transaction.atomic():
        lock_notifications()
        proc = sweeper_process("--now", LATE.isoformat())
        wait_until(lambda: waiting_locks() >= 1, "the sweeper to hold the case")
        user = threading.Thread(target=feed_back)
        user.start()
        wait_until(lambda: waiting_locks() >= 2, "the user to wait for the case's row lock")
        assert "case" not in result  # the user really waits for the sweeper
    counts = finish(proc)
    user.join(60)
    assert "error" not in result, result.get("error")
    assert counts["escalated"] == 1

    case = Case.objects.get(pk=handling.pk)
    # The sweeper's work, then the user's on top of it: both kept.
    assert case.escalation_count == 1 and case.level_node == tree["community"] and case.late
    assert case.status == Status.FED_BACK and case.result == "已更换灯泡"
    assert case.version == handling.version + 2
    assert [e.action for e in case.events.filter(at__gte=LATE)] == [
        "overdue",
        "escalate",
        "feedback",
    ]
    # The user's action saw where the case was: its check goes to the community now.
    assert notes(case, NotificationKind.FEEDBACK, community_worker) == 1
    assert notes(case, NotificationKind.OVERDUE) == 1


@postgres_only
@committed
def test_the_sweeper_skips_a_case_a_user_is_changing_and_takes_it_on_the_next_run(
    handling, tree, community_worker
):
    with transaction.atomic():
        services.case_act(
            acting_user=community_worker, case=handling, action="supervise", note="请尽快修复",
            now=LATE,
        )  # fmt: skip
        # Not committed: the row is locked. The sweeper must not wait for it, nor touch it.
        skipped = finish(sweeper_process("--now", LATE.isoformat()), timeout=30)
    assert skipped["checked"] == 0
    assert Case.objects.get(pk=handling.pk).escalation_count == 0

    counts = finish(sweeper_process("--now", (LATE + MINUTE).isoformat()))
    assert counts["checked"] == 1 and counts["escalated"] == 1
    case = Case.objects.get(pk=handling.pk)
    assert case.supervise_count == 1 and case.escalation_count == 1  # nothing lost
    assert case.version == handling.version + 2


@postgres_only
@committed
def test_the_loop_process_stops_cleanly_on_sigterm(db):
    proc = sweeper_process("--loop", "1")
    first = proc.stdout.readline()
    assert "checked=" in first, proc.stderr.read() if proc.poll() is not None else first
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out.rstrip().endswith("stopped")


# --- after an automatic escalation ---------------------------------------------------------


def test_a_late_case_moved_up_is_in_the_communitys_inbox_to_urge_or_recall(
    dispatched, grid_a_worker, community_worker
):
    # given: the dispatched case late and moved up to the community by the sweeper
    services.sweep_deadlines(now=at(2026, 3, 6, 9, 0))
    case = Case.objects.get(pk=dispatched.pk)
    assert case.level_node.level == Level.COMMUNITY and case.status == Status.DISPATCHED
    assert case.handler_user == grid_a_worker

    # then: it waits in the community secretary's inbox, who may urge or recall it
    from minqing.cases import selectors

    assert case.pk in selectors.inbox_for(community_worker).values_list("pk", flat=True)
    assert {"supervise", "recall"} <= set(services.available_actions(community_worker, case))
    assert "recall" not in services.available_actions(grid_a_worker, case)

    # when: the community urges, then recalls it
    services.case_act(acting_user=community_worker, case=case, action="supervise",
                      note="请今天修好", now=at(2026, 3, 6, 9, 5))  # fmt: skip
    assert notes(case, NotificationKind.SUPERVISED, grid_a_worker) == 1
    case = services.case_act(acting_user=community_worker, case=case, action="recall",
                             note="改派维修班", now=at(2026, 3, 6, 10, 0))  # fmt: skip

    # then: it is the community's to dispatch again, with a dispatch clock; the worker is told
    assert case.status == Status.REGISTERED and case.handler_user is None
    assert case.deadline == deadline_after(at(2026, 3, 6, 10, 0), days=1)
    assert notes(case, NotificationKind.ASSIGNED, grid_a_worker) >= 2  # dispatched, recalled
    assert "已被收回" in Notification.objects.filter(user=grid_a_worker).latest("id").message
    assert "dispatch" in services.available_actions(community_worker, case)
    [event] = events(case, "recall")
    assert event.actor == community_worker and event.note == "改派维修班"


def test_a_late_case_moved_up_leaves_the_communitys_inbox_once_it_is_on_time_again(
    dispatched, grid_a_worker, community_worker
):
    """QA: an extension granted after the sweeper moved the case up gives it a deadline ahead
    again; the community's 待办 kept it (as 待处置, "剩余 3个工作日") because `late` stays set —
    it waits for nothing from them. Its page, its head, its count and the API agree."""
    from django.test import Client

    from minqing.cases import selectors

    services.sweep_deadlines(now=at(2026, 3, 6, 9, 0))
    case = Case.objects.get(pk=dispatched.pk)
    assert case.level_node.level == Level.COMMUNITY and case.late
    web = Client()
    web.force_login(community_worker)

    def listed() -> list:
        page = [c.pk for c in web.get("/cases/inbox/").context["page"]]
        head = [pk for pk, _status, _decides in selectors.inbox_head(community_worker, 10)]
        api = [r["number"] for r in web.get("/api/cases/inbox/").json()["items"]]
        count = selectors.home_counts(community_worker)["inbox"]
        assert page == head and len(api) == len(page) == count
        return page

    assert case.pk in listed()
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() + dt.timedelta(days=3))
    assert case.pk not in listed()
    assert case.pk in selectors.inbox_for(grid_a_worker).values_list("pk", flat=True)
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    assert case.pk in listed()


def test_a_grid_worker_neither_urges_nor_recalls_a_case_dispatched_from_their_grid(
    dispatched, grid_a_worker
):
    # A grid worker holds no dispatching role: no recall, no urging of a case at their grid.
    assert not {"supervise", "recall"} & set(services.available_actions(grid_a_worker, dispatched))


def test_an_extension_request_waits_in_the_inbox_of_those_who_decide_it(
    dispatched, grid_a_worker, community_worker, street_officer
):
    from minqing.cases import selectors

    def waiting(user) -> bool:
        return dispatched.pk in selectors.inbox_for(user).values_list("pk", flat=True)

    assert not waiting(community_worker)
    services.case_act(acting_user=grid_a_worker, case=dispatched, action="extend_request",
                      note="零件缺货", days=2, now=at(2026, 3, 3, 9, 0))  # fmt: skip
    # the community, just above grid A, decides; the street above it does not see it
    assert waiting(community_worker) and not waiting(street_officer)
    # Its 待办 files it under 待审批延期 (was 待处置, with the cases it handles); the
    # handler's own still waits for its work.
    from django.test import Client

    web = Client()
    web.force_login(community_worker)
    page = web.get("/cases/inbox/")
    groups = {g["key"]: g["count"] for g in page.context["groups"]}
    assert groups["decide"] == 1 and groups["handle"] == 0
    assert "待审批延期" in page.content.decode()
    chosen = web.get("/cases/inbox/?wait=decide").context["page"]
    assert [c.pk for c in chosen] == [dispatched.pk]
    rows = web.get("/api/cases/inbox/").json()["items"]
    assert [r["extension_pending"] for r in rows if r["number"] == dispatched.number] == [True]
    # The API's `wait` is the page's groups.
    decide = web.get("/api/cases/inbox/", {"wait": "decide"}).json()["items"]
    assert [r["number"] for r in decide] == [dispatched.number]
    assert web.get("/api/cases/inbox/", {"wait": "handle"}).json()["count"] == 0
    assert web.get("/api/cases/inbox/", {"wait": "nope"}).status_code == 422
    web.force_login(grid_a_worker)
    mine = {g["key"]: g["count"] for g in web.get("/cases/inbox/").context["groups"]}
    assert mine["decide"] == 0 and mine["handle"] >= 1
    case = Case.objects.get(pk=dispatched.pk)
    services.case_act(acting_user=community_worker, case=case, action="extend_decide",
                      approve=True, now=at(2026, 3, 3, 10, 0))  # fmt: skip
    assert not waiting(community_worker)


def test_a_request_moved_up_with_its_late_case_is_not_the_communitys_to_decide(
    dispatched, grid_a_worker, community_worker
):
    """Review: the sweeper moved the late case up to the community with its request still
    pending; the community's 待办 filed it under 待审批延期, which only the street may decide."""
    from django.test import Client

    services.case_act(acting_user=grid_a_worker, case=dispatched, action="extend_request",
                      note="零件缺货", days=2, now=at(2026, 3, 3, 9, 0))  # fmt: skip
    services.sweep_deadlines(now=at(2026, 3, 6, 9, 0))
    case = Case.objects.get(pk=dispatched.pk)
    # The request lapsed with the escalation (QA; see the test above on how it is asked again).
    assert case.level_node.level == Level.COMMUNITY and not case.extension_pending
    assert "extend_decide" not in services.available_actions(community_worker, case)
    web = Client()
    web.force_login(community_worker)
    page = web.get("/cases/inbox/")
    groups = {g["key"]: g["count"] for g in page.context["groups"]}
    assert groups["decide"] == 0 and groups["handle"] == 1
