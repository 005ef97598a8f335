"""A form whose answer takes seconds says so and cannot be sent twice (data-busy in
behaviours.js): launching a campaign builds its whole list in the request, which takes a
county several seconds."""

import re

import pytest

from minqing.visits.models import Campaign, CampaignStatus
from minqing.visits.tests.conftest import new_campaign

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

STATE = """() => {
    const f = document.querySelector("form[action$='/launch/']");
    return [f.getAttribute("aria-busy"), f.querySelector("button").disabled, f.innerText];
}"""


def test_launching_a_campaign_greys_the_button_until_the_list_is_built(
    live_server, sessions, community_worker, homes, tree
):
    campaign = new_campaign(community_worker, tree["community"])
    s = sessions()
    s.login("community")
    page = s.page
    page.goto(f"/visits/campaigns/{campaign.pk}/")
    assert page.evaluate(STATE) == [None, False, "启动活动并生成名单"]

    # The answer goes to a frame, so that the page can be read while the request is held
    # (Playwright waits for a navigation of the page itself to finish before reading it).
    page.evaluate("""() => {
        const sink = document.createElement("iframe");
        sink.name = "sink";
        document.body.append(sink);
        document.querySelector("form[action$='/launch/']").target = "sink";
    }""")
    held = []
    page.route(re.compile(r".*/launch/$"), lambda route: held.append(route))
    page.get_by_role("button", name="启动活动并生成名单").click()
    page.wait_for_timeout(300)
    assert len(held) == 1
    assert page.evaluate(STATE) == ["true", True, "正在生成名单，请稍候…"]

    # A second click sends nothing, nor does Enter or a script.
    page.evaluate("document.querySelector(\"form[action$='/launch/'] button\").click()")
    page.evaluate("document.querySelector(\"form[action$='/launch/']\").requestSubmit()")
    page.wait_for_timeout(300)
    assert len(held) == 1

    with page.expect_response(re.compile(r".*/launch/$")) as answer:
        held[0].continue_()
    assert answer.value.status == 302
    page.frame(name="sink").wait_for_load_state()
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == CampaignStatus.OPEN
    assert campaign.targets.count() == 3  # 王奶奶's, 赵爷爷's and the 低保 household

    # Back to a page the browser kept (back/forward cache): its form is idle again.
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    assert page.evaluate(STATE) == [None, False, "启动活动并生成名单"]
    assert s.errors == []
