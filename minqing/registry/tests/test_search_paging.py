"""Search lists count matches only up to core.paging.COUNT_CAP ("超过1000条"), read a page and its
tags in one query, and on SQLite read the page of a large result by walking the grids in order:
the rows, their order and the paging stay exactly those of person_search."""

import pytest
from django.db import connection

from conftest import login
from minqing.core import paging
from minqing.registry import selectors, services
from minqing.registry.models import Tag

# Initials starting with "zs", spread over three grids (grid order A, B, C).
NAMES = [
    ("grid_c", "张森"),
    ("grid_a", "张三"),
    ("grid_b", "周山"),
    ("grid_a", "赵水"),
    ("grid_c", "朱顺"),
    ("grid_b", "曾帅"),
    ("grid_a", "钟声"),
]
CAP = 3


@pytest.fixture
def many(admin_user, tree):
    tag = Tag.objects.filter(sensitive=False).first()
    people = []
    for grid, name in NAMES:
        people.append(
            services.person_create(
                acting_user=admin_user,
                data={"name": name, "grid": tree[grid], "tags": [tag]},
            )
        )
    return people


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", CAP)


def expected_order(county_officer):
    return list(selectors.person_search(county_officer, q="zs").values_list("name", flat=True))


def test_exact_count_up_to_the_cap(client, many, county_officer):
    login(client, county_officer)
    body = client.get("/api/people", {"q": "zs"}).json()
    assert body["count"] == len(NAMES) and body["count_capped"] is False
    assert body["has_next"] is False
    page = client.get("/people/", {"q": "zs"}).content.decode()
    assert f"共 {len(NAMES)} 条" in page and "第 1 / 1 页" in page


def test_more_than_the_cap_says_so_and_pages_on(client, many, county_officer, small_cap):
    login(client, county_officer)
    order = expected_order(county_officer)
    assert len(order) == len(NAMES)
    seen = []
    for number in (1, 2, 3):
        body = client.get("/api/people", {"q": "zs", "page": number, "page_size": 3}).json()
        seen += [item["name"] for item in body["items"]]
        assert body["has_next"] is (number < 3)
        # Over the cap is "more than CAP" on every page, the last one too.
        assert body["count"] == CAP and body["count_capped"] is True
    assert seen == order
    past = client.get("/api/people", {"q": "zs", "page": 9, "page_size": 3}).json()
    assert past["items"] == [] and past["has_next"] is False and past["count_capped"] is True


def test_html_list_shows_more_than_the_cap(client, many, county_officer, small_cap, settings):
    settings.PAGE_SIZE = 2
    login(client, county_officer)
    page = client.get("/people/", {"q": "zs"}).content.decode()
    assert f"超过{CAP}条" in page and "第 1 页" in page and "共 " not in page
    assert "page=2" in page  # 下一页
    last = client.get("/people/", {"q": "zs", "page": 4}).content.decode()
    assert f"超过{CAP}条" in last and "第 4 页" in last
    assert "page=3" in last and "page=5" not in last
    # A page past the end shows the last page, as before.
    beyond = client.get("/people/", {"q": "zs", "page": 99}).content.decode()
    assert "第 4 页" in beyond and "page=5" not in beyond


def test_html_list_under_the_cap_pages_as_before(client, many, county_officer, settings):
    settings.PAGE_SIZE = 2
    login(client, county_officer)
    last = client.get("/people/", {"q": "zs", "page": 4}).content.decode()
    assert f"共 {len(NAMES)} 条" in last and "第 4 / 4 页" in last
    assert "page=3" in last and "page=5" not in last
    beyond = client.get("/people/", {"q": "zs", "page": 99}).content.decode()
    assert "第 4 / 4 页" in beyond


def test_household_list_counts_up_to_the_cap(client, many, household_a, county_officer, small_cap):
    login(client, county_officer)
    body = client.get("/api/households").json()
    assert body["count_capped"] is False and body["count"] == len(body["items"])
    page = client.get("/households/").content.decode()
    assert "共 1 条" in page


