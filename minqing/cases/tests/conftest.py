import pytest

from minqing.cases import services
from minqing.cases.models import Category, Unit


@pytest.fixture
def street_light(db):
    return Category.objects.get(code="0601")


@pytest.fixture
def water_unit(tree, django_user_model):
    unit = Unit.objects.create(code="water", name="供水公司", node=tree["county"])
    member = django_user_model.objects.create_user(
        username="water_1", password="x-minqing-pw-1", full_name="供水值班员", mobile="13900000001"
    )
    unit.members.add(member)
    return unit


@pytest.fixture
def case_a(grid_a_worker, tree, street_light):
    """A registered case in grid A, filed by grid A's worker."""
    return services.case_accept(
        acting_user=grid_a_worker,
        data={
            "category": street_light,
            "description": "东门路3号路灯不亮。",
            "grid": tree["grid_a"],
            "reporter_name": "王大妈",
            "reporter_phone": "13812345678",
            "channel": "phone",
        },
    )
