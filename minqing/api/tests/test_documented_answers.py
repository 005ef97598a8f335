"""What the API answers is what /api/openapi.json says it answers (QA ran schemathesis over
all operations: 401, 422, a CSRF 403 and 405 came back from operations that listed none)."""

import json

from django.test import Client

from minqing.accounts.models import ApiToken

JSON = "application/json"
UNSAFE = {"post", "put", "patch", "delete"}


def _auth(user) -> dict:
    _token, raw = ApiToken.issue(user=user, name="测试")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def conforms(value, spec: dict, components: dict) -> bool:
    """Enough of JSON Schema for the API's error bodies: $ref, object, array, string."""
    if "$ref" in spec:
        return conforms(value, components[spec["$ref"].rsplit("/", 1)[1]], components)
    kind = spec.get("type")
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list) and all(
            conforms(v, spec.get("items", {}), components) for v in value
        )
    if kind == "object":
        if not isinstance(value, dict) or not set(spec.get("required", ())) <= set(value):
            return False
        props, extra = spec.get("properties", {}), spec.get("additionalProperties", {})
        return all(
            conforms(v, props[k] if k in props else extra, components)
            for k, v in value.items()
            if k in props or isinstance(extra, dict)
        )
    return True


def documented(schema: dict, path: str, method: str, status: int) -> dict:
    answers = schema["paths"][path][method]["responses"]
    assert str(status) in answers, (method, path, status, sorted(answers))
    return answers[str(status)]["content"][JSON]["schema"]


def test_every_operation_documents_the_answers_any_request_may_get(client):
    schema = client.get("/api/openapi.json").json()
    operations = list(_operations(schema))
    assert len(operations) >= 100
    for path, method, _operation in operations:
        for status in (401, 405, 422) + ((403,) if method in UNSAFE else ()):
            documented(schema, path, method, status)
        assert documented(schema, path, method, 422) == {
            "$ref": "#/components/schemas/FieldErrorsOut"
        }
    # the ones QA met
    for path, method in (
        ("/api/visits/diary/{pk}", "delete"),
        ("/api/notifications/{pk}/read", "post"),
        ("/api/notifications/read-all", "post"),
    ):
        documented(schema, path, method, 403)


def test_the_answers_given_fit_the_documented_schemas(client, grid_a_worker):
    schema = client.get("/api/openapi.json").json()
    components = schema["components"]["schemas"]
    # 401: no credentials, and a token that is nobody's
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer mq_nobody"}):
        r = client.get("/api/people", **headers)
        assert r.status_code == 401
        assert conforms(r.json(), documented(schema, "/api/people", "get", 401), components)
    # 422: a word where a number goes, a body missing its fields
    auth = _auth(grid_a_worker)
    r = client.get("/api/visits/due", {"lat": "北", "lng": 0}, **auth)
    assert r.status_code == 422
    assert conforms(r.json(), documented(schema, "/api/visits/due", "get", 422), components)
    r = client.post("/api/people", {}, content_type=JSON, **auth)
    assert r.status_code == 422
    assert conforms(r.json(), documented(schema, "/api/people", "post", 422), components)
    assert not conforms(
        {"detail": "输入有误"}, documented(schema, "/api/people", "post", 422), components
    )
    # 403: a signed-in browser's write without its CSRF token
    web = Client(enforce_csrf_checks=True)
    web.force_login(grid_a_worker)
    r = web.delete("/api/visits/diary/1")
    assert r.status_code == 403, r.content
    assert conforms(
        r.json(), documented(schema, "/api/visits/diary/{pk}", "delete", 403), components
    )
    # 405: a method the address does not take
    r = client.put("/api/people", json.dumps({}), content_type=JSON, **auth)
    assert r.status_code == 405
    assert conforms(r.json(), documented(schema, "/api/people", "get", 405), components)


def test_every_400_has_the_documented_shape(client, grid_a_worker):
    """A body that cannot be read, or a NUL in the query string, answered 400 without `errors`,
    which every operation's documented 400 (FieldErrorsOut) requires; list operations
    documented no 400 at all."""
    schema = client.get("/api/openapi.json").json()
    components = schema["components"]["schemas"]
    for path, method, _operation in _operations(schema):
        assert documented(schema, path, method, 400) == {
            "$ref": "#/components/schemas/FieldErrorsOut"
        }, (method, path)
    auth = _auth(grid_a_worker)
    for body in ("\x00", "Μ", "{"):
        r = client.post("/api/people", body, content_type=JSON, **auth)
        assert r.status_code == 400, (body, r.content)
        assert r.json()["errors"] == {}
        assert conforms(r.json(), documented(schema, "/api/people", "post", 400), components)
    r = client.get("/api/cases/?q=a%00", **auth)
    assert r.status_code == 400
    assert r.json()["errors"] == {}
    assert conforms(r.json(), documented(schema, "/api/cases/", "get", 400), components)


def test_an_address_under_api_that_no_operation_takes_answers_json(client, grid_a_worker):
    """A path parameter that is not a whole number fell through `{int:pk}` to the site's HTML
    404 page, whatever the Accept header; so did any unknown address under /api/."""
    auth = {**_auth(grid_a_worker), "HTTP_ACCEPT": JSON}
    for path in ("/api/people/-1", "/api/people/abc", "/api/people/1.5", "/api/nope", "/api/"):
        r = client.get(path, **auth)
        assert r.status_code == 404, path
        assert r["Content-Type"] == JSON, path
        assert r.json() == {"detail": "未找到：不存在，或不在您的管辖范围内。"}
    r = client.get("/api/households/abc/members", HTTP_ACCEPT_LANGUAGE="en", **auth)
    assert r.json()["detail"].startswith("Not found")
    # a browser's POST with no CSRF token is told the same, not given the CSRF page
    web = Client(enforce_csrf_checks=True)
    web.force_login(grid_a_worker)
    r = web.post("/api/people/-1/reveal", "{}", content_type=JSON)
    assert r.status_code == 404 and r["Content-Type"] == JSON


def test_the_schema_takes_only_reads_and_says_so_in_json(client):
    """POST /api/openapi.json answered Django's HTML CSRF page (403)."""
    web = Client(enforce_csrf_checks=True)
    for path in ("/api/openapi.json", "/api/docs"):
        r = web.post(path, "{}", content_type=JSON)
        assert r.status_code == 405, path
        assert r["Content-Type"] == JSON and "detail" in r.json()
        assert "GET" in r["Allow"]
    assert web.get("/api/openapi.json").status_code == 200
    assert web.get("/api/docs").status_code == 200
