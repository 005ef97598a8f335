"""The holder's phone page: linked places with this month's ticks, recording a day in the
community, clear errors for bad input; the office's report with its month picker."""

import datetime as dt

from django.utils import timezone

from minqing.core.models import AuditAction, AuditEntry
from minqing.duties.models import DutyDay
from minqing.duties.selectors import ERR_MONTH, ERR_MONTH_FUTURE
from minqing.duties.services import ERR_DAY_COMMUNITY, ERR_DAY_DUPLICATE, ERR_DAY_FUTURE

from .conftest import at, visit


def _day_post(client, day, community, **extra):
    return client.post(
        "/duties/days/",
        {
            "date": f"{day:%Y-%m-%d}",
            "community": community.pk,
            "kind": "stay",
            "note": "走访",
            **extra,
        },
    )


def test_my_duties_show_the_links_with_this_months_visits(client, zhao, zhao_duty):
    hh = zhao_duty.links.get(kind="household").household
    visit(hh, [zhao], timezone.now())
    client.force_login(zhao)

    page = client.get("/duties/").content.decode()

    assert "我的联系任务" in page and "东门社区" in page
    assert page.count('class="tick"') == 1 and page.count('class="cross"') == 3
    assert f"/visits/new/?household={hh.pk}" in page
    assert "本月履职情况" not in page  # a 仅本人 cadre is no office


def test_a_holder_records_a_day_in_their_community(client, zhao, zhao_duty, tree):
    client.force_login(zhao)
    today = timezone.localdate()

    response = _day_post(client, today, tree["community"])

    assert response.status_code == 302 and response["Location"] == "/duties/"
    day = DutyDay.objects.get()
    assert (day.holder, day.date, day.community, day.created_by) == (
        zhao_duty,
        today,
        tree["community"],
        zhao,
    )
    entry = AuditEntry.objects.get(model="duties.dutyday")
    assert entry.action == AuditAction.CREATE and entry.actor == zhao
    assert today.strftime("%Y-%m-%d") in client.get("/duties/").content.decode()


def test_a_second_day_on_the_same_date_is_refused_clearly(client, zhao, zhao_duty, tree):
    client.force_login(zhao)
    today = timezone.localdate()
    _day_post(client, today, tree["community"])

    response = _day_post(client, today, tree["community"])

    assert response.status_code == 400
    assert ERR_DAY_DUPLICATE.format(date=today) in response.content.decode()
    assert DutyDay.objects.count() == 1


def test_bad_days_are_refused_with_a_reason(client, zhao, zhao_duty, tree):
    client.force_login(zhao)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    future = _day_post(client, tomorrow, tree["community"])
    assert future.status_code == 400 and str(ERR_DAY_FUTURE) in future.content.decode()
    # The linked community is linked on a valid date: a wrong date is the one reason given.
    assert "只能记录在您的联系社区" not in future.content.decode()
    elsewhere = _day_post(client, timezone.localdate(), tree["other_community"])
    assert elsewhere.status_code == 400 and "只能记录在您的联系社区" in elsewhere.content.decode()
    garbage = client.post("/duties/days/", {"date": "31/02/2026", "community": "x", "kind": "?"})
    assert garbage.status_code == 400 and "日期格式应为" in garbage.content.decode()
    assert not DutyDay.objects.exists()


def test_the_service_refuses_a_community_that_is_not_linked(zhao, zhao_duty, tree):
    import pytest
    from django.core.exceptions import ValidationError

    from minqing.duties.services import day_record

    with pytest.raises(ValidationError) as exc:
        day_record(acting_user=zhao, date=timezone.localdate(), community=tree["other_community"])
    assert exc.value.message_dict == {"community": [ERR_DAY_COMMUNITY]}


def test_a_holder_deletes_their_own_day_only(client, zhao, qian, zhao_duty, tree):
    day = DutyDay.objects.create(
        holder=zhao_duty, community=tree["community"], date=timezone.localdate()
    )
    client.force_login(qian)
    assert client.post(f"/duties/days/{day.pk}/delete/").status_code == 404
    client.force_login(zhao)
    assert client.post(f"/duties/days/{day.pk}/delete/").status_code == 302
    assert not DutyDay.objects.exists()
    assert AuditEntry.objects.filter(model="duties.dutyday", action=AuditAction.DELETE).exists()


def test_someone_without_duties_cannot_record_a_day(client, qian, tree):
    client.force_login(qian)
    assert _day_post(client, timezone.localdate(), tree["community"]).status_code == 404


def test_the_report_refuses_bad_and_future_months(client, county_officer, zhao_duty):
    client.force_login(county_officer)
    bad = client.get("/duties/report/?month=2026-13")
    assert bad.status_code == 400 and str(ERR_MONTH) in bad.content.decode()
    junk = client.get("/duties/report/?month=%27%3Bdrop")
    assert junk.status_code == 400 and str(ERR_MONTH) in junk.content.decode()
    nxt = (timezone.localdate().replace(day=28) + dt.timedelta(days=5)).replace(day=1)
    future = client.get(f"/duties/report/?month={nxt:%Y-%m}")
    assert future.status_code == 400 and str(ERR_MONTH_FUTURE) in future.content.decode()
    assert client.get(f"/duties/report.xlsx?month={nxt:%Y-%m}").status_code == 400
    assert client.get("/duties/holders/999999999/").status_code == 404


