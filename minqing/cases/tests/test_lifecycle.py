"""A case goes the whole loop: accepted, registered, dispatched, handled, checked, closed, rated."""

import pytest

from minqing.cases import services
from minqing.cases.models import Notification, Status


def test_a_case_filed_by_a_grid_worker_is_registered_and_held_by_their_grid(case_a, tree):
    assert case_a.status == Status.REGISTERED
    assert case_a.level_node == tree["grid_a"]
    assert case_a.number.endswith("-000001")
    assert case_a.reporter_phone_last4 == "5678"
    assert case_a.deadline is not None and case_a.registered_at is not None
    assert [e.action for e in case_a.events.all()] == ["accept", "register"]


def test_the_whole_loop_from_dispatch_to_rating(case_a, community_worker, grid_a_worker):
    case = services.case_act(
        acting_user=community_worker, case=case_a, action="dispatch", target_user=grid_a_worker
    )
    assert case.status == Status.DISPATCHED and case.handle_deadline is not None
    assert Notification.objects.filter(user=grid_a_worker, case=case).exists()
    case = services.case_act(acting_user=grid_a_worker, case=case, action="start")
    case = services.case_act(
        acting_user=grid_a_worker, case=case, action="feedback", note="已更换灯泡。"
    )
    assert case.status == Status.FED_BACK
    case = services.case_act(acting_user=grid_a_worker, case=case, action="verify")
    assert case.status == Status.CLOSED and case.closed_on_time is True
    assert case.answer == "已更换灯泡。"
    case = services.case_rate_public(case=case, satisfaction="satisfied")
    assert case.status == Status.RATED


def test_an_unsatisfied_rating_reopens_the_case_once(case_a, grid_a_worker):
    case = services.case_act(acting_user=grid_a_worker, case=case_a, action="take")
    case = services.case_act(acting_user=grid_a_worker, case=case, action="feedback", note="修好")
    case = services.case_act(acting_user=grid_a_worker, case=case, action="verify")
    case = services.case_rate_public(case=case, satisfaction="unsatisfied")
    assert case.status == Status.REGISTERED and case.reopened
    case = services.case_act(acting_user=grid_a_worker, case=case, action="take")
    case = services.case_act(acting_user=grid_a_worker, case=case, action="feedback", note="再修")
    case = services.case_act(acting_user=grid_a_worker, case=case, action="verify")
    case = services.case_rate_public(case=case, satisfaction="unsatisfied")
    assert case.status == Status.RATED


def test_a_stale_form_gets_a_conflict_and_nothing_changes(case_a, grid_a_worker):
    seen = case_a.version
    services.case_act(acting_user=grid_a_worker, case=case_a, action="take", version=seen)
    with pytest.raises(services.CaseConflict, match="刚刚已被他人处理"):
        services.case_act(
            acting_user=grid_a_worker, case=case_a, action="escalate", note="x", version=seen
        )


def test_grid_b_cannot_act_on_grid_a_cases(case_a, grid_b_worker):
    with pytest.raises(services.PermissionDenied):
        services.case_act(acting_user=grid_b_worker, case=case_a, action="take")
