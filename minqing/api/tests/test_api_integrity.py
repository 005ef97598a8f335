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
