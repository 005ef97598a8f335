"""A staff account's admin forms offer, accept and name only records of its own area."""

import pytest
from django.contrib.auth.models import Permission

from minqing.core.tests.test_admin_audit import form_of, staff
from minqing.duties.models import DutyLink, DutyRule
from minqing.registry.models import HouseholdNeed


@pytest.fixture
def back_office(client, grid_b_worker):
    """QA's account: grid B's worker made staff with every permission outside accounts."""
    staff(grid_b_worker, Permission.objects.exclude(
        content_type__app_label__in=["accounts", "auth", "axes", "sessions", "admin"]))  # fmt: skip
    client.force_login(grid_b_worker)
    return grid_b_worker


def test_a_need_cannot_be_filed_on_another_grids_household_nor_under_another_name(
    client, back_office, household_a, grid_a_worker, tree
):
    """QA: the need form listed every household of the county and saved a need on grid A's
    household "by" a grid worker chosen from every user."""
    data = {
        "household": str(household_a.pk),
        "kind": "need",
        "category": "测试",
        "description": "x",
        "status": "open",
        "created_by": str(grid_a_worker.pk),
    }
    page = client.get("/admin/registry/householdneed/add/").content.decode()
    assert household_a.address not in page
    response = client.post("/admin/registry/householdneed/add/", data)
    assert response.status_code == 200
    assert "请选择您辖区内的记录" in response.content.decode()
    assert not HouseholdNeed.objects.exists()


def test_a_duty_link_cannot_open_another_grids_household_to_a_staff_account(
    client, back_office, household_a, zhang_san, tree
):
    """QA: a duty holder added with a link to grid A's household (a raw id typed in) opened the
    household's file, members and all, to the staff account that linked itself."""
    rule = DutyRule.objects.first()
    data = {
        "user": str(back_office.pk),
        "rule": str(rule.pk),
        "unit": "社区",
        "position": "网格员",
        "node": str(tree["grid_b"].pk),
        "active_from": "2026-01-01",
        "links-TOTAL_FORMS": "1",
        "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "1000",
        "links-0-kind": "household",
        "links-0-household": str(household_a.pk),
        "links-0-started_on": "2026-11-01",
    }
    response = client.post("/admin/duties/dutyholder/add/", data)
    assert response.status_code == 200, response.status_code
    assert "请选择您辖区内的记录" in response.content.decode()
    assert not DutyLink.objects.exists()
    assert client.get(f"/households/{household_a.pk}/").status_code == 404
    data = {"holder": "", "kind": "target", "person": str(zhang_san.pk), "started_on": "2026-11-01"}
    client.post("/admin/duties/dutylink/add/", data)
    assert not DutyLink.objects.exists()


def test_a_raw_id_names_only_a_record_of_the_editors_area(
    client, back_office, household_a, zhang_san, tree
):
    """QA: /admin/…/add/?household=1&person=1 printed the household's head and address and the
    person's name beside the box: counting the id up listed the county."""
    url = f"/admin/duties/dutylink/add/?household={household_a.pk}&person={zhang_san.pk}"
    page = client.get(url).content.decode()
    assert zhang_san.name not in page and household_a.address not in page
    page = client.get(f"/admin/registry/place/add/?grid={tree['grid_a'].pk}").content.decode()
    assert tree["grid_a"].name not in page
    page = client.get(f"/admin/registry/place/add/?grid={tree['grid_b'].pk}").content.decode()
    assert tree["grid_b"].name in page


def test_who_made_a_record_is_not_chosen_in_a_form(client, back_office, tree):
    form = form_of(client, "/admin/registry/place/add/")
    assert "created_by" not in form


COUNTY_SETTINGS = [
    "cases/unit",
    "cases/category",
    "cases/timelimit",
    "cases/escalationrule",
    "cases/zoninglayer",
    "cases/open311client",
    "cases/open311intake",
    "registry/tag",
    "visits/visitclass",
    "assistance/programme",
    "duties/dutyrule",
    "core/workdayoverride",
]


def test_county_wide_settings_are_not_a_grid_staff_accounts(
    client, back_office, county_officer, tree
):
    """QA: a grid worker's staff account joined a department (Unit.members) and its case list
    went from 134 to 442 cases across the county; it could also edit categories, time limits,
    care groups (a sensitive one made visible) and Open311 clients."""
    from minqing.cases.models import Unit

    unit = Unit.objects.create(code="cg", name="城管执法", node=tree["county"])
    for name in COUNTY_SETTINGS:
        assert client.get(f"/admin/{name}/").status_code == 403, name
    assert client.get(f"/admin/cases/unit/{unit.pk}/change/").status_code in (302, 403)
    client.post(
        f"/admin/cases/unit/{unit.pk}/change/", {"name": unit.name, "members": [back_office.pk]}
    )
    assert not unit.members.filter(pk=back_office.pk).exists()
    index = client.get("/admin/").content.decode()
    assert "/admin/cases/unit/" not in index

    staff(county_officer, back_office.user_permissions.all())
    client.force_login(county_officer)
    for name in COUNTY_SETTINGS:
        assert client.get(f"/admin/{name}/").status_code == 200, name


