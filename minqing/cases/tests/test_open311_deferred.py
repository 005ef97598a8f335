"""Deferred Open311 clients: a token at once, the case filed after, exactly once.

Over real HTTP (the Django test client) and the real command; the last part runs on PostgreSQL
only: several filers at once, each report filed by exactly one of them.
"""

import io
import threading
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from minqing.cases import intake, services
from minqing.cases.models import Case, Category, IntakeState, Open311Intake, Status
from minqing.cases.tests.test_open311 import BASE, FULL_NAME, NAME, PHONE, assert_error, js, post
from minqing.cases.tests.test_open311 import app as app  # noqa: F401 (fixture)
from minqing.core.models import AuditEntry


@pytest.fixture(autouse=True)
def _shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def bulk(app):  # noqa: F811
    """The client of a 12345 platform that pushes reports in bulk: deferred intake."""
    app.deferred = True
    app.save()
    return app


def raw_column(report: Open311Intake, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM cases_open311intake WHERE id = %s", [report.pk])
        return str(cursor.fetchone()[0])


def test_a_deferred_post_answers_a_token_and_files_nothing_yet(client, bulk, tree):
    response = post(client, first_name=NAME, last_name="李", phone=PHONE)
    assert response.status_code == 200
    body = js(response)
    assert len(body) == 1 and "service_request_id" not in body[0]
    assert body[0]["account_id"] is None and "token" in body[0]["service_notice"]
    report = Open311Intake.objects.get(token=body[0]["token"])
    assert report.state == IntakeState.WAITING and report.client == bulk
    assert report.data["category"] == "0601" and report.data["reporter_name"] == FULL_NAME
    assert report.reporter_phone == PHONE
    assert PHONE not in raw_column(report, "reporter_phone")  # encrypted at rest
    assert PHONE not in raw_column(report, "data")
    assert not Case.objects.exists()


def test_a_deferred_post_checks_the_report_at_once(client, bulk, tree):
    assert "电话" in assert_error(post(client, phone="12345"), 400)
    assert_error(post(client, description="长" * 4001), 400)
    assert_error(post(client, service_code="9999"), 404)
    assert_error(post(client, lat=None, long=None), 400)
    assert not Open311Intake.objects.exists()


def test_filing_makes_the_case_with_the_token_and_the_time_of_the_report(client, bulk, tree):
    # given: a report received ten minutes ago
    token = js(post(client, first_name=NAME, last_name="李", phone=PHONE))[0]["token"]
    received = timezone.now() - timedelta(minutes=10)
    Open311Intake.objects.filter(token=token).update(received_at=received)
    # when
    out = io.StringIO()
    call_command("file_open311_reports", stdout=out)
    # then: the case is what a synchronous POST makes, numbered and clocked from the report
    assert "filed=1 failed=0" in out.getvalue()
    case = Case.objects.get(token=token)
    assert case.accepted_at == received and case.number.startswith(
        f"{timezone.localtime(received):%Y%m%d}-"
    )
    assert case.grid == tree["grid_a"] and case.status == Status.ACCEPTED
    assert case.reporter_name == FULL_NAME and case.reporter_phone == PHONE
    assert case.source_client == "随手拍" and case.events.get().actor_label == "随手拍"
    report = Open311Intake.objects.get(token=token)
    assert report.state == IntakeState.FILED and report.case == case and report.filed_at
    assert report.data == {} and report.reporter_phone == ""  # the case holds them now
    # and the client finds its number by the token, in both formats
    assert js(client.get(f"{BASE}tokens/{token}.json")) == [
        {"service_request_id": case.number, "token": token}
    ]
    assert js(client.get(f"{BASE}requests/{case.number}.json"))[0]["service_request_id"] == (
        case.number
    )


def test_the_sweeper_files_waiting_reports_too_as_a_safety_net(client, bulk, tree):
    token = js(post(client))[0]["token"]
    out = io.StringIO()
    call_command("sweep_deadlines", stdout=out)
    assert "open311_filed=1 open311_failed=0" in out.getvalue()
    assert Case.objects.filter(token=token).exists()
    out = io.StringIO()
    call_command("sweep_deadlines", stdout=out)
    assert "open311" not in out.getvalue()  # nothing waiting: the sweeper's one line only


def test_filing_again_files_nothing_twice(client, bulk, tree):
    for _ in range(3):
        post(client)
    assert intake.file_waiting() == intake.Filing(filed=3, failed=0)
    assert intake.file_waiting() == intake.Filing(filed=0, failed=0)
    out = io.StringIO()
    call_command("file_open311_reports", stdout=out)
    assert "filed=0 failed=0" in out.getvalue()
    assert Case.objects.count() == 3


def test_a_limit_files_the_oldest_first(client, bulk, tree):
    tokens = [js(post(client, description=f"第{i}盏路灯不亮。"))[0]["token"] for i in range(3)]
    assert intake.file_waiting(limit=2) == intake.Filing(filed=2, failed=0)
    assert set(Case.objects.values_list("token", flat=True)) == set(tokens[:2])
    assert Open311Intake.objects.get(token=tokens[2]).state == IntakeState.WAITING


def test_asking_for_a_waiting_token_files_that_report_on_the_spot(client, bulk, tree):
    token = js(post(client, phone=PHONE))[0]["token"]
    other = js(post(client))[0]["token"]
    body = js(client.get(f"{BASE}tokens/{token}.json"))
    case = Case.objects.get(token=token)
    assert body == [{"service_request_id": case.number, "token": token}]
    assert Open311Intake.objects.get(token=other).state == IntakeState.WAITING  # only that one


def test_a_token_still_being_filed_answers_without_a_number(client, bulk, tree, monkeypatch):
    token = js(post(client))[0]["token"]
    monkeypatch.setattr(intake, "file_token", lambda token: None)  # another worker holds it
    assert js(client.get(f"{BASE}tokens/{token}.json")) == [
        {"service_request_id": None, "token": token}
    ]
    root = client.get(f"{BASE}tokens/{token}.xml")
    assert b"<token>" + token.encode() + b"</token>" in root.content


def test_a_report_whose_filer_died_is_taken_again_and_filed_once(client, bulk, tree):
    # given: two reports a filer took and died on — one before it wrote the case, one after
    before, after = (
        js(post(client, description=d))[0]["token"] for d in ("井盖缺失。", "路灯坏了。")
    )
    long_ago = timezone.now() - intake.STALE_CLAIM - timedelta(seconds=1)
    Open311Intake.objects.filter(token__in=[before, after]).update(
        state=IntakeState.FILING, claimed_at=long_ago
    )
    report = Open311Intake.objects.get(token=after)
    data = dict(report.data, category=Category.objects.get(code=report.data["category"]))
    case = services.case_accept(acting_user=None, public=True, data=data, token=after)
    # and a third taken a moment ago by a filer still at work
    busy = js(post(client, description="噪音扰民。"))[0]["token"]
    Open311Intake.objects.filter(token=busy).update(
        state=IntakeState.FILING, claimed_at=timezone.now()
    )
    # when
    result = intake.file_waiting()
    # then: both stale ones are filed, the second with the case it already had
    assert result == intake.Filing(filed=2, failed=0)
    assert Case.objects.count() == 2
    assert Open311Intake.objects.get(token=after).case == case
    assert Open311Intake.objects.get(token=before).case == Case.objects.get(token=before)
    assert Open311Intake.objects.get(token=busy).state == IntakeState.FILING  # left alone
    assert js(client.get(f"{BASE}tokens/{busy}.json")) == [
        {"service_request_id": None, "token": busy}
    ]


def test_a_report_whose_category_closed_meanwhile_fails_with_the_reason(client, bulk, tree):
    token = js(post(client))[0]["token"]
    Category.objects.filter(code="0601").update(active=False)
    assert intake.file_waiting() == intake.Filing(filed=0, failed=1)
    report = Open311Intake.objects.get(token=token)
    assert report.state == IntakeState.FAILED and "类别" in report.error
    assert report.data["category"] == "0601"  # kept, to be put back in the queue
    assert "未能受理" in assert_error(client.get(f"{BASE}tokens/{token}.json"), 404)
    assert not Case.objects.exists()


def test_the_admin_puts_a_failed_report_back_in_the_queue_and_audits_it(bulk, tree, admin_user):
    # given: a failed report and a waiting one
    c = Client()
    failed = Open311Intake.objects.create(
        client=bulk, state=IntakeState.FAILED, error="类别已停用", data={"category": "0601"}
    )
    waiting = Open311Intake.objects.create(client=bulk, data={"category": "0601"})
    c.force_login(admin_user)
    # when
    response = c.post(
        "/admin/cases/open311intake/",
        {"action": "requeue", "_selected_action": [failed.pk, waiting.pk]},
    )
    # then
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.state == IntakeState.WAITING and failed.error == ""
    entry = AuditEntry.objects.get(model="cases.open311intake", object_id=str(failed.pk))
    assert entry.changes["state"] == ["failed", "waiting"]
    assert c.get("/admin/cases/open311intake/").status_code == 200
    assert c.get(f"/admin/cases/open311intake/{failed.pk}/change/").status_code == 200
    assert not site._registry[Open311Intake].has_delete_permission(None)


def test_staff_below_the_county_see_no_report_in_the_admin(bulk, community_worker):
    from django.contrib.auth.models import Permission

    Open311Intake.objects.create(client=bulk, data={"category": "0601"})
    community_worker.is_staff = True
    community_worker.save()
    community_worker.user_permissions.add(Permission.objects.get(codename="view_open311intake"))
    c = Client()
    c.force_login(community_worker)
    # The queue is county-wide (core.admin.CountyWide): not theirs at all.
    assert c.get("/admin/cases/open311intake/").status_code == 403


def test_county_staff_who_may_only_view_the_queue_cannot_requeue(bulk, county_officer):
    from django.contrib.auth.models import Permission

    failed = Open311Intake.objects.create(
        client=bulk, state=IntakeState.FAILED, error="类别已停用", data={"category": "0601"}
    )
    county_officer.is_staff = True
    county_officer.save()
    county_officer.user_permissions.add(Permission.objects.get(codename="view_open311intake"))
    c = Client()
    c.force_login(county_officer)
    listing = c.get("/admin/cases/open311intake/")
    assert listing.context["cl"].result_count == 1
    assert "requeue" not in listing.content.decode()
    c.post("/admin/cases/open311intake/", {"action": "requeue", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.state == IntakeState.FAILED

    county_officer.user_permissions.add(Permission.objects.get(codename="change_open311intake"))
    county_officer = type(county_officer).objects.get(pk=county_officer.pk)  # fresh perm cache
    c.force_login(county_officer)
    c.post("/admin/cases/open311intake/", {"action": "requeue", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.state == IntakeState.WAITING


def test_the_county_home_page_counts_the_queue_and_says_when_no_filer_runs(
    bulk, county_officer, grid_a_worker
):
    # given: one report just in, one failed
    Open311Intake.objects.create(client=bulk, data={"category": "0601"})
    Open311Intake.objects.create(
        client=bulk, state=IntakeState.FAILED, error="类别已停用", data={"category": "0601"}
    )
    c = Client()
    c.force_login(county_officer)

    def tiles():
        html = c.get("/").content.decode()
        return html[html.index('class="stats intake"') :] if "stats intake" in html else ""

    # then: counted, not (yet) a stalled queue
    shown = tiles()
    assert "网上报告待立案" in shown and "网上报告未能受理" in shown
    assert "后台任务未运行" not in shown
    assert c.get("/").context["case_counts"]["intake"].waiting == 1

    # when: the waiting report is 11 minutes old (no filer took it)
    Open311Intake.objects.filter(state=IntakeState.WAITING).update(
        received_at=timezone.now() - timedelta(minutes=11)
    )
    # then: the page says the filer is not running
    assert "后台任务未运行" in tiles()

    # and: a grid worker, below the county, sees no queue; an empty queue shows no tiles
    g = Client()
    g.force_login(grid_a_worker)
    assert "stats intake" not in g.get("/").content.decode()
    intake.file_waiting()
    Open311Intake.objects.filter(state=IntakeState.FAILED).delete()
    assert tiles() == ""


def test_a_synchronous_client_still_gets_its_number_at_once(client, app, tree):  # noqa: F811
    body = js(post(client))
    assert Case.objects.get(number=body[0]["service_request_id"]).token == body[0]["token"]
    assert not Open311Intake.objects.exists()


@pytest.mark.parametrize("options, message", [({"limit": 0}, "--limit"), ({"loop": 0.5}, "1 秒")])
def test_the_command_refuses_bad_options(db, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("file_open311_reports", stdout=io.StringIO(), **options)


# --- PostgreSQL: several filers at once --------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: row locks across connections (SQLite allows one writer)",
)
def test_three_filers_at_once_file_each_report_exactly_once(bulk, tree):
    for i in range(30):
        post(Client(), description=f"第{i}处井盖缺失。")
    barrier = threading.Barrier(3)
    results: list = []

    def filer():
        try:
            barrier.wait()
            results.append(intake.file_waiting())
        finally:
            connection.close()

    threads = [threading.Thread(target=filer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    close_old_connections()
    assert sum(r.filed for r in results) == 30 and len(results) == 3
    assert Case.objects.count() == 30
    assert not Open311Intake.objects.exclude(state=IntakeState.FILED).exists()
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 30
