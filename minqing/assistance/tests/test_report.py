"""The monthly report: contacts owed and made per group and helper, help and money by fund source."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from minqing.assistance import selectors, services
from minqing.assistance.models import HelperGroup
from minqing.core.models import AuditAction, AuditEntry

from .conftest import pair, programme
from .test_contacts import visit

MARCH = dt.date(2026, 3, 1)


@pytest.fixture
def groups(office, cadre_helper, cadre2_helper, mother, mother2, household_a, household_b, tree):
    """Two of the 4 groups × 2 households: weekly contact with each household."""
    g1 = HelperGroup.objects.create(
        programme=programme("group"), name="第一小组", node=tree["community"]
    )
    g1.members.set([cadre_helper, mother])
    g2 = HelperGroup.objects.create(
        programme=programme("group"), name="第二小组", node=tree["community"]
    )
    g2.members.set([cadre2_helper, mother2])
    p1 = pair(office, "group", group=g1, household=household_a, start=dt.date(2026, 1, 5))
    p2 = pair(office, "group", group=g2, household=household_b, start=dt.date(2026, 1, 5))
    return g1, g2, p1, p2


def log(user, pairing, day, **extra):
    data = {"kind": "visit", "text": "走访", "occurred_on": day, **extra}
    return services.help_entry_add(acting_user=user, pairing=pairing, data=data)


def test_monthly_report_counts_contacts_gaps_and_money_by_source(
    office, cadre, cadre_helper, groups, grid_a_worker, household_a
):
    g1, g2, p1, p2 = groups
    # Group 1 went every week of March (one of them a visit by the helper), with money.
    log(
        cadre,
        p1,
        dt.date(2026, 3, 3),
        kind="goods",
        goods="米油",
        goods_value="150.50",
        fund_source="cadre",
    )
    log(cadre, p1, dt.date(2026, 3, 10), amount="500", fund_source="poverty")
    visit(household_a, dt.date(2026, 3, 17), cadre)
    log(office, p1, dt.date(2026, 3, 24), amount="300", fund_source="social", helper=cadre_helper)
    log(cadre, p1, dt.date(2026, 3, 24), kind="emotional", text="同一天第二条，只算一天")
    # Group 2 went once.
    log(office, p2, dt.date(2026, 3, 5), amount="200", fund_source="poverty")

    report = selectors.month_report(office, month=MARCH, today=dt.date(2026, 4, 2))
    rows = {r.pairing.pk: r for r in report.rows}
    assert (rows[p1.pk].need.required, rows[p1.pk].need.made, rows[p1.pk].need.gap) == (4, 4, 0)
    assert (rows[p2.pk].need.required, rows[p2.pk].need.made, rows[p2.pk].need.gap) == (4, 1, 3)
    assert rows[p1.pk].help_count == 4 and rows[p2.pk].help_count == 1
    assert rows[p1.pk].money == {
        "cadre": Decimal("150.50"),
        "poverty": Decimal("500"),
        "social": Decimal("300"),
    }
    groups_by_name = {g.name: g for g in report.by_group}
    assert groups_by_name["第一小组"].gaps == 0 and groups_by_name["第二小组"].gaps == 1
    assert report.totals.total == Decimal("1150.50")
    assert report.totals.money["poverty"] == Decimal("700")
    helper_rows = {g.name: g for g in report.by_helper}
    assert helper_rows["干部cadre"].made == 4 and helper_rows["李慈爱"].gaps == 1
    # Each helper is credited with the help they gave, not their group's: the group's contacts
    # are every member's duty, its help and money each giver's own.
    # (Group 2's 200 元 was logged naming nobody: the group's, no member's.)
    credited = {n: (g.help_count, g.total, g.made) for n, g in helper_rows.items()}
    assert credited == {
        "干部cadre": (4, Decimal("950.50"), 4),  # three of their own, one the office logged
        "王爱心": (0, Decimal("0"), 4),  # in group 1, gave nothing this month
        "干部cadre2": (0, Decimal("0"), 1),
        "李慈爱": (0, Decimal("0"), 1),
    }

    # A group's own report.
    only = selectors.month_report(office, month=MARCH, group=g2, today=dt.date(2026, 4, 2))
    assert [r.pairing for r in only.rows] == [p2]


def test_the_report_page_shows_gaps_in_red_and_exports_the_same_numbers(
    client, office, cadre, groups
):
    g1, g2, p1, p2 = groups
    log(office, p2, dt.date(2026, 3, 5), amount="200", fund_source="poverty")
    client.force_login(office)
    page = client.get("/assistance/report/?month=2026-03").content.decode()
    assert 'class="late"' in page and 'class="gap"' in page

    response = client.get("/assistance/report/export.xlsx?month=2026-03&group=" + str(g2.pk))
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[:4] == ["帮扶项目", "帮扶小组", "帮扶人", "帮扶对象"]
    data = [[c.value for c in row] for row in ws.iter_rows(min_row=2) if row[0].value]
    body = [r for r in data if r[0] == programme("group").name]
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=False))
    assert row["帮扶小组"] == "第二小组" and row["应联系次数"] == 4 and row["实际联系天数"] == 1
    assert row["缺口"] == 3 and row["扶贫资金(元)"] == 200 and row["合计(元)"] == 200
    stamp = " ".join(str(r[0]) for r in data)
    assert "导出人" in stamp and "月份：2026-03" in stamp and "小组：第二小组" in stamp
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.model == "assistance.pairing" and "1条" in entry.object_repr

    # The page's totals follow the rows, a sheet each, with the same figures and stamp.
    report = selectors.month_report(office, month=MARCH, group=g2)
    assert wb.sheetnames[1:] == ["按项目", "按小组", "按帮扶人"]
    for name, groups_ in zip(
        wb.sheetnames[1:], (report.by_programme, report.by_group, report.by_helper), strict=True
    ):
        ws = wb[name]
        header = [c.value for c in ws[1]]
        assert header[1:6] == ["结对数", "应联系", "实际联系", "有缺口的结对", "帮扶记录"]
        got = [[c.value for c in row] for row in ws.iter_rows(min_row=2) if row[1].value]
        assert [r[0] for r in got] == [g.name for g in groups_], name
        assert [r[1:6] for r in got] == [
            [g.pairings, g.required, g.made, g.gaps, g.help_count] for g in groups_
        ], name
        assert [r[-1] for r in got] == [g.total for g in groups_], name
        assert any("导出人" in str(row[0].value) for row in ws.iter_rows(min_row=2)), name
    by_programme = [[c.value for c in r] for r in wb["按项目"].iter_rows(min_row=2)]
    assert [r[-1] for r in by_programme if r[0] == programme("group").name] == [200]


def test_a_bad_month_is_a_clear_error(client, office):
    client.force_login(office)
    for bad in ("2026-13", "March", "1999-01", "2026-3-1"):
        response = client.get(f"/assistance/report/?month={bad}")
        said = response.content.decode()
        assert response.status_code == 400 and ("YYYY-MM" in said or "2100-12" in said), bad
        assert client.get(f"/assistance/report/export.xlsx?month={bad}").status_code == 400
        response = client.get(f"/api/assistance/report/?month={bad}")
        assert response.status_code == 400 and "month" in response.json()["errors"]


def test_help_entries_are_audited(office, cadre, groups):
    _g1, _g2, p1, _p2 = groups
    entry = log(cadre, p1, dt.date(2026, 3, 3), amount="88.8", fund_source="cadre")
    audit = AuditEntry.objects.get(model="assistance.helpentry", object_id=str(entry.pk))
    assert audit.actor == cadre and audit.action == AuditAction.CREATE
    assert (
        audit.changes["money"][1] == "资金88.80元" and audit.changes["fund_source"][1] == "干部捐助"
    )
    assert audit.node == p1.grid


def test_the_report_page_names_the_fund_sources_in_the_readers_language(
    client, office, cadre, groups
):
    client.force_login(office)
    english = client.get("/assistance/report/?month=2026-03", HTTP_ACCEPT_LANGUAGE="en")
    html = english.content.decode()
    assert "Poverty-relief funds (yuan)" in html and "扶贫资金" not in html
    chinese = client.get("/assistance/report/?month=2026-03").content.decode()
    assert "扶贫资金(元)" in chinese


@pytest.mark.parametrize(
    ("month", "said"),
    [("2026-13", "月份格式应为 YYYY-MM"), ("9999-12", "月份应在 2000-01 至 2100-12 之间"),
     ("0001-01", "月份应在 2000-01 至 2100-12 之间")],
)  # fmt: skip
def test_a_month_out_of_reach_is_told_apart_from_a_badly_written_one(client, office, month, said):
    client.force_login(office)
    response = client.get(f"/api/assistance/report/?month={month}")
    assert response.status_code == 400 and said in response.json()["errors"]["month"][0]


def test_a_lone_helper_is_credited_with_entries_that_name_nobody(
    office, cadre, cadre_helper, household_a
):
    """Entries from before a helper had to be named carry none: on a one-helper pairing they
    are that helper's (they dropped out of 按帮扶人)."""
    from minqing.assistance.models import HelpEntry

    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    entry = log(office, p, dt.date(2026, 3, 3), amount="300", fund_source="cadre")
    HelpEntry.objects.filter(pk=entry.pk).update(helper=None)
    report = selectors.month_report(office, month=MARCH, today=dt.date(2026, 4, 2))
    (row,) = [g for g in report.by_helper if g.name == cadre_helper.name]
    assert (row.help_count, row.total) == (1, Decimal("300"))


