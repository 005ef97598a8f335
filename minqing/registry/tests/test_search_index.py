"""Person search through the text indexes (migration registry 0003): same answers on SQLite (FTS5
trigram) and PostgreSQL (pg_trgm), always inside the asking user's scope.

Every search test runs twice: through the indexes (as for a county) and through plain column
conditions (as for a small scope, which person_search reads whole); the answers must agree.
"""

import pytest
from django.db import connection

from conftest import login, valid_id
from minqing.registry import selectors, services
from minqing.registry.models import Household, Person
from minqing.registry.selectors import _small_scope as real_small_scope
from minqing.registry.selectors import household_search, person_search


@pytest.fixture(autouse=True, params=["indexed", "plain"])
def mode(request, monkeypatch):
    small = request.param == "plain"
    monkeypatch.setattr(selectors, "_small_scope", lambda user, node: small)
    return request.param


@pytest.fixture
def people(admin_user, household_a, tree):
    """A few names in grids A, B and C; household A is at 人民路1号1幢101室."""
    household_c = services.household_create(
        acting_user=admin_user, data={"address": "解放路88号3幢502室", "grid": tree["grid_c"]}
    )
    specs = [
        ("张三", "grid_a", household_a, valid_id(1), "13812345678"),
        ("王建国", "grid_a", household_a, valid_id(2), ""),
        ("欧阳建国", "grid_b", None, valid_id(3), "13900004321"),
        ("单伟", "grid_c", household_c, valid_id(4), ""),
        ("曾小明", "grid_c", household_c, None, ""),
    ]
    out = {}
    for name, grid, household, id_number, phone in specs:
        out[name] = services.person_create(
            acting_user=admin_user,
            data={
                "name": name,
                "id_number": id_number,
                "phone": phone,
                "household": household,
                "grid": tree[grid],
            },
        )
    out["household_c"] = household_c
    return out


def names(user, q: str) -> set[str]:
    return set(person_search(user, q=q).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # Chinese, three characters or more: any substring of the name.
        ("王建国", {"王建国"}),
        ("阳建国", {"欧阳建国"}),
        ("欧阳建国", {"欧阳建国"}),
        # Chinese, one or two characters: the name starts or ends with it.
        ("张三", {"张三"}),
        ("建国", {"王建国", "欧阳建国"}),
        ("欧阳", {"欧阳建国"}),
        ("张", {"张三"}),
        ("伟", {"单伟"}),
        ("小", set()),  # inside a three-character name: not a start or an end
        # Full pinyin, any reading of a heteronym, any substring of three letters or more.
        ("zhangsan", {"张三"}),
        ("ZhangSan", {"张三"}),
        ("jianguo", {"王建国", "欧阳建国"}),
        ("shanwei", {"单伟"}),  # 单 as a surname reads shan (core.pinyin.SURNAME_READINGS)
        ("danwei", {"单伟"}),  # and its usual reading is kept beside it
        ("xiaom", {"曾小明"}),
        # Initials, each variant: substring if three letters, else start or end of a variant.
        ("wjg", {"王建国"}),
        ("oyjg", {"欧阳建国"}),
        ("zs", {"张三"}),
        ("jg", {"王建国", "欧阳建国"}),
        ("sw", {"单伟"}),
        ("zx", {"曾小明"}),
        ("xm", {"曾小明"}),
        # Digits: last four of ID or phone; a whole ID number.
        ("5678", {"张三"}),
        ("4321", {"欧阳建国"}),
        (valid_id(4), {"单伟"}),
        # Address words (household address), alone or with a name.
        ("人民路", {"张三", "王建国"}),
        ("解放路88号", {"单伟", "曾小明"}),
        ("人民路 张", {"张三"}),
        ("解放路 小明", {"曾小明"}),
        ("人民路 建国", {"王建国"}),
        # Nothing, and text that means something to FTS5 or LIKE.
        ("没有这个人", set()),
        ('"张三" OR 1', set()),
        ("%", set()),
        ("_三", set()),
        ("张* NEAR", set()),
        ("张\x00三", set()),
    ],
)
def test_county_officer_finds_by_text_query(people, county_officer, q, expected):
    assert names(county_officer, q) == expected


def test_results_stay_in_the_users_scope(people, grid_a_worker, grid_b_worker, community_worker):
    assert names(grid_a_worker, "建国") == {"王建国"}
    assert names(grid_b_worker, "建国") == {"欧阳建国"}
    assert names(community_worker, "jianguo") == {"王建国", "欧阳建国"}
    assert names(grid_b_worker, "解放路") == set()
    assert names(grid_a_worker, "cw") == set()
    assert names(grid_a_worker, valid_id(4)) == set()


