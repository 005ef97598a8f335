"""指标统计 and 民情实事解决台账: the numbers, computed by hand for a known set of cases; scope;
the charts' data; the Excel files (masked, stamped, formula-safe, audited)."""

import datetime
import io
import json
import re
from html import unescape
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import grid_below, login
from minqing.cases import periods, services, stats_views
from minqing.cases.selectors import indicators_by_child
from minqing.core import statements
from minqing.core.models import AuditAction, AuditEntry

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def act(user, case, action, at, **kw):
    return services.case_act(acting_user=user, case=case, action=action, now=at, **kw)


def accept(user, grid, at, category, **data):
    data = {"category": category, "description": "路灯不亮。", "grid": grid, **data}
    return services.case_accept(acting_user=user, data=data, now=at)


def close(worker, case, at, *, checker=None):
    case = act(worker, case, "take", at + HOUR)
    case = act(worker, case, "feedback", at + 2 * HOUR, note="已修好。")
    return act(checker or worker, case, "verify", at + 3 * HOUR)


@pytest.fixture
def known(tree, grid_a_worker, grid_b_worker, community_worker, street_officer, street_light):
    """Seven cases accepted in the last month, in grids A and B, whose measures are:

    grid A: A1 closed on time 满意; A2 reworked, closed on time 基本满意; A3 late, escalated
            to the community, closed late, not rated; A4 open and not yet due.
    grid B: B1 closed on time 满意; B2 cancelled; B3 不满意 twice (reopened once), closed on
            time. Plus one case closed long before the period and one in another community.
    """
    now = timezone.now()
    t0 = now - 30 * DAY
    a, b = tree["grid_a"], tree["grid_b"]
    old = close(grid_a_worker, accept(grid_a_worker, a, now - 200 * DAY, street_light),
                now - 200 * DAY)  # fmt: skip
    a1 = accept(grid_a_worker, a, t0, street_light, reporter_name="王大妈",
                reporter_phone="13812345678", address="东门路3号")  # fmt: skip
    # The call-back is recorded by the community, not by the grid worker who handled the case.
    a1 = act(community_worker, close(grid_a_worker, a1, t0), "rate", t0 + 4 * HOUR,
             satisfaction="satisfied")  # fmt: skip
    a2 = accept(grid_a_worker, a, t0, street_light,
                description="=HYPERLINK(\"http://evil\")楼道灯不亮")  # fmt: skip
    a2 = act(grid_a_worker, a2, "take", t0 + HOUR)
    a2 = act(grid_a_worker, a2, "feedback", t0 + 2 * HOUR, note="换了灯泡。")
    a2 = act(grid_a_worker, a2, "rework", t0 + 3 * HOUR, note="还是不亮。")
    a2 = act(grid_a_worker, a2, "feedback", t0 + 4 * HOUR, note="换了线路。")
    a2 = act(grid_a_worker, a2, "verify", t0 + 5 * HOUR)
    a2 = act(community_worker, a2, "rate", t0 + 6 * HOUR, satisfaction="fairly")
    a3 = act(grid_a_worker, accept(grid_a_worker, a, t0, street_light), "take", t0 + HOUR)
    b1 = accept(grid_b_worker, b, t0, street_light, reporter_name="李师傅",
                reporter_phone="13987654321")  # fmt: skip
    b1 = act(community_worker, close(grid_b_worker, b1, t0), "rate", t0 + 4 * HOUR,
             satisfaction="satisfied")  # fmt: skip
    b2 = act(grid_b_worker, accept(grid_b_worker, b, t0, street_light), "cancel",
             t0 + HOUR, note="重复反映。")  # fmt: skip
    b3 = close(grid_b_worker, accept(grid_b_worker, b, t0, street_light), t0)
    b3 = act(community_worker, b3, "rate", t0 + 4 * HOUR, satisfaction="unsatisfied")
    b3 = close(grid_b_worker, b3, t0 + 5 * HOUR)
    b3 = act(community_worker, b3, "rate", t0 + 9 * HOUR, satisfaction="unsatisfied")
    counts = services.sweep_deadlines(now=t0 + 20 * DAY)  # A3 is late: up to the community
    assert counts["overdue"] == 1 and counts["escalated"] == 1
    a3 = act(grid_a_worker, a3, "feedback", t0 + 21 * DAY, note="已修好。")
    a3 = act(community_worker, a3, "verify", t0 + 21 * DAY + HOUR)
    a4 = accept(grid_a_worker, a, now - HOUR, street_light)
    other = accept(street_officer, tree["grid_c"], t0, street_light)
    start, end = timezone.localdate(t0) - DAY, timezone.localdate(now)
    cases = {"A1": a1, "A2": a2, "A3": a3, "A4": a4, "B1": b1, "B2": b2, "B3": b3}
    cases.update(old=old, other=other)
    return {"cases": cases, "query": f"start={start:%Y-%m-%d}&end={end:%Y-%m-%d}"}


