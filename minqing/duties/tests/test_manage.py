"""Offices give duties and set their links in the app and the API, not only in the admin: the
holder's page and /duties/holders/new/, POST /api/duties/holders, …/links and /links/{pk}/end.
An office manages the holders in its part of the tree; the holder themself and grid workers
only read. Targets outside the office's scope are refused like ones that do not exist, and no
input answers 500."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from minqing.accounts.models import ApiToken, DataScope, Role
from minqing.api.tests.test_fuzz import (
    OPERATIONS,
    Sender,
    World,
    fuzz_operation,
)
from minqing.core.models import AuditAction, AuditEntry
from minqing.duties import permissions, selectors
from minqing.duties.models import DutyHolder, DutyLink, DutyRule, LinkKind
from minqing.duties.services import (
    ERR_HOLDER_NODE,
    ERR_HOLDER_OPEN,
    ERR_HOLDER_USER,
    ERR_LINK_COMMUNITY,
    ERR_LINK_END_BEFORE,
    ERR_LINK_ENDED,
    ERR_LINK_HOUSEHOLD,
    ERR_LINK_OPEN,
    ERR_LINK_PERSON,
    ERR_LINK_START_BEFORE,
)

from .conftest import cadre, holder, household, months_ago, person


def _add(client, h, **data):
    return client.post(f"/duties/holders/{h.pk}/links/", data)


def _api(client, path, payload=None):
    body = "" if payload is None else json.dumps(payload)
    return client.post(path, body, content_type="application/json")


@pytest.fixture
def zhao_bare(zhao, tree):
    """赵 as 其他干部 at the county, with no links yet."""
    return holder(zhao, "cadre", tree["county"])


@pytest.fixture
def secretary(tree):
    """A community secretary of 东门社区 who is a holder there too (社区书记 rule)."""
    user = cadre(
        "sec", tree["community"], role=Role.COMMUNITY_SECRETARY, scope=DataScope.NODE_AND_BELOW
    )
    holder(user, "secretary", tree["community"], unit="东门社区居委会")
    return user


# ------------------------------------------------------------------ the holder's page


def test_an_office_adds_a_household_link_and_ends_it(client, county_officer, zhao_bare, tree):
    hh = household(tree["grid_a"], head="孙")
    month = selectors.parse_month("")
    client.force_login(county_officer)

    page = client.get(f"/duties/holders/{zhao_bare.pk}/")
    assert page.status_code == 200
    assert "添加联系对象" in page.content.decode() and 'id="link-form"' in page.content.decode()

    since = months_ago(2)
    response = _add(client, zhao_bare, kind="household", household=hh.number, started_on=since)
    assert response.status_code == 302
    assert response["Location"] == f"/duties/holders/{zhao_bare.pk}/#manage"
    added = DutyLink.objects.get(holder=zhao_bare)
    assert (added.kind, added.household, added.started_on, added.created_by) == (
        LinkKind.HOUSEHOLD,
        hh,
        since,
        county_officer,
    )
    entry = AuditEntry.objects.get(model="duties.dutylink", action=AuditAction.CREATE)
    assert entry.actor == county_officer and entry.node == tree["county"]
    assert selectors.holder_line(zhao_bare, month).done["households"] == 1
    page = client.get(f"/duties/holders/{zhao_bare.pk}/").content.decode()
    assert f"孙{hh.number[1:].lstrip('0')}户" in page
    assert f"/duties/links/{added.pk}/end/" in page and "结束联系" in page

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(f"/duties/links/{added.pk}/end/", {"ended_on": f"{yesterday}"})
    assert response.status_code == 302
    added.refresh_from_db()
    assert added.ended_on == yesterday
    entry = AuditEntry.objects.get(model="duties.dutylink", action=AuditAction.UPDATE)
    assert entry.changes == {"ended_on": [None, str(yesterday)]}
    assert selectors.holder_line(zhao_bare, month).done["households"] == 0
    page = client.get(f"/duties/holders/{zhao_bare.pk}/").content.decode()
    assert f"/duties/links/{added.pk}/end/" not in page

    # Ending it again is refused in Chinese next to the link, not a 500.
    again = client.post(f"/duties/links/{added.pk}/end/", {})
    assert again.status_code == 400 and str(ERR_LINK_ENDED) in again.content.decode()


def test_links_of_each_kind_and_the_default_dates(client, street_officer, zhao, tree):
    h = holder(zhao, "cadre", tree["street"], unit="城关街道办")
    target = person(tree["grid_b"], household(tree["grid_b"]))
    client.force_login(street_officer)

    assert (
        _add(client, h, kind="community", community=tree["other_community"].code).status_code == 302
    )
    assert _add(client, h, kind="target", person=f"#{target.pk}").status_code == 302
    links = {ln.kind: ln for ln in DutyLink.objects.filter(holder=h)}
    assert links["community"].community == tree["other_community"]
    assert links["target"].person == target
    assert {ln.started_on for ln in links.values()} == {timezone.localdate()}

    # a link may not start before the duty
    early = _add(
        client,
        h,
        kind="household",
        household=household(tree["grid_a"]).number,
        started_on=f"{h.active_from - dt.timedelta(days=1)}",
    )
    assert early.status_code == 400
    assert ERR_LINK_START_BEFORE.format(start=h.active_from) in early.content.decode()

    # the picker finds households by number and offers to add them
    hh = household(tree["grid_a"], head="周")
    found = client.get(f"/duties/holders/{h.pk}/?find={hh.number}").content.decode()
    assert f'name="household" value="{hh.number}"' in found and "添加为联系户" in found


def test_targets_outside_the_offices_scope_are_refused(client, community_worker, secretary, tree):
    """东门社区's office manages the holders of 东门社区, with targets of 东门社区 only."""
    other = holder(
        cadre("wu", tree["community"]), "cadre", tree["community"], unit="东门社区居委会"
    )
    elsewhere = household(tree["grid_c"])  # 南苑社区
    outsider_person = person(tree["grid_c"])
    client.force_login(community_worker)

    for data, field_error in [
        ({"kind": "household", "household": elsewhere.number}, ERR_LINK_HOUSEHOLD),
        ({"kind": "household", "household": "NO-SUCH-NUMBER"}, ERR_LINK_HOUSEHOLD),
        ({"kind": "target", "person": f"#{outsider_person.pk}"}, ERR_LINK_PERSON),
        ({"kind": "target", "person": "#99999999"}, ERR_LINK_PERSON),
    ]:
        response = _add(client, other, **data)
        assert response.status_code == 400, data
        assert str(field_error) in response.content.decode()
        assert elsewhere.address not in response.content.decode()
    # 南苑社区 is not even among the communities offered
    page = client.get(f"/duties/holders/{other.pk}/").content.decode()
    assert "东门社区" in page and "南苑社区" not in page
    response = _add(client, other, kind="community", community=tree["other_community"].code)
    assert response.status_code == 400
    assert not DutyLink.objects.filter(holder=other).exists()

    api = _api(
        client,
        f"/api/duties/holders/{other.pk}/links",
        {"kind": "household", "household_number": elsewhere.number},
    )
    assert api.status_code == 400
    assert api.json()["errors"] == {"household_number": [ERR_LINK_HOUSEHOLD]}
    api = _api(
        client,
        f"/api/duties/holders/{other.pk}/links",
        {"kind": "community", "community_code": tree["other_community"].code},
    )
    assert api.json()["errors"] == {"community_code": [ERR_LINK_COMMUNITY]}
    # a household of 东门社区 is fine
    ok = _add(client, other, kind="household", household=household(tree["grid_b"]).number)
    assert ok.status_code == 302


