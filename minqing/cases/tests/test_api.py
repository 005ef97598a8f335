"""The case loop through the JSON API: same scoping, same rules, same errors as the pages."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from minqing.accounts.models import ApiToken
from minqing.cases import services
from minqing.cases.models import Case, Notification, Status

CASES = "/api/cases/"
JSON = "application/json"


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def act(client, user_auth, case_number, action, **body):
    return client.post(
        f"{CASES}{case_number}/actions/{action}", body, content_type=JSON, **user_auth
    )


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["items"])
    return [row["number"] for row in body["items"]]


@pytest.fixture
def case_b(grid_b_worker, tree, street_light):
    return services.case_accept(
        acting_user=grid_b_worker,
        data={
            "category": "0502",
            "description": "西门口电动车乱停放。",
            "grid": tree["grid_b"],
            "priority": "urgent",
        },
    )


# ------------------------------------------------------------------ scoping


def test_grid_b_never_sees_grid_a_cases(client, case_a, case_b, grid_a_worker, grid_b_worker):
    a, b = bearer(grid_a_worker), bearer(grid_b_worker)
    assert client.get(f"{CASES}{case_a.number}", **a).status_code == 200
    assert client.get(f"{CASES}{case_a.number}", **b).status_code == 404
    assert numbers(client.get(CASES, **a)) == [case_a.number]
    assert numbers(client.get(CASES, **b)) == [case_b.number]
    assert case_a.number in numbers(client.get(f"{CASES}inbox/", **a))
    assert case_a.number not in numbers(client.get(f"{CASES}inbox/", **b))
    assert act(client, b, case_a.number, "take").status_code == 404
    assert client.get(f"{CASES}{case_a.number}/dispatch-targets", **b).status_code == 404


def test_the_community_sees_the_cases_of_all_its_grids(client, case_a, case_b, community_worker):
    assert sorted(numbers(client.get(CASES, **bearer(community_worker)))) == sorted(
        [case_a.number, case_b.number]
    )


def test_a_malformed_or_unknown_number_answers_404(client, case_a, grid_a_worker):
    auth = bearer(grid_a_worker)
    for number in ["x", "20260101-000001x", "9" * 30, "20000101-000001"]:
        assert client.get(f"{CASES}{number}", **auth).status_code == 404, number


def test_overdue_lists_only_open_cases_past_their_deadline(client, case_a, grid_a_worker):
    auth = bearer(grid_a_worker)
    assert numbers(client.get(f"{CASES}overdue/", **auth)) == []
    Case.objects.filter(pk=case_a.pk).update(deadline=timezone.now() - datetime.timedelta(hours=1))
    assert numbers(client.get(f"{CASES}overdue/", **auth)) == [case_a.number]
    row = client.get(CASES, {"late": "true"}, **auth).json()["items"][0]
    assert row["lateness"] == "late" and row["late"] is True
    assert numbers(client.get(CASES, {"late": "false"}, **auth)) == []


# ------------------------------------------------------------------ list and detail


def test_list_rows_carry_what_the_case_list_shows(client, case_a, grid_a_worker):
    row = client.get(CASES, **bearer(grid_a_worker)).json()["items"][0]
    assert row["number"] == case_a.number
    assert row["title"] == "东门路3号路灯不亮"
    assert row["category"] == {"code": "0601", "name": "路灯损坏"}
    assert (row["status"], row["status_label"]) == ("registered", "已立案")
    assert (row["priority"], row["priority_label"]) == ("normal", "一般")
    assert (row["grid_code"], row["grid_name"]) == ("330188001001001", "东门社区第1网格")
    assert row["level_node_name"] == "东门社区第1网格"
    assert row["handler"] == "" and row["lateness"] == "ok"
    assert row["deadline"] and row["accepted_at"]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "registered"}, ["a", "b"]),
        ({"status": "open"}, ["a", "b"]),
        ({"status": "closed"}, []),
        ({"category": "06"}, ["a"]),  # a parent category finds its sub-categories' cases
        ({"category": "0502"}, ["b"]),
        ({"category": "nope"}, []),
        ({"priority": "urgent"}, ["b"]),
        ({"grid": "330188001001002"}, ["b"]),
        ({"grid": "330188001002"}, []),
        ({"grid": "999"}, []),
        ({"q": "路灯"}, ["a"]),
        ({"q": "5678"}, ["a"]),  # the last four digits of the reporter's phone
        ({"q": "王大妈"}, ["a"]),
    ],
)
def test_the_list_filters(client, case_a, case_b, community_worker, params, expected):
    names = {case_a.number: "a", case_b.number: "b"}
    got = numbers(client.get(CASES, params, **bearer(community_worker)))
    assert sorted(names[n] for n in got) == expected


def test_bad_filters_are_refused_not_500(client, case_a, grid_a_worker):
    auth = bearer(grid_a_worker)
    for params in [{"status": "nope"}, {"late": "maybe"}, {"page": "0"}, {"page_size": "999"}]:
        assert client.get(CASES, params, **auth).status_code == 422, params


def test_the_detail_masks_the_reporter_phone(client, case_a, grid_a_worker):
    response = client.get(f"{CASES}{case_a.number}", **bearer(grid_a_worker))
    assert response.status_code == 200
    body = response.json()
    assert body["reporter"] == "王大妈"
    assert body["reporter_phone_masked"] == "138****5678"
    assert "13812345678" not in response.content.decode()
    assert "reporter_phone" not in body


def test_a_filed_reporters_phone_is_the_cases_in_the_api_as_on_the_page(
    client, grid_a_worker, zhang_san, tree, street_light
):
    """Filed for a member of a household, without a phone typed: the page and the ledger
    showed the member's phone, the API an empty string."""
    case = services.case_accept(
        acting_user=grid_a_worker,
        data={"category": street_light, "description": "楼道灯坏了。", "grid": tree["grid_a"],
              "household": zhang_san.household, "reporter": zhang_san},
    )  # fmt: skip
    assert not case.reporter_phone
    body = client.get(f"{CASES}{case.number}", **bearer(grid_a_worker)).json()
    assert body["reporter_phone_masked"] == zhang_san.phone_masked != ""


