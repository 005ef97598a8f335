"""A refused body names the fields the client sent (building_code, not the services'
building), whatever the endpoint (QA, schemathesis)."""

import json

from minqing.accounts.models import ApiToken
from minqing.registry import services

JSON = "application/json"
GRID_A, GRID_B = "330188001001001", "330188001001002"
BUILDING_A = "330188001001001001"


def _auth(user) -> dict:
    _token, raw = ApiToken.issue(user=user, name="测试")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _send(client, method, path, body, auth):
    return getattr(client, method)(path, json.dumps(body), content_type=JSON, **auth)


def test_a_household_moved_away_from_its_building_is_told_building_code(
    client, community_worker, tree
):
    """PATCH {"grid_code": <another grid>} of a household in a building answered
    {"errors": {"building": …}}: the payload calls it building_code."""
    household = services.household_create(
        acting_user=community_worker,
        data={
            "address": "人民路1号1幢101室",
            "grid": tree["grid_a"],
            "building": tree["building_a"],
        },
    )
    auth = _auth(community_worker)
    r = _send(client, "patch", f"/api/households/{household.pk}", {"grid_code": GRID_B}, auth)
    assert r.status_code == 400, r.content
    assert set(r.json()["errors"]) == {"building_code"}
    body = {"address": "人民路2号", "grid_code": GRID_B, "building_code": BUILDING_A}
    r = _send(client, "post", "/api/households", body, auth)
    assert r.status_code == 400, r.content
    assert set(r.json()["errors"]) == {"building_code"}


def test_a_person_or_place_in_a_node_that_is_no_grid_is_told_grid_code(
    client, community_worker, tree
):
    auth = _auth(community_worker)
    community = tree["community"].code
    r = _send(client, "post", "/api/people", {"name": "李四", "grid_code": community}, auth)
    assert r.status_code == 400, r.content
    assert set(r.json()["errors"]) == {"grid_code"}
    body = {"kind": "shop", "name": "小卖部", "grid_code": community}
    r = _send(client, "post", "/api/places", body, auth)
    assert r.status_code == 400, r.content
    assert set(r.json()["errors"]) == {"grid_code"}


def test_a_campaign_over_a_building_is_told_node_code(client, community_worker, tree):
    """The services' `node` came back as such; the payload calls it node_code."""
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    body = {
        "name": "寒潮降温走访",
        "kind": "event",
        "node_code": BUILDING_A,
        "start": str(today),
        "end": str(today + dt.timedelta(days=5)),
        "rule": "all",
    }
    r = _send(client, "post", "/api/visits/campaigns", body, _auth(community_worker))
    assert r.status_code == 400, r.content
    assert set(r.json()["errors"]) == {"node_code"}


def test_a_code_with_spaces_around_it_names_its_place(client, grid_a_worker, tree):
    """ " 330188001001001 " answered 该网格不存在或不在您的管辖范围内 (the list filters trim it)."""
    auth = _auth(grid_a_worker)
    body = {"address": "人民路3号", "grid_code": f" {GRID_A} "}
    r = _send(client, "post", "/api/households", body, auth)
    assert r.status_code == 201, r.content
    assert r.json()["grid_code"] == GRID_A
    pk = r.json()["id"]
    body = {"grid_code": f"\t{GRID_A} ", "building_code": f" {BUILDING_A}"}
    r = _send(client, "patch", f"/api/households/{pk}", body, auth)
    assert r.status_code == 200, r.content
    assert r.json()["building_code"] == BUILDING_A


def test_a_household_out_of_scope_in_a_body_is_that_fields_error(
    client, grid_b_worker, household_a, zhang_san, tree
):
    """Another grid's household_id answered a bare 404 on people, visits and plans, and a 400
    naming household_id on cases and the diary: now the 400 everywhere."""
    auth = _auth(grid_b_worker)
    hid = household_a.pk
    for method, path, body in (
        ("post", "/api/people", {"name": "李四", "household_id": hid}),
        ("post", "/api/visits/", {"household_id": hid, "seen": "路过"}),
        ("post", "/api/visits/plans", {"household_id": hid, "visit_class": "follow"}),
        ("post", "/api/visits/diary", {"text": "走访", "household_id": hid}),
    ):
        r = _send(client, method, path, body, auth)
        assert r.status_code == 400, (path, r.content)
        assert r.json()["errors"]["household_id"] == ["该家庭不存在或不在您的管辖范围内。"], path
    # a person of grid B moved into grid A's household
    r = _send(client, "post", "/api/people", {"name": "王五", "grid_code": GRID_B}, auth)
    assert r.status_code == 201, r.content
    r = _send(client, "patch", f"/api/people/{r.json()['id']}", {"household_id": hid}, auth)
    assert r.status_code == 400 and "household_id" in r.json()["errors"]
