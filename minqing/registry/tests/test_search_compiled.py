"""The people lists' compiled search (registry.search_compiled) gives what the ORM gives.

The list page and the API read a search through PersonSearch: compiled once per shape of query
with stand-in text, then only its parameters are filled. Every search here is run both ways —
compiled, and through selectors.person_search as the exports run it — and must agree on the
rows, their order, every shown column, the tags and the capped count.
"""

import pytest
from django.db import connection

from conftest import login, valid_id
from minqing.core import statements
from minqing.registry import search_compiled, selectors, services
from minqing.registry.models import Tag
from minqing.registry.search_compiled import PersonSearch

QUERIES = [
    "",
    "王建国",
    "阳建国",
    "张三",
    "建国",
    "张",
    "伟",
    "zhangsan",
    "ZhangSan",
    "zhang san",
    "Wang  Jian guo",
    "jianguo",
    "wjg",
    "zs",
    "jg",
    "cw",
    "5678",
    "4321",
    valid_id(4),
    valid_id(4).lower(),
    valid_id(7)[-4:],
    valid_id(7)[-4:].lower(),
    "人民路",
    "解放路88号",
    "人民路 张",
    "解放路 小明",
    "人民路 建国",
    "zs 人民路",  # letters beside characters: pinyin or initials (not compiled)
    "wjg 人民路 1幢",
    "没有这个人",
    '"张三" OR 1',
    "%",
    "_三",
    "张\x00三",
    "a b c d e f g h i",
    "甲 乙 丙 丁 戊 己 庚 辛 壬",
]


@pytest.fixture(autouse=True)
def fresh_statements():
    statements.clear()
    yield
    statements.clear()


@pytest.fixture
def people(admin_user, household_a, tree):
    household_c = services.household_create(
        acting_user=admin_user, data={"address": "解放路88号3幢502室", "grid": tree["grid_c"]}
    )
    tag = Tag.objects.filter(name="低保").first() or Tag.objects.create(name="低保")
    specs = [
        ("张三", "grid_a", household_a, valid_id(1), "13812345678", [tag]),
        ("王建国", "grid_a", household_a, valid_id(2), "", []),
        ("欧阳建国", "grid_b", None, valid_id(3), "13900004321", []),
        ("单伟", "grid_c", household_c, valid_id(4), "", [tag]),
        ("曾小明", "grid_c", household_c, None, "", []),
        ("李四", "grid_a", household_a, valid_id(7), "", []),
    ]
    out = {"tag": tag}
    for name, grid, household, id_number, phone, tags in specs:
        out[name] = services.person_create(
            acting_user=admin_user,
            data={
                "name": name,
                "id_number": id_number,
                "phone": phone,
                "household": household,
                "grid": tree[grid],
                "tags": tags,
            },
        )
    return out


def shown(p) -> tuple:
    values = []
    for f in selectors.PERSON_LIST_FIELDS:
        values.append(getattr(p.grid, f[6:]) if f.startswith("grid__") else getattr(p, f))
    return (p.pk, *values, tuple((t.pk, t.name, t.sensitive) for t in p.tags.all()))


def both_ways(user, q, **filters):
    search = PersonSearch(user, q=q, **filters)
    compiled = search.rows(0, 21, selectors.PERSON_LIST_FIELDS)
    count = search.capped_count(1000)
    orm_qs = selectors.person_search(user, q=q, **filters)
    orm = selectors.person_rows(orm_qs, 0, 21)
    orm_count = selectors.person_capped_count(orm_qs, 1000)
    return compiled, count, orm, orm_count


@pytest.mark.parametrize("persona", ["grid_a_worker", "community_worker", "county_officer"])
def test_compiled_search_gives_what_the_orm_gives(request, people, persona):
    user = request.getfixturevalue(persona)
    compiled_any = False
    for q in QUERIES:
        compiled, count, orm, orm_count = both_ways(user, q)
        if compiled is None:
            assert count is None
            continue
        compiled_any = True
        selectors._attach_tags(compiled)
        assert [shown(p) for p in compiled] == [shown(p) for p in orm], q
        assert count == orm_count, q
    # SQLite compiles no county-wide search (see test_what_is_compiled).
    assert compiled_any is not (connection.vendor == "sqlite" and persona == "county_officer")


def test_what_is_compiled(people, grid_a_worker, county_officer):
    assert both_ways(grid_a_worker, "张三")[0] is not None
    assert both_ways(grid_a_worker, "100%")[0] is None  # LIKE would escape it
    assert both_ways(grid_a_worker, "甲 乙 丙 丁 戊 己 庚 辛 壬")[0] is None  # over MAX_WORDS
    # SQLite chooses the county's plan at run time (the text index or a walk of the grids).
    county = both_ways(county_officer, "张三")[0]
    assert (county is None) is (connection.vendor == "sqlite")


