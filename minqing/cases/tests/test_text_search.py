"""The case search: one rule for the list, its export and the API; on PostgreSQL rare words
start from cases 0012's index of character pairs and find exactly what the plain test finds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import login
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


@pytest.mark.parametrize("word", WORDS)
def test_the_index_finds_what_testing_every_case_finds(cases, word, monkeypatch):
    qs = Case.objects.all()
    found = _found(qs, word)
    monkeypatch.setattr(selectors, "_indexed", lambda q, alias: False)
    assert found == _found(qs, word)


@pg_only
def test_a_rare_word_starts_from_the_index_a_single_character_or_digits_do_not(cases):
    def statements(q: str) -> str:
        with CaptureQueriesContext(connection) as captured:
            list(selectors.matching_text(Case.objects.all(), q))
        return " ".join(c["sql"] for c in captured.captured_queries)

    assert "minqing_case_bigrams" in statements("窨井")
    assert "unnest(ARRAY(" in statements("窨井")
    assert "minqing_case_bigrams" not in statements("路")
    assert "minqing_case_bigrams" not in statements("2026")


@pg_only
def test_a_common_word_is_tested_case_by_case(cases, monkeypatch):
    monkeypatch.setattr(selectors, "COMMON_TEXT", 1)
    assert selectors._indexed("窨井", "default")  # in one case: the index
    monkeypatch.setattr(selectors, "COMMON_TEXT", 0)
    assert not selectors._indexed("窨井", "default")  # in more than COMMON_TEXT: every case
    monkeypatch.setattr(selectors, "COMMON_TEXT", 2000)

    class Statistics:  # ANALYZE found 窨井 in half of 500 000 cases
        def get(self):
            return 500_000.0, {"窨井": 0.5}, 0.0

    monkeypatch.setattr(selectors, "_pair_stats", Statistics())
    with CaptureQueriesContext(connection) as captured:
        assert not selectors._indexed("窨井", "default")
    assert captured.captured_queries == []  # ruled out without counting
    assert _found(Case.objects.all(), "窨井") == {cases[1].number}


def test_the_list_and_the_api_search_the_same_way(client, cases, grid_a_worker):
    login(client, grid_a_worker)
    for word in ("窨井", "王大妈", "zhang"):
        page = [c.number for c in client.get("/cases/", {"q": word}).context["page"]]
        api = [c["number"] for c in client.get("/api/cases/", {"q": word}).json()["items"]]
        assert page == api and len(page) == 1, word
