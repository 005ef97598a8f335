"""API tokens: audited when issued and withdrawn, withdrawn by a new password (security QA)."""

from minqing.accounts.models import ApiToken
from minqing.core.models import AuditEntry


def test_a_token_is_audited_and_a_new_password_withdraws_it(client, grid_b_worker):
    client.force_login(grid_b_worker)
    page = client.post("/accounts/tokens/", {"name": "qa"}).content.decode()
    token = ApiToken.objects.get(user=grid_b_worker)
    raw = next(w for w in page.replace("<", " ").replace(">", " ").split() if w.startswith("mq_"))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/me", **auth).status_code == 200
    made = AuditEntry.objects.get(model="accounts.apitoken", action="create")
    assert made.actor == grid_b_worker and made.changes["name"] == [None, "qa"]

    grid_b_worker.set_password("a-new-pass-2026!")
    grid_b_worker.save()  # as the admin's password form does
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    client.logout()
    assert client.get("/api/me", **auth).status_code == 401

    client.force_login(grid_b_worker)
    client.post("/accounts/tokens/", {"name": "again"})
    token = ApiToken.objects.get(user=grid_b_worker)
    client.post(f"/accounts/tokens/{token.pk}/delete/")
    assert not ApiToken.objects.exists()
    gone = AuditEntry.objects.get(model="accounts.apitoken", action="delete")
    assert gone.changes["name"] == ["again", None]
    grid_b_worker.full_name = "改名"
    ApiToken.issue(user=grid_b_worker, name="kept")
    grid_b_worker.save()  # no new password: tokens stay
    assert ApiToken.objects.filter(name="kept").exists()
    grid_b_worker.set_unusable_password()  # "disable password-based authentication"
    grid_b_worker._password = None  # (as after any save: only the hash tells)
    grid_b_worker.save()
    assert not ApiToken.objects.filter(name="kept").exists()


def test_the_old_password_cannot_be_guessed_on_the_change_form(client, grid_a_worker, settings):
    """Review: the form checked the old password without a count (django-axes counts logins
    only): a stolen session could guess it slowly."""
    settings.AXES_FAILURE_LIMIT = 3
    client.force_login(grid_a_worker)
    wrong = {"old_password": "nope", "new_password1": "Grid-A-2026-new!",
             "new_password2": "Grid-A-2026-new!"}  # fmt: skip
    for _ in range(3):
        assert (
            "原密码输错次数过多" not in client.post("/accounts/password/", wrong).content.decode()
        )
    right = {**wrong, "old_password": "correct-horse-battery-9"}
    r = client.post("/accounts/password/", right)
    assert r.status_code == 200 and "原密码输错次数过多" in r.content.decode()
    grid_a_worker.refresh_from_db()
    assert grid_a_worker.check_password("correct-horse-battery-9")
