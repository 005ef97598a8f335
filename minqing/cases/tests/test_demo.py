"""The demo year of cases: every state, lateness and escalation, events that add up, and a fast
path that writes exactly what the services write."""

import dataclasses
import datetime
import hashlib
import random
import re
from zoneinfo import ZoneInfo

import pytest

from minqing.accounts.models import User
from minqing.cases import demo, selectors
from minqing.cases.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    Case,
    CaseEvent,
    Notification,
    Open311Client,
    Priority,
    Satisfaction,
    Status,
    Unit,
    ZoneKind,
    ZoningLayer,
)
from minqing.grids.models import Level

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 26, 18, 0, tzinfo=TZ)  # a Thursday evening


@pytest.fixture
def seeded(tree, grid_a_worker, grid_b_worker, community_worker, county_officer):
    return demo.seed_cases(count=160, now=NOW, rng=random.Random(20261126))


def test_the_seeded_year_has_every_state_and_replays_without_problems(seeded):
    assert seeded["problems"] == {}
    assert seeded["cases"] == 160
    assert set(seeded["by_status"]) == set(Status.values)
    assert seeded["by_status"][Status.RATED] > seeded["cases"] // 2
    assert seeded["paths"]["fast"] > 0 and seeded["paths"]["services"] > 0
    first = Case.objects.order_by("accepted_at").first().accepted_at
    assert first < NOW - datetime.timedelta(days=300)
    assert not Case.objects.filter(accepted_at__gt=NOW).exists()
    assert not CaseEvent.objects.filter(at__gt=NOW).exists()


def test_some_cases_went_late_and_were_escalated_and_some_are_late_now(seeded, tree):
    assert Case.objects.filter(late=True, status__in=DONE_STATUSES).exists()
    late_now = Case.objects.filter(status__in=OPEN_STATUSES, deadline__lt=NOW)
    assert late_now.exists()
    assert late_now.filter(level_node__level__lt=Level.GRID).exists()  # gone up a level
    assert CaseEvent.objects.filter(action="escalate", actor__isnull=True).exists()  # sweeper
    assert CaseEvent.objects.filter(action="escalate", actor__isnull=False).exists()  # by hand
    assert Case.objects.filter(
        status__in=OPEN_STATUSES, level_node=tree["community"], escalation_count__gt=0
    ).exists()


def test_every_case_history_adds_up_to_its_row(seeded):
    cases = Case.objects.prefetch_related("events").select_related("level_node")
    for case in cases:
        events = list(case.events.all())
        assert events[0].action == "accept" and events[0].to_status == Status.ACCEPTED
        status = ""
        for e in events:
            if e.from_status:
                assert e.from_status == status, (case.number, e.action)
            status = e.to_status or status
        assert status == case.status, case.number
        actions = {e.action for e in events}
        if case.status in DONE_STATUSES:
            assert case.closed_at and case.closed_on_time is not None
            assert case.handling_hours is not None and case.result and case.answer
            assert "verify" in actions and case.deadline is None and case.next_check_at is None
        if case.status == Status.RATED:
            assert case.satisfaction in Satisfaction.values and "rate" in actions
        if case.status == Status.CANCELLED:
            assert case.cancel_reason and case.closed_at and "cancel" in actions
        if case.status in OPEN_STATUSES:
            assert case.deadline is not None and case.closed_at is None
        if case.reopened:
            assert "reopen" in actions
        if case.late:
            assert "overdue" in actions
        assert case.escalation_count == sum(e.action == "escalate" for e in events)
        assert case.rework_count == sum(e.action == "rework" for e in events)
    assert Case.objects.filter(reopened=True).exists()
    assert Case.objects.filter(rework_count__gt=0).exists()
    assert Case.objects.filter(satisfaction=Satisfaction.FAIRLY).exists()
    assert not Notification.objects.filter(created_at__gt=NOW).exists()


def test_grid_a_finds_open_and_late_cases_in_the_inbox_and_only_its_own(
    seeded, grid_a_worker, grid_b_worker, tree
):
    inbox = selectors.inbox_for(grid_a_worker)
    assert inbox.filter(status__in=OPEN_STATUSES, deadline__gte=NOW).exists()
    assert inbox.filter(status__in=OPEN_STATUSES, deadline__lt=NOW).exists()
    assert inbox.filter(status=Status.ACCEPTED).exists()  # a resident's report to register
    assert inbox.filter(status=Status.FED_BACK).exists()  # a department's feedback to check
    assert not selectors.cases_for(grid_b_worker).filter(grid=tree["grid_a"]).exists()
    assert grid_a_worker.notifications.filter(read_at__isnull=True).exists()
    assert not grid_a_worker.notifications.filter(
        read_at__isnull=True, created_at__lt=NOW - datetime.timedelta(days=3)
    ).exists()


