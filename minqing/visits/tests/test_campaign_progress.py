"""Enter once: any visit to a target household within the window closes its target, whether
or not the visitor chose the campaign; a visit outside the window does not."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from minqing.visits import selectors, services
from minqing.visits.models import CampaignTarget, Visit

from .conftest import launched, new_campaign


def _target(campaign, household) -> CampaignTarget:
    return CampaignTarget.objects.get(campaign=campaign, household=household)


def test_a_visit_in_the_window_without_choosing_the_campaign_closes_the_target(
    community_worker, grid_a_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    visit = services.visit_record(
        acting_user=grid_a_worker, household=homes["a_old"], data={"seen": "老人身体尚可"}
    )
    target = _target(campaign, homes["a_old"])
    assert target.visit == visit and target.visited_at == visit.visited_at
    assert visit.campaign is None


def test_a_visit_choosing_the_campaign_closes_it_and_keeps_the_gifts(
    community_worker, grid_b_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    visit = services.visit_record(
        acting_user=grid_b_worker,
        household=homes["b_alone"],
        data={
            "seen": "送去米油",
            "campaign": campaign,
            "gift_goods": "米一袋、油一桶",
            "gift_amount": "200.00",
        },
    )
    assert _target(campaign, homes["b_alone"]).visit == visit
    visit.refresh_from_db()
    assert visit.campaign == campaign and str(visit.gift_amount) == "200.00"


def test_a_visit_outside_the_window_does_not_close_the_target(
    community_worker, grid_a_worker, homes, tree
):
    today = timezone.localdate()
    campaign = launched(
        community_worker,
        tree["community"],
        start=today - dt.timedelta(days=20),
        end=today - dt.timedelta(days=10),
        now=timezone.now() - dt.timedelta(days=21),
    )
    services.visit_record(acting_user=grid_a_worker, household=homes["a_old"], data={"seen": "x"})
    assert _target(campaign, homes["a_old"]).visit is None
    # choosing it anyway is refused with the window in words
    with pytest.raises(ValidationError) as e:
        services.visit_record(
            acting_user=grid_a_worker,
            household=homes["a_old"],
            data={"seen": "x", "campaign": campaign},
        )
    assert "不在活动期间" in str(e.value)


def test_a_visit_before_launch_but_within_the_window_counts_at_launch(
    community_worker, grid_a_worker, homes, tree
):
    campaign = new_campaign(community_worker, tree["community"])
    earlier = services.visit_record(
        acting_user=grid_a_worker, household=homes["a_old"], data={"seen": "x"}
    )
    services.campaign_act(acting_user=community_worker, campaign=campaign, action="launch")
    assert _target(campaign, homes["a_old"]).visit == earlier


def test_gifts_need_a_campaign_and_the_household_must_be_a_target(
    community_worker, grid_a_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    with pytest.raises(ValidationError) as e:
        services.visit_record(
            acting_user=grid_a_worker,
            household=homes["a_old"],
            data={"seen": "x", "gift_amount": "100"},
        )
    assert str(services.ERR_GIFT_NEEDS_CAMPAIGN) in str(e.value)
    with pytest.raises(ValidationError) as e:
        services.visit_record(
            acting_user=grid_a_worker,
            household=homes["a_plain"],  # not on the 高龄/独居/低保 list
            data={"seen": "x", "campaign": campaign},
        )
    assert str(services.ERR_CAMPAIGN_CHOICE) in str(e.value)
    with pytest.raises(ValidationError) as e:
        services.visit_record(
            acting_user=grid_a_worker,
            household=homes["a_old"],
            data={"seen": "x", "campaign": campaign, "gift_amount": "-5"},
        )
    assert str(services.ERR_GIFT_AMOUNT) in str(e.value)
    assert not Visit.objects.exists()


def test_progress_per_grid_counts_targets_visited_remaining_and_percent(
    community_worker, grid_a_worker, grid_b_worker, street_officer, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    services.visit_record(acting_user=grid_b_worker, household=homes["b_alone"], data={"seen": "x"})

    rows, total = selectors.campaign_progress(community_worker, campaign)

    assert [(r.grid.code, r.total, r.done, r.remaining, r.percent) for r in rows] == [
        (tree["grid_a"].code, 1, 0, 1, 0),
        (tree["grid_b"].code, 2, 1, 1, 50),
    ]
    assert (total.total, total.done, total.remaining, total.percent) == (3, 1, 2, 33)
    # a grid worker sees only their grid's row
    rows, total = selectors.campaign_progress(grid_b_worker, campaign)
    assert [(r.grid.code, r.done) for r in rows] == [(tree["grid_b"].code, 1)]


def test_my_targets_are_the_open_unvisited_ones_assigned_to_me(
    community_worker, grid_b_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    assert {t.household_id for t in selectors.my_campaign_targets(grid_b_worker)} == {
        homes["b_dibao"].pk,
        homes["b_alone"].pk,
    }
    services.visit_record(acting_user=grid_b_worker, household=homes["b_alone"], data={"seen": "x"})
    assert [t.household_id for t in selectors.my_campaign_targets(grid_b_worker)] == [
        homes["b_dibao"].pk
    ]
    services.campaign_act(acting_user=community_worker, campaign=campaign, action="close")
    assert not selectors.my_campaign_targets(grid_b_worker).exists()


@pytest.mark.parametrize(
    "start, end, field, message",
    [
        ("1990-01-01", "1990-02-01", "end", services.ERR_CAMPAIGN_PAST),
        ("2090-01-01", "2090-02-01", "start", services.ERR_CAMPAIGN_FAR),
    ],
)
def test_a_campaign_whose_window_is_over_or_far_off_is_refused(
    community_worker, tree, start, end, field, message
):
    """1990: launched with 77 households on the lists, and no visit could ever count."""
    from minqing.visits.models import Campaign

    with pytest.raises(ValidationError) as e:
        new_campaign(
            community_worker,
            tree["community"],
            start=dt.date.fromisoformat(start),
            end=dt.date.fromisoformat(end),
        )
    assert e.value.message_dict[field] == [message]
    assert not Campaign.objects.exists()


def test_a_draft_left_until_its_window_is_over_is_not_launched(community_worker, tree):
    from minqing.visits.models import Campaign

    today = timezone.localdate()
    draft = new_campaign(
        community_worker,
        tree["community"],
        start=today - dt.timedelta(days=20),
        end=today - dt.timedelta(days=5),
        now=timezone.now() - dt.timedelta(days=21),
    )
    with pytest.raises(ValidationError) as e:
        services.campaign_act(acting_user=community_worker, campaign=draft, action="launch")
    assert e.value.message_dict["__all__"] == [services.ERR_CAMPAIGN_PAST]
    assert Campaign.objects.get(pk=draft.pk).status == "draft"
