"""Back after saving brings the filled form again; sent again it must go to what the first
sending made, not make a second person, household, place or visit (core.forms.once_*)."""

import re

from django.utils import timezone

from conftest import login
from minqing.registry.models import Household, Person, Place
from minqing.visits.models import Visit

ONCE = re.compile(r'name="once" value="([^"]+)"')


def _once(client, url: str) -> str:
    return ONCE.search(client.get(url).content.decode()).group(1)


def _twice(client, url: str, data: dict, model, said: str):
    data = {**data, "once": _once(client, url)}
    first = client.post(url, data)
    assert first.status_code == 302, re.findall(
        r'has-error" id="field-(\w+)"', first.content.decode()
    )
    n = model.objects.count()
    again = client.post(url, data, follow=True)
    assert model.objects.count() == n, url
    assert again.redirect_chain[-1][0] == first["Location"]
    assert said in again.content.decode()
    # A new form is a new record.
    assert client.post(url, {**data, "once": _once(client, url)}).status_code == 302
    assert model.objects.count() == n + 1
    return first


def test_new_people_households_and_places_are_made_once_per_form(client, grid_a_worker, tree):
    login(client, grid_a_worker)
    grid = tree["grid_a"].pk
    said = "这份表单已经保存过，没有重复新增"
    person = {"name": "测试甲", "grid": grid, "health": "good", "disability_grade": "0"}
    _twice(client, "/people/new/", person, Person, said)
    household = {"address": "东门路9号", "grid": grid, "housing": "own", "residence": "permanent"}
    _twice(client, "/households/new/", household, Household, said)
    _twice(
        client,
        "/places/new/",
        {"name": "东门菜场", "kind": "market", "address": "东门路1号", "grid": grid},
        Place,
        said,
    )


def test_a_visit_is_recorded_once_per_form(client, grid_a_worker, zhang_san):
    login(client, grid_a_worker)
    household = zhang_san.household
    when = (timezone.localtime() - timezone.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    data = {"household": household.pk, "visited_at": when, "mode": "home", "seen": "家中整洁。"}
    url = f"/visits/new/?household={household.pk}"
    data = {**data, "once": _once(client, url)}
    first = client.post("/visits/new/", data)
    assert first.status_code == 302 and Visit.objects.count() == 1
    again = client.post("/visits/new/", data, follow=True)
    assert Visit.objects.count() == 1
    assert again.redirect_chain[-1][0] == first["Location"]
    assert "这次走访已经记录过" in again.content.decode()
