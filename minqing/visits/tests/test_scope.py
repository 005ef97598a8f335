"""Visits stay inside the recorder's part of the tree: outside it answers 404."""

import datetime as dt

import pytest
from django.utils import timezone

from minqing.registry.services import PermissionDenied
from minqing.visits import services
from minqing.visits.models import Visit


def test_a_grid_worker_cannot_log_a_visit_outside_their_grid(client, grid_b_worker, household_a):
    client.force_login(grid_b_worker)
    assert client.get(f"/visits/new/?household={household_a.pk}").status_code == 404
    response = client.post(
        "/visits/new/", {"household": household_a.pk, "mode": "home", "seen": "冒充走访"}
    )
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.visit_record(acting_user=grid_b_worker, household=household_a, data={"seen": "x"})
    assert not Visit.objects.exists()


def test_a_grid_worker_logs_a_visit_in_their_grid_from_the_phone_form(
    client, grid_a_worker, zhang_san
):
    client.force_login(grid_a_worker)
    household = zhang_san.household
    yesterday = (timezone.localtime() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    form = client.get(f"/visits/new/?household={household.pk}").content.decode()
    assert "张三" in form and 'name="members_met"' in form
    response = client.post(
        "/visits/new/",
        {
            "household": household.pk,
            "visited_at": yesterday,
            "mode": "home",
            "members_met": [zhang_san.pk],
            "seen": "家中整洁。",
            "opinions": "",
        },
    )
    visit = Visit.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/visits/{visit.pk}/"
    assert list(visit.visitors.all()) == [grid_a_worker]
    assert timezone.localtime(visit.visited_at).strftime("%Y-%m-%dT%H:%M") == yesterday


def test_a_visit_record_is_hidden_from_other_grids_and_outsiders(
    client, grid_a_worker, grid_b_worker, outsider, community_worker, household_a
):
    visit = services.visit_record(
        acting_user=grid_a_worker, household=household_a, data={"seen": "正常"}
    )
    for user in (grid_b_worker, outsider):
        client.force_login(user)
        assert client.get(f"/visits/{visit.pk}/").status_code == 404
        assert client.post(f"/visits/{visit.pk}/case/", {"description": "x"}).status_code == 404
    client.force_login(community_worker)  # the community above both grids sees it
    assert client.get(f"/visits/{visit.pk}/").status_code == 200


def test_odd_ids_answer_404_not_500(client, grid_a_worker):
    client.force_login(grid_a_worker)
    for url in (
        "/visits/new/?household=abc",
        "/visits/new/?household=99999999999999999999",
        "/visits/99999999999999999999/",
        "/visits/diary/99999999999999999999/edit/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/visits/due/?grid=nope").status_code == 404


def test_an_empty_visit_form_is_sent_back_with_a_message(client, grid_a_worker, household_a):
    client.force_login(grid_a_worker)
    response = client.post(
        "/visits/new/", {"household": household_a.pk, "mode": "飞鸽传书", "seen": ""}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "选择一个有效的选项" in page
    response = client.post("/visits/new/", {"household": household_a.pk, "mode": "phone"})
    assert str(services.ERR_EMPTY_VISIT) in response.content.decode()
    assert not Visit.objects.exists()


def test_plans_are_set_and_removed_from_the_household_page(
    client, grid_a_worker, street_officer, household_a, follow
):
    from minqing.visits.models import HouseholdVisitPlan

    client.force_login(street_officer)  # sees the household but does not keep its file
    response = client.post(
        "/visits/plans/", {"household": household_a.pk, "visit_class": follow.pk}
    )
    assert response.status_code == 403
    client.force_login(grid_a_worker)
    response = client.post(
        "/visits/plans/",
        {"household": household_a.pk, "visit_class": follow.pk, "reason": "家中失火"},
    )
    assert response.status_code == 302
    plan = HouseholdVisitPlan.objects.get()
    page = client.get(f"/households/{household_a.pk}/").content.decode()
    assert "跟踪重访" in page and "家中失火" in page
    bad = client.post(
        "/visits/plans/",
        {"household": household_a.pk, "visit_class": "x", "until": "明天", "reason": "QA 原因"},
    )
    assert bad.status_code == 400 and HouseholdVisitPlan.objects.count() == 1
    # The household page comes back with the form open, as typed, each error naming its field.
    shown = bad.content.decode()
    assert "截止日期：输入一个有效的日期。" in shown and "走访类别：" in shown
    assert "<details open>" in shown and 'value="QA 原因"' in shown and 'value="明天"' in shown
    # The service's own checks come back the same way (a date already past).
    past = client.post(
        "/visits/plans/",
        {"household": household_a.pk, "visit_class": follow.pk, "until": "2001-01-01"},
    )
    assert past.status_code == 400 and HouseholdVisitPlan.objects.count() == 1
    assert "截止日期：" in past.content.decode() and 'value="2001-01-01"' in past.content.decode()
    client.post(f"/visits/plans/{plan.pk}/delete/")
    assert not HouseholdVisitPlan.objects.exists()
    assert household_a.visit_state.visit_class.code == "general"


def test_another_grids_plan_cannot_be_removed(
    client, grid_a_worker, grid_b_worker, household_a, follow
):
    plan = services.visit_plan_set(
        acting_user=grid_a_worker, household=household_a, visit_class=follow
    )
    client.force_login(grid_b_worker)
    assert client.post(f"/visits/plans/{plan.pk}/delete/").status_code == 404
    assert client.post("/visits/plans/", {"household": household_a.pk}).status_code == 404
