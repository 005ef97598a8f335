"""草稿 → 进行中 → 已结束, by the creator or an office above; nothing else, and a refused step
writes nothing."""

import pytest
from django.core.exceptions import ValidationError

from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.core.models import AuditAction, AuditEntry
from minqing.visits import services
from minqing.visits.models import Campaign, CampaignStatus

from .conftest import launched, new_campaign


def _audit(campaign) -> list[tuple[str, dict]]:
    return list(
        AuditEntry.objects.filter(model="visits.campaign", object_id=str(campaign.pk))
        .order_by("id")
        .values_list("action", "changes")
    )


def test_the_state_table_allows_only_launch_then_close(community_worker, homes, tree):
    assert {k: (set(t.sources), t.target) for k, t in services.CAMPAIGN_TRANSITIONS.items()} == {
        "launch": ({CampaignStatus.DRAFT}, CampaignStatus.OPEN),
        "close": ({CampaignStatus.OPEN}, CampaignStatus.CLOSED),
    }
    campaign = new_campaign(community_worker, tree["community"])
    services.campaign_act(acting_user=community_worker, campaign=campaign, action="launch")
    services.campaign_act(
        acting_user=community_worker, campaign=campaign, action="close", note="按期完成"
    )
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert campaign.closed_by == community_worker and campaign.close_note == "按期完成"
    actions = _audit(campaign)
    assert [a for a, _ in actions] == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.UPDATE]
    assert actions[2][1]["status"] == ["进行中", "已结束"]
    assert actions[2][1]["done"] == [None, "0/3"]


@pytest.mark.parametrize(
    "state, action",
    [("draft", "close"), ("open", "launch"), ("closed", "launch"), ("closed", "close")],
)
def test_a_forbidden_transition_is_refused_and_writes_nothing(
    community_worker, homes, tree, state, action
):
    campaign = new_campaign(community_worker, tree["community"])
    if state != "draft":
        services.campaign_act(acting_user=community_worker, campaign=campaign, action="launch")
    if state == "closed":
        services.campaign_act(acting_user=community_worker, campaign=campaign, action="close")
    before = AuditEntry.objects.count()
    targets = campaign.targets.count()

    with pytest.raises(ValidationError) as e:
        services.campaign_act(acting_user=community_worker, campaign=campaign, action=action)

    assert "不能" in str(e.value)
    assert Campaign.objects.get(pk=campaign.pk).status == state
    assert AuditEntry.objects.count() == before and campaign.targets.count() == targets


def test_an_unknown_action_is_refused(community_worker, tree, homes):
    campaign = new_campaign(community_worker, tree["community"])
    with pytest.raises(ValidationError):
        services.campaign_act(acting_user=community_worker, campaign=campaign, action="reopen")


def test_only_the_creator_or_an_office_above_may_close(
    community_worker, street_officer, grid_a_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    colleague = User.objects.create_user(username="colleague", password="x-123456789")
    RoleAssignment.objects.create(
        user=colleague,
        role=Role.COMMUNITY_WORKER,
        node=tree["community"],
        data_scope=DataScope.NODE_AND_BELOW,
    )
    before = AuditEntry.objects.count()
    for user in (grid_a_worker, colleague):  # a grid worker; an office at the same level
        with pytest.raises(services.PermissionDenied):
            services.campaign_act(acting_user=user, campaign=campaign, action="close")
    assert AuditEntry.objects.count() == before
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.OPEN

    services.campaign_act(acting_user=street_officer, campaign=campaign, action="close")
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.CLOSED


def test_a_grid_worker_cannot_create_a_campaign(grid_a_worker, tree, homes):
    with pytest.raises(services.PermissionDenied):
        new_campaign(grid_a_worker, tree["grid_a"])
    assert not Campaign.objects.exists()


def test_bad_campaign_fields_come_back_in_chinese(community_worker, tree, homes):
    with pytest.raises(ValidationError) as e:
        services.campaign_create(
            acting_user=community_worker,
            data={"name": "", "kind": "x", "node": tree["street"], "rule": "tags", "tags": []},
        )
    errors = e.value.message_dict
    assert errors["name"] == [services.ERR_CAMPAIGN_NAME]
    assert errors["kind"] == [services.ERR_CAMPAIGN_KIND]
    assert errors["node"] == [services.ERR_CAMPAIGN_NODE]  # the street is above the community
    assert errors["end"] == [services.ERR_CAMPAIGN_DATES]
    assert errors["tags"] == [services.ERR_CAMPAIGN_TAGS]
