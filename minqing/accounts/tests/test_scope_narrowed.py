"""Narrowed data scopes (自定数据, 本部门, 仅本人) and cadres through the case inbox, the
notifications and the lists: a record in grid B (or elsewhere outside the user's scope) is
asked for the way a page, the API, an export or a form would, as a user it does not reach."""

import pytest

from conftest import PASSWORD, login
from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.cases import services as cases
from minqing.cases.models import Category


def scoped_user(username: str, role: Role, node, scope: DataScope, custom=()) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, full_name=username)
    a = RoleAssignment.objects.create(user=user, role=role, node=node, data_scope=scope)
    if custom:
        a.custom_nodes.set(custom)
    return user


@pytest.fixture
def case_b(grid_b_worker, tree):
    """A registered case of grid B, held by grid B, filed by grid B's worker."""
    return cases.case_accept(
        acting_user=grid_b_worker,
        data={
            "category": Category.objects.get(code="0601"),
            "description": "乙网格路灯不亮，反映人李秘密。",
            "title": "乙网格路灯不亮",
            "grid": tree["grid_b"],
            "reporter_name": "李秘密",
            "reporter_phone": "13812349999",
            "channel": "phone",
        },
    )


@pytest.mark.parametrize(
    "scope", [DataScope.CUSTOM, DataScope.NODE, DataScope.SELF], ids=["custom", "node", "self"]
)
def test_the_case_inbox_keeps_to_a_narrowed_data_scope(client, tree, case_b, scope):
    # given: a community secretary whose data scope is narrowed (grid A only / the community
    # node itself / own records) — grid B's case is outside it and its page answers 404
    custom = [tree["grid_a"]] if scope == DataScope.CUSTOM else ()
    clerk = scoped_user("clerk", Role.COMMUNITY_SECRETARY, tree["community"], scope, custom)
    login(client, clerk)
    assert client.get(f"/cases/{case_b.number}/").status_code == 404
    # then: neither the inbox page nor the API inbox lists it
    assert case_b.number not in client.get("/cases/inbox/").content.decode()
    assert client.get("/api/cases/inbox/").json()["count"] == 0


def test_a_cadre_assigned_at_the_county_is_not_told_of_residents_reports(client, tree, cadre):
    # given: a resident's report with no place, accepted at the county (the root) to be placed;
    # the cadre (帮扶干部, 仅本人) happens to be assigned at the county node
    case = cases.case_accept(
        acting_user=None,
        data={
            "category": Category.objects.get(code="0601"),
            "description": "邻居家里漏水很严重，住户王秘密。",
            "title": "邻居家漏水",
            "reporter_name": "王秘密",
            "reporter_phone": "13812340000",
        },
        public=True,
    )
    login(client, cadre)
    assert client.get(f"/cases/{case.number}/").status_code == 404
    # then: no notification of it reaches them — not on the page, not through the API
    assert case.number not in client.get("/notifications/").content.decode()
    assert "邻居家漏水" not in client.get("/notifications/").content.decode()
    assert client.get("/api/notifications/").json()["count"] == 0


def test_a_custom_scope_keeps_lists_searches_exports_and_filters_to_the_chosen_grid(
    client, tree, grid_b_worker
):
    # given: grid B's household and resident, and a community secretary whose 自定数据 scope is
    # grid A only (passes: checked as fine)
    from minqing.registry import services as registry

    hh = registry.household_create(
        acting_user=grid_b_worker, data={"address": "乙网格秘密路9号", "grid": tree["grid_b"]}
    )
    sun = registry.person_create(
        acting_user=grid_b_worker, data={"name": "孙秘密", "household": hh, "relation": "head"}
    )
    clerk = scoped_user(
        "clerk", Role.COMMUNITY_SECRETARY, tree["community"], DataScope.CUSTOM, [tree["grid_a"]]
    )
    login(client, clerk)
    b = tree["grid_b"].code
    for url in (
        f"/households/{hh.pk}/",
        f"/api/households/{hh.pk}",
        f"/cards/household/{hh.pk}/",
        f"/tree/{b}/",
        f"/cards/grid/{b}/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        "/households/?q=秘密",
        "/people/?q=孙秘密",
        f"/households/?node={b}",
        f"/people/?node={b}",
        "/api/people?q=孙秘密",
        f"/api/households?node={b}",
        f"/api/visits/due?grid={b}",
        "/visits/due/",
    ):
        html = client.get(url).content.decode()
        assert "乙网格秘密路" not in html and f"/people/{sun.pk}/" not in html, url
        assert f'"id": {sun.pk},' not in html and f'"id": {hh.pk},' not in html, url
    from io import BytesIO

    from openpyxl import load_workbook

    for url in ("/households/export.xlsx", "/people/export.xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        book = load_workbook(BytesIO(b"".join(response.streaming_content)))
        cells = " ".join(
            str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row
        )
        assert "乙网格秘密路" not in cells and "孙秘密" not in cells, url


def test_a_narrowed_secretary_is_told_of_escalations_from_the_grids_they_see_only(
    tree, grid_a_worker, grid_b_worker, case_b
):
    from minqing.cases.models import Notification, NotificationKind

    clerk = scoped_user(
        "clerk", Role.COMMUNITY_SECRETARY, tree["community"], DataScope.CUSTOM, [tree["grid_a"]]
    )
    case_a = cases.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": Category.objects.get(code="0601"),
            "description": "甲网格路灯不亮。",
            "grid": tree["grid_a"],
        },
    )
    for worker, case in ((grid_a_worker, case_a), (grid_b_worker, case_b)):
        cases.case_act(acting_user=worker, case=case, action="escalate", note="需社区协调。")
    told = Notification.objects.filter(user=clerk, kind=NotificationKind.ESCALATED)
    assert list(told.values_list("case", flat=True)) == [case_a.pk]


def test_an_own_records_user_sees_the_members_of_their_household_linked_only_where_they_may_go(
    client, tree, grid_a_worker
):
    # A 仅本人 user's household lists all its members (they are part of its file), but a member
    # someone else added is not their record: named, not linked to a page that is 404 for them.
    from minqing.registry import services as registry
    from minqing.registry.models import Household

    me = scoped_user("own_only", Role.COMMUNITY_WORKER, tree["community"], DataScope.SELF)
    mine = registry.household_create(
        acting_user=grid_a_worker, data={"address": "人民路8号", "grid": tree["grid_a"]}
    )
    Household.objects.filter(pk=mine.pk).update(created_by=me)
    other = registry.person_create(
        acting_user=grid_a_worker,
        data={"name": "钱秘密", "household": mine, "relation": "head"},
    )
    own = registry.person_create(
        acting_user=grid_a_worker, data={"name": "孙自己", "household": mine, "relation": "spouse"}
    )
    from minqing.registry.models import Person

    Person.objects.filter(pk=own.pk).update(created_by=me)
    login(client, me)
    html = client.get(f"/households/{mine.pk}/").content.decode()
    assert "钱秘密" in html and f'href="/people/{other.pk}/"' not in html
    assert client.get(f"/people/{other.pk}/").status_code == 404
    assert f'href="/people/{own.pk}/"' in html
    assert client.get(f"/people/{own.pk}/").status_code == 200
