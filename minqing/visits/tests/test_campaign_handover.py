"""人员交接 of visit targets: a leaving worker's unvisited households go to a successor."""

from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.cases import handover
from minqing.visits import services
from minqing.visits.models import CampaignTarget
from minqing.visits.selectors import my_campaign_targets

from .conftest import launched


def assignees(campaign, household) -> set[str]:
    target = CampaignTarget.objects.get(campaign=campaign, household=household)
    return {u.username for u in target.assignees.all()}


def successor_in(tree, grid: str) -> User:
    user = User.objects.create_user(username=f"new_{grid}", full_name="新网格员")
    RoleAssignment.objects.create(
        user=user, role=Role.GRID_WORKER, node=tree[grid], data_scope=DataScope.NODE_AND_BELOW
    )
    return user


def test_a_leavers_targets_go_to_the_successor_and_co_assignees_stay(
    community_worker, grid_a_worker, grid_b_worker, homes, tree
):
    # given: a community campaign, grid A's elder given to grid A's worker and the secretary
    campaign = launched(community_worker, tree["community"])
    target = CampaignTarget.objects.get(campaign=campaign, household=homes["a_old"])
    target.assignees.add(community_worker)
    new_a = successor_in(tree, "grid_a")

    # when: the secretary hands grid A's worker over to the new worker
    done = services.hand_over_targets(
        acting_user=community_worker, holder=grid_a_worker, successor=new_a
    )

    # then: the household is the new worker's; the secretary keeps it too; grid B untouched
    assert (done.moved, done.skipped) == (1, [])
    assert assignees(campaign, homes["a_old"]) == {"new_grid_a", community_worker.username}
    assert assignees(campaign, homes["b_dibao"]) == {"grid_b"}
    assert homes["a_old"].pk in {t.household_id for t in services_targets_of(new_a)}


def services_targets_of(user):

    return my_campaign_targets(user)


def test_a_successor_off_the_grids_team_is_reported_and_nothing_moves(
    community_worker, grid_b_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    new_a = successor_in(tree, "grid_a")
    done = services.hand_over_targets(
        acting_user=community_worker, holder=grid_b_worker, successor=new_a
    )
    assert done.moved == 0
    assert [(c, g) for c, g, _why in done.skipped] == [(campaign.name, tree["grid_b"].name)]
    assert assignees(campaign, homes["b_dibao"]) == {"grid_b"}


def test_a_grid_worker_cannot_hand_over_targets(community_worker, grid_a_worker, homes, tree):
    campaign = launched(community_worker, tree["community"])
    other = successor_in(tree, "grid_a")
    done = services.hand_over_targets(acting_user=other, holder=grid_a_worker, successor=other)
    assert done.moved == 0
    assert assignees(campaign, homes["a_old"]) == {"grid_a"}


def test_the_handover_page_lists_and_moves_targets_with_the_cases(
    client, community_worker, grid_a_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    new_a = successor_in(tree, "grid_a")
    holders = {h["id"]: h for h in handover.holders(community_worker)}
    assert (holders[grid_a_worker.pk]["count"], holders[grid_a_worker.pk]["targets"]) == (0, 1)

    client.force_login(community_worker)
    page = client.get(f"/cases/handover/?from={grid_a_worker.pk}").content.decode()
    assert "另有 1 户走访活动的走访对象" in page
    moved = client.post(
        "/cases/handover/",
        {"holder": grid_a_worker.pk, "successor": new_a.pk, "note": "调岗"},
        follow=True,
    )
    assert "已将 1 户走访对象交给" in moved.content.decode()
    assert assignees(campaign, homes["a_old"]) == {"new_grid_a"}
