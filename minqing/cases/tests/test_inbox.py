"""Inbox edge cases."""

from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.cases import selectors, services, workflow


def test_a_cadre_holds_no_level_and_gets_no_county_cases(county_officer, tree, street_light):
    """A cadre (帮扶干部) is assigned at the county for their pairings and duties, with the
    仅本人 scope: the county's held cases are neither in their inbox nor theirs to act on."""
    cadre = User.objects.create_user(username="cadre", password="x-1-x-1-x", full_name="赵磊")
    RoleAssignment.objects.create(
        user=cadre, role=Role.CADRE, node=tree["county"], data_scope=DataScope.SELF
    )
    case = services.case_accept(
        acting_user=county_officer,
        data={"category": street_light, "description": "路灯不亮。", "grid": tree["grid_a"],
              "channel": "phone"},
    )  # fmt: skip
    assert case.level_node == tree["county"]
    assert selectors.inbox_for(county_officer).filter(pk=case.pk).exists()
    assert not selectors.inbox_for(cadre).filter(pk=case.pk).exists()
    assert not [a for a in workflow.TRANSITIONS if services.can_act(cadre, case, a)]


def test_a_cadres_case_maps_ask_for_no_outline_they_may_not_see(client, tree):
    cadre = User.objects.create_user(username="cadre", password="x-1-x-1-x", full_name="赵磊")
    RoleAssignment.objects.create(
        user=cadre, role=Role.CADRE, node=tree["county"], data_scope=DataScope.SELF
    )
    client.force_login(cadre)
    for url in ("/cases/map/", "/cases/new/"):
        html = client.get(url).content.decode()
        assert 'data-geojson=""' in html, url
    assert client.get(f"/tree/{tree['county'].code}/geojson").status_code == 404


def test_a_dispatcher_whose_custom_scope_names_no_place_has_an_empty_inbox_not_an_error(
    client, tree, case_a
):
    """Review: 自定数据 with no place chosen (the admin allows it) left the inbox's "still late"
    condition out of the compiled statement while a time was bound to it: ValueError, a 500
    on the home page and 待办."""
    clerk = User.objects.create_user(username="clerk", password="x-1-x-1-x", full_name="钱文")
    RoleAssignment.objects.create(
        user=clerk, role=Role.COMMUNITY_WORKER, node=tree["community"],
        data_scope=DataScope.CUSTOM,
    )  # fmt: skip
    assert selectors.home_counts(clerk)["inbox"] == 0
    assert selectors.inbox_head(clerk, 10) == []
    client.force_login(clerk)
    assert client.get("/").status_code == 200
    assert client.get("/cases/inbox/").status_code == 200
