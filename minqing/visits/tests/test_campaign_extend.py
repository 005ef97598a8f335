"""延长活动期限 and adding a household to a campaign from its page, over real HTTP (the pages
and the API): the window moves later and is audited, visits between the old and the new end
count (also those recorded before the extension), refusals are in Chinese, scope is 404."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from minqing.accounts.models import ApiToken
from minqing.core.models import AuditEntry
from minqing.visits import services
from minqing.visits.models import Campaign, CampaignStatus, CampaignTarget

from .conftest import at, launched, new_campaign

BASE = "/api/visits/campaigns"


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_json(client, url, body, auth):
    return client.post(url, json.dumps(body), content_type="application/json", **auth)


def _audits(campaign) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(model="visits.campaign", object_id=str(campaign.pk)).order_by(
            "pk"
        )
    )


def _target(campaign, household) -> CampaignTarget:
    return CampaignTarget.objects.get(campaign=campaign, household=household)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def expired(community_worker, homes, tree, today):
    """An open campaign whose window ended two days ago (nobody closed it yet)."""
    return launched(
        community_worker,
        tree["community"],
        start=today - dt.timedelta(days=10),
        end=today - dt.timedelta(days=2),
        now=timezone.now() - dt.timedelta(days=11),
    )


# --- extending -------------------------------------------------------------------------------


def test_a_manager_extends_on_the_page_and_an_audit_row_is_written(
    client, community_worker, homes, tree, today
):
    campaign = launched(community_worker, tree["community"])
    old_end = campaign.end
    client.force_login(community_worker)
    page = client.get(f"/visits/campaigns/{campaign.pk}/").content.decode()
    assert "延长活动期限" in page and f"/visits/campaigns/{campaign.pk}/extend/" in page
    before = len(_audits(campaign))
    new_end = old_end + dt.timedelta(days=7)

    response = client.post(
        f"/visits/campaigns/{campaign.pk}/extend/",
        {"ends_on": f"{new_end:%Y-%m-%d}", "note": "节后补访"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"/visits/campaigns/{campaign.pk}/"
    assert f"活动期限已延长至 {new_end:%Y-%m-%d}" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.end == new_end and campaign.status == CampaignStatus.OPEN
    audits = _audits(campaign)
    assert len(audits) == before + 1
    assert audits[-1].changes["end"] == [f"{old_end:%Y-%m-%d}", f"{new_end:%Y-%m-%d}"]
    assert audits[-1].reason == "节后补访" and audits[-1].actor == community_worker


def test_a_draft_can_be_extended_through_the_api(client, community_worker, homes, tree, today):
    campaign = new_campaign(community_worker, tree["community"])
    new_end = campaign.end + dt.timedelta(days=3)
    r = post_json(
        client,
        f"{BASE}/{campaign.pk}/extend",
        {"ends_on": f"{new_end:%Y-%m-%d}"},
        bearer(community_worker),
    )
    assert r.status_code == 200, r.content
    assert r.json()["end"] == f"{new_end:%Y-%m-%d}" and r.json()["status"] == "draft"
    assert _audits(campaign)[-1].changes["end"][1] == f"{new_end:%Y-%m-%d}"


def test_a_visit_between_the_old_and_the_new_end_ticks_its_target(
    client, community_worker, grid_a_worker, grid_b_worker, homes, expired, today
):
    worker_a, worker_b = bearer(grid_a_worker), bearer(grid_b_worker)
    # Yesterday's visit lies after the old end: it does not count yet.
    yesterday = at(today - dt.timedelta(days=1))
    r = post_json(
        client,
        "/api/visits/",
        {
            "household_id": homes["a_old"].pk,
            "seen": "老人身体尚可",
            "visited_at": yesterday.isoformat(),
        },
        worker_a,
    )
    assert r.status_code == 201, r.content
    assert _target(expired, homes["a_old"]).visit is None
    # Choosing the campaign is refused while the day is outside its window.
    r = post_json(
        client,
        "/api/visits/",
        {"household_id": homes["b_alone"].pk, "seen": "送去米油", "campaign_id": expired.pk},
        worker_b,
    )
    assert r.status_code == 400 and "不在活动期间" in r.json()["errors"]["campaign_id"][0]

    new_end = today + dt.timedelta(days=5)
    r = post_json(
        client,
        f"{BASE}/{expired.pk}/extend",
        {"ends_on": f"{new_end:%Y-%m-%d}"},
        bearer(community_worker),
    )
    assert r.status_code == 200, r.content
    # The visit already made in the new part of the window ticks its target at once …
    target = _target(expired, homes["a_old"])
    assert target.visit is not None and target.visited_at == yesterday
    assert r.json()["progress"]["done"] == 1
    assert _audits(expired)[-1].changes["done"] == [None, "+1"]
    # … and from now on visits count as usual, with or without choosing the campaign.
    r = post_json(
        client,
        "/api/visits/",
        {"household_id": homes["b_alone"].pk, "seen": "送去米油", "campaign_id": expired.pk},
        worker_b,
    )
    assert r.status_code == 201, r.content
    assert _target(expired, homes["b_alone"]).visit_id == r.json()["id"]


def test_a_closed_campaign_cannot_be_extended_and_says_why(
    client, community_worker, homes, tree, today
):
    campaign = launched(community_worker, tree["community"])
    services.campaign_act(acting_user=community_worker, campaign=campaign, action="close")
    end = campaign.end
    r = post_json(
        client,
        f"{BASE}/{campaign.pk}/extend",
        {"ends_on": f"{end + dt.timedelta(days=5):%Y-%m-%d}"},
        bearer(community_worker),
    )
    assert r.status_code == 400
    assert r.json()["errors"] == {"__all__": [services.ERR_EXTEND_CLOSED]}
    assert "活动已结束，不能延长期限" in services.ERR_EXTEND_CLOSED

    client.force_login(community_worker)
    page = client.get(f"/visits/campaigns/{campaign.pk}/").content.decode()
    assert "延长活动期限" not in page
    response = client.post(
        f"/visits/campaigns/{campaign.pk}/extend/",
        {"ends_on": f"{end + dt.timedelta(days=5):%Y-%m-%d}"},
        follow=True,
    )
    assert str(services.ERR_EXTEND_CLOSED) in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).end == end


def test_earlier_past_and_malformed_dates_are_refused_with_field_errors(
    client, community_worker, homes, tree, expired, today
):
    boss = bearer(community_worker)
    campaign = launched(community_worker, tree["community"], name="另一活动")
    url = f"{BASE}/{campaign.pk}/extend"
    cases = {
        f"{campaign.end - dt.timedelta(days=1):%Y-%m-%d}": services.ERR_EXTEND_NOT_LATER.format(
            end=campaign.end
        ),
        f"{campaign.end:%Y-%m-%d}": services.ERR_EXTEND_NOT_LATER.format(end=campaign.end),
        f"{campaign.start - dt.timedelta(days=1):%Y-%m-%d}": services.ERR_EXTEND_BEFORE_START.format(
            start=campaign.start
        ),
        f"{campaign.start + dt.timedelta(days=400):%Y-%m-%d}": services.ERR_CAMPAIGN_SPAN,
        "": services.ERR_EXTEND_DATE,
        "明天": services.ERR_EXTEND_DATE,
        "2026-02-30": services.ERR_EXTEND_DATE,
        "20260228": services.ERR_EXTEND_DATE,
        "２０２６-０２-２８": services.ERR_EXTEND_DATE,
        "9999-12-31": services.ERR_EXTEND_DATE,
        "0001-01-01": services.ERR_EXTEND_BEFORE_START.format(start=campaign.start),
    }
    for raw, message in cases.items():
        r = post_json(client, url, {"ends_on": raw}, boss)
        assert r.status_code == 400, (raw, r.content)
        assert r.json()["errors"] == {"ends_on": [message]}, raw
    # The expired campaign may be extended, but not to a day already past.
    r = post_json(
        client,
        f"{BASE}/{expired.pk}/extend",
        {"ends_on": f"{today - dt.timedelta(days=1):%Y-%m-%d}"},
        boss,
    )
    assert r.status_code == 400
    assert r.json()["errors"] == {"ends_on": [services.ERR_EXTEND_PAST]}
    r = post_json(client, url, {"ends_on": f"{campaign.end:%Y-%m-%d}", "note": "x" * 201}, boss)
    assert r.status_code < 500
    assert Campaign.objects.get(pk=campaign.pk).end == campaign.end
    assert Campaign.objects.get(pk=expired.pk).end == expired.end
    # The page says it too, and changes nothing.
    client.force_login(community_worker)
    response = client.post(
        f"/visits/campaigns/{campaign.pk}/extend/", {"ends_on": "2000-01-01"}, follow=True
    )
    assert services.ERR_EXTEND_BEFORE_START.format(start=campaign.start) in (
        response.content.decode()
    )


def test_out_of_scope_is_404_and_a_grid_worker_may_not_extend(
    client, community_worker, grid_a_worker, grid_b_worker, outsider, homes, tree, today
):
    grid_a_only = launched(community_worker, tree["grid_a"], name="第1网格专项走访")
    community = launched(community_worker, tree["community"])
    body = {"ends_on": f"{today + dt.timedelta(days=30):%Y-%m-%d}"}
    for user in (grid_b_worker, outsider, homes["grid_c_worker"]):
        r = post_json(client, f"{BASE}/{grid_a_only.pk}/extend", body, bearer(user))
        assert r.status_code == 404, user
        client.force_login(user)
        assert client.post(f"/visits/campaigns/{grid_a_only.pk}/extend/", body).status_code == 404
    for raw in ("0", "999999999", "-1", "abc"):
        r = post_json(client, f"{BASE}/{raw}/extend", body, bearer(community_worker))
        assert r.status_code in (404, 422), raw
    # In scope but not an office above it: 403, and nothing moves.
    r = post_json(client, f"{BASE}/{community.pk}/extend", body, bearer(grid_a_worker))
    assert r.status_code == 403
    client.force_login(grid_a_worker)
    assert client.post(f"/visits/campaigns/{community.pk}/extend/", body).status_code == 403
    assert "延长活动期限" not in client.get(f"/visits/campaigns/{community.pk}/").content.decode()
    assert Campaign.objects.get(pk=community.pk).end == community.end
    assert Campaign.objects.get(pk=grid_a_only.pk).end == grid_a_only.end


# --- adding a household from its page ----------------------------------------------------


def test_the_household_page_offers_the_campaign_and_adding_is_one_click_and_idempotent(
    client, community_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])  # 高龄/独居/低保: not a_plain
    closed = launched(community_worker, tree["community"], name="已结束的活动")
    services.campaign_act(acting_user=community_worker, campaign=closed, action="close")
    elsewhere = launched(community_worker, tree["grid_b"], name="第2网格专项走访")
    household = homes["a_plain"]
    page_url = f"/households/{household.pk}/"
    client.force_login(community_worker)

    page = client.get(page_url).content.decode()
    assert "可加入的走访活动" in page and campaign.name in page
    assert f"/visits/campaigns/{campaign.pk}/add/" in page
    assert f"/visits/campaigns/{closed.pk}/add/" not in page  # closed
    assert f"/visits/campaigns/{elsewhere.pk}/add/" not in page  # does not cover grid A
    before = len(_audits(campaign))

    response = client.post(
        f"/visits/campaigns/{campaign.pk}/add/",
        {"households": household.number, "next": f"{page_url}#campaigns"},
    )
    assert response.status_code == 302 and response["Location"] == f"{page_url}#campaigns"
    target = _target(campaign, household)
    assert target.source == "manual" and target.visit is None
    assert len(_audits(campaign)) == before + 1
    page = client.get(page_url).content.decode()
    assert f"/visits/campaigns/{campaign.pk}/add/" not in page
    assert f'href="/visits/campaigns/{campaign.pk}/"' in page and "未走访" in page

    # A second click (an old page, a double tap) adds nothing and audits nothing.
    response = client.post(
        f"/visits/campaigns/{campaign.pk}/add/",
        {"households": household.number, "next": page_url},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == page_url
    assert "都已在" in response.content.decode()
    assert CampaignTarget.objects.filter(campaign=campaign, household=household).count() == 1
    assert len(_audits(campaign)) == before + 1

    # Another site is never a place to go back to.
    for bad in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(
            f"/visits/campaigns/{campaign.pk}/add/",
            {"households": household.number, "next": bad},
        )
        assert response["Location"] == f"/visits/campaigns/{campaign.pk}/", bad


def test_a_visited_target_shows_as_visited_on_the_household_page(
    client, community_worker, grid_a_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    visit = services.visit_record(
        acting_user=grid_a_worker, household=homes["a_old"], data={"seen": "老人身体尚可"}
    )
    client.force_login(grid_a_worker)
    page = client.get(f"/households/{homes['a_old'].pk}/").content.decode()
    day = timezone.localdate(visit.visited_at)
    assert campaign.name in page and f"已走访 {day:%Y-%m-%d}" in page
    # A grid worker sees the campaign it is on, but offers no one-click add.
    page = client.get(f"/households/{homes['a_plain'].pk}/").content.decode()
    assert "可加入的走访活动" not in page and "/add/" not in page


def test_an_office_below_the_creator_may_add_its_own_household_to_a_larger_campaign(
    client, street_officer, community_worker, homes, tree
):
    campaign = launched(street_officer, tree["street"], name="街道春节走访")
    assert not services.can_manage_campaign(community_worker, campaign)
    client.force_login(community_worker)
    page = client.get(f"/households/{homes['a_plain'].pk}/").content.decode()
    assert f"/visits/campaigns/{campaign.pk}/add/" in page
    client.post(
        f"/visits/campaigns/{campaign.pk}/add/",
        {"households": homes["a_plain"].number, "next": f"/households/{homes['a_plain'].pk}/"},
    )
    assert _target(campaign, homes["a_plain"]).source == "manual"
    # … but not a household of another community, and not extend the campaign.
    response = client.post(
        f"/visits/campaigns/{campaign.pk}/add/",
        {"households": homes["c_old"].number},
        follow=True,
    )
    assert "不存在或不在活动覆盖范围内" in response.content.decode()
    assert (
        client.post(
            f"/visits/campaigns/{campaign.pk}/extend/", {"ends_on": "2099-01-01"}
        ).status_code
        == 403
    )


def test_a_grid_worker_of_another_grid_never_sees_or_adds_the_household(
    client, community_worker, grid_b_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    household = homes["a_plain"]
    client.force_login(grid_b_worker)
    assert client.get(f"/households/{household.pk}/").status_code == 404
    response = client.post(
        f"/visits/campaigns/{campaign.pk}/add/",
        {"households": household.number, "next": f"/households/{household.pk}/"},
    )
    assert response.status_code == 403
    assert not CampaignTarget.objects.filter(campaign=campaign, household=household).exists()
    # Their own grid's page lists the campaigns of its households, with no add button.
    page = client.get(f"/households/{homes['b_alone'].pk}/").content.decode()
    assert campaign.name in page and "可加入的走访活动" not in page
    assert services.household_campaigns(grid_b_worker, household)["addable"] == []


# --- no input answers 500 ----------------------------------------------------------------------


def test_no_input_to_the_extend_endpoint_answers_500(community_worker, homes, tree, expired):
    from minqing.api.tests.test_fuzz import (
        OPERATIONS,
        Sender,
        World,
        fuzz_operation,
    )

    (op,) = [o for o in OPERATIONS if o[0] == "POST" and o[1].endswith("/extend")]
    closed = launched(community_worker, tree["community"], name="已结束")
    services.campaign_act(acting_user=community_worker, campaign=closed, action="close")
    _, raw = ApiToken.issue(user=community_worker, name="fuzz")
    today = timezone.localdate()
    world = World(
        token=raw,
        ints={"pk": [expired.pk, closed.pk, 2**62]},
        hints={
            "ends_on": [
                f"{today + dt.timedelta(days=3):%Y-%m-%d}",
                f"{today:%Y-%m-%d}",
                "0001-01-01",
                "9999-12-31",
                "2026-02-29",
                "2026-13-01",
            ],
            "note": ["节后补访", " "],
        },
    )
    sender = fuzz_operation(op, world, Sender(world, community_worker))
    assert sender.count > 25
