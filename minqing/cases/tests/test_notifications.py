"""The notification list: one's own only, unread first, marked read one by one or all at once."""

import datetime

import pytest
from django.utils import timezone

from conftest import login
from minqing.cases.models import Notification, NotificationKind


def note(user, message, *, case=None, minutes_ago=0, read=False):
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return Notification.objects.create(
        user=user,
        case=case,
        kind=NotificationKind.ASSIGNED,
        message=message,
        created_at=at,
        read_at=at if read else None,
    )


@pytest.fixture
def mine(grid_a_worker, case_a):
    return {
        "old_unread": note(grid_a_worker, "旧的未读", case=case_a, minutes_ago=30),
        "new_read": note(grid_a_worker, "新的已读", minutes_ago=1, read=True),
        "new_unread": note(grid_a_worker, "新的未读", case=case_a, minutes_ago=5),
    }


def test_the_list_shows_unread_first_then_newest_first(client, grid_a_worker, mine):
    login(client, grid_a_worker)
    html = client.get("/notifications/").content.decode()
    order = [html.index(m) for m in ("新的未读", "旧的未读", "新的已读")]
    assert order == sorted(order)
    assert f'href="/cases/{mine["new_unread"].case.number}/"' in html


def test_the_list_shows_only_ones_own_notifications(client, grid_b_worker, mine):
    note(grid_b_worker, "给网格B的")
    login(client, grid_b_worker)
    html = client.get("/notifications/").content.decode()
    assert "给网格B的" in html
    assert "新的未读" not in html and "旧的未读" not in html


def test_the_list_is_paginated(client, grid_b_worker, settings):
    settings.PAGE_SIZE = 2
    for i in range(5):
        note(grid_b_worker, f"第{i}条", minutes_ago=i)
    login(client, grid_b_worker)
    first = client.get("/notifications/").content.decode()
    assert "第0条" in first and "第1条" in first and "第2条" not in first
    assert "第4条" in client.get("/notifications/?page=3").content.decode()
    assert client.get("/notifications/?page=abc").status_code == 200


def test_each_row_is_escaped_labelled_and_has_its_own_form(client, grid_a_worker, mine, settings):
    """The rows are written in Python (cases.notification_list): every value escaped, the
    kind in the reader's language, one form per unread row carrying the page it was on."""
    settings.PAGE_SIZE = 2
    late = note(grid_a_worker, "<script>alert(1)</script> & 超期", case=mine["old_unread"].case)
    late.kind = NotificationKind.OVERDUE
    late.save()
    login(client, grid_a_worker)
    client.cookies["django_language"] = "en"
    html = client.get("/notifications/?page=1").content.decode()
    assert "<script>alert" not in html
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt; &amp; 超期</strong>" in html
    assert f'<tr id="n-{late.pk}" class="unread">' in html
    assert '<span class="badge warn">Overdue</span>' in html
    assert '<span class="badge">New task</span>' in html
    form = f'<form method="post" action="/notifications/{late.pk}/read/" class="inline">'
    assert form in html and html.count('name="csrfmiddlewaretoken"') >= 2
    assert html.count('<input type="hidden" name="page" value="1">') == 2
    # page 2: the oldest unread one (its form says page 2), then the read one (no form)
    second = client.get("/notifications/?page=2").content.decode()
    unread_row, read_row = second.split(f'<tr id="n-{mine["new_read"].pk}">')
    assert "旧的未读" in unread_row and '<input type="hidden" name="page" value="2">' in unread_row
    read_row = read_row.split("</tr>")[0]
    assert "新的已读" in read_row and "<form" not in read_row and "<strong>" not in read_row
    assert '<span class="muted small">Read</span>' in read_row


def test_the_page_reads_no_notification_beyond_its_own_rows(client, grid_a_worker, mine):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(30):
        note(grid_a_worker, f"第{i}条", minutes_ago=100 + i, read=True)
    login(client, grid_a_worker)
    client.get("/notifications/")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/notifications/").content.decode()
    assert html.count('<tr id="n-') == 20
    # session, user, the count, the page's ids, the page's rows
    assert len(queries) <= 5, [q["sql"][:80] for q in queries]


def test_marking_one_read(client, grid_a_worker, mine):
    login(client, grid_a_worker)
    response = client.post(f"/notifications/{mine['old_unread'].pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    mine["old_unread"].refresh_from_db()
    mine["new_unread"].refresh_from_db()
    assert mine["old_unread"].read_at is not None
    assert mine["new_unread"].read_at is None


def test_opening_a_notification_marks_it_read_and_goes_to_its_case(client, grid_a_worker, mine):
    login(client, grid_a_worker)
    n = mine["new_unread"]
    response = client.post(f"/notifications/{n.pk}/read/", {"open": "1", "page": "2"})
    assert response["Location"] == f"/cases/{n.case.number}/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_marking_all_read_touches_only_ones_own(client, grid_a_worker, grid_b_worker, mine):
    theirs = note(grid_b_worker, "给网格B的")
    login(client, grid_a_worker)
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302
    assert not Notification.objects.filter(user=grid_a_worker, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_someone_elses_notification_answers_404(client, grid_b_worker, mine):
    login(client, grid_b_worker)
    n = mine["new_unread"]
    assert client.post(f"/notifications/{n.pk}/read/").status_code == 404
    assert client.post("/notifications/99999999999999999999/read/").status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_marking_read_needs_a_post_and_a_login(client, grid_a_worker, mine):
    n = mine["new_unread"]
    assert client.post(f"/notifications/{n.pk}/read/").status_code == 302  # to the login page
    assert client.get("/notifications/").status_code == 302
    login(client, grid_a_worker)
    assert client.get(f"/notifications/{n.pk}/read/").status_code == 405
    assert client.get("/notifications/read-all/").status_code == 405
    n.refresh_from_db()
    assert n.read_at is None


def test_a_department_member_s_units_come_with_them_when_signed_in(client, water_unit, tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minqing.accounts.backends import ScopedModelBackend
    from minqing.cases.models import Unit
    from minqing.cases.selectors import unit_ids_of

    member = water_unit.members.get()
    second = Unit.objects.create(code="sewer", name="排水公司", node=tree["county"])
    second.members.add(member)
    user = ScopedModelBackend().get_user(member.pk)
    with CaptureQueriesContext(connection) as ctx:
        assert unit_ids_of(user) == sorted([water_unit.pk, second.pk])
    assert len(ctx.captured_queries) == 0
    second.members.remove(member)  # read afresh by the next request
    assert unit_ids_of(ScopedModelBackend().get_user(member.pk)) == [water_unit.pk]
    water_unit.members.remove(member)
    assert unit_ids_of(ScopedModelBackend().get_user(member.pk)) == []
    client.force_login(member)
    assert client.get("/cases/inbox/").status_code == 200


def test_someone_without_notifications_sees_the_empty_row(client, grid_b_worker):
    login(client, grid_b_worker)
    html = client.get("/notifications/?page=7").content.decode()
    assert "没有通知。" in html and '<tr id="n-' not in html
