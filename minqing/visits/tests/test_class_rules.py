"""Which visit class a household has: by rule (tags), by hand (plans); the most frequent wins."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from minqing.registry import services as registry
from minqing.registry.models import Tag
from minqing.registry.services import PermissionDenied
from minqing.visits import selectors, services
from minqing.visits.models import HouseholdVisitPlan

from .conftest import file_household

D = dt.date


def test_a_household_without_care_tags_gets_the_general_class(grid_a_worker, tree, general):
    household = file_household(grid_a_worker, tree["grid_a"], "东门路1号")
    assert selectors.schedule_of(household).visit_class == general


def test_a_household_tag_assigns_the_must_visit_class(grid_a_worker, tree, key):
    household = file_household(
        grid_a_worker, tree["grid_a"], "东门路2号", tags=[Tag.objects.get(name="低保")]
    )
    assert selectors.schedule_of(household).visit_class == key


def test_a_members_tag_assigns_the_must_visit_class_to_the_household(
    grid_a_worker, tree, key, general
):
    # given an elderly man living alone (空巢) in an otherwise ordinary household
    household = file_household(grid_a_worker, tree["grid_a"], "东门路3号", created=D(2026, 5, 4))
    registry.person_create(
        acting_user=grid_a_worker,
        data={
            "name": "李老伯",
            "household": household,
            "relation": "head",
            "grid": tree["grid_a"],
            "tags": [Tag.objects.get(name="空巢")],
        },
    )
    services.household_visit_state_refresh(household=household)
    state = household.visit_state
    assert (state.visit_class, state.next_due) == (key, D(2026, 6, 4))


def test_a_sensitive_tag_gives_the_class_without_showing_the_tag(client, grid_a_worker, tree, key):
    household = file_household(grid_a_worker, tree["grid_a"], "东门路4号")
    registry.person_create(
        acting_user=grid_a_worker,
        data={
            "name": "王某",
            "household": household,
            "grid": tree["grid_a"],
            "tags": [Tag.objects.get(name="重点人员")],
        },
    )
    assert selectors.schedule_of(household).visit_class == key


def test_a_plan_by_hand_wins_when_it_is_more_frequent(grid_a_worker, tree, follow, key):
    household = file_household(
        grid_a_worker, tree["grid_a"], "东门路5号", tags=[Tag.objects.get(name="低保")]
    )
    services.visit_plan_set(
        acting_user=grid_a_worker, household=household, visit_class=follow, reason="家中失火"
    )
    assert selectors.schedule_of(household).visit_class == follow
    plan = HouseholdVisitPlan.objects.get(household=household)
    services.visit_plan_remove(acting_user=grid_a_worker, plan=plan)
    assert selectors.schedule_of(household).visit_class == key


def test_an_expired_plan_no_longer_counts(grid_a_worker, tree, follow, general):
    household = file_household(grid_a_worker, tree["grid_a"], "东门路6号")
    HouseholdVisitPlan.objects.create(household=household, visit_class=follow, until=D(2026, 3, 1))
    computed = services.schedules_compute([household.pk], today=D(2026, 3, 1))
    assert computed[household.pk].visit_class == follow
    computed = services.schedules_compute([household.pk], today=D(2026, 3, 2))
    assert computed[household.pk].visit_class == general


def test_an_inactive_class_is_ignored(grid_a_worker, tree, key, general):
    household = file_household(
        grid_a_worker, tree["grid_a"], "东门路7号", tags=[Tag.objects.get(name="低保")]
    )
    key.active = False
    key.save()
    assert services.schedules_compute([household.pk])[household.pk].visit_class == general


def test_plans_need_an_editor_of_the_households_grid(
    grid_b_worker, street_officer, household_a, follow
):
    with pytest.raises(PermissionDenied):
        services.visit_plan_set(
            acting_user=grid_b_worker, household=household_a, visit_class=follow
        )
    with pytest.raises(PermissionDenied):  # sees the household, but does not keep the files
        services.visit_plan_set(
            acting_user=street_officer, household=household_a, visit_class=follow
        )
    assert not HouseholdVisitPlan.objects.exists()


def test_a_plan_cannot_end_in_the_past(grid_a_worker, household_a, follow):
    with pytest.raises(ValidationError) as exc:
        services.visit_plan_set(
            acting_user=grid_a_worker,
            household=household_a,
            visit_class=follow,
            until=D(2020, 1, 1),
        )
    assert exc.value.message_dict["until"] == [services.ERR_PLAN_UNTIL]
