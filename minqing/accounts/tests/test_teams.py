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
    assert "0571-87654321" in html and "13900000001" in html and "第一责任人" in html
    api = client.get(f"/api/teams/{tree['grid_a'].code}").json()
    assert [m["name"] for m in api["members"]] == ["书记老王", "站长老陈", "志愿者小刘"]


def test_another_grid_worker_cannot_open_the_card(client, grid_b_worker, tree):
    ServiceTeam.objects.create(node=tree["grid_a"], name="第1网格服务组团")
    client.force_login(grid_b_worker)
    assert client.get(f"/teams/{tree['grid_a'].code}/card/").status_code == 404
    assert client.get(f"/api/teams/{tree['grid_a'].code}").status_code == 404
