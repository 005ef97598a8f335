"""A team is seen by whoever sees its receiving node; outside it answers 404."""

from minqing.secondments.models import Attendance
from minqing.secondments.tests.conftest import D, add_member


def test_a_grid_worker_outside_the_receiving_node_gets_404_everywhere(
    client, grid_b_worker, outsider, team, members
):
    urls = [
        f"/secondments/{team.pk}/",
        f"/secondments/{team.pk}/edit/",
        f"/secondments/{team.pk}/attendance/",
        f"/secondments/{team.pk}/members/new/",
        f"/secondments/{team.pk}/members/{members[0].pk}/edit/",
        f"/secondments/{team.pk}/activities/new/",
        f"/secondments/{team.pk}/report/",
        f"/secondments/{team.pk}/report.xlsx",
    ]
    for user in (grid_b_worker, outsider):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        response = client.post(
            f"/secondments/{team.pk}/attendance/",
            {"date": "2025-09-02", f"status_{members[0].pk}": "absent"},
        )
        assert response.status_code == 404
        assert team.name not in client.get("/secondments/").content.decode()
    assert not Attendance.objects.exists()


def test_the_grid_worker_of_the_receiving_grid_sees_but_does_not_record(
    client, grid_a_worker, team, members
):
    client.force_login(grid_a_worker)
    assert team.name in client.get("/secondments/").content.decode()
    page = client.get(f"/secondments/{team.pk}/attendance/?date=2025-09-02").content.decode()
    assert "王强" in page and 'type="radio"' not in page
    response = client.post(
        f"/secondments/{team.pk}/attendance/",
        {"date": "2025-09-02", f"status_{members[0].pk}": "absent"},
    )
    assert response.status_code == 403
    assert client.get(f"/secondments/{team.pk}/members/new/").status_code == 403
    assert not Attendance.objects.exists()


def test_a_member_with_an_account_sees_their_own_team_wherever_it_is(
    client, team, community_worker, django_user_model, grid_b_worker
):
    teacher = django_user_model.objects.create_user(username="teacher", password="x-123456789")
    client.force_login(teacher)
    assert client.get(f"/secondments/{team.pk}/").status_code == 404
    add_member(team, community_worker, "李梅", user=teacher)
    assert client.get(f"/secondments/{team.pk}/").status_code == 200
    assert client.get(f"/secondments/{team.pk}/activities/new/").status_code == 403


def test_the_street_above_sees_and_manages(client, street_officer, team, members):
    client.force_login(street_officer)
    page = client.get(f"/secondments/{team.pk}/").content.decode()
    assert "139****1111" in page and "13900001111" not in page  # phones masked
    response = client.post(
        f"/secondments/{team.pk}/attendance/",
        {"date": "2025-09-02", f"status_{members[0].pk}": "late", f"note_{members[0].pk}": "会议"},
    )
    assert response.status_code == 302
    assert Attendance.objects.get(date=D(2025, 9, 2)).status == "late"
