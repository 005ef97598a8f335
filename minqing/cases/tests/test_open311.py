"""Open311 GeoReport v2 over real HTTP: every endpoint in XML and JSON, every error document."""

import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from minqing.cases import services
from minqing.cases.models import Case, CaseEvent, Category, Channel, Open311Client, Status
from minqing.core.phone import ERR_PHONE
from minqing.grids import geo
from minqing.grids.models import Node

BASE = "/open311/v2/"
RAW_KEY = "o311_test-key-for-minqing-0001"
FORM = "application/x-www-form-urlencoded"
NAME, PHONE = "小明", "13912345678"  # first_name 小明, last_name 李 → 李小明
FULL_NAME = "李小明"


@pytest.fixture(autouse=True)
def _shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def app(db):
    """An Open311 client made the way the admin makes one: only the key's SHA-256 is kept."""
    return Open311Client.objects.create(
        name="随手拍",
        key_digest=hashlib.sha256(RAW_KEY.encode()).hexdigest(),
        key_prefix=RAW_KEY[:8],
    )


def post(client, fmt="json", **fields):
    data = {
        "api_key": RAW_KEY,
        "jurisdiction_id": "minqing.gov.cn",
        "service_code": "0601",
        "lat": "30.005",
        "long": "120.005",
        "description": "东门路路灯不亮，晚上很黑。",
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{BASE}requests.{fmt}", urlencode(data), content_type=FORM)


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def js(response):
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def xml_rows(response, item: str) -> list[dict]:
    return [{child.tag: child.text for child in row} for row in xml(response).iter(item)]


def assert_error(response, code: int, fmt: str = "json") -> str:
    assert response.status_code == code
    if fmt == "json":
        body = js(response)
        assert isinstance(body, list) and body[0]["code"] == code
        return body[0]["description"]
    root = xml(response)
    assert root.tag == "errors"
    assert root.find("error/code").text == str(code)
    return root.find("error/description").text


@pytest.fixture
def filed(client, app, tree):
    """A resident's report through Open311, with a name and a phone, located in grid A."""
    response = post(client, first_name=NAME, last_name="李", phone=PHONE)
    assert response.status_code == 200
    return Case.objects.get(number=js(response)[0]["service_request_id"])


# --- services ----------------------------------------------------------------------------------


def test_services_xml_lists_leaf_categories_with_their_parent_as_group(client, db):
    response = client.get(f"{BASE}services.xml?jurisdiction_id=x")
    assert response.status_code == 200
    services_ = {row["service_code"]: row for row in xml_rows(response, "service")}
    assert services_["0601"] == {
        "service_code": "0601",
        "service_name": "路灯损坏",
        "description": "路灯损坏",
        "metadata": "false",
        "type": "realtime",
        "keywords": "路灯损坏, 公用设施",
        "group": "公用设施",
    }
    assert "06" not in services_  # a parent with sub-categories is a group, not a service
    assert services_["99"]["service_name"] == "其他"  # a parent without children is a service
    assert services_["99"]["group"] is None


def test_services_json_is_a_bare_array_of_the_same_services(client, db):
    rows = js(client.get(f"{BASE}services.json"))
    assert isinstance(rows, list)
    row = next(r for r in rows if r["service_code"] == "0302")
    assert row["metadata"] is False and row["type"] == "realtime" and row["group"] == "施工管理"
    assert {r["service_code"] for r in rows} == {
        r["service_code"] for r in xml_rows(client.get(f"{BASE}services.xml"), "service")
    }


def test_inactive_categories_and_the_children_of_inactive_parents_are_not_services(client, db):
    Category.objects.filter(code="0601").update(active=False)
    Category.objects.filter(code="03").update(active=False)
    codes = {r["service_code"] for r in js(client.get(f"{BASE}services.json"))}
    assert "0602" in codes
    assert not codes & {"0601", "0301", "0302", "0303", "03"}


def test_service_definition_has_the_code_and_no_attributes_in_both_formats(client, db):
    root = xml(client.get(f"{BASE}services/0601.xml"))
    assert root.tag == "service_definition"
    assert root.find("service_code").text == "0601"
    assert list(root.find("attributes")) == []
    assert js(client.get(f"{BASE}services/0601.json?jurisdiction_id=x")) == {
        "service_code": "0601",
        "attributes": [],
    }


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_unknown_service_code_answers_404_with_an_error_document(client, db, fmt):
    assert "service_code" in assert_error(client.get(f"{BASE}services/nope.{fmt}"), 404, fmt)
    assert_error(client.get(f"{BASE}services/06.{fmt}"), 404, fmt)  # a group, not a service


# --- POST requests -----------------------------------------------------------------------------


def test_a_post_whose_point_lies_in_grid_a_becomes_a_case_in_grid_a(client, app, tree):
    response = post(client, first_name=NAME, last_name="李", phone=PHONE, email="li@example.com")
    assert response.status_code == 200
    body = js(response)
    assert isinstance(body, list) and len(body) == 1
    case = Case.objects.get(number=body[0]["service_request_id"])
    assert body[0]["token"] == case.token
    assert case.number in body[0]["service_notice"] and "后四位" in body[0]["service_notice"]
    assert body[0]["account_id"] is None
    assert case.grid == tree["grid_a"] and case.level_node == tree["grid_a"]
    assert case.status == Status.ACCEPTED and case.channel == Channel.ONLINE
    assert case.category.code == "0601" and case.source_client == "随手拍"
    assert case.reporter_name == FULL_NAME and case.reporter_phone == PHONE
    assert case.created_by is None
    assert case.events.get().actor_label == "随手拍"


def test_a_post_answers_in_xml_with_service_requests_and_request(client, app, tree):
    response = post(client, "xml")
    assert response.status_code == 200
    root = xml(response)
    assert root.tag == "service_requests"
    number = root.find("request/service_request_id").text
    case = Case.objects.get(number=number)
    assert root.find("request/token").text == case.token
    assert root.find("request/account_id").text is None


def test_a_post_is_csrf_exempt(app, tree):
    response = post(Client(enforce_csrf_checks=True))
    assert response.status_code == 200


def test_a_western_name_keeps_its_order_and_extra_parameters_are_accepted(client, app, tree):
    response = post(
        client,
        first_name="John",
        last_name="Smith",
        device_id="dev-1",
        account_id="acc-9",
        media_url="https://example.com/a.jpg",
        **{"attribute[WHISPAWN]": "123", "attribute[multi][]": "a"},
    )
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.reporter_name == "John Smith"
    assert case.description.endswith("附图链接：https://example.com/a.jpg")


def test_a_media_url_that_is_not_a_web_link_is_left_out(client, app, tree):
    assert post(client, media_url="javascript:alert(1)").status_code == 200
    assert "javascript" not in Case.objects.get().description


def test_a_malformed_multipart_body_answers_400_with_an_error_document(client, app, tree):
    response = client.generic(
        "POST", f"{BASE}requests.xml", b"x", content_type="multipart/form-data"
    )
    assert_error(response, 400, "xml")


def test_an_empty_description_takes_the_service_name(client, app, tree):
    assert post(client, description="").status_code == 200
    assert Case.objects.get().description == "路灯损坏"


def test_an_address_alone_is_a_location_and_the_case_waits_at_the_county(client, app, tree):
    response = post(client, lat=None, long=None, address_string="东门路3号")
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.address == "东门路3号" and case.lat is None
    assert case.grid == tree["county"]


def test_an_address_id_alone_is_a_location(client, app, tree):
    assert post(client, lat=None, long=None, address_id="A-1001").status_code == 200
    assert "A-1001" in Case.objects.get().address


def test_the_link_and_the_address_id_sent_come_back_in_their_own_fields(client, app, tree):
    """QA: media_url and address_id were accepted and then always given back as null."""
    post(client, lat=None, long=None, address_id="A-1001", media_url="https://example.com/a.jpg")
    case = Case.objects.get()
    [row] = js(client.get(f"{BASE}requests/{case.number}.json"))
    assert row["media_url"] == "https://example.com/a.jpg" and row["address_id"] == "A-1001"
    [row] = xml_rows(client.get(f"{BASE}requests/{case.number}.xml"), "request")
    assert row["media_url"] == "https://example.com/a.jpg" and row["address_id"] == "A-1001"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_post_without_any_location_answers_400_missing_location(client, app, tree, fmt):
    response = post(client, fmt, lat=None, long=None)
    assert "missing location" in assert_error(response, 400, fmt)
    assert not Case.objects.exists()


def test_a_description_of_4000_characters_is_accepted_and_4001_answers_400(client, app, tree):
    assert "4,000" in assert_error(post(client, description="灯" * 4001), 400)
    assert not Case.objects.exists()
    assert post(client, description="灯" * 4000).status_code == 200


@pytest.mark.parametrize(
    "lat,lng",
    [
        ("abc", "120.005"),
        ("30.005", "east"),
        ("91", "120"),
        ("30", "-180.5"),
        ("nan", "120"),
        ("inf", "120"),
        ("1e1", "120"),
        ("30.005", None),
        (None, "120.005"),
        ("3" * 5000, "120"),
    ],
)
def test_bad_lat_long_answers_400(client, app, tree, lat, lng):
    response = post(client, lat=lat, long=lng, address_string="东门路3号")
    assert_error(response, 400)
    assert not Case.objects.exists()


@pytest.mark.parametrize("key", [None, "", "wrong-key", "x" * 10000])
def test_a_missing_or_wrong_api_key_answers_403(client, app, tree, key):
    response = post(client, api_key=key)
    assert "api_key" in assert_error(response, 403)
    assert not Case.objects.exists()


def test_an_inactive_client_answers_403(client, app, tree):
    Open311Client.objects.filter(pk=app.pk).update(active=False)
    assert_error(post(client, "xml"), 403, "xml")
    assert not Case.objects.exists()


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_unknown_service_code_in_a_post_answers_404(client, app, tree, fmt):
    assert_error(post(client, fmt, service_code="9999"), 404, fmt)
    assert_error(post(client, fmt, service_code="06"), 404, fmt)
    assert not Case.objects.exists()


def test_a_post_without_service_code_answers_400(client, app, tree):
    assert "service_code" in assert_error(post(client, service_code=None), 400)


def test_an_invalid_phone_answers_400_with_the_reason(client, app, tree):
    description = assert_error(post(client, phone="12345"), 400)
    assert str(ERR_PHONE) in description and "phone" in description
    assert not Case.objects.exists()


def test_a_too_long_address_or_name_answers_400(client, app, tree):
    assert_error(post(client, address_string="路" * 201), 400)
    assert_error(post(client, first_name="名" * 51), 400)
    assert not Case.objects.exists()


def test_nul_bytes_answer_400_form_encoded_or_multipart(client, app, tree):
    assert post(client, description="灯\x00坏").status_code == 400
    multipart = client.post(
        f"{BASE}requests.json",
        {"api_key": RAW_KEY, "service_code": "0601", "lat": "30.005", "long": "120.005",
         "description": "灯\x00坏"},
    )  # fmt: skip
    assert_error(multipart, 400)
    assert not Case.objects.exists()


# --- GET requests ------------------------------------------------------------------------------


def test_get_requests_xml_gives_the_spec_fields_with_long_and_local_time(client, filed, tree):
    response = client.get(f"{BASE}requests.xml?jurisdiction_id=x")
    assert response.status_code == 200
    root = xml(response)
    assert root.tag == "service_requests"
    [row] = xml_rows(response, "request")
    assert row["service_request_id"] == filed.number
    assert row["status"] == "open"
    assert row["status_notes"] == "已受理"
    assert row["service_code"] == "0601" and row["service_name"] == "路灯损坏"
    assert row["description"] == filed.description
    assert row["agency_responsible"] == tree["grid_a"].name
    assert row["lat"] == "30.005" and row["long"] == "120.005"
    assert "lon" not in row
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert row[name].endswith("+08:00"), name
    assert set(row) >= {"address", "address_id", "zipcode", "media_url", "service_notice"}


def test_get_requests_json_is_a_bare_array_with_long_and_local_time(client, filed):
    rows = js(client.get(f"{BASE}requests.json"))
    assert isinstance(rows, list) and len(rows) == 1
    row = rows[0]
    assert row["lat"] == 30.005 and row["long"] == 120.005 and "lon" not in row
    assert row["requested_datetime"].endswith("+08:00")
    assert row["requested_datetime"] == timezone.localtime(filed.accepted_at).isoformat(
        timespec="seconds"
    )


def test_cases_recorded_from_calls_and_visits_are_not_published(client, filed, case_a):
    numbers = {r["service_request_id"] for r in js(client.get(f"{BASE}requests.json"))}
    assert numbers == {filed.number}
    assert_error(client.get(f"{BASE}requests/{case_a.number}.json"), 404)
    assert_error(client.get(f"{BASE}tokens/{case_a.token}.json"), 404)


def test_no_reporter_name_or_phone_appears_in_any_get(client, filed, grid_a_worker):
    for action, note in (("register", ""), ("take", ""), ("feedback", "路灯已更换")):
        filed = services.case_act(acting_user=grid_a_worker, case=filed, action=action, note=note)
    paths = [
        "requests.xml",
        "requests.json",
        f"requests/{filed.number}.xml",
        f"requests/{filed.number}.json",
        f"tokens/{filed.token}.xml",
        f"tokens/{filed.token}.json",
        "servicerequestupdates.xml",
        "servicerequestupdates.json",
        "services.json",
    ]
    for path in paths:
        response = client.get(BASE + path)
        assert response.status_code == 200, path
        text = response.content.decode()
        assert filed.number in text or path.startswith("services"), path
        assert FULL_NAME not in text and NAME not in text and PHONE not in text, path
        assert grid_a_worker.full_name not in text, path


def test_requests_filter_by_service_request_id_service_code_and_status(
    client, app, tree, grid_a_worker
):
    one = js(post(client))[0]["service_request_id"]
    two = js(post(client, service_code="0602"))[0]["service_request_id"]
    three = js(post(client, service_code="0602"))[0]["service_request_id"]
    case = Case.objects.get(number=three)
    services.case_act(acting_user=grid_a_worker, case=case, action="cancel", note="重复反映")

    def numbers(query):
        return {r["service_request_id"] for r in js(client.get(f"{BASE}requests.json?{query}"))}

    assert numbers(f"service_request_id={one},{three}") == {one, three}
    assert numbers(f"service_request_id={one}, nonsense") == {one}
    assert numbers("service_code=0602") == {two, three}
    assert numbers("service_code=0601,0602") == {one, two, three}
    assert numbers("status=open") == {one, two}
    assert numbers("status=closed") == {three}
    assert numbers("status=open,closed") == {one, two, three}
    row = js(client.get(f"{BASE}requests/{three}.json"))[0]
    assert row["status"] == "closed" and row["status_notes"] == "重复反映"
    assert row["expected_datetime"] is None and row["updated_datetime"].endswith("+08:00")
    assert_error(client.get(f"{BASE}requests.json?status=pending"), 400)


def test_service_request_id_overrides_the_date_range(client, filed):
    Case.objects.filter(pk=filed.pk).update(accepted_at=timezone.now() - timedelta(days=400))
    assert js(client.get(f"{BASE}requests.json")) == []
    rows = js(client.get(f"{BASE}requests.json?service_request_id={filed.number}"))
    assert [r["service_request_id"] for r in rows] == [filed.number]


def test_requests_default_to_the_last_90_days_and_take_a_date_range(client, filed):
    old = timezone.now() - timedelta(days=120)
    Case.objects.filter(pk=filed.pk).update(accepted_at=old)
    assert js(client.get(f"{BASE}requests.json")) == []
    start = (old - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    end = (old + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = urlencode({"start_date": start, "end_date": end})
    assert len(js(client.get(f"{BASE}requests.json?{query}"))) == 1
    # an unencoded "+" arrives as a space: still read as the offset
    loose = f"start_date={start.replace('+', ' ')}"
    assert len(js(client.get(f"{BASE}requests.json?{loose}"))) == 1


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_date_range_over_90_days_answers_400(client, db, fmt):
    query = "start_date=2024-01-01T00:00:00Z&end_date=2024-04-01T00:00:01Z"
    assert "90" in assert_error(client.get(f"{BASE}requests.{fmt}?{query}"), 400, fmt)
    ok = "start_date=2024-01-01T00:00:00Z&end_date=2024-03-31T00:00:00Z"
    assert client.get(f"{BASE}requests.{fmt}?{ok}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "start_date=yesterday",
        "start_date=2024-13-01",
        "end_date=0001-01-01T00:00:00Z",
        "start_date=9999-12-31T23:59:59Z",
        "start_date=2024-01-01T00:00:00%2B25:00",
        "start_date=" + "2" * 5000,
        "start_date=2024-03-01&end_date=2024-02-01",
    ],
)
def test_weird_dates_answer_400_not_500(client, db, query):
    assert_error(client.get(f"{BASE}requests.json?{query}"), 400)


def test_a_nul_byte_or_a_huge_parameter_never_answers_500(client, db):
    assert client.get(f"{BASE}requests.json?service_code=%00").status_code == 400
    assert client.get(f"{BASE}requests/%00.json").status_code in (400, 404)
    huge = "1" * 30000
    assert client.get(f"{BASE}requests.json?service_request_id={huge}").status_code == 400
    assert client.get(f"{BASE}services/{'9' * 5000}.json").status_code == 404


def test_a_request_by_number_in_both_formats_and_unknown_numbers_answer_404(client, filed):
    [row] = xml_rows(client.get(f"{BASE}requests/{filed.number}.xml"), "request")
    assert row["service_request_id"] == filed.number
    assert js(client.get(f"{BASE}requests/{filed.number}.json"))[0]["status"] == "open"
    assert_error(client.get(f"{BASE}requests/20990101-000001.xml"), 404, "xml")
    assert_error(client.get(f"{BASE}requests/nonsense.json"), 404)


def test_status_notes_and_agency_follow_the_case(client, filed, community_worker, water_unit):
    filed = services.case_act(acting_user=community_worker, case=filed, action="register")
    filed = services.case_act(
        acting_user=community_worker, case=filed, action="transfer", target_unit=water_unit
    )
    row = js(client.get(f"{BASE}requests/{filed.number}.json"))[0]
    assert row["agency_responsible"] == "供水公司"
    assert row["status_notes"] == "已派给处置人员"
    assert row["expected_datetime"] == timezone.localtime(filed.handle_deadline).isoformat(
        timespec="seconds"
    )
    member = water_unit.members.get()
    filed = services.case_act(acting_user=member, case=filed, action="start")
    filed = services.case_act(acting_user=member, case=filed, action="feedback", note="已修复水管")
    services.case_act(
        acting_user=community_worker, case=filed, action="verify", note="已修复，感谢反映"
    )
    row = js(client.get(f"{BASE}requests/{filed.number}.json"))[0]
    assert row["status"] == "closed" and row["status_notes"] == "已修复，感谢反映"


def test_a_token_gives_its_request_id_in_both_formats(client, filed):
    root = xml(client.get(f"{BASE}tokens/{filed.token}.xml?jurisdiction_id=x"))
    assert root.find("request/service_request_id").text == filed.number
    assert root.find("request/token").text == filed.token
    assert js(client.get(f"{BASE}tokens/{filed.token}.json")) == [
        {"service_request_id": filed.number, "token": filed.token}
    ]
    assert_error(client.get(f"{BASE}tokens/{'0' * 24}.json"), 404)
    assert_error(client.get(f"{BASE}tokens/not-a-token.xml"), 404, "xml")


def test_control_characters_in_a_description_still_give_well_formed_xml(client, app, tree):
    assert post(client, description="路灯\x01不亮\x1f<b>&</b>").status_code == 200
    [row] = xml_rows(client.get(f"{BASE}requests.xml"), "request")
    assert row["description"] == "路灯不亮<b>&</b>"


# --- servicerequestupdates ---------------------------------------------------------------------


def test_updates_give_public_labels_never_notes_or_names(
    client, filed, grid_a_worker, community_worker
):
    filed = services.case_act(acting_user=grid_a_worker, case=filed, action="register")
    filed = services.case_act(acting_user=grid_a_worker, case=filed, action="take")
    filed = services.case_act(
        acting_user=community_worker, case=filed, action="supervise", note="内部：请王科长盯办"
    )
    rows = js(client.get(f"{BASE}servicerequestupdates.json?jurisdiction_id=x&api_key=y"))
    events = list(CaseEvent.objects.filter(case=filed).order_by("at", "id"))
    assert [r["update_id"] for r in rows] == [e.pk for e in events]
    assert [r["description"] for r in rows] == [
        "已受理您反映的问题",
        "已立案",
        "已安排工作人员处置",
        "上级已督促加快办理",
    ]
    assert [r["status"] for r in rows] == ["open", "open", "in_progress", "in_progress"]
    assert {r["service_request_id"] for r in rows} == {filed.number}
    assert all(r["updated_datetime"].endswith("+08:00") for r in rows)
    text = json.dumps(rows, ensure_ascii=False)
    assert "王科长" not in text and grid_a_worker.full_name not in text
    root = xml(client.get(f"{BASE}servicerequestupdates.xml"))
    assert root.tag == "service_requests_updates"
    assert [u.find("update_id").text for u in root.iter("request_update")] == [
        str(e.pk) for e in events
    ]


def test_updates_leave_out_the_internal_steps_the_residents_page_leaves_out(
    client, filed, grid_a_worker, community_worker
):
    filed = services.case_act(acting_user=grid_a_worker, case=filed, action="register")
    filed = services.case_act(acting_user=grid_a_worker, case=filed, action="take")
    filed = services.case_act(
        acting_user=grid_a_worker, case=filed, action="extend_request", days=3, note="等配件"
    )
    filed = services.case_act(
        acting_user=community_worker, case=filed, action="reassign", note="换人",
        target_user=community_worker,
    )  # fmt: skip
    rows = js(client.get(f"{BASE}servicerequestupdates.json"))
    said = [r["description"] for r in rows]
    assert said == ["已受理您反映的问题", "已立案", "已安排工作人员处置"]
    assert (
        CaseEvent.objects.filter(case=filed, action__in=["extend_request", "reassign"]).count() == 2
    )


def test_updates_skip_private_events_and_unpublished_cases(client, filed, case_a):
    CaseEvent.objects.filter(case=filed).update(public=False)
    assert js(client.get(f"{BASE}servicerequestupdates.json")) == []


def test_updates_take_a_date_range_of_at_most_90_days(client, filed):
    future = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    assert (
        js(client.get(f"{BASE}servicerequestupdates.json?start_date={future.replace('+', '%2B')}"))
        == []
    )
    query = "start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z"
    assert_error(client.get(f"{BASE}servicerequestupdates.xml?{query}"), 400, "xml")


def test_updates_without_dates_are_the_newest_and_from_a_start_date_the_next(
    client, filed, monkeypatch
):
    """QA: asked without dates, the list was the oldest 1 000 of 90 days — the last week's
    updates were left out. Now the newest, oldest first; from a start_date, the first ones
    after it (a client syncing reads on from the last it got)."""
    from minqing.cases import open311

    monkeypatch.setattr(open311, "MAX_RESULTS", 2)
    events = list(CaseEvent.objects.filter(case=filed))
    base = timezone.now() - timedelta(days=5)
    for i, event in enumerate(events):
        CaseEvent.objects.filter(pk=event.pk).update(at=base + timedelta(days=i))
    for i in range(3):
        CaseEvent.objects.create(case=filed, action="register", at=base + timedelta(days=len(events) + i),
                                 public=True, to_status=filed.status)  # fmt: skip
    ordered = list(CaseEvent.objects.filter(case=filed).order_by("at", "id"))
    rows = js(client.get(f"{BASE}servicerequestupdates.json"))
    assert [r["update_id"] for r in rows] == [e.pk for e in ordered[-2:]]
    start = (base - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = js(client.get(f"{BASE}servicerequestupdates.json?start_date={start}"))
    assert [r["update_id"] for r in rows] == [e.pk for e in ordered[:2]]


@pytest.mark.parametrize(
    "path", ["services.json", "services/0601.json", "tokens/abc.json", "servicerequestupdates.json"]
)
def test_a_post_to_a_get_only_resource_is_an_error_document_not_a_csrf_page(client, db, path):
    from django.test import Client

    web = Client(enforce_csrf_checks=True)
    response = web.post(BASE + path, {"api_key": "x"})
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert response["Content-Type"].startswith("application/json")
    assert js(response)[0]["code"] == 405


# --- formats and methods -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["services.html", "services/0601.csv", "requests.yaml", "tokens/abc.txt", "nothing.xml", ""],
)
def test_unknown_formats_and_paths_answer_404_in_xml(client, db, path):
    assert_error(client.get(BASE + path), 404, "xml")


def test_an_unknown_format_in_a_post_answers_404(client, app, tree):
    assert_error(post(client, "html"), 404, "xml")
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "method,path",
    [
        ("post", "services.xml"),
        ("put", "requests.json"),
        ("delete", "requests.xml"),
        ("post", "services/0601.json"),
        ("post", "tokens/abc.json"),
        ("patch", "servicerequestupdates.json"),
    ],
)
def test_a_wrong_method_answers_405_with_an_error_document(client, db, method, path):
    response = getattr(client, method)(BASE + path)
    fmt = path.rsplit(".", 1)[1]
    assert_error(response, 405, fmt)
    assert "GET" in response["Allow"]


def test_head_is_answered_like_get(client, db):
    assert client.head(f"{BASE}services.json").status_code == 200


def test_a_grid_without_boundary_does_not_stop_a_report(client, app, tree):
    Node.objects.filter(pk=tree["grid_a"].pk).update(boundary=None)
    geo.clear_cache()
    assert post(client).status_code == 200
    assert Case.objects.get().grid == tree["county"]


def test_a_patrol_case_is_published_without_its_reporter(client, grid_a_worker, tree, street_light):
    case = services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": street_light,
            "description": "巡查发现路灯不亮。",
            "grid": tree["grid_a"],
            "reporter_name": "王大妈",
            "reporter_phone": "13812345678",
            "channel": "patrol",
        },
    )
    response = client.get(f"{BASE}requests.json")
    assert [r["service_request_id"] for r in js(response)] == [case.number]
    assert (
        "王大妈" not in response.content.decode() and "13812345678" not in response.content.decode()
    )