def test_order_is_grid_household_id(people, county_officer):
    got = list(person_search(county_officer, q="jianguo"))
    assert [p.name for p in got] == ["王建国", "欧阳建国"]


def test_index_follows_renames_deletes_and_moves(people, admin_user, county_officer):
    person = people["王建国"]
    services.person_update(acting_user=admin_user, person=person, data={"name": "王卫东"})
    assert names(county_officer, "王建国") == set()
    assert names(county_officer, "wjg") == set()
    assert names(county_officer, "卫东") == {"王卫东"}
    assert names(county_officer, "weidong") == {"王卫东"}
    services.person_delete(acting_user=admin_user, person=Person.objects.get(pk=person.pk))
    assert names(county_officer, "weidong") == set()
    household_c = Household.objects.get(pk=people["household_c"].pk)
    services.household_update(
        acting_user=admin_user, household=household_c, data={"address": "建设路7号"}
    )
    assert names(county_officer, "解放路") == set()
    assert names(county_officer, "建设路") == {"单伟", "曾小明"}


def test_household_search_uses_member_names(people, county_officer):
    found = household_search(county_officer, q="曾小明")
    assert [h.pk for h in found] == [people["household_c"].pk]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("曾小明", {"c"}),  # a member's name
        ("王建国", {"a"}),
        ("人民路", {"a"}),  # the address
        ("解放路88号", {"c"}),
        ("人民路 张三", {"a"}),
        ("jg", {"a"}),  # 王建国's initials (欧阳建国 has no household)
        ("建国", {"a"}),  # a short word: names starting or ending with it
        ("number", {"a"}),  # household A's number, whole
        ("没有这户", set()),
        ("人民路 解放路", set()),  # QA: every word, not any (both households were found)
        ("解放路 3幢502", {"c"}),
        ("解放路 3幢", {"c"}),  # a short word beside a long one: every word still
        ("zxm 解放路", {"c"}),  # QA: initials beside an address word (曾小明 lives there)
        ("zengxiaoming 88号", {"c"}),
        ("人民路 3幢", set()),
    ],
)
def test_household_search_by_members_address_and_number(
    people, county_officer, household_a, q, expected
):
    """Both ways (the index as for a county, PostgreSQL's one array of ids; plain conditions as
    for a community) find the same households."""
    if q == "number":
        q = household_a.number
    by_name = {"a": household_a.pk, "c": people["household_c"].pk}
    found = {h.pk for h in household_search(county_officer, q=q)}
    assert found == {by_name[k] for k in expected}, q


def test_api_and_page_search(client, people, county_officer):
    login(client, county_officer)
    body = client.get("/api/people", {"q": "jg"}).json()
    assert body["count"] == 2
    assert {item["name"] for item in body["items"]} == {"王建国", "欧阳建国"}
    page = client.get("/people/", {"q": "张三"}).content.decode()
    assert "张三" in page and "王建国" not in page


def test_search_plan_follows_the_mode(people, county_officer, mode):
    where = str(person_search(county_officer, q="jianguo").query)
    if connection.vendor == "sqlite":
        assert ("registry_person_fts" in where) is (mode == "indexed")


@pytest.mark.parametrize(
    ("persona", "node", "small"),
    [
        ("grid_a_worker", None, True),
        ("community_worker", None, True),
        ("street_officer", None, False),
        ("county_officer", None, False),
        ("admin_user", None, False),
        ("county_officer", "other_community", True),
        ("county_officer", "grid_c", True),
        ("county_officer", "street", False),
        ("outsider", None, True),
    ],
)
def test_a_community_or_less_counts_as_small(request, tree, persona, node, small):
    user = request.getfixturevalue(persona)
    assert real_small_scope(user, tree[node] if node else None) is small


def test_text_index_exists_for_this_database(db):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name IN "
                "('registry_person_fts', 'registry_household_fts')"
            )
            assert len(cursor.fetchall()) == 2
            # Triggers keep them in sync; a SQLite table rebuild in a later migration drops them
            # (0003's sqlite_text_index_resync puts them back).
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_fts_a_'"
            )
            assert len(cursor.fetchall()) == 6
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE indexname IN "
                "('person_name_trgm', 'person_pinyin_trgm', 'person_initials_trgm', "
                "'household_address_trgm', 'person_name_prefix', 'person_name_suffix')"
            )
            assert len(cursor.fetchall()) == 6
