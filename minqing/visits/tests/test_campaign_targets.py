"""A campaign's target list: built from its rule when it is launched, assigned by default to the
grid workers of each household's grid, rebuilt or added to while it is open."""

import pytest
from django.core.exceptions import ValidationError

from conftest import login
from minqing.accounts.models import MemberKind, RoleAssignment, ServiceTeam, TeamMember, User
from minqing.visits import selectors, services
from minqing.visits.models import CampaignStatus, CampaignTarget

from .conftest import launched, new_campaign, tag


def _households(campaign) -> set[int]:
    return set(campaign.targets.values_list("household_id", flat=True))


def test_the_list_is_built_by_tags_within_the_node_subtree_when_launched(
    community_worker, homes, tree
):
    # given a draft for the 东门 community: 高龄/独居/低保 (person and household tags)
    campaign = new_campaign(community_worker, tree["community"])
    assert campaign.status == CampaignStatus.DRAFT
    assert not campaign.targets.exists()  # a draft has no snapshot yet

    # when it is launched
    services.campaign_act(acting_user=community_worker, campaign=campaign, action="launch")

    # then the elder of grid A, the 低保 and the lone elder of grid B are listed; the plain
    # household and the elder of the other community (grid C) are not
    assert _households(campaign) == {homes["a_old"].pk, homes["b_dibao"].pk, homes["b_alone"].pk}
    grids = dict(campaign.targets.values_list("household_id", "grid_id"))
    assert grids[homes["a_old"].pk] == tree["grid_a"].pk


def test_one_tag_picks_only_its_households(community_worker, homes, tree):
    campaign = launched(community_worker, tree["community"], tags=("独居",))
    assert _households(campaign) == {homes["b_alone"].pk}


def test_all_households_of_a_grid_and_hand_picked_ones(community_worker, homes, tree):
    everyone = launched(community_worker, tree["grid_a"], rule="all", name="入户安全检查")
    assert _households(everyone) == {homes["a_old"].pk, homes["a_plain"].pk}

    fire = launched(
        community_worker,
        tree["community"],
        rule="manual",
        kind="event",
        name="22号楼火灾后走访",
        households=f"{homes['b_alone'].number}\n{homes['a_plain'].number}",
    )
    assert _households(fire) == {homes["b_alone"].pk, homes["a_plain"].pk}
    assert set(fire.targets.values_list("source", flat=True)) == {"manual"}


def test_hand_picked_households_outside_the_node_are_refused(community_worker, homes, tree):
    with pytest.raises(ValidationError) as e:
        new_campaign(
            community_worker,
            tree["grid_a"],
            rule="manual",
            households=f"{homes['a_old'].number} {homes['b_dibao'].number} NOPE",
        )
    assert homes["b_dibao"].number in str(e.value) and "NOPE" in str(e.value)
    assert not CampaignTarget.objects.exists()


def test_each_target_goes_to_the_grid_workers_of_its_grid(
    street_officer, grid_a_worker, grid_b_worker, homes, tree
):
    campaign = launched(street_officer, tree["street"])
    by_household = {
        t.household_id: {u.username for u in t.assignees.all()}
        for t in campaign.targets.prefetch_related("assignees")
    }
    assert by_household == {
        homes["a_old"].pk: {"grid_a"},
        homes["b_dibao"].pk: {"grid_b"},
        homes["b_alone"].pk: {"grid_b"},
        homes["c_old"].pk: {"grid_c"},
    }
    # written without the ORM: each reads back as the model would have saved it
    for t in campaign.targets.select_related("household"):
        assert (t.grid_id, t.source, t.visit_id) == (t.household.grid_id, "rule", None)
        assert t.added_at == campaign.launched_at and t.visited_at is None