def test_the_detail_has_timeline_actions_and_version(client, case_a, grid_a_worker):
    body = client.get(f"{CASES}{case_a.number}", **bearer(grid_a_worker)).json()
    assert [(e["action"], e["action_label"]) for e in body["events"]] == [
        ("accept", "受理"),
        ("register", "立案"),
    ]
    assert body["events"][0]["actor"] == "grid_a"
    assert body["version"] == case_a.version
    actions = {a["action"]: a for a in body["actions"]}
    # A grid worker takes, escalates or cancels their own grid's case; only dispatchers dispatch.
    assert sorted(actions) == ["cancel", "escalate", "take"]
    assert actions["cancel"]["note_required"] and not actions["take"]["note_required"]
    assert body["photos"] == [] and body["pending_extension"] is None


def test_the_detail_links_photos_through_the_scoped_view(client, case_a, grid_a_worker):
    photo = case_a.photos.create(content_type="image/png", size=10, file="cases/x.png")
    body = client.get(f"{CASES}{case_a.number}", **bearer(grid_a_worker)).json()
    assert body["photos"][0]["url"] == f"/cases/{case_a.number}/photos/{photo.pk}/"


def test_an_anonymous_reporter_stays_anonymous(client, grid_a_worker, tree, street_light):
    case = services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": street_light,
            "description": "有人反映路灯不亮。",
            "grid": tree["grid_a"],
            "reporter_name": "李四",
            "reporter_phone": "13900001111",
            "anonymous": True,
        },
    )
    response = client.get(f"{CASES}{case.number}", **bearer(grid_a_worker))
    assert response.json()["reporter"] == "匿名"
    assert "13900001111" not in response.content.decode()


# ------------------------------------------------------------------ create


