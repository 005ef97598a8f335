"""An Open311 client may be a 12345 hotline platform: its reports are 12345 cases, counted and
timed as such and never published by GET, and the platform reads its own with its key."""

import hashlib
from datetime import timedelta

from django.utils import timezone

from minqing.cases.models import Case, Channel, Open311Client
from minqing.cases.tests.test_open311 import BASE, RAW_KEY, assert_error, js, post

OTHER_KEY = "o311_another-client-key-0002"


def _client(name, raw, **extra) -> Open311Client:
    return Open311Client.objects.create(
        name=name, key_digest=hashlib.sha256(raw.encode()).hexdigest(), key_prefix=raw[:8], **extra
    )


def test_a_hotline_platforms_reports_are_12345_cases_it_alone_reads(client, tree):
    hotline = _client("12345热线", RAW_KEY, channel="hotline")
    _client("随手拍", OTHER_KEY)
    response = post(client, phone="13912345678")
    assert response.status_code == 200, response.content
    number = js(response)[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert (case.channel, case.open311_client) == (Channel.HOTLINE, hotline)

    # Not published: without a key, or with another client's, it is not found or listed.
    assert_error(client.get(f"{BASE}requests/{number}.json"), 404)
    assert_error(client.get(f"{BASE}requests/{number}.json", {"api_key": OTHER_KEY}), 404)
    assert number not in [r["service_request_id"] for r in js(client.get(f"{BASE}requests.json"))]
    # The platform reads it, in the list and its updates too.
    mine = {"api_key": RAW_KEY}
    [row] = js(client.get(f"{BASE}requests/{number}.json", mine))
    assert row["service_request_id"] == number and row["status"] == "open"
    listed = js(client.get(f"{BASE}requests.json", mine))
    assert [r["service_request_id"] for r in listed] == [number]
    day = timezone.now()
    span = {"start_date": (day - timedelta(hours=1)).isoformat(),
            "end_date": (day + timedelta(hours=1)).isoformat()}  # fmt: skip
    updates = js(client.get(f"{BASE}servicerequestupdates.json", {**span, **mine}))
    assert number in {u["service_request_id"] for u in updates}
    assert number not in {
        u["service_request_id"] for u in js(client.get(f"{BASE}servicerequestupdates.json", span))
    }
    # A key that is no client's reads what anyone reads (the key is optional on a GET).
    assert js(client.get(f"{BASE}requests.json", {"api_key": "o311_nope"})) == []


def test_an_app_stays_on_the_online_channel_and_published(client, tree):
    app = _client("随手拍", RAW_KEY)
    number = js(post(client))[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert (case.channel, case.open311_client) == (Channel.ONLINE, app)
    assert js(client.get(f"{BASE}requests/{number}.json"))[0]["service_request_id"] == number


def test_a_deferred_hotline_report_is_filed_as_12345_for_its_client(client, tree):
    from minqing.cases import intake

    hotline = _client("12345热线", RAW_KEY, channel="hotline", deferred=True)
    token = js(post(client))[0]["token"]
    intake.file_waiting()
    case = Case.objects.get(token=token)
    assert (case.channel, case.open311_client) == (Channel.HOTLINE, hotline)
    [row] = js(client.get(f"{BASE}tokens/{token}.json", {"api_key": RAW_KEY}))
    assert row["service_request_id"] == case.number
    assert_error(client.get(f"{BASE}tokens/{token}.json"), 404)  # not published
