"""Personas of contact duties over the shared tree (root conftest): a county cadre, a second
cadre, a leader of the street office, and helpers to file households, people and visits."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.duties.models import DutyHolder, DutyLink, DutyRule, LinkKind
from minqing.registry.models import Household, Person
from minqing.visits.models import Visit

_seq = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """An aware moment on a local day (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def last_month() -> tuple[dt.date, dt.date]:
    """First and last day of the month before this one: a finished month."""
    end = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def months_ago(n: int) -> dt.date:
    first = timezone.localdate().replace(day=1)
    for _ in range(n):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first


def household(grid, head: str = "王") -> Household:
    n = next(_seq)
    return Household.objects.create(
        number=f"T{n:06d}", address=f"和平路{n}号", grid=grid, head_name=f"{head}{n}"
    )


def person(grid, household=None, name: str = "李") -> Person:
    n = next(_seq)
    return Person.objects.create(name=f"{name}{n}", grid=grid, household=household)


def visit(household: Household, visitors, when: dt.datetime) -> Visit:
    v = Visit.objects.create(
        household=household, grid=household.grid, visited_at=when, created_by=visitors[0]
    )
    v.visitors.set(visitors)
    return v


def cadre(username: str, node, *, scope=DataScope.SELF, role=Role.CADRE) -> User:
    user = User.objects.create_user(username=username, password="x-9-x-9-x", full_name=username)
    RoleAssignment.objects.create(user=user, role=role, node=node, data_scope=scope)
    return user


def holder(user, rule_code: str, node, *, unit="县民政局", since=None, until=None) -> DutyHolder:
    return DutyHolder.objects.create(
        user=user,
        rule=DutyRule.objects.get(code=rule_code),
        unit=unit,
        node=node,
        active_from=since or months_ago(3),
        active_to=until,
    )


def link(h: DutyHolder, target, *, since=None, until=None) -> DutyLink:
    kind = {
        "Node": LinkKind.COMMUNITY,
        "Household": LinkKind.HOUSEHOLD,
        "Person": LinkKind.TARGET,
    }[type(target).__name__]
    field = {"community": "community", "household": "household", "target": "person"}[kind]
    return DutyLink.objects.create(
        holder=h,
        kind=kind,
        started_on=since or months_ago(3),
        ended_on=until,
        **{field: target},
    )


@pytest.fixture
def zhao(tree):
    """赵: a county cadre (其他干部) who sees only their own duties (仅本人)."""
    return cadre("zhao", tree["county"])


@pytest.fixture
def qian(tree):
    """钱: another county cadre."""
    return cadre("qian", tree["county"])


@pytest.fixture
def zhao_duty(zhao, tree):
    """赵 as 其他干部 with everything linked: 1 community, 1 household, 3 targets."""
    h = holder(zhao, "cadre", tree["county"])
    link(h, tree["community"])
    hh = household(tree["grid_a"])
    link(h, hh)
    home = household(tree["grid_b"])
    for p in (
        person(tree["grid_b"], home),
        person(tree["grid_b"], home),
        person(tree["grid_c"], household(tree["grid_c"])),
    ):
        link(h, p)
    return h
