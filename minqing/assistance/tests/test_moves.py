"""A household or person moved to another grid takes its pairing, visits and open campaign
places with it (registry.moves), by the form, the API and an import alike."""

import pytest

from minqing.assistance import services as assistance
from minqing.registry import services as registry
from minqing.registry.tests.test_import_support import HEADERS, reasons, run, xlsx
from minqing.visits import services as visits
from minqing.visits.models import CampaignTarget
from minqing.visits.tests.conftest import launched

from .conftest import pair


@pytest.fixture
def on_file(office, cadre_helper, household_a, zhang_san, grid_a_worker, community_worker, tree):
    """household_a (grid A) with a pairing, a visit and a place on an open campaign's list."""
    pairing = pair(office, "cadre", [cadre_helper], household=household_a)
    person_pairing = pair(office, "ribbon", [cadre_helper], person=zhang_san)
    visit = visits.visit_record(
        acting_user=grid_a_worker, household=household_a, data={"seen": "家中整洁"}
    )
    campaign = launched(community_worker, tree["community"], rule="all")
    assert CampaignTarget.objects.filter(campaign=campaign, household=household_a).exists()
    return {
        "pairing": pairing,
        "person_pairing": person_pairing,
        "visit": visit,
        "campaign": campaign,
    }


def _sees(client, user, records) -> dict:
    client.force_login(user)
    return {
        "pairing": client.get(f"/assistance/pairings/{records['pairing'].pk}/").status_code,
        "person_pairing": client.get(
            f"/api/assistance/pairings/{records['person_pairing'].pk}"
        ).status_code,
        "visit": client.get(f"/visits/{records['visit'].pk}/").status_code,
    }


