"""Open311 answers QA's schemathesis run met: an error document in every case, never an HTML
page or the wrong reason."""

from django.test import Client

from minqing.cases.models import Case
from minqing.cases.tests.test_open311 import BASE, app, assert_error, js, post  # noqa: F401


def test_a_post_to_an_unknown_resource_is_told_404_not_the_csrf_page(db):
    """POST discovery.json with a=b answered Django's HTML CSRF page (403)."""
    web = Client(enforce_csrf_checks=True)
    response = web.post(
        f"{BASE}discovery.json", "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert "resource" in assert_error(response, 404, "json")


def test_an_address_id_comes_back_whole_or_is_refused(client, app, tree):  # noqa: F811
    """One of 200 characters was accepted and came back cut to 195."""
    longest = "A" * 195
    assert post(client, lat=None, long=None, address_id=longest).status_code == 200
    number = Case.objects.get().number
    [row] = js(client.get(f"{BASE}requests/{number}.json"))
    assert row["address_id"] == longest
    response = post(client, lat=None, long=None, address_id="A" * 196)
    assert "address_id" in assert_error(response, 400)
    assert Case.objects.count() == 1


def test_a_multipart_body_cut_short_is_told_so_not_that_the_key_is_missing(client, app, tree):  # noqa: F811
    """--zzz\\r\\nbad with boundary=zzz answered 403 "invalid or missing api_key"."""
    response = client.generic(
        "POST",
        f"{BASE}requests.json",
        b"--zzz\r\nbad",
        content_type="multipart/form-data; boundary=zzz",
    )
    assert "malformed" in assert_error(response, 400)
