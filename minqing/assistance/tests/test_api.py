"""The assistance API: the same selectors and services as the pages, clear 400s on bad input."""

import datetime as dt

from minqing.assistance.models import HelpEntry

from .conftest import orphan, pair


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_pairings_list_and_detail(client, office, cadre, cadre_helper, household_a):
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    client.force_login(office)
    body = client.get("/api/assistance/pairings/").json()
    assert body["count"] == 1 and body["items"][0]["id"] == p.pk
    assert body["items"][0]["helpers"][0]["phone_masked"] == "139****1111"
    detail = client.get(f"/api/assistance/pairings/{p.pk}").json()
    assert detail["programme"]["code"] == "cadre" and detail["can_log_help"] is True
    assert client.get("/api/assistance/pairings/999999").status_code == 404
    assert client.get(f"/api/assistance/pairings/{2**62}").status_code == 404
    assert client.get("/api/assistance/pairings/?programme=nope").status_code == 400
    assert client.get("/api/assistance/programmes/").json()["count"] >= 5


def test_help_log_create_and_its_errors(client, office, cadre, cadre_helper, household_a):
    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    client.force_login(cadre)
    url = f"/api/assistance/pairings/{p.pk}/help"
    r = post(client, url, {"kind": "goods", "goods": "米面油", "goods_value": "180.5", "fund_source": "social",
                           "occurred_on": "2026-02-01"})  # fmt: skip
    assert r.status_code == 201, r.content
    assert r.json()["helper"] == cadre_helper.name and r.json()["goods_value"] == "180.50"

    cases = [
        ({"kind": "dance", "text": "x"}, "kind"),
        ({"kind": "goods", "amount": "100"}, "fund_source"),
        ({"kind": "goods", "amount": "100", "fund_source": "lottery"}, "fund_source"),
        ({"kind": "visit"}, "text"),
        ({"kind": "visit", "text": "x", "occurred_on": "2025-12-31"}, "occurred_on"),
        ({"kind": "visit", "text": "x", "occurred_on": "2099-01-01"}, "occurred_on"),
        ({"kind": "visit", "text": "x", "helper_id": 999999}, "helper_id"),
    ]
    for payload, field in cases:
        r = post(client, url, payload)
        assert r.status_code == 400, (payload, r.status_code)
        assert field in r.json()["errors"], (payload, r.json())
    assert (
        post(client, url, {"kind": "goods", "amount": "-5", "fund_source": "cadre"}).status_code
        == 422
    )
    assert HelpEntry.objects.count() == 1


def test_someone_who_sees_the_pairing_but_may_not_log_gets_403(
    client, office, cadre_helper, household_a, tree
):
    from minqing.accounts.models import DataScope, Role, RoleAssignment, User

    viewer = User.objects.create_user(username="viewer", password="x-123456789")
    RoleAssignment.objects.create(
        user=viewer, role=Role.CADRE, node=tree["community"], data_scope=DataScope.NODE_AND_BELOW
    )
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    client.force_login(viewer)
    assert client.get(f"/api/assistance/pairings/{p.pk}").status_code == 200
    r = post(client, f"/api/assistance/pairings/{p.pk}/help", {"kind": "visit", "text": "x"})
    assert r.status_code == 403


def test_due_coverage_and_report_endpoints(
    client, office, mother, cadre_helper, household_a, grid_a_worker, tree
):
    o1 = orphan(grid_a_worker, tree["grid_a"], "孤儿甲", 21, dt.date(2014, 4, 1))
    orphan(grid_a_worker, tree["grid_a"], "孤儿乙", 22, dt.date(2015, 4, 1))
    pair(office, "mother", [mother], person=o1.pk, start=dt.date(2026, 1, 5))
    pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    client.force_login(office)

    due = client.get("/api/assistance/due/?within=60").json()
    assert due["count"] >= 2 and due["counts"]["overdue"] >= 1
    assert client.get("/api/assistance/due/?within=999").status_code == 422

    cov = {
        c["programme"]["code"]: c for c in client.get("/api/assistance/coverage/").json()["items"]
    }
    assert (cov["mother"]["total"], cov["mother"]["paired"], cov["mother"]["rate"]) == (2, 1, 50.0)
    unpaired = client.get("/api/assistance/coverage/mother/unpaired").json()
    assert [u["name"] for u in unpaired["items"]] == ["孤儿乙"] and "*" in unpaired["items"][0][
        "id_number_masked"
    ]
    assert client.get("/api/assistance/coverage/unit/unpaired").status_code == 404

    report = client.get("/api/assistance/report/?month=2026-02").json()
    assert report["month"] == "2026-02" and report["count"] == 2
    assert report["totals"]["gaps"] == 2
    assert client.get("/api/assistance/report/?group=99999").status_code == 400


def test_a_cadre_reads_a_paired_households_file_through_the_api_as_on_its_page(
    client, office, cadre, cadre_helper, household_a
):
    import json

    pair(office, "cadre", [cadre_helper], household=household_a)
    client.force_login(cadre)
    assert client.get(f"/households/{household_a.pk}/").status_code == 200
    assert client.get(f"/api/households/{household_a.pk}").status_code == 200
    assert client.get(f"/api/households/{household_a.pk}/members").status_code == 200
    patch = client.patch(f"/api/households/{household_a.pk}", json.dumps({"address": "x"}),
                         content_type="application/json")  # fmt: skip
    assert patch.status_code == 404  # reading, not keeping, the file
