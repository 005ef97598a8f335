"""The sign-in backend reads a signed-in user with their role assignments in one query."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import PASSWORD
from minqing.accounts.access import home_node
from minqing.accounts.backends import ScopedModelBackend, token_with_user, user_with_assignments
from minqing.accounts.models import ApiToken, DataScope, Role, RoleAssignment, Session, User


def _statements(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_a_signed_in_api_call_reads_session_user_and_assignments_in_one_statement(
    client, grid_a_worker
):
    client.post("/accounts/login/", {"username": "grid_a", "password": PASSWORD})
    sql = _statements(client, "/api/me")
    assert len(sql) == 1, sql
    assert all(
        t in sql[0] for t in ("accounts_session", "accounts_user", "accounts_roleassignment")
    )
    body = client.get("/api/me").json()
    assert body["roles"] == [Role.GRID_WORKER] and body["home_node"] == "330188001001001"


def test_the_session_row_names_its_user_from_sign_in_to_sign_out(client, grid_a_worker):
    client.get("/accounts/login/")  # an anonymous session (the CSRF cookie) has no user
    client.post("/accounts/login/", {"username": "grid_a", "password": PASSWORD})
    key = client.session.session_key
    assert Session.objects.get(session_key=key).user_id == grid_a_worker.pk
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    assert not Session.objects.filter(user=grid_a_worker).exists()


def test_the_user_read_with_the_session_is_used_only_for_the_user_its_data_names(
    client, grid_a_worker, grid_b_worker
):
    """The data stays the authority: a column pointing elsewhere (written by hand, or by a
    bug) reads the data's user by a second statement, never the column's."""
    client.force_login(grid_a_worker)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(user=grid_b_worker)
    sql = _statements(client, "/api/me")
    reads = [q for q in sql if "accounts_roleassignment" in q]
    assert len(reads) == 2 and "accounts_session" not in reads[1], sql
    assert client.get("/api/me").json()["username"] == "grid_a"


def test_a_password_change_elsewhere_still_ends_the_session(client, grid_a_worker):
    """The user read with the session still goes through Django's session-hash check."""
    client.force_login(grid_a_worker)
    assert client.get("/api/me").status_code == 200
    grid_a_worker.set_password("another-long-password-1")
    grid_a_worker.save()
    assert client.get("/api/me").status_code == 401
    assert client.get("/").status_code == 302


def test_an_inactive_user_read_with_the_session_is_nobody(client, grid_a_worker):
    client.force_login(grid_a_worker)
    User.objects.filter(pk=grid_a_worker.pk).update(is_active=False)
    assert client.get("/api/me").status_code == 401


def test_a_user_with_two_assignments_gets_both_and_the_higher_node_as_home(
    client, grid_a_worker, tree
):
    RoleAssignment.objects.create(
        user=grid_a_worker, role=Role.COMMUNITY_WORKER, node=tree["community"]
    )
    client.force_login(grid_a_worker)
    body = client.get("/api/me").json()
    assert sorted(body["roles"]) == sorted([Role.GRID_WORKER, Role.COMMUNITY_WORKER])
    assert body["home_node"] == tree["community"].code
    user = ScopedModelBackend().get_user(grid_a_worker.pk)
    assert {a.user is user for a in user._minqing_assignments} == {True}
    assert home_node(user) == tree["community"]


def test_the_one_statement_loads_what_the_orm_loads(grid_a_worker, tree):
    RoleAssignment.objects.create(
        user=grid_a_worker,
        role=Role.COMMUNITY_WORKER,
        node=tree["community"],
        data_scope=DataScope.NODE,
    )
    grid_a_worker.last_login = grid_a_worker.date_joined
    grid_a_worker.save()
    user, assignments = user_with_assignments(grid_a_worker.pk)
    expected = User.objects.get(pk=grid_a_worker.pk)

    def values(obj):
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}

    assert values(user) == values(expected) and not user._state.adding
    orm = list(expected.assignments.select_related("node").order_by("pk"))
    assert [values(a) for a in assignments] == [values(a) for a in orm]
    assert {"boundary"} == assignments[0].node.get_deferred_fields()
    assert [values(a.node) for a in assignments] == [values(a.node) for a in orm]
    assert {type(a.node.level) for a in assignments} == {int}
    assert assignments[0].node.boundary == tree["grid_a"].boundary  # read when asked for
    assert not hasattr(user, "ra_role") and not hasattr(user, "n_path")


