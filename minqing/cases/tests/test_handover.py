"""改派 (one case to another handler) and 案件交接 (all of one person's cases at once)."""

import pytest
from django.core.exceptions import ValidationError

from minqing.cases import handover, services
from minqing.cases.models import CaseEvent, ExtensionRequest, ExtensionStatus, Notification, Status
from minqing.cases.tests import test_workflow as tw
from minqing.cases.tests.test_workflow import (
    NOTE,
    act,
    dispatched,
    s_community_registered,
    s_dispatched,
    s_handling,
    s_transferred,
)
from minqing.core.forms import PermissionDenied

# The state machine's personas and its two autouse fixtures (MD5 passwords, a fresh calendar).
world = tw.world
fast_passwords = tw.fast_passwords
fresh_calendar = tw.fresh_calendar


def notes_of(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("message_key", flat=True))


def test_reassign_gives_the_case_to_another_handler_and_keeps_state_and_clock(world):
    case = s_handling(world)
    deadline, handle_deadline, dispatched_at = (
        case.deadline,
        case.handle_deadline,
        case.dispatched_at,
    )
    new = world.users["grid_a_worker"]

    after = act(world, case, "community_secretary", "reassign", target_user=new, note="小周调岗")

    assert after.status == Status.HANDLING
    assert after.handler_user_id == new.pk and after.handler_unit_id is None
    assert (after.deadline, after.handle_deadline, after.dispatched_at) == (
        deadline,
        handle_deadline,
        dispatched_at,
    )
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.action, event.target_user_id, event.note) == ("reassign", new.pk, "小周调岗")
    assert (event.from_status, event.to_status) == (Status.HANDLING, Status.HANDLING)
    assert "reassigned" in notes_of(new)
    assert "reassigned_away" in notes_of(world.users["handler"])
    # The new handler acts on it; the old one no longer may.
    assert services.can_act(new, after, "feedback")
    assert not services.can_act(world.users["handler"], after, "feedback")


def test_reassign_refuses_the_same_handler_and_one_outside_the_grid(world):
    case = s_dispatched(world)
    before = (case.version, CaseEvent.objects.filter(case=case).count())
    for target, error in (
        (world.users["handler"], services.ERR_REASSIGN_SAME),
        (world.users["grid_b_worker"], services.ERR_TARGET_SCOPE),
        (None, services.ERR_TARGET),
    ):
        with pytest.raises(ValidationError) as e:
            act(world, case, "community_secretary", "reassign", target_user=target)
        assert e.value.message_dict == {"target_user": [error]}
    case.refresh_from_db()
    assert (case.version, CaseEvent.objects.filter(case=case).count()) == before
    assert case.handler_user_id == world.users["handler"].pk


def test_a_pending_extension_lapses_when_the_case_is_reassigned(world):
    case = act(world, s_handling(world), "handler", "extend_request", days=2)
    assert case.extension_pending
    after = act(
        world,
        case,
        "community_secretary",
        "reassign",
        target_user=world.users["grid_a_worker"],
    )
    assert not after.extension_pending
    request = ExtensionRequest.objects.get(case=case)
    assert request.status == ExtensionStatus.REJECTED


def test_a_department_case_may_be_reassigned_to_a_person(world):
    case = s_transferred(world)
    after = act(
        world,
        case,
        "community_secretary",
        "reassign",
        target_user=world.users["grid_a_worker"],
    )
    assert (after.handler_user_id, after.handler_unit_id) == (
        world.users["grid_a_worker"].pk,
        None,
    )
    assert "reassigned_away" in notes_of(world.users["unit_member"])


# --- 案件交接 ----------------------------------------------------------------------------------


@pytest.fixture
def held(world):
    """The handler holds three grid cases, one case held at the street, and a department's."""
    grid_cases = [s_dispatched(world), s_dispatched(world), s_handling(world)]
    street_case = act(world, s_community_registered(world), "community_secretary", "escalate")
    street_case = dispatched(world, street_case, "street_officer")
    unit_case = s_transferred(world)
    return grid_cases, street_case, unit_case


def test_holders_lists_who_holds_what_the_dispatcher_may_reassign(world, held):
    secretary = world.users["community_secretary"]
    got = handover.holders(secretary)
    assert [(h["id"], h["count"]) for h in got] == [(world.users["handler"].pk, 3)]
    street = handover.holders(world.users["street_officer"])
    assert [(h["id"], h["count"]) for h in street] == [(world.users["handler"].pk, 4)]
    assert handover.holders(world.users["grid_b_worker"]) == []