def test_an_office_sees_the_report_with_gaps_in_red(client, county_officer, zhao_duty):
    client.force_login(county_officer)
    page = client.get("/duties/").content.decode()
    assert "本月履职情况" in page and "县民政局" in page
    report = client.get("/duties/report/").content.decode()
    assert "zhao" in report and 'class="q gap"' in report  # no visit yet this month
    assert "走访差4" in report


def test_an_office_without_holders_shows_no_rate_not_100_percent(client, community_worker):
    client.force_login(community_worker)
    page = client.get("/duties/").content.decode()
    assert "<b>100%</b>" not in page and "<b>—</b>" in page


def test_the_home_card_shows_this_months_duties_to_a_holder_only(client, zhao, qian, zhao_duty):
    client.force_login(zhao)
    home = client.get("/").content.decode()
    assert 'id="duties-card"' in home and "其他干部" in home
    client.force_login(qian)
    assert 'id="duties-card"' not in client.get("/").content.decode()


def test_a_holder_detail_page_shows_a_past_month(client, county_officer, zhao_duty):
    from .conftest import last_month

    start, _ = last_month()
    hh = zhao_duty.links.get(kind="household").household
    visit(hh, [zhao_duty.user], at(start + dt.timedelta(days=2)))
    client.force_login(county_officer)
    page = client.get(f"/duties/holders/{zhao_duty.pk}/?month={start:%Y-%m}").content.decode()
    assert page.count('class="tick"') == 1 and f"{start + dt.timedelta(days=2):%Y-%m-%d}" in page


def test_a_big_report_shows_units_and_narrows_to_one(
    client, county_officer, zhao, qian, tree, monkeypatch
):
    from minqing.duties import views

    from .conftest import holder

    holder(zhao, "cadre", tree["county"], unit="县民政局")
    holder(qian, "cadre", tree["county"], unit="县人社局")
    monkeypatch.setattr(views, "MAX_ROWS", 1)
    client.force_login(county_officer)

    summary = client.get("/duties/report/").content.decode()
    assert "页面按单位汇总" in summary and "/duties/holders/" not in summary
    assert "unit=%E5%8E%BF%E6%B0%91%E6%94%BF%E5%B1%80" in summary  # a link to 县民政局's rows
    one = client.get("/duties/report/?unit=县人社局").content.decode()
    assert "qian" in one and ">zhao<" not in one and "/duties/holders/" in one
    sheet_query = "unit=%E5%8E%BF%E4%BA%BA%E7%A4%BE%E5%B1%80"
    assert "/duties/report.xlsx?month=" in one and sheet_query in one
    none_ok = client.get("/duties/report/?gaps=1&unit=县人社局").content.decode()
    assert "qian" in none_ok  # nothing linked: a gap


def test_the_holder_page_lists_the_months_of_the_duty(client, zhao, zhao_duty):
    from .conftest import months_ago

    client.force_login(zhao)
    page = client.get(f"/duties/holders/{zhao_duty.pk}/").content.decode()
    history = page[page.index('id="history"') :]
    # the duty started three months ago: this month and the three before it, no earlier
    assert history.count("?month=") == 4
    before = months_ago(4)
    assert f"?month={before:%Y-%m}" not in history
    before_start = client.get(f"/duties/holders/{zhao_duty.pk}/?month={before:%Y-%m}")
    assert before_start.status_code == 200
    assert "该月不在此干部的联系任务期间内" in before_start.content.decode()


def test_gaps_read_in_the_pages_language(client, tree):
    """The ledger keeps 走访差1 in Chinese; an English page says it in English."""
    from minqing.duties.selectors import Line

    line = Line(holder=None)
    line.owed["visits"], line.owed["days"] = 3, 2
    from django.utils import translation

    with translation.override("en"):
        assert line.gap_text == "days in a community: 2 short, visits: 3 short"
    with translation.override("zh-hans"):
        assert line.gap_text == "驻社区天数差2天、走访差3"
    assert line.gap_words == "驻社区天数差2天，走访差3"


def test_a_count_without_a_quota_shows_no_slash_zero(db):
    """A secretary's days in the community when the rule asks for none: "1", not "1/0"."""
    from django.template.loader import render_to_string

    cells = [{"kind": "days", "done": 1, "owed": 0, "gap": 0}]
    html = render_to_string("duties/_quota_stats.html", {"line": {"cells": cells}})
    assert "<b>1</b>" in html and "/0" not in html
    cells = [{"kind": "days", "done": 1, "owed": 4, "gap": 3}]
    html = render_to_string("duties/_quota_stats.html", {"line": {"cells": cells}})
    assert '<b>1<small class="muted">/4</small></b>' in html
