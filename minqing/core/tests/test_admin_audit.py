"""Changes made at /admin/ leave the same audit trail as changes made on the app's pages."""

from html.parser import HTMLParser

import pytest
from django.contrib import admin

from minqing.accounts.models import Role, RoleAssignment, ServiceTeam, TeamMember, User
from minqing.core.admin import AuditedAdmin
from minqing.core.models import AuditAction, AuditEntry, WorkdayOverride
from minqing.grids.models import Level, Node


class _FormValues(HTMLParser):
    """The values a browser would submit from the page's main form (the admin change form)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = None
        self._textarea = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method", "").lower() == "post":
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file"):
                return
            self.data.setdefault(name, []).append(
                a.get("value", "on" if kind == "checkbox" else "")
            )
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data


def form_of(client, url: str) -> dict:
    page = client.get(url)
    assert page.status_code == 200
    parser = _FormValues()
    parser.feed(page.content.decode())
    return {k: v if len(v) != 1 else v[0] for k, v in parser.data.items()}


def saved(client, url: str, data: dict) -> None:
    """POST an admin form; it must save (redirect), else the form's errors are the message."""
    response = client.post(url, data)
    lines = response.content.decode().splitlines()
    assert response.status_code == 302, [x for x in lines if "errorlist" in x or "errornote" in x]


def staff(user, permissions) -> None:
    """`user` made a staff account holding exactly these model permissions."""
    user.is_staff = True
    user.save()
    user.user_permissions.set(permissions)


def _move_refused(client, url: str, field: str, node) -> None:
    """The record's change form, posted with its place moved to `node`, is refused as such."""
    data = form_of(client, url)
    data[field] = str(node.pk)
    r = client.post(url, data)
    assert r.status_code == 200 and "请选择您辖区内的区划" in r.content.decode()


def _entries(model: str, action=None):
    qs = AuditEntry.objects.filter(model=model).order_by("pk")
    return list(qs.filter(action=action) if action else qs)


def test_every_admin_page_is_audited():
    unaudited = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if model_admin.model._meta.app_label not in ("auth", "axes", "sessions")
        and not isinstance(model_admin, AuditedAdmin)
    ]
    assert unaudited == []


def test_a_role_given_and_a_mobile_changed_in_the_admin_are_audited(
    client, admin_user, grid_a_worker, tree
):
    client.force_login(admin_user)
    url = f"/admin/accounts/user/{grid_a_worker.pk}/change/"
    data = form_of(client, url)
    data["mobile"] = "13812345678"
    total = int(data["assignments-TOTAL_FORMS"])
    data.update(
        {
            "assignments-TOTAL_FORMS": str(total + 1),
            f"assignments-{total}-role": Role.COMMUNITY_WORKER,
            f"assignments-{total}-node": str(tree["community"].pk),
            f"assignments-{total}-data_scope": "node_and_below",
        }
    )
    saved(client, url, data)
    assert RoleAssignment.objects.filter(user=grid_a_worker, role=Role.COMMUNITY_WORKER).exists()

    (user_entry,) = _entries("accounts.user", AuditAction.UPDATE)
    assert user_entry.actor == admin_user and user_entry.reason == "后台管理"
    assert user_entry.changes == {"mobile": ["", "138****5678"]}
    (role_entry,) = _entries("accounts.roleassignment", AuditAction.CREATE)
    assert role_entry.changes["node"] == [None, str(tree["community"])]
    assert role_entry.changes["role"] == [None, Role.COMMUNITY_WORKER]
    assert "13812345678" not in str(AuditEntry.objects.values_list("changes", flat=True))


