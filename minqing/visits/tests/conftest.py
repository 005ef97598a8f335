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


# --- campaigns ---------------------------------------------------------------------------------


def tag(name: str):
    from minqing.registry.models import Tag

    return Tag.objects.get(name=name)


def resident(user, household, name: str, *, tags=(), seq: int = 0):
    """A person living in `household`, carrying these tags (names)."""
    from minqing.registry.services import person_create

    return person_create(
        acting_user=user,
        data={
            "name": name,
            "household": household,
            "relation": "head",
            "grid": household.grid,
            "tags": [tag(t) for t in tags],
        },
    )


@pytest.fixture
def homes(grid_a_worker, grid_b_worker, tree):
    """Five households: in grid A an 80+ elder's and a plain one, in grid B a 低保 household and
    an elder living alone, and in the other community (grid C) another 80+ elder's."""
    from minqing.accounts.models import Role, RoleAssignment

    grid_c_worker = type(grid_a_worker).objects.create_user(
        username="grid_c", password="x-123456789", full_name="grid_c"
    )
    RoleAssignment.objects.create(user=grid_c_worker, role=Role.GRID_WORKER, node=tree["grid_c"])
    a_old = file_household(grid_a_worker, tree["grid_a"], "东门路1号")
    resident(grid_a_worker, a_old, "王奶奶", tags=["高龄"])
    a_plain = file_household(grid_a_worker, tree["grid_a"], "东门路2号")
    resident(grid_a_worker, a_plain, "李四")
    b_dibao = file_household(grid_b_worker, tree["grid_b"], "东门路21号", tags=[tag("低保")])
    b_alone = file_household(grid_b_worker, tree["grid_b"], "东门路22号")
    resident(grid_b_worker, b_alone, "赵爷爷", tags=["独居"])
    c_old = file_household(grid_c_worker, tree["grid_c"], "南苑路1号")
    resident(grid_c_worker, c_old, "钱奶奶", tags=["高龄"])
    return {
        "a_old": a_old,
        "a_plain": a_plain,
        "b_dibao": b_dibao,
        "b_alone": b_alone,
        "c_old": c_old,
        "grid_c_worker": grid_c_worker,
    }


def new_campaign(user, node, *, rule="tags", tags=("高龄", "独居", "低保"), now=None, **extra):
    """A draft campaign; `now`: when it was made (one whose window is over was made before)."""
    from minqing.visits import services

    today = timezone.localdate()
    data = {
        "name": "重阳节走访慰问",
        "kind": "holiday",
        "node": node,
        "start": today - dt.timedelta(days=3),
        "end": today + dt.timedelta(days=10),
        "rule": rule,
        "tags": [tag(t) for t in tags] if rule == "tags" else [],
        **extra,
    }
    return services.campaign_create(acting_user=user, data=data, now=now)


def launched(user, node, **kw):
    from minqing.visits import services

    campaign = new_campaign(user, node, **kw)
    return services.campaign_act(
        acting_user=user, campaign=campaign, action="launch", now=kw.get("now")
    )
