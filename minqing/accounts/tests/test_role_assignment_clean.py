"""A role is assigned at the level it works at; the admin says so in the user's language."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from minqing.accounts.models import Role, RoleAssignment, User


@pytest.mark.parametrize(
    "language, expected",
    [
        ("zh-hans", "网格员应分配在“网格”一级的节点上。"),
        ("en", "A Grid worker is assigned at a node of the “Grid” level."),
    ],
)
def test_a_grid_worker_at_a_community_is_refused_in_the_users_language(tree, language, expected):
    user = User.objects.create_user(username="w", password="x-Secret-123")
    assignment = RoleAssignment(user=user, role=Role.GRID_WORKER, node=tree["community"])
    with translation.override(language), pytest.raises(ValidationError) as caught:
        assignment.full_clean()
    assert caught.value.message_dict["node"] == [expected]


def test_a_grid_worker_at_a_grid_is_accepted(tree):
    user = User.objects.create_user(username="w", password="x-Secret-123")
    RoleAssignment(user=user, role=Role.GRID_WORKER, node=tree["grid_a"]).full_clean()
