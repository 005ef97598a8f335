"""The monthly compliance report: what each holder owed and did, each kind of gap, visits
counted once and only inside the month, months before the duty and in the future."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from minqing.duties.models import DutyDay
from minqing.duties.selectors import ERR_MONTH_FUTURE, compliance, linked_household_ids

from .conftest import at, cadre, holder, household, last_month, link, months_ago, person, visit


def _line(report, h):
    (line,) = [ln for ln in report.lines if ln.holder.pk == h.pk]
    return line


def _visit_all(h, day):
    for s in h.links.exclude(kind="community"):
        hh = s.household or s.person.household
        visit(hh, [h.user], at(day))


def test_a_cadre_who_did_everything_has_no_gap(admin_user, zhao_duty):
    start, end = last_month()
    _visit_all(zhao_duty, start + dt.timedelta(days=9))

    report = compliance(admin_user, start.year, start.month)

    line = _line(report, zhao_duty)
    assert line.owed == {"communities": 1, "households": 1, "targets": 3, "days": 0, "visits": 4}
    assert line.done == {"communities": 1, "households": 1, "targets": 3, "days": 0, "visits": 4}
    assert line.ok and line.gap_words == ""
    assert report.total.holders == report.total.holders_ok == 1


def test_a_leader_with_gaps_of_every_kind(admin_user, tree):
    # given a leader (2 communities, 5 households, 3 days) with 1 community, 3 households,
    # 1 day and one of the three households visited
    start, end = last_month()
    boss = cadre("boss", tree["county"])
    h = holder(boss, "leader", tree["street"], unit="城关街道办")
    link(h, tree["community"])
    homes = [household(tree["grid_a"]) for _ in range(3)]
    for hh in homes:
        link(h, hh)
    DutyDay.objects.create(holder=h, community=tree["community"], date=start + dt.timedelta(days=3))
    visit(homes[0], [boss], at(start + dt.timedelta(days=5)))

    line = _line(compliance(admin_user, start.year, start.month), h)

    assert line.owed == {"communities": 2, "households": 5, "targets": 0, "days": 3, "visits": 3}
    assert line.done == {"communities": 1, "households": 3, "targets": 0, "days": 1, "visits": 1}
    assert line.gaps == {"communities": 1, "households": 2, "targets": 0, "days": 2, "visits": 2}
    assert not line.ok
    assert line.gap_words == "联系社区差1，联系困难户差2，驻社区天数差2天，走访差2"


def test_missing_service_targets_are_a_gap(admin_user, zhao, tree):
    start, _ = last_month()
    h = holder(zhao, "cadre", tree["county"])
    link(h, tree["community"])
    link(h, household(tree["grid_a"]))
    link(h, person(tree["grid_a"], household(tree["grid_a"])))

    line = _line(compliance(admin_user, start.year, start.month), h)

    assert line.gaps["targets"] == 2 and line.owed["targets"] == 3 and line.done["targets"] == 1
    assert line.gaps["visits"] == 2  # neither the household nor the target was visited


def test_several_visits_to_one_household_count_once(admin_user, zhao_duty, qian):
    start, _ = last_month()
    hh = zhao_duty.links.get(kind="household").household
    for day in (3, 10, 20):
        visit(hh, [zhao_duty.user, qian], at(start + dt.timedelta(days=day)))

    line = _line(compliance(admin_user, start.year, start.month), zhao_duty)

    assert line.done["visits"] == 1
    assert line.owed["visits"] == 4


def test_two_targets_of_one_household_are_both_visited_by_one_visit(admin_user, zhao_duty):
    start, _ = last_month()
    home = zhao_duty.links.filter(kind="target").first().person.household

    visit(home, [zhao_duty.user], at(start + dt.timedelta(days=2)))

    assert _line(compliance(admin_user, start.year, start.month), zhao_duty).done["visits"] == 2


def test_a_visit_by_someone_else_does_not_count(admin_user, zhao_duty, qian):
    start, _ = last_month()
    hh = zhao_duty.links.get(kind="household").household

    visit(hh, [qian], at(start + dt.timedelta(days=2)))

    assert _line(compliance(admin_user, start.year, start.month), zhao_duty).done["visits"] == 0


def test_visits_outside_the_month_do_not_count(admin_user, zhao_duty):
    start, end = last_month()
    hh = zhao_duty.links.get(kind="household").household
    visit(hh, [zhao_duty.user], at(start - dt.timedelta(days=1), 23, 59))  # the month before
    visit(hh, [zhao_duty.user], at(end + dt.timedelta(days=1), 0, 0))  # the month after

    assert _line(compliance(admin_user, start.year, start.month), zhao_duty).done["visits"] == 0

    visit(hh, [zhao_duty.user], at(end, 23, 59))  # the last minute of the month (local time)
    assert _line(compliance(admin_user, start.year, start.month), zhao_duty).done["visits"] == 1


def test_a_quarterly_rule_counts_a_visit_within_three_months(admin_user, zhao_duty):
    rule = zhao_duty.rule
    rule.visit_every_months = 3
    rule.save()
    start, _ = last_month()
    hh = zhao_duty.links.get(kind="household").household
    two_before = months_ago(3) + dt.timedelta(days=4)  # inside the window ending last month
    visit(hh, [zhao_duty.user], at(two_before))

    assert _line(compliance(admin_user, start.year, start.month), zhao_duty).done["visits"] == 1


def test_days_outside_the_month_do_not_count(admin_user, tree):
    start, end = last_month()
    boss = cadre("boss", tree["county"])
    h = holder(boss, "leader", tree["county"])
    link(h, tree["community"])
    for day in (start - dt.timedelta(days=1), start, end, end + dt.timedelta(days=1)):
        DutyDay.objects.create(holder=h, community=tree["community"], date=day)

    assert _line(compliance(admin_user, start.year, start.month), h).done["days"] == 2


def test_links_are_counted_on_the_last_day_of_the_month(admin_user, zhao, tree):
    start, end = last_month()
    h = holder(zhao, "cadre", tree["county"])
    link(h, tree["community"], until=end - dt.timedelta(days=3))  # ended inside the month
    link(h, tree["other_community"], since=end + dt.timedelta(days=1))  # starts after it
    link(h, household(tree["grid_a"]), since=start + dt.timedelta(days=10))  # new this month

    line = _line(compliance(admin_user, start.year, start.month), h)

    assert line.done["communities"] == 0
    assert line.done["households"] == 1 and line.owed["visits"] == 1


def test_a_holder_is_not_reported_before_their_duty_starts(admin_user, zhao, tree):
    start, _ = last_month()
    holder(zhao, "cadre", tree["county"], since=timezone.localdate().replace(day=1))

    assert compliance(admin_user, start.year, start.month).lines == []


def test_a_duty_starting_mid_month_owes_days_pro_rata(admin_user, tree):
    start, end = last_month()
    boss = cadre("boss", tree["county"])
    # from the 16th of a month of 28-31 days: 13-16 days of 3 → 2 days owed
    h = holder(boss, "leader", tree["county"], since=start + dt.timedelta(days=15))

    assert _line(compliance(admin_user, start.year, start.month), h).owed["days"] == 2


def test_a_future_month_is_refused(admin_user):
    nxt = (timezone.localdate().replace(day=28) + dt.timedelta(days=5)).replace(day=1)
    with pytest.raises(ValidationError) as exc:
        compliance(admin_user, nxt.year, nxt.month)
    assert exc.value.message_dict == {"month": [ERR_MONTH_FUTURE]}


def test_the_current_month_counts_links_as_of_today(admin_user, zhao_duty):
    today = timezone.localdate()
    report = compliance(admin_user, today.year, today.month)
    assert report.month.current and report.month.ref == today
    assert _line(report, zhao_duty).done["households"] == 1


def test_units_add_up_their_holders_and_never_hide_a_gap(admin_user, zhao, qian, tree):
    start, _ = last_month()
    a = holder(zhao, "cadre", tree["county"], unit="县民政局")
    b = holder(qian, "cadre", tree["county"], unit="县民政局")
    link(a, tree["community"])
    link(b, tree["community"])
    link(b, tree["other_community"])  # one too many does not make up for a's missing one
    report = compliance(admin_user, start.year, start.month)

    (unit,) = report.units
    assert unit.unit == "县民政局" and unit.holders == 2 and unit.holders_ok == 0
    assert unit.owed["communities"] == 2 and unit.done["communities"] == 3
    assert unit.met["communities"] == 2 and unit.gaps["communities"] == 0
    assert unit.gaps["households"] == 2 and unit.gaps["targets"] == 6


def test_linked_household_ids_are_the_households_and_the_targets_homes(zhao, zhao_duty, qian, tree):
    expected = {zhao_duty.links.get(kind="household").household_id} | {
        s.person.household_id for s in zhao_duty.links.filter(kind="target")
    }
    ended = household(tree["grid_c"])
    link(zhao_duty, ended, since=months_ago(2), until=timezone.localdate() - dt.timedelta(days=1))

    assert set(linked_household_ids(zhao).values_list("pk", flat=True)) == expected
    assert ended.pk not in expected
    assert not linked_household_ids(qian).exists()


def test_linked_households_end_with_the_duty(zhao, zhao_duty):
    zhao_duty.active_to = timezone.localdate() - dt.timedelta(days=1)
    zhao_duty.save()
    assert not linked_household_ids(zhao).exists()


def test_a_subtotal_counts_against_the_quotas_only_what_the_holders_owing_them_did(
    admin_user, zhao, qian, tree
):
    start, _ = last_month()
    owes = holder(zhao, "leader", tree["county"], unit="县人社局")  # 3 days a month
    free = holder(qian, "cadre", tree["county"], unit="县人社局")  # no days owed
    for h, day in [(owes, 3), (owes, 4), (free, 3), (free, 5)]:
        DutyDay.objects.create(holder=h, community=tree["community"], date=start.replace(day=day))
    report = compliance(admin_user, start.year, start.month)
    (unit,) = report.units
    days = next(c for c in unit.cells() if c["kind"] == "days")
    assert unit.done["days"] == 4 and unit.owed["days"] == 3
    assert days == {"kind": "days", "owed": 3, "done": 2, "gap": 1}  # 2/3, not "4/3" in red


def test_a_visit_after_the_duty_or_the_link_ended_does_not_count(admin_user, zhao_duty):
    """QA: a duty ended on the 15th was credited with visits of the 18th and the 23rd."""
    start, end = last_month()
    hh = zhao_duty.links.get(kind="household").household
    visit(hh, [zhao_duty.user], at(start + dt.timedelta(days=20)))
    zhao_duty.active_to = start + dt.timedelta(days=14)
    zhao_duty.save()
    assert _line(compliance(admin_user, start.year, start.month), zhao_duty).done["visits"] == 0
    visit(hh, [zhao_duty.user], at(start + dt.timedelta(days=3)))
    assert _line(compliance(admin_user, start.year, start.month), zhao_duty).done["visits"] == 1


def test_a_help_log_visit_of_a_paired_household_is_a_visit_of_the_duty_too(
    client, admin_user, zhao_duty, tree
):
    """QA: a cadre paired with and linked to one household logged 走访慰问 in the help log;
    the schedule moved, but the duty page still said 本期未走访 and the due list wanted it."""
    from minqing.assistance import services as assistance
    from minqing.assistance.models import HelperKind, Programme
    from minqing.duties.selectors import link_visit_dues

    start, _ = last_month()
    hh = zhao_duty.links.get(kind="household").household
    helper = assistance.helper_create(
        acting_user=admin_user,
        data={"kind": HelperKind.CADRE, "user": zhao_duty.user, "node": tree["county"]},
    )
    pairing = assistance.pairing_create(
        acting_user=admin_user,
        data={
            "programme": Programme.objects.get(code="cadre"),
            "helpers": [helper],
            "start": months_ago(3),
            "household": hh,
        },
    )
    assert _line(compliance(admin_user, start.year, start.month), zhao_duty).done["visits"] == 0
    assistance.help_entry_add(
        acting_user=admin_user,
        pairing=pairing,
        data={"kind": "visit", "text": "走访慰问", "helper": helper, "occurred_on": start},
    )
    assert _line(compliance(admin_user, start.year, start.month), zhao_duty).done["visits"] == 1
    (due,) = [d for d in link_visit_dues(zhao_duty.user) if d.household_id == hh.pk]
    assert timezone.localtime(due.last_visit).date() == start
