"""学期报告: attendance per member, activities by kind, turns ending soon; the .xlsx export."""

import io
from datetime import datetime

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from minqing.core.models import AuditAction, AuditEntry
from minqing.secondments import selectors, services
from minqing.secondments.models import Activity
from minqing.secondments.tests.conftest import D, add_member


def activity(user, team, kind, day, members, participants=0, title="活动"):
    return services.activity_create(
        acting_user=user,
        secondment=team,
        data={"kind": kind, "date": day, "title": title, "members": members,
              "participants": participants},
    )  # fmt: skip


@pytest.fixture
def term_data(team, members, community_worker):
    """Autumn 2025: three days of attendance and four activities; one in spring 2026."""
    wang, li, zhao = members
    for day, statuses in [
        (D(2025, 9, 2), ("present", "present", "present")),
        (D(2025, 9, 3), ("present", "late", "absent")),
        (D(2025, 9, 4), ("present", "leave", "present")),
    ]:
        services.attendance_record(
            acting_user=community_worker,
            secondment=team,
            date=day,
            entries=[(m, s, "") for m, s in zip(members, statuses, strict=True)],
        )
    activity(community_worker, team, "open_class", D(2025, 9, 10), [li], 45, "分数的意义")
    activity(community_worker, team, "open_class", D(2025, 10, 10), [zhao], 40)
    activity(community_worker, team, "send_class", D(2025, 11, 5), [li, zhao], 120, "=送课下乡")
    activity(community_worker, team, "home_visit", D(2025, 12, 1), [wang, li], 3)
    activity(community_worker, team, "lecture", D(2026, 3, 2), [wang], 200)
    return members


def test_the_term_report_counts_what_happened_in_the_term(team, term_data):
    term = selectors.term_by_key(team, "2025-autumn")
    assert (term.start, term.end, term.label) == (D(2025, 8, 1), D(2026, 1, 31), "2025年秋季学期")
    report = selectors.term_report(team, start=term.start, end=term.end, label=term.label)
    lines = {line.member.name: line for line in report.lines}
    assert (lines["李梅"].present, lines["李梅"].late, lines["李梅"].leave) == (1, 1, 1)
    assert lines["李梅"].rate == pytest.approx(2 / 3)
    assert lines["赵刚"].absent == 1 and lines["赵刚"].rate == pytest.approx(2 / 3)
    assert lines["王强"].rate == 1.0
    assert (lines["王强"].activities, lines["李梅"].activities, lines["赵刚"].activities) == (
        1,
        3,
        2,
    )
    kinds = {k.kind: (k.count, k.participants) for k in report.kinds}
    assert kinds["open_class"] == (2, 85)
    assert kinds["send_class"] == (1, 120)
    assert kinds["home_visit"] == (1, 3)
    assert kinds["lecture"] == (0, 0)  # in the spring term
    assert report.activity_count == 4 and report.participants == 208
    assert report.totals.days == 9 and report.totals.rate == pytest.approx(7 / 9)
    # Turns end on 2026-08-31: not within 60 days of 31 January.
    assert report.ending_soon == []


def test_turns_ending_within_sixty_days_after_the_spring_term_are_listed(team, term_data):
    term = selectors.term_by_key(team, "2026-spring")
    report = selectors.term_report(team, start=term.start, end=term.end)
    assert [m.name for m in report.ending_soon] == ["王强", "李梅", "赵刚"]
    assert {k.kind: k.count for k in report.kinds}["lecture"] == 1


def test_the_terms_of_a_three_year_cycle():
    from minqing.secondments.models import Secondment

    team = Secondment(cycle_start=D(2025, 9, 1), cycle_end=D(2028, 8, 31))
    keys = [t.key for t in selectors.terms_of(team)]
    assert keys == [
        "2025-autumn", "2026-spring", "2026-autumn", "2027-spring", "2027-autumn",
        "2028-spring", "2028-autumn",
    ]  # fmt: skip
    assert selectors.term_of(D(2026, 1, 31)).key == "2025-autumn"
    assert selectors.term_of(D(2026, 2, 1)).key == "2026-spring"


