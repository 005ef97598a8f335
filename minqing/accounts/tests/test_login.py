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


def test_sessions_expire_after_thirty_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME == 0.25


def test_logout_is_a_post(client, grid_a_worker):
    client.force_login(grid_a_worker)
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302
