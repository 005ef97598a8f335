"""A cadre's 应访家庭 (no grid of their own) lists what *they* owe their linked households: a
contact duty's visit every k months, counted as the duty report counts it, and a pairing's
contact rhythm. A grid worker's visit to the same household does not do the cadre's duty."""

import datetime as dt

from django.utils import timezone

from minqing.duties.selectors import link_visit_dues
from minqing.duties.tests.conftest import at, cadre, holder, household, link, months_ago, visit


def month_end(first: dt.date) -> dt.date:
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def test_a_monthly_duty_is_due_by_month_end_until_the_cadre_goes_themselves(
    client, tree, grid_a_worker
):
    today = timezone.localdate()
    zhao = cadre("zhao", tree["county"])
    h = household(tree["grid_a"])
    link(
        holder(zhao, "cadre", tree["county"], since=today.replace(day=1)),
        h,
        since=today.replace(day=1),
    )
    (due,) = link_visit_dues(zhao, today=today)
    assert (due.household_id, due.due, due.every, due.last_visit) == (
        h.pk, month_end(today.replace(day=1)), 1, None
    )  # fmt: skip

    # The grid worker's visit moves the household's schedule on, not the cadre's duty.
    visit(h, [grid_a_worker], timezone.now() - dt.timedelta(hours=2))
    assert link_visit_dues(zhao, today=today)[0].due == month_end(today.replace(day=1))

    client.force_login(zhao)
    page = client.get("/visits/due/?within=7").content.decode()
    listed = month_end(today.replace(day=1)) <= today + dt.timedelta(days=7)
    assert (h.address in page) == listed
    if listed:
        assert "联系户·每月" in page
    api = client.get("/api/visits/due", {"when": "all", "within": 31}).json()
    assert [i["household"]["id"] for i in api["items"]] == [h.pk]
    assert api["items"][0]["visit_class"]["code"] == "duty"

    # The cadre goes: next due by the end of next month, off this month's list.
    went = visit(h, [zhao], timezone.now() - dt.timedelta(hours=1))
    (due,) = link_visit_dues(zhao, today=today)
    next_month = month_end(today.replace(day=1)) + dt.timedelta(days=1)
    assert due.due == month_end(next_month) and due.last_visit == went.visited_at
    assert client.get("/api/visits/due", {"when": "all", "within": 28}).json()["count"] == 0


def test_a_missed_month_shows_overdue(client, tree):
    zhao = cadre("zhao", tree["county"])
    h = household(tree["grid_a"])
    link(holder(zhao, "cadre", tree["county"]), h)  # since three months ago
    visit(h, [zhao], at(months_ago(3) + dt.timedelta(days=5)))
    (due,) = link_visit_dues(zhao)
    assert due.due == month_end(months_ago(2))  # October's window passed without a visit
    client.force_login(zhao)
    body = client.get("/api/visits/due", {"when": "overdue"}).json()
    assert body["count"] == 1 and body["items"][0]["overdue"]
    assert body["items"][0]["days_overdue"] == (timezone.localdate() - due.due).days
    page = client.get("/visits/due/").content.decode()
    assert h.address in page and "逾期" in page


def test_links_of_other_cadres_and_ended_links_are_not_listed(tree):
    zhao, qian = cadre("zhao", tree["county"]), cadre("qian", tree["county"])
    mine, theirs, ended = (household(tree["grid_a"]) for _ in range(3))
    h = holder(zhao, "cadre", tree["county"])
    link(h, mine)
    link(holder(qian, "cadre", tree["county"]), theirs)
    link(h, ended, until=timezone.localdate() - dt.timedelta(days=1))
    assert [d.household_id for d in link_visit_dues(zhao)] == [mine.pk]


def test_the_cadres_home_and_totals_count_their_own_dues(client, tree):
    zhao = cadre("zhao", tree["county"])
    h = household(tree["grid_a"])
    link(holder(zhao, "cadre", tree["county"]), h)
    visit(h, [zhao], at(months_ago(3) + dt.timedelta(days=5)))  # a month missed since
    client.force_login(zhao)
    assert client.get("/api/visits/due/totals").json()["overdue"] == 1
