"""The case search: one rule for the list, its export and the API; on PostgreSQL rare words
start from cases 0012's index of character pairs and find exactly what the plain test finds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import grid_below, login
from minqing.accounts.models import Role, RoleAssignment, User
from minqing.cases import selectors, services
from minqing.cases.models import Case

pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's index")


@pytest.fixture
def cases(tree, grid_a_worker, street_light):
    """Three cases in grid A with texts in each searched field."""
    made = []
    for description, reporter, address in (
        ("楼道路灯不亮，晚上看不见。", "王大妈", "东门路3号"),
        ("小区门口窨井盖缺失。", "李建国", "学府路65号"),
        ("夜间施工噪音扰民。", "Zhang Wei", "解放路12号"),
    ):
        made.append(
            services.case_accept(
                acting_user=grid_a_worker,
                data={
                    "category": street_light,
                    "description": description,
                    "grid": tree["grid_a"],
                    "reporter_name": reporter,
                    "reporter_phone": "13812345678",
                    "address": address,
                    "channel": "phone",
                },
            )
        )
    return made


WORDS = ["窨井", "井盖缺失", "噪音", "王大妈", "学府路65", "zhang", "WEI", "路", "不存在", "5678"]


def _found(qs, q: str) -> set[str]:
    return set(selectors.matching_text(qs, q).values_list("number", flat=True))


def test_every_field_is_searched_and_letter_case_does_not_matter(cases):
    qs = Case.objects.all()
    lamp, well, noise = (c.number for c in cases)
    assert _found(qs, "窨井") == {well}
    assert _found(qs, "王大妈") == {lamp}  # the reporter's name
    assert _found(qs, "学府路65") == {well}  # the address
    assert _found(qs, "zhang") == _found(qs, "WEI") == {noise}
    assert _found(qs, lamp[-6:]) == {lamp}  # the number's tail
    assert _found(qs, "5678") == {lamp, well, noise}  # the phone's last four digits
    assert _found(qs, "不存在") == set()
    # QA: several words, each somewhere in the case (the whole text was one phrase).
    assert _found(qs, "窨井 学府路") == {well}  # the description and the address
    assert _found(qs, "李建国 窨井") == {well}  # the reporter and the description
    assert _found(qs, "zhang wei") == {noise}
    assert _found(qs, "窨井 噪音") == set()  # every word, not any


@pytest.mark.parametrize("word", WORDS)
def test_the_index_finds_what_testing_every_case_finds(cases, word, monkeypatch):
    qs = Case.objects.all()
    found = _found(qs, word)
    monkeypatch.setattr(selectors, "_indexed_ids", lambda q, alias, user=None: None)
    assert found == _found(qs, word)


def _statements(q: str, user=None) -> str:
    qs = Case.objects.all() if user is None else selectors.cases_for(user)
    with CaptureQueriesContext(connection) as captured:
        list(selectors.matching_text(qs, q, user))
    return " ".join(c["sql"] for c in captured.captured_queries)


class Statistics:
    """What ANALYZE would say of 500 000 cases: 窨井 in half of them, 井盖 in 1 %, 缺失 in 2 %."""

    def get(self):
        return 500_000.0, {"窨井": 0.5, "井盖": 0.01, "缺失": 0.02}, 0.001


@pg_only
def test_a_rare_word_is_looked_up_in_the_index_a_single_character_is_not(cases):
    assert "minqing_case_bigrams" in _statements("窨井")
    assert "= ANY(" in _statements("窨井")  # the ids found, as one array
    assert "minqing_case_bigrams" in _statements("5678")  # digits too (and the phone's end)
    assert _found(Case.objects.all(), "5678") == {c.number for c in cases}
    assert "minqing_case_bigrams" not in _statements("路")


@pg_only
def test_a_word_in_more_cases_than_the_index_serves_is_tested_case_by_case(cases, monkeypatch):
    assert selectors._indexed_ids("窨井", "default") == [cases[1].pk]
    monkeypatch.setattr(selectors, "COMMON_TEXT", 0)
    assert selectors._indexed_ids("窨井", "default") is None  # found in more than COMMON_TEXT
    assert _found(Case.objects.all(), "窨井") == {cases[1].number}


@pg_only
def test_the_statistics_rule_out_a_common_word_without_a_look_up(cases, monkeypatch):
    monkeypatch.setattr(selectors, "_pair_stats", Statistics())
    with CaptureQueriesContext(connection) as captured:
        assert selectors._indexed_ids("窨井", "default") is None  # 250 000 expected
    assert captured.captured_queries == []
    assert _found(Case.objects.all(), "窨井") == {cases[1].number}
    # 井盖 in 5 000, 缺失 in 10 000, 盖缺 in fewer than 500: together (as if independent) in
    # less than one case — looked up.
    assert selectors._indexed_ids("井盖缺失", "default") == [cases[1].pk]


@pg_only
def test_above_a_community_the_look_up_is_narrowed_to_the_users_places(
    cases, tree, street_officer, county_officer, community_worker, grid_a_worker, monkeypatch
):
    grid = grid_below(tree["county"], "330188002", "新城")
    worker = User.objects.create_user(username="xc", password="x", full_name="新城网格员")
    RoleAssignment.objects.create(user=worker, role=Role.GRID_WORKER, node=grid)
    other = services.case_accept(
        acting_user=worker,
        data={
            "category": cases[0].category,
            "description": "新城的窨井盖也缺失了。",
            "grid": grid,
            "address": "新城路1号",
            "channel": "phone",
        },
    )
    assert sorted(selectors._indexed_ids("窨井", "default", county_officer)) == sorted(
        [cases[1].pk, other.pk]
    )
    assert selectors._indexed_ids("窨井", "default", street_officer) == [cases[1].pk]
    assert "ANY(ARRAY(" in _statements("窨井", street_officer)  # the places as one array
    # A community or less tests its own cases, without the index.
    assert selectors._indexed_ids("窨井", "default", community_worker) is None
    assert selectors._indexed_ids("窨井", "default", grid_a_worker) is None
    for user in (county_officer, street_officer, community_worker):
        found = _found(selectors.cases_for(user), "窨井")
        monkeypatch.setattr(selectors, "_indexed_ids", lambda q, alias, user=None: None)
        assert found == _found(selectors.cases_for(user), "窨井")
        monkeypatch.undo()
    # A word the statistics put in most cases: a street reads its list (COMMON_SHARE).
    monkeypatch.setattr(selectors, "_pair_stats", Statistics())
    assert selectors._indexed_ids("窨井", "default", street_officer) is None
    assert selectors._indexed_ids("井盖", "default", street_officer) == [cases[1].pk]


def test_ids_in_hand_are_one_parameter(cases):
    ids = [c.pk for c in cases]
    assert set(Case.objects.filter(pk__any_of=ids[:2])) == set(cases[:2])
    assert list(Case.objects.filter(pk__any_of=[])) == []
    qs = Case.objects.filter(pk__any_of=ids)
    sql, params = qs.query.sql_with_params()
    if connection.vendor == "postgresql":
        assert ids in [list(p) if isinstance(p, list | tuple) else p for p in params]


def test_the_list_and_the_api_search_the_same_way(client, cases, grid_a_worker):
    login(client, grid_a_worker)
    for word in ("窨井", "王大妈", "zhang"):
        page = [c.number for c in client.get("/cases/", {"q": word}).context["page"]]
        api = [c["number"] for c in client.get("/api/cases/", {"q": word}).json()["items"]]
        assert page == api and len(page) == 1, word


@pg_only
def test_the_index_of_pairs_comes_back_from_a_dump_restored_as_the_readme_says(db, tmp_path):
    """QA (ops): pg_restore runs with an empty search_path, where minqing_case_bigrams could
    not find minqing_bigrams by its bare name: the restore exited 1 without the index (cases
    0018 names the schema). A schema-only dump of the test database, restored with the
    README's options into a scratch database, must exit 0 with the index in place."""
    import shutil
    import subprocess
    import urllib.parse

    import psycopg

    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("pg_dump / pg_restore not installed")
    settings = connection.settings_dict
    auth = {"PGHOST": settings["HOST"] or "127.0.0.1", "PGPORT": str(settings["PORT"] or 5432),
            "PGUSER": settings["USER"] or "postgres", "PGPASSWORD": settings["PASSWORD"] or ""}  # fmt: skip
    env = {**__import__("os").environ, **auth}
    dump = tmp_path / "schema.dump"
    subprocess.run(["pg_dump", "--schema-only", "--format=custom", "--file", str(dump),
                    settings["NAME"]], env=env, check=True)  # fmt: skip
    scratch = f"{settings['NAME']}_restore_probe"[:60]
    admin = f"postgresql://{urllib.parse.quote(auth['PGUSER'])}@{auth['PGHOST']}:{auth['PGPORT']}/postgres"
    with psycopg.connect(admin, autocommit=True, password=auth["PGPASSWORD"] or None) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner",
                               "--dbname", scratch, str(dump)], env=env, capture_output=True,
                              text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        target = admin.rsplit("/", 1)[0] + f"/{scratch}"
        with psycopg.connect(target, password=auth["PGPASSWORD"] or None) as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'case_text_bigrams'"
            ).fetchone()[0]
        assert found == 1
    finally:
        with psycopg.connect(admin, autocommit=True, password=auth["PGPASSWORD"] or None) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