def test_a_role_taken_away_in_the_admin_is_audited(client, admin_user, grid_a_worker):
    client.force_login(admin_user)
    assignment = RoleAssignment.objects.get(user=grid_a_worker)
    url = f"/admin/accounts/user/{grid_a_worker.pk}/change/"
    data = form_of(client, url)
    data["assignments-0-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert not RoleAssignment.objects.filter(user=grid_a_worker).exists()
    (entry,) = _entries("accounts.roleassignment", AuditAction.DELETE)
    assert entry.object_id == str(assignment.pk) and "grid_a" in entry.object_repr


def test_a_password_set_in_the_admin_is_audited_without_the_password(
    client, admin_user, grid_a_worker
):
    client.force_login(admin_user)
    url = f"/admin/accounts/user/{grid_a_worker.pk}/password/"
    secret = "Xin-mima-2026!"
    response = client.post(
        url, {"password1": secret, "password2": secret, "usable_password": "true"}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=grid_a_worker.pk).check_password(secret)
    (entry,) = _entries("accounts.user", AuditAction.UPDATE)
    assert entry.changes == {"password": ["******", "******"]}
    hashed = User.objects.get(pk=grid_a_worker.pk).password
    assert secret not in str(entry.changes) and hashed not in str(entry.changes)


def test_a_team_member_added_in_the_admin_is_audited_under_the_teams_block(
    client, admin_user, tree
):
    block = Node.objects.filter(level=Level.ZONE).first() or tree["grid_a"]
    team = ServiceTeam.objects.create(node=block, name="第一组团")
    client.force_login(admin_user)
    url = f"/admin/accounts/serviceteam/{team.pk}/change/"
    data = form_of(client, url)
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-0-name": "李楼长",
            f"{prefix}-0-kind": TeamMember._meta.get_field("kind").choices[0][0],
            f"{prefix}-0-responsibility": "0",
            f"{prefix}-0-mobile": "13900001111",
        }
    )
    saved(client, url, data)
    (entry,) = _entries("accounts.teammember", AuditAction.CREATE)
    assert entry.node == block
    assert entry.changes["name"] == [None, "李楼长"]
    assert entry.changes["mobile"] == [None, "139****1111"]


