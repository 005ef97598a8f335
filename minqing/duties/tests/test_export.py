"""The compliance report in Excel: header, one row per holder, unit subtotals, gaps in red,
the stamp, no formula, one EXPORT entry in the audit log."""

import datetime as dt
import io

import openpyxl

from minqing.core.models import AuditAction, AuditEntry
from minqing.duties.models import DutyDay

from .conftest import at, cadre, holder, household, last_month, link, visit


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]


def test_the_report_exports_with_gaps_in_red_and_the_stamp(client, county_officer, zhao_duty, tree):
    start, _ = last_month()
    # 赵 did everything; the leader 孙 missed two days and a visit; a name that looks like a formula
    for s in zhao_duty.links.exclude(kind="community"):
        visit(s.household or s.person.household, [zhao_duty.user], at(start + dt.timedelta(days=1)))
    sun = cadre("sun", tree["county"])
    sun.full_name = '=HYPERLINK("http://x")'
    sun.save()
    boss = holder(sun, "leader", tree["street"], unit="城关街道办")
    link(boss, tree["community"])
    link(boss, tree["other_community"])
    homes = [household(tree["grid_a"]) for _ in range(5)]
    for hh in homes:
        link(boss, hh)
    for hh in homes[1:]:
        visit(hh, [sun], at(start + dt.timedelta(days=3)))
    DutyDay.objects.create(holder=boss, community=tree["community"], date=start)
    client.force_login(county_officer)

    ws = _sheet(client.get(f"/duties/report.xlsx?month={start:%Y-%m}"))

    header = [c.value for c in ws[1]]
    assert header[:5] == ["单位", "姓名", "职务", "任务类型", "所属区划"]
    assert (
        "驻社区天数（应）" in header
        and "走访（实）" in header
        and header[-2:] == ["差距", "是否达标"]
    )
    rows = {r[1].value: r for r in ws.iter_rows(min_row=2) if r[1].value}
    boss_row = rows['\'=HYPERLINK("http://x")']  # neutralised: text, not a formula
    days_done = boss_row[header.index("驻社区天数（实）")]
    visits_done = boss_row[header.index("走访（实）")]
    assert days_done.value == 1 and boss_row[header.index("驻社区天数（应）")].value == 3
    assert days_done.font.color.rgb.endswith("B91C1C") and days_done.fill.fgColor.rgb.endswith(
        "FDE2E2"
    )
    assert visits_done.value == 4 and visits_done.font.color.rgb.endswith("B91C1C")
    assert boss_row[header.index("差距")].value == "驻社区天数差2天，走访差1"
    assert boss_row[header.index("是否达标")].value == "否"
    zhao_row = rows["zhao"]
    done = zhao_row[header.index("走访（实）")]
    assert done.value == 4 and not (done.font.color and str(done.font.color.rgb).endswith("B91C1C"))
    assert zhao_row[header.index("是否达标")].value == "是"
    assert any(str(v).startswith("小计（1人，达标0人）") for v in rows)
    assert "2人，达标1人" in rows
    col_a = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert any(str(v).startswith("导出人：county") for v in col_a)
    assert any(str(v).startswith("范围：") and "月份" in str(v) for v in col_a)
    assert "记录数：2" in col_a

    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == county_officer and entry.model == "duties.dutyholder"
    assert "（2条）" in entry.object_repr
