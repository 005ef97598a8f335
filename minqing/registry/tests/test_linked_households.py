"""A cadre paired with (or duty-linked to) a household reads its file wherever it lives, and
nothing else of that grid: no other household, no edit, no reveal, no change history."""

import pytest

from conftest import login
from minqing.registry.models import Household


@pytest.fixture
def linked(monkeypatch, household_a):
    """Link the cadre to household_a the way the assistance app answers it."""

    def paired(user):
        ids = [household_a.pk] if user.username == "cadre" else []
        return Household.objects.filter(pk__in=ids).values("pk")

    monkeypatch.setattr("minqing.assistance.selectors.linked_household_ids", paired)
    return household_a


def test_a_linked_cadre_reads_the_household_and_its_members(
    client, cadre, linked, zhang_san, household_b_file
):
    login(client, cadre)
    page = client.get(f"/households/{linked.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert zhang_san.name in html
    assert f"/households/{linked.pk}/edit/" not in html
    person = client.get(f"/people/{zhang_san.pk}/")
    assert person.status_code == 200
    assert "/reveal/" not in person.content.decode()
    assert f"/people/{zhang_san.pk}/edit/" not in person.content.decode()
    assert client.get(f"/households/{household_b_file.pk}/").status_code == 404
    assert client.get(f"/households/{linked.pk}/edit/").status_code in (403, 404)


def test_without_the_link_the_cadre_sees_nothing(client, cadre, household_a, zhang_san):
    login(client, cadre)
    assert client.get(f"/households/{household_a.pk}/").status_code == 404
    assert client.get(f"/people/{zhang_san.pk}/").status_code == 404


@pytest.fixture
def household_b_file(grid_b_worker, tree):
    from minqing.registry import services

    return services.household_create(
        acting_user=grid_b_worker, data={"address": "人民路9号", "grid": tree["grid_b"]}
    )


def test_every_link_on_a_linked_cadres_pages_opens(client, cadre, linked, zhang_san):
    """No link to the grid page, the team card or the case form, which are not theirs."""
    import re

    login(client, cadre)
    for url in (f"/households/{linked.pk}/", f"/people/{zhang_san.pk}/"):
        html = client.get(url).content.decode()
        main = html[html.index("<main") :]
        links = set(re.findall(r'href="(/[^"#?]*(?:\?[^"#]*)?)"', main))
        assert links, url
        for link in sorted(links):
            if link.startswith("/static/"):
                continue
            status = client.get(link.replace("&amp;", "&")).status_code
            assert status == 200, (url, link, status)