def test_hand_over_moves_every_case_the_dispatcher_may_reassign(world, held):
    grid_cases, street_case, unit_case = held
    leaver, successor = world.users["handler"], world.users["grid_a_worker"]

    done = handover.hand_over(
        acting_user=world.users["community_secretary"],
        holder=leaver,
        successor=successor,
        note="小周调往其他社区",
    )

    assert sorted(done.moved) == sorted(c.number for c in grid_cases)
    assert done.skipped == []
    for case in grid_cases:
        case.refresh_from_db()
        assert case.handler_user_id == successor.pk
        assert case.events.latest("id").note == "小周调往其他社区"
    # Held at the street: the street reassigns it, not the community.
    street_case.refresh_from_db()
    assert street_case.handler_user_id == leaver.pk
    unit_case.refresh_from_db()
    assert unit_case.handler_unit_id == world.unit.pk
    assert notes_of(successor).count("reassigned") == 3


def test_hand_over_reports_cases_that_cannot_move_and_leaves_them(world, held):
    grid_cases, _street, _unit = held
    done = handover.hand_over(
        acting_user=world.users["community_secretary"],
        holder=world.users["handler"],
        successor=world.users["grid_b_worker"],  # works in grid B only
        note=NOTE,
    )
    assert done.moved == []
    assert sorted(n for n, _ in done.skipped) == sorted(c.number for c in grid_cases)
    assert {why for _, why in done.skipped} == {str(services.ERR_TARGET_SCOPE)}
    for case in grid_cases:
        case.refresh_from_db()
        assert case.handler_user_id == world.users["handler"].pk


def test_hand_over_refuses_bad_requests(world, held):
    secretary, leaver = world.users["community_secretary"], world.users["handler"]
    with pytest.raises(ValidationError) as e:
        handover.hand_over(acting_user=secretary, holder=leaver, successor=leaver, note=NOTE)
    assert e.value.message_dict == {"successor": [handover.ERR_SAME_PERSON]}
    with pytest.raises(ValidationError) as e:
        handover.hand_over(
            acting_user=secretary, holder=leaver, successor=world.users["grid_a_worker"], note=" "
        )
    assert e.value.message_dict == {"note": [services.ERR_NOTE]}
    with pytest.raises(PermissionDenied):
        handover.hand_over(
            acting_user=world.users["grid_a_worker"],
            holder=leaver,
            successor=world.users["grid_a_worker"],
            note=NOTE,
        )
    assert handover.held_cases(secretary, leaver.pk).count() == 3


# --- the page and the API ---------------------------------------------------------------------


