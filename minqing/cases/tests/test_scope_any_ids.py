"""A scoped case list ORs "in my places" with "dispatched to me". For a community or less the
places' ids go to PostgreSQL as one array (`field = ANY(ARRAY(…))`, core.lookups), which it
can read from an index beside the handler's; broader scopes keep `IN (subquery)`, except in
the lists, the search's look-up, the ledger and the indicators (`cases_for(user,
array=True)`), where a street's places are one array too. Either way the same cases are
found."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import login
from minqing.accounts.models import DataScope, RoleAssignment
from minqing.cases import selectors, services
from minqing.cases.models import Case
from minqing.grids.models import Level, Node


@pytest.fixture
def cases(grid_a_worker, grid_b_worker, tree, street_light):
    def accept(user, grid, text):
        return services.case_accept(
            acting_user=user,
            data={"category": street_light, "description": text, "grid": grid},
        )

    return {
        "a": accept(grid_a_worker, tree["grid_a"], "东门路3号路灯不亮。"),
        "b": accept(grid_b_worker, tree["grid_b"], "西门路5号路灯不亮。"),
    }


def sql_of(user) -> str:
    return str(selectors.cases_for(user).query)


@pytest.mark.parametrize("who", ["grid_a_worker", "community_worker"])
def test_a_community_or_less_reads_its_places_as_one_array_on_postgresql(request, who, cases):
    user = request.getfixturevalue(who)
    sql = sql_of(user)
    if connection.vendor == "postgresql":
        assert "= ANY(ARRAY(SELECT" in sql
    else:
        assert "ANY(" not in sql and " IN (SELECT" in sql


def test_a_street_keeps_the_subquery(street_officer, cases):
    sql = sql_of(street_officer)
    assert "ANY(" not in sql and " IN (SELECT" in sql


def test_a_streets_lists_read_its_places_as_one_array(client, street_officer, cases):
    """On the cases benchmark a street's list filtered by status read the county's cases in
    date order for its 2 % (0.3–0.4 s); with one array its own cases are read (20–30 ms)."""
    login(client, street_officer)
    for url in ("/cases/?status=registered", "/api/cases/?status=registered", "/cases/ledger/"):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        listed = " ".join(q["sql"] for q in captured if "cases_case" in q["sql"])
        if connection.vendor == "postgresql":
            assert "= ANY(ARRAY(SELECT" in listed, url
        else:
            assert "ANY(" not in listed, url
    numbers = [c.number for c in client.get("/cases/?status=registered").context["page"]]
    assert sorted(numbers) == sorted(c.number for c in cases.values())
    api = client.get("/api/cases/", {"status": "registered"}).json()["items"]
    assert sorted(c["number"] for c in api) == sorted(numbers)


def test_a_scope_above_a_few_streets_keeps_the_subquery_even_asked_for_an_array(
    county_officer, street_officer, tree, cases
):
    # A second root: the county officer's scope is no longer everything (one subtree of a
    # county: too many ids for an array).
    Node.objects.create(level=Level.COUNTY, name="邻县", code="330189")
    user = type(county_officer).objects.get(pk=county_officer.pk)
    sql = str(selectors.cases_for(user, array=True).query)
    assert "ANY(" not in sql and " IN (SELECT" in sql
    sql = str(selectors.cases_for(street_officer, array=True).query)
    assert ("= ANY(ARRAY(SELECT" in sql) == (connection.vendor == "postgresql")
    assert Case.objects.count() == 2


def test_the_same_cases_are_found_as_with_the_subquery(
    grid_a_worker, grid_b_worker, community_worker, street_officer, cases, tree
):
    # grid B's case dispatched to grid A's worker: visible to them through "dispatched to me"
    Case.objects.filter(pk=cases["b"].pk).update(handler_user=grid_a_worker)
    narrowed = RoleAssignment.objects.get(user=community_worker)
    expected = {
        "grid_a": {cases["a"].number, cases["b"].number},
        "grid_b": {cases["b"].number},
        "community": {cases["a"].number, cases["b"].number},
        "street": {cases["a"].number, cases["b"].number},
    }
    for user in (grid_a_worker, grid_b_worker, community_worker, street_officer):
        user = type(user).objects.get(pk=user.pk)
        found = set(selectors.cases_for(user).values_list("number", flat=True))
        assert found == expected[user.username], user.username
    # 本部门 (the community node itself): only cases held there or dispatched to them
    narrowed.data_scope = DataScope.NODE
    narrowed.save()
    user = type(community_worker).objects.get(pk=community_worker.pk)
    assert "ANY(" in sql_of(user) or connection.vendor != "postgresql"
    assert set(selectors.cases_for(user).values_list("number", flat=True)) == set()


def test_a_scope_of_many_parts_keeps_the_subquery(
    community_worker, cases, tree, django_user_model, monkeypatch
):
    """A 自定数据 scope of many communities has too many ids for one array."""
    from minqing.accounts import access

    monkeypatch.setattr(access, "ARRAY_SCOPE_PARTS", 1)
    assignment = RoleAssignment.objects.get(user=community_worker)
    assignment.data_scope = DataScope.CUSTOM
    assignment.save()
    assignment.custom_nodes.set([tree["community"], tree["other_community"]])
    user = django_user_model.objects.get(pk=community_worker.pk)
    sql = sql_of(user)
    assert "ANY(" not in sql and " IN (SELECT" in sql
    assignment.custom_nodes.set([tree["other_community"]])
    user = django_user_model.objects.get(pk=community_worker.pk)
    assert ("= ANY(ARRAY(SELECT" in sql_of(user)) == (connection.vendor == "postgresql")
