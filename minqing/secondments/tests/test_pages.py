"""The pages over HTTP: create a team, add members, a day's sheet on a phone, an activity."""

from minqing.secondments.models import Activity, Attendance, Secondment, SecondmentMember
from minqing.secondments.tests.conftest import D


def test_a_secretary_creates_a_team_and_adds_a_member(client, community_worker, tree):
    client.force_login(community_worker)
    form = client.get("/secondments/new/").content.decode()
    assert "东门社区第1网格" in form and "南苑社区" not in form
    response = client.post(
        "/secondments/new/",
        {"kind": "teaching", "sending_name": "县第一中学", "receiving_name": "东门小学",
         "node": tree["grid_a"].pk, "cycle_start": "2025-09-01", "turn_months": "12"},
    )  # fmt: skip
    team = Secondment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/secondments/{team.pk}/"
    response = client.post(
        f"/secondments/{team.pk}/members/new/",
        {"name": "李梅", "role": "teacher", "speciality": "数学", "phone": "139 0000 2222",
         "turn_start": "2025-09-01", "username": "community"},
    )  # fmt: skip
    assert response.status_code == 302
    member = SecondmentMember.objects.get()
    assert (member.phone, member.turn_end, member.user.username) == (
        "13900002222",
        D(2026, 8, 31),
        "community",
    )


def test_places_of_the_same_name_are_told_apart_by_their_grid(client, community_worker, tree):
    from minqing.registry.models import Place, PlaceKind

    for grid in ("grid_a", "grid_b"):
        Place.objects.create(kind=PlaceKind.SCHOOL, name="东门幼儿园", grid=tree[grid])
    client.force_login(community_worker)
    form = client.get("/secondments/new/").content.decode()
    assert ">东门幼儿园（东门社区第1网格）<" in form and ">东门幼儿园（东门社区第2网格）<" in form


def test_bad_forms_answer_400_with_chinese_messages(client, community_worker, team, tree):
    client.force_login(community_worker)
    response = client.post(
        "/secondments/new/",
        {"kind": "teaching", "sending_name": "", "receiving_name": "东门小学",
         "node": tree["grid_a"].pk, "cycle_start": "2025-09-01", "cycle_end": "2025-01-01"},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert "此项必填。" in page and "派驻周期的结束日期应晚于开始日期。" in page
    # A form error (no start date) no longer hides the service's (no sending unit, a node
    # outside the user's area): all of them at once.
    response = client.post(
        "/secondments/new/",
        {"kind": "teaching", "receiving_name": "东门小学", "node": tree["grid_a"].pk},
    )
    errors = response.context["form"].errors
    assert response.status_code == 400 and {"cycle_start", "sending_name"} <= set(errors)
    response = client.post(
        f"/secondments/{team.pk}/members/new/",
        {"name": "李梅", "role": "boss", "phone": "12345", "turn_start": "2031-01-01",
         "username": "nobody"},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert "系统账号不存在或已停用。" in page
    # The service's own checks show at the same time, not after the account is fixed.
    assert "电话号码" in page and response.context["form"].errors.get("phone")
    assert not SecondmentMember.objects.exists()
    response = client.post(
        f"/secondments/{team.pk}/members/new/",
        {"name": "李梅", "role": "teacher", "phone": "12345", "turn_start": "2031-01-01"},
    )
    page = response.content.decode()
    assert response.status_code == 400 and "电话号码格式不对" in page
    assert client.get(f"/secondments/{team.pk}/attendance/?date=2025-13-01").status_code == 400
    assert client.get("/secondments/99999999999999999999/").status_code == 404


def test_the_day_sheet_on_a_phone_records_four_choices_per_member(
    client, community_worker, team, members
):
    wang, li, zhao = members
    client.force_login(community_worker)
    page = client.get(f"/secondments/{team.pk}/attendance/?date=2025-09-02").content.decode()
    for m in members:
        assert page.count(f'name="status_{m.pk}"') == 4
    response = client.post(
        f"/secondments/{team.pk}/attendance/",
        {"date": "2025-09-02", f"status_{wang.pk}": "present", f"status_{li.pk}": "leave",
         f"note_{li.pk}": "病假", f"status_{zhao.pk}": "absent"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == f"/secondments/{team.pk}/attendance/?date=2025-09-02"
    rows = dict(Attendance.objects.values_list("member__name", "status"))
    assert rows == {"王强": "present", "李梅": "leave", "赵刚": "absent"}
    page = client.get(response["Location"]).content.decode()
    assert f'name="status_{li.pk}" value="leave" checked' in page and 'value="病假"' in page
    response = client.post(
        f"/secondments/{team.pk}/attendance/",
        {"date": "2025-09-02", f"status_{wang.pk}": "asleep"},
    )
    assert response.status_code == 400
    assert "考勤只能是出勤、迟到、请假或缺勤。" in response.content.decode()
    response = client.post(
        f"/secondments/{team.pk}/attendance/", {"date": "2099-01-01", f"status_{wang.pk}": "late"}
    )
    assert response.status_code == 400 and "日期不能晚于今天。" in response.content.decode()
    assert Attendance.objects.get(member=wang).status == "present"


def test_an_activity_is_logged_from_the_form(client, community_worker, team, members):
    client.force_login(community_worker)
    response = client.post(
        f"/secondments/{team.pk}/activities/new/",
        {"kind": "send_class", "date": "2025-10-15", "title": "送课到青石村教学点",
         "members": [members[1].pk, members[2].pk], "place": "青石村教学点", "participants": "36"},
    )  # fmt: skip
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert sorted(m.name for m in activity.members.all()) == ["李梅", "赵刚"]
    detail = client.get(f"/secondments/{team.pk}/").content.decode()
    assert "送课到青石村教学点" in detail
    response = client.post(
        f"/secondments/{team.pk}/activities/new/",
        {"kind": "open_class", "date": "2025-10-15", "title": "x", "members": []},
    )
    assert response.status_code == 400 and Activity.objects.count() == 1


def test_dates_far_in_the_future_are_refused_not_a_server_error(
    client, community_worker, team, tree
):
    """A cycle or a turn from 9999-12-31 ended in year 10002 (ValueError, 500)."""
    client.force_login(community_worker)
    response = client.post(
        "/secondments/new/",
        {"kind": "teaching", "sending_name": "县一中", "receiving_name": "东门小学",
         "node": tree["grid_a"].pk, "cycle_start": "9999-12-31"},
    )  # fmt: skip
    assert response.status_code == 400 and "日期超出范围" in response.content.decode()
    response = client.post(
        f"/secondments/{team.pk}/members/new/",
        {"name": "李梅", "role": "teacher", "turn_start": "9998-06-01"},
    )
    assert response.status_code == 400 and "日期超出范围" in response.content.decode()
    assert not SecondmentMember.objects.exists()


def test_a_members_phone_is_masked_in_the_admin_inline_and_kept_when_saved(
    client, admin_user, team, members
):
    """The members' inline showed each phone in full, where every page masks it."""
    from minqing.core.tests.test_admin_audit import form_of, saved
    from minqing.secondments.models import SecondmentMember

    client.force_login(admin_user)
    url = f"/admin/secondments/secondment/{team.pk}/change/"
    page = client.get(url).content.decode()
    assert "13900001111" not in page and 'placeholder="139****1111"' in page
    saved(client, url, form_of(client, url))
    assert SecondmentMember.objects.get(name="王强").phone == "13900001111"