def test_a_household_moved_by_the_api_takes_its_pairings_visits_and_campaign_place(
    client, on_file, household_a, community_worker, grid_a_worker, grid_b_worker, tree
):
    """QA: the pairing stayed with grid A, whose worker still read the members' ages and phones
    on its page; grid B saw "上次走访" on the household but none of its visits; the campaign
    place stayed on grid A's list, where the visit could no longer be recorded."""
    assert _sees(client, grid_b_worker, on_file) == {
        "pairing": 404,
        "person_pairing": 404,
        "visit": 404,
    }
    client.force_login(community_worker)
    response = client.patch(
        f"/api/households/{household_a.pk}",
        {"grid_code": tree["grid_b"].code},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content

    assert _sees(client, grid_b_worker, on_file) == {
        "pairing": 200,
        "person_pairing": 200,
        "visit": 200,
    }
    client.force_login(grid_b_worker)
    assert "家中整洁" in client.get(f"/households/{household_a.pk}/").content.decode()
    targets = client.get(f"/api/visits/campaigns/{on_file['campaign'].pk}/targets").json()
    assert household_a.pk in [t["household"]["id"] for t in targets["items"]], targets
    # Grid A's worker: the household's file is no longer theirs, its visits with it.
    assert _sees(client, grid_a_worker, on_file) == {
        "pairing": 404,
        "person_pairing": 404,
        "visit": 404,
    }
    target = CampaignTarget.objects.get(household=household_a)
    assert target.grid == tree["grid_b"]


def test_a_household_moved_by_an_import_takes_its_pairings_along(
    on_file, household_a, zhang_san, community_worker, tree
):
    row = dict(zip(HEADERS, [""] * len(HEADERS), strict=True))
    row.update(
        {
            "所属网格": tree["grid_b"].code,
            "户号": household_a.number,
            "户主姓名": zhang_san.name,
            "与户主关系": "户主",
            "姓名": zhang_san.name,
            "公民身份号码": zhang_san.id_number,
            "现住址": household_a.address,
        }
    )
    plan = run(community_worker, xlsx(HEADERS, [list(row.values())]))
    assert plan.ok, reasons(plan)
    household_a.refresh_from_db()
    assert household_a.grid == tree["grid_b"]
    for record in ("pairing", "person_pairing", "visit"):
        on_file[record].refresh_from_db()
        assert on_file[record].grid == tree["grid_b"], record


def test_a_person_moved_to_another_household_takes_their_pairing_along(
    on_file, zhang_san, grid_b_worker, community_worker, tree
):
    other = registry.household_create(
        acting_user=grid_b_worker, data={"address": "东门路30号", "grid": tree["grid_b"]}
    )
    registry.person_update(
        acting_user=community_worker, person=zhang_san, data={"household": other}
    )
    on_file["person_pairing"].refresh_from_db()
    on_file["pairing"].refresh_from_db()
    assert on_file["person_pairing"].grid == tree["grid_b"]
    assert on_file["pairing"].grid == tree["grid_a"]  # the household stayed


def test_a_paired_person_or_household_is_not_deleted_with_its_help_log(
    client, office, cadre_helper, household_a, zhang_san, grid_a_worker, tree
):
    """QA: deleting a paired person erased the pairing, its help log and a closed month's sum
    in the 帮扶月报 without a word."""
    from minqing.assistance import services as assistance
    from minqing.assistance.models import HelpEntry, Pairing
    from minqing.registry.models import Person

    pairing = pair(office, "ribbon", [cadre_helper], person=zhang_san)
    assistance.help_entry_add(
        acting_user=office,
        pairing=pairing,
        data={"kind": "living", "amount": "300", "fund_source": "social", "helper": cadre_helper},
    )
    client.force_login(grid_a_worker)
    page = client.post(f"/people/{zhang_san.pk}/delete/", follow=True).content.decode()
    assert "结对帮扶的对象" in page and "不能删除" in page
    response = client.delete(f"/api/people/{zhang_san.pk}")
    assert response.status_code == 400 and "结对帮扶" in str(response.json())
    assert Person.objects.filter(pk=zhang_san.pk).exists()
    assert HelpEntry.objects.filter(pairing=pairing).count() == 1

    # The household, emptied of its members, keeps its own pairing the same way.
    household_pairing = pair(office, "cadre", [cadre_helper], household=household_a)
    Person.objects.filter(pk=zhang_san.pk).update(household=None)
    response = client.delete(f"/api/households/{household_a.pk}")
    assert response.status_code == 400 and "结对帮扶" in str(response.json())
    assert Pairing.objects.filter(pk=household_pairing.pk).exists()


@pytest.fixture
def school_pairing(office, grid_a_worker, tree):
    """A school in grid A paired with a county school (城乡学校结对)."""
    from minqing.assistance.models import HelperKind
    from minqing.registry.models import Place

    school = registry.simple_record_save(
        acting_user=grid_a_worker,
        model=Place,
        data={"name": "东门小学", "kind": "school", "grid": tree["grid_a"]},
    )
    unit = assistance.helper_create(
        acting_user=office,
        data={"kind": HelperKind.UNIT, "name": "县实验小学", "node": tree["county"]},
    )
    return school, pair(office, "school", [unit], place=school)


def test_a_school_moved_on_its_page_or_in_the_admin_takes_its_pairing_along(
    client, school_pairing, admin_user, community_worker, tree
):
    from minqing.core.tests.test_admin_audit import form_of, saved
    from minqing.registry.models import Place

    school, pairing = school_pairing
    registry.simple_record_save(
        acting_user=community_worker, model=Place, instance=school, data={"grid": tree["grid_b"]}
    )
    pairing.refresh_from_db()
    assert pairing.grid == tree["grid_b"]

    client.force_login(admin_user)
    url = f"/admin/registry/place/{school.pk}/change/"
    data = form_of(client, url)
    data.update(grid=str(tree["grid_c"].pk), address="南苑路1号")
    saved(client, url, data)
    pairing.refresh_from_db()
    assert pairing.grid == tree["grid_c"]


def test_a_paired_school_is_not_deleted_with_its_help_log(client, school_pairing, grid_a_worker):
    """QA: DELETE /api/places/1 answered 204 and took the school's pairing and its four help
    entries with it."""
    from minqing.assistance.models import Pairing

    school, pairing = school_pairing
    client.force_login(grid_a_worker)
    response = client.delete(f"/api/places/{school.pk}")
    assert response.status_code == 400 and "结对帮扶" in str(response.json())
    page = client.post(f"/places/{school.pk}/delete/", follow=True).content.decode()
    assert "不能删除" in page
    assert Pairing.objects.filter(pk=pairing.pk).exists()
