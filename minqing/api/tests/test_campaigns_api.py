"""Campaigns of visits through the API: the same services as the pages — create, launch,
targets ticked off by an ordinary visit, per-grid progress, scope and refusals."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from minqing.accounts.models import ApiToken
from minqing.registry import services as registry

BASE = "/api/visits/campaigns"


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url, body, auth):
    return client.post(url, json.dumps(body), content_type="application/json", **auth)


@pytest.fixture
def household_b(grid_b_worker, tree):
    return registry.household_create(
        acting_user=grid_b_worker, data={"address": "人民路9号2幢201室", "grid": tree["grid_b"]}
    )


@pytest.fixture
def campaign(client, community_worker, tree, household_a, household_b):
    today = timezone.localdate()
    r = post(
        client,
        BASE,
        {
            "name": "寒潮降温走访",
            "kind": "event",
            "node_code": tree["community"].code,
            "start": str(today - dt.timedelta(days=2)),
            "end": str(today + dt.timedelta(days=5)),
            "rule": "all",
        },
        bearer(community_worker),
    )
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "draft" and r.json()["actions"] == ["launch"]
    return r.json()


def test_launch_builds_the_list_and_a_visit_ticks_a_target(
    client, campaign, community_worker, grid_a_worker, household_a
):
    boss, worker = bearer(community_worker), bearer(grid_a_worker)
    r = post(client, f"{BASE}/{campaign['id']}/actions/launch", {}, boss)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "open" and r.json()["progress"]["total"] == 2
    mine = client.get(f"{BASE}/mine", **worker).json()
    assert [t["household"]["id"] for t in mine["items"]] == [household_a.pk]
    # An ordinary visit, without naming the campaign, ticks the target off.
    r = post(client, "/api/visits/", {"household_id": household_a.pk, "seen": "门口聊了"}, worker)
    assert r.status_code == 201, r.content
    done = client.get(f"{BASE}/{campaign['id']}", **boss).json()
    assert done["progress"] == {"total": 2, "done": 1, "remaining": 1, "percent": 50}
    assert {g["grid_code"]: g["done"] for g in done["grids"]} == {
        household_a.grid.code: 1,
        done["grids"][1]["grid_code"]: 0,
    }
    todo = client.get(f"{BASE}/{campaign['id']}/targets", {"status": "todo"}, **boss).json()
    assert todo["count"] == 1 and todo["items"][0]["visited"] is False
    assert client.get(f"{BASE}/mine", **worker).json()["count"] == 0
    r = post(client, f"{BASE}/{campaign['id']}/actions/close", {"note": "基本完成"}, boss)
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["actions"] == []


def test_a_grid_worker_sees_only_their_grid_and_may_not_launch(
    client, campaign, community_worker, grid_b_worker, household_a
):
    boss, other = bearer(community_worker), bearer(grid_b_worker)
    # A draft is the office's business.
    assert client.get(f"{BASE}/{campaign['id']}", **other).status_code == 404
    post(client, f"{BASE}/{campaign['id']}/actions/launch", {}, boss)
    seen = client.get(f"{BASE}/{campaign['id']}/targets", **other).json()
    assert household_a.pk not in [t["household"]["id"] for t in seen["items"]]
    assert seen["count"] == 1
    r = post(client, f"{BASE}/{campaign['id']}/actions/close", {}, other)
    assert r.status_code == 403


def test_bad_input_is_a_field_error_and_outsiders_get_404(
    client, campaign, community_worker, grid_a_worker, outsider, tree
):
    boss = bearer(community_worker)
    body = {"name": "x", "kind": "event", "start": "2026-11-01", "end": "2026-11-30"}
    r = post(client, BASE, {**body, "node_code": "999999", "rule": "all"}, boss)
    assert r.status_code == 400 and "node_code" in r.json()["errors"]
    r = post(client, BASE, {**body, "node_code": tree["community"].code, "rule": "tags",
                            "tags": ["没有这个类别"]}, boss)  # fmt: skip
    assert r.status_code == 400 and "没有这个类别" in r.json()["errors"]["tags"][0]
    r = post(client, BASE, {**body, "node_code": tree["grid_a"].code, "rule": "all"},
             bearer(grid_a_worker))  # fmt: skip
    assert r.status_code == 403
    r = post(client, f"{BASE}/{campaign['id']}/actions/explode", {}, boss)
    assert r.status_code == 400
    r = post(client, f"{BASE}/{campaign['id']}/actions/close", {}, boss)
    assert r.status_code == 400  # a draft cannot be closed
    assert client.get(f"{BASE}/{campaign['id']}", **bearer(outsider)).status_code == 404
    assert client.get(f"{BASE}/{2**62}", **boss).status_code == 404


def test_a_draft_is_changed_households_added_and_targets_assigned(
    client, campaign, community_worker, grid_a_worker, grid_b_worker, household_a, household_b, tree
):
    boss = bearer(community_worker)
    today = timezone.localdate()
    body = {"name": "寒潮降温入户走访", "kind": "event", "node_code": tree["community"].code,
            "start": str(today - dt.timedelta(days=2)), "end": str(today + dt.timedelta(days=9)),
            "rule": "manual", "households": household_a.number}  # fmt: skip
    r = client.put(
        f"{BASE}/{campaign['id']}", json.dumps(body), content_type="application/json", **boss
    )
    assert r.status_code == 200, r.content
    assert r.json()["name"] == "寒潮降温入户走访" and r.json()["end"] == body["end"]
    r = post(client, f"{BASE}/{campaign['id']}/actions/launch", {}, boss)
    assert r.json()["progress"]["total"] == 1
    r = post(
        client, f"{BASE}/{campaign['id']}/households", {"households": household_b.number}, boss
    )
    assert r.status_code == 200 and r.json()["count"] == 1
    r = post(
        client, f"{BASE}/{campaign['id']}/households", {"households": household_b.number}, boss
    )
    assert r.json()["count"] == 0  # already there: nothing changes
    # A draft's fields cannot be changed once it is open.
    r = client.put(
        f"{BASE}/{campaign['id']}", json.dumps(body), content_type="application/json", **boss
    )
    assert r.status_code == 400

    targets = client.get(
        f"{BASE}/{campaign['id']}/targets?grid={tree['grid_b'].code}", **boss
    ).json()
    [target] = targets["items"]
    r = post(
        client,
        f"{BASE}/{campaign['id']}/assign",
        {"target_ids": [target["id"]], "usernames": ["grid_a"]},
        boss,
    )
    assert r.status_code == 400 and "usernames" in r.json()["errors"]  # not on grid B's team
    r = post(
        client,
        f"{BASE}/{campaign['id']}/assign",
        {"target_ids": [target["id"]], "usernames": ["nobody"]},
        boss,
    )
    assert r.status_code == 400 and "nobody" in r.json()["errors"]["usernames"][0]
    r = post(
        client,
        f"{BASE}/{campaign['id']}/assign",
        {"target_ids": [target["id"]], "usernames": ["grid_b"]},
        boss,
    )
    assert r.status_code == 200 and r.json()["count"] == 1
    mine = client.get(f"{BASE}/mine", **bearer(grid_b_worker)).json()
    assert [t["id"] for t in mine["items"]] == [target["id"]]

    # A grid worker neither assigns outside their sight nor rebuilds the list.
    worker = bearer(grid_a_worker)
    r = post(
        client,
        f"{BASE}/{campaign['id']}/assign",
        {"target_ids": [target["id"]], "usernames": ["grid_a"]},
        worker,
    )
    assert r.status_code == 403, r.content
    assert post(client, f"{BASE}/{campaign['id']}/rebuild", {}, worker).status_code == 403
    r = post(client, f"{BASE}/{campaign['id']}/rebuild", {}, boss)
    assert r.status_code == 200 and set(r.json()) == {"added", "removed"}


def test_a_draft_is_deleted_through_the_api_and_a_launched_one_is_refused(
    client, community_worker, grid_b_worker, campaign
):
    url = f"{BASE}/{campaign['id']}"
    assert client.delete(url, **bearer(grid_b_worker)).status_code == 404  # drafts: offices only
    auth = bearer(community_worker)
    post(client, f"{url}/actions/launch", {}, auth)
    refused = client.delete(url, **auth)
    assert refused.status_code == 400
    assert refused.json()["errors"]["__all__"][0].startswith("只有草稿可以删除")
    assert client.get(url, **auth).status_code == 200


def test_deleting_a_draft_answers_204_and_it_is_gone(client, community_worker, campaign):
    auth = bearer(community_worker)
    url = f"{BASE}/{campaign['id']}"
    assert client.delete(url, **auth).status_code == 204
    assert client.get(url, **auth).status_code == 404
