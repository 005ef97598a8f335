"""接待日 through the JSON API: the register kept and matters filed as cases, as on the pages."""

from django.utils import timezone

from minqing.cases.models import Channel, OpinionKind, ReceptionMatter, Status

from .test_reception import add_matter, day, other_day  # noqa: F401 (fixtures)


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_a_day_is_opened_and_a_matter_registered_and_filed(client, community_worker, tree):
    client.force_login(community_worker)
    today = timezone.localdate().isoformat()
    r = post(client, "/api/reception/days/", {"node_code": tree["community"].code, "date": today,
                                               "receivers": "社区书记", "place": "党群服务中心"})  # fmt: skip
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["can_register"] is True and r.json()["items"] == []
    r = post(client, f"/api/reception/days/{pk}/matters", {"visitor_name": "李阿姨", "visitor_phone": "13900001234",
                                                          "matter": "楼道灯坏了", "opinion": "deadline"})  # fmt: skip
    assert r.status_code == 201, r.content
    matter = r.json()
    assert matter["visitor_phone_masked"] == "139****1234" and matter["case_number"] is None
    assert "13900001234" not in client.get(f"/api/reception/days/{pk}").content.decode()

    r = post(client, f"/api/reception/matters/{matter['id']}/case", {})
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    case = ReceptionMatter.objects.get(pk=matter["id"]).case
    assert case.number == number and case.channel == Channel.RECEPTION
    assert case.status == Status.HANDLING and r.json()["deadline"]
    detail = client.get(f"/api/reception/days/{pk}").json()
    assert detail["items"][0]["case_number"] == number and detail["matters"] == 1
    # Twice: a conflict naming the case, nothing new.
    r = post(client, f"/api/reception/matters/{matter['id']}/case", {})
    assert r.status_code == 409 and number in r.json()["detail"]
    listed = client.get("/api/reception/days/").json()
    assert listed["count"] == 1 and listed["items"][0]["matters"] == 1


def test_bad_input_names_the_field_and_stores_nothing(client, community_worker, day, tree):  # noqa: F811
    client.force_login(community_worker)
    today = timezone.localdate().isoformat()
    for payload, field in [
        ({"node_code": tree["other_community"].code, "date": today, "receivers": "x"}, "node_code"),
        ({"node_code": tree["community"].code, "date": "1999-01-01", "receivers": "x"}, "date"),
        ({"node_code": tree["community"].code, "date": today, "receivers": ""}, "receivers"),
    ]:
        r = post(client, "/api/reception/days/", payload)
        assert r.status_code == 400, payload
        assert field in r.json()["errors"], (payload, r.json())
    url = f"/api/reception/days/{day.pk}/matters"
    for payload, field in [
        ({"visitor_name": "李", "matter": "x", "opinion": "maybe"}, "opinion"),
        ({"visitor_name": "", "matter": "x", "opinion": "solved"}, "visitor_name"),
        ({"visitor_name": "李", "visitor_phone": "123", "matter": "x", "opinion": "solved"}, "visitor_phone"),
    ]:  # fmt: skip
        r = post(client, url, payload)
        assert r.status_code == 400, payload
        assert field in r.json()["errors"], (payload, r.json())
    assert not ReceptionMatter.objects.exists()
    solved = add_matter(community_worker, day, OpinionKind.SOLVED)
    r = post(client, f"/api/reception/matters/{solved.pk}/case", {})
    assert r.status_code == 400 and "opinion" in r.json()["errors"]
    pending = add_matter(community_worker, day)
    r = post(
        client, f"/api/reception/matters/{pending.pk}/case", {"grid_code": tree["grid_c"].code}
    )
    assert r.status_code == 400 and "grid_code" in r.json()["errors"]
    pending.refresh_from_db()
    assert pending.case is None


def test_another_communitys_days_and_matters_answer_404(client, community_worker, other_day):  # noqa: F811
    matter = add_matter(other_day.created_by, other_day)
    client.force_login(community_worker)
    assert client.get(f"/api/reception/days/{other_day.pk}").status_code == 404
    assert client.get(f"/api/reception/days/{2**62}").status_code == 404
    assert post(client, f"/api/reception/days/{other_day.pk}/matters",
                {"visitor_name": "x", "matter": "x", "opinion": "solved"}).status_code == 404  # fmt: skip
    assert post(client, f"/api/reception/matters/{matter.pk}/case", {}).status_code == 404
    assert client.get("/api/reception/days/").json()["count"] == 0
    matter.refresh_from_db()
    assert matter.case is None
