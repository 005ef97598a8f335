"""Two people acting on the same case at once, and many cases numbered at once (PostgreSQL).

Each thread has its own database connection, so the data must be committed (transactional_db);
serialized_rollback puts back the seeded categories and time limits afterwards. SQLite runs one
write transaction at a time and its shared in-memory test database cannot take two writers, so
these tests only run on PostgreSQL.
"""

import threading
import time

import pytest
from django.db import close_old_connections, connection

from minqing.cases import services
from minqing.cases.models import Case, CaseCounter, CaseEvent, Status

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: row locks across connections (SQLite allows one writer)",
    ),
]


def run_together(*jobs, timeout: float = 30.0) -> list:
    """Run each job in its own thread (own DB connection), started at the same instant."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(i, job):
        try:
            barrier.wait()
            results[i] = ("ok", job())
        except Exception as e:  # noqa: BLE001 - reported to the test
            results[i] = ("error", e)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung (lock never released?)"
    close_old_connections()
    return results


@pytest.fixture
def slow_lock(monkeypatch):
    """Hold each locked row a moment before acting, so the two threads really overlap.

    Without the row lock both would read the same version, both pass the check and both
    write; with it the second waits, then sees the first one's version and is refused.
    """
    real = services._lock

    def lock_then_wait(case):
        locked = real(case)
        time.sleep(0.3)
        return locked

    monkeypatch.setattr(services, "_lock", lock_then_wait)


def test_two_people_acting_on_the_same_case_at_once_one_wins_and_the_other_is_told(
    case_a, community_worker, grid_a_worker, slow_lock
):
    # given: both opened the case page at the same version
    seen = case_a.version
    events_before = CaseEvent.objects.filter(case=case_a).count()

    def dispatch():
        return services.case_act(
            acting_user=community_worker,
            case=case_a,
            action="dispatch",
            target_user=grid_a_worker,
            version=seen,
        )

    def take():
        return services.case_act(
            acting_user=grid_a_worker, case=case_a, action="take", version=seen
        )

    # when: the community dispatches while grid A takes it
    results = run_together(dispatch, take)

    # then: exactly one succeeded, the other got the conflict message with the new status
    oks = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "error"]
    assert len(oks) == 1 and len(errors) == 1, results
    case = Case.objects.get(pk=case_a.pk)
    assert isinstance(errors[0], services.CaseConflict), errors[0]
    assert str(errors[0]) == services.ERR_CONFLICT.format(status=case.get_status_display())
    assert case.version == seen + 1
    assert case.status in (Status.DISPATCHED, Status.HANDLING)
    assert case.status == oks[0].status
    # exactly one new event, the winner's
    new_events = list(CaseEvent.objects.filter(case=case_a).order_by("id")[events_before:])
    assert len(new_events) == 1
    assert new_events[0].action == ("dispatch" if case.status == Status.DISPATCHED else "take")


def test_a_second_action_with_the_version_before_the_first_is_refused_even_in_the_same_state(
    case_a, grid_a_worker, community_worker, street_officer, slow_lock
):
    # Two supervisors urge the same case from the same page: the status does not change, the
    # version does, so the second is refused rather than counted twice.
    case = services.case_act(acting_user=grid_a_worker, case=case_a, action="take")
    seen = case.version

    def urge(user):
        return lambda: services.case_act(
            acting_user=user, case=case, action="supervise", note="请尽快处置。", version=seen
        )

    results = run_together(urge(community_worker), urge(street_officer))
    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["error", "ok"], results
    error = next(r for kind, r in results if kind == "error")
    assert isinstance(error, services.CaseConflict)
    assert Case.objects.get(pk=case.pk).supervise_count == 1


def test_case_numbers_stay_unique_when_20_cases_are_accepted_at_once(
    grid_a_worker, grid_b_worker, community_worker, tree, street_light
):
    # given: five people each filing four cases at the same moment
    def filer(user, grid):
        def job():
            return [
                services.case_accept(
                    acting_user=user,
                    data={
                        "category": street_light,
                        "description": f"第{i}盏路灯不亮。",
                        "grid": grid,
                    },
                ).number
                for i in range(4)
            ]

        return job

    jobs = [
        filer(grid_a_worker, tree["grid_a"]),
        filer(grid_b_worker, tree["grid_b"]),
        filer(community_worker, tree["grid_a"]),
        filer(community_worker, tree["grid_b"]),
        filer(grid_a_worker, tree["grid_a"]),
    ]
    # when
    results = run_together(*jobs)
    # then: 20 cases, numbered 1 to 20 of the day without a gap or a repeat
    assert all(kind == "ok" for kind, _ in results), results
    numbers = [n for _, batch in results for n in batch]
    assert len(numbers) == 20 and len(set(numbers)) == 20
    assert sorted(int(n.split("-")[1]) for n in numbers) == list(range(1, 21))
    day = numbers[0].split("-")[0]
    assert all(n.startswith(day + "-") for n in numbers)
    assert CaseCounter.objects.get().last == 20
    assert Case.objects.count() == 20


def test_a_case_is_numbered_while_another_acceptance_of_the_day_is_still_saving(
    grid_a_worker, grid_b_worker, tree, street_light, monkeypatch
):
    # given: grid A's acceptance holds its transaction open for a second after its number is
    # taken (its first event is slow to write)
    real_event = services._event
    a_numbered = threading.Event()

    def slow_event(case, **kwargs):
        event = real_event(case, **kwargs)
        if kwargs.get("action") == "accept" and case.grid_id == tree["grid_a"].pk:
            a_numbered.set()
            time.sleep(1.0)
        return event

    monkeypatch.setattr(services, "_event", slow_event)

    def filer(user, grid, after=None):
        def job():
            if after is not None:
                assert after.wait(10)
            number = services.case_accept(
                acting_user=user,
                data={"category": street_light, "description": "路灯不亮。", "grid": grid},
            ).number
            return number, time.monotonic()

        return job

    # when: grid B files a case while A's is being saved
    results = run_together(
        filer(grid_a_worker, tree["grid_a"]), filer(grid_b_worker, tree["grid_b"], a_numbered)
    )

    # then: B did not wait for A's commit (the day's counter is not locked until then), and
    # the two numbers follow each other
    assert all(kind == "ok" for kind, _ in results), results
    (a_number, a_done), (b_number, b_done) = (r for _, r in results)
    assert b_done < a_done
    assert (a_number[-6:], b_number[-6:]) == ("000001", "000002")
    assert CaseCounter.objects.get().last == 2


def test_the_same_new_case_form_sent_four_times_at_once_files_one_case(grid_a_worker, tree):
    """A network retry or a double tap sends the form again before the first has filed it:
    the token is claimed in the database cache (one INSERT on its key), so one case is filed
    and the other sendings are told (the session had nothing yet for any of them)."""
    from django.test import Client

    from conftest import login

    from .test_views import new_case_data

    client = Client()
    login(client, grid_a_worker)
    data = {**new_case_data(tree), "once": "same-form-token"}
    session = client.cookies

    def send():
        c = Client()
        c.cookies = session
        return c.post("/cases/new/", data).status_code

    results = run_together(*[send] * 4)
    assert [r[0] for r in results] == ["ok"] * 4 and {r[1] for r in results} == {302}
    assert Case.objects.count() == 1
