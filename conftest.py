"""Fixed personas over a small place tree (STYLE.md): every test may ask for any of them.

County 330188 → street 330188001 → community 330188001001 with grids A (…001) and B (…002),
and a second community 330188001002 with grid C. Each persona works at one node.
"""

import datetime

import pytest

from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.core.idnumber import make_id_number
from minqing.grids.models import Level, Node
from minqing.registry import services

PASSWORD = "correct-horse-battery-9"

# Browser fixtures (one Chromium per session, shared by every app's browser tests).
pytest_plugins = ["minqing.core.testing.browser"]


SEED_MIGRATIONS = [
    # (model that shows the seed is there, migration module with a seed(apps, schema_editor))
    ("registry.Tag", "minqing.registry.migrations.0002_seed_tags"),
    ("cases.Category", "minqing.cases.migrations.0002_seed_categories"),
    ("visits.VisitClass", "minqing.visits.migrations.0002_seed_visit_classes"),
    ("duties.DutyRule", "minqing.duties.migrations.0002_seed_rules"),
    ("assistance.Programme", "minqing.assistance.migrations.0002_seed_programmes"),
]


@pytest.fixture(autouse=True)
def _seeded_rows(request):
    """Transactional tests empty every table when they end; put the migration-seeded rows
    (tags, case categories and time limits, visit classes) back before each one, so no test
    depends on which transactional test ran before it."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for label, module in SEED_MIGRATIONS:
        if not apps.get_model(label).objects.exists():
            importlib.import_module(module).seed(apps, None)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language (Chinese). The test client runs the
    LocaleMiddleware in the test's own thread, so a request in English leaves English active
    after it; the services' ERR_* messages are lazy translations and would follow it."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hasher(request, settings):
    """Argon2 is slow on purpose; tests create many users. Tests marked argon2 keep it."""
    if request.node.get_closest_marker("argon2") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def square(x: float, y: float, size: float = 0.01) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def tree(db):
    county = Node.objects.create(level=Level.COUNTY, name="民安县", code="330188")
    street = Node.objects.create(
        level=Level.STREET, name="城关街道", code="330188001", parent=county
    )
    community = Node.objects.create(
        level=Level.COMMUNITY,
        name="东门社区",
        code="330188001001",
        parent=street,
        boundary=square(120.0, 30.0, 0.02),
    )
    grid_a = Node.objects.create(
        level=Level.GRID,
        name="东门社区第1网格",
        code="330188001001001",
        parent=community,
        boundary=square(120.0, 30.0),
    )
    grid_b = Node.objects.create(
        level=Level.GRID,
        name="东门社区第2网格",
        code="330188001001002",
        parent=community,
        boundary=square(120.01, 30.0),
    )
    other = Node.objects.create(
        level=Level.COMMUNITY, name="南苑社区", code="330188001002", parent=street
    )
    grid_c = Node.objects.create(
        level=Level.GRID, name="南苑社区第1网格", code="330188001002001", parent=other
    )
    building_a = Node.objects.create(
        level=Level.BUILDING, name="1幢", code="330188001001001001", parent=grid_a
    )
    return {
        "county": county,
        "street": street,
        "community": community,
        "grid_a": grid_a,
        "grid_b": grid_b,
        "other_community": other,
        "grid_c": grid_c,
        "building_a": building_a,
    }


def grid_below(parent: Node | None, code: str, name: str) -> Node:
    """Another part of the tree for scope tests: from the level below `parent` (a county when
    None) down to a grid, the first node coded `code` and each next one + "001"."""
    steps = [Level.COUNTY, Level.STREET, Level.COMMUNITY, Level.GRID]
    node = parent
    for level in steps[steps.index(parent.level) + 1 if parent else 0 :]:
        code = code if node is parent else node.code + "001"
        node = Node.objects.create(level=level, name=f"{name}{level.label}", code=code, parent=node)
    return node


def _user(username: str, role: Role | None, node: Node | None, **extra) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, full_name=username, **extra
    )
    if role is not None:
        RoleAssignment.objects.create(
            user=user, role=role, node=node, data_scope=DataScope.NODE_AND_BELOW
        )
    return user


@pytest.fixture
def grid_a_worker(tree):
    return _user("grid_a", Role.GRID_WORKER, tree["grid_a"])


@pytest.fixture
def grid_b_worker(tree):
    return _user("grid_b", Role.GRID_WORKER, tree["grid_b"])


@pytest.fixture
def community_worker(tree):
    return _user("community", Role.COMMUNITY_SECRETARY, tree["community"])


@pytest.fixture
def street_officer(tree):
    return _user("street", Role.STREET_OFFICER, tree["street"])


@pytest.fixture
def county_officer(tree):
    return _user("county", Role.COUNTY_OFFICER, tree["county"])


@pytest.fixture
def admin_user(tree):
    return _user("admin", Role.ADMIN, tree["county"], is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(tree):
    """Logged in, but assigned nowhere: sees nothing."""
    return _user("outsider", None, None)


@pytest.fixture
def cadre(tree):
    """A county cadre (帮扶干部) who sees only their own records and pairs (仅本人)."""
    user = User.objects.create_user(
        username="cadre", password=PASSWORD, full_name="帮扶干部 赵磊", mobile="13800001111"
    )
    RoleAssignment.objects.create(
        user=user, role=Role.CADRE, node=tree["county"], data_scope=DataScope.SELF
    )
    return user


@pytest.fixture
def household_a(grid_a_worker, tree):
    return services.household_create(
        acting_user=grid_a_worker, data={"address": "人民路1号1幢101室", "grid": tree["grid_a"]}
    )


def valid_id(
    seq: int = 1, birth: datetime.date = datetime.date(1960, 5, 4), male: bool = True
) -> str:
    return make_id_number("330188", birth, seq * 2 + (1 if male else 0))


@pytest.fixture
def zhang_san(grid_a_worker, household_a, tree):
    """张三, head of household A, in grid A, with an ID and a phone."""
    return services.person_create(
        acting_user=grid_a_worker,
        data={
            "name": "张三",
            "id_number": valid_id(1),
            "phone": "13812345678",
            "household": household_a,
            "relation": "head",
            "grid": tree["grid_a"],
        },
    )


def login(client, user) -> None:
    client.force_login(user)
