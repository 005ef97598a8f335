"""core.statements: a query compiled once per key, run again with the ORM's conversions."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from minqing.core import statements
from minqing.grids.models import Level, Node
from minqing.visits import services
from minqing.visits.models import HouseholdVisitState
from minqing.visits.tests.conftest import file_household


@pytest.fixture(autouse=True)
def _fresh():
    statements.clear()
    yield
    statements.clear()


@pytest.fixture
def compiles(monkeypatch):
    """How many times the ORM compiled a SELECT."""
    calls = []
    real = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        calls.append(self.query.model)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    return calls


def test_a_key_is_compiled_once_and_its_rows_are_the_orms(tree, compiles):
    qs = lambda: Node.objects.filter(parent=tree["community"]).values_list("pk", "code", "path")  # noqa: E731
    expected = list(qs())
    compiles.clear()
    first = statements.rows(("nodes", tree["community"].pk), qs)
    second = statements.rows(("nodes", tree["community"].pk), qs)
    assert first == second == expected
    assert len(compiles) == 1


def test_dates_and_times_come_back_converted_as_the_orm_gives_them(grid_a_worker, tree):
    household = file_household(grid_a_worker, tree["grid_a"], "东门路1号")
    services.visit_states_refresh()
    moment = timezone.now().replace(microsecond=0)
    HouseholdVisitState.objects.filter(pk=household.pk).update(last_visit_at=moment)

    def build():
        return HouseholdVisitState.objects.filter(pk=household.pk).values_list(
            "next_due", "last_visit_at"
        )

    for _ in range(2):
        [(due, last)] = statements.rows(("states", household.pk), build)
        assert isinstance(due, dt.date) and last == moment and timezone.is_aware(last)
    assert [(due, last)] == list(build())


def test_an_entry_is_compiled_again_when_it_is_old_and_sees_a_moved_node(tree, monkeypatch):
    """What a key cannot name (the subtree paths of a node moved under another parent) is
    stale for at most MAX_AGE seconds."""
    clock = [1000.0]
    monkeypatch.setattr(statements.time, "monotonic", lambda: clock[0])
    path = tree["street"].path

    def build():  # a scoped query holding a subtree path, keyed by the street's id only
        return Node.objects.filter(path__startswith=path, level=Level.GRID).values_list("code")

    key = ("grids under", tree["street"].pk)
    before = sorted(c for (c,) in statements.rows(key, build))
    assert "330188001002001" in before
    path = tree["community"].path  # as if the street's subtree had changed
    clock[0] += statements.MAX_AGE - 1
    assert sorted(c for (c,) in statements.rows(key, build)) == before  # still the old one
    clock[0] += 2
    after = sorted(c for (c,) in statements.rows(key, build))
    assert "330188001002001" not in after and after


def test_a_query_that_can_match_nothing_sends_no_statement(db):
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(2):
            assert statements.rows(("none",), lambda: Node.objects.filter(pk__in=[])) == []
    assert ctx.captured_queries == []


def test_the_oldest_entries_are_dropped(db, monkeypatch, compiles):
    monkeypatch.setattr(statements, "MAX_ENTRIES", 2)
    build = lambda: Node.objects.values_list("pk")  # noqa: E731
    for key in ("a", "b", "c", "a"):
        statements.rows((key,), build)
    assert len(compiles) == 4  # "a" was dropped when "c" came


def test_the_moment_is_bound_on_every_call_without_compiling_again(grid_a_worker, tree, compiles):
    # given: two households last visited two hours and one hour ago
    base = timezone.now().replace(microsecond=0)
    homes = [file_household(grid_a_worker, tree["grid_a"], f"东门路{n}号") for n in (1, 2)]
    services.visit_states_refresh()
    for home, hours in zip(homes, (2, 1), strict=True):
        HouseholdVisitState.objects.filter(pk=home.pk).update(
            last_visit_at=base - dt.timedelta(hours=hours)
        )
    ids = tuple(h.pk for h in homes)

    def build():
        states = HouseholdVisitState.objects.filter(pk__in=ids)
        return states.filter(last_visit_at__lt=statements.MOMENT).order_by("pk").values_list("pk")

    def visited_before(moment):
        return [pk for (pk,) in statements.rows(("visited", ids), build, moment=moment)]

    # when: asked at three moments
    compiles.clear()
    seen = [visited_before(base - dt.timedelta(hours=h)) for h in (3, 1.5, 0)]

    # then: each answer is the one for its moment, from one compilation
    assert seen == [[], [homes[0].pk], sorted(ids)]
    assert len(compiles) == 1


def test_a_moment_the_query_does_not_use_or_a_missing_moment_is_an_error(db):
    build = lambda: Node.objects.values_list("pk")  # noqa: E731
    with pytest.raises(ValueError, match="MOMENT"):
        statements.rows(("no moment",), build, moment=timezone.now())

    def uses():
        visited = HouseholdVisitState.objects.filter(last_visit_at__lt=statements.MOMENT)
        return visited.values_list("pk")

    assert statements.rows(("moment",), uses, moment=timezone.now()) == []
    with pytest.raises(ValueError, match="give one"):
        statements.rows(("moment",), uses)


def test_a_count_is_compiled_once_and_follows_the_rows(tree, compiles):
    build = lambda: Node.objects.filter(path__startswith=tree["community"].path)  # noqa: E731
    expected = build().count()
    compiles.clear()
    assert statements.count(("below", tree["community"].pk), build) == expected
    Node.objects.create(
        parent=tree["grid_a"], level=tree["grid_a"].level + 1, name="1幢", code="X1"
    )
    assert statements.count(("below", tree["community"].pk), build) == expected + 1
    assert len(compiles) == 1
    # A count that can match nothing asks nothing; one with a moment binds it.
    assert statements.count(("none",), lambda: Node.objects.filter(pk__in=[])) == 0


def test_the_home_page_figures_compiled_are_the_orms(client, grid_a_worker, community_worker, tree):
    """The home page's compiled counts against the same querysets counted by the ORM."""
    from conftest import login
    from minqing.cases import services as case_services
    from minqing.cases.selectors import home_counts, inbox_for, overdue_for
    from minqing.registry.selectors import care_group_counts, people_for
    from minqing.visits.selectors import campaign_card

    case = case_services.case_accept(
        acting_user=grid_a_worker,
        data={"category": "0601", "description": "路灯不亮", "grid": tree["grid_a"]},
    )
    from minqing.cases.models import Case

    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    file_household(grid_a_worker, tree["grid_a"], "东门路9号")
    for user in (grid_a_worker, community_worker):
        for _ in range(2):  # compiled, then from the compiled statement
            counts = home_counts(user)
            assert counts["inbox"] == inbox_for(user).count()
            assert counts["overdue"] == overdue_for(user).count() == 1
            card = campaign_card(user)
            assert card == {"open": 0, "mine": 0}
            assert isinstance(care_group_counts(user), list)
        login(client, user)
        page = client.get("/")
        assert page.status_code == 200
        assert page.context["counts"]["people"] == people_for(user).count()
        assert page.context["counts"]["households"] == 1


def _prepared(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [s for (s,) in cursor.fetchall() if fragment in s]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_a_statement_planned_each_time_is_never_prepared(db):
    """A statement run often enough is prepared (the setting is on in tests too), but not
    inside planned_each_time, and the connection's threshold comes back after it."""
    raw = connection.cursor().connection
    threshold = raw.prepare_threshold
    assert threshold is not None
    for _ in range(threshold + 3):
        with statements.planned_each_time(), connection.cursor() as cursor:
            cursor.execute("SELECT %s::int + 41", [1])
    assert _prepared("+ 41") == []
    assert raw.prepare_threshold == threshold
    for _ in range(threshold + 3):
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::int + 42", [1])
    assert len(_prepared("+ 42")) == 1


def test_planned_each_time_restores_the_threshold_after_an_error(db):
    with pytest.raises(ZeroDivisionError), statements.planned_each_time():
        1 / 0  # noqa: B018
    if connection.vendor == "postgresql":
        assert connection.connection.prepare_threshold is not None
