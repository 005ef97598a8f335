from minqing.accounts.models import MemberKind, Responsibility, ServiceTeam, TeamMember


def test_the_team_card_lists_the_responsible_people_first(client, grid_a_worker, tree):
    team = ServiceTeam.objects.create(
        node=tree["grid_a"], name="第1网格服务组团", office_phone="0571-87654321"
    )
    TeamMember.objects.create(
        team=team, name="志愿者小刘", kind=MemberKind.VOLUNTEER, mobile="13900000001"
    )
    TeamMember.objects.create(
        team=team, name="站长老陈", kind=MemberKind.STAFF, responsibility=Responsibility.SECOND
    )
    TeamMember.objects.create(
        team=team, name="书记老王", kind=MemberKind.COMMITTEE, responsibility=Responsibility.FIRST
    )
    client.force_login(grid_a_worker)
    html = client.get(f"/teams/{tree['grid_a'].code}/card/").content.decode()
    assert html.index("书记老王") < html.index("站长老陈") < html.index("志愿者小刘")
    assert "0571-87654321" in html and "第一责任人" in html
    # DOMAIN: the office phone and the responsible people's mobiles are published; a
    # volunteer's own number stays on the team's page for staff.
    assert "13900000001" not in html
    assert "13900000001" in client.get(f"/teams/{tree['grid_a'].code}/").content.decode()
    api = client.get(f"/api/teams/{tree['grid_a'].code}").json()
    assert [m["name"] for m in api["members"]] == ["书记老王", "站长老陈", "志愿者小刘"]


def test_another_grid_worker_cannot_open_the_card(client, grid_b_worker, tree):
    ServiceTeam.objects.create(node=tree["grid_a"], name="第1网格服务组团")
    client.force_login(grid_b_worker)
    assert client.get(f"/teams/{tree['grid_a'].code}/card/").status_code == 404
    assert client.get(f"/api/teams/{tree['grid_a'].code}").status_code == 404


# --- kept in the app by the community office -------------------------------------------------


def _audits(obj):
    from minqing.core.models import AuditEntry

    return AuditEntry.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk))


def test_the_community_office_builds_a_team_and_keeps_its_members(
    client, community_worker, grid_a_worker, grid_b_worker, tree
):
    code = tree["grid_a"].code
    client.force_login(community_worker)
    node_page = client.get(f"/tree/{code}/").content.decode()
    assert f'href="/teams/{code}/"' in node_page and "建立服务组团" in node_page
    r = client.post(
        f"/teams/{code}/", {"name": "东门第1网格服务组团", "office_phone": "0571-8765 4321"}
    )
    assert r.status_code == 302
    team = ServiceTeam.objects.get(node=tree["grid_a"])
    assert _audits(team).filter(action="create").exists()

    r = client.post(
        f"/teams/{code}/members/new/",
        {"name": "书记老王", "kind": "committee", "responsibility": "1", "mobile": "13900000001"},
    )
    assert r.status_code == 302
    r = client.post(
        f"/teams/{code}/members/new/",
        {"name": "网格员小李", "kind": "staff", "responsibility": "2", "username": "grid_a"},
    )
    assert r.status_code == 302
    li = TeamMember.objects.get(name="网格员小李")
    assert li.user == grid_a_worker

    # A second 第一责任人 is refused, naming who holds the role; nothing is stored.
    r = client.post(
        f"/teams/{code}/members/new/",
        {"name": "主任老张", "kind": "committee", "responsibility": "1"},
    )
    assert r.status_code == 400 and "书记老王" in r.content.decode()
    assert not TeamMember.objects.filter(name="主任老张").exists()
    # Hand the role over: the old holder becomes a member first, then the new one takes it.
    wang = TeamMember.objects.get(name="书记老王")
    assert client.post(f"/teams/{code}/members/{wang.pk}/", {"name": "书记老王", "kind": "committee", "responsibility": "0"}).status_code == 302  # fmt: skip
    assert client.post(f"/teams/{code}/members/new/", {"name": "主任老张", "kind": "committee", "responsibility": "1"}).status_code == 302  # fmt: skip
    entry = _audits(wang).filter(action="update").latest("pk")
    assert entry.changes["responsibility"] == [1, 0]

    for data, field in [
        ({"name": "", "kind": "staff", "responsibility": "0"}, "name"),
        ({"name": "x", "kind": "alien", "responsibility": "0"}, "kind"),
        ({"name": "x", "kind": "staff", "responsibility": "0", "mobile": "123"}, "mobile"),
        ({"name": "x", "kind": "staff", "responsibility": "0", "username": "nobody"}, "username"),
        # grid B's worker cannot open grid A's homes: given its campaign targets, a 404 each
        ({"name": "x", "kind": "staff", "responsibility": "0", "username": "grid_b"}, "username"),
        ({"name": "x", "kind": "staff", "responsibility": "0", "office_phone": "call me"}, "office_phone"),
    ]:  # fmt: skip
        r = client.post(f"/teams/{code}/members/new/", data)
        assert r.status_code == 400, data
        assert field in r.context["form"].errors, (data, r.context["form"].errors)
    assert TeamMember.objects.filter(team=team).count() == 3

    r = client.post(f"/teams/{code}/members/{li.pk}/delete/")
    assert r.status_code == 302 and not TeamMember.objects.filter(pk=li.pk).exists()
    assert _audits(li).filter(action="delete").exists()
    page = client.get(f"/teams/{code}/").content.decode()
    table = page[page.index('id="members"') :]
    assert table.index("主任老张") < table.index("书记老王") and "网格员小李" not in table
    card = client.get(f"/teams/{code}/card/").content.decode()
    assert "主任老张" in card and "第一责任人" in card


