"""Next year's holidays read from the State Council's notice (core.holiday_notice): the parser,
writing the days, the admin's 从国务院通知导入 and the command. 2031 is a year no
chinese-calendar release knows, so the days read are all the calendar has for it."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from minqing.core import workdays
from minqing.core.holiday_notice import apply_notice, counts, parse_notice
from minqing.core.models import AuditEntry, WorkdayOverride

# A notice in the official form, for a year of our own.
NOTICE = """国务院办公厅关于2031年部分节假日安排的通知
国办发明电〔2030〕0号

各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2031年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月22日（农历除夕、周三）至1月29日（农历正月初七、周三）放假调休，共8天。1月19日（周日）、2月8日（周六）上班。
三、清明节：4月5日（周六）至7日（周一）放假，共3天。
四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
五、端午节：6月2日（周一）放假，与周末连休。
六、中秋节、国庆节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫、疫情防控等工作。
国务院办公厅
2030年11月30日
"""


def days_of(notice) -> dict:
    return {d.date: (d.is_working_day, d.name) for d in notice.days}


def test_the_notice_gives_every_day_off_and_every_make_up_day():
    notice = parse_notice(NOTICE, 2031)
    assert notice.problems == []
    days = days_of(notice)
    off = sorted(d for d, (working, _name) in days.items() if not working)
    working = sorted(d for d, (w, _name) in days.items() if w)
    assert working == [
        dt.date(2031, 1, 19),
        dt.date(2031, 2, 8),
        dt.date(2031, 4, 27),
        dt.date(2031, 9, 28),
        dt.date(2031, 10, 11),
    ]
    assert len(off) == 1 + 8 + 3 + 5 + 1 + 8
    assert dt.date(2031, 1, 22) in off and dt.date(2031, 1, 29) in off  # a range over days
    assert dt.date(2031, 4, 7) in off  # "至7日": the start's month
    assert days[dt.date(2031, 10, 8)] == (False, "2031年中秋节、国庆节")
    assert days[dt.date(2031, 1, 1)] == (False, "2031年元旦")


def test_a_range_across_the_new_year_and_a_compensatory_day():
    notice = parse_notice("一、元旦：2030年12月30日至2031年1月1日放假调休，共3天。", 2031)
    assert [d.date for d in notice.days] == [
        dt.date(2030, 12, 30),
        dt.date(2030, 12, 31),
        dt.date(2031, 1, 1),
    ]
    notice = parse_notice("一、元旦：1月1日放假，1月2日（星期四）补休。", 2031)
    assert days_of(notice) == {
        dt.date(2031, 1, 1): (False, "2031年元旦"),
        dt.date(2031, 1, 2): (False, "2031年元旦"),
    }


@pytest.mark.parametrize(
    "text, problem",
    [
        ("二、春节：2月30日放假。", "2月30日"),
        ("三、清明节：放假，共3天。", "没有读出日期"),
        ("四、劳动节：5月1日放假，4月27日上班。", "既有放假又有上班"),
        ("四、劳动节：5月1日放假。\n五、劳动节补：5月1日上班。", "既放假又上班"),
        ("四、劳动节：5月9日至1日放假。", "日期范围"),
        ("国务院办公厅关于节假日安排的通知", "没有读出任何"),
        ("", "没有读出任何"),
    ],
)
def test_what_cannot_be_read_is_said_not_guessed(text, problem):
    notice = parse_notice(text, 2031)
    assert any(problem in p for p in notice.problems), notice.problems


def test_writing_the_days_is_idempotent_and_the_calendar_follows(db):
    workdays.clear_cache()
    assert workdays.is_working_day(dt.date(2031, 1, 22))  # a Wednesday, unknown year
    assert not workdays.is_working_day(dt.date(2031, 1, 19))  # a Sunday
    notice = parse_notice(NOTICE, 2031)
    assert counts(apply_notice(notice)) == (len(notice.days), 0)
    assert apply_notice(parse_notice(NOTICE, 2031)) == []
    workdays.clear_cache()
    assert not workdays.is_working_day(dt.date(2031, 1, 22))
    assert workdays.is_working_day(dt.date(2031, 1, 19))  # 调休上班
    # Friday 17 January + 3 working days: Sunday the 19th (make-up day), Monday, Tuesday.
    assert workdays.add_working_days(dt.date(2031, 1, 17), 3) == dt.date(2031, 1, 21)
    # A day entered by hand differently is put right by the notice.
    WorkdayOverride.objects.filter(date=dt.date(2031, 1, 19)).update(is_working_day=False)
    [(row, before)] = apply_notice(parse_notice(NOTICE, 2031))
    assert row.is_working_day and before == {"is_working_day": False, "name": "2031年春节"}
    workdays.clear_cache()


def test_the_admin_reads_checks_and_writes_the_notice(client, admin_user):
    client.force_login(admin_user)
    listing = client.get("/admin/core/workdayoverride/").content.decode()
    url = "/admin/core/workdayoverride/import-notice/"
    assert f'href="{url}"' in listing
    assert client.get(url).status_code == 200

    bad = client.post(url, {"year": 2031, "text": "二、春节：2月30日放假。", "confirm": "1"})
    assert bad.status_code == 200 and "2月30日" in bad.content.decode()
    assert 'name="confirm"' not in bad.content.decode()
    assert not WorkdayOverride.objects.exists()

    preview = client.post(url, {"year": 2031, "text": NOTICE, "preview": "1"})
    page = preview.content.decode()
    assert "2031-01-19" in page and 'name="confirm"' in page and "确认写入 31 天" in page
    assert not WorkdayOverride.objects.exists()

    done = client.post(url, {"year": 2031, "text": NOTICE, "confirm": "1"}, follow=True)
    assert "新增 31 天" in done.content.decode()
    assert WorkdayOverride.objects.count() == 31
    assert WorkdayOverride.objects.get(date=dt.date(2031, 2, 8)).is_working_day
    assert AuditEntry.objects.filter(model="core.workdayoverride", actor=admin_user).count() == 31
    again = client.post(url, {"year": 2031, "text": NOTICE, "preview": "1"}).content.decode()
    assert "已有，将更新" in again
    client.post(url, {"year": 2031, "text": NOTICE, "confirm": "1"})  # nothing new to write
    assert AuditEntry.objects.filter(model="core.workdayoverride").count() == 31
    workdays.clear_cache()


def test_a_grid_worker_may_not_import(client, grid_a_worker):
    client.force_login(grid_a_worker)
    r = client.post(
        "/admin/core/workdayoverride/import-notice/", {"year": 2031, "text": NOTICE, "confirm": "1"}
    )
    assert r.status_code in (302, 403)
    assert not WorkdayOverride.objects.exists()


def test_the_command(tmp_path, db, capsys):
    path = tmp_path / "notice.txt"
    path.write_text(NOTICE, encoding="utf-8")
    call_command("import_holiday_notice", str(path), "--year", "2031", "--dry-run")
    assert "2031-01-19 上班 2031年春节" in capsys.readouterr().out
    assert not WorkdayOverride.objects.exists()
    call_command("import_holiday_notice", str(path), "--year", "2031")
    assert "created=31 updated=0" in capsys.readouterr().out
    path.write_text("二、春节：2月30日放假。", encoding="utf-8")
    with pytest.raises(CommandError, match="2月30日"):
        call_command("import_holiday_notice", str(path), "--year", "2031")
    with pytest.raises(CommandError):
        call_command("import_holiday_notice", str(tmp_path / "missing.txt"), "--year", "2031")
    workdays.clear_cache()


def test_the_home_page_asks_those_who_keep_the_calendar_for_a_missing_year(
    client, admin_user, grid_a_worker, monkeypatch
):
    """A year no chinese-calendar release knows and nobody has entered shows on the home page of
    those who may fill the table (2030 and 2031: no release knows them)."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2030, 11, 28))
    link = 'href="/admin/core/workdayoverride/import-notice/"'
    client.force_login(grid_a_worker)
    assert link not in client.get("/").content.decode()
    client.force_login(admin_user)
    page = client.get("/").content.decode()
    assert "2030 年的节假日安排尚未录入" in page and link in page
    WorkdayOverride.objects.create(date=dt.date(2030, 10, 1), is_working_day=False, name="国庆")
    assert "2031 年的节假日安排尚未录入" in client.get("/").content.decode()  # from November
    apply_notice(parse_notice(NOTICE, 2031))
    assert link not in client.get("/").content.decode()
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2030, 10, 28))
    WorkdayOverride.objects.filter(date__year=2031).delete()
    assert link not in client.get("/").content.decode()  # next year matters from November
    workdays.clear_cache()
