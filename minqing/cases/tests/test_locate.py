"""指定网格: a report that came in without a grid (an Open311 report with an address only)
is held by the county; a dispatcher there sends it down to the grid where it is, and the
grid's people can then work it like any other case."""

import hashlib
import json
from urllib.parse import urlencode

import pytest

from conftest import login
from minqing.cases import services
from minqing.cases.models import Case, Notification, Open311Client, Status
from minqing.registry.services import PermissionDenied

KEY = "o311_locate-test-key-0001"


@pytest.fixture
def unplaced(db, tree):
    Open311Client.objects.create(
        name="随手拍", key_digest=hashlib.sha256(KEY.encode()).hexdigest(), key_prefix=KEY[:8]
    )
    from django.test import Client

    data = {"api_key": KEY, "jurisdiction_id": "x", "service_code": "0601",
            "address_string": "东门社区青年路3号", "description": "路灯不亮。"}  # fmt: skip
    r = Client().post(
        "/open311/v2/requests.json",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code in (200, 201), r.content
    case = Case.objects.get()
    assert case.grid == tree["county"] and case.level_node == tree["county"]
    return case


def test_the_county_sends_an_unplaced_report_to_its_grid_and_the_grid_works_it(
    client, unplaced, county_officer, grid_a_worker, grid_b_worker, tree
):
    case = services.case_act(acting_user=county_officer, case=unplaced, action="register")
    login(client, county_officer)
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "指定网格" in page and f'value="{tree["grid_a"].pk}"' in page
    response = client.post(
        f"/cases/{case.number}/act/locate/",
        {"version": case.version, "target_node": tree["grid_a"].pk, "note": "青年路属第1网格"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.grid == tree["grid_a"] and case.level_node == tree["grid_a"]
    assert case.status == Status.REGISTERED
    assert Notification.objects.filter(user=grid_a_worker, case=case).exists()
    assert not Notification.objects.filter(user=grid_b_worker, case=case).exists()
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take")
    assert case.status == Status.HANDLING
    event = case.events.get(action="locate")
    assert not event.public and "青年路属第1网格" in event.note


def test_locating_is_refused_outside_the_scope_and_for_a_grid_case(
    client, unplaced, county_officer, community_worker, grid_a_worker, tree
):
    with pytest.raises(PermissionDenied):  # the community does not hold a county case
        services.case_act(acting_user=community_worker, case=unplaced, action="locate",
                          target_node=tree["grid_a"])  # fmt: skip
    case = services.case_act(acting_user=county_officer, case=unplaced, action="locate",
                             target_node=tree["grid_a"])  # fmt: skip
    assert not services.can_act(county_officer, case, "locate")  # a grid holds it now
    with pytest.raises(PermissionDenied):
        services.case_act(acting_user=county_officer, case=case, action="locate",
                          target_node=tree["grid_b"])  # fmt: skip


def test_the_api_locates_by_grid_code(client, unplaced, county_officer, tree):
    from minqing.accounts.models import ApiToken

    auth = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user=county_officer, name='t')[1]}"}
    url = f"/api/cases/{unplaced.number}/actions/locate"
    bad = client.post(url, json.dumps({"target_grid": "999"}), content_type="application/json",
                      **auth)  # fmt: skip
    assert bad.status_code == 400 and "target_grid" in bad.json()["errors"]
    ok = client.post(url, json.dumps({"target_grid": tree["grid_b"].code}),
                     content_type="application/json", **auth)  # fmt: skip
    assert ok.status_code == 200, ok.content
    assert Case.objects.get().grid == tree["grid_b"]


def test_the_county_statistics_give_unplaced_cases_a_row_so_the_rows_add_up(
    client, unplaced, county_officer, tree
):
    login(client, county_officer)
    page = client.get("/cases/stats/").content.decode()
    assert f"{tree['county'].name}本级（未指定网格）" in page
    items = client.get("/api/cases/indicators").json()["items"]
    parts = [i for i in items if not i["total"]]
    total = next(i for i in items if i["total"])
    assert sum(i["accepted"] for i in parts) == total["accepted"] == 1
    assert [i["node_name"] for i in parts if i["unplaced"]] == [
        f"{tree['county'].name}本级（未指定网格）"
    ]


def test_a_case_in_no_grid_is_dispatched_after_it_is_sent_to_a_grid(
    unplaced, county_officer, grid_a_worker, tree
):
    """Review: with handlers limited to those the forms offer (the grid's and its community's
    staff), a case held at the county with no grid had none: every name was refused as "cannot
    handle this grid's cases". It says to send it to a grid first."""
    from django.core.exceptions import ValidationError

    unplaced = services.case_act(acting_user=county_officer, case=unplaced, action="register")
    with pytest.raises(ValidationError) as exc:
        services.case_act(acting_user=county_officer, case=unplaced, action="dispatch",
                          target_user=grid_a_worker)  # fmt: skip
    assert exc.value.message_dict == {"target_user": [services.ERR_LOCATE_FIRST]}