def test_grid_workers_see_their_team_but_do_not_keep_it(client, grid_a_worker, grid_b_worker, tree):
    code = tree["grid_a"].code
    team = ServiceTeam.objects.create(node=tree["grid_a"], name="第1网格服务组团")
    m = TeamMember.objects.create(team=team, name="志愿者小刘", kind=MemberKind.VOLUNTEER)
    client.force_login(grid_a_worker)
    page = client.get(f"/teams/{code}/")
    assert page.status_code == 200 and "志愿者小刘" in page.content.decode()
    assert "/members/new/" not in page.content.decode()
    assert client.post(f"/teams/{code}/", {"name": "改名"}).status_code == 403
    assert client.get(f"/teams/{code}/members/new/").status_code == 403
    assert client.post(f"/teams/{code}/members/{m.pk}/delete/").status_code == 403
    client.force_login(grid_b_worker)
    assert client.get(f"/teams/{code}/").status_code == 404
    assert client.post(f"/teams/{code}/members/{m.pk}/delete/").status_code == 404
    team.refresh_from_db()
    assert team.name == "第1网格服务组团" and TeamMember.objects.filter(pk=m.pk).exists()


def test_teams_are_built_on_blocks_only(client, community_worker, tree):
    client.force_login(community_worker)
    r = client.post(f"/teams/{tree['community'].code}/", {"name": "社区组团"})
    assert r.status_code == 400 and not ServiceTeam.objects.exists()


def test_the_api_keeps_the_team_too(client, community_worker, grid_a_worker, tree):
    code = tree["grid_a"].code

    def call(method, url, data=None):
        return getattr(client, method)(url, data, content_type="application/json")

    client.force_login(community_worker)
    assert client.get(f"/api/teams/{code}").status_code == 404  # no team yet
    r = call("put", f"/api/teams/{code}", {"office_phone": "0571-1"})
    assert r.status_code == 400 and "name" in r.json()["errors"]
    r = call(
        "put", f"/api/teams/{code}", {"name": "第1网格服务组团", "office_phone": "0571-87654321"}
    )
    assert r.status_code == 200 and r.json()["can_manage"] is True
    r = call(
        "post",
        f"/api/teams/{code}/members",
        {"name": "书记老王", "kind": "committee", "responsibility": 1},
    )
    assert r.status_code == 201, r.content
    wang = r.json()["id"]
    r = call(
        "post",
        f"/api/teams/{code}/members",
        {"name": "主任老张", "kind": "committee", "responsibility": 1},
    )
    assert r.status_code == 400 and "书记老王" in r.json()["errors"]["responsibility"][0]
    r = call(
        "patch", f"/api/teams/{code}/members/{wang}", {"duty": "全面负责", "username": "grid_a"}
    )
    assert (
        r.status_code == 200 and r.json()["duty"] == "全面负责" and r.json()["username"] == "grid_a"
    )
    assert r.json()["responsibility"] == 1  # not sent, not changed
    team = client.get(f"/api/teams/{code}").json()
    assert [m["name"] for m in team["members"]] == ["书记老王"]

    client.force_login(grid_a_worker)
    assert client.get(f"/api/teams/{code}").json()["can_manage"] is False
    assert call("patch", f"/api/teams/{code}/members/{wang}", {"duty": "x"}).status_code == 403
    assert call("delete", f"/api/teams/{code}/members/{wang}").status_code == 403
    assert call("put", f"/api/teams/{code}", {"name": "x"}).status_code == 403

    client.force_login(community_worker)
    assert call("delete", f"/api/teams/{code}/members/{wang}").status_code == 204
    assert call("delete", f"/api/teams/{code}/members/{wang}").status_code == 404
    assert client.get(f"/api/teams/{code}").json()["members"] == []


def test_the_team_page_marks_a_member_whose_account_was_switched_off(
    client, community_worker, grid_b_worker, tree
):
    """QA: the team page showed a member whose account was switched off like any other."""
    team = ServiceTeam.objects.create(node=tree["grid_a"], name="第1网格服务组团")
    TeamMember.objects.create(team=team, name="陈静", kind=MemberKind.STAFF, user=grid_b_worker)
    client.force_login(community_worker)
    url = f"/teams/{tree['grid_a'].code}/"
    assert "账号已停用" not in client.get(url).content.decode()
    grid_b_worker.is_active = False
    grid_b_worker.save()
    assert "账号已停用" in client.get(url).content.decode()
