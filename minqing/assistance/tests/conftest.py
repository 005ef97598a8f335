"""Personas of pairing assistance over the root conftest's place tree.

`cadre` and `cadre2` are 帮扶干部 at the county with the 仅本人 scope: each sees only their own
pairs. `office` is the county officer who registers helpers and pairs them.
"""

import datetime as dt

import pytest
from django.utils import timezone

from conftest import PASSWORD, _user, valid_id
from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.assistance import services
from minqing.assistance.models import HelperKind, Programme
from minqing.registry import services as registry
from minqing.registry.models import Tag


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _cadre(username: str, node) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, full_name=f"干部{username}"
    )
    RoleAssignment.objects.create(user=user, role=Role.CADRE, node=node, data_scope=DataScope.SELF)
    return user


@pytest.fixture
def office(county_officer):
    return county_officer


@pytest.fixture
def grid_c_worker(tree):
    return _user("grid_c", Role.GRID_WORKER, tree["grid_c"])


@pytest.fixture
def cadre(tree):
    return _cadre("cadre", tree["county"])


@pytest.fixture
def cadre2(tree):
    return _cadre("cadre2", tree["county"])


@pytest.fixture
def cadre_helper(office, cadre, tree):
    return services.helper_create(
        acting_user=office,
        data={
            "kind": HelperKind.CADRE,
            "user": cadre,
            "phone": "13900001111",
            "node": tree["county"],
        },
    )


@pytest.fixture
def cadre2_helper(office, cadre2, tree):
    return services.helper_create(
        acting_user=office, data={"kind": HelperKind.CADRE, "user": cadre2, "node": tree["county"]}
    )


@pytest.fixture
def mother(office, tree):
    return services.helper_create(
        acting_user=office,
        data={
            "kind": HelperKind.MOTHER,
            "name": "王爱心",
            "phone": "13700002222",
            "node": tree["community"],
        },
    )


@pytest.fixture
def mother2(office, tree):
    return services.helper_create(
        acting_user=office,
        data={"kind": HelperKind.MOTHER, "name": "李慈爱", "node": tree["community"]},
    )


def programme(code: str) -> Programme:
    return Programme.objects.get(code=code)


@pytest.fixture
def household_b(grid_b_worker, tree):
    return registry.household_create(
        acting_user=grid_b_worker, data={"address": "人民路9号2幢201室", "grid": tree["grid_b"]}
    )


@pytest.fixture
def household_c(grid_c_worker, tree):
    return registry.household_create(
        acting_user=grid_c_worker, data={"address": "南苑路3号", "grid": tree["grid_c"]}
    )


def orphan(user, grid, name: str, seq: int, birth: dt.date, household=None):
    return registry.person_create(
        acting_user=user,
        data={
            "name": name,
            "id_number": valid_id(seq, birth),
            "grid": grid,
            "household": household,
            "relation": "child" if household else "",
            "tags": [Tag.objects.get(name="孤儿")],
        },
    )


def pair(office, code: str, helpers=(), start: dt.date | None = None, **target):
    return services.pairing_create(
        acting_user=office,
        data={
            "programme": programme(code),
            "helpers": list(helpers),
            "start": start or dt.date(2026, 1, 5),
            **target,
        },
    )
