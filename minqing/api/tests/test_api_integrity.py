"""What the API accepted that no page would, found by fuzzing a running server (stop 29)."""

import json

from minqing.accounts.models import ApiToken
from minqing.registry.models import Household, Person

GRID_A = "330188001001001"


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user=user, name="integrity")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def send(client, method: str, url: str, body, auth: dict):
    return getattr(client, method)(
        url, data=json.dumps(body), content_type="application/json", **auth
    )


def test_a_person_takes_only_the_choices_the_form_offers(client, grid_a_worker, tree):
    auth = bearer(grid_a_worker)
    body = {"name": "王测", "grid_code": GRID_A, "employment": "NaN", "health": "Infinity",
            "relation": "bogus"}  # fmt: skip
    r = send(client, "post", "/api/people", body, auth)
    assert r.status_code == 400, r.content
    errors = r.json()["errors"]
    assert set(errors) == {"employment", "health", "relation"}
    assert "“NaN”不是可选的值" in errors["employment"][0]
    assert not Person.objects.filter(name="王测").exists()
    r = send(client, "post", "/api/people", {"name": "王测", "grid_code": GRID_A,
             "employment": "employed", "relation": ""}, auth)  # fmt: skip
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = send(client, "patch", f"/api/people/{pk}", {"health": "-1"}, auth)
    assert r.status_code == 400 and set(r.json()["errors"]) == {"health"}
    assert Person.objects.get(pk=pk).health == "good"
    # English too.
    r = send(client, "patch", f"/api/people/{pk}", {"relation": "x"}, {**auth,
             "HTTP_ACCEPT_LANGUAGE": "en"})  # fmt: skip
    assert r.status_code == 400 and "is not one of the choices" in r.json()["errors"]["relation"][0]


def test_a_household_takes_only_the_choices_the_form_offers(client, grid_a_worker, tree):
    auth = bearer(grid_a_worker)
    body = {"address": "东门路9号", "grid_code": GRID_A, "housing": "castle"}
    r = send(client, "post", "/api/households", body, auth)
    assert r.status_code in (400, 422), r.content
    assert "housing" in r.json()["errors"]
    assert not Household.objects.filter(address="东门路9号").exists()