def test_without_a_phone_the_notice_promises_no_lookup_by_its_digits(client, app, tree):
    [answer] = js(post(client))
    assert answer["service_notice"] == f"已受理，案件编号 {answer['service_request_id']}。"


def test_a_report_before_any_place_exists_is_refused_not_a_server_error(client, app):
    response = post(client)
    assert response.status_code == 400
    assert "网格" in response.content.decode()


# --- what is never published -------------------------------------------------------------------


def test_only_the_public_space_classes_are_public_after_the_migration(db):
    public = set(Category.objects.filter(published=True).values_list("code", flat=True))
    assert {"01", "0101", "0302", "0601", "0604"} <= public
    assert {"07", "0701", "0702", "0706", "99"}.isdisjoint(public)


def test_a_patrol_case_of_a_private_category_is_never_published(
    client, grid_a_worker, tree, street_light
):
    """A patrol records a neighbours' quarrel as well as a street light: the quarrel stays in."""
    quarrel = services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": Category.objects.get(code="0701"),
            "description": "两户邻居因漏水发生争吵，解放路123号。",
            "grid": tree["grid_a"],
            "address": "解放路123号",
            "channel": "patrol",
        },
    )
    light = services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": street_light,
            "description": "巡查发现路灯不亮。",
            "grid": tree["grid_a"],
            "channel": "patrol",
        },
    )
    services.case_act(acting_user=grid_a_worker, case=quarrel, action="take")
    listed = client.get(f"{BASE}requests.json")
    assert [r["service_request_id"] for r in js(listed)] == [light.number]
    assert "解放路123号" not in listed.content.decode()
    assert_error(client.get(f"{BASE}requests/{quarrel.number}.json"), 404)
    updates = js(client.get(f"{BASE}servicerequestupdates.json"))
    assert updates and {u["service_request_id"] for u in updates} == {light.number}

    # Marked public in the admin, the same case is listed.
    Category.objects.filter(code="0701").update(published=True)
    listed = {r["service_request_id"] for r in js(client.get(f"{BASE}requests.json"))}
    assert listed == {light.number, quarrel.number}


