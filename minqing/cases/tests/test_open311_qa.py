"""Open311 answers QA's schemathesis run met: an error document in every case, never an HTML
page or the wrong reason."""

from django.test import Client

from minqing.cases.tests.test_open311 import BASE, app, assert_error, js, post  # noqa: F401


def test_a_post_to_an_unknown_resource_is_told_404_not_the_csrf_page(db):
    """POST discovery.json with a=b answered Django's HTML CSRF page (403)."""
    web = Client(enforce_csrf_checks=True)
    response = web.post(
        f"{BASE}discovery.json", "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert "resource" in assert_error(response, 404, "json")