def test_the_report_page_shows_the_numbers(client, community_worker, team, term_data):
    client.force_login(community_worker)
    page = client.get(f"/secondments/{team.pk}/report/?term=2025-autumn").content.decode()
    assert "2025年秋季学期" in page
    assert "66.7%" in page and "77.8%" in page  # 李梅, and the team
    assert (
        'id="kind-open_class"><td>公开课</td><td class="num">2</td><td class="num">85</td>' in page
    )


@pytest.mark.parametrize(
    "query",
    ["term=1999-spring", "start=2025-09-01&end=2025-08-01", "start=2025-01-01&end=2026-06-01",
     "start=bad&end=2025-01-01"],
)  # fmt: skip
def test_a_bad_report_range_answers_400_with_a_message(client, community_worker, team, query):
    client.force_login(community_worker)
    response = client.get(f"/secondments/{team.pk}/report/?{query}")
    assert response.status_code == 400
    assert "errorlist-box" in response.content.decode()
    xlsx = client.get(f"/secondments/{team.pk}/report.xlsx?{query}")
    assert xlsx.status_code == 302


def test_the_report_exports_to_xlsx_stamped_neutralised_and_audited(
    client, community_worker, team, term_data
):
    client.force_login(community_worker)
    response = client.get(f"/secondments/{team.pk}/report.xlsx?term=2025-autumn")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["出勤统计", "活动统计", "活动明细", "轮换到期"]
    ws = wb["出勤统计"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[3][:3] == ["姓名", "角色", "学科/专长"]
    li = next(r for r in rows if r[0] == "李梅")
    assert li[5:11] == [3, 1, 1, 1, 0, "66.7%"]
    total = next(r for r in rows if r[0] == "合计")
    assert total[5] == 9 and total[10] == "77.8%"
    texts = [str(v) for r in rows for v in r if v]
    assert any(t.startswith("导出人：community") for t in texts)
    assert any(t.startswith("范围：") and "2025年秋季学期" in t for t in texts)
    detail = [[c.value for c in row] for row in wb["活动明细"].iter_rows()]
    assert [datetime(2025, 11, 5), "送课下乡", "'=送课下乡"] in [r[:3] for r in detail]
    assert wb["活动明细"]["A5"].number_format == "yyyy-mm-dd"  # a date cell, not text
    kinds = {r[0]: r[1:] for r in [[c.value for c in row] for row in wb["活动统计"].iter_rows()]}
    assert kinds["公开课"] == [2, 85] and kinds["合计"] == [4, 208]
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.model == "secondments.secondment" and entry.object_id == str(team.pk)
    assert entry.node == team.node


def test_an_activity_needs_members_on_turn_inside_the_cycle(team, members, community_worker):
    later = add_member(team, community_worker, "冯新", start=D(2026, 1, 1))
    bad = [
        ({"kind": "dance"}, "kind", services.ERR_ACTIVITY_KIND),
        ({"members": []}, "members", services.ERR_ACTIVITY_MEMBERS),
        ({"members": [later]}, "members", services.ERR_NOT_ON_TURN.format(name="冯新", date="2025-09-10")),
        ({"participants": -1}, "participants", services.ERR_PARTICIPANTS),
        ({"participants": 10**6}, "participants", services.ERR_PARTICIPANTS),
        ({"title": " "}, "title", services.ERR_REQUIRED),
        ({"date": D(2099, 1, 1)}, "date", services.ERR_DATE_FUTURE),
    ]  # fmt: skip
    for change, field, message in bad:
        data = {"kind": "open_class", "date": D(2025, 9, 10), "title": "公开课",
                "members": [members[1]], **change}  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            services.activity_create(acting_user=community_worker, secondment=team, data=data)
        assert exc.value.message_dict[field] == [message], change
    assert not Activity.objects.exists()


def test_term_names_follow_the_ui_language_and_the_ledger_stays_chinese(
    client, community_worker, team, term_data
):
    from django.utils import translation

    term = selectors.term_by_key(team, "2025-autumn")
    with translation.override("en"):
        assert str(term.label) == "Autumn term 2025"
        assert str(selectors.term_by_key(team, "2026-spring").label) == "Spring term 2026"
    client.force_login(community_worker)
    client.cookies["django_language"] = "en"
    page = client.get(f"/secondments/{team.pk}/report/?term=2025-autumn").content.decode()
    assert "Autumn term 2025" in page and "2025年秋季学期" not in page
    api = client.get(
        f"/api/secondments/{team.pk}/report?term=2025-autumn", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert api.json()["label"] == "Autumn term 2025"
    export = client.get(f"/secondments/{team.pk}/report.xlsx?term=2025-autumn")
    wb = openpyxl.load_workbook(io.BytesIO(export.content))
    texts = [str(c.value) for row in wb["出勤统计"].iter_rows() for c in row if c.value]
    assert any(t.startswith("范围：") and "2025年秋季学期" in t for t in texts)
    assert "Autumn" not in " ".join(texts)


def test_a_past_terms_turns_are_marked_as_ended_not_ending(client, community_worker, team):
    """The 2025 autumn term lies in the past: a turn that ended in it has ended."""
    from minqing.secondments.tests.conftest import add_member

    add_member(team, community_worker, "周老师", end=D(2026, 1, 20))
    client.force_login(community_worker)
    page = client.get(f"/secondments/{team.pk}/report/?term=2025-autumn").content.decode()
    section = page[page.index("轮换期满") :]
    assert "周老师" in section and "已期满" in section and "即将期满" not in page


@pytest.fixture
def clinic_team(community_worker, tree):
    return services.secondment_create(
        acting_user=community_worker,
        data={"kind": "medical", "sending_name": "县人民医院", "receiving_name": "东门村卫生室",
              "node": tree["grid_a"], "cycle_start": D(2025, 9, 1)},
    )  # fmt: skip


def test_a_medical_team_reports_by_half_year_not_school_term(clinic_team):
    keys = [t.key for t in selectors.terms_of(clinic_team)]
    assert keys[:3] == ["2025-h2", "2026-h1", "2026-h2"]
    assert keys[-1] == "2028-h2"  # the cycle ends 31 Aug 2028
    first = selectors.term_by_key(clinic_team, "2026-h1")
    assert (first.start, first.end, str(first.label)) == (
        D(2026, 1, 1),
        D(2026, 6, 30),
        "2026年上半年",
    )
    assert selectors.term_by_key(clinic_team, "2025-autumn") is None
    assert str(clinic_team.report_name) == "半年报告"


def test_a_medical_teams_pages_speak_of_doctors_and_half_years(
    client, community_worker, clinic_team
):
    client.force_login(community_worker)
    detail = client.get(f"/secondments/{clinic_team.pk}/").content.decode()
    assert "半年报告" in detail and "学期" not in detail
    report = client.get(f"/secondments/{clinic_team.pk}/report/?term=2025-h2").content.decode()
    assert "2025年下半年" in report and "学期" not in report
    member_form = client.get(f"/secondments/{clinic_team.pk}/members/new/").content.decode()
    assert 'value="doctor"' in member_form and 'value="teacher"' not in member_form
    add_member(clinic_team, community_worker, "孙医生", role="doctor", start=D(2025, 9, 1))
    activity_form = client.get(f"/secondments/{clinic_team.pk}/activities/new/").content.decode()
    assert 'value="clinic"' in activity_form and 'value="open_class"' not in activity_form
    xlsx = client.get(f"/secondments/{clinic_team.pk}/report.xlsx?term=2025-h2")
    assert "%E5%8D%8A%E5%B9%B4%E6%8A%A5%E5%91%8A" in xlsx["Content-Disposition"]  # 半年报告
    title = openpyxl.load_workbook(io.BytesIO(xlsx.content))["出勤统计"]["A1"].value
    assert "2025年下半年 半年报告" in title


def test_a_school_teams_member_form_offers_teachers_not_doctors(client, community_worker, team):
    client.force_login(community_worker)
    page = client.get(f"/secondments/{team.pk}/members/new/").content.decode()
    assert 'value="teacher"' in page and 'value="doctor"' not in page


def test_the_report_stays_chinese_for_an_english_reader(client, community_worker, team, term_data):
    """QA (English UI): 角色 read "Team leader" / "Teacher" and 类型 "Open lesson" in an
    otherwise Chinese ledger when exported from the English pages."""
    client.force_login(community_worker)
    response = client.get(
        f"/secondments/{team.pk}/report.xlsx?term=2025-autumn", HTTP_ACCEPT_LANGUAGE="en"
    )
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    values = {str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value}
    assert "公开课" in values and not {"Open lesson", "Team leader", "Teacher"} & values
    assert any(v in values for v in ("队长", "组长", "教师"))