def test_one_shape_is_compiled_once_and_filled_each_time(people, community_worker, monkeypatch):
    compiled = []
    real = statements.compile_queryset

    def counting(qs, *args):
        compiled.append(1)
        return real(qs, *args)

    monkeypatch.setattr(statements, "compile_queryset", counting)

    def names(q):
        rows = PersonSearch(community_worker, q=q).rows(0, 21, selectors.PERSON_LIST_FIELDS)
        return [p.name for p in rows]

    assert names("张三") == ["张三"]
    assert len(compiled) == 2  # two stand-ins
    # Two-character words again: the same statement, other text.
    assert names("建国") == ["王建国", "欧阳建国"]
    assert names("李四") == ["李四"]
    assert names("小明") == []  # grid C is not in this community
    # Pinyin of one length, digits, ID numbers: a statement each, filled each time.
    assert names("zs") == ["张三"]
    assert names("jg") == ["王建国", "欧阳建国"]
    assert names(valid_id(2)) == ["王建国"]
    assert names(valid_id(1)) == ["张三"]
    assert names("5678") == ["张三"]
    assert names("4321") == ["欧阳建国"]
    assert len(compiled) == 2 * 4
    # Pinyin typed in syllables is one pinyin query (as words it found nobody).
    assert names("zhang san") == names("zhangsan") == ["张三"]
    assert selectors.search_text("Zhang  San") == "ZhangSan"
    assert selectors.search_text("John Smith") == "John Smith"  # not pinyin: two words


def test_filters_are_part_of_the_key(people, county_officer, tree):
    tag = people["tag"]
    for filters in (
        {"tag": tag},
        {"node": tree["grid_c"]},
        {"node": tree["community"]},
        {"sex": "M"},
        {"age_min": 30, "age_max": 80},
        {"household": people["张三"].household},
    ):
        for q in ("", "张三", "建国", "zs"):
            compiled, count, orm, orm_count = both_ways(county_officer, q, **filters)
            if compiled is not None:
                selectors._attach_tags(compiled)
                assert [shown(p) for p in compiled] == [shown(p) for p in orm], (filters, q)
                assert count == orm_count


def test_a_moved_node_is_a_new_statement(people, county_officer, tree):
    grid_c = tree["grid_c"]
    before = both_ways(county_officer, "", node=grid_c)
    grid_c.path = grid_c.path + "x/"  # as if moved: its people are no longer under this path
    after = PersonSearch(county_officer, node=grid_c).rows(0, 21, selectors.PERSON_LIST_FIELDS)
    if before[0] is not None:
        assert [p.name for p in before[0]] == ["单伟", "曾小明"]
        assert after == []


def test_a_stand_in_has_the_shape_of_the_text():
    for q in ("张三", "人民路 张", "zs", "zhangsan", "5678", "123X", valid_id(4)):
        kind, texts = search_compiled._shape(q)
        for which in (0, 1):
            marks = search_compiled._stand_ins(kind, texts, which)
            assert selectors.text_kind(" ".join(marks)) == kind
            assert [len(m) for m in marks] == [len(t) for t in texts]


def test_list_page_and_api_read_the_compiled_search(client, people, grid_a_worker):
    login(client, grid_a_worker)
    body = client.get("/api/people", {"q": "zs"}).json()
    assert [item["name"] for item in body["items"]] == ["张三"]
    body = client.get("/api/people", {"q": "ls"}).json()  # same shape, other text
    assert [item["name"] for item in body["items"]] == ["李四"]
    page = client.get("/people/", {"q": "建国"}).content.decode()
    assert "王建国" in page and "张三" not in page and "欧阳建国" not in page


@pytest.mark.parametrize("q", ["人民路", "建国", "张"])
def test_a_common_word_is_read_in_list_order_with_the_same_answers(
    people, county_officer, community_worker, monkeypatch, q
):
    """PostgreSQL: a word more people share than the count's cap walks the list in its order
    (selectors.common_word); rows, order and count stay those of the indexed search."""
    from minqing.core import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 1)
    for user in (county_officer, community_worker):
        search = PersonSearch(user, q=q)
        matches = selectors.person_search(user, q=q).count()
        assert search.walk is (
            connection.vendor == "postgresql" and user is county_officer and matches > 1
        ), (q, user)
        compiled = search.rows(0, 21, selectors.PERSON_LIST_FIELDS)
        orm_qs = selectors.person_search(user, q=q)
        orm = selectors.person_rows(orm_qs, 0, 21)
        if compiled is not None:
            selectors._attach_tags(compiled)
            assert [shown(p) for p in compiled] == [shown(p) for p in orm], q
            # A later page, as the pager asks for it.
            later = search.rows(1, 3, selectors.PERSON_LIST_FIELDS)
            assert [p.pk for p in later] == [p.pk for p in selectors.person_rows(orm_qs, 1, 3)]
        counted = selectors.person_capped_count(search, 1)  # compiled, or the ORM's where not
        assert counted == selectors.person_capped_count(orm_qs, 1) == min(matches, 2)
        # Another filter, or the count asked with another cap: counted as before.
        assert PersonSearch(user, q=q, sex="M").walk is False
        assert selectors.person_capped_count(search, 1000) == matches


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_the_common_word_probe_is_planned_for_its_own_word(db):
    """Prepared, the probe's LIKE was planned without its pattern after a few runs (a scan of
    every person instead of the prefix index: 6 → 83 ms for 范雅 in a 300 000-person county)."""
    for q in ["范雅", "雅菊", "建国", "人民路"] * 4:
        assert selectors.common_word(q, 1000) is False
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [s for (s,) in cursor.fetchall()]
    assert not [s for s in prepared if "FROM registry_person WHERE" in s], prepared
