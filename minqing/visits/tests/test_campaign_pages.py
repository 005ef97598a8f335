"""The campaign pages over HTTP: scoped lists and details (404 for not yours), the office's
form and actions, the visit form's campaign choice, my targets, and the .xlsx export."""

import datetime
import io

import openpyxl
import pytest

from minqing.core.models import AuditAction, AuditEntry
from minqing.visits import services
from minqing.visits.models import Campaign, CampaignStatus, CampaignTarget, Visit

from .conftest import launched, new_campaign, tag


def test_an_office_creates_launches_and_closes_a_campaign_through_the_pages(
    client, community_worker, homes, tree
):
    client.force_login(community_worker)
    assert client.get("/visits/campaigns/new/").status_code == 200
    response = client.post(
        "/visits/campaigns/new/",
        {
            "name": "寒潮降温困难群众走访",
            "kind": "event",
            "node": tree["community"].pk,
            "start": "2026-11-20",
            "end": "2026-11-19",
            "rule": "tags",
            "tags": [tag("独居").pk],
        },
    )
    assert response.status_code == 400
    assert str(services.ERR_CAMPAIGN_DATES) in response.content.decode()
    response = client.post(
        "/visits/campaigns/new/",
        {
            "name": "寒潮降温困难群众走访",
            "kind": "event",
            "node": tree["community"].pk,
            "start": "2026-11-20",
            "end": "2026-12-05",
            "rule": "tags",
            "tags": [tag("独居").pk],
        },
    )
    campaign = Campaign.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/visits/campaigns/{campaign.pk}/"
    )
    page = client.get(response["Location"]).content.decode()
    assert "草稿" in page and "启动时将按规则列入 1 户" in page

    assert client.post(f"/visits/campaigns/{campaign.pk}/launch/").status_code == 302
    assert client.post(f"/visits/campaigns/{campaign.pk}/launch/").status_code == 302  # refused
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN and campaign.targets.count() == 1
    page = client.get(f"/visits/campaigns/{campaign.pk}/").content.decode()
    assert "各网格进度" in page and tree["grid_b"].name in page
    client.post(f"/visits/campaigns/{campaign.pk}/close/", {"note": "已全部走访"})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED and campaign.close_note == "已全部走访"


def test_the_campaign_form_shows_every_error_at_once(client, community_worker, homes, tree):
    """Wrong dates and a 户号 that does not exist: both said at the first try, and a missing
    name (the form's own check) does not hide the 户号 either."""
    client.force_login(community_worker)
    data = {"name": "寒潮走访", "kind": "event", "node": tree["community"].pk,
            "start": "2026-11-20", "end": "2026-11-19", "rule": "manual",
            "households": "不存在的户号"}  # fmt: skip
    response = client.post("/visits/campaigns/new/", data)
    errors = response.context["form"].errors
    assert response.status_code == 400 and {"end", "households"} <= set(errors)
    assert "不存在的户号" in errors["households"][0]
    response = client.post("/visits/campaigns/new/", {**data, "name": "", "end": "bad"})
    assert {"name", "end", "households"} <= set(response.context["form"].errors)
    assert not Campaign.objects.exists()


