"""A sensitive care group (重点人员) is as private as an ID number: users without the reveal
right (a community worker, a cadre) never see it — not on pages, filters, the home counts,
exports, ledgers or the API — and saving a record they edit keeps it."""

import io

import openpyxl
import pytest

from conftest import login
from minqing.registry import services
from minqing.registry.models import Tag, TagTarget


@pytest.fixture
def watched(zhang_san, grid_a_worker):
    tag = Tag.objects.create(name="重点人员X", target=TagTarget.PERSON, sensitive=True, sort=999)
    plain = Tag.objects.get_or_create(name="空巢", defaults={"target": TagTarget.PERSON})[0]
    zhang_san.tags.add(tag, plain)
    return tag


def pages(client, zhang_san) -> dict:
    return {
        "detail": client.get(f"/people/{zhang_san.pk}/").content.decode(),
        "list": client.get("/people/").content.decode(),
        "household": client.get(f"/households/{zhang_san.household_id}/").content.decode(),
        "home": client.get("/").content.decode(),
        "ledgers": client.get("/ledgers/").content.decode(),
    }


def exported(client) -> str:
    r = client.get("/people/export.xlsx")
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content)), read_only=True)
    return " ".join(str(c) for row in book.active.iter_rows(values_only=True) for c in row)


def api_tags(client, zhang_san) -> list:
    return client.get(f"/api/people/{zhang_san.pk}").json()["tags"]


def test_the_grid_worker_with_the_reveal_right_sees_it(client, grid_a_worker, zhang_san, watched):
    login(client, grid_a_worker)
    for name, html in pages(client, zhang_san).items():
        assert "重点人员X" in html, name
    assert "重点人员X" in exported(client)
    assert "重点人员X" in api_tags(client, zhang_san)


def test_a_community_worker_without_it_never_does(client, tree, zhang_san, watched):
    from conftest import _user
    from minqing.accounts.models import Role

    worker = _user("station", Role.COMMUNITY_WORKER, tree["community"])
    login(client, worker)
    for name, html in pages(client, zhang_san).items():
        assert "重点人员X" not in html, name
    assert "空巢" in pages(client, zhang_san)["detail"]
    assert "重点人员X" not in exported(client)
    assert api_tags(client, zhang_san) == ["空巢"]
    assert "重点人员X" not in str(client.get("/api/tags").json())
    assert client.get("/api/people", {"tag": "重点人员X"}).json()["count"] == 0
    # Naming it through the API is naming an unknown group.
    r = client.patch(
        f"/api/people/{zhang_san.pk}", {"tags": ["重点人员X"]}, content_type="application/json"
    )
    assert r.status_code == 400 and "重点人员X" in r.json()["errors"]["tags"][0]
    # Saving the tags they see keeps the one they don't.
    r = client.patch(f"/api/people/{zhang_san.pk}", {"tags": []}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert set(zhang_san.tags.values_list("name", flat=True)) == {"重点人员X"}


def test_the_edit_form_keeps_a_hidden_tag(client, tree, zhang_san, watched):
    from conftest import _user
    from minqing.accounts.models import Role

    worker = _user("station", Role.COMMUNITY_WORKER, tree["community"])
    login(client, worker)
    form = client.get(f"/people/{zhang_san.pk}/edit/")
    assert form.status_code == 200 and "重点人员X" not in form.content.decode()
    services.person_update(acting_user=worker, person=zhang_san, data={"note": "已走访"})
    assert "重点人员X" in set(zhang_san.tags.values_list("name", flat=True))
