"""Changing a running pairing (帮扶人调动, causes, plan) and a helper's record, on the pages and in
the API: the same rules as when pairing, nothing changed on a refusal, every change audited."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from minqing.assistance import selectors, services
from minqing.assistance.models import HelpEntry, HelperGroup, Pairing
from minqing.core.models import AuditEntry

from .conftest import pair, programme


def post_json(client, url, data, method="post"):
    return getattr(client, method)(url, data, content_type="application/json")


def _audits(obj):
    return AuditEntry.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk))


# ------------------------------------------------------------------ pages: pairings


def test_helper_handover_on_the_page_keeps_history_and_moves_the_pair(
    client, office, cadre, cadre2, cadre_helper, cadre2_helper, household_a
):
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    services.help_entry_add(
        acting_user=cadre, pairing=p, data={"kind": "visit", "text": "入户", "occurred_on": dt.date(2026, 2, 1)}
    )  # fmt: skip
    client.force_login(office)
    page = client.get(f"/assistance/pairings/{p.pk}/")
    assert f"/assistance/pairings/{p.pk}/edit/" in page.content.decode()
    form = client.get(f"/assistance/pairings/{p.pk}/edit/")
    assert form.status_code == 200
    assert f'value="{cadre_helper.pk}" selected' in form.content.decode()

    r = client.post(
        f"/assistance/pairings/{p.pk}/edit/",
        {"helpers": [cadre2_helper.pk], "causes": ["illness", "skills"], "work_ability": "able",
         "note": "转由新干部联系"},
    )  # fmt: skip
    assert r.status_code == 302 and r["Location"] == f"/assistance/pairings/{p.pk}/"
    p.refresh_from_db()
    assert list(p.helpers.all()) == [cadre2_helper]
    assert p.causes == ["illness", "skills"] and p.work_ability == "able"
    assert p.note == "转由新干部联系" and p.end is None and p.start == dt.date(2026, 1, 5)
    # The help already logged stays with who gave it; the new cadre now has the pair.
    assert HelpEntry.objects.get(pairing=p).helper == cadre_helper
    assert not selectors.my_pairings(cadre).filter(pk=p.pk).exists()
    assert selectors.my_pairings(cadre2).filter(pk=p.pk).exists()
    entry = _audits(p).filter(action="update").latest("pk")
    assert entry.changes["helpers"] == [cadre_helper.name, cadre2_helper.name]
    assert entry.changes["causes"] == [[], ["illness", "skills"]]

    # Nothing sent that differs: nothing written, no audit entry.
    before = _audits(p).count()
    r = client.post(
        f"/assistance/pairings/{p.pk}/edit/",
        {"helpers": [cadre2_helper.pk], "causes": ["illness", "skills"], "work_ability": "able",
         "note": "转由新干部联系"},
    )  # fmt: skip
    assert r.status_code == 302 and _audits(p).count() == before


def test_pairing_edit_refusals_change_nothing(
    client, office, cadre_helper, cadre2_helper, household_a
):
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    client.force_login(office)
    url = f"/assistance/pairings/{p.pk}/edit/"
    for data, message in [
        ({"helpers": [cadre_helper.pk, cadre2_helper.pk]}, services.ERR_ONE_HELPER),
        ({"helpers": []}, services.ERR_HELPERS_REQUIRED),
        ({"helpers": [cadre_helper.pk], "note": "x" * 501}, "500"),
    ]:
        r = client.post(url, data)
        assert r.status_code == 400, data
        assert str(message) in r.content.decode(), data
    services.helper_disqualify(acting_user=office, helper=cadre2_helper, reason="长期未联系")
    # A disqualified helper is not offered, and one posted anyway is refused.
    assert f'value="{cadre2_helper.pk}"' not in client.get(url).content.decode()
    r = client.post(url, {"helpers": [cadre2_helper.pk]})
    assert r.status_code == 400
    with pytest.raises(ValidationError) as exc:
        services.pairing_update(acting_user=office, pairing=p, data={"helpers": [cadre2_helper]})
    assert exc.value.message_dict["helpers"] == [
        services.ERR_HELPER_DISQUALIFIED.format(name=cadre2_helper.name)
    ]
    p.refresh_from_db()
    assert list(p.helpers.all()) == [cadre_helper] and p.note == ""
    assert not _audits(p).filter(action="update").exists()

    services.pairing_end(acting_user=office, pairing=p, reason="脱贫")
    r = client.get(url)
    assert r.status_code == 302
    assert str(services.ERR_PAIRING_ENDED_EDIT) in client.get(r["Location"]).content.decode()
    r = post_json(client, f"/api/assistance/pairings/{p.pk}", {"note": "x"}, "patch")
    assert r.status_code == 400 and str(services.ERR_PAIRING_ENDED_EDIT) in str(r.json()["errors"])


def test_only_the_office_over_the_pairing_may_edit_it(
    client, office, cadre, cadre_helper, household_a, grid_a_worker, tree
):
    from conftest import _user
    from minqing.accounts.models import Role

    p = pair(office, "cadre", [cadre_helper], household=household_a)
    url = f"/assistance/pairings/{p.pk}/edit/"
    for user, status in [(cadre, 403), (grid_a_worker, 403)]:
        client.force_login(user)
        assert client.get(url).status_code == status, user
        assert client.post(url, {"helpers": []}).status_code == status, user
        assert "/edit/" not in client.get(f"/assistance/pairings/{p.pk}/").content.decode()
    stranger = _user("nanyuan", Role.COMMUNITY_SECRETARY, tree["other_community"])
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert post_json(client, f"/api/assistance/pairings/{p.pk}", {"note": "x"}, "patch").status_code == 404  # fmt: skip
    client.force_login(cadre)
    assert post_json(client, f"/api/assistance/pairings/{p.pk}", {"note": "x"}, "patch").status_code == 403  # fmt: skip
    p.refresh_from_db()
    assert p.note == ""


def test_a_group_pairing_changes_group_and_takes_its_members(
    client, office, cadre_helper, cadre2_helper, mother, mother2, household_a, tree
):
    g1 = HelperGroup.objects.create(
        programme=programme("group"), name="一组", node=tree["community"]
    )
    g1.members.set([cadre_helper, mother])
    g2 = HelperGroup.objects.create(
        programme=programme("group"), name="二组", node=tree["community"]
    )
    g2.members.set([cadre2_helper, mother2])
    p = pair(office, "group", group=g1, household=household_a)
    client.force_login(office)
    page = client.get(f"/assistance/pairings/{p.pk}/edit/").content.decode()
    assert 'name="group"' in page and 'name="helpers"' not in page
    r = post_json(client, f"/api/assistance/pairings/{p.pk}", {"group_id": g2.pk}, "patch")
    assert r.status_code == 200, r.content
    assert r.json()["group"] == "二组"
    assert {h["id"] for h in r.json()["helpers"]} == {cadre2_helper.pk, mother2.pk}
    # Helper ids are not how a group pairing is changed.
    r = post_json(client, f"/api/assistance/pairings/{p.pk}", {"helper_ids": [mother.pk]}, "patch")
    assert r.status_code == 400
    assert r.json()["errors"]["helper_ids"] == [str(services.ERR_GROUP_HELPERS)]
    r = post_json(client, f"/api/assistance/pairings/{p.pk}", {"group_id": 99999}, "patch")
    assert r.status_code == 400 and "group_id" in r.json()["errors"]


# ------------------------------------------------------------------ pages: helpers


def test_helper_edit_page_corrects_contact_details_and_audits_masked(
    client, office, mother, community_worker, cadre_helper, tree
):
    client.force_login(office)
    assert (
        f"/assistance/helpers/{mother.pk}/edit/"
        in client.get(f"/assistance/helpers/{mother.pk}/").content.decode()
    )
    url = f"/assistance/helpers/{mother.pk}/edit/"
    form = client.get(url).content.decode()
    assert 'value="王爱心"' in form and 'name="kind"' not in form
    r = client.post(url, {"name": "王爱心", "phone": "12345", "node": tree["community"].pk})
    assert r.status_code == 400 and "手机" in r.content.decode()
    mother.refresh_from_db()
    assert mother.phone == "13700002222"
    r = client.post(
        url,
        {"name": "王爱心", "phone": "13811112222", "unit_name": "县妇联", "node": tree["grid_a"].pk,
         "note": ""},
    )  # fmt: skip
    assert r.status_code == 302
    mother.refresh_from_db()
    assert (mother.phone, mother.unit_name, mother.node) == (
        "13811112222",
        "县妇联",
        tree["grid_a"],
    )
    entry = _audits(mother).filter(action="update").latest("pk")
    assert entry.changes["phone"] == ["137****2222", "138****2222"]
    assert entry.changes["node"] == [tree["community"].name, tree["grid_a"].name]
    assert "13811112222" not in str(entry.changes)

    # A community sees the county's cadres (to pair them) but does not edit their records.
    client.force_login(community_worker)
    assert client.get(f"/assistance/helpers/{cadre_helper.pk}/").status_code == 200
    assert client.get(f"/assistance/helpers/{cadre_helper.pk}/edit/").status_code == 403
    r = post_json(client, f"/api/assistance/helpers/{cadre_helper.pk}", {"phone": "13800000000"}, "patch")  # fmt: skip
    assert r.status_code == 403


def test_an_account_holders_blank_name_falls_back_to_the_account(
    client, office, cadre_helper, cadre
):
    client.force_login(office)
    r = post_json(client, f"/api/assistance/helpers/{cadre_helper.pk}", {"name": "  "}, "patch")
    assert r.status_code == 200 and r.json()["name"] == cadre.full_name


# ------------------------------------------------------------------ API writes


def test_api_registers_pairs_hands_over_and_ends(client, office, cadre, household_a, tree):
    client.force_login(office)
    r = post_json(
        client,
        "/api/assistance/helpers/",
        {"kind": "cadre", "username": "cadre", "phone": "13900001111", "node_code": tree["county"].code},
    )  # fmt: skip
    assert r.status_code == 201, r.content
    first = r.json()
    assert first["username"] == "cadre" and first["phone_masked"] == "139****1111"
    r = post_json(client, "/api/assistance/helpers/", {"kind": "volunteer", "name": "赵志愿", "node_code": tree["community"].code})  # fmt: skip
    assert r.status_code == 201
    second = r.json()
    listed = client.get("/api/assistance/helpers/?q=赵").json()
    assert [h["id"] for h in listed["items"]] == [second["id"]]

    r = post_json(
        client,
        "/api/assistance/pairings/",
        {"programme": "cadre", "household_id": household_a.pk, "helper_ids": [first["id"]],
         "causes": ["illness"], "work_ability": "unable", "start": "2026-03-02"},
    )  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["target_name"] and body["causes"] == ["illness"] and body["start"] == "2026-03-02"
    pk = body["id"]
    r = post_json(client, f"/api/assistance/pairings/{pk}", {"helper_ids": [second["id"]]}, "patch")
    assert r.status_code == 200 and [h["name"] for h in r.json()["helpers"]] == ["赵志愿"]
    r = post_json(client, f"/api/assistance/pairings/{pk}/end", {"reason": "已脱贫"})
    assert r.status_code == 200 and r.json()["active"] is False
    r = post_json(client, f"/api/assistance/pairings/{pk}/end", {"reason": "再次"})
    assert r.status_code == 400

    r = post_json(client, f"/api/assistance/helpers/{first['id']}/disqualify", {"reason": "调离"})
    assert r.status_code == 200 and r.json()["helper"]["qualified"] is False
    assert r.json()["ended_pairings"] == []


def test_api_pairing_errors_name_the_field(
    client, office, cadre_helper, household_a, household_c, community_worker
):
    client.force_login(office)
    url = "/api/assistance/pairings/"
    base = {"programme": "cadre", "household_id": household_a.pk, "helper_ids": [cadre_helper.pk]}
    cases = [
        ({**base, "programme": "nope"}, "programme"),
        ({**base, "helper_ids": [999999]}, "helper_ids"),
        ({**base, "household_id": None}, "household_id"),
        ({**base, "household_id": 999999}, "household_id"),
        ({**base, "causes": ["laziness"]}, "causes"),
        ({**base, "work_ability": "maybe"}, "work_ability"),
        ({**base, "start": "2099-01-01"}, "start"),
        ({"programme": "unit", "node_code": "999"}, "node_code"),
    ]
    for payload, field in cases:
        r = post_json(client, url, payload)
        assert r.status_code == 400, (payload, r.content)
        assert field in r.json()["errors"], (payload, r.json())
    # A household of another community is out of the community secretary's scope.
    client.force_login(community_worker)
    r = post_json(client, url, {**base, "household_id": household_c.pk})
    assert r.status_code == 400 and r.json()["errors"]["household_id"] == [
        str(services.ERR_TARGET_SCOPE)
    ]
    assert Pairing.objects.count() == 0
    # Helpers' own validation.
    r = post_json(client, "/api/assistance/helpers/", {"kind": "alien", "name": "x"})
    assert r.status_code == 400 and "kind" in r.json()["errors"]
    r = post_json(client, "/api/assistance/helpers/", {"kind": "cadre", "username": "nobody"})
    assert r.status_code == 400 and "username" in r.json()["errors"]
    r = post_json(client, "/api/assistance/helpers/", {"kind": "volunteer", "name": "x", "node_code": "330188001002"})  # fmt: skip
    assert r.status_code == 400 and "node_code" in r.json()["errors"]
    assert client.get("/api/assistance/helpers/999999").status_code == 404


# ------------------------------------------------------------------ groups


def test_a_group_is_formed_on_the_page_and_its_pairings_follow_new_members(
    client, office, cadre_helper, cadre2_helper, mother, mother2, household_a, tree
):
    client.force_login(office)
    assert "/assistance/groups/new/" in client.get("/assistance/groups/").content.decode()
    form = client.get("/assistance/groups/new/").content.decode()
    assert "城乡学校结对" not in form  # only group programmes are offered
    r = client.post(
        "/assistance/groups/new/",
        {"programme": programme("group").pk, "name": "东门一组", "node": tree["community"].pk,
         "members": [cadre_helper.pk, mother.pk]},
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()
    group = HelperGroup.objects.get(name="东门一组")
    assert r["Location"] == f"/assistance/groups/{group.pk}/"
    p = pair(office, "group", group=group, household=household_a)
    listing = client.get("/assistance/groups/").content.decode()
    assert "东门一组" in listing

    r = client.post(
        f"/assistance/groups/{group.pk}/edit/", {"name": "东门一组", "members": [mother2.pk, cadre2_helper.pk]}
    )  # fmt: skip
    assert r.status_code == 302
    assert {h.pk for h in p.helpers.all()} == {mother2.pk, cadre2_helper.pk}
    entry = _audits(group).filter(action="update").latest("pk")
    assert set(entry.changes["members"][1].split("、")) == {mother2.name, cadre2_helper.name}


def test_group_refusals(client, office, cadre_helper, mother, community_worker, tree):
    client.force_login(office)
    url = "/assistance/groups/new/"
    base = {"programme": programme("group").pk, "name": "一组", "node": tree["community"].pk,
            "members": [mother.pk]}  # fmt: skip
    for data in [
        {**base, "members": []},
        {**base, "name": ""},
        {**base, "programme": programme("cadre").pk},
        {**base, "node": tree["street"].pk},
    ]:
        assert client.post(url, data).status_code == 400, data
    assert not HelperGroup.objects.exists()
    r = post_json(client, "/api/assistance/groups/", {"programme": "cadre", "name": "x", "node_code": tree["community"].code, "member_ids": [mother.pk]})  # fmt: skip
    assert r.status_code == 400 and r.json()["errors"]["programme"] == [
        str(services.ERR_GROUP_KIND)
    ]
    r = post_json(client, "/api/assistance/groups/", {"programme": "group", "name": "x", "node_code": tree["community"].code, "member_ids": [999999]})  # fmt: skip
    assert r.status_code == 400 and "member_ids" in r.json()["errors"]
    r = post_json(client, "/api/assistance/groups/", {"programme": "group", "name": "县里一组", "node_code": tree["community"].code, "member_ids": [cadre_helper.pk, mother.pk]})  # fmt: skip
    assert r.status_code == 201, r.content
    gid = r.json()["id"]
    assert r.json()["can_edit"] is True and len(r.json()["members"]) == 2

    # The community may edit its own group; a neighbouring community sees nothing.
    client.force_login(community_worker)
    r = post_json(client, f"/api/assistance/groups/{gid}", {"name": "东门二组"}, "patch")
    assert r.status_code == 200 and r.json()["name"] == "东门二组"
    from conftest import _user
    from minqing.accounts.models import Role

    client.force_login(_user("nanyuan", Role.COMMUNITY_SECRETARY, tree["other_community"]))
    assert client.get(f"/assistance/groups/{gid}/").status_code == 404
    assert client.get(f"/assistance/groups/{gid}/edit/").status_code == 404
    assert post_json(client, f"/api/assistance/groups/{gid}", {"name": "x"}, "patch").status_code == 404  # fmt: skip
    assert client.get("/api/assistance/groups/").json()["count"] == 0


def test_the_api_group_list_reads_all_groups_at_once(client, office, cadre_helper, mother, tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(name):
        g = HelperGroup.objects.create(
            programme=programme("group"), name=name, node=tree["community"]
        )
        g.members.set([cadre_helper, mother])

    client.force_login(office)
    add("一组")
    client.get("/api/assistance/groups/")  # the session's first request reads a little more
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/assistance/groups/").json()["count"] == 1
    add("二组")
    add("三组")
    with CaptureQueriesContext(connection) as three:
        body = client.get("/api/assistance/groups/").json()
    assert body["count"] == 3 and all(
        g["can_edit"] and len(g["members"]) == 2 for g in body["items"]
    )
    assert len(three.captured_queries) == len(one.captured_queries)
