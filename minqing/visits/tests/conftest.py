import datetime as dt

import pytest
from django.utils import timezone

from minqing.cases.models import Category
from minqing.registry import services as registry
from minqing.visits.models import VisitClass
from minqing.visits.services import household_visit_state_refresh


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """An aware moment on a local day (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def file_household(user, grid, address: str, *, created: dt.date | None = None, tags=()):
    household = registry.household_create(
        acting_user=user, data={"address": address, "grid": grid, "tags": list(tags)}
    )
    if created is not None:
        type(household).objects.filter(pk=household.pk).update(created_at=at(created, 9))
        household.refresh_from_db()
        # Filing keeps the schedule in step; back-dating the file must move it too.
        household_visit_state_refresh(household=household, today=created)
    return household


@pytest.fixture
def general(db):
    return VisitClass.objects.get(code="general")


@pytest.fixture
def key(db):
    return VisitClass.objects.get(code="key")


@pytest.fixture
def follow(db):
    return VisitClass.objects.get(code="follow")


@pytest.fixture
def street_light(db):
    return Category.objects.get(code="0601")


@pytest.fixture
def livelihood(db):
    """民生求助: the usual category of a demand heard on a visit."""
    return Category.objects.get(code="0702")


@pytest.fixture
def household_b(grid_b_worker, tree):
    return registry.household_create(
        acting_user=grid_b_worker, data={"address": "人民路9号2幢201室", "grid": tree["grid_b"]}
    )
