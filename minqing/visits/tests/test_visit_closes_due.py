"""Recording a visit closes the household's due date and moves the next one on."""

import datetime as dt

from minqing.core.models import AuditEntry
from minqing.visits import selectors, services
from minqing.visits.models import Visit

from .conftest import at, file_household

D = dt.date


def test_a_visit_moves_an_overdue_household_off_the_due_list(grid_a_worker, tree, key):
    # given a 低保 household (monthly), last visited on 2 March 2026, overdue in April
    dibao = key.tags.get(name="低保")
    household = file_household(
        grid_a_worker, tree["grid_a"], "东门路5号", created=D(2026, 1, 5), tags=[dibao]
    )
    services.visit_record(
        acting_user=grid_a_worker, household=household, data={"seen": "正常"}, now=at(D(2026, 3, 2))
    )
    assert household.visit_state.next_due == D(2026, 4, 2)
    assert [s.household_id for s in selectors.due_for(grid_a_worker, today=D(2026, 4, 20))] == [
        household.pk
    ]

    # when the grid worker visits on 20 April
    services.visit_record(
        acting_user=grid_a_worker,
        household=household,
        data={"mode": "phone", "opinions": "希望楼道灯修好"},
        now=at(D(2026, 4, 20), 15),
    )

    # then the next visit is due a month later and the household is no longer listed
    household.visit_state.refresh_from_db()
    assert household.visit_state.last_visit_at == at(D(2026, 4, 20), 15)
    assert household.visit_state.next_due == D(2026, 5, 20)
    assert list(selectors.due_for(grid_a_worker, today=D(2026, 4, 20))) == []


def test_a_late_entry_of_an_older_visit_does_not_move_the_due_date_back(grid_a_worker, tree):
    household = file_household(grid_a_worker, tree["grid_a"], "东门路6号", created=D(2026, 1, 5))
    services.visit_record(
        acting_user=grid_a_worker, household=household, data={"seen": "新"}, now=at(D(2026, 6, 1))
    )
    services.visit_record(
        acting_user=grid_a_worker,
        household=household,
        data={"seen": "补录纸质记录", "visited_at": at(D(2026, 4, 1))},
        now=at(D(2026, 6, 2)),
    )
    household.visit_state.refresh_from_db()
    assert household.visit_state.next_due == D(2026, 9, 1)


def test_a_visit_records_who_whom_how_and_is_audited(
    grid_a_worker, community_worker, tree, zhang_san
):
    household = zhang_san.household
    visit = services.visit_record(
        acting_user=grid_a_worker,
        household=household,
        data={
            "mode": "home",
            "visitors": [community_worker],
            "other_visitors": "楼组长李阿姨",
            "members_met": [zhang_san],
            "seen": "老人腿脚不便。",
            "opinions": "希望安装扶手。",
            "need_kind": "need",
            "need_category": "适老化改造",
            "need_description": "卫生间安装扶手",
        },
    )
    assert set(visit.visitors.all()) == {grid_a_worker, community_worker}
    assert list(visit.members_met.all()) == [zhang_san]
    assert visit.grid == tree["grid_a"] and visit.created_by == grid_a_worker
    need = visit.needs.get()
    assert (need.household, need.category) == (household, "适老化改造")
    entry = AuditEntry.objects.get(model="visits.visit", object_id=str(visit.pk))
    assert entry.actor == grid_a_worker and entry.node == tree["grid_a"]
    assert "张三" in entry.changes["members_met"][1]


def test_a_visit_needs_something_seen_or_heard(grid_a_worker, household_a):
    import pytest
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.visit_record(acting_user=grid_a_worker, household=household_a, data={})
    assert exc.value.message_dict == {"seen": [services.ERR_EMPTY_VISIT]}
    assert not Visit.objects.exists()


def test_members_met_must_belong_to_the_household(grid_a_worker, household_a, tree):
    import pytest
    from django.core.exceptions import ValidationError

    from minqing.registry import services as registry

    stranger = registry.person_create(
        acting_user=grid_a_worker, data={"name": "路人", "grid": tree["grid_a"]}
    )
    with pytest.raises(ValidationError) as exc:
        services.visit_record(
            acting_user=grid_a_worker,
            household=household_a,
            data={"seen": "x", "members_met": [stranger]},
        )
    assert exc.value.message_dict["members_met"] == [services.ERR_MEMBER]


def test_a_companion_must_be_on_the_grids_team(grid_a_worker, grid_b_worker, household_a):
    import pytest
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.visit_record(
            acting_user=grid_a_worker,
            household=household_a,
            data={"seen": "x", "visitors": [grid_b_worker]},
        )
    assert exc.value.message_dict["visitors"] == [services.ERR_VISITOR]


def test_a_visit_cannot_be_dated_in_the_future(grid_a_worker, household_a):
    import pytest
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    with pytest.raises(ValidationError) as exc:
        services.visit_record(
            acting_user=grid_a_worker,
            household=household_a,
            data={"seen": "x", "visited_at": timezone.now() + dt.timedelta(days=1)},
        )
    assert exc.value.message_dict["visited_at"] == [services.ERR_FUTURE]


def test_a_year_typed_wrong_is_a_field_error_not_a_500(client, grid_a_worker, household_a):
    from conftest import login
    from minqing.visits.models import Visit

    login(client, grid_a_worker)
    r = client.post(
        f"/visits/new/?household={household_a.pk}",
        {
            "household": household_a.pk,
            "mode": "home",
            "visited_at": "0001-01-01T00:00",
            "seen": "门口见面",
        },
    )
    assert r.status_code == 400
    assert str(services.ERR_TOO_EARLY) in r.content.decode()
    assert not Visit.objects.exists()


def test_a_visit_of_years_ago_is_refused_one_of_last_month_recorded_late(
    client, grid_a_worker, household_a
):
    """2001 typed for 2021 was saved, and the home was due in 2001 (逾期 9313 天)."""
    from django.utils import timezone

    from conftest import login
    from minqing.visits.models import Visit

    login(client, grid_a_worker)
    url = f"/visits/new/?household={household_a.pk}"
    data = {"household": household_a.pk, "mode": "home", "seen": "补录"}
    old = client.post(url, {**data, "visited_at": "2001-03-01T10:00"})
    assert old.status_code == 400 and not Visit.objects.exists()
    assert services.ERR_TOO_OLD.format(days=services.BACKFILL_DAYS) in old.content.decode()
    last_month = (timezone.localtime() - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, {**data, "visited_at": last_month}).status_code == 302
    assert Visit.objects.count() == 1