def test_departments_the_open311_client_and_the_zones_are_seeded(seeded, tree):
    assert set(Unit.objects.values_list("name", flat=True)) >= {
        "城管执法", "环卫所", "派出所", "供水公司", "供电所", "住建局",
    }  # fmt: skip
    member = User.objects.get(username="huanwei")
    assert member.check_password(demo.DEMO_PASSWORD) and member.assignments.count() == 0
    assert selectors.cases_for(member).exists()
    assert set(selectors.cases_for(member).values_list("handler_unit__code", flat=True)) == {"hws"}
    client = Open311Client.objects.get(name=demo.CLIENT_NAME)
    key = seeded["open311_key"]
    assert client.key_digest == hashlib.sha256(key.encode()).hexdigest()
    assert Case.objects.filter(source_client=demo.CLIENT_NAME, created_by=None).exists()
    assert ZoningLayer.objects.filter(kind=ZoneKind.NO_BUILD).count() == 1
    assert ZoningLayer.objects.filter(kind=ZoneKind.RESTRICTED).count() == 1
    flagged = Case.objects.filter(zoning=ZoneKind.NO_BUILD, category__code__in=["0302", "0303"])
    assert all(c.priority == Priority.URGENT for c in flagged)


def test_seeding_twice_adds_nothing_and_shows_no_key(seeded):
    counts = (Case.objects.count(), CaseEvent.objects.count(), Unit.objects.count())
    again = demo.seed_cases(count=160, now=NOW, rng=random.Random(1))
    assert again["skipped"] and again["open311_key"] == ""
    assert (Case.objects.count(), CaseEvent.objects.count(), Unit.objects.count()) == counts
    assert Open311Client.objects.count() == 1


def test_the_same_seed_draws_the_same_year(tree, grid_a_worker):
    def draw():
        replay = demo.Replay(county=tree["county"], count=80, now=NOW, rng=random.Random(3))
        replay.setup()
        return [
            (p.at, p.grid.code, p.title, p.route, p.cancel, p.late, p.ratings, p.seed, p.fast)
            for p in replay.draw_plans()
        ]

    assert draw() == draw()


# --- the fast path against the services ----------------------------------------------------

CASE_FIELDS = [
    f.attname
    for f in Case._meta.concrete_fields
    if f.attname not in ("id", "number", "token", "reporter_phone")
]
EVENT_FIELDS = [
    "at", "actor_id", "actor_label", "action", "from_status", "to_status", "from_node_id",
    "to_node_id", "target_user_id", "target_unit_id", "note", "public",
]  # fmt: skip


def _history(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    row = {name: getattr(case, name) for name in CASE_FIELDS}
    row["reporter_phone"] = case.reporter_phone
    events = [
        tuple(getattr(e, name) for name in EVENT_FIELDS)
        for e in CaseEvent.objects.filter(case=case).order_by("at", "id")
    ]
    notes = sorted(
        (n.user_id, n.kind, re.sub(r"\d{8}-\d{6}", "N", n.message), n.created_at, n.read_at)
        for n in Notification.objects.filter(case=case)
    )
    return row, events, notes


def test_the_fast_path_writes_exactly_what_the_services_write(
    tree, grid_a_worker, grid_b_worker, community_worker, street_officer, county_officer
):
    replay = demo.Replay(county=tree["county"], count=0, now=NOW, rng=random.Random(11))
    stories = [
        {},
        {"cancel": True},
        {"escalate": True, "acceptor": "grid"},
        {"decline": True, "route": "transfer", "unit": "gsgs"},
        {"supervise": True},
        {"rework": 1},
        {"ratings": [Satisfaction.UNSATISFIED, Satisfaction.FAIRLY]},
        {"acceptor": "public", "channel": "online"},
        {"acceptor": "county", "channel": "hotline", "route": "dispatch"},
        {"acceptor": "community", "channel": "reception", "route": "take"},
        {"route": "dispatch"},
        {"ratings": [Satisfaction.UNSATISFIED, Satisfaction.UNSATISFIED], "rework": 1},
    ]
    with replay.replaying():
        replay.setup()
        pairs = []
        for i in range(len(stories) * 4):
            day = NOW.date() - datetime.timedelta(days=60 + 19 * i)
            plan = replay.draw_plan(replay.moment(day), replay.grids[i % len(replay.grids)])
            plan.late = plan.slow_start = plan.extend = False
            if plan.flagged:  # a 禁建区 violation is urgent: not for the fast path
                plan.category, plan.flagged = replay.categories["0601"], False
            plan.cancel = plan.escalate = plan.decline = plan.supervise = False
            plan.rework, plan.ratings = 0, [Satisfaction.SATISFIED]
            plan.priority = Priority.NORMAL
            for name, value in stories[i % len(stories)].items():
                setattr(plan, name, value)
            if plan.acceptor == "grid" and plan.channel not in ("patrol", "visit", "phone"):
                plan.channel = "visit"
            assert plan.fits_fast_path()
            pairs.append((plan, dataclasses.replace(plan, fast=True)))
        replay.run([p for pair in pairs for p in pair])
    assert replay.problems == {}
    assert replay.paths == {"services": len(pairs), "fast": len(pairs)}
    assert replay.sweeps["reminded"] > 0  # the fast path met the sweeper too
    for slow, fast in pairs:
        by_services = _history(replay.case_of[id(slow)])
        by_fast_path = _history(replay.case_of[id(fast)])
        assert by_fast_path == by_services
    seen = {e[3] for slow, _ in pairs for e in _history(replay.case_of[id(slow)])[1]}
    assert seen >= {
        "accept", "register", "take", "dispatch", "transfer", "start", "feedback", "verify",
        "rate", "reopen", "rework", "cancel", "escalate", "decline", "supervise", "remind",
    }  # fmt: skip
