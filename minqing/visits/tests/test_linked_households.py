"""A cadre paired with (or duty-linked to) a household outside their scope may record visits to
it; a grid worker still may not log a visit outside their grid."""

import pytest

from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.registry.models import Household
from minqing.registry.services import PermissionDenied
from minqing.visits import services
from minqing.visits.models import Visit


@pytest.fixture
def cadre(tree):
    user = User.objects.create_user(username="cadre", password="x-123456789", full_name="赵磊")
    RoleAssignment.objects.create(
        user=user, role=Role.CADRE, node=tree["county"], data_scope=DataScope.SELF
    )
    return user


@pytest.fixture
def paired(monkeypatch, cadre, household_a):
    """The assistance app says: the cadre is paired with household A (nobody else is)."""
    from minqing.assistance import selectors as assistance

    def linked_household_ids(user):
        qs = (
            Household.objects.filter(pk=household_a.pk)
            if user.pk == cadre.pk
            else Household.objects.none()
        )
        return qs.values("pk")

    monkeypatch.setattr(assistance, "linked_household_ids", linked_household_ids)
    return household_a


def test_a_cadre_logs_a_visit_to_a_paired_household_outside_their_scope(client, cadre, paired):
    client.force_login(cadre)
    assert client.get(f"/visits/new/?household={paired.pk}").status_code == 200
    found = client.get("/visits/new/?q=人民路").content.decode()
    assert f"/visits/new/?household={paired.pk}" in found
    response = client.post(
        "/visits/new/", {"household": paired.pk, "mode": "home", "seen": "结对走访，了解近况"}
    )
    visit = Visit.objects.get()
    assert response.status_code == 302 and visit.household == paired
    assert list(visit.visitors.all()) == [cadre]
    assert client.get(f"/visits/{visit.pk}/").status_code == 200  # their own record
    # The due list of a cadre (no grid of their own) is what they owe by their own duties
    # and pairings (test_cadre_due_list); the grid team's schedule is not theirs.
    import datetime as dt

    from django.utils import timezone

    from minqing.visits.models import HouseholdVisitState

    HouseholdVisitState.objects.filter(household=paired).update(
        next_due=timezone.localdate() - dt.timedelta(days=3)
    )
    due = client.get("/visits/due/").content.decode()
    assert "我的联系户" in due and paired.address not in due


def test_the_link_reaches_only_that_household(client, cadre, paired, grid_a_worker, tree):
    from minqing.registry.services import household_create

    neighbour = household_create(
        acting_user=grid_a_worker, data={"address": "人民路1号1幢102室", "grid": tree["grid_a"]}
    )
    client.force_login(cadre)
    assert client.get(f"/visits/new/?household={neighbour.pk}").status_code == 404
    with pytest.raises(PermissionDenied):
        services.visit_record(acting_user=cadre, household=neighbour, data={"seen": "x"})


def test_grid_b_still_cannot_visit_grid_a_while_the_cadre_is_paired(client, grid_b_worker, paired):
    client.force_login(grid_b_worker)
    assert client.get(f"/visits/new/?household={paired.pk}").status_code == 404
    response = client.post("/visits/new/", {"household": paired.pk, "mode": "home", "seen": "x"})
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.visit_record(acting_user=grid_b_worker, household=paired, data={"seen": "x"})
    assert not Visit.objects.exists()


def test_a_cadre_turns_a_demand_from_a_paired_household_into_a_case_its_grid_owns(
    client, cadre, paired, grid_a_worker, tree, street_light
):
    # given: the cadre's visit to the paired household, outside their own area
    from minqing.cases.models import Case, Notification, Status

    client.force_login(cadre)
    client.post("/visits/new/", {"household": paired.pk, "mode": "home", "seen": "路灯坏了"})
    visit = Visit.objects.get()

    # when: they turn the demand into a case from the visit's page
    response = client.post(
        f"/visits/{visit.pk}/case/",
        {"category": street_light.code, "description": "楼下路灯坏了一个月", "priority": "normal"},
    )

    # then: the case waits at the household's grid for its staff, who are told; the cadre
    # follows it as its filer
    assert response.status_code == 302, response.content.decode()[:500]
    case = Case.objects.get()
    assert (case.grid, case.level_node) == (tree["grid_a"], tree["grid_a"])
    assert case.status == Status.ACCEPTED and case.created_by == cadre
    assert list(visit.cases.all()) == [case]
    assert Notification.objects.filter(user=grid_a_worker, case=case).exists()
    assert client.get(f"/cases/{case.number}/").status_code == 200