def test_grid_workers_get_403_on_the_form_and_cannot_act(
    client, community_worker, grid_a_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    client.force_login(grid_a_worker)
    assert client.get("/visits/campaigns/new/").status_code == 403
    assert client.post(f"/visits/campaigns/{campaign.pk}/close/").status_code == 403
    assert Campaign.objects.get().status == CampaignStatus.OPEN


def test_grid_b_sees_only_its_own_targets_and_a_grid_a_campaign_is_404(
    client, community_worker, grid_b_worker, outsider, homes, tree
):
    community = launched(community_worker, tree["community"])
    grid_a_only = launched(community_worker, tree["grid_a"], name="第1网格专项走访")
    client.force_login(grid_b_worker)

    listing = client.get("/visits/campaigns/").content.decode()
    assert community.name in listing and grid_a_only.name not in listing
    for url in (
        f"/visits/campaigns/{grid_a_only.pk}/",
        f"/visits/campaigns/{grid_a_only.pk}/targets/",
        f"/visits/campaigns/{grid_a_only.pk}/export.xlsx",
        f"/visits/campaigns/{community.pk}/targets/?grid={tree['grid_a'].code}",
        "/visits/campaigns/99999999999999999999/",
    ):
        assert client.get(url).status_code == 404, url

    targets = client.get(f"/visits/campaigns/{community.pk}/targets/").content.decode()
    assert "东门路22号" in targets and "东门路21号" in targets
    assert "东门路1号" not in targets  # grid A's elder
    detail = client.get(f"/visits/campaigns/{community.pk}/").content.decode()
    assert tree["grid_b"].name in detail and tree["grid_a"].name not in detail

    client.force_login(outsider)
    assert client.get(f"/visits/campaigns/{community.pk}/").status_code == 404
    assert community.name not in client.get("/visits/campaigns/").content.decode()


def test_drafts_are_hidden_from_grid_workers(client, community_worker, grid_a_worker, homes, tree):
    from .conftest import new_campaign

    draft = new_campaign(community_worker, tree["community"])
    client.force_login(grid_a_worker)
    assert client.get(f"/visits/campaigns/{draft.pk}/").status_code == 404


def test_the_visit_form_opened_from_the_list_has_the_campaign_chosen(
    client, community_worker, grid_b_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    client.force_login(grid_b_worker)
    mine = client.get("/visits/campaigns/mine/").content.decode()
    link = f"/visits/new/?household={homes['b_alone'].pk}&amp;campaign={campaign.pk}"
    assert link in mine
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert f'<option value="{campaign.pk}" selected>' in form
    response = client.post(
        "/visits/new/",
        {
            "household": homes["b_alone"].pk,
            "mode": "home",
            "seen": "送去棉被",
            "campaign": campaign.pk,
            "gift_goods": "棉被一床",
            "gift_amount": "300",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.campaign == campaign and visit.gift_goods == "棉被一床"
    assert CampaignTarget.objects.get(household=homes["b_alone"]).visit == visit
    assert "东门路22号" not in client.get("/visits/campaigns/mine/").content.decode()


@pytest.mark.parametrize("amount", ["99999999999", "-5", "1.234", "abc"])
def test_a_wrong_gift_amount_gets_one_clear_sentence(client, grid_b_worker, homes, amount):
    client.force_login(grid_b_worker)
    response = client.post(
        "/visits/new/",
        {"household": homes["b_alone"].pk, "mode": "home", "seen": "慰问", "gift_amount": amount},
    )
    assert response.status_code in (200, 400)
    assert response.context["form"].errors["gift_amount"] == [
        "慰问金应为 0 至 1000000 元之间、最多两位小数的金额。"
    ]
    assert not Visit.objects.exists()


def test_the_target_list_exports_to_xlsx_with_status_stamp_and_audit(
    client, community_worker, grid_b_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    services.visit_record(
        acting_user=grid_b_worker,
        household=homes["b_alone"],
        data={"seen": "x", "campaign": campaign, "gift_goods": "=米油", "gift_amount": "200"},
    )
    client.force_login(community_worker)

    response = client.get(f"/visits/campaigns/{campaign.pk}/export.xlsx")

    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    header = rows[0]
    assert header[:6] == ("网格", "户号", "户主", "现住址", "走访责任人", "状态")
    data = {r[3]: r for r in rows[1:4]}
    assert set(data) == {"东门路1号", "东门路21号", "东门路22号"}
    done = data["东门路22号"]
    assert done[4] == "grid_b" and done[5] == "已走访" and done[7] == "grid_b"
    assert done[8] == "'=米油" and done[9] == 200  # neutralised formula, the amount a number
    assert data["东门路1号"][5] == "未走访"
    stamp = [r[0] for r in rows[4:] if r[0]]
    assert any(s.startswith("导出人") for s in stamp) and any("活动" in s for s in stamp)
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.model == "visits.campaigntarget" and "3条" in entry.object_repr

    # grid B's worker exports only grid B's rows
    client.force_login(grid_b_worker)
    response = client.get(f"/visits/campaigns/{campaign.pk}/export.xlsx?status=todo")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    assert [r[3] for r in rows[1:] if r[5] in ("已走访", "未走访")] == ["东门路21号"]


def test_an_office_assigns_the_targets_of_a_grid_from_the_list(
    client, community_worker, grid_b_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    client.force_login(community_worker)
    page = client.get(f"/visits/campaigns/{campaign.pk}/targets/?grid={tree['grid_b'].code}")
    assert 'id="assign"' in page.content.decode()
    target = CampaignTarget.objects.get(household=homes["b_dibao"])
    response = client.post(
        f"/visits/campaigns/{campaign.pk}/assign/",
        {"grid": tree["grid_b"].code, "targets": [target.pk], "users": [community_worker.pk]},
    )
    assert response.status_code == 302
    assert list(target.assignees.all()) == [community_worker]
    # The history in English reads no Chinese but names (was "1 户 → 王芳").
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    history = client.get(f"/visits/campaigns/{campaign.pk}/").content.decode()
    assert "Households assigned" in history and " 户 →" not in history
    client.force_login(grid_b_worker)
    page = client.get(f"/visits/campaigns/{campaign.pk}/targets/?grid={tree['grid_b'].code}")
    assert 'id="assign"' not in page.content.decode()


def test_assigning_with_nothing_ticked_says_what_to_tick(client, community_worker, homes, tree):
    campaign = launched(community_worker, tree["community"])
    client.force_login(community_worker)
    page = client.post(
        f"/visits/campaigns/{campaign.pk}/assign/", {"grid": tree["grid_b"].code}, follow=True
    ).content.decode()
    assert "请勾选要分配的家庭。" in page and "请勾选分配给谁（走访责任人）。" in page
    assert "这个字段是必填项" not in page


def test_the_home_card_counts_open_campaigns_and_my_targets(
    rf, community_worker, grid_b_worker, grid_a_worker, homes, tree
):
    from django.template import Context, Template

    launched(community_worker, tree["grid_b"], name="第2网格专项走访")
    template = Template("{% load visits_tags %}{% visits_campaign_card %}")
    request = rf.get("/")
    request.user = grid_b_worker
    html = template.render(Context({"request": request}))
    assert 'id="campaign-card"' in html and "<b>2</b>" in html  # 2 targets in grid B
    request.user = grid_a_worker
    assert template.render(Context({"request": request})).strip() == ""


def test_a_draft_made_by_mistake_is_deleted_and_a_launched_one_is_not(
    client, community_worker, grid_a_worker, homes, tree
):
    draft = new_campaign(community_worker, tree["community"], name="重复的草稿")
    services.campaign_add_households(
        acting_user=community_worker, campaign=draft, numbers=homes["a_plain"].number
    )
    client.force_login(grid_a_worker)
    assert client.post(f"/visits/campaigns/{draft.pk}/delete/").status_code == 404  # a draft
    client.force_login(community_worker)
    page = client.get(f"/visits/campaigns/{draft.pk}/").content.decode()
    assert f'action="/visits/campaigns/{draft.pk}/delete/"' in page and "删除草稿" in page
    response = client.post(f"/visits/campaigns/{draft.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/visits/campaigns/"
    assert "草稿“重复的草稿”已删除。" in response.content.decode()
    assert not Campaign.objects.filter(pk=draft.pk).exists()
    assert not CampaignTarget.objects.filter(campaign_id=draft.pk).exists()
    entry = AuditEntry.objects.get(action=AuditAction.DELETE, model="visits.campaign")
    assert entry.changes["name"] == ["重复的草稿", None] and entry.changes["targets"] == [1, None]

    open_ = launched(community_worker, tree["community"])
    page = client.get(f"/visits/campaigns/{open_.pk}/").content.decode()
    assert "删除草稿" not in page
    response = client.post(f"/visits/campaigns/{open_.pk}/delete/", follow=True)
    assert str(services.ERR_CAMPAIGN_DELETE) in response.content.decode()
    assert Campaign.objects.filter(pk=open_.pk, status=CampaignStatus.OPEN).exists()


def test_the_campaign_page_shows_its_history_with_the_reason_for_an_extension(
    client, community_worker, grid_a_worker, homes, tree
):
    campaign = launched(community_worker, tree["community"])
    later = campaign.end + datetime.timedelta(days=7)
    services.campaign_extend(
        acting_user=community_worker, campaign=campaign, ends_on=later, note="寒潮推迟入户"
    )
    client.force_login(community_worker)
    page = client.get(f"/visits/campaigns/{campaign.pk}/").content.decode()
    assert 'id="history"' in page and "寒潮推迟入户" in page
    assert f"{later:%Y-%m-%d}" in page and "按规则列入" in page  # the launch, in words
    client.force_login(grid_a_worker)  # a grid worker sees progress, not the office's log
    assert "寒潮推迟入户" not in client.get(f"/visits/campaigns/{campaign.pk}/").content.decode()


def test_the_campaign_history_reads_in_english_in_the_english_ui(
    client, community_worker, homes, tree
):
    """The log keeps its values in Chinese (进行中, 节日走访); the page shows them in the
    reader's language, and the default reason of an extension too."""
    campaign = launched(community_worker, tree["community"])
    services.campaign_extend(
        acting_user=community_worker,
        campaign=campaign,
        ends_on=campaign.end + datetime.timedelta(days=7),
    )
    client.force_login(community_worker)
    page = client.get(f"/visits/campaigns/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    history = page.content.decode().split('id="history"', 1)[1]
    for chinese in ("进行中", "草稿", "延长活动期限", "至", "活动类型", "走访户数"):
        assert chinese not in history, chinese
    assert "Extend the campaign" in history and "Households listed" in history
