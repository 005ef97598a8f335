"""The JSON API through real HTTP: same scoping, same rules, same errors as the pages."""

import pytest

from conftest import valid_id
from minqing.accounts.models import ApiToken
from minqing.core.models import AuditEntry
from minqing.registry.models import Household, Person


@pytest.fixture
def bearer(grid_a_worker):
    _, raw = ApiToken.issue(user=grid_a_worker, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_the_schema_is_published(client, db):
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/people" in schema["paths"] and "/api/households/{pk}" in schema["paths"]


def test_the_documentation_page_fits_a_phone_and_names_its_language(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/api/docs"})
    page = client.get("/api/docs").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<html lang="en">' in page
    assert "/static/ninja/swagger-ui-bundle.js" in page and 'id="swagger-settings"' in page


def test_lists_answer_items_and_count(client, bearer, zhang_san):
    body = client.get("/api/people", **bearer).json()
    assert body["count"] == 1 and body["items"][0]["id"] == zhang_san.pk
    assert body["items"][0]["id_number_masked"] == "330188********0039"
    body = client.get("/api/households", **bearer).json()
    assert body["count"] == 1 and body["items"][0]["head_name"] == "张三"


@pytest.mark.parametrize("q", ["zhangsan", "zs", "张三", "0039", "5678", "人民路"])
def test_search_by_pinyin_initials_digits_and_address(client, bearer, zhang_san, q):
    assert client.get("/api/people", {"q": q}, **bearer).json()["count"] == 1, q


def test_a_bad_token_is_refused(client, zhang_san):
    assert client.get("/api/people", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_create_update_delete_through_the_api_with_a_token(client, bearer, household_a, tree):
    created = client.post(
        "/api/people",
        {
            "name": "李梅",
            "id_number": valid_id(5, male=False),
            "phone": "13700001234",
            "household_id": household_a.pk,
            "relation": "spouse",
            "tags": ["空巢"],
        },
        content_type="application/json",
        **bearer,
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert created.json()["sex"] == "F" and created.json()["tags"] == ["空巢"]
    patched = client.patch(
        f"/api/people/{pid}", {"phone": "13700004321"}, content_type="application/json", **bearer
    )
    assert patched.status_code == 200 and patched.json()["phone_masked"] == "137****4321"
    history = client.get(f"/api/people/{pid}/history", **bearer).json()
    assert [e["action"] for e in history] == ["update", "create"]
    assert client.delete(f"/api/people/{pid}", **bearer).status_code == 204
    assert not Person.objects.filter(pk=pid).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(pid)).exists()


def test_api_errors_name_the_field_in_chinese(client, bearer, tree):
    bad = client.post(
        "/api/people",
        {
            "name": "王五",
            "id_number": "110105194912310021",
            "phone": "123",
            "grid_code": tree["grid_a"].code,
        },
        content_type="application/json",
        **bearer,
    )
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert "校验位" in errors["id_number"][0] and "电话" in errors["phone"][0]
    outside = client.post(
        "/api/households",
        {"address": "x路1号", "grid_code": tree["grid_b"].code},
        content_type="application/json",
        **bearer,
    )
    assert outside.status_code == 400 and "管辖范围" in outside.json()["errors"]["grid_code"][0]
    assert not Person.objects.exists() and not Household.objects.exists()


def test_reveal_through_the_api_is_audited(client, bearer, zhang_san):
    no_reason = client.post(
        f"/api/people/{zhang_san.pk}/reveal",
        {"field": "phone", "reason": " "},
        content_type="application/json",
        **bearer,
    )
    assert no_reason.status_code == 400
    shown = client.post(
        f"/api/people/{zhang_san.pk}/reveal",
        {"field": "phone", "reason": "电话回访"},
        content_type="application/json",
        **bearer,
    )
    assert shown.json() == {"field": "phone", "value": "13812345678"}
    assert AuditEntry.objects.filter(action="reveal", reason="电话回访").count() == 1


def test_session_writes_need_the_csrf_token(grid_a_worker, tree):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(grid_a_worker)
    response = strict.post(
        "/api/households",
        {"address": "x路1号", "grid_code": tree["grid_a"].code},
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    assert not Household.objects.exists()


def test_nodes_are_scoped(client, bearer, tree):
    codes = {
        n["code"] for n in client.get("/api/nodes", {"page_size": 200}, **bearer).json()["items"]
    }
    assert codes == {tree["grid_a"].code, tree["building_a"].code}
    assert client.get(f"/api/nodes/{tree['grid_b'].code}", **bearer).status_code == 404
    me = client.get("/api/me", **bearer).json()
    assert (
        me["roles"] == ["grid_worker"]
        and me["home_node"] == tree["grid_a"].code
        and me["can_reveal"]
    )


def test_the_tag_filter_takes_a_name_or_the_id_the_pages_use(client, bearer, zhang_san):
    from minqing.registry.models import Tag

    empty_nest = Tag.objects.get(name="空巢")
    zhang_san.tags.add(empty_nest)
    for value in ("空巢", str(empty_nest.pk)):
        for path in ("/api/people", "/api/households"):
            assert client.get(path, {"tag": value}, **bearer).json()["count"] == 1, (path, value)
    other = Tag.objects.exclude(pk=empty_nest.pk).first()
    assert client.get("/api/people", {"tag": str(other.pk)}, **bearer).json()["count"] == 0
    assert client.get("/api/people", {"tag": "9" * 12}, **bearer).json()["count"] == 0