def test_the_handover_page_lists_reviews_and_moves(client, world, held):
    grid_cases, _street, _unit = held
    leaver, successor = world.users["handler"], world.users["grid_a_worker"]
    client.force_login(world.users["community_secretary"])

    page = client.get("/cases/handover/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "网格员小周" in text and 'href="/cases/handover/"' in text

    review = client.get(f"/cases/handover/?from={leaver.pk}").content.decode()
    assert all(c.number in review for c in grid_cases)

    refused = client.post(
        "/cases/handover/", {"holder": leaver.pk, "successor": successor.pk, "note": ""}
    )
    assert refused.status_code == 400
    assert str(services.ERR_NOTE) in refused.content.decode()
    assert handover.held_cases(world.users["community_secretary"], leaver.pk).count() == 3

    moved = client.post(
        "/cases/handover/",
        {"holder": leaver.pk, "successor": successor.pk, "note": "调岗"},
        follow=True,
    )
    assert moved.status_code == 200
    assert "已将 3 件案件改派给" in moved.content.decode()
    for case in grid_cases:
        case.refresh_from_db()
        assert case.handler_user_id == successor.pk


def test_a_grid_worker_has_no_handover_page_or_menu_entry(client, world, held):
    client.force_login(world.users["grid_a_worker"])
    assert client.get("/cases/handover/").status_code == 403
    assert 'href="/cases/handover/"' not in client.get("/cases/inbox/").content.decode()


def test_the_handover_api(client, world, held):
    grid_cases, _street, _unit = held
    leaver, successor = world.users["handler"], world.users["grid_a_worker"]
    client.force_login(world.users["community_secretary"])

    holders = client.get("/api/cases/handover/holders")
    assert holders.status_code == 200
    assert [(h["id"], h["count"]) for h in holders.json()] == [(leaver.pk, 3)]

    bad = client.post(
        "/api/cases/handover/",
        {"holder": leaver.pk, "successor": world.users["outsider"].pk, "note": "调岗"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "successor" in bad.json()["errors"]

    done = client.post(
        "/api/cases/handover/",
        {"holder": leaver.pk, "successor": successor.pk, "note": "调岗"},
        content_type="application/json",
    )
    assert done.status_code == 200
    assert sorted(done.json()["moved"]) == sorted(c.number for c in grid_cases)

    client.force_login(world.users["grid_a_worker"])
    assert client.get("/api/cases/handover/holders").status_code == 403


def test_one_case_reassigned_through_the_api(client, world):
    case = s_dispatched(world)
    client.force_login(world.users["community_secretary"])
    answer = client.post(
        f"/api/cases/{case.number}/actions/reassign",
        {"note": "病假", "target_user": world.users["grid_a_worker"].pk},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    case.refresh_from_db()
    assert case.handler_user_id == world.users["grid_a_worker"].pk
    assert case.status == Status.DISPATCHED


def test_the_handover_page_reads_in_english(client, world, held):
    import re

    client.force_login(world.users["community_secretary"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(f"/cases/handover/?from={world.users['handler'].pk}").content.decode()
    assert "<h1>Case handover</h1>" in html and "Hand over" in html
    # Headings, labels, buttons and the explanation are interface text (names are data).
    parts = re.findall(r"<(h1|h2|label|button|p)\b[^>]*>(.*?)</\1>", html, re.S)
    for _tag, inner in parts:
        text = re.sub(r"<[^>]+>", "", inner)
        if "网格员小周" not in text and text.strip() != "中文":  # a name; the language switch
            assert not re.search(r"[\u4e00-\u9fff]", text), text


def test_one_case_reassigned_on_its_page(client, world):
    case = s_handling(world)
    client.force_login(world.users["community_secretary"])
    page = client.get(f"/cases/{case.number}/").content.decode()
    form = page.split('id="act-reassign"', 1)[1].split("</form>", 1)[0]
    # The current handler is not offered; the other grid A worker is.
    assert f'value="{world.users["handler"].pk}"' not in form
    assert f'value="{world.users["grid_a_worker"].pk}"' in form
    answer = client.post(
        f"/cases/{case.number}/act/reassign/",
        {"version": case.version, "target_user": world.users["grid_a_worker"].pk, "note": "病假"},
    )
    assert answer.status_code == 302
    case.refresh_from_db()
    assert case.handler_user_id == world.users["grid_a_worker"].pk
    assert case.status == Status.HANDLING
    assert "改派" in client.get(f"/cases/{case.number}/").content.decode()


def test_the_handover_page_points_to_the_leavers_pairings(client, world, held):
    """A grid worker who leaves may also be a 帮扶人: their families are handed over on the
    helper's page (assistance.handover), which this page links to."""
    from minqing.assistance import services as assistance
    from minqing.assistance.models import HelperKind, Programme
    from minqing.registry.models import Household

    leaver, secretary = world.users["handler"], world.users["community_secretary"]
    client.force_login(secretary)
    assert (
        "/assistance/helpers/"
        not in client.get(f"/cases/handover/?from={leaver.pk}").content.decode()
    )
    helper = assistance.helper_create(
        acting_user=secretary,
        data={"kind": HelperKind.PARTY, "user": leaver, "node": world.tree["community"]},
    )
    household = Household.objects.create(address="人民路2号", grid=world.tree["grid_a"])
    assistance.pairing_create(
        acting_user=secretary,
        data={
            "programme": Programme.objects.get(code="cadre"),
            "helpers": [helper],
            "household": household,
        },
    )
    review = client.get(f"/cases/handover/?from={leaver.pk}").content.decode()
    assert f'href="/assistance/helpers/{helper.pk}/"' in review
    assert "有 1 个帮扶中的结对" in review


def test_the_handover_reads_in_english_with_one_case_singular(client, world, held):
    from minqing.cases import handover as handovers

    leaver, successor = world.users["handler"], world.users["grid_a_worker"]
    secretary = world.users["community_secretary"]
    keep = list(handovers.held_cases(secretary, leaver.pk))[1:]
    for case in keep:  # leave the leaver one case
        services.case_act(acting_user=secretary, case=case, action="reassign",
                          target_user=successor, note="先交")  # fmt: skip
    client.force_login(secretary)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    page = client.get("/cases/handover/", **en).content.decode()
    assert "（" not in page.split("<select", 1)[1].split("</select>", 1)[0]
    moved = client.post(
        "/cases/handover/",
        {"holder": leaver.pk, "successor": successor.pk, "note": "调岗"},
        follow=True,
        **en,
    ).content.decode()
    assert "1 case reassigned to" in moved