def test_the_holder_and_grid_workers_may_not_manage(
    client, zhao, zhao_duty, grid_a_worker, secretary, community_worker, tree
):
    own_link = zhao_duty.links.first()
    hh = household(tree["grid_a"])

    client.force_login(zhao)
    page = client.get(f"/duties/holders/{zhao_duty.pk}/").content.decode()
    assert "添加联系对象" not in page and "/end/" not in page
    assert _add(client, zhao_duty, kind="household", household=hh.number).status_code == 403
    assert client.post(f"/duties/links/{own_link.pk}/end/").status_code == 403
    body = {"kind": "household", "household_number": hh.number}
    assert _api(client, f"/api/duties/holders/{zhao_duty.pk}/links", body).status_code == 403
    assert _api(client, f"/api/duties/links/{own_link.pk}/end").status_code == 403
    assert client.get("/duties/holders/new/").status_code == 403
    assert "新增联系任务" not in client.get("/duties/").content.decode()

    client.force_login(grid_a_worker)  # does not see a county holder at all
    assert _add(client, zhao_duty, kind="household", household=hh.number).status_code == 404
    assert client.post(f"/duties/links/{own_link.pk}/end/").status_code == 404
    assert _api(client, f"/api/duties/holders/{zhao_duty.pk}/links", body).status_code == 404
    assert _api(client, f"/api/duties/links/{own_link.pk}/end").status_code == 404
    assert client.get("/duties/holders/new/").status_code == 403
    assert (
        _api(
            client, "/api/duties/holders", {"rule": "cadre", "unit": "x", "node_code": "1"}
        ).status_code
        == 403
    )

    # A secretary manages the other holders of the community, never their own duty.
    own = DutyHolder.objects.get(user=secretary)
    assert not permissions.can_manage_holder(secretary, own)
    assert permissions.can_manage_holder(community_worker, own)
    client.force_login(secretary)
    assert _add(client, own, kind="household", household=hh.number).status_code == 403
    assert not DutyLink.objects.filter(holder=own).exists()
    assert DutyLink.objects.filter(pk=own_link.pk, ended_on__isnull=True).exists()


