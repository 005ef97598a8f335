"""The due list: a grid worker's households; leaders' counts per grid; nearest first."""

import datetime as dt

from django.utils import timezone

from minqing.accounts.models import ApiToken
from minqing.core import statements
from minqing.core.tests.test_statements import compiles  # noqa: F401 (fixture)
from minqing.visits import services
from minqing.visits.models import HouseholdVisitState

from .conftest import at, file_household


def _overdue(household, days: int) -> None:
    HouseholdVisitState.objects.filter(pk=household.pk).update(
        next_due=timezone.localdate() - dt.timedelta(days=days)
    )


def test_a_grid_worker_sees_the_due_and_overdue_households_of_their_grid(
    client, grid_a_worker, grid_b_worker, tree, household_b
):
    a1 = file_household(grid_a_worker, tree["grid_a"], "东门路1号")
    a2 = file_household(grid_a_worker, tree["grid_a"], "东门路2号")
    services.visit_states_refresh()
    _overdue(a1, 3)
    _overdue(household_b, 1)
    client.force_login(grid_a_worker)
    page = client.get("/visits/due/").content.decode()
    assert "东门路1号" in page and "逾期 3 天" in page
    assert "东门路2号" not in page  # not due yet
    assert "人民路9号" not in page  # grid B's
    assert f"/visits/new/?household={a1.pk}" in page
    assert a2.pk  # filed, not listed


def test_leaders_see_counts_per_grid_and_open_a_grid(
    client, grid_a_worker, grid_b_worker, street_officer, tree, household_b
):
    a1 = file_household(grid_a_worker, tree["grid_a"], "东门路1号")
    a2 = file_household(grid_a_worker, tree["grid_a"], "东门路2号")
    services.visit_states_refresh()
    _overdue(a1, 3)
    HouseholdVisitState.objects.filter(pk=a2.pk).update(next_due=timezone.localdate())
    _overdue(household_b, 1)
    client.force_login(street_officer)
    response = client.get("/visits/due/")
    rows = {r.grid.code: (r.overdue, r.today) for r in response.context["rows"]}
    assert rows == {tree["grid_a"].code: (1, 1), tree["grid_b"].code: (1, 0)}
    assert response.context["totals"] == {"overdue": 2, "today": 1}
    # Summed from the rows, they agree with the totals counted on their own (the home page's).
    from minqing.visits.selectors import due_totals

    assert due_totals(street_officer) == response.context["totals"]
    page = client.get(f"/visits/due/?grid={tree['grid_a'].code}").content.decode()
    assert "东门路1号" in page and "东门路2号" in page and "人民路9号" not in page


