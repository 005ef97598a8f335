"""The resident's progress page: lookup, what it shows and hides, rating, the lookup limit."""

import pytest
from django.core.cache import caches

from minqing.cases import public_views, services
from minqing.cases.models import CaseEvent, Satisfaction, Status
from minqing.core.cache import AtomicDatabaseCache

PHONE = "13812345678"  # case_a's reporter phone (王大妈)


@pytest.fixture(autouse=True)
def fresh_counters(db, settings):
    settings.PUBLIC_LOOKUP_RATE = "20/10m"
    caches["ratelimit"].clear()


def track(client, number, last4="5678", **extra):
    return client.get("/track/", {"number": number, "last4": last4}, **extra)


@pytest.fixture
def closed_case(case_a, grid_a_worker):
    case = services.case_act(acting_user=grid_a_worker, case=case_a, action="take")
    case = services.case_act(
        acting_user=grid_a_worker, case=case, action="feedback", note="已更换灯泡，恢复照明。"
    )
    return services.case_act(acting_user=grid_a_worker, case=case, action="verify")


def test_the_form_page_needs_no_login_and_asks_search_engines_to_stay_away(client, db):
    response = client.get("/track/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<meta name="robots" content="noindex">' in html
    assert 'name="number"' in html and 'name="last4"' in html
    assert "/households/" not in html  # no staff navigation


def test_the_right_number_and_digits_show_the_progress(client, case_a):
    response = track(client, case_a.number)
    assert response.status_code == 200
    html = response.content.decode()
    assert case_a.number in html
    assert "路灯损坏" in html
    assert "已立案，等待处理" in html
    assert "已受理您反映的问题" in html
    assert response["Cache-Control"] == "no-store, private"


@pytest.mark.parametrize(
    "typed",
    [
        "{d}{s}",  # a phone's number pad has no "-"
        "{d} {s}",
        " {d}－{s} ",  # a Chinese keyboard's full-width dash
        "{d}—{s}",
        "{wide}",  # full-width digits
    ],
)
def test_the_number_as_a_phone_types_it_is_found(client, case_a, typed):
    day, seq = case_a.number.split("-")
    wide = case_a.number.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    response = track(client, typed.format(d=day, s=seq, wide=wide), "５６７８")
    assert response.status_code == 200
    html = response.content.decode()
    assert "路灯损坏" in html and "已立案，等待处理" in html
    assert case_a.number in html  # shown as cases are numbered


def test_normal_case_number_leaves_what_is_not_a_number_alone():
    assert services.normal_case_number("2026112900000") == "2026112900000"  # 13 digits
    assert services.normal_case_number("abc-123") == "abc-123"
    assert services.normal_case_number("20261129--000004") == "20261129-000004"
    assert services.normal_case_number(None) == ""


def test_wrong_digits_and_an_unknown_number_get_the_same_answer(client, case_a):
    wrong_digits = track(client, case_a.number, "0000")
    unknown = track(client, "20000101-000001", "5678")
    assert wrong_digits.status_code == unknown.status_code == 200
    assert str(public_views.ERR_NOT_FOUND) in wrong_digits.content.decode()
    assert str(public_views.ERR_NOT_FOUND) in unknown.content.decode()
    assert case_a.number.encode() in wrong_digits.content  # only echoed in the form field
    assert (
        b"\xe8\xb7\xaf\xe7\x81\xaf\xe6\x8d\x9f\xe5\x9d\x8f" not in wrong_digits.content
    )  # 路灯损坏


def test_the_page_shows_no_names_phones_addresses_or_internal_notes(
    client, case_a, community_worker, grid_a_worker
):
    case = services.case_act(
        acting_user=community_worker, case=case_a, action="dispatch", target_user=grid_a_worker
    )
    services.case_act(
        acting_user=community_worker, case=case, action="supervise", note="内部督办：请王大妈家优先"
    )
    CaseEvent.objects.filter(case=case).update(note="内部备注 东门路3号")
    html = track(client, case.number).content.decode()
    assert "已派给处置人员" in html and "上级已督促加快办理" in html
    for secret in ("王大妈", PHONE, "138****5678", grid_a_worker.full_name,
                   grid_a_worker.username, community_worker.username, "内部", "东门路3号",
                   "东门社区第1网格"):  # fmt: skip
        assert secret not in html, secret


def test_the_answer_is_shown_once_the_case_is_closed(client, closed_case):
    html = track(client, closed_case.number).content.decode()
    assert "已更换灯泡，恢复照明。" in html
    assert 'name="satisfaction" value="satisfied"' in html
    assert 'name="satisfaction" value="fairly"' in html
    assert 'name="satisfaction" value="unsatisfied"' in html
    assert '<textarea class="input" id="note" name="note"' in html
    assert f'name="number" value="{closed_case.number}"' in html
    assert 'name="last4" value="5678"' in html


def test_an_open_case_has_no_rating_form_and_no_answer(client, case_a):
    html = track(client, case_a.number).content.decode()
    assert 'name="satisfaction"' not in html
    assert "办理答复" not in html


def rate(client, case, satisfaction, last4="5678", note=""):
    return client.post(
        "/track/rate/",
        {"number": case.number, "last4": last4, "satisfaction": satisfaction, "note": note},
    )


def test_a_satisfied_rating_closes_the_loop_and_thanks_the_resident(client, closed_case):
    response = rate(client, closed_case, "satisfied", note="很快")
    assert response.status_code == 302
    assert response["Location"] == f"/track/?number={closed_case.number}&last4=5678"
    closed_case.refresh_from_db()
    assert closed_case.status == Status.RATED
    assert closed_case.satisfaction == Satisfaction.SATISFIED
    html = client.get(response["Location"]).content.decode()
    assert public_views.MSG_THANKS in html
    assert "评价结果：满意" in html
    assert 'name="satisfaction"' not in html


def test_an_unsatisfied_rating_reopens_the_case_once_and_says_so(
    client, closed_case, grid_a_worker
):
    response = rate(client, closed_case, "unsatisfied", note="灯还是不亮")
    closed_case.refresh_from_db()
    assert closed_case.status == Status.REGISTERED and closed_case.reopened
    html = client.get(response["Location"]).content.decode()
    assert public_views.MSG_REOPENED in html
    assert "群众不满意，已重新办理" in html
    # Handled and closed again: a second 不满意 is recorded and the case stays closed.
    case = services.case_act(acting_user=grid_a_worker, case=closed_case, action="take")
    case = services.case_act(acting_user=grid_a_worker, case=case, action="feedback", note="再修")
    case = services.case_act(acting_user=grid_a_worker, case=case, action="verify")
    assert "本案件已重新办理过一次" in track(client, case.number).content.decode()
    response = rate(client, case, "unsatisfied")
    case.refresh_from_db()
    assert case.status == Status.RATED
    assert public_views.MSG_RECORDED in client.get(response["Location"]).content.decode()


def test_rating_an_open_case_is_refused_with_a_clear_message(client, case_a):
    response = rate(client, case_a, "satisfied")
    assert response.status_code == 409
    assert str(public_views.ERR_RATE_OPEN) in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.status == Status.REGISTERED and case_a.satisfaction == ""


def test_rating_twice_is_refused(client, closed_case):
    rate(client, closed_case, "fairly")
    response = rate(client, closed_case, "unsatisfied")
    assert response.status_code == 409
    assert str(public_views.ERR_RATE_DONE) in response.content.decode()
    closed_case.refresh_from_db()
    assert closed_case.satisfaction == Satisfaction.FAIRLY


def test_a_rating_needs_the_right_digits_too(client, closed_case):
    response = rate(client, closed_case, "satisfied", last4="0000")
    assert str(public_views.ERR_NOT_FOUND) in response.content.decode()
    closed_case.refresh_from_db()
    assert closed_case.status == Status.CLOSED


def test_a_rating_without_a_choice_asks_for_one(client, closed_case):
    response = rate(client, closed_case, "", note="说明")
    assert response.status_code == 400
    assert str(services.ERR_SATISFACTION) in response.content.decode()
    closed_case.refresh_from_db()
    assert closed_case.status == Status.CLOSED


def test_lookups_over_the_limit_get_429_in_chinese(client, case_a, settings):
    settings.PUBLIC_LOOKUP_RATE = "3/10m"
    for digits in ("0001", "0002", "0003"):
        assert track(client, case_a.number, digits).status_code == 200
    response = track(client, case_a.number, "5678")
    assert response.status_code == 429
    assert "查询过于频繁" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert case_a.number not in response.content.decode().split("查询过于频繁")[1]
    # Ratings are lookups too.
    assert rate(client, case_a, "satisfied").status_code == 429


def test_the_limit_is_per_client_address(client, case_a, settings):
    settings.PUBLIC_LOOKUP_RATE = "2/10m"
    for _ in range(3):
        track(client, case_a.number, REMOTE_ADDR="10.0.0.1")
    assert track(client, case_a.number, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert track(client, case_a.number, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_behind_a_proxy_the_configured_header_names_the_client(client, case_a, settings):
    settings.PUBLIC_LOOKUP_RATE = "1/10m"
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert track(client, case_a.number, HTTP_X_REAL_IP="203.0.113.5").status_code == 200
    assert track(client, case_a.number, HTTP_X_REAL_IP="203.0.113.5").status_code == 429
    assert track(client, case_a.number, HTTP_X_REAL_IP="203.0.113.6").status_code == 200


def test_the_form_alone_and_half_filled_queries_are_not_counted(client, case_a, settings):
    settings.PUBLIC_LOOKUP_RATE = "1/10m"
    for _ in range(3):
        assert client.get("/track/").status_code == 200
        response = client.get("/track/", {"number": case_a.number, "last4": ""})
        assert str(public_views.ERR_INCOMPLETE) in response.content.decode()
    assert track(client, case_a.number).status_code == 200


def test_the_counter_increments_atomically_in_the_database_cache(db):
    cache = caches["ratelimit"]
    assert isinstance(cache, AtomicDatabaseCache)
    assert cache.add("k", 1, 60)
    assert [cache.incr("k") for _ in range(3)] == [2, 3, 4]
    assert cache.get("k") == 4
    with pytest.raises(ValueError):
        cache.incr("missing")


@pytest.mark.parametrize(
    "params",
    [
        {"number": "x" * 5000, "last4": "5678"},
        {"number": "<script>alert(1)</script>", "last4": "'; drop table--"},
        {"number": "２０２６０３１８-０００００１", "last4": "５６７８"},
        {"number": "20260318-000001", "last4": "99999999999999999999"},
        {"number": ["a", "b"], "last4": ["1", "2"]},
        {"number": "\x00", "last4": "\x00"},
        {"last4": "5678"},
        {"page": "-1"},
    ],
)
def test_junk_never_answers_500(client, case_a, params):
    get = client.get("/track/", params)
    post = client.post("/track/rate/", {**params, "satisfaction": "\x00"})
    assert get.status_code in (200, 400)
    assert post.status_code in (200, 400)
    assert b"<script>alert" not in get.content


def test_the_rating_page_only_takes_posts(client, db):
    assert client.get("/track/rate/").status_code == 405


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_increments_are_all_counted():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks between connections need PostgreSQL")
    cache = caches["ratelimit"]
    cache.clear()
    cache.add("race", 0, 60)

    def bump(_):
        try:
            return [caches["ratelimit"].incr("race") for _ in range(10)]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = [n for batch in pool.map(bump, range(4)) for n in batch]
    assert cache.get("race") == 40
    assert sorted(seen) == list(range(1, 41))  # no two requests ever saw the same count
    cache.clear()