def table(html: str) -> list[list[str]]:
    """The cells of each body row of the first table, as text."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr.*?</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def _avg(*cases) -> str:
    return f"{sum(c.handling_hours for c in cases) / len(cases):.1f}"


def test_the_indicators_match_the_rates_computed_by_hand(client, known, community_worker, tree):
    c = known["cases"]
    login(client, community_worker)
    response = client.get(f"/cases/stats/?{known['query']}")
    assert response.status_code == 200
    assert response.context["node"] == tree["community"]  # the user's home node by default
    rows = {r[0]: r[1:] for r in table(response.content.decode())}
    # 受理 立案 结案 结案率 按期结案率 返工率 超期 平均时长 满意率
    assert rows["东门社区第1网格"] == [
        "4", "4", "3", "100.0%", "66.7%", "25.0%", "1", _avg(c["A1"], c["A2"], c["A3"]),
        "100.0%",
    ]  # 结案 3 / (4 − 1 按时待处置); 按期 2 / 3; 返工 1 / 4; 满意 2 / 2  # fmt: skip
    assert rows["东门社区第2网格"] == [
        "3", "2", "2", "100.0%", "100.0%", "0.0%", "0", _avg(c["B1"], c["B3"]), "50.0%",
    ]  # 受理 3, 立案 2: the cancelled one (注销) is not 立案; 满意 1 / 2  # fmt: skip
    assert rows["合计（东门社区）"] == [
        "7", "6", "5", "100.0%", "80.0%", "16.7%", "1",
        _avg(c["A1"], c["A2"], c["A3"], c["B1"], c["B3"]), "75.0%",
    ]  # fmt: skip
    assert c["A3"].level_node == tree["community"] and c["A3"].closed_on_time is False


def test_drilling_down_from_the_street_goes_to_its_communities(client, known, street_officer):
    login(client, street_officer)
    response = client.get(f"/cases/stats/?{known['query']}")
    html = response.content.decode()
    rows = {r[0]: r[1:] for r in table(html)}
    assert set(rows) == {"东门社区", "南苑社区", "合计（城关街道）"}
    assert rows["南苑社区"][:3] == ["1", "1", "0"]
    assert rows["合计（城关街道）"][0] == "8"
    assert f'href="?node=330188001001&amp;{known["query"].replace("&", "&amp;")}"' in html
    down = client.get(f"/cases/stats/?node=330188001001&{known['query']}")
    assert [r[0] for r in table(down.content.decode())] == [
        "东门社区第1网格", "东门社区第2网格", "合计（东门社区）",
    ]  # fmt: skip
    assert 'href="/cases/?node=330188001001001"' in down.content.decode()  # a grid: its cases


def test_a_node_outside_the_users_scope_answers_404(client, known, grid_b_worker, tree):
    login(client, grid_b_worker)
    for code in (tree["grid_a"].code, tree["community"].code, "330188", "x" * 300, "bogus"):
        assert client.get(f"/cases/stats/?node={code}").status_code == 404
        assert client.get(f"/cases/stats/export.xlsx?node={code}").status_code == 404
        assert client.get(f"/cases/ledger/?node={code}").status_code == 404
    assert client.get(f"/cases/stats/?node={tree['grid_b'].code}").status_code == 200


def test_someone_without_a_place_gets_a_message_and_strangers_must_log_in(client, outsider):
    assert client.get("/cases/stats/").status_code == 302
    assert client.get("/cases/ledger.xlsx").status_code == 302
    login(client, outsider)
    response = client.get("/cases/stats/")
    assert response.status_code == 200
    assert str(stats_views.ERR_NO_NODE) in response.content.decode()
    assert client.get("/cases/stats/export.xlsx").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-02-30", periods.ERR_DATE),
        ("start=abc&end=2026-01-01", periods.ERR_DATE),
        ("start=1899-01-01", periods.ERR_DATE_RANGE),
        ("start=2026-05-01&end=2026-04-01", periods.ERR_DATE_ORDER),
        ("start=2020-01-01&end=2026-01-01", periods.ERR_SPAN),
    ],
)
def test_bad_dates_get_a_chinese_message_and_the_default_period(
    client, community_worker, query, message
):
    login(client, community_worker)
    response = client.get(f"/cases/stats/?{query}")
    assert response.status_code == 200
    assert str(message) in response.content.decode()
    today = timezone.localdate()
    assert response.context["period"].start == today.replace(month=1, day=1)
    assert client.get(f"/cases/stats/export.xlsx?{query}").status_code == 400
    assert str(message) in client.get(f"/cases/ledger/?{query}").content.decode()


def test_the_presets_are_this_month_quarter_and_year(client, community_worker):
    login(client, community_worker)
    response = client.get("/cases/stats/")
    today = timezone.localdate()
    presets = {str(p["label"]): p for p in response.context["presets"]}
    assert set(presets) == {"本月", "本季度", "本年"}
    assert presets["本年"]["active"]  # the default period: this year to date
    assert f"start={today.replace(day=1):%Y-%m-%d}" in presets["本月"]["query"]
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    assert f"start={quarter:%Y-%m-%d}" in presets["本季度"]["query"]


def test_the_charts_use_the_vendored_echarts_and_embedded_data(client, known, community_worker):
    login(client, community_worker)
    html = client.get(f"/cases/stats/?{known['query']}").content.decode()
    assert '<script src="/static/vendor/echarts/echarts.min.js"></script>' in html
    assert "cdn" not in html.lower() and "https://" not in html
    data = json.loads(
        unescape(re.search(r'<script id="stats-data"[^>]*>(.*?)</script>', html, re.S)[1])
    )
    assert sum(data["accepted"]) == 7 and sum(data["closed"]) == 5
    assert len(data["months"]) == len(data["accepted"]) == len(data["closed"]) >= 2
    assert data["satisfaction"] == [
        {"name": "满意", "value": 2},
        {"name": "基本满意", "value": 1},
        {"name": "不满意", "value": 1},
    ]
    vendor = Path(settings.BASE_DIR) / "minqing" / "static" / "vendor" / "echarts"
    assert (vendor / "echarts.min.js").stat().st_size > 500_000
    assert "Apache License" in (vendor / "LICENSE").read_text()
    assert re.search(r"ECharts \d+\.\d+\.\d+", (vendor / "VERSION").read_text())


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(book.active.iter_rows(values_only=True))


def _stamp(rows) -> str:
    return "\n".join(str(r[0]) for r in rows if r and isinstance(r[0], str))


def test_the_stats_export_has_the_tables_numbers_a_stamp_and_an_audit_entry(
    client, known, community_worker
):
    login(client, community_worker)
    rows = _sheet(client.get(f"/cases/stats/export.xlsx?{known['query']}"))
    assert rows[0][:3] == ("区划", "编码", "受理数")
    by_name = {r[0]: r for r in rows[1:4]}
    assert by_name["合计（东门社区）"][2:9] == (7, 6, 5, 100.0, 80.0, 16.7, 1)
    assert by_name["东门社区第2网格"][10] == 50.0
    stamp = _stamp(rows)
    assert "导出人：community" in stamp and "导出时间：" in stamp and "范围：东门社区" in stamp
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT, actor=community_worker)
    assert entry.model == "cases.case" and "指标统计" in entry.object_repr


def test_the_ledger_lists_the_solved_cases_with_the_reporter_masked(
    client, known, community_worker
):
    login(client, community_worker)
    response = client.get(f"/cases/ledger/?{known['query']}")
    html = response.content.decode()
    c = known["cases"]
    numbers = [r[0] for r in table(html)]
    assert numbers == [c[k].number for k in ("A1", "B1", "A2", "B3", "A3")]  # by closing time
    assert c["old"].number not in html and c["A4"].number not in html  # out of the period/open
    assert c["B2"].number not in html  # cancelled is not solved
    row = table(html)[0]
    assert row[2] == "王大妈 138****5678" and "13812345678" not in html
    assert row[9] == "是" and row[10] == "满意"
    assert table(html)[-1][9] == "否" and table(html)[-1][10] == "未评价"


def test_the_ledger_page_reads_in_english_and_its_xlsx_stays_chinese(
    client, known, community_worker
):
    login(client, community_worker)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    rows = table(client.get(f"/cases/ledger/?{known['query']}", **en).content.decode())
    assert (rows[0][9], rows[0][10]) == ("Yes", "Satisfied")
    assert (rows[-1][9], rows[-1][10]) == ("No", "Not rated")
    sheet = _sheet(client.get(f"/cases/ledger.xlsx?{known['query']}", **en))
    data = [r for r in sheet[1:] if r[0] and re.fullmatch(r"\d{8}-\d{6}", str(r[0]))]
    assert {r[9] for r in data} == {"是", "否"} and "未评价" in {r[10] for r in data}
    assert "满意" in {r[10] for r in data}
    stats = client.get(f"/cases/stats/?{known['query']}", **en).content.decode()
    assert 'data-tip="{b}: {c} ({d}%)"' in stats


def test_the_ledger_xlsx_opens_masked_stamped_formula_safe_and_audited(
    client, known, community_worker
):
    login(client, community_worker)
    rows = _sheet(client.get(f"/cases/ledger.xlsx?{known['query']}"))
    assert rows[0] == (
        "案件编号", "受理日期", "反映人", "地点", "网格", "类别", "反映问题", "处理结果",
        "办结日期", "是否按期", "满意度",
    )  # fmt: skip
    c = known["cases"]
    data = {r[0]: r for r in rows[1:] if r[0] and re.fullmatch(r"\d{8}-\d{6}", str(r[0]))}
    assert set(data) == {c[k].number for k in ("A1", "A2", "A3", "B1", "B3")}
    a1 = data[c["A1"].number]
    assert a1[2] == "王大妈 138****5678" and a1[3] == "东门路3号" and a1[4] == "东门社区第1网格"
    assert isinstance(a1[1], datetime.datetime) and isinstance(a1[8], datetime.datetime)
    assert a1[7] == "已修好。" and a1[9] == "是" and a1[10] == "满意"
    assert data[c["A2"].number][6].startswith("'=HYPERLINK")  # neutralised, not a formula
    flat = " ".join(str(v) for r in rows for v in r if v is not None)
    assert "13812345678" not in flat and "13987654321" not in flat
    stamp = _stamp(rows)
    assert "导出人：community" in stamp and "导出时间：" in stamp and "范围：" in stamp
    assert "办结期间：" in stamp and "记录数：5" in stamp
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT, actor=community_worker)
    assert entry.object_repr == "民情实事解决台账（5条）"


def test_grid_b_ledger_does_not_contain_grid_a_cases(client, known, grid_b_worker):
    login(client, grid_b_worker)
    c = known["cases"]
    html = client.get(f"/cases/ledger/?{known['query']}").content.decode()
    assert [r[0] for r in table(html)] == [c["B1"].number, c["B3"].number]
    rows = _sheet(client.get(f"/cases/ledger.xlsx?{known['query']}"))
    flat = " ".join(str(v) for r in rows for v in r if v is not None)
    assert c["B1"].number in flat and c["B3"].number in flat
    for key in ("A1", "A2", "A3"):
        assert c[key].number not in html and c[key].number not in flat
    stats = client.get(f"/cases/stats/?{known['query']}")
    assert table(stats.content.decode()) == [
        ["合计（东门社区第2网格）", "3", "2", "2", "100.0%", "100.0%", "0.0%", "0",
         _avg(c["B1"], c["B3"]), "50.0%"],
    ]  # fmt: skip


def test_the_indicators_read_only_the_periods_cases_and_count_the_same(
    known, tree, community_worker
):
    """selectors.in_period narrows what is read to the cases registered or accepted in the
    period; every count is what the aggregate over all cases gives. One case is accepted
    before a period and registered in it, another accepted in it and registered after."""
    from minqing.cases import selectors
    from minqing.cases.models import Case
    from minqing.grids.models import Node, subtree_q

    now = timezone.now()
    early, late = known["cases"]["A1"], known["cases"]["B1"]
    Case.objects.filter(pk=early.pk).update(
        accepted_at=now - 60 * DAY, registered_at=now - 20 * DAY
    )
    Case.objects.filter(pk=late.pk).update(accepted_at=now - 40 * DAY, registered_at=now - 5 * DAY)
    community = tree["community"]
    below = Node.objects.filter(subtree_q(community.path)).values("pk")
    mine = selectors.cases_for(community_worker).filter(grid__in=below)
    today = timezone.localdate()
    seen = set()
    for days_back, days_long in [(45, 30), (25, 25), (70, 70), (300, 10), (1, 1), (61, 10)]:
        start = today - datetime.timedelta(days=days_back)
        end = start + datetime.timedelta(days=days_long)
        everything = selectors._indicators_of(
            Case.objects.aggregate(**selectors._counts(start, end, now))
        )
        assert selectors.indicators(Case.objects.all(), start, end, now=now) == everything
        total = selectors.indicators_by_child(community_worker, community, start, end)[-1][1]
        by_hand = selectors._indicators_of(mine.aggregate(**selectors._counts(start, end, now)))
        # avg_hours may differ in the last digit only if rounding did; the counts must not.
        assert total.as_dict() | {"avg_hours": None} == by_hand.as_dict() | {"avg_hours": None}
        seen.add((everything.accepted, everything.registered))
    # The periods did tell the two cases apart (not every answer zero or the same).
    assert len(seen) >= 3


def test_the_county_counts_its_own_cases_and_not_another_root_s(client, known, tree, admin_user):
    """Below the only root every case is the county's and no case is joined to the tree; with
    a second root each county counts its own."""
    county = tree["county"]
    start, end = (datetime.date.fromisoformat(v.split("=")[1]) for v in known["query"].split("&"))
    assert county.holds_every_node()
    assert indicators_by_child(admin_user, county, start, end)[-1][1].accepted == 8
    grid = grid_below(None, "330189", "邻")
    other_county = grid.parent.parent.parent
    accept(admin_user, grid, timezone.now() - 2 * DAY, known["cases"]["A1"].category)
    assert not county.holds_every_node() and not other_county.holds_every_node()
    assert indicators_by_child(admin_user, county, start, end)[-1][1].accepted == 8
    assert indicators_by_child(admin_user, other_county, start, end)[-1][1].accepted == 1
    login(client, admin_user)
    chart = client.get(f"/cases/stats/?node=330188&{known['query']}").context["chart"]
    assert sum(chart["accepted"]) == 8


def test_a_streets_indicators_read_its_places_as_one_array(known, street_officer):
    """A street's scope ORed with "dispatched to me", as one array, keeps both sides indexed
    (on the cases benchmark a street's year: 1.1 → 0.2 s); the numbers are the same."""
    t0 = timezone.now() - 31 * DAY
    with CaptureQueriesContext(connection) as captured:
        rows = indicators_by_child(street_officer, street_officer.assignments.get().node,
                                   timezone.localdate(t0), timezone.localdate())  # fmt: skip
    assert rows[-1][1].accepted == 8
    grouped = next(q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"])
    if connection.vendor == "postgresql":
        assert "ANY(ARRAY(" in grouped
    else:
        assert "ANY(" not in grouped


def test_a_report_may_use_parallel_workers_for_its_block_only(db, settings):
    def workers() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
            return cursor.fetchone()[0]

    if connection.vendor != "postgresql":
        with statements.with_workers():  # nothing to set
            pass
        return
    before = workers()
    settings.REPORT_PARALLEL_WORKERS = 3
    with statements.with_workers():
        assert workers() == "3"
    assert workers() == before
    settings.REPORT_PARALLEL_WORKERS = 0
    with statements.with_workers():
        assert workers() == before


def test_an_open_case_past_its_limit_counts_as_overdue_before_the_sweeper_comes(
    client, known, community_worker
):
    from minqing.cases.models import Case

    a4 = known["cases"]["A4"]
    Case.objects.filter(pk=a4.pk).update(deadline=timezone.now() - HOUR)  # not swept: late=False
    login(client, community_worker)
    rows = {
        r[0]: r[1:] for r in table(client.get(f"/cases/stats/?{known['query']}").content.decode())
    }
    assert rows["东门社区第1网格"][6] == "2"  # A3 (swept, late) and A4 (past due now)


def steps_table(html: str) -> dict[str, list[str]]:
    """The second table (环节指标): region → its cells."""
    second = html.split("<tbody>", 2)[2]
    return {r[0]: r[1:] for r in table("<tbody>" + second)}


def test_the_steps_table_counts_registration_dispatch_and_handling_on_time(
    client, known, community_worker
):
    login(client, community_worker)
    html = client.get(f"/cases/stats/?{known['query']}").content.decode()
    rows = steps_table(html)
    # 立案 按时立案率 派遣 准确派遣率 处置 按期处置率 结案 超期结案
    # Grid A: all registered on filing; A1–A3 handed over (A4 waits), none sent back; A3 fed
    # back three weeks late; A2 fed back twice, the last time on time.
    assert rows["东门社区第1网格"] == ["4", "100.0%", "3", "100.0%", "3", "66.7%", "3", "1"]
    assert rows["东门社区第2网格"] == ["2", "100.0%", "2", "100.0%", "2", "100.0%", "2", "0"]
    assert rows["合计（东门社区）"] == ["6", "100.0%", "5", "100.0%", "5", "80.0%", "5", "1"]
    assert "准确派遣率 = 未被退单的派遣案件数 ÷ 派遣数" in html


def test_a_late_registration_a_declined_dispatch_and_a_late_feedback_are_counted(
    client, tree, grid_a_worker, community_worker, street_light
):
    """A resident's report registered days after its 立案 limit, dispatched to the grid worker,
    sent back (退单), dispatched again and fed back after its handling limit."""
    from minqing.cases.models import Case

    t0 = timezone.now() - 40 * DAY
    case = services.case_accept(
        public=True,
        data={"category": street_light, "description": "路灯不亮。", "grid": tree["grid_a"]},
        now=t0,
    )
    case = act(community_worker, case, "register", t0 + 6 * DAY)
    case = act(community_worker, case, "dispatch", t0 + 6 * DAY + HOUR, target_user=grid_a_worker)
    case = act(grid_a_worker, case, "decline", t0 + 6 * DAY + 2 * HOUR, note="不归我管。")
    case = act(
        community_worker, case, "dispatch", t0 + 6 * DAY + 3 * HOUR, target_user=grid_a_worker
    )
    case = act(grid_a_worker, case, "start", t0 + 6 * DAY + 4 * HOUR)
    case = act(grid_a_worker, case, "feedback", t0 + 25 * DAY, note="已修好。")
    row = Case.objects.get(pk=case.pk)
    assert (row.registered_on_time, row.handled_on_time) == (False, False)
    assert (row.dispatch_count, row.decline_count) == (2, 1)
    start = timezone.localdate(t0) - DAY
    login(client, community_worker)
    query = f"start={start:%Y-%m-%d}&end={timezone.localdate():%Y-%m-%d}"
    rows = steps_table(client.get(f"/cases/stats/?{query}").content.decode())
    assert rows["东门社区第1网格"] == ["1", "0.0%", "1", "0.0%", "1", "0.0%", "0", "0"]
    sheet = _sheet(client.get(f"/cases/stats/export.xlsx?{query}"))
    head = sheet[0]
    grid = next(r for r in sheet if r[0] == "东门社区第1网格")
    by_head = dict(zip(head, grid, strict=False))
    assert by_head["按时立案率(%)"] == 0.0 and by_head["派遣数"] == 1
    assert by_head["准确派遣率(%)"] == 0.0 and by_head["按期处置率(%)"] == 0.0
    assert by_head["处置数"] == 1 and by_head["超期结案数"] == 0


def test_migration_0015_fills_in_the_counts_and_handling_of_earlier_cases(known):
    """Cases from before 0015: the counts from their events, 按期处置 from feedback time."""
    import importlib

    from django.apps import apps

    from minqing.cases.models import Case

    c = known["cases"]
    before = {
        r["pk"]: r
        for r in Case.objects.values("pk", "dispatch_count", "decline_count", "handled_on_time")
    }
    Case.objects.update(dispatch_count=0, decline_count=0, handled_on_time=None)
    migration = importlib.import_module("minqing.cases.migrations.0015_case_step_timeliness")
    migration.fill_in(apps, None)
    migration.fill_in(apps, None)  # twice: the same
    after = {
        r["pk"]: r
        for r in Case.objects.values("pk", "dispatch_count", "decline_count", "handled_on_time")
    }
    assert after == before
    assert after[c["B3"].pk]["dispatch_count"] == 2 and after[c["A4"].pk]["dispatch_count"] == 0
    assert after[c["A3"].pk]["handled_on_time"] is False


def test_a_case_closed_after_its_limit_counts_as_overdue_even_if_never_marked_late(
    client, known, community_worker
):
    """Fed back in time, checked after the handling limit: 超期结案, so 超期数 too (the
    sweeper marks stages late, and the check's own stage was not)."""
    from minqing.cases.models import Case

    a1 = known["cases"]["A1"]
    Case.objects.filter(pk=a1.pk).update(closed_on_time=False, late=False)
    login(client, community_worker)
    html = client.get(f"/cases/stats/?{known['query']}").content.decode()
    assert {r[0]: r[1:] for r in table(html)}["东门社区第1网格"][6] == "2"  # A3 and A1
    assert steps_table(html)["东门社区第1网格"][-1] == "2"