def test_a_case_filed_with_a_point_in_grid_a_lands_in_grid_a(client, grid_a_worker, street_light):
    response = client.post(
        CASES,
        {
            "category": "0601",
            "description": "人民路5号门口路灯不亮。",
            "lat": 30.005,
            "lng": 120.005,
            "address": "人民路5号",
            "reporter_name": "赵六",
            "reporter_phone": "13700001234",
            "channel": "phone",
        },
        content_type=JSON,
        **bearer(grid_a_worker),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["grid_code"] == "330188001001001"
    assert body["status"] == "registered" and body["title"] == "人民路5号门口路灯不亮"
    assert body["reporter_phone_masked"] == "137****1234"
    assert (body["lat"], body["lng"]) == (30.005, 120.005)
    case = Case.objects.get(number=body["number"])
    assert case.created_by == grid_a_worker and case.reporter_phone == "13700001234"


def test_accept_only_leaves_the_case_to_be_registered(client, grid_a_worker, tree, street_light):
    response = client.post(
        CASES,
        {"category": "0601", "description": "路灯", "grid_code": tree["grid_a"].code,
         "accept_only": True},
        content_type=JSON,
        **bearer(grid_a_worker),
    )  # fmt: skip
    assert response.status_code == 201 and response.json()["status"] == "accepted"


def test_a_point_outside_the_workers_grids_is_refused(client, grid_a_worker, street_light):
    response = client.post(
        CASES,
        {"category": "0601", "description": "路灯不亮", "lat": 30.005, "lng": 120.015},
        content_type=JSON,
        **bearer(grid_a_worker),
    )
    assert response.status_code == 400
    assert response.json()["errors"]["lat"] == [services.ERR_POINT_OUTSIDE]
    assert not Case.objects.exists()


def test_create_errors_name_the_api_fields(client, grid_a_worker, tree, street_light):
    auth = bearer(grid_a_worker)
    response = client.post(
        CASES,
        {"category": "0601", "description": "x", "grid_code": tree["grid_b"].code},
        content_type=JSON,
        **auth,
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"grid_code": [services.ERR_GRID_SCOPE]}
    response = client.post(
        CASES,
        {"category": "9999", "description": " ", "grid_code": tree["grid_a"].code,
         "priority": "very", "reporter_phone": "123"},
        content_type=JSON,
        **auth,
    )  # fmt: skip
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert errors["category"] == [services.ERR_CATEGORY]
    assert errors["description"] == [services.ERR_REQUIRED]
    assert set(errors) == {"category", "description", "priority", "reporter_phone"}
    assert not Case.objects.exists()


def test_a_household_outside_scope_cannot_be_linked(
    client, grid_a_worker, grid_b_worker, household_a, tree, street_light
):
    body = {
        "category": "0601",
        "description": "路灯",
        "grid_code": tree["grid_b"].code,
        "household_id": household_a.pk,
    }
    response = client.post(CASES, body, content_type=JSON, **bearer(grid_b_worker))
    assert response.status_code == 400
    assert "household_id" in response.json()["errors"]
    body["grid_code"] = tree["grid_a"].code
    response = client.post(CASES, body, content_type=JSON, **bearer(grid_a_worker))
    assert response.status_code == 201 and response.json()["household_id"] == household_a.pk


def test_a_member_chosen_and_another_name_typed_is_refused_by_the_api_too(
    client, grid_a_worker, zhang_san, tree, street_light
):
    """Review: only the web form refused it; the API filed 张三 with 李大爷's phone."""
    body = {
        "category": "0601",
        "description": "楼道灯坏了",
        "grid_code": tree["grid_a"].code,
        "household_id": zhang_san.household_id,
        "reporter_id": zhang_san.pk,
        "reporter_name": "李大爷",
        "reporter_phone": "13900009999",
    }
    response = client.post(CASES, body, content_type=JSON, **bearer(grid_a_worker))
    assert response.status_code == 400 and "reporter_name" in response.json()["errors"]
    assert not Case.objects.exists()
    body["reporter_name"] = zhang_san.name  # the member's own name: one reporter
    response = client.post(CASES, body, content_type=JSON, **bearer(grid_a_worker))
    assert response.status_code == 201


# ------------------------------------------------------------------ actions


def test_the_whole_loop_through_the_api(
    client, case_a, community_worker, grid_a_worker, grid_b_worker
):
    boss, worker = bearer(community_worker), bearer(grid_a_worker)
    n = case_a.number
    version = client.get(f"{CASES}{n}", **boss).json()["version"]
    targets = client.get(f"{CASES}{n}/dispatch-targets", **boss).json()["items"]
    offered = [t["id"] for t in targets]
    assert grid_a_worker.pk in offered and community_worker.pk in offered
    assert grid_b_worker.pk not in offered  # grid B's worker cannot handle grid A's case

    r = act(client, boss, n, "dispatch", target_user=grid_a_worker.pk, version=version)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "dispatched" and r.json()["handler"] == "grid_a"
    assert r.json()["version"] == version + 1
    assert n in numbers(client.get(f"{CASES}inbox/", **worker))
    assert [a["action"] for a in client.get(f"{CASES}{n}", **worker).json()["actions"]] == [
        "decline",
        "start",
        "extend_request",
    ]

    steps = [
        (worker, "start", {}, "handling"),
        (worker, "feedback", {"note": "已更换灯泡。"}, "fed_back"),
        (boss, "rework", {"note": "灯还是不亮。"}, "handling"),
        (worker, "feedback", {"note": "已更换镇流器。"}, "fed_back"),
        (boss, "verify", {}, "closed"),
        (boss, "rate", {"satisfaction": "satisfied", "note": "回访满意"}, "rated"),
    ]
    for who, action, body, status in steps:
        version = client.get(f"{CASES}{n}", **who).json()["version"]
        r = act(client, who, n, action, version=version, **body)
        assert r.status_code == 200, (action, r.content)
        assert r.json()["status"] == status, action
    body = r.json()
    assert body["rework_count"] == 1 and body["answer"] == "已更换镇流器。"
    assert body["satisfaction_label"] == "满意" and body["actions"] == []
    assert [e["action"] for e in body["events"]] == [
        "accept", "register", "dispatch", "start", "feedback", "rework", "feedback", "verify",
        "rate",
    ]  # fmt: skip


def test_a_department_handles_a_transferred_case_with_an_extension(
    client, case_a, community_worker, water_unit
):
    boss, member = bearer(community_worker), bearer(water_unit.members.get())
    n = case_a.number
    r = act(client, boss, n, "transfer", target_unit="water")
    assert r.status_code == 200 and r.json()["handler"] == "供水公司"
    # The department member sees the case, though it lies outside any place they are assigned to.
    assert n in numbers(client.get(CASES, **member))
    assert act(client, member, n, "start").status_code == 200
    r = act(client, member, n, "extend_request", days=3, note="需等配件。")
    assert r.status_code == 200
    assert r.json()["pending_extension"]["working_days"] == 3
    before = r.json()["deadline"]
    r = act(client, boss, n, "extend_decide", approve=True)
    assert r.status_code == 200, r.content
    assert r.json()["pending_extension"] is None and r.json()["deadline"] > before
    assert act(client, member, n, "feedback", note="已修复。").json()["status"] == "fed_back"
    assert act(client, boss, n, "verify").json()["status"] == "closed"


def test_an_actor_who_loses_sight_of_the_case_gets_only_its_number_and_status(
    client, case_a, community_worker, water_unit
):
    boss, member = bearer(community_worker), bearer(water_unit.members.get())
    n = case_a.number
    assert act(client, boss, n, "transfer", target_unit="water").status_code == 200
    r = act(client, member, n, "decline", note="不属于供水管辖。")
    assert r.status_code == 200, r.content
    assert r.json() == {
        "number": n,
        "status": r.json()["status"],
        "status_label": r.json()["status_label"],
        "visible": False,
    }
    assert r.json()["status"] != "transferred"
    assert client.get(f"{CASES}{n}", **member).status_code == 404
    # The one who can still see it gets the whole detail.
    assert "description" in client.get(f"{CASES}{n}", **boss).json()


def test_an_unknown_unit_or_user_is_a_field_error(client, case_a, community_worker):
    boss = bearer(community_worker)
    r = act(client, boss, case_a.number, "transfer", target_unit="nope")
    assert r.status_code == 400 and "target_unit" in r.json()["errors"]
    r = act(client, boss, case_a.number, "dispatch", target_user=2**40)
    assert r.status_code == 400 and "target_user" in r.json()["errors"]
    r = act(client, boss, case_a.number, "dispatch")
    assert r.json()["errors"] == {"target_user": [services.ERR_TARGET]}
    r = act(client, boss, case_a.number, "fly")
    assert r.status_code == 400 and "action" in r.json()["errors"]


def test_a_unit_serving_another_street_cannot_take_the_case(client, case_a, community_worker, tree):
    """转办 goes to a department whose area covers the case's grid, never a neighbour street's."""
    from minqing.cases.models import Unit
    from minqing.grids.models import Level, Node

    other = Node.objects.create(
        level=Level.STREET, name="城西街道", code="330188002", parent=tree["county"]
    )
    Unit.objects.create(code="west-cg", name="城西城管中队", node=other)
    Unit.objects.create(code="east-cg", name="城东城管中队", node=tree["street"])
    boss = bearer(community_worker)
    listed = client.get("/api/units/", {"case": case_a.number}, **boss).json()
    assert [u["code"] for u in listed["items"]] == ["east-cg"]
    assert client.get("/api/units/", {"case": "20260101-999999"}, **boss).status_code == 404
    r = act(client, boss, case_a.number, "transfer", target_unit="west-cg")
    assert r.status_code == 400
    assert r.json()["errors"] == {"target_unit": [services.ERR_UNIT_AREA]}
    assert Case.objects.get(pk=case_a.pk).handler_unit is None
    r = act(client, boss, case_a.number, "transfer", target_unit="east-cg")
    assert r.status_code == 200 and r.json()["handler"] == "城东城管中队"


def test_a_grid_worker_may_not_dispatch(client, case_a, grid_a_worker):
    r = act(client, bearer(grid_a_worker), case_a.number, "dispatch", target_user=grid_a_worker.pk)
    assert r.status_code == 403
    assert r.json() == {"detail": services.ERR_NOT_ALLOWED.format(action="派遣")}
    case_a.refresh_from_db()
    assert case_a.status == Status.REGISTERED


def test_a_missing_note_is_a_field_error(client, case_a, grid_a_worker):
    r = act(client, bearer(grid_a_worker), case_a.number, "cancel", note="  ")
    assert r.status_code == 400 and r.json()["errors"] == {"note": [services.ERR_NOTE]}


def test_a_stale_version_answers_409_and_changes_nothing(client, case_a, grid_a_worker):
    auth = bearer(grid_a_worker)
    seen = client.get(f"{CASES}{case_a.number}", **auth).json()["version"]
    assert act(client, auth, case_a.number, "take", version=seen).status_code == 200
    r = act(client, auth, case_a.number, "escalate", note="处理不了", version=seen)
    assert r.status_code == 409
    assert r.json() == {"detail": services.ERR_CONFLICT.format(status="处置中")}
    case_a.refresh_from_db()
    assert case_a.status == Status.HANDLING and case_a.escalation_count == 0


def test_an_action_from_the_wrong_state_answers_409(client, case_a, grid_a_worker):
    r = act(client, bearer(grid_a_worker), case_a.number, "verify")
    assert r.status_code == 409
    assert r.json()["detail"] == services.ERR_WRONG_STATE.format(status="已立案", action="核查结案")


# ------------------------------------------------------------------ authentication


def test_a_bearer_token_works_and_nothing_else_gets_in(client, case_a, grid_a_worker):
    assert client.get(CASES).status_code == 401
    assert client.get(CASES, HTTP_AUTHORIZATION="Bearer mq_nope").status_code == 401
    assert numbers(client.get(CASES, **bearer(grid_a_worker))) == [case_a.number]
    assert act(client, {}, case_a.number, "take").status_code == 401


def test_a_session_needs_the_csrf_token_to_act(case_a, grid_a_worker):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(grid_a_worker)
    assert browser.get(CASES).status_code == 200
    r = browser.post(f"{CASES}{case_a.number}/actions/take", {}, content_type=JSON)
    assert r.status_code == 403
    case_a.refresh_from_db()
    assert case_a.status == Status.REGISTERED


# ------------------------------------------------------------------ indicators


@pytest.fixture
def known_cases(tree, grid_a_worker, grid_b_worker, community_worker, street_light):
    """Five cases registered in the last month, in two grids, with known outcomes.

    grid A: 1 closed on time and rated satisfied; 1 closed on time after one rework.
    grid B: 1 open and not yet due; 1 open and past due (registered 20 days ago);
            1 taken 20 days ago and closed today, late.
    """
    now = timezone.now()
    past = now - datetime.timedelta(days=20)

    def new(user, grid, at=None):
        data = {"category": street_light, "description": "路灯不亮", "grid": tree[grid]}
        return services.case_accept(acting_user=user, data=data, now=at)

    def run(user, case, *steps):
        for action, kw in steps:
            case = services.case_act(acting_user=user, case=case, action=action, **kw)
        return case

    done = [("feedback", {"note": "修好"}), ("verify", {})]
    rated = run(grid_a_worker, new(grid_a_worker, "grid_a"), ("take", {}), *done)
    run(community_worker, rated, ("rate", {"satisfaction": "satisfied"}))  # the call-back
    run(grid_a_worker, new(grid_a_worker, "grid_a"), ("take", {}), ("feedback", {"note": "修"}),
        ("rework", {"note": "没修好"}), *done)  # fmt: skip
    new(grid_b_worker, "grid_b")
    new(grid_b_worker, "grid_b", at=past)
    late = services.case_act(
        acting_user=grid_b_worker,
        case=new(grid_b_worker, "grid_b", at=past),
        action="take",
        now=past,
    )
    run(grid_b_worker, late, *done)
    assert Case.objects.filter(closed_on_time=False).count() == 1


def test_indicators_per_grid_and_in_total(client, known_cases, community_worker, tree):
    today = timezone.localdate()
    response = client.get(
        f"{CASES}indicators",
        {"node": tree["community"].code, "start": str(today - datetime.timedelta(days=60)),
         "end": str(today)},
        **bearer(community_worker),
    )  # fmt: skip
    assert response.status_code == 200, response.content
    rows = {r["node_code"]: r for r in response.json()["items"]}
    a, b, total = rows["330188001001001"], rows["330188001001002"], rows["330188001001"]
    assert total["total"] and not a["total"]
    # grid A: 2 registered, 2 closed on time, 1 reworked, 1 of 1 ratings satisfied.
    assert (a["registered"], a["closed"], a["closed_on_time"], a["reworked"]) == (2, 2, 2, 1)
    assert (a["close_rate"], a["on_time_rate"], a["rework_rate"]) == (100.0, 100.0, 50.0)
    assert a["satisfaction_rate"] == 100.0
    # grid B: 3 registered, 1 not yet due (left out of the base), 1 closed late.
    assert (b["registered"], b["pending_on_time"], b["closed"], b["closed_late"]) == (3, 1, 1, 1)
    assert (b["close_rate"], b["on_time_rate"], b["rework_rate"]) == (50.0, 0.0, 0.0)
    assert b["satisfaction_rate"] is None  # nobody rated: no rate, not 0 %
    # All five: closed 3 of (5 − 1), on time 2 of 4, reworked 1 of 5.
    assert (total["close_rate"], total["on_time_rate"], total["rework_rate"]) == (75.0, 50.0, 20.0)
    assert total["accepted"] == 5 and total["dispatched"] == 3


def test_indicators_of_a_grid_only_count_that_grid(client, known_cases, grid_b_worker, tree):
    today = timezone.localdate()
    rows = client.get(
        f"{CASES}indicators",
        {"start": str(today - datetime.timedelta(days=60)), "end": str(today)},
        **bearer(grid_b_worker),
    ).json()["items"]
    # A grid has no child rows to show: only its own total.
    assert [(r["node_code"], r["registered"]) for r in rows] == [("330188001001002", 3)]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "01/02/2026"}, "start"),
        ({"end": "20260102"}, "end"),
        ({"end": "9999-12-31", "start": "9999-12-01"}, "start"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "end"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "end"),
    ],
)
def test_bad_indicator_dates_answer_400(client, community_worker, params, field):
    response = client.get(f"{CASES}indicators", params, **bearer(community_worker))
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_indicators_of_a_node_out_of_sight_answer_404(client, grid_b_worker, outsider, tree):
    auth = bearer(grid_b_worker)
    assert (
        client.get(f"{CASES}indicators", {"node": tree["grid_a"].code}, **auth).status_code == 404
    )
    assert client.get(f"{CASES}indicators", {"node": "x" * 50}, **auth).status_code == 404
    assert client.get(f"{CASES}indicators", **bearer(outsider)).status_code == 404


