"""The duties API: my duties, recording a day, the report, with clear 400s for bad input."""

import datetime as dt
import json

from django.utils import timezone

from minqing.duties.models import DutyDay
from minqing.duties.selectors import ERR_MONTH, ERR_MONTH_FUTURE
from minqing.duties.services import ERR_DAY_DUPLICATE, ERR_NOT_HOLDER

from .conftest import visit


def _post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_my_duties_in_the_api(client, zhao, zhao_duty):
    hh = zhao_duty.links.get(kind="household").household
    visit(hh, [zhao], timezone.now())
    client.force_login(zhao)

    body = client.get("/api/duties/me").json()

    assert body["count"] == 1 and body["current"] is True
    (item,) = body["items"]
    assert item["rule"] == "其他干部" and item["owed"]["targets"] == 3
    assert item["done"]["visits"] == 1 and item["gaps"]["visits"] == 3
    visited = [link["household_id"] for link in item["links"] if link["visited"]]
    assert visited == [hh.pk]


def test_recording_a_day_through_the_api(client, zhao, zhao_duty, tree):
    client.force_login(zhao)
    today = timezone.localdate()
    payload = {
        "date": today.isoformat(),
        "community_code": tree["community"].code,
        "kind": "resident",
    }

    created = _post(client, "/api/duties/days", payload)
    assert created.status_code == 201
    assert (
        created.json()["community_name"] == "东门社区" and created.json()["kind_label"] == "驻社区"
    )
    again = _post(client, "/api/duties/days", payload)
    assert again.status_code == 400
    assert again.json()["errors"] == {"date": [ERR_DAY_DUPLICATE.format(date=today)]}
    wrong = _post(
        client,
        "/api/duties/days",
        {**payload, "community_code": "nope", "date": (today - dt.timedelta(days=1)).isoformat()},
    )
    assert wrong.status_code == 400 and "community_code" in wrong.json()["errors"]
    unlinked = _post(
        client,
        "/api/duties/days",
        {
            **payload,
            "community_code": tree["other_community"].code,
            "date": (today - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert unlinked.status_code == 400 and "community_code" in unlinked.json()["errors"]
    bad_kind = _post(
        client,
        "/api/duties/days",
        {**payload, "kind": "party", "date": (today - dt.timedelta(days=1)).isoformat()},
    )
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()["errors"]
    assert DutyDay.objects.count() == 1
    assert client.get("/api/duties/me").json()["items"][0]["days"][0]["date"] == today.isoformat()

    day_id = created.json()["id"]
    assert client.delete(f"/api/duties/days/{day_id}").status_code == 200
    assert not DutyDay.objects.exists()


def test_someone_without_duties_is_told_so(client, qian, tree):
    client.force_login(qian)
    response = _post(
        client,
        "/api/duties/days",
        {"date": timezone.localdate().isoformat(), "community_code": tree["community"].code},
    )
    assert response.status_code == 403 and response.json()["detail"] == ERR_NOT_HOLDER
    assert client.get("/api/duties/me").json() == {
        "month": f"{timezone.localdate():%Y-%m}",
        "current": True,
        "items": [],
        "count": 0,
    }


def test_the_report_in_the_api(client, county_officer, zhao_duty):
    client.force_login(county_officer)
    body = client.get("/api/duties/report").json()
    assert body["count"] == 1 and body["items"][0]["unit"] == "县民政局"
    assert body["units"][0]["holders"] == 1 and body["total"]["gaps"]["visits"] == 4

    bad = client.get("/api/duties/report?month=13-2026")
    assert bad.status_code == 400 and bad.json()["errors"] == {"month": [ERR_MONTH]}
    nxt = (timezone.localdate().replace(day=28) + dt.timedelta(days=5)).replace(day=1)
    future = client.get(f"/api/duties/report?month={nxt:%Y-%m}")
    assert future.status_code == 400 and future.json()["errors"] == {"month": [ERR_MONTH_FUTURE]}
    assert client.get(f"/api/duties/holders/{zhao_duty.pk}").json()["done"]["communities"] == 1
    assert client.get("/api/duties/holders/99999999").status_code == 404
