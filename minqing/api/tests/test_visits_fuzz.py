"""No input to /api/visits answers 500, in a world where visits, diary entries and plans exist.

The shared fuzz test (test_fuzz.py) sends every operation of the schema, but its world has no
visit, diary entry or plan, so the visit endpoints answer 404 before they parse anything. Here
the same machinery runs against the visit endpoints with ids that exist, so a visit's detail,
its case, the diary's edit and delete and a plan's removal all get past their 404s.
"""

import pytest

from minqing.api.tests.test_fuzz import (
    OPERATIONS,
    Sender,
    World,
    fuzz_operation,
    world,  # noqa: F401  (a fixture this file's world builds on)
)
from minqing.visits import services
from minqing.visits.models import VisitClass

VISIT_OPERATIONS = [op for op in OPERATIONS if op[1].startswith("/api/visits")]


@pytest.fixture
def visits_world(world, grid_a_worker, zhang_san, household_a):  # noqa: F811
    visit = services.visit_record(
        acting_user=grid_a_worker,
        household=household_a,
        data={"members_met": [zhang_san], "opinions": "楼道灯不亮。"},
    )
    entry = services.diary_entry_save(
        acting_user=grid_a_worker, data={"text": "走访笔记", "household": household_a}
    )
    plan = services.visit_plan_set(
        acting_user=grid_a_worker,
        household=household_a,
        visit_class=VisitClass.objects.get(code="follow"),
        reason="突发情况",
    )
    ints = dict(world.ints)
    ints["pk"] = [visit.pk, entry.pk, plan.pk, household_a.pk, *world.ints["pk"]]
    ints["household_id"] = [household_a.pk]
    ints["reporter_id"] = [zhang_san.pk]
    ints["visitor_ids"] = [grid_a_worker.pk]
    ints["members_met_ids"] = [zhang_san.pk]
    hints = dict(world.hints)
    hints.update(
        {
            "when": ["due", "overdue", "today", "upcoming", "all"],
            "grid": world.hints["code"],
            "mode": ["home", "phone", "reception", "meeting", "fly"],
            "visit_class": ["general", "key", "follow", "nope"],
            "category": ["0702", "0601", "06", "nope"],
            "need_kind": ["need", "resource", "x"],
            "need_category": ["就业"],
            "need_description": ["找工作"],
            "seen": ["家中整洁", ""],
            "opinions": ["希望修路灯", ""],
            "text": ["今天走访了三户。", " "],
            "tags": ["低保 维修", "#独居，心理"],
            "lat": [30.005, 91, -0.0],
            "lng": [120.005, 181],
            "visited_at": [
                "2026-01-02T10:00:00+08:00",
                "0001-01-01T00:00:00",
                "9999-12-31T23:59:59-23:59",
            ],
            "date": ["2026-01-02", "0001-01-01", "9999-12-31"],
            "until": ["2026-01-02", "2999-12-31", "0001-01-01"],
        }
    )
    return World(token=world.token, ints=ints, hints=hints)


@pytest.mark.parametrize(
    "op", VISIT_OPERATIONS, ids=[f"{op[0]} {op[1]}" for op in VISIT_OPERATIONS]
)
def test_no_visits_api_input_answers_500(op, visits_world, grid_a_worker):
    fuzz_operation(op, visits_world, Sender(visits_world, grid_a_worker))


def test_the_visit_endpoints_are_fuzzed():
    paths = {path for _, path, _ in VISIT_OPERATIONS}
    assert {"/api/visits/", "/api/visits/{pk}", "/api/visits/diary/{pk}"} <= paths
    assert len(VISIT_OPERATIONS) >= 15