@pytest.mark.django_db
def test_a_holiday_entered_and_deleted_in_the_admin_is_audited(client, admin_user):
    client.force_login(admin_user)
    holiday = {"date": "2027-02-08", "is_working_day": "", "name": "春节（2027）"}
    saved(client, "/admin/core/workdayoverride/add/", holiday)
    day = WorkdayOverride.objects.get(date="2027-02-08")
    (created,) = _entries("core.workdayoverride", AuditAction.CREATE)
    assert created.changes["name"] == [None, "春节（2027）"]
    response = client.post(
        "/admin/core/workdayoverride/",
        {"action": "delete_selected", "_selected_action": [day.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not WorkdayOverride.objects.filter(pk=day.pk).exists()
    (deleted,) = _entries("core.workdayoverride", AuditAction.DELETE)
    assert deleted.object_id == str(day.pk)


def test_an_account_created_in_the_admin_is_audited_without_its_password(client, admin_user):
    client.force_login(admin_user)
    secret = "Wangge-2026-new!"
    data = form_of(client, "/admin/accounts/user/add/")  # with the role inline's management form
    data.update({"username": "grid_new", "password1": secret, "password2": secret})
    data["usable_password"] = "true"
    saved(client, "/admin/accounts/user/add/", data)
    user = User.objects.get(username="grid_new")
    (entry,) = _entries("accounts.user", AuditAction.CREATE)
    assert entry.object_id == str(user.pk) and entry.changes == {"username": [None, "grid_new"]}
    assert secret not in str(entry.changes) and user.password not in str(entry.changes)


def test_a_places_phone_is_masked_in_the_admin_kept_when_left_empty_replaced_when_typed(
    client, admin_user, grid_a_worker, tree
):
    """The place's contact phone is a person's mobile: never in full on its admin page (the
    audited 查看明文 on the place's own page is the way to it)."""
    from minqing.registry.models import Place

    place = Place.objects.create(
        name="东门菜场",
        kind="market",
        grid=tree["grid_a"],
        address="东门路1号",
        contact="王老板",
        phone="13812345678",
    )
    client.force_login(admin_user)
    url = f"/admin/registry/place/{place.pk}/change/"
    page = client.get(url).content.decode()
    assert "13812345678" not in page and 'placeholder="138****5678"' in page
    data = form_of(client, url)
    assert data["phone"] == "" and data["name"] == "东门菜场"
    saved(client, url, {**data, "name": "东门农贸市场"})
    place.refresh_from_db()
    assert (place.name, place.phone) == ("东门农贸市场", "13812345678")
    saved(client, url, {**form_of(client, url), "phone": "13900001111"})
    place.refresh_from_db()
    assert place.phone == "13900001111"
    assert "13900001111" not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_a_staff_account_that_is_not_superuser_cannot_reach_accounts_or_login_records(
    client, grid_b_worker, grid_a_worker, tree
):
    """QA (security): a grid worker given staff status and "change user" ticked 超级用户 on
    their own account and gave themselves the county; given "view", they read every account's
    mobile, every login's address, and the county's service teams with their members' own
    mobiles. Accounts, roles, tokens, groups and login records are the superuser's; teams are
    scoped as their pages are."""
    from django.contrib.auth.models import Permission

    from minqing.accounts.models import MemberKind, ServiceTeam, TeamMember

    grid_b_worker.is_staff = True
    grid_b_worker.save()
    grid_b_worker.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=["accounts", "auth", "axes"]))  # fmt: skip
    team_a = ServiceTeam.objects.create(node=tree["grid_a"], name="第1网格组团")
    TeamMember.objects.create(team=team_a, name="志愿者甲", kind=MemberKind.VOLUNTEER,
                              mobile="13911119999")  # fmt: skip
    client.force_login(grid_b_worker)
    for url in ("/admin/accounts/user/", f"/admin/accounts/user/{grid_b_worker.pk}/change/",
                "/admin/accounts/apitoken/", "/admin/auth/group/", "/admin/axes/accesslog/",
                "/admin/axes/accessattempt/"):  # fmt: skip
        assert client.get(url).status_code in (403, 302), url
    r = client.post(f"/admin/accounts/user/{grid_b_worker.pk}/change/", {"is_superuser": "on"})
    assert r.status_code in (403, 302)
    grid_b_worker.refresh_from_db()
    assert not grid_b_worker.is_superuser
    teams = client.get("/admin/accounts/serviceteam/").content.decode()
    assert "第1网格组团" not in teams
    assert client.get(f"/admin/accounts/serviceteam/{team_a.pk}/change/").status_code in (302, 404)
    index = client.get("/admin/").content.decode()
    assert "/admin/accounts/user/" not in index


def test_a_scoped_staff_account_cannot_move_its_team_out_of_its_area(client, grid_a_worker, tree):
    """QA: a grid worker's staff account (change on teams) moved its team under another grid's
    building — and then could not see it any more."""
    from django.contrib.auth.models import Permission

    team = ServiceTeam.objects.create(node=tree["grid_a"], name="第一组团")
    staff(grid_a_worker, Permission.objects.filter(
        content_type__app_label="accounts", codename__endswith="serviceteam"))  # fmt: skip
    client.force_login(grid_a_worker)
    _move_refused(client, f"/admin/accounts/serviceteam/{team.pk}/change/", "node", tree["grid_b"])
    team.refresh_from_db()
    assert team.node == tree["grid_a"]


def test_a_scoped_staff_account_cannot_move_a_place_out_of_its_area(client, grid_a_worker, tree):
    """Review: every scoped admin's raw-id place took any node id typed (teams were fixed
    first); a place moved to another grid was lost to the one who moved it."""
    from django.contrib.auth.models import Permission

    from minqing.registry.models import Place

    place = Place.objects.create(kind=Place._meta.get_field("kind").choices[0][0], name="东门菜场",
                                 grid=tree["grid_a"])  # fmt: skip
    staff(grid_a_worker, Permission.objects.filter(
        content_type__app_label="registry", codename__endswith="_place"))  # fmt: skip
    client.force_login(grid_a_worker)
    _move_refused(client, f"/admin/registry/place/{place.pk}/change/", "grid", tree["grid_b"])
    place.refresh_from_db()
    assert place.grid == tree["grid_a"]