def test_page_and_tags_are_one_query(client, many, county_officer, django_assert_max_num_queries):
    login(client, county_officer)
    client.get("/api/people", {"q": "zs"})
    # session (read, save), user, role assignments, roots of the tree, (SQLite: the text
    # index's capped count), the page with its tags: never one query per row.
    with django_assert_max_num_queries(9):
        body = client.get("/api/people", {"q": "zs"}).json()
    tag = Tag.objects.filter(sensitive=False).first()
    assert [item["tags"] for item in body["items"]] == [[tag.name]] * len(NAMES)
    with django_assert_max_num_queries(13):
        page = client.get("/people/", {"q": "zs"}).content.decode()
    assert page.count(f">{tag.name}</span>") == len(NAMES)


def test_small_scope_needs_no_query(grid_a_worker, django_assert_num_queries):
    selectors.user_scope(grid_a_worker)
    with django_assert_num_queries(0):
        assert selectors._small_scope(grid_a_worker, None) is True


@pytest.mark.parametrize(
    ("sort_budget", "walk_budget"),
    [(10**9, 10**9), (1, 10**9), (1, 1)],
    ids=["sorted", "walk", "sorted-after-walk"],
)
@pytest.mark.parametrize("page_size", [1, 2, 3, 5, 7])
def test_large_results_read_in_the_same_order(
    many, county_officer, small_cap, monkeypatch, sort_budget, walk_budget, page_size
):
    """SQLite sorts, walks the grids when sorting is over its budget, or sorts after all when
    the walk is over its own; the pages are exactly the sorted ones on every database."""
    monkeypatch.setattr(selectors, "SORT_BUDGET_STEPS", sort_budget)
    monkeypatch.setattr(selectors, "WALK_BUDGET_STEPS", walk_budget)
    walks = []
    real_walk = selectors._walk_ids
    monkeypatch.setattr(selectors, "_walk_ids", lambda *a: walks.append(1) or real_walk(*a))
    qs = selectors.person_search(county_officer, q="zs")
    order = list(qs.values_list("pk", flat=True))
    got = []
    for start in range(0, len(order) + page_size, page_size):
        got += [p.pk for p in selectors.person_rows(qs, start, start + page_size)]
    assert got == order
    # "zs" is short and over the cap: SQLite walks at once.
    assert bool(walks) is (connection.vendor == "sqlite")
    assert selectors.person_capped_count(qs) == CAP + 1


@pytest.mark.parametrize("sort_budget", [10**9, 1])
def test_a_long_query_sorts_unless_over_budget(
    many, county_officer, small_cap, monkeypatch, sort_budget
):
    monkeypatch.setattr(selectors, "SORT_BUDGET_STEPS", sort_budget)
    walks = []
    real_walk = selectors._walk_ids
    monkeypatch.setattr(selectors, "_walk_ids", lambda *a: walks.append(1) or real_walk(*a))
    for q in ("zhangsan", "zho"):
        qs = selectors.person_search(county_officer, q=q)
        order = list(qs.values_list("pk", flat=True))
        assert [p.pk for p in selectors.person_rows(qs, 0, 10)] == order
    assert bool(walks) is (connection.vendor == "sqlite" and sort_budget == 1)


def test_the_walk_is_the_plan_on_sqlite(many, county_officer, small_cap):
    if connection.vendor != "sqlite":
        pytest.skip("the grid walk is SQLite's plan; PostgreSQL chooses it by itself")
    qs = selectors.person_search(county_officer, q="zs")
    assert selectors._walk_ids(qs, 0, 3) == list(qs.values_list("pk", flat=True)[:3])


def test_filters_and_scope_still_apply_to_large_results(
    many, county_officer, grid_a_worker, small_cap
):
    qs = selectors.person_search(county_officer, q="zs", sex="F")
    assert [p.pk for p in selectors.person_rows(qs, 0, 10)] == list(qs.values_list("pk", flat=True))
    mine = selectors.person_search(grid_a_worker, q="zs")
    assert {p.name for p in selectors.person_rows(mine, 0, 10)} == {"张三", "赵水", "钟声"}


def test_household_list_with_a_tag_filter(client, admin_user, household_a, county_officer):
    """The tag filter makes household_search DISTINCT; its rows still carry their tags."""
    tag = Tag.objects.filter(sensitive=False).first()
    services.household_update(acting_user=admin_user, household=household_a, data={"tags": [tag]})
    login(client, county_officer)
    body = client.get("/api/households", {"tag": tag.name}).json()
    assert [item["id"] for item in body["items"]] == [household_a.pk]
    assert body["items"][0]["tags"] == [tag.name] and body["count"] == 1
    page = client.get("/households/", {"tag": tag.pk}).content.decode()
    assert "共 1 条" in page