# ------------------------------------------------------------------ categories, units, notifications


def test_categories_come_as_a_tree_of_active_ones(client, grid_a_worker, street_light):
    from minqing.cases.models import Category

    Category.objects.filter(code="0602").update(active=False)
    items = client.get("/api/case-categories/", **bearer(grid_a_worker)).json()["items"]
    facilities = next(c for c in items if c["code"] == "06")
    children = [c["code"] for c in facilities["children"]]
    assert "0601" in children and "0602" not in children


def test_units_lists_active_departments(client, grid_a_worker, water_unit, tree):
    from minqing.cases.models import Unit

    Unit.objects.create(code="old", name="旧部门", node=tree["county"], active=False)
    body = client.get("/api/units/", **bearer(grid_a_worker)).json()
    assert [u["code"] for u in body["items"]] == ["water"] and body["count"] == 1


def test_notifications_are_ones_own_and_can_be_marked_read(
    client, case_a, community_worker, grid_a_worker, grid_b_worker
):
    services.case_act(
        acting_user=community_worker, case=case_a, action="dispatch", target_user=grid_a_worker
    )
    worker = bearer(grid_a_worker)
    body = client.get("/api/notifications/", **worker).json()
    assert body["count"] == 1 and body["unread"] == 1
    note = body["items"][0]
    assert note["case_number"] == case_a.number and note["kind"] == "assigned"
    assert client.get("/api/notifications/", **bearer(grid_b_worker)).json()["count"] == 0
    other = bearer(grid_b_worker)
    assert client.post(f"/api/notifications/{note['id']}/read", **other).status_code == 404
    assert Notification.objects.get(pk=note["id"]).read_at is None
    r = client.post(f"/api/notifications/{note['id']}/read", **worker)
    assert r.status_code == 200 and r.json()["read_at"]
    assert client.get("/api/notifications/", {"unread": "true"}, **worker).json()["count"] == 0
    assert client.post("/api/notifications/99999999999999999999/read", **worker).status_code == 404