def test_a_token_call_reads_token_user_and_assignments_in_one_statement(client, grid_a_worker):
    token, raw = ApiToken.issue(user=grid_a_worker, name="手机")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/me", **auth).status_code == 200  # first use: last_used_at set
    with CaptureQueriesContext(connection) as captured:
        body = client.get("/api/me", **auth).json()
    assert body["username"] == "grid_a" and body["home_node"] == "330188001001001"
    sql = [q["sql"] for q in captured.captured_queries]
    assert len(sql) == 1 and "accounts_apitoken" in sql[0] and "accounts_roleassignment" in sql[0]

    loaded = token_with_user(ApiToken.digest_of(raw))
    stored = ApiToken.objects.get(pk=token.pk)
    assert loaded.pk == stored.pk and loaded.user == grid_a_worker
    assert loaded.last_used_at == stored.last_used_at and loaded.last_used_at.tzinfo is not None
    assert token_with_user(ApiToken.digest_of("mq_not-a-token")) is None
    assert client.get("/api/me", HTTP_AUTHORIZATION="Bearer mq_not-a-token").status_code == 401


def test_a_user_without_assignments_still_signs_in_and_sees_nothing(client, outsider):
    client.post("/accounts/login/", {"username": "outsider", "password": PASSWORD})
    body = client.get("/api/me").json()
    assert body["username"] == "outsider" and body["roles"] == [] and body["home_node"] is None
    assert client.get("/api/people").json()["count"] == 0


def test_a_deactivated_user_is_signed_out_on_the_next_request(client, grid_a_worker):
    client.force_login(grid_a_worker)
    assert client.get("/api/me").status_code == 200
    grid_a_worker.is_active = False
    grid_a_worker.save(update_fields=["is_active"])
    assert client.get("/api/me").status_code == 401
    assert ScopedModelBackend().get_user(grid_a_worker.pk) is None


def test_an_unknown_or_malformed_user_id_is_nobody(db):
    backend = ScopedModelBackend()
    assert backend.get_user(987654) is None
    assert backend.get_user("not-a-number") is None


def test_the_page_header_counts_unread_notifications_once(client, grid_a_worker):
    from minqing.cases.models import Notification, NotificationKind

    Notification.objects.create(user=grid_a_worker, kind=NotificationKind.ASSIGNED, message="x")
    client.force_login(grid_a_worker)
    sql = _statements(client, "/")
    assert sum("cases_notification" in s and "COUNT" in s for s in sql) == 1
    assert '<b class="badge">1</b>' in client.get("/").content.decode()


def test_the_unread_count_comes_with_the_signed_in_user_and_is_current(client, grid_a_worker):
    from minqing.cases.models import Notification, NotificationKind

    client.force_login(grid_a_worker)
    sql = _statements(client, "/cases/inbox/")
    user_sql = [s for s in sql if "accounts_roleassignment" in s]
    assert len(user_sql) == 1 and "cases_notification" in user_sql[0]
    assert sum("cases_notification" in s for s in sql) == 1  # no count of its own
    assert 'class="badge"' not in client.get("/cases/inbox/").content.decode()
    for _ in range(2):
        Notification.objects.create(user=grid_a_worker, kind=NotificationKind.ASSIGNED, message="x")
    Notification.objects.create(
        user=grid_a_worker, kind=NotificationKind.ASSIGNED, message="y", read_at=timezone.now()
    )
    assert '<b class="badge">2</b>' in client.get("/cases/inbox/").content.decode()
    user = ScopedModelBackend().get_user(grid_a_worker.pk)
    assert user._minqing_unread == 2
    token, raw = ApiToken.issue(user=grid_a_worker, name="手机")
    assert not hasattr(token_with_user(ApiToken.digest_of(raw)).user, "_minqing_unread")


def test_deleting_a_user_deletes_their_sessions_and_a_late_save_does_not_fail(
    client, grid_a_worker
):
    client.force_login(grid_a_worker)
    session = client.session
    grid_a_worker.delete()
    assert not Session.objects.filter(session_key=session.session_key).exists()
    session["late"] = 1
    session.save()  # a request in flight saves the session after the user was deleted
    assert client.get("/api/me").status_code == 401