def test_a_duplicate_open_link_is_refused_in_chinese(client, county_officer, zhao_bare, tree):
    hh = household(tree["grid_a"])
    client.force_login(county_officer)
    assert _add(client, zhao_bare, kind="household", household=hh.number).status_code == 302

    again = _add(client, zhao_bare, kind="household", household=hh.number)
    assert again.status_code == 400 and str(ERR_LINK_OPEN) in again.content.decode()
    api = _api(
        client,
        f"/api/duties/holders/{zhao_bare.pk}/links",
        {"kind": "household", "household_number": hh.number},
    )
    assert api.status_code == 400
    assert api.json() == {"detail": "输入有误", "errors": {"household_number": [ERR_LINK_OPEN]}}
    assert DutyLink.objects.filter(holder=zhao_bare).count() == 1


# ------------------------------------------------------------------ new holders


def test_an_office_creates_a_holder_on_the_page(client, county_officer, qian, tree):
    client.force_login(county_officer)
    index = client.get("/duties/").content.decode()
    assert 'href="/duties/holders/new/"' in index and "新增联系任务" in index
    form = client.get("/duties/holders/new/")
    assert form.status_code == 200 and 'id="holder-form"' in form.content.decode()
    data = {
        "user": qian.full_name,
        "rule": DutyRule.objects.get(code="leader").pk,
        "unit": "县民政局",
        "position": "副局长",
        "node": tree["county"].pk,
        "active_from": f"{timezone.localdate()}",
    }

    response = client.post("/duties/holders/new/", data)

    h = DutyHolder.objects.get(user=qian)
    assert response.status_code == 302
    assert response["Location"] == f"/duties/holders/{h.pk}/#manage"
    assert (h.rule.code, h.unit, h.position, h.node, h.active_to, h.created_by) == (
        "leader",
        "县民政局",
        "副局长",
        tree["county"],
        None,
        county_officer,
    )
    assert AuditEntry.objects.filter(model="duties.dutyholder", action=AuditAction.CREATE).exists()

    again = client.post("/duties/holders/new/", data)
    assert again.status_code == 400 and str(ERR_HOLDER_OPEN) in again.content.decode()
    assert DutyHolder.objects.filter(user=qian).count() == 1


def test_the_holder_is_named_by_full_name_or_username_and_namesakes_are_told_apart(
    client, county_officer, tree
):
    first = cadre("zhangwei1", tree["county"])
    second = cadre("zhangwei2", tree["street"])
    for u in (first, second):
        u.full_name = "张伟"
        u.save(update_fields=["full_name"])
    client.force_login(county_officer)
    form = client.get("/duties/holders/new/").content.decode()
    assert '<option value="zhangwei1">张伟（zhangwei1）</option>' in form  # suggestions
    data = {
        "user": "张伟",
        "rule": DutyRule.objects.get(code="cadre").pk,
        "unit": "县民政局",
        "node": tree["county"].pk,
        "active_from": f"{timezone.localdate()}",
    }
    response = client.post("/duties/holders/new/", data)
    assert response.status_code == 400
    assert "有多位同名用户，请填写用户名：zhangwei1、zhangwei2" in response.content.decode()
    data["user"] = " zhangwei2 "
    assert client.post("/duties/holders/new/", data).status_code == 302
    assert DutyHolder.objects.get().user == second