def test_a_long_case_list_is_counted_up_to_the_cap(
    client, monkeypatch, community_worker, county_officer, tree, street_light
):
    """As the people search: beyond COUNT_CAP `count` is the cap and `count_capped` is true;
    `has_next` leads through every page to the last."""
    from minqing.cases.tests.test_views import seven_cases
    from minqing.core import paging

    seven_cases(community_worker, tree, street_light)
    monkeypatch.setattr(paging, "COUNT_CAP", 4)
    auth = bearer(county_officer)
    newest = list(Case.objects.order_by("-accepted_at", "-id").values_list("number", flat=True))
    body = client.get(CASES, {"page_size": 2}, **auth).json()
    assert (body["count"], body["count_capped"], body["has_next"]) == (4, True, True)
    seen, page = [], 1
    while True:
        body = client.get(CASES, {"page_size": 2, "page": page}, **auth).json()
        seen += [row["number"] for row in body["items"]]
        if not body["has_next"]:
            break
        page += 1
    assert seen == newest and page == 4
    assert client.get(CASES, {"page": 9, "page_size": 2}, **auth).json()["items"] == []
    monkeypatch.setattr(paging, "COUNT_CAP", 1000)
    body = client.get(CASES, {"page_size": 2}, **auth).json()
    assert (body["count"], body["count_capped"], body["has_next"]) == (7, False, True)


