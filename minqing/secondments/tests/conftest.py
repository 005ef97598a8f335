"""A teaching team (县第一中学 → 东门社区第1网格's school) for the secondments tests.

Cycle 2025-09-01 … 2028-08-31 (3 years), 12-month turns. Created by the community secretary,
whose community holds grid A; grid B's worker must not see it.
"""

import datetime as dt

import pytest

from minqing.secondments import services

CYCLE_START = dt.date(2025, 9, 1)
D = dt.date


@pytest.fixture
def team(community_worker, tree):
    return services.secondment_create(
        acting_user=community_worker,
        data={
            "kind": "teaching",
            "sending_name": "县第一中学",
            "receiving_name": "东门小学",
            "node": tree["grid_a"],
            "cycle_start": CYCLE_START,
        },
    )


def add_member(team, actor, name, role="teacher", start=CYCLE_START, end=None, **extra):
    return services.member_add(
        acting_user=actor,
        secondment=team,
        data={"name": name, "role": role, "turn_start": start, "turn_end": end, **extra},
    )


@pytest.fixture
def members(team, community_worker):
    """队长 王强 and teachers 李梅 (数学) and 赵刚 (英语), first turn 2025-09-01 … 2026-08-31."""
    return [
        add_member(team, community_worker, "王强", "leader", phone="13900001111"),
        add_member(team, community_worker, "李梅", speciality="数学", phone="13900002222"),
        add_member(team, community_worker, "赵刚", speciality="英语"),
    ]