def test_a_street_office_places_holders_in_its_street_only(client, street_officer, tree):
    worker = cadre("wang", tree["street"], role=Role.COMMUNITY_WORKER)
    far = cadre("far", tree["county"])  # assigned at the county: not the street's to give
    client.force_login(street_officer)
    form = client.get("/duties/holders/new/").content.decode()
    assert "wang" in form and "far" not in form and "民安县" not in form
    data = {
        "user": worker.username,
        "rule": DutyRule.objects.get(code="cadre").pk,
        "unit": "城关街道办",
        "node": tree["county"].pk,
        "active_from": f"{timezone.localdate()}",
    }
    assert client.post("/duties/holders/new/", data).status_code == 400
    data["user"] = far.username
    data["node"] = tree["street"].pk
    assert client.post("/duties/holders/new/", data).status_code == 400
    assert not DutyHolder.objects.exists()


def test_an_office_creates_a_holder_through_the_api(client, street_officer, qian, tree):
    worker = cadre("wang", tree["community"], role=Role.COMMUNITY_WORKER)
    client.force_login(street_officer)
    payload = {
        "username": "wang",
        "rule": "cadre",
        "unit": "城关街道办",
        "node_code": tree["street"].code,
    }

    response = _api(client, "/api/duties/holders", payload)

    assert response.status_code == 201, response.content
    body = response.json()
    h = DutyHolder.objects.get(pk=body["id"])
    assert (h.user, h.node, h.active_from) == (worker, tree["street"], timezone.localdate())
    assert body["rule"] == "cadre" and body["node_code"] == tree["street"].code

    bad = _api(
        client,
        "/api/duties/holders",
        {**payload, "username": "", "user_id": qian.pk, "node_code": tree["county"].code},
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"user_id": [ERR_HOLDER_USER], "node_code": [ERR_HOLDER_NODE]}
    assert _api(client, "/api/duties/holders", payload).json()["errors"] == {
        "username": [ERR_HOLDER_OPEN]
    }

    # then its links, and ending one
    hh = household(tree["grid_a"])
    added = _api(
        client,
        f"/api/duties/holders/{h.pk}/links",
        {"kind": "household", "household_number": hh.number},
    )
    assert added.status_code == 201 and added.json()["household_number"] == hh.number
    link_id = added.json()["id"]
    before = _api(
        client,
        f"/api/duties/links/{link_id}/end",
        {"ended_on": f"{timezone.localdate() - dt.timedelta(days=1)}"},
    )
    assert before.status_code == 400
    assert before.json()["errors"] == {
        "ended_on": [ERR_LINK_END_BEFORE.format(start=timezone.localdate())]
    }
    ended = _api(client, f"/api/duties/links/{link_id}/end")
    assert ended.status_code == 200 and ended.json()["ended_on"] == f"{timezone.localdate()}"
    twice = _api(client, f"/api/duties/links/{link_id}/end", {})
    assert twice.status_code == 400 and twice.json()["errors"] == {"__all__": [ERR_LINK_ENDED]}


# ------------------------------------------------------------------ no input answers 500


def test_bad_api_input_answers_400_not_500(client, county_officer, zhao_bare, tree):
    client.force_login(county_officer)
    links = f"/api/duties/holders/{zhao_bare.pk}/links"
    hh = household(tree["grid_a"])
    for payload in [
        {"kind": "nonsense", "household_number": hh.number},
        {"kind": "household"},
        {"kind": "household", "household_number": " "},
        {"kind": "target", "person_id": 2**63 - 1},
        {"kind": "community", "community_code": "中" * 20},
        {"kind": "household", "household_number": hh.number, "started_on": "0001-01-01"},
        {"kind": "household", "household_number": hh.number, "started_on": "9999-12-31"},
    ]:
        response = _api(client, links, payload)
        assert response.status_code == 400, (payload, response.content)
        assert response.json()["errors"], payload
    for payload in [
        {"kind": "target", "person_id": 2**64},
        {"kind": "household", "household_number": "a\x00b"},
        {"kind": ["household"]},
        {"kind": "household", "started_on": "2026-02-30"},
        "not an object",
    ]:
        assert _api(client, links, payload).status_code == 422, payload
    for path in [
        "/api/duties/holders/9223372036854775808/links",
        "/api/duties/holders/0/links",
        "/api/duties/links/99999999999999999999/end",
    ]:
        assert _api(client, path, {"kind": "household"}).status_code in (404, 422), path
    response = _api(
        client,
        "/api/duties/holders",
        {
            "user_id": 2**63 - 1,
            "rule": "x",
            "unit": " ",
            "node_code": "",
            "active_to": "2000-01-01",
        },
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"user_id", "rule", "unit", "node_code", "active_to"}