def test_indicators_default_to_this_year_as_the_page_does_and_give_the_step_rates(
    client, known_cases, community_worker
):
    body = client.get(f"{CASES}indicators", **bearer(community_worker)).json()
    today = timezone.localdate()
    assert (body["start"], body["end"]) == (f"{today.year}-01-01", today.isoformat())
    # The cases go back 20 days: read them over 60 (this year alone misses some in January).
    start = str(today - datetime.timedelta(days=60))
    body = client.get(f"{CASES}indicators", {"start": start}, **bearer(community_worker)).json()
    total = body["items"][-1]
    assert total["total"]
    # Five filed by staff (registered at once); three handed over, none sent back; of the three
    # fed back, the one taken 20 days ago was late.
    assert (total["registered_on_time"], total["register_rate"]) == (5, 100.0)
    assert (total["dispatched"], total["dispatched_right"], total["dispatch_rate"]) == (3, 3, 100.0)
    assert (total["handled"], total["handled_on_time"], total["handle_rate"]) == (3, 2, 66.7)
    assert client.get(
        f"{CASES}indicators", {"start": "1999-12-31"}, **bearer(community_worker)
    ).json()["errors"]["start"]


def test_a_case_goes_only_to_a_handler_the_forms_offer(
    client, case_a, community_worker, grid_a_worker, street_officer, county_officer
):
    """QA: dispatch-targets offered the grid's worker and the community's staff, but the
    action took anyone whose place held the grid: the county officer got a case they could
    not act on. Dispatch and 改派 refuse them now, by name of the field; nothing changes."""
    auth = bearer(community_worker)
    offered = client.get(f"{CASES}{case_a.number}/dispatch-targets", **auth).json()
    offered_ids = {row["id"] for row in offered["items"]} if "items" in offered else {
        row["id"] for row in offered}  # fmt: skip
    assert grid_a_worker.pk in offered_ids and county_officer.pk not in offered_ids
    for outsider in (county_officer, street_officer):
        r = act(client, auth, case_a.number, "dispatch", version=case_a.version,
                target_user=outsider.pk)  # fmt: skip
        assert r.status_code == 400 and "target_user" in r.json()["errors"], r.content
    case_a.refresh_from_db()
    assert case_a.status == Status.REGISTERED and case_a.handler_user is None
    r = act(client, auth, case_a.number, "dispatch", version=case_a.version,
            target_user=grid_a_worker.pk)  # fmt: skip
    assert r.status_code == 200, r.content
    case_a.refresh_from_db()
    r = act(client, auth, case_a.number, "reassign", version=case_a.version,
            target_user=county_officer.pk, note="换人")  # fmt: skip
    assert r.status_code == 400 and "target_user" in r.json()["errors"], r.content
    case_a.refresh_from_db()
    assert case_a.handler_user == grid_a_worker


def test_a_point_in_no_grid_is_named_on_the_point(client, grid_a_worker):
    """QA: {"lat": 0, "lng": 0} without a grid answered only grid_code: 此项必填."""
    r = client.post(CASES, {"category": "0601", "description": "x", "lat": 0, "lng": 0},
                    content_type=JSON, **bearer(grid_a_worker))  # fmt: skip
    assert r.status_code == 400, r.content
    assert r.json()["errors"]["lat"] == [str(services.ERR_POINT_NOWHERE)]
    assert not Case.objects.exists()
