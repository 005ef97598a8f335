"""Error pages in the product's own look and language, never Django's bare English ones."""

from django.test import RequestFactory
from django.views.defaults import bad_request, server_error


def test_not_found_and_forbidden_pages_have_the_header_and_say_why(client, grid_a_worker):
    client.force_login(grid_a_worker)
    missing = client.get("/households/999999/")
    html = missing.content.decode()
    assert missing.status_code == 404 and "页面不存在" in html and "不在您的管辖范围内" in html
    assert 'class="top"' in html and "Not Found" not in html
    forbidden = client.get("/audit/")
    assert forbidden.status_code == 403 and "没有权限" in forbidden.content.decode()
    english = client.get("/households/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 404


def test_an_anonymous_visitor_gets_the_same_not_found_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


def test_server_error_and_bad_request_pages_need_no_context(db):
    request = RequestFactory().get("/")
    for view, status in ((server_error, 500), (bad_request, 400)):
        response = view(request) if view is server_error else view(request, Exception())
        html = response.content.decode()
        assert response.status_code == status and "返回首页" in html and 'lang="en"' in html
