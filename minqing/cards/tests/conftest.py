"""Grid A's service team, its grid worker with a mobile, and an elderly woman living alone."""

import datetime as dt

import pytest

from minqing.accounts.models import MemberKind, Responsibility, ServiceTeam, TeamMember
from minqing.registry import services as registry
from minqing.registry.models import Tag


@pytest.fixture
def team_a(tree):
    team = ServiceTeam.objects.create(
        node=tree["grid_a"],
        name="东门社区第1网格服务组团",
        office_phone="0571-87001234",
        office_address="东门社区党群服务中心",
    )
    for name, kind, resp, duty, mobile in [
        ("王芳", MemberKind.COMMITTEE, Responsibility.FIRST, "社区书记", "13911110001"),
        ("刘强", MemberKind.STAFF, Responsibility.SECOND, "服务站站长", "13911110002"),
        ("陈楼长", MemberKind.BUILDING_LEADER, Responsibility.NONE, "楼组长", "13911110003"),
    ]:
        TeamMember.objects.create(
            team=team, name=name, kind=kind, responsibility=resp, duty=duty, mobile=mobile
        )
    return team


@pytest.fixture
def worker_a(grid_a_worker):
    grid_a_worker.full_name = "网格员张伟"
    grid_a_worker.mobile = "13922220000"
    grid_a_worker.save()
    return grid_a_worker


@pytest.fixture
def granny(worker_a, household_a, tree):
    """李奶奶, 78, living alone in household A (ID and phone on file, never on a card)."""
    from conftest import valid_id

    return registry.person_create(
        acting_user=worker_a,
        data={
            "name": "李奶奶",
            "id_number": valid_id(7, dt.date(1948, 3, 2), male=False),
            "phone": "13855556666",
            "birth_date": dt.date(1948, 3, 2),
            "sex": "F",
            "household": household_a,
            "relation": "parent",
            "grid": tree["grid_a"],
            "tags": [Tag.objects.get(name="独居")],
        },
    )


@pytest.fixture
def helper_of(monkeypatch):
    """Make the assistance app answer helpers for a household / a person."""
    from minqing.assistance import selectors as assistance

    def install(*, household=None, person=None):
        if household is not None:
            monkeypatch.setattr(assistance, "helpers_for_household", lambda h: household)
        if person is not None:
            monkeypatch.setattr(assistance, "helpers_for_person", lambda p: person)

    return install