def test_bad_page_input_answers_400_not_500(client, county_officer, zhao_bare, tree):
    client.force_login(county_officer)
    for data in [
        {"kind": "household", "household": "x" * 31},
        {"kind": "target", "person": "#" + "9" * 40},
        {"kind": "target", "person": "9" * 12},
        {"kind": "community", "community": "330188"},
        {"kind": "household", "started_on": "2026-13-01"},
        {},
    ]:
        assert _add(client, zhao_bare, **data).status_code == 400, data
    assert client.post("/duties/holders/new/", {"user": "9" * 30, "node": "-1"}).status_code == 400
    assert client.post("/duties/links/99999999999999999999/end/").status_code == 404
    find = client.get(f"/duties/holders/{zhao_bare.pk}/?find=" + "中" * 200)
    assert find.status_code == 200


MANAGE_OPERATIONS = [
    op
    for op in OPERATIONS
    if op[0] == "POST"
    and op[1]
    in {"/api/duties/holders", "/api/duties/holders/{pk}/links", "/api/duties/links/{pk}/end"}
]


@pytest.mark.parametrize("op", MANAGE_OPERATIONS, ids=[f"{o[0]} {o[1]}" for o in MANAGE_OPERATIONS])
def test_no_input_to_the_manage_endpoints_answers_500(op, county_officer, zhao_duty, qian, tree):
    """The fuzzer of test_fuzz (which runs as a grid worker, refused early) with an office's
    token and good ids, so its inputs reach the services."""
    assert len(MANAGE_OPERATIONS) == 3
    hh = household(tree["grid_a"])
    target = person(tree["grid_b"])
    _, raw = ApiToken.issue(user=county_officer, name="fuzz")
    world = World(
        token=raw,
        ints={
            "pk": [zhao_duty.pk, zhao_duty.links.first().pk],
            "user_id": [qian.pk],
            "person_id": [target.pk],
        },
        hints={
            "kind": ["community", "household", "target"],
            "community_code": [tree["community"].code, tree["other_community"].code],
            "household_number": [hh.number],
            "username": ["qian", "zhao"],
            "rule": ["cadre", "leader", "secretary"],
            "unit": ["县民政局", " "],
            "node_code": [tree["county"].code, tree["street"].code, tree["grid_a"].code],
            "started_on": ["2026-01-01", f"{timezone.localdate()}"],
            "ended_on": ["2026-01-01", f"{timezone.localdate()}"],
            "active_from": ["2026-01-01"],
            "active_to": ["2025-01-01", "2027-01-01"],
        },
    )
    fuzz_operation(op, world, Sender(world, county_officer))


def test_one_duty_at_a_time_and_a_leavers_days_are_theirs_to_catch_up(
    client, county_officer, zhao, tree
):
    """QA: three overlapping duties for one cadre were each accepted and each reported (quotas
    counted three times), while a day went to the latest only; and a duty that had ended could
    not record its last days (the duty in force *today* was asked for): its gap stayed."""
    import datetime as dt

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from minqing.duties import services
    from minqing.duties.models import DutyRule

    today = timezone.localdate()
    data = {"user": zhao, "rule": DutyRule.objects.get(code="cadre"), "unit": "县民政局",
            "node": tree["county"], "active_from": today - dt.timedelta(days=40),
            "active_to": today - dt.timedelta(days=10)}  # fmt: skip
    ended = services.office_holder_create(acting_user=county_officer, data=data)
    for start, end in ((today - dt.timedelta(days=20), None),
                       (today - dt.timedelta(days=60), today - dt.timedelta(days=30))):  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            services.office_holder_create(acting_user=county_officer,
                                          data={**data, "active_from": start, "active_to": end})  # fmt: skip
        assert "时段不能重叠" in str(exc.value.message_dict["user"])
    services.office_holder_create(acting_user=county_officer,
                                  data={**data, "active_from": today - dt.timedelta(days=9),
                                        "active_to": None})  # fmt: skip
    from minqing.duties.tests.conftest import link

    link(ended, tree["community"], since=ended.active_from)
    day = services.day_record(acting_user=zhao, date=today - dt.timedelta(days=15),
                              community=tree["community"])  # fmt: skip
    assert day.holder == ended


