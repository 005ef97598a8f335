"""Visits through the JSON API over HTTP: same scoping, same rules, same errors as the pages."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from minqing.accounts.models import ApiToken
from minqing.cases.models import Case, Channel
from minqing.core.models import AuditEntry
from minqing.grids.models import Level, Node
from minqing.registry import services as registry
from minqing.visits import services
from minqing.visits.models import DiaryEntry, HouseholdVisitPlan, HouseholdVisitState, Visit

VISITS = "/api/visits/"
JSON = "application/json"


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url, body, auth):
    return client.post(url, body, content_type=JSON, **auth)


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.content.decode()
    return response.json()


def errors(response) -> dict:
    assert response.status_code == 400, response.content.decode()
    return response.json()["errors"]


def due_ids(client, auth, **params) -> list[int]:
    body = ok(client.get(f"{VISITS}due", params, **auth))
    assert body["count"] == len(body["items"])
    return [row["household"]["id"] for row in body["items"]]


def set_due(household, days_from_today: int) -> None:
    HouseholdVisitState.objects.filter(pk=household.pk).update(
        next_due=timezone.localdate() + dt.timedelta(days=days_from_today)
    )


def file(user, grid, address: str, **extra):
    household = registry.household_create(
        acting_user=user, data={"address": address, "grid": grid, **extra}
    )
    services.household_visit_state_refresh(household=household)
    return household


@pytest.fixture
def auth_a(grid_a_worker):
    return bearer(grid_a_worker)


@pytest.fixture
def auth_b(grid_b_worker):
    return bearer(grid_b_worker)


@pytest.fixture
def household_b(grid_b_worker, tree):
    return file(grid_b_worker, tree["grid_b"], "人民路9号2幢201室")


@pytest.fixture
def visit_a(grid_a_worker, zhang_san):
    return services.visit_record(
        acting_user=grid_a_worker,
        household=zhang_san.household,
        data={"members_met": [zhang_san], "opinions": "楼下路灯坏了一个月，晚上出门不安全。"},
    )


# ------------------------------------------------------------------ scope


def test_grid_b_gets_404_for_grid_a_households_and_visits(
    client, auth_a, auth_b, visit_a, household_a, household_b
):
    # grid A's worker reaches their own household and visit
    assert ok(client.get(f"{VISITS}{visit_a.pk}", **auth_a))["id"] == visit_a.pk
    assert ok(client.get(f"{VISITS}households/{household_a.pk}/timeline", **auth_a))["count"] == 1

    # grid B's worker gets 404 for all of grid A's, exactly as for what does not exist
    for url in (
        f"{VISITS}{visit_a.pk}",
        f"{VISITS}households/{household_a.pk}/schedule",
        f"{VISITS}households/{household_a.pk}/timeline",
        f"{VISITS}999999999",
    ):
        assert client.get(url, **auth_b).status_code == 404, url
    # named in a body, it is that field's error (as for one that does not exist)
    recorded = post(client, VISITS, {"household_id": household_a.pk, "seen": "路过"}, auth_b)
    assert recorded.status_code == 400 and "household_id" in recorded.json()["errors"]
    to_case = post(client, f"{VISITS}{visit_a.pk}/case", {"category": "0702"}, auth_b)
    assert to_case.status_code == 404
    plan = post(
        client, f"{VISITS}plans", {"household_id": household_a.pk, "visit_class": "follow"}, auth_b
    )
    assert plan.status_code == 400 and "household_id" in plan.json()["errors"]
    assert Visit.objects.count() == 1 and not Case.objects.exists()
    assert not HouseholdVisitPlan.objects.exists()

    # and lists show only their own grid
    assert ok(client.get(VISITS, **auth_b))["count"] == 0
    assert [v["id"] for v in ok(client.get(VISITS, **auth_a))["items"]] == [visit_a.pk]
    set_due(household_a, -2)
    set_due(household_b, -1)
    assert due_ids(client, auth_b) == [household_b.pk]
    assert due_ids(client, auth_a) == [household_a.pk]


def test_a_grid_code_outside_the_scope_is_refused(client, auth_b, tree, household_b):
    assert errors(client.get(f"{VISITS}due", {"grid": tree["grid_a"].code}, **auth_b)) == {
        "grid": ["该网格不存在或不在您的管辖范围内。"]
    }
    assert ok(client.get(VISITS, {"grid": tree["grid_a"].code}, **auth_b))["count"] == 0


def test_the_outsider_and_anonymous_see_nothing(client, outsider, visit_a, household_a):
    set_due(household_a, -1)
    auth = bearer(outsider)
    assert due_ids(client, auth) == []
    assert ok(client.get(f"{VISITS}due/totals", **auth))["overdue"] == 0
    assert client.get(f"{VISITS}{visit_a.pk}", **auth).status_code == 404
    assert client.get(f"{VISITS}due").status_code == 401


# ------------------------------------------------------------------ due lists


def test_due_lists_split_today_overdue_and_upcoming(
    client, grid_a_worker, auth_a, tree, household_a
):
    late = file(grid_a_worker, tree["grid_a"], "东门路1号")
    today = file(grid_a_worker, tree["grid_a"], "东门路2号")
    soon = file(grid_a_worker, tree["grid_a"], "东门路3号")
    later = file(grid_a_worker, tree["grid_a"], "东门路4号")
    set_due(household_a, 90)
    set_due(late, -3)
    set_due(today, 0)
    set_due(soon, 3)
    set_due(later, 20)

    assert due_ids(client, auth_a) == [late.pk, today.pk]
    assert due_ids(client, auth_a, when="overdue") == [late.pk]
    assert due_ids(client, auth_a, when="today") == [today.pk]
    assert due_ids(client, auth_a, when="upcoming") == [soon.pk]
    assert due_ids(client, auth_a, when="upcoming", within=30) == [soon.pk, later.pk]
    assert due_ids(client, auth_a, when="all", within=30) == [late.pk, today.pk, soon.pk, later.pk]

    # paged: the count is of the whole list
    first = ok(client.get(f"{VISITS}due", {"page_size": 1}, **auth_a))
    second = ok(client.get(f"{VISITS}due", {"page_size": 1, "page": 2}, **auth_a))
    assert (first["count"], second["count"]) == (2, 2)
    assert [r["household"]["id"] for r in first["items"] + second["items"]] == [late.pk, today.pk]
    beyond = ok(client.get(f"{VISITS}due", {"page_size": 1, "page": 3}, **auth_a))
    assert (beyond["count"], beyond["items"]) == (2, [])

    row = ok(client.get(f"{VISITS}due", **auth_a))["items"][0]
    assert row["overdue"] and row["days_overdue"] == 3 and not row["due_today"]
    assert row["visit_class"] == {"code": "general", "name": "普遍走访"}
    assert row["household"]["address"] == "东门路1号"
    assert row["last_visit_at"] is None and row["distance_m"] is None
    totals = ok(client.get(f"{VISITS}due/totals", **auth_a))
    assert (totals["overdue"], totals["today"]) == (1, 1)


def test_a_street_officer_sees_every_grid_and_counts_per_grid(
    client, grid_a_worker, street_officer, tree, household_a, household_b
):
    set_due(household_a, -5)
    set_due(household_b, 0)
    auth = bearer(street_officer)
    assert due_ids(client, auth) == [household_a.pk, household_b.pk]
    assert due_ids(client, auth, grid=tree["grid_b"].code) == [household_b.pk]
    grids = ok(client.get(f"{VISITS}due/grids", **auth))
    assert [(g["grid_code"], g["overdue"], g["today"]) for g in grids["items"]] == [
        (tree["grid_a"].code, 1, 0),
        (tree["grid_b"].code, 0, 1),
    ]
    # The totals of one grid, as the due list of that grid; a grid out of sight is refused.
    totals = ok(client.get(f"{VISITS}due/totals", {"grid": tree["grid_b"].code}, **auth))
    assert (totals["overdue"], totals["today"]) == (0, 1)
    totals = ok(client.get(f"{VISITS}due/totals", **auth))
    assert (totals["overdue"], totals["today"]) == (1, 1)
    refused = client.get(
        f"{VISITS}due/totals", {"grid": tree["grid_b"].code}, **bearer(grid_a_worker)
    )
    assert refused.status_code == 400 and "grid" in refused.json()["errors"]


def test_the_due_list_costs_the_same_statements_for_many_rows(
    client, grid_a_worker, street_officer, auth_a, tree, household_a
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(auth) -> int:
        with CaptureQueriesContext(connection) as ctx:
            ok(client.get(f"{VISITS}due", **auth))
        return len(ctx.captured_queries)

    street = bearer(street_officer)
    set_due(household_a, -1)
    statements(auth_a), statements(street)  # the tokens' first use is written down once
    few = (statements(auth_a), statements(street))
    for i in range(6):
        set_due(file(grid_a_worker, tree["grid_a"], f"东门路{i + 10}号"), -2)
    assert (statements(auth_a), statements(street)) == few
    # A grid worker's list: the caller (token, user, assignments: their grid) and the rows.
    assert few[0] == 2


def test_nearest_first_with_the_phones_position(client, grid_a_worker, auth_a, tree):
    from conftest import square

    def building(code, x):
        return Node.objects.create(
            level=Level.BUILDING,
            name=code[-3:] + "幢",
            code=code,
            parent=tree["grid_a"],
            boundary=square(x, 30.0, 0.001),
        )

    far = file(
        grid_a_worker, tree["grid_a"], "东门路1号", building=building("330188001001001101", 120.008)
    )
    near = file(
        grid_a_worker, tree["grid_a"], "东门路2号", building=building("330188001001001102", 120.001)
    )
    nowhere = file(grid_a_worker, tree["grid_a"], "东门路0号")
    for h in (far, near, nowhere):
        set_due(h, -1)
    # by date and address without a position; by distance with one
    assert due_ids(client, auth_a) == [nowhere.pk, far.pk, near.pk]
    body = ok(client.get(f"{VISITS}due", {"lat": 30.0005, "lng": 120.0}, **auth_a))
    assert body["nearest_first"] is True
    assert [r["household"]["id"] for r in body["items"]] == [near.pk, far.pk, nowhere.pk]
    assert 0 < body["items"][0]["distance_m"] < body["items"][1]["distance_m"]
    assert body["items"][2]["distance_m"] is None
    # a position needs both numbers, each on Earth
    assert errors(client.get(f"{VISITS}due", {"lat": 30.0}, **auth_a)) == {
        "lat": ["请同时提供纬度和经度。"]
    }
    assert client.get(f"{VISITS}due", {"lat": 91, "lng": 0}, **auth_a).status_code == 422


# ------------------------------------------------------------------ recording a visit


def test_a_visit_through_the_api_closes_the_due_date(
    client, grid_a_worker, community_worker, auth_a, zhang_san
):
    # given a household put on file half a year ago and never visited: overdue
    household = zhang_san.household
    type(household).objects.filter(pk=household.pk).update(
        created_at=timezone.now() - dt.timedelta(days=200)
    )
    services.household_visit_state_refresh(household=household)
    assert due_ids(client, auth_a, when="overdue") == [household.pk]
    before = ok(client.get(f"{VISITS}households/{household.pk}/schedule", **auth_a))["schedule"]
    assert before["overdue"] and before["last_visit_at"] is None

    # when the grid worker records a home visit with the community secretary
    created = post(
        client,
        VISITS,
        {
            "household_id": household.pk,
            "mode": "home",
            "visitor_ids": [community_worker.pk],
            "other_visitors": "楼组长李阿姨",
            "members_met_ids": [zhang_san.pk],
            "seen": "老人腿脚不便。",
            "opinions": "希望安装扶手。",
            "need_kind": "need",
            "need_category": "适老化改造",
            "need_description": "卫生间安装扶手",
        },
        auth_a,
    )

    # then the visit is on record, with who, whom and the need
    visit = ok(created, 201)
    assert visit["mode_label"] == "入户" and visit["other_visitors"] == "楼组长李阿姨"
    assert sorted(u["name"] for u in visit["visitors"]) == ["community", "grid_a"]
    assert visit["members_met"] == [{"id": zhang_san.pk, "name": "张三", "relation": "户主"}]
    assert [(n["kind"], n["category"]) for n in visit["needs"]] == [("need", "适老化改造")]
    assert visit["created_by"] == "grid_a" and visit["household"]["id"] == household.pk
    assert AuditEntry.objects.filter(model="visits.visit", object_id=str(visit["id"])).exists()
    # and the household is no longer due: its next visit is a quarter away
    assert due_ids(client, auth_a, when="all", within=30) == []
    after = ok(client.get(f"{VISITS}households/{household.pk}/schedule", **auth_a))["schedule"]
    assert not after["overdue"] and after["last_visit_at"] is not None
    assert dt.date.fromisoformat(after["next_due"]) >= timezone.localdate() + dt.timedelta(days=85)
    assert ok(client.get(f"{VISITS}due/totals", **auth_a))["overdue"] == 0
    assert [v["id"] for v in ok(client.get(VISITS, {"mine": "true"}, **auth_a))["items"]] == [
        visit["id"]
    ]


def test_no_id_or_phone_number_is_shown(client, auth_a, visit_a, zhang_san):
    for url in (
        f"{VISITS}{visit_a.pk}",
        VISITS,
        f"{VISITS}households/{zhang_san.household_id}/timeline",
    ):
        text = json.dumps(ok(client.get(url, **auth_a)), ensure_ascii=False)
        assert "张三" in text or "timeline" in url, url
        assert "13812345678" not in text and zhang_san.id_number not in text, url
        assert "5678" not in text and zhang_san.id_number[-4:] not in text, url


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({}, "seen", services.ERR_EMPTY_VISIT),
        ({"seen": "x", "mode": "fly"}, "mode", services.ERR_MODE),
        ({"seen": "x" * 2001}, "seen", "不能超过 2000 个字。"),
        (
            {"seen": "x", "visited_at": "2099-01-01T10:00:00+08:00"},
            "visited_at",
            services.ERR_FUTURE,
        ),
        ({"seen": "x", "visited_at": "0001-01-01T00:00:00"}, "visited_at", None),
        ({"seen": "x", "visitor_ids": [999999]}, "visitor_ids", services.ERR_VISITOR),
        ({"seen": "x", "members_met_ids": [999999]}, "members_met_ids", services.ERR_MEMBER),
        ({"seen": "x", "need_category": "就业"}, "need_description", services.ERR_NEED_PARTS),
        ({"seen": "x", "campaign_id": 999999}, "campaign_id", services.ERR_CAMPAIGN_CHOICE),
        ({"seen": "x", "gift_goods": "大米"}, "campaign_id", services.ERR_GIFT_NEEDS_CAMPAIGN),
    ],
)
def test_bad_visits_answer_400_naming_the_field(client, auth_a, household_a, body, field, message):
    answer = errors(post(client, VISITS, {"household_id": household_a.pk, **body}, auth_a))
    assert list(answer) == [field]
    if message:
        assert answer[field] == [message]
    assert not Visit.objects.exists()


def test_a_companion_from_another_grid_or_a_stranger_met_is_refused(
    client, grid_a_worker, grid_b_worker, auth_a, household_a, household_b, tree
):
    stranger = registry.person_create(
        acting_user=grid_b_worker,
        data={"name": "路人", "grid": tree["grid_b"], "household": household_b},
    )
    answer = errors(
        post(
            client,
            VISITS,
            {
                "household_id": household_a.pk,
                "seen": "x",
                "visitor_ids": [grid_b_worker.pk],
                "members_met_ids": [stranger.pk],
            },
            auth_a,
        )
    )
    assert answer == {
        "visitor_ids": [services.ERR_VISITOR],
        "members_met_ids": [services.ERR_MEMBER],
    }


def test_a_cadre_visits_a_linked_household_and_sees_nothing_else_of_its_grid(
    client, tree, household_a, household_b, grid_a_worker
):
    from minqing.accounts.models import DataScope, Role, RoleAssignment, User
    from minqing.duties.tests.conftest import holder, link

    # given a cadre (仅本人) linked by a contact duty (monthly visits, three months now, never
    # visited) to household B only
    cadre = User.objects.create_user(username="cadre", password="x-x-x-x-1", full_name="王干部")
    RoleAssignment.objects.create(
        user=cadre, role=Role.CADRE, node=tree["county"], data_scope=DataScope.SELF
    )
    link(holder(cadre, "cadre", tree["county"]), household_b)
    set_due(household_a, -1)
    set_due(household_b, -1)
    auth = bearer(cadre)

    # then the due list holds the linked household, overdue by their duty, and they may visit it
    assert due_ids(client, auth) == [household_b.pk]
    visit = ok(post(client, VISITS, {"household_id": household_b.pk, "seen": "送温暖"}, auth), 201)
    assert ok(client.get(f"{VISITS}{visit['id']}", **auth))["household"]["id"] == household_b.pk
    assert (
        ok(client.get(f"{VISITS}households/{household_b.pk}/schedule", **auth))["schedule"][
            "overdue"
        ]
        is False
    )
    # but nothing else: another household is refused, and grid B's other visits are not listed
    refused = post(client, VISITS, {"household_id": household_a.pk, "seen": "x"}, auth)
    assert refused.status_code == 400 and "household_id" in refused.json()["errors"]
    assert client.get(f"{VISITS}households/{household_a.pk}/timeline", **auth).status_code == 404
    other = services.visit_record(
        acting_user=grid_a_worker, household=household_a, data={"seen": "例行走访"}
    )
    assert client.get(f"{VISITS}{other.pk}", **auth).status_code == 404
    assert [v["id"] for v in ok(client.get(VISITS, **auth))["items"]] == [visit["id"]]


def test_a_session_reads_and_needs_csrf_to_write(household_a, grid_a_worker, visit_a):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(grid_a_worker)
    assert browser.get(f"{VISITS}{visit_a.pk}").status_code == 200
    refused = browser.post(VISITS, {"household_id": household_a.pk, "seen": "x"}, content_type=JSON)
    assert refused.status_code == 403
    assert Visit.objects.count() == 1


# ------------------------------------------------------------------ demand → case


def test_a_demand_becomes_a_case_linked_both_ways(client, auth_a, visit_a, zhang_san):
    # when the grid worker turns the visit's demand into a case, 张三 reporting
    created = post(
        client,
        f"{VISITS}{visit_a.pk}/case",
        {"category": "0702", "reporter_id": zhang_san.pk},
        auth_a,
    )

    # then it is a registered case of the household, from a visit, with the demand as its text
    case = ok(created, 201)
    assert case["channel"] == Channel.VISIT and case["status"] == "registered"
    assert case["household_id"] == zhang_san.household_id
    assert case["description"] == visit_a.opinions
    assert case["reporter"] == "张三" and case["reporter_id"] == zhang_san.pk
    # and the visit and the case lead to each other
    visit = ok(client.get(f"{VISITS}{visit_a.pk}", **auth_a))
    assert visit["case_numbers"] == [case["number"]]
    assert [c["number"] for c in visit["cases"]] == [case["number"]]
    assert list(Case.objects.get(number=case["number"]).visits.all()) == [visit_a]
    # and the household's timeline shows both
    timeline = ok(client.get(f"{VISITS}households/{zhang_san.household_id}/timeline", **auth_a))
    assert [i["kind"] for i in timeline["items"]] == ["case", "visit"]
    assert timeline["items"][1]["badges"] == [case["number"]]
    assert timeline["items"][1]["url"] == f"/visits/{visit_a.pk}/"

    # a double tap does not file it twice
    again = post(client, f"{VISITS}{visit_a.pk}/case", {"category": "0702"}, auth_a)
    assert errors(again) == {
        "description": [services.ERR_ALREADY_CASE.format(number=case["number"])]
    }
    assert Case.objects.count() == 1


def test_a_case_needs_a_category_and_a_member_met_as_reporter(
    client, grid_a_worker, auth_a, visit_a, household_a
):
    other = registry.person_create(
        acting_user=grid_a_worker,
        data={"name": "李四", "grid": household_a.grid, "household": household_a},
    )
    url = f"{VISITS}{visit_a.pk}/case"
    assert list(errors(post(client, url, {"category": "nope"}, auth_a))) == ["category"]
    assert errors(post(client, url, {"category": "0702", "reporter_id": other.pk}, auth_a)) == {
        "reporter_id": [services.ERR_REPORTER]
    }
    assert client.post(url, {}, content_type=JSON, **auth_a).status_code == 422
    assert not Case.objects.exists()


# ------------------------------------------------------------------ plans


def test_plans_are_set_and_removed_by_those_who_edit_the_registry(
    client, grid_a_worker, street_officer, auth_a, auth_b, household_a
):
    url = f"{VISITS}plans"
    body = {"household_id": household_a.pk, "visit_class": "follow", "reason": "家中突发变故"}
    # a street officer sees the household but does not edit the registry
    refused = post(client, url, body, bearer(street_officer))
    assert refused.status_code == 403 and refused.json()["detail"] == services.ERR_PLAN_NOT_ALLOWED

    plan = ok(post(client, url, body, auth_a), 201)
    assert plan["visit_class"] == {"code": "follow", "name": "跟踪重访"}
    schedule = ok(client.get(f"{VISITS}households/{household_a.pk}/schedule", **auth_a))
    assert schedule["schedule"]["visit_class"]["code"] == "follow"
    assert [p["id"] for p in schedule["plans"]] == [plan["id"]] and schedule["can_plan"]

    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    late = post(client, url, {**body, "until": yesterday}, auth_a)
    assert errors(late) == {"until": [services.ERR_PLAN_UNTIL]}
    assert list(errors(post(client, url, {**body, "visit_class": "nope"}, auth_a))) == [
        "visit_class"
    ]

    assert client.delete(f"{url}/{plan['id']}", **auth_b).status_code == 404
    assert client.delete(f"{url}/{plan['id']}", **auth_a).status_code == 204
    assert not HouseholdVisitPlan.objects.exists()
    schedule = ok(client.get(f"{VISITS}households/{household_a.pk}/schedule", **auth_a))
    assert schedule["schedule"]["visit_class"]["code"] == "general"


# ------------------------------------------------------------------ the diary


def test_the_diary_is_the_authors_alone(
    client, grid_a_worker, community_worker, auth_a, household_a
):
    entry = ok(
        post(
            client,
            f"{VISITS}diary",
            {"text": "张大爷最近情绪低落。", "tags": "独居，心理", "household_id": household_a.pk},
            auth_a,
        ),
        201,
    )
    assert entry["tags"] == ["独居", "心理"] and entry["household"]["id"] == household_a.pk
    assert entry["date"] == timezone.localdate().isoformat()
    url = f"{VISITS}diary/{entry['id']}"

    # the community secretary, above the author, reads and touches nothing of it
    boss = bearer(community_worker)
    assert ok(client.get(f"{VISITS}diary", **boss))["count"] == 0
    assert client.get(url, **boss).status_code == 404
    assert client.patch(url, {"text": "改"}, content_type=JSON, **boss).status_code == 404
    assert client.delete(url, **boss).status_code == 404
    timeline = ok(client.get(f"{VISITS}households/{household_a.pk}/timeline", **boss))
    assert "情绪低落" not in str(timeline)
    # nor does the audit log keep the text
    assert "情绪低落" not in str(list(AuditEntry.objects.values_list("changes", flat=True)))

    # the author finds, edits and deletes it
    assert [
        e["id"] for e in ok(client.get(f"{VISITS}diary", {"tag": "心理"}, **auth_a))["items"]
    ] == [entry["id"]]
    assert ok(client.get(f"{VISITS}diary", {"tag": "心"}, **auth_a))["count"] == 0
    mine = ok(client.get(f"{VISITS}households/{household_a.pk}/timeline", **auth_a))
    assert [i["kind"] for i in mine["items"]] == ["diary"]
    edited = ok(client.patch(url, {"text": "张大爷好多了。"}, content_type=JSON, **auth_a))
    assert edited["text"] == "张大爷好多了。" and edited["tags"] == ["独居", "心理"]
    assert edited["household"]["id"] == household_a.pk
    unlinked = ok(client.patch(url, {"household_id": None}, content_type=JSON, **auth_a))
    assert unlinked["household"] is None
    assert client.delete(url, **auth_a).status_code == 204
    assert not DiaryEntry.objects.exists()
    assert client.get(url, **auth_a).status_code == 404


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"text": " "}, "text", services.ERR_REQUIRED),
        ({"text": "x" * 4001}, "text", "不能超过 4000 个字。"),
        ({"text": "x", "date": "2999-01-01"}, "date", services.ERR_DIARY_FUTURE),
        ({"text": "x", "household_id": 999999}, "household_id", services.ERR_HOUSEHOLD_SCOPE),
    ],
)
def test_bad_diary_entries_answer_400(client, auth_a, body, field, message):
    assert errors(post(client, f"{VISITS}diary", body, auth_a)) == {field: [message]}
    assert not DiaryEntry.objects.exists()


def test_a_diary_entry_cannot_name_a_household_of_another_grid(client, auth_a, household_b):
    body = {"text": "听说隔壁网格有人反映噪音。", "household_id": household_b.pk}
    assert errors(post(client, f"{VISITS}diary", body, auth_a)) == {
        "household_id": [services.ERR_HOUSEHOLD_SCOPE]
    }


def test_visit_classes_are_listed(client, auth_a):
    classes = ok(client.get(f"{VISITS}classes", **auth_a))
    assert [c["code"] for c in classes] == ["general", "key", "follow"]
    assert classes[0]["frequency_label"] == "每季度" and "低保" in classes[1]["tags"]
