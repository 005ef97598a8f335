"""帮扶人交接: a leaving helper's running pairings and group places go to a successor at once —
through the service, the helper's page and the API; what the office does not manage or the
programme's rules refuse stays, with the reason."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from minqing.assistance import handover, services
from minqing.assistance.models import HelpEntry, Helper, HelperGroup, HelperKind, Pairing
from minqing.core.forms import PermissionDenied
from minqing.core.models import AuditEntry

from .conftest import _cadre, pair, programme


def helpers_of(p: Pairing) -> set[int]:
    return set(Pairing.objects.get(pk=p.pk).helpers.values_list("pk", flat=True))


@pytest.fixture
def cadre3_helper(office, tree):
    return services.helper_create(
        acting_user=office,
        data={"kind": HelperKind.CADRE, "user": _cadre("cadre3", tree["county"]), "node": tree["county"]},
    )  # fmt: skip


@pytest.fixture
def unit_helper(office, tree):
    return services.helper_create(
        acting_user=office,
        data={"kind": HelperKind.UNIT, "name": "县供电公司", "node": tree["county"]},
    )


def test_the_successor_takes_each_running_pairing_and_co_helpers_stay(
    office, cadre, cadre_helper, cadre2_helper, cadre3_helper, household_a, household_b
):
    one = pair(office, "cadre", [cadre_helper], household=household_a)
    many = pair(office, "many", [cadre_helper, cadre2_helper], household=household_b)
    services.help_entry_add(
        acting_user=cadre, pairing=one, data={"kind": "visit", "text": "入户", "occurred_on": dt.date(2026, 2, 1)}
    )  # fmt: skip
    ended = pair(office, "cadre", [cadre_helper], household=household_b)
    services.pairing_end(acting_user=office, pairing=ended, reason="脱贫")

    done = handover.hand_over(
        acting_user=office, helper=cadre_helper, successor=cadre3_helper, reason="工作调动"
    )

    assert {p.pk for p in done.pairings} == {one.pk, many.pk} and done.skipped == []
    assert helpers_of(one) == {cadre3_helper.pk}
    assert helpers_of(many) == {cadre2_helper.pk, cadre3_helper.pk}
    assert helpers_of(ended) == {cadre_helper.pk}  # an ended pairing is history
    assert HelpEntry.objects.get(pairing=one).helper == cadre_helper
    entry = AuditEntry.objects.filter(model="assistance.pairing", object_id=str(one.pk)).latest(
        "pk"
    )
    assert entry.reason == "工作调动"
    assert entry.changes["helpers"] == [cadre_helper.name, cadre3_helper.name]
    assert Pairing.objects.get(pk=one.pk).start == one.start  # the pairing goes on


def test_a_rule_the_move_would_break_leaves_that_pairing_and_says_why(
    office, cadre_helper, cadre2_helper, household_a, household_b
):
    one = pair(office, "cadre", [cadre_helper], household=household_a)
    many = pair(office, "many", [cadre_helper, cadre2_helper], household=household_b)
    # cadre2 already helps the many-to-one pair: it would be left with one helper.
    done = handover.hand_over(
        acting_user=office, helper=cadre_helper, successor=cadre2_helper, reason="退休"
    )
    assert [p.pk for p in done.pairings] == [one.pk]
    assert done.skipped == [(many.target_name, str(services.ERR_MANY_HELPERS))]
    assert helpers_of(many) == {cadre_helper.pk, cadre2_helper.pk}
    assert helpers_of(one) == {cadre2_helper.pk}


def test_group_places_move_and_their_pairings_follow(
    office, cadre_helper, cadre3_helper, mother, household_a, tree
):
    group = HelperGroup.objects.create(
        programme=programme("group"), name="一组", node=tree["community"]
    )
    group.members.set([cadre_helper, mother])
    p = pair(office, "group", group=group, household=household_a)
    done = handover.hand_over(
        acting_user=office, helper=cadre_helper, successor=cadre3_helper, reason="工作调动"
    )
    assert [g.pk for g in done.groups] == [group.pk] and [x.pk for x in done.pairings] == [p.pk]
    assert set(group.members.values_list("pk", flat=True)) == {mother.pk, cadre3_helper.pk}
    assert helpers_of(p) == {mother.pk, cadre3_helper.pk}
    audit = AuditEntry.objects.filter(model="assistance.helpergroup", object_id=str(group.pk))
    assert audit.latest("pk").reason == "工作调动"


def test_an_office_hands_over_only_what_it_manages(
    office, community_worker, cadre_helper, mother, household_a, household_c, tree
):
    ours = pair(office, "cadre", [cadre_helper], household=household_a)
    theirs = pair(office, "cadre", [cadre_helper], household=household_c)
    group = HelperGroup.objects.create(
        programme=programme("group"), name="南苑一组", node=tree["other_community"]
    )
    group.members.set([cadre_helper])
    done = handover.hand_over(
        acting_user=community_worker, helper=cadre_helper, successor=mother, reason="工作调动"
    )
    assert [p.pk for p in done.pairings] == [ours.pk] and done.groups == []
    assert set(done.skipped) == {
        ("南苑一组", str(handover.SKIP_GROUP_NOT_YOURS)),
        (theirs.target_name, str(handover.SKIP_NOT_YOURS)),
    }
    assert helpers_of(ours) == {mother.pk} and helpers_of(theirs) == {cadre_helper.pk}
    assert list(group.members.all()) == [cadre_helper]


def test_refusals_change_nothing(
    office,
    grid_a_worker,
    cadre_helper,
    cadre2_helper,
    cadre3_helper,
    unit_helper,
    mother2,
    household_a,
):
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    services.helper_disqualify(acting_user=office, helper=cadre2_helper, reason="长期未联系")
    cases = [
        (None, "工作调动", "successor", handover.ERR_NO_SUCCESSOR),
        (cadre_helper, "工作调动", "successor", handover.ERR_SAME_HELPER),
        (cadre2_helper, "工作调动", "successor", handover.ERR_SUCCESSOR),
        (unit_helper, "工作调动", "successor", handover.ERR_SUCCESSOR_KIND),
        (cadre3_helper, "  ", "reason", services.ERR_REQUIRED),
    ]
    for successor, reason, field, message in cases:
        with pytest.raises(ValidationError) as exc:
            handover.hand_over(
                acting_user=office, helper=cadre_helper, successor=successor, reason=reason
            )
        assert exc.value.message_dict[field] == [str(message)], (successor, reason)
    with pytest.raises(ValidationError) as exc:
        handover.hand_over(acting_user=office, helper=mother2, successor=cadre3_helper, reason="x")
    assert exc.value.message_dict["successor"] == [str(handover.ERR_NOTHING)]
    with pytest.raises(PermissionDenied):
        handover.hand_over(
            acting_user=grid_a_worker, helper=cadre_helper, successor=cadre3_helper, reason="x"
        )
    assert helpers_of(p) == {cadre_helper.pk}
    assert not AuditEntry.objects.filter(
        model="assistance.pairing", object_id=str(p.pk), action="update"
    ).exists()
    # The successors offered: qualified, not the leaver, of the leaver's sort.
    offered = set(handover.successors(office, cadre_helper).values_list("pk", flat=True))
    assert cadre3_helper.pk in offered and mother2.pk in offered
    assert offered.isdisjoint({cadre_helper.pk, cadre2_helper.pk, unit_helper.pk})


def test_on_the_helpers_page(
    client,
    office,
    grid_a_worker,
    cadre_helper,
    cadre3_helper,
    mother,
    household_a,
    household_b,
    tree,
):
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    url = f"/assistance/helpers/{cadre_helper.pk}/"
    client.force_login(office)
    page = client.get(url).content.decode()
    assert f'action="{url}handover/"' in page and "帮扶人交接" in page
    assert f'value="{cadre3_helper.pk}"' in page
    assert 'name="handover-reason"' in page and 'id="field-handover-reason"' in page

    r = client.post(f"{url}handover/", {"handover-successor": cadre3_helper.pk})
    assert r.status_code == 400 and 'has-error" id="field-handover-reason"' in r.content.decode()
    assert helpers_of(p) == {cadre_helper.pk}

    r = client.post(
        f"{url}handover/", {"handover-successor": cadre3_helper.pk, "handover-reason": "工作调动"}
    )
    assert r.status_code == 302 and r["Location"] == url
    shown = client.get(url).content.decode()
    assert f"已将 1 个结对、0 个帮扶小组交给{cadre3_helper.name}" in shown
    assert helpers_of(p) == {cadre3_helper.pk}
    # Nothing left to hand over: the section is gone.
    assert f"{url}handover/" not in client.get(url).content.decode()

    # What was not handed over is listed with the reason.
    other = pair(office, "cadre", [mother], household=household_b)
    group = HelperGroup.objects.create(
        programme=programme("group"), name="南苑一组", node=tree["other_community"]
    )
    group.members.set([mother])
    from conftest import _user
    from minqing.accounts.models import Role

    client.force_login(_user("dongmen2", Role.COMMUNITY_WORKER, tree["community"]))
    r = client.post(
        f"/assistance/helpers/{mother.pk}/handover/",
        {"handover-successor": cadre3_helper.pk, "handover-reason": "搬家"},
        follow=True,
    )
    text = r.content.decode()
    assert "已将 1 个结对、0 个帮扶小组" in text
    assert f"南苑一组 未交接：{handover.SKIP_GROUP_NOT_YOURS}" in text
    assert helpers_of(other) == {cadre3_helper.pk}

    # A grid worker may see a helper but not hand them over.
    client.force_login(grid_a_worker)
    assert client.post(
        f"/assistance/helpers/{cadre3_helper.pk}/handover/",
        {"handover-successor": mother.pk, "handover-reason": "x"},
    ).status_code in (403, 404)
    assert helpers_of(p) == {cadre3_helper.pk}


def test_in_the_api(client, office, cadre, cadre_helper, cadre3_helper, household_a, tree):
    from conftest import _user
    from minqing.accounts.models import Role

    p = pair(office, "cadre", [cadre_helper], household=household_a)
    url = f"/api/assistance/helpers/{cadre_helper.pk}/handover"
    client.force_login(office)
    r = client.post(url, {"successor_id": cadre_helper.pk, "reason": "x"}, "application/json")
    assert r.status_code == 400
    assert str(handover.ERR_SAME_HELPER) in str(r.json()["errors"]["successor_id"])
    r = client.post(url, {"successor_id": 2**60, "reason": "x"}, "application/json")
    assert r.status_code == 400 and "successor_id" in r.json()["errors"]
    r = client.post(url, {"successor_id": cadre3_helper.pk, "reason": "调动"}, "application/json")
    assert r.status_code == 200, r.content
    assert r.json() == {"moved_pairings": [p.pk], "joined_groups": [], "skipped": []}
    assert helpers_of(p) == {cadre3_helper.pk}
    # Someone else's office: the helper is out of sight or the act is refused.
    client.force_login(cadre)
    r = client.post(
        f"/api/assistance/helpers/{cadre3_helper.pk}/handover",
        {"successor_id": cadre_helper.pk, "reason": "x"},
        "application/json",
    )
    assert r.status_code in (403, 404)
    client.force_login(_user("nanyuan", Role.COMMUNITY_SECRETARY, tree["other_community"]))
    r = client.post(
        f"/api/assistance/helpers/{cadre3_helper.pk}/handover",
        {"successor_id": cadre_helper.pk, "reason": "x"},
        "application/json",
    )
    assert r.status_code == 200 and r.json()["skipped"] == [
        {"what": p.target_name, "reason": str(handover.SKIP_NOT_YOURS)}
    ]
    assert helpers_of(p) == {cadre3_helper.pk}
    assert Helper.objects.filter(pk=cadre3_helper.pk, disqualified_on__isnull=True).exists()


def test_the_handover_reads_in_english(client, office, cadre_helper, cadre3_helper, household_a):
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    client.force_login(office)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    url = f"/assistance/helpers/{cadre_helper.pk}/"
    page = client.get(url).content.decode()
    assert "Hand over to another helper" in page and "Successor" in page
    r = client.post(
        f"{url}handover/",
        {"handover-successor": cadre3_helper.pk, "handover-reason": "transferred"},
        follow=True,
    )
    assert f"Handed over to {cadre3_helper.name} — pairings: 1, groups: 0." in r.content.decode()
    assert helpers_of(p) == {cadre3_helper.pk}