def test_every_schema_of_the_api_has_a_name_of_its_own(client):
    """QA: classes of the same name in two modules (DayIn of duties and of reception,
    HandoverIn of cases and of assistance …) became one entry of /api/openapi.json, so the
    schema told clients the wrong body for half of them."""
    import importlib
    import inspect
    import pkgutil

    from ninja import Schema

    import minqing.api

    seen: dict[str, str] = {}
    for info in pkgutil.iter_modules(minqing.api.__path__):
        module = importlib.import_module(f"minqing.api.{info.name}")
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Schema)
                and obj.__module__ == module.__name__
            ):
                if name == "PageParams":  # query parameters: spread into each operation
                    continue
                assert name not in seen, f"{name} in {seen.get(name)} and {module.__name__}"
                seen[name] = module.__name__
    schema = client.get("/api/openapi.json").json()
    components = schema["components"]["schemas"]
    body = schema["paths"]["/api/cases/handover/"]["post"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"holder", "successor"} <= set(components[ref]["properties"])
    body = schema["paths"]["/api/duties/days"]["post"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "community_code" in components[ref]["properties"]


def test_a_write_without_a_valid_token_or_session_answers_401_not_a_csrf_error(grid_a_worker, tree):
    """QA: POST with a revoked token, or with nothing, answered 403 "CSRF check Failed" (in
    English whatever the language) where a GET answered 401. A signed-in browser that forgot
    the CSRF token still gets a 403, saying so in its language."""
    from django.test import Client

    web = Client(enforce_csrf_checks=True)
    url = "/api/notifications/read-all"
    for headers in ({"HTTP_AUTHORIZATION": "Bearer mq_revoked"}, {}):
        r = web.post(url, data="{}", content_type="application/json", **headers)
        assert r.status_code == 401, (headers, r.content)
        assert "CSRF" not in r.json()["detail"]
    web.force_login(grid_a_worker)
    r = web.post(url, data="{}", content_type="application/json")
    assert r.status_code == 403 and r.json()["detail"].startswith("CSRF 校验失败")
    r = web.post(url, data="{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 403 and r.json()["detail"].startswith("CSRF check failed")
    # A token wins over the session's missing CSRF token; a wrong one is not rescued by it.
    r = web.post(url, data="{}", content_type="application/json", **bearer(grid_a_worker))
    assert r.status_code == 200, r.content
    r = web.post(url, data="{}", content_type="application/json",
                 HTTP_AUTHORIZATION="Bearer mq_wrong")  # fmt: skip
    assert r.status_code == 401


def test_a_body_that_is_not_an_object_is_refused_not_read_as_an_empty_patch(
    client, grid_a_worker, tree, household_a
):
    auth = bearer(grid_a_worker)
    r = send(client, "post", "/api/people", {"name": "王测", "grid_code": GRID_A}, auth)
    pk = r.json()["id"]
    for body in ([1, 2], None, 1, "x", [{"name": "y"}]):
        r = send(client, "patch", f"/api/people/{pk}", body, auth)
        assert r.status_code == 422, (body, r.content)
        assert "JSON 对象" in str(r.json()), r.content
    assert Person.objects.get(pk=pk).name == "王测"
    r = send(client, "patch", f"/api/households/{household_a.pk}", [], auth)
    assert r.status_code == 422


def test_what_the_first_middleware_refuses_is_told_in_the_callers_shape(client, db, settings):
    """QA: a NUL in a query, or a form with more fields than Django reads, answered text or
    Django's HTML 400 page on /api/ and /open311/, where clients read JSON or an Open311
    error document."""
    r = client.get("/api/people?q=a%00b")
    assert r.status_code == 400 and r["Content-Type"].startswith("application/json")
    assert "NUL" in r.json()["detail"]
    r = client.get("/api/people?q=a%00b", HTTP_ACCEPT_LANGUAGE="en")
    assert r.json()["detail"].startswith("The request contains a character")
    r = client.get("/open311/v2/requests.json?status=open%00")
    assert r.status_code == 400 and r.json()[0]["code"] == 400
    r = client.get("/open311/v2/requests.xml?status=open%00")
    assert r.status_code == 400 and b"<errors>" in r.content
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    body = "&".join(f"f{i}=x" for i in range(10))
    r = client.post("/open311/v2/requests.json", body,
                    content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert r.status_code == 400 and "too large" in r.json()[0]["description"]
    r = client.post("/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400


def test_a_method_the_api_does_not_take_answers_json_in_the_callers_language(client, grid_a_worker):
    auth = bearer(grid_a_worker)
    r = client.put("/api/people", data="{}", content_type="application/json", **auth)
    assert r.status_code == 405 and r["Content-Type"].startswith("application/json")
    assert r.json()["detail"] == "不支持 PUT 请求。" and "GET" in r["Allow"]
    r = client.put("/api/people", data="{}", content_type="application/json",
                   HTTP_ACCEPT_LANGUAGE="en", **auth)  # fmt: skip
    assert r.json()["detail"] == "PUT is not allowed here."


def test_an_upload_that_is_not_multipart_answers_json(client, grid_a_worker):
    auth = bearer(grid_a_worker)
    r = client.generic("POST", "/api/imports/", b"--x\r\nnot really\r\n",
                       content_type="multipart/form-data", **auth)  # fmt: skip
    assert r.status_code == 400 and r["Content-Type"].startswith("application/json")
    assert "multipart/form-data" in r.json()["detail"]


def test_a_bad_value_stored_before_does_not_block_an_edit_of_another_field(
    client, grid_a_worker, tree
):
    auth = bearer(grid_a_worker)
    r = send(client, "post", "/api/people", {"name": "王测", "grid_code": GRID_A}, auth)
    pk = r.json()["id"]
    Person.objects.filter(pk=pk).update(employment="NaN")  # stored by the old API
    r = send(client, "patch", f"/api/people/{pk}", {"phone": "13812345678"}, auth)
    assert r.status_code == 200, r.content
    r = send(client, "patch", f"/api/people/{pk}", {"employment": "bogus"}, auth)
    assert r.status_code == 400 and set(r.json()["errors"]) == {"employment"}


def test_a_registered_id_number_cannot_be_wiped_through_the_api(client, grid_a_worker, tree):
    """QA (privacy): PATCH id_number "" or null emptied it; the record then showed its birth
    date in clear — with the masked number's first six and last four, the whole number,
    without a reveal. A number is corrected by a new one, never wiped."""
    from conftest import valid_id

    auth = bearer(grid_a_worker)
    number = valid_id(7)
    r = send(client, "post", "/api/people", {"name": "王测", "grid_code": GRID_A,
             "id_number": number}, auth)  # fmt: skip
    pk = r.json()["id"]
    for empty in ("", None):
        r = send(client, "patch", f"/api/people/{pk}", {"id_number": empty}, auth)
        assert r.status_code == 400 and set(r.json()["errors"]) == {"id_number"}, r.content
    person = Person.objects.get(pk=pk)
    assert person.id_number == number
    assert "**" in client.get(f"/api/people/{pk}", **auth).json()["id_number_masked"]
