"""Forming a dispatched team and keeping its members through the JSON API, as on the pages."""

from minqing.secondments.models import Secondment, SecondmentMember

from .conftest import CYCLE_START


def call(client, method, url, data):
    return getattr(client, method)(url, data, content_type="application/json")


def test_a_team_is_formed_changed_and_staffed(client, community_worker, grid_a_worker, tree):
    client.force_login(community_worker)
    r = call(client, "post", "/api/secondments/", {"kind": "teaching", "sending_name": "县第一中学",
             "receiving_name": "东门小学", "node_code": tree["grid_a"].code, "cycle_start": "2025-09-01"})  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["cycle_end"] == "2028-08-31" and body["turn_months"] == 12
    assert body["name"] and body["members"] == []
    pk = body["id"]

    r = call(client, "post", f"/api/secondments/{pk}/members", {"name": "王强", "role": "leader",
             "phone": "13900001111", "turn_start": "2025-09-01", "username": "grid_a"})  # fmt: skip
    assert r.status_code == 201, r.content
    wang = r.json()
    assert wang["turn_end"] == "2026-08-31" and wang["phone_masked"] == "139****1111"
    assert wang["username"] == "grid_a"
    # A second 队长 at the same time is refused, naming the first.
    r = call(client, "post", f"/api/secondments/{pk}/members", {"name": "李梅", "role": "leader",
             "turn_start": "2025-09-01"})  # fmt: skip
    assert r.status_code == 400 and "王强" in r.json()["errors"]["role"][0]
    # The turn ended early.
    r = call(client, "put", f"/api/secondments/{pk}/members/{wang['id']}", {"name": "王强", "role": "leader",
             "phone": "13900001111", "turn_start": "2025-09-01", "turn_end": "2026-01-31"})  # fmt: skip
    assert r.status_code == 200 and r.json()["turn_end"] == "2026-01-31"
    assert r.json()["username"] is None  # not sent: the account link is dropped, as on the page

    # The cycle cannot be cut short of a member's turn.
    r = call(client, "put", f"/api/secondments/{pk}", {"kind": "teaching", "sending_name": "县第一中学",
             "receiving_name": "东门小学", "node_code": tree["grid_a"].code, "cycle_start": "2025-09-01",
             "cycle_end": "2025-12-31"})  # fmt: skip
    assert r.status_code == 400 and "cycle_end" in r.json()["errors"]
    r = call(client, "put", f"/api/secondments/{pk}", {"kind": "teaching", "sending_name": "县第一中学",
             "receiving_name": "东门小学", "node_code": tree["grid_a"].code, "cycle_start": "2025-09-01",
             "turn_months": 6, "note": "一学期一轮换"})  # fmt: skip
    assert (
        r.status_code == 200 and r.json()["turn_months"] == 6 and r.json()["note"] == "一学期一轮换"
    )

    client.force_login(grid_a_worker)
    assert call(client, "post", f"/api/secondments/{pk}/members", {"name": "x", "role": "teacher",
                "turn_start": "2025-09-01"}).status_code == 403  # fmt: skip


def test_bad_input_names_the_field_and_stores_nothing(client, community_worker, team, tree):
    client.force_login(community_worker)
    base = {"kind": "teaching", "sending_name": "县第一中学", "receiving_name": "东门小学",
            "node_code": tree["grid_a"].code, "cycle_start": "2025-09-01"}  # fmt: skip
    for payload, field in [
        ({**base, "kind": "circus"}, "kind"),
        ({**base, "node_code": "999"}, "node_code"),
        ({**base, "node_code": tree["grid_c"].code}, "node_code"),
        ({**base, "sending_name": ""}, "sending_name"),
        ({**base, "cycle_end": "2025-01-01"}, "cycle_end"),
        ({**base, "cycle_start": "1900-01-01"}, "cycle_start"),
        ({**base, "sending_org_id": 999999}, "sending_org_id"),
        ({**base, "receiving_place_id": 999999}, "receiving_place_id"),
    ]:
        r = call(client, "post", "/api/secondments/", payload)
        assert r.status_code == 400, (payload, r.content)
        assert field in r.json()["errors"], (payload, r.json())
    assert Secondment.objects.count() == 1
    url = f"/api/secondments/{team.pk}/members"
    for payload, field in [
        ({"name": "x", "role": "clown", "turn_start": "2025-09-01"}, "role"),
        ({"name": "x", "role": "teacher", "turn_start": "2024-01-01"}, "turn_start"),
        ({"name": "x", "role": "teacher", "turn_start": "2025-09-01", "turn_end": "2027-09-01"}, "turn_end"),
        ({"name": "x", "role": "teacher", "turn_start": "2025-09-01", "phone": "123"}, "phone"),
        ({"name": "x", "role": "teacher", "turn_start": "2025-09-01", "username": "nobody"}, "username"),
    ]:  # fmt: skip
        r = call(client, "post", url, payload)
        assert r.status_code == 400, (payload, r.content)
        assert field in r.json()["errors"], (payload, r.json())
    assert not SecondmentMember.objects.exists()
    assert call(client, "put", f"/api/secondments/{team.pk}/members/999999",
                {"name": "x", "role": "teacher", "turn_start": str(CYCLE_START)}).status_code == 404  # fmt: skip


def test_another_grids_worker_does_not_reach_the_team(client, grid_b_worker, team, tree):
    client.force_login(grid_b_worker)
    r = call(client, "put", f"/api/secondments/{team.pk}", {"sending_name": "x", "receiving_name": "y",
             "node_code": tree["grid_a"].code, "cycle_start": "2025-09-01"})  # fmt: skip
    assert r.status_code == 404


def test_a_patch_changes_only_what_it_sends(client, community_worker, grid_a_worker, tree):
    client.force_login(community_worker)
    r = call(client, "post", "/api/secondments/", {"kind": "teaching", "sending_name": "县第一中学",
             "receiving_name": "东门小学", "node_code": tree["grid_a"].code, "cycle_start": "2025-09-01"})  # fmt: skip
    pk = r.json()["id"]
    r = call(client, "post", f"/api/secondments/{pk}/members", {"name": "王强", "role": "leader",
             "phone": "13900001111", "speciality": "数学", "turn_start": "2025-09-01",
             "username": "grid_a"})  # fmt: skip
    wang = r.json()
    url = f"/api/secondments/{pk}/members/{wang['id']}"

    r = call(client, "patch", url, {"turn_end": "2026-01-31"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["turn_end"] == "2026-01-31" and body["username"] == "grid_a"
    assert body["speciality"] == "数学" and body["phone_masked"] == "139****1111"
    assert body["role"] == "leader" and body["name"] == "王强"

    r = call(client, "patch", url, {"speciality": "物理", "username": ""})
    assert r.status_code == 200 and r.json()["speciality"] == "物理"
    assert r.json()["username"] is None and r.json()["turn_end"] == "2026-01-31"

    # Refused as the PUT would be: named field, nothing stored.
    r = call(client, "patch", url, {"turn_end": "2025-08-01"})
    assert r.status_code == 400 and "turn_end" in r.json()["errors"]
    r = call(client, "patch", url, {"username": "nobody-here"})
    assert r.status_code == 400 and "username" in r.json()["errors"]
    m = SecondmentMember.objects.get(pk=wang["id"])
    assert (str(m.turn_end), m.speciality, m.user_id) == ("2026-01-31", "物理", None)
    assert (
        call(client, "patch", f"/api/secondments/{pk}/members/999999", {"name": "x"}).status_code
        == 404
    )
