import datetime as dt

import pytest
from django.conf import settings

from conftest import PASSWORD
from minqing.accounts.models import User


@pytest.mark.argon2
def test_passwords_are_hashed_with_argon2(grid_a_worker):
    assert User.objects.get(pk=grid_a_worker.pk).password.startswith("argon2")


def test_login_page_signs_a_user_in(client, grid_a_worker):
    response = client.post("/accounts/login/", {"username": "grid_a", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "东门社区第1网格" in client.get("/").content.decode()


def test_five_failed_logins_lock_the_account_even_with_the_right_password(client, grid_a_worker):
    for _ in range(5):
        bad = client.post("/accounts/login/", {"username": "grid_a", "password": "wrong-password"})
        assert bad.status_code in (200, 429)
    locked = client.post("/accounts/login/", {"username": "grid_a", "password": PASSWORD})
    assert locked.status_code == 429
    assert "账号已锁定" in locked.content.decode()
    assert not client.session.get("_auth_user_id")


def test_a_lock_does_not_spill_onto_a_colleague(client, grid_a_worker, grid_b_worker):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "grid_a", "password": "wrong-password"})
    ok = client.post("/accounts/login/", {"username": "grid_b", "password": PASSWORD})
    assert ok.status_code == 302


def test_lockout_and_idle_timeout_settings():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME == 0.25


def _expiry(client):
    from minqing.accounts.models import Session

    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_session_idle_for_thirty_minutes_is_signed_out(client, grid_a_worker):
    from django.utils import timezone

    from minqing.accounts.models import Session

    client.post("/accounts/login/", {"username": "grid_a", "password": PASSWORD})
    assert client.get("/").status_code == 200
    left = _expiry(client) - timezone.now()
    assert dt.timedelta(minutes=29) < left <= dt.timedelta(minutes=30)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get("/").status_code == 302


def test_activity_moves_the_expiry_at_most_once_a_minute(client, grid_a_worker):
    from minqing.accounts.models import Session

    client.post("/accounts/login/", {"username": "grid_a", "password": PASSWORD})
    client.get("/")
    first = _expiry(client)
    client.get("/")
    assert _expiry(client) == first  # within the minute: no write
    # A minute later (the touch stamp set back), a request moves the expiry forward.
    session = Session.objects.get(session_key=client.session.session_key)
    data = session.get_decoded()
    data["_touched"] -= 61
    Session.objects.filter(pk=session.pk).update(
        session_data=Session.objects.encode(data), expire_date=first - dt.timedelta(minutes=1)
    )
    client.get("/")
    assert _expiry(client) > first - dt.timedelta(minutes=1)


def test_a_request_that_does_not_use_the_session_neither_reads_nor_moves_it(client, grid_a_worker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minqing.accounts.models import Session

    client.post("/accounts/login/", {"username": "grid_a", "password": PASSWORD})
    session = Session.objects.get(session_key=client.session.session_key)
    data = session.get_decoded()
    data["_touched"] -= 61
    earlier = session.expire_date - dt.timedelta(minutes=1)
    Session.objects.filter(pk=session.pk).update(
        session_data=Session.objects.encode(data), expire_date=earlier
    )
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/healthz").status_code == 200
    assert [q["sql"] for q in captured.captured_queries] == ["SELECT 1"]
    assert _expiry(client) == earlier  # a health check is not the user's activity
    client.get("/")
    assert _expiry(client) > earlier


def test_an_unknown_or_expired_session_cookie_is_nobody_and_gets_a_new_key(client, grid_a_worker):
    from django.conf import settings
    from django.utils import timezone

    from minqing.accounts.models import Session

    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    assert client.get("/").status_code == 302
    client.post("/accounts/login/", {"username": "grid_a", "password": PASSWORD})
    key = client.session.session_key
    assert key != "x" * 32 and client.get("/").status_code == 200
    Session.objects.filter(session_key=key).update(expire_date=timezone.now())
    assert client.get("/api/me").status_code == 401


def test_logout_is_a_post(client, grid_a_worker):
    client.force_login(grid_a_worker)
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_an_empty_login_form_asks_for_the_name_and_password_not_a_lockout(client, grid_a_worker):
    page = client.post("/accounts/login/", {"username": "", "password": ""}).content.decode()
    assert "请输入用户名和密码" in page and "锁定" not in page
    wrong = client.post("/accounts/login/", {"username": "grid_a", "password": "wrong-password"})
    assert "用户名或密码不正确" in wrong.content.decode()