def test_the_reports_export_names_targets_in_chinese_for_an_english_reader(
    client, office, cadre, groups
):
    """QA (English UI): 帮扶对象 read "Household of 金磊健" in the Chinese ledger."""
    client.force_login(office)
    response = client.get("/assistance/report/export.xlsx?month=2026-03", HTTP_ACCEPT_LANGUAGE="en")
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    ws = wb.active
    header = [c.value for c in ws[1]]
    column = header.index("帮扶对象")
    targets = [row[column].value for row in ws.iter_rows(min_row=2) if row[1].value]
    assert targets and not any("Household of" in str(t) for t in targets)


def test_a_quarterly_pairing_on_time_shows_no_gap_in_the_months_between(
    office, cadre, cadre_helper, household_a
):
    """Review: the report read contacts from 20 days before the month only, so a quarterly
    pairing visited in June looked never contacted in August and owed a contact (the due list
    said 16 September). It reads back one interval now."""
    from minqing.assistance.models import Programme

    Programme.objects.filter(code="cadre").update(every=3, unit="month")
    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2025, 1, 6))
    log(cadre, p, dt.date(2026, 6, 16))

    def gap(month: dt.date, today: dt.date) -> tuple[int, int, int]:
        report = selectors.month_report(office, month=month, today=today)
        [row] = [r for r in report.rows if r.pairing.pk == p.pk]
        return row.need.required, row.need.made, row.need.gap

    assert gap(dt.date(2026, 8, 1), dt.date(2026, 9, 1)) == (0, 0, 0)
    assert gap(dt.date(2026, 9, 1), dt.date(2026, 10, 1)) == (1, 0, 1)  # due 16 September
    log(cadre, p, dt.date(2026, 10, 5))
    assert gap(dt.date(2026, 10, 1), dt.date(2026, 11, 1)) == (1, 1, 0)
    assert gap(dt.date(2026, 11, 1), dt.date(2026, 12, 1)) == (0, 0, 0)  # next due 5 January