def test_an_office_reassigns_targets_to_a_team_member_of_that_grid(
    community_worker, grid_a_worker, grid_b_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    target = campaign.targets.get(household=homes["b_alone"])
    # grid A's worker is not on grid B's team
    with pytest.raises(ValidationError):
        services.campaign_assign(
            acting_user=community_worker,
            campaign=campaign,
            target_ids=[target.pk],
            users=[grid_a_worker],
        )
    # the community secretary is (assigned at the community above the grid)
    services.campaign_assign(
        acting_user=community_worker,
        campaign=campaign,
        target_ids=[target.pk],
        users=[community_worker],
    )
    assert list(target.assignees.all()) == [community_worker]
    # a grid worker may not assign
    with pytest.raises(services.PermissionDenied):
        services.campaign_assign(
            acting_user=grid_b_worker,
            campaign=campaign,
            target_ids=[target.pk],
            users=[grid_b_worker],
        )


def test_rebuild_adds_new_matches_and_drops_unvisited_ones_that_no_longer_match(
    community_worker, grid_a_worker, homes, tree
):
    from minqing.registry.services import household_update

    campaign = launched(community_worker, tree["community"])
    # the plain household becomes 低保, the 低保 household loses it
    household_update(
        acting_user=grid_a_worker, household=homes["a_plain"], data={"tags": [tag("低保")]}
    )
    homes["b_dibao"].tags.clear()
    extra = launched(community_worker, tree["community"], name="另一活动")  # untouched below

    result = services.campaign_rebuild(acting_user=community_worker, campaign=campaign)

    assert result == {"added": 1, "removed": 1}
    assert _households(campaign) == {homes["a_old"].pk, homes["a_plain"].pk, homes["b_alone"].pk}
    assert extra.targets.count() == 3


def test_households_can_be_added_while_open_but_not_after_closing(community_worker, homes, tree):
    campaign = launched(community_worker, tree["community"])
    assert (
        services.campaign_add_households(
            acting_user=community_worker, campaign=campaign, numbers=homes["a_plain"].number
        )
        == 1
    )
    assert homes["a_plain"].pk in _households(campaign)
    services.campaign_act(acting_user=community_worker, campaign=campaign, action="close")
    with pytest.raises(ValidationError):
        services.campaign_add_households(
            acting_user=community_worker, campaign=campaign, numbers=homes["a_plain"].number
        )


def test_a_worker_moved_to_another_grid_no_longer_reads_the_old_grids_targets(
    client, community_worker, grid_b_worker, homes, tree
):
    """Targets given to a grid worker stay theirs only while they are on the grid's team: moved
    to grid C, they read none of grid B's households through them (page, API, home count)."""
    campaign = launched(community_worker, tree["community"])
    b_homes = {homes["b_dibao"].pk, homes["b_alone"].pk}
    login(client, grid_b_worker)
    mine = client.get("/api/visits/campaigns/mine").json()["items"]
    assert {t["household"]["id"] for t in mine} == b_homes
    assert "东门路22号" in client.get("/visits/campaigns/mine/").content.decode()

    RoleAssignment.objects.filter(user=grid_b_worker).update(node=tree["grid_c"])
    moved = type(grid_b_worker).objects.get(pk=grid_b_worker.pk)
    assert not selectors.my_campaign_targets(moved).exists()
    assert not selectors.campaign_targets_for(moved, campaign).exists()
    assert client.get("/api/visits/campaigns/mine").json()["items"] == []
    assert "东门路22号" not in client.get("/visits/campaigns/mine/").content.decode()
    assert client.get(f"/visits/campaigns/{campaign.pk}/targets/").status_code == 404
    # grid B's present team — its community's secretary — still sees them, and may reassign
    assert {
        t.household_id
        for t in selectors.campaign_targets_for(community_worker, campaign).filter(
            grid=tree["grid_b"]
        )
    } == b_homes


def test_a_team_member_without_a_scope_keeps_their_targets_while_on_the_team(
    community_worker, homes, tree
):
    volunteer = User.objects.create_user(username="vol", password="x-123456789", full_name="志愿者")
    team = ServiceTeam.objects.create(node=tree["grid_b"], name="东门第二组团")
    member = TeamMember.objects.create(
        team=team, name="志愿者", kind=MemberKind.VOLUNTEER, user=volunteer
    )
    campaign = launched(community_worker, tree["community"])
    target = campaign.targets.get(household=homes["b_alone"])
    services.campaign_assign(
        acting_user=community_worker, campaign=campaign, target_ids=[target.pk], users=[volunteer]
    )
    assert [t.pk for t in selectors.my_campaign_targets(volunteer)] == [target.pk]
    assert [t.pk for t in selectors.campaign_targets_for(volunteer, campaign)] == [target.pk]
    member.delete()
    assert not selectors.my_campaign_targets(volunteer).exists()
    assert not selectors.campaigns_for(volunteer).exists()
