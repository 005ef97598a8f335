"""The API: list, detail, attendance, activities, report — same services, same scope."""

import json

import pytest

from minqing.accounts.models import ApiToken
from minqing.secondments.models import Activity, Attendance
from minqing.secondments.tests.conftest import D

JSON = "application/json"


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, url, body, auth):
    return client.post(url, json.dumps(body), content_type=JSON, **auth)


def test_list_and_detail_mask_phones_and_follow_the_scope(
    client, community_worker, grid_b_worker, team, members
):
    auth = bearer(community_worker)
    listing = client.get("/api/secondments/", **auth).json()
    assert listing["count"] == 1 and listing["items"][0]["name"] == team.name
    assert listing["items"][0]["node_code"] == team.node.code
    detail = client.get(f"/api/secondments/{team.pk}", **auth).json()
    assert [m["name"] for m in detail["members"]] == ["王强", "李梅", "赵刚"]
    assert detail["members"][0]["phone_masked"] == "139****1111"
    assert "13900001111" not in json.dumps(detail)
    other = bearer(grid_b_worker)
    assert client.get("/api/secondments/", **other).json()["count"] == 0
    for url in (
        f"/api/secondments/{team.pk}",
        f"/api/secondments/{team.pk}/attendance?date=2025-09-02",
        f"/api/secondments/{team.pk}/activities",
        f"/api/secondments/{team.pk}/report",
    ):
        assert client.get(url, **other).status_code == 404, url
    body = {"date": "2025-09-02", "entries": [{"member_id": members[0].pk, "status": "absent"}]}
    assert post(client, f"/api/secondments/{team.pk}/attendance", body, other).status_code == 404
    assert not Attendance.objects.exists()


def test_attendance_is_recorded_and_corrected_through_the_api(
    client, community_worker, grid_a_worker, team, members
):
    auth = bearer(community_worker)
    wang, li, _ = members
    url = f"/api/secondments/{team.pk}/attendance"
    body = {"date": "2025-09-02", "entries": [
        {"member_id": wang.pk, "status": "present"},
        {"member_id": li.pk, "status": "late", "note": "堵车"},
    ]}  # fmt: skip
    response = post(client, url, body, auth)
    assert response.status_code == 200
    sheet = {r["name"]: (r["status"], r["recorded"]) for r in response.json()["items"]}
    assert sheet == {"王强": ("present", True), "李梅": ("late", True), "赵刚": ("", False)}
    body = {"date": "2025-09-02", "entries": [{"member_id": li.pk, "status": "leave"}]}
    assert post(client, url, body, auth).status_code == 200
    assert Attendance.objects.get(member=li).status == "leave"
    # A grid worker of the receiving grid sees the sheet but may not record it.
    viewer = bearer(grid_a_worker)
    assert client.get(f"{url}?date=2025-09-02", **viewer).json()["count"] == 3
    assert post(client, url, body, viewer).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2099-01-01", "entries": "OK"}, "date"),
        ({"date": "1900-01-01", "entries": "OK"}, "date"),
        ({"date": "2025-09-02", "entries": []}, "entries"),
        (
            {"date": "2025-09-02", "entries": [{"member_id": 999999, "status": "present"}]},
            "entries",
        ),
        ({"date": "2025-09-02", "entries": "BAD"}, "status"),
    ],
)
def test_bad_attendance_answers_400(client, community_worker, team, members, body, field):
    wang = members[0]
    if body["entries"] == "OK":
        body["entries"] = [{"member_id": wang.pk, "status": "present"}]
    elif body["entries"] == "BAD":
        body["entries"] = [{"member_id": wang.pk, "status": "asleep"}]
    response = post(
        client, f"/api/secondments/{team.pk}/attendance", body, bearer(community_worker)
    )
    assert response.status_code == 400
    assert any(k == field or k.startswith(f"{field}_") for k in response.json()["errors"])
    assert not Attendance.objects.exists()


def test_activities_and_the_report_through_the_api(client, community_worker, team, members):
    auth = bearer(community_worker)
    wang, li, zhao = members
    response = post(
        client,
        f"/api/secondments/{team.pk}/activities",
        {"kind": "open_class", "date": "2025-10-10", "title": "分数的意义",
         "member_ids": [li.pk], "participants": 45},
        auth,
    )  # fmt: skip
    assert response.status_code == 201 and response.json()["members"] == ["李梅"]
    bad = post(
        client,
        f"/api/secondments/{team.pk}/activities",
        {"kind": "open_class", "date": "2025-10-10", "title": "x", "member_ids": []},
        auth,
    )
    assert bad.status_code == 400 and "member_ids" in bad.json()["errors"]
    assert Activity.objects.count() == 1
    post(
        client,
        f"/api/secondments/{team.pk}/attendance",
        {"date": "2025-09-03", "entries": [{"member_id": li.pk, "status": "absent"},
                                           {"member_id": zhao.pk, "status": "present"}]},
        auth,
    )  # fmt: skip
    report = client.get(f"/api/secondments/{team.pk}/report?term=2025-autumn", **auth).json()
    assert (report["start"], report["end"]) == ("2025-08-01", "2026-01-31")
    lines = {line["name"]: line for line in report["lines"]}
    assert lines["李梅"]["rate"] == 0.0 and lines["李梅"]["activities"] == 1
    assert lines["赵刚"]["rate"] == 1.0 and lines["王强"]["rate"] is None
    assert report["rate"] == 0.5 and report["days"] == 2
    assert {k["kind"]: k["count"] for k in report["kinds"]}["open_class"] == 1
    listing = client.get(f"/api/secondments/{team.pk}/activities", **auth).json()
    assert listing["count"] == 1 and listing["items"][0]["title"] == "分数的意义"
    bad = client.get(f"/api/secondments/{team.pk}/report?start=2025-09-01&end=2025-01-01", **auth)
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"start": ["结束日期不能早于开始日期。"]}  # not "term"
    bad = client.get(f"/api/secondments/{team.pk}/report?term=1999-spring", **auth)
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"term"}
    assert D(2025, 8, 1).isoformat() == report["start"]


def test_odd_text_never_answers_500(client, community_worker, team, members):
    auth = bearer(community_worker)
    url = f"/api/secondments/{team.pk}/activities"
    for title in ["\ud800", "a\x00b", "x" * 101, "=1+1"]:
        body = json.dumps({"kind": "lecture", "date": "2025-10-10", "title": title,
                           "member_ids": [members[0].pk]}, ensure_ascii=False)  # fmt: skip
        response = client.post(
            url, body.encode("utf-8", "surrogatepass"), content_type=JSON, **auth
        )
        assert response.status_code < 500, (title, response.status_code)
    assert list(Activity.objects.values_list("title", flat=True)) == ["=1+1"]