def test_a_residents_request_for_help_is_filed_and_only_its_app_reads_it(client, app, tree):
    response = post(client, service_code="0702", description="独居老人腿脚不便，需要帮助买菜。")
    assert response.status_code == 200
    case = Case.objects.get(number=js(response)[0]["service_request_id"])
    assert case.category.code == "0702" and case.channel == Channel.ONLINE
    assert js(client.get(f"{BASE}requests.json")) == []
    assert_error(client.get(f"{BASE}requests/{case.number}.xml"), 404, "xml")
    # The app that sent it reads it with its key (as a 12345 platform follows its reports).
    assert_error(client.get(f"{BASE}tokens/{case.token}.json"), 404)
    assert js(client.get(f"{BASE}tokens/{case.token}.json", {"api_key": RAW_KEY})) == [
        {"service_request_id": case.number, "token": case.token}
    ]
    mine = js(client.get(f"{BASE}requests.json?api_key={RAW_KEY}"))
    assert [r["service_request_id"] for r in mine] == [case.number]


def test_the_case_page_says_whether_the_case_is_public(client, grid_a_worker, tree, street_light):
    def accept(category):
        return services.case_accept(
            acting_user=grid_a_worker,
            data={
                "category": category,
                "description": "巡查发现。",
                "grid": tree["grid_a"],
                "channel": "patrol",
            },
        )

    light, quarrel = accept(street_light), accept(Category.objects.get(code="0701"))
    client.force_login(grid_a_worker)
    assert 'id="published"' in client.get(f"/cases/{light.number}/").content.decode()
    assert 'id="published"' not in client.get(f"/cases/{quarrel.number}/").content.decode()
