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