def test_every_admin_page_says_whose_it_is():
    """Each admin is scoped by the tree, county-wide, or the superuser's: a new one that is
    none of these would open the county to any staff account with the model permission."""
    from django.contrib import admin

    from minqing.accounts.admin import SuperuserOnly
    from minqing.core.admin import CountyWide, ImportBatchAdmin, ScopedAdmin
    from minqing.grids.admin import NodeAdmin

    own_rules = (ImportBatchAdmin, NodeAdmin)  # one's own imports; the nodes one sees
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, (ScopedAdmin, CountyWide, SuperuserOnly, *own_rules)), model


def test_a_node_is_not_added_under_another_area(client, back_office, tree):
    from minqing.grids.models import Node

    data = {"name": "新网格", "level": "grid", "code": tree["grid_a"].code[:-3] + "099",
            "parent": str(tree["community"].pk)}  # fmt: skip
    response = client.post("/admin/grids/node/add/", data)
    assert response.status_code == 200 and "请选择您辖区内的区划" in response.content.decode()
    assert not Node.objects.filter(name="新网格").exists()


def test_a_grid_team_with_its_communitys_secretary_saves_unchanged(
    client, back_office, community_worker, grid_a_worker, tree
):
    """QA: the grid's team form refused its own member row, the community's secretary, as
    outside the area; a grid worker of the next grid stays outside it."""
    from minqing.accounts.models import MemberKind, ServiceTeam, TeamMember
    from minqing.core.tests.test_admin_audit import saved

    back_office.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="accounts", codename__regex="(serviceteam|teammember)$"))  # fmt: skip
    team = ServiceTeam.objects.create(node=tree["grid_b"], name="第2网格组团")
    TeamMember.objects.create(team=team, user=community_worker, name="社区书记",
                              kind=MemberKind.COMMITTEE)  # fmt: skip
    url = f"/admin/accounts/serviceteam/{team.pk}/change/"
    saved(client, url, form_of(client, url))
    data = form_of(client, url)
    data["members-0-user"] = str(grid_a_worker.pk)
    response = client.post(url, data)
    assert response.status_code == 200 and "请选择您辖区内的记录" in response.content.decode()


def test_an_unchanged_save_keeps_what_the_record_has_from_elsewhere(
    client, back_office, county_officer, tree
):
    """Review: a group's helpers registered in another area were not offered, so an unchanged
    save dropped them (and took them off the group's pairings); a county officer could not
    keep a department's account (no role assignment) as a helper's user."""
    from minqing.accounts.models import User
    from minqing.assistance.models import Helper, HelperGroup, HelperKind, Programme
    from minqing.core.tests.test_admin_audit import saved

    here = Helper.objects.create(
        kind=HelperKind.VOLUNTEER, name="本网格志愿者", node=tree["grid_b"]
    )
    there = Helper.objects.create(
        kind=HelperKind.VOLUNTEER, name="外街道志愿者", node=tree["grid_c"]
    )
    group = HelperGroup.objects.create(
        programme=Programme.objects.get(code="group"), name="第二帮扶小组", node=tree["grid_b"]
    )
    group.members.set([here, there])
    url = f"/admin/assistance/helpergroup/{group.pk}/change/"
    saved(client, url, form_of(client, url))
    assert set(group.members.all()) == {here, there}
    # A new choice from elsewhere is still refused.
    other = Helper.objects.create(kind=HelperKind.VOLUNTEER, name="又一外人", node=tree["grid_c"])
    data = form_of(client, url)
    data["members"] = [str(here.pk), str(there.pk), str(other.pk)]
    assert "请选择您辖区内的记录" in client.post(url, data).content.decode()

    department = User.objects.create_user(username="cg_member", password="x-9-x-9-x-9")
    helper = Helper.objects.create(
        kind=HelperKind.CADRE, user=department, name="城管队员", node=tree["county"]
    )
    staff(county_officer, back_office.user_permissions.all())
    client.force_login(county_officer)
    url = f"/admin/assistance/helper/{helper.pk}/change/"
    saved(client, url, form_of(client, url))
    helper.refresh_from_db()
    assert helper.user == department