def test_an_office_ends_a_cadres_duty_with_its_links(client, county_officer, zhao_duty, tree):
    """QA: a cadre who left kept their duty: no page or API call ended it (only the admin)."""
    import datetime as dt

    from django.utils import timezone

    from minqing.core.models import AuditEntry

    today = timezone.localdate()
    client.force_login(county_officer)
    page = client.get(f"/duties/holders/{zhao_duty.pk}/").content.decode()
    assert f"/duties/holders/{zhao_duty.pk}/end/" in page
    r = _api(client, f"/api/duties/holders/{zhao_duty.pk}/end", {"ended_on": str(today)})
    assert r.status_code == 200, r.content
    zhao_duty.refresh_from_db()
    assert zhao_duty.active_to == today
    assert not zhao_duty.links.filter(ended_on__isnull=True).exists()
    entry = AuditEntry.objects.filter(model="duties.dutyholder").latest("id")
    assert entry.changes["active_to"] == [None, str(today)]
    r = _api(client, f"/api/duties/holders/{zhao_duty.pk}/end",
             {"ended_on": str(today - dt.timedelta(days=1))})  # fmt: skip
    assert r.status_code == 200  # the same day's end moved back a day: still this office's
    zhao_duty.refresh_from_db()
    assert zhao_duty.active_to == today - dt.timedelta(days=1)
    assert not zhao_duty.links.filter(ended_on__gt=zhao_duty.active_to).exists()  # trimmed
    r = _api(client, f"/api/duties/holders/{zhao_duty.pk}/end",
             {"ended_on": str(today + dt.timedelta(days=30))})  # fmt: skip
    assert r.status_code == 400  # never moved on (it could run into the next duty)
    # The cadre themself may not end it; an office elsewhere does not see it.
    client.force_login(zhao_duty.user)
    r = _api(client, f"/api/duties/holders/{zhao_duty.pk}/end", {})
    assert r.status_code in (403, 404)


def test_a_cadre_whose_duty_ended_records_its_last_days_on_the_page(
    client, county_officer, zhao_duty, tree
):
    """Review: the service filed a day under the duty in force on its date, but the page still
    asked for today's duty — a leaver got 404 and no form."""
    import datetime as dt

    from django.utils import timezone

    from minqing.duties import services
    from minqing.duties.models import DutyDay

    today = timezone.localdate()
    services.office_holder_end(acting_user=county_officer, holder=zhao_duty,
                               ended_on=today - dt.timedelta(days=3))  # fmt: skip
    client.force_login(zhao_duty.user)
    page = client.get("/duties/").content.decode()
    assert 'action="/duties/days/"' in page
    day = today - dt.timedelta(days=5)
    r = client.post("/duties/days/", {"date": day.isoformat(), "community": tree["community"].pk,
                                      "kind": "stay", "note": ""})  # fmt: skip
    assert r.status_code in (302, 200), r.status_code
    assert DutyDay.objects.filter(holder=zhao_duty, date=day).exists()


def test_an_end_set_for_later_can_be_brought_forward_on_the_page(
    client, county_officer, zhao_duty, tree
):
    """QA: once a duty had an end date, even a future one, the 结束联系任务 form was gone."""
    import datetime as dt

    from django.utils import timezone

    from minqing.core.models import AuditEntry
    from minqing.core.templatetags.minqing_tags import field_label
    from minqing.duties import services

    today = timezone.localdate()
    services.office_holder_end(acting_user=county_officer, holder=zhao_duty,
                               ended_on=today + dt.timedelta(days=20))  # fmt: skip
    client.force_login(county_officer)
    page = client.get(f"/duties/holders/{zhao_duty.pk}/").content.decode()
    assert f"/duties/holders/{zhao_duty.pk}/end/" in page
    r = client.post(f"/duties/holders/{zhao_duty.pk}/end/", {"ended_on": today.isoformat()})
    assert r.status_code == 302
    zhao_duty.refresh_from_db()
    assert zhao_duty.active_to == today
    entry = AuditEntry.objects.filter(model="duties.dutyholder").latest("id")
    assert field_label(entry.model, "links_ended") == "一并结束的联系"
