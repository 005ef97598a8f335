"""A request the API's schema refuses answers 422 in the shape and language of the services'
400s: {"detail": "输入有误", "errors": {field: [reason]}}, not pydantic's English list."""

from minqing.accounts.models import ApiToken

JSON = "application/json"


def _auth(user) -> dict:
    _token, raw = ApiToken.issue(user=user, name="测试")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_word_where_a_number_goes_is_explained_per_field(client, grid_a_worker):
    r = client.get("/api/visits/due", {"lat": "北", "lng": 0}, **_auth(grid_a_worker))
    assert r.status_code == 422
    assert r.json() == {"detail": "输入有误", "errors": {"lat": ["应为数字。"]}}


def test_a_missing_field_of_a_body_is_named(client, grid_a_worker):
    r = client.post("/api/people", {}, content_type=JSON, **_auth(grid_a_worker))
    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "输入有误" and body["errors"]["name"] == ["必填。"]


def test_the_reasons_follow_the_readers_language(client, grid_a_worker):
    auth = _auth(grid_a_worker)
    r = client.get("/api/visits/due", {"lat": 91, "lng": 0}, HTTP_ACCEPT_LANGUAGE="en", **auth)
    assert r.status_code == 422
    assert r.json()["errors"] == {"lat": ["Out of the allowed range."]}


def test_a_body_that_is_not_json_is_said_so(client, grid_a_worker):
    r = client.post("/api/people", "{not json", content_type=JSON, **_auth(grid_a_worker))
    assert r.status_code == 400
    assert r.json() == {"detail": "请求内容无法解析：应为有效的 JSON（或表单）。", "errors": {}}


def test_not_found_and_unauthorized_speak_the_callers_language(client, grid_a_worker):
    assert client.get("/api/people/1").json() == {
        "detail": "请先登录，或在 Authorization 中提供有效的令牌（Bearer）。"
    }
    english = client.get("/api/people/1", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert english.startswith("Sign in first")
    client.force_login(grid_a_worker)
    missing = client.get("/api/people/999999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "未找到：不存在，或不在您的管辖范围内。"}
    assert (
        client.get("/api/people/999999", HTTP_ACCEPT_LANGUAGE="en")
        .json()["detail"]
        .startswith("Not found")
    )