def test_a_grid_worker_cannot_open_another_grids_due_list(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    assert client.get(f"/visits/due/?grid={tree['grid_b'].code}").status_code == 404


def test_with_the_phones_location_the_nearest_building_comes_first(client, grid_a_worker, tree):
    from conftest import square
    from minqing.grids.models import Level, Node

    far = Node.objects.create(
        level=Level.BUILDING,
        name="9幢",
        code="330188001001001009",
        parent=tree["grid_a"],
        boundary=square(120.009, 30.009, 0.0005),
    )
    near = tree["building_a"]
    near.boundary = square(120.0, 30.0, 0.0005)
    near.save()
    h_far = file_household(grid_a_worker, tree["grid_a"], "A区 9幢101")
    h_near = file_household(grid_a_worker, tree["grid_a"], "B区 1幢101")
    h_none = file_household(grid_a_worker, tree["grid_a"], "C区 无楼栋")
    type(h_far).objects.filter(pk=h_far.pk).update(building=far)
    type(h_near).objects.filter(pk=h_near.pk).update(building=near)
    services.visit_states_refresh()
    for h in (h_far, h_near, h_none):
        _overdue(h, 1)
    client.force_login(grid_a_worker)

    by_address = client.get("/visits/due/")
    assert [s.household_id for s in by_address.context["page"]] == [h_far.pk, h_near.pk, h_none.pk]
    nearest = client.get("/visits/due/?lat=30.0002&lng=120.0002")
    assert [s.household_id for s in nearest.context["page"]] == [h_near.pk, h_far.pk, h_none.pk]
    first = nearest.context["page"][0]
    assert first.distance_m < 20 and f"约 {first.distance_m} 米" in nearest.content.decode()
    # a nonsense location is ignored rather than failing
    assert client.get("/visits/due/?lat=abc&lng=1e999").status_code == 200


def test_the_grid_map_marks_the_buildings_with_households_to_visit(client, grid_a_worker, tree):
    import json

    from conftest import square

    building = tree["building_a"]
    building.boundary = square(120.0, 30.0, 0.0005)
    building.save()
    late = file_household(grid_a_worker, tree["grid_a"], "1幢101")
    today = file_household(grid_a_worker, tree["grid_a"], "1幢102")
    elsewhere = file_household(grid_a_worker, tree["grid_a"], "无楼栋")
    type(late).objects.filter(pk__in=[late.pk, today.pk]).update(building=building)
    services.visit_states_refresh()
    _overdue(late, 3)
    _overdue(today, 0)
    _overdue(elsewhere, 1)
    client.force_login(grid_a_worker)

    # the page carries, per building, how many households are overdue and due today
    page = client.get("/visits/due/")
    assert page.context["due_buildings"] == {building.pk: [1, 1]}
    html = page.content.decode()
    start = html.index('id="due-buildings"')
    data = html[html.index(">", start) + 1 : html.index("</script>", start)]
    assert json.loads(data) == {str(building.pk): [1, 1]}
    # and the grid's map data names each building by the same id
    geo = client.get(f"/tree/{tree['grid_a'].code}/geojson").json()
    assert building.pk in [f["properties"]["id"] for f in geo["features"]]


def test_a_grid_workers_home_page_lists_the_first_households_to_visit(
    client, grid_a_worker, community_worker, tree
):
    homes = [file_household(grid_a_worker, tree["grid_a"], f"东门路{n}号") for n in range(1, 8)]
    services.visit_states_refresh()
    for days, home in enumerate(homes):
        _overdue(home, days)  # one due today, six overdue
    client.force_login(grid_a_worker)
    html = client.get("/").content.decode()
    listed = html[html.index('id="home-due"') : html.index("</ul>", html.index('id="home-due"'))]
    assert listed.count("记录走访") == 5 and "逾期" in listed
    assert "查看全部应访家庭" in html
    # an office with several grids gets the counts, not a list
    client.force_login(community_worker)
    assert 'id="home-due"' not in client.get("/").content.decode()


def test_the_household_page_shows_the_schedule_and_the_visit(client, grid_a_worker, tree):
    household = file_household(grid_a_worker, tree["grid_a"], "东门路3号")
    visit = services.visit_record(
        acting_user=grid_a_worker,
        household=household,
        data={"seen": "家中整洁", "opinions": "希望加装电梯"},
        now=at(timezone.localdate() - dt.timedelta(days=2)),
    )
    client.force_login(grid_a_worker)
    page = client.get(f"/households/{household.pk}/").content.decode()
    assert "普遍走访" in page and "希望加装电梯" in page and f"/visits/{visit.pk}/" in page


def test_the_visits_home_counts_and_lists_my_visits(client, grid_a_worker, household_a):
    services.visit_record(acting_user=grid_a_worker, household=household_a, data={"seen": "好"})
    client.force_login(grid_a_worker)
    page = client.get("/visits/").content.decode()
    assert "人民路1号" in page
    found = client.get("/visits/new/?q=人民路").content.decode()
    assert f"/visits/new/?household={household_a.pk}" in found


def test_the_household_timeline_costs_the_same_queries_for_one_visit_or_many(
    client, grid_a_worker, community_worker, zhang_san, street_light
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    household = zhang_san.household

    def visit():
        v = services.visit_record(
            acting_user=grid_a_worker,
            household=household,
            data={"visitors": [community_worker], "members_met": [zhang_san], "seen": "x"},
        )
        services.visit_demand_to_case(
            acting_user=grid_a_worker, visit=v, category=street_light, description=f"路灯{v.pk}"
        )

    client.force_login(grid_a_worker)
    visit()
    client.get(f"/households/{household.pk}/")  # warm the per-process caches
    with CaptureQueriesContext(connection) as one:
        client.get(f"/households/{household.pk}/")
    for _ in range(4):
        visit()
    with CaptureQueriesContext(connection) as five:
        page = client.get(f"/households/{household.pk}/").content.decode()
    assert page.count("走访 · 入户") == 5
    assert len(five) == len(one)


def test_the_due_page_and_api_read_the_columns_they_show_in_one_statement(
    client, grid_a_worker, tree
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minqing.accounts.models import ApiToken

    a1 = file_household(grid_a_worker, tree["grid_a"], "东门路1号")
    services.visit_states_refresh()
    _overdue(a1, 2)
    client.force_login(grid_a_worker)
    _token, raw = ApiToken.issue(user=grid_a_worker, name="手机")
    for path, auth in (
        ("/visits/due/", {}),
        ("/api/visits/due", {"HTTP_AUTHORIZATION": f"Bearer {raw}"}),
    ):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path, **auth)
        assert response.status_code == 200 and f"{a1.pk}" in response.content.decode(), path
        rows = [q["sql"] for q in ctx.captured_queries if "visits_householdvisitstate" in q["sql"]]
        household = [q["sql"] for q in ctx.captured_queries if "registry_household" in q["sql"]]
        assert len(rows) == 1 and household == rows, path  # no column read later, row by row
        assert "floor_area" not in rows[0] and "updated_at" not in rows[0], path
    item = client.get("/api/visits/due", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["items"][0]
    assert item["household"]["number"] == a1.number and item["household"]["grid_name"]


def test_the_api_due_list_counts_while_it_reads_a_page(client, grid_a_worker, tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minqing.accounts.models import ApiToken

    homes = [file_household(grid_a_worker, tree["grid_a"], f"东门路{i}号") for i in range(5)]
    services.visit_states_refresh()
    for i, h in enumerate(homes):
        _overdue(h, i + 1)
    _token, raw = ApiToken.issue(user=grid_a_worker, name="手机")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    pages = []
    for page in (1, 2, 3, 4):
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(f"/api/visits/due?page_size=2&page={page}", **auth).json()
        pages.append(([i["household"]["id"] for i in body["items"]], body["count"]))
        sql = " ".join(q["sql"] for q in ctx.captured_queries)
        assert ("COUNT(*) AS" in sql) == (page == 4), page  # only a page past the end counts
    assert [count for _ids, count in pages] == [5, 5, 5, 5]
    assert [len(ids) for ids, _count in pages] == [2, 2, 1, 0]
    assert [i for ids, _count in pages for i in ids] == [h.pk for h in reversed(homes)]


def test_due_lists_compile_once_and_never_mix_two_scopes(
    client,
    grid_a_worker,
    grid_b_worker,
    street_officer,
    tree,
    household_b,
    compiles,  # noqa: F811
):
    statements.clear()
    # given: an overdue household in each grid, and each user's API token
    a1 = file_household(grid_a_worker, tree["grid_a"], "东门路1号")
    services.visit_states_refresh()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    HouseholdVisitState.objects.filter(pk__in=[a1.pk, household_b.pk]).update(next_due=yesterday)

    def ids(user) -> list[int]:
        _token, raw = ApiToken.issue(user=user, name="手机")
        body = client.get("/api/visits/due", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
        return [item["household"]["id"] for item in body["items"]]

    # when, then: each sees their own, whoever asked first, again and again
    assert ids(street_officer) == sorted([a1.pk, household_b.pk], key=lambda pk: pk != a1.pk)
    assert ids(grid_a_worker) == [a1.pk]
    assert ids(grid_b_worker) == [household_b.pk]
    compiles.clear()
    assert ids(grid_a_worker) == [a1.pk] and ids(grid_b_worker) == [household_b.pk]
    assert HouseholdVisitState not in compiles  # the due rows were not compiled again
    client.force_login(grid_a_worker)
    page = client.get("/visits/due/").content.decode()
    assert "东门路1号" in page and "人民路9号" not in page
    client.force_login(grid_b_worker)
    page = client.get("/visits/due/").content.decode()
    assert "人民路9号" in page and "东门路1号" not in page
