"""仅本人 (DataScope.SELF): a user sees the records they created *or are assigned*.

"Offer the data-scope choices Chinese office users already know: a node and everything below
it, a chosen set of nodes, and only the records a user created or is assigned."

Each test gives a user one role assignment with the own-records scope, puts a record of some
kind on them that somebody else created (a case they handle, a pairing they help in, a contact
duty they hold, a visit they went on), next to a like record assigned to someone else in the
same place, and checks through the pages and the API which of the two they can open.
"""

import datetime as dt

import pytest

from conftest import PASSWORD
from minqing.accounts.access import user_scope
from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.registry import services as registry


def own_records_user(username: str, role: Role, node) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, full_name=username)
    RoleAssignment.objects.create(user=user, role=role, node=node, data_scope=DataScope.SELF)
    return user


def test_the_own_records_scope_is_neither_a_node_nor_everything(tree):
    me = own_records_user("me", Role.GRID_WORKER, tree["grid_a"])
    scope = user_scope(me)
    assert scope.own_user_id == me.pk
    assert not (scope.everything or scope.subtree_paths or scope.exact_node_ids)


# --- cases: handler_user ---------------------------------------------------------------------


def test_a_case_handled_by_the_user_is_theirs_one_handled_by_another_is_not(
    client, tree, grid_a_worker, community_worker
):
    from minqing.cases import services as cases
    from minqing.cases.models import Case, Category

    me = own_records_user("me", Role.GRID_WORKER, tree["grid_a"])
    light = Category.objects.get(code="0601")

    def dispatched(description: str) -> Case:
        case = cases.case_accept(
            acting_user=grid_a_worker,
            data={"category": light, "description": description, "grid": tree["grid_a"]},
        )
        return cases.case_act(
            acting_user=community_worker, case=case, action="dispatch", target_user=grid_a_worker
        )

    mine, theirs = dispatched("东门路3号路灯不亮。"), dispatched("东门路5号路灯不亮。")
    # Both filed by grid A's worker, both in grid A. One is handed to `me`. (The dispatch
    # action itself refuses a handler whose scope does not cover the grid, so set it directly.)
    Case.objects.filter(pk=mine.pk).update(handler_user=me)
    assert mine.created_by == theirs.created_by == grid_a_worker

    client.force_login(me)
    assert client.get(f"/cases/{mine.number}/").status_code == 200
    assert client.get(f"/cases/{theirs.number}/").status_code == 404
    page = client.get("/cases/").content.decode()
    assert mine.number in page and theirs.number not in page
    assert client.get(f"/api/cases/{mine.number}").status_code == 200
    assert client.get(f"/api/cases/{theirs.number}").status_code == 404
    assert [c["number"] for c in client.get("/api/cases/").json()["items"]] == [mine.number]


# --- pairing assistance: the helper's user ---------------------------------------------------


def test_a_pairing_the_user_helps_in_is_theirs_another_helpers_is_not(
    client, tree, county_officer, household_a, grid_b_worker
):
    from minqing.assistance import services as assistance
    from minqing.assistance.models import HelperKind, Programme

    me = own_records_user("me", Role.CADRE, tree["county"])
    other = own_records_user("other", Role.CADRE, tree["county"])
    household_b = registry.household_create(
        acting_user=grid_b_worker, data={"address": "人民路9号2幢201室", "grid": tree["grid_b"]}
    )

    def helper(user):
        return assistance.helper_create(
            acting_user=county_officer,
            data={"kind": HelperKind.CADRE, "user": user, "node": tree["county"]},
        )

    def pair(helper, household):
        return assistance.pairing_create(
            acting_user=county_officer,
            data={
                "programme": Programme.objects.get(code="cadre"),
                "helpers": [helper],
                "start": dt.date(2026, 1, 5),
                "household": household,
            },
        )

    mine = pair(helper(me), household_a)
    theirs = pair(helper(other), household_b)
    assert mine.created_by == theirs.created_by == county_officer

    client.force_login(me)
    assert client.get(f"/assistance/pairings/{mine.pk}/").status_code == 200
    assert client.get(f"/assistance/pairings/{theirs.pk}/").status_code == 404
    page = client.get("/assistance/pairings/?status=all").content.decode()
    assert f"/assistance/pairings/{mine.pk}/" in page
    assert f"/assistance/pairings/{theirs.pk}/" not in page
    assert client.get(f"/api/assistance/pairings/{mine.pk}").status_code == 200
    assert client.get(f"/api/assistance/pairings/{theirs.pk}").status_code == 404
    items = client.get("/api/assistance/pairings/?status=all").json()["items"]
    assert [p["id"] for p in items] == [mine.pk]


# --- contact duties: the holder's user -------------------------------------------------------


def test_a_contact_duty_the_user_holds_is_theirs_another_holders_is_not(
    client, tree, county_officer
):
    from minqing.duties import services as duties
    from minqing.duties.models import DutyRule

    me = own_records_user("me", Role.CADRE, tree["county"])
    other = own_records_user("other", Role.CADRE, tree["county"])

    def duty(user):
        return duties.holder_create(
            acting_user=county_officer,
            data={
                "user": user,
                "rule": DutyRule.objects.get(code="cadre"),
                "unit": "县民政局",
                "node": tree["county"],
                "active_from": dt.date(2026, 1, 1),
            },
        )

    mine, theirs = duty(me), duty(other)
    assert mine.created_by == theirs.created_by == county_officer

    client.force_login(me)
    assert client.get(f"/duties/holders/{mine.pk}/").status_code == 200
    assert client.get(f"/duties/holders/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/duties/holders/{mine.pk}").status_code == 200
    assert client.get(f"/api/duties/holders/{theirs.pk}").status_code == 404


# --- visits: the visitors --------------------------------------------------------------------


@pytest.fixture
def visits(tree, grid_a_worker, household_a):
    """Two visits to household A, both recorded by grid A's worker; `me` went along on one."""
    from django.utils import timezone

    from minqing.visits.models import Visit

    me = own_records_user("me", Role.GRID_WORKER, tree["grid_a"])
    when = timezone.now() - dt.timedelta(days=1)
    with_me = Visit.objects.create(
        household=household_a, grid=tree["grid_a"], visited_at=when, created_by=grid_a_worker
    )
    with_me.visitors.set([grid_a_worker, me])
    without_me = Visit.objects.create(
        household=household_a, grid=tree["grid_a"], visited_at=when, created_by=grid_a_worker
    )
    without_me.visitors.set([grid_a_worker])
    return me, with_me, without_me


def test_a_visit_the_user_went_on_is_listed_as_theirs_and_another_is_not(client, visits):
    me, with_me, without_me = visits
    client.force_login(me)
    page = client.get("/visits/").content.decode()  # 我的走访: the visits I went on
    assert f'href="/visits/{with_me.pk}/"' in page
    assert f'href="/visits/{without_me.pk}/"' not in page
    assert client.get(f"/visits/{without_me.pk}/").status_code == 404
    assert client.get(f"/api/visits/{without_me.pk}").status_code == 404
    mine = client.get("/api/visits/?mine=true").json()["items"]
    assert [v["id"] for v in mine] == [with_me.pk]


def test_a_visit_the_user_went_on_opens_for_them(client, visits):
    me, with_me, _without_me = visits
    client.force_login(me)
    assert client.get(f"/visits/{with_me.pk}/").status_code == 200
    assert client.get(f"/api/visits/{with_me.pk}").status_code == 200
    listed = client.get("/api/visits/").json()["items"]  # all visits in the caller's scope
    assert [v["id"] for v in listed] == [with_me.pk]
