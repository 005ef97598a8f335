"""接待日: every matter is answered within 7 working days of the reception day — the clock starts
on that day, not when someone turns the matter into a case, and a matter nobody filed runs late
all the same."""

import datetime
import io

import pytest
from django.utils import timezone
from python_calamine import CalamineWorkbook

from conftest import login
from minqing.cases import reception, services
from minqing.cases.models import OpinionKind, ReceptionMatter, Stage, Status, Unit
from minqing.cases.reception import Answer
from minqing.core.workdays import WORKDAY_END, add_working_days, deadline_after

# The Friday before the 2026 National Day holiday: seven working days run past the holiday week.
RECEIVED = datetime.date(2026, 9, 25)


def aware(d: datetime.date, t: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(d, t))


@pytest.fixture
def old_day(community_worker, tree):
    return reception.reception_day_create(
        acting_user=community_worker,
        data={"node": tree["community"], "date": RECEIVED, "receivers": "社区书记"},
    )


def add(user, day, opinion, matter="楼道灯坏了。"):
    return reception.reception_matter_add(
        acting_user=user,
        day=day,
        data={"visitor_name": "李阿姨", "visitor_phone": "13900001234", "matter": matter,
              "opinion": opinion},
    )  # fmt: skip


def test_the_answer_date_is_seven_working_days_after_the_reception_day(old_day):
    due = reception.answer_by(old_day)
    local = timezone.localtime(due)
    assert local.time() == WORKDAY_END
    # Seven working days after 25 September 2026 skip the National Day week.
    assert local.date() > RECEIVED + datetime.timedelta(days=14)
    assert local.date() == add_working_days(RECEIVED, 7)


def test_states_before_and_after_the_answer_date(community_worker, old_day):
    solved = add(community_worker, old_day, OpinionKind.SOLVED)
    waiting = add(community_worker, old_day, OpinionKind.DEADLINE)
    due = reception.answer_by(old_day)
    before, after = due - datetime.timedelta(minutes=1), due + datetime.timedelta(minutes=1)
    assert reception.answer_state(solved, now=after) == Answer.ANSWERED
    assert reception.answer_state(waiting, now=before) == Answer.PENDING
    assert reception.answer_state(waiting, now=after) == Answer.OVERDUE
    # The query condition the list page counts with agrees, on either side of the deadline.
    for now, expected in ((before, []), (after, [waiting.pk])):
        overdue = ReceptionMatter.objects.filter(reception.overdue_q(now))
        assert list(overdue.values_list("pk", flat=True)) == expected, now


def test_a_matter_filed_late_keeps_the_reception_days_answer_date(community_worker, old_day):
    matter = add(community_worker, old_day, OpinionKind.MEETING)
    due = reception.answer_by(old_day)
    filed_at = due - datetime.timedelta(days=1)  # filed on the eve of the answer date
    case = reception.reception_matter_to_case(
        acting_user=community_worker, matter=matter, now=filed_at
    )
    assert case.deadline == case.handle_deadline == due  # not 7 more working days
    assert case.remind_at <= case.deadline and case.next_check_at <= case.deadline

    # Closed by then: answered on time; closed after: answered late.
    case.closed_at = due - datetime.timedelta(hours=1)
    case.save(update_fields=["closed_at"])
    matter.refresh_from_db()
    assert reception.answer_state(matter) == Answer.ANSWERED
    case.closed_at = due + datetime.timedelta(hours=1)
    case.save(update_fields=["closed_at"])
    matter.refresh_from_db()
    assert reception.answer_state(matter) == Answer.ANSWERED_LATE


def test_a_matter_filed_on_the_day_keeps_its_own_shorter_clock(community_worker, tree):
    today = reception.reception_day_create(
        acting_user=community_worker,
        data={"node": tree["community"], "date": timezone.localdate(), "receivers": "书记"},
    )
    matter = add(community_worker, today, OpinionKind.DEADLINE)
    case = reception.reception_matter_to_case(acting_user=community_worker, matter=matter)
    assert case.deadline <= reception.answer_by(today)
    assert reception.answer_state(matter) == Answer.PENDING


def test_pages_api_and_export_show_the_answer_date_and_the_late_matters(
    client, community_worker, old_day
):
    add(community_worker, old_day, OpinionKind.SOLVED, "已当场解释政策。")
    add(community_worker, old_day, OpinionKind.DEADLINE, "下水道堵塞。")
    add(community_worker, old_day, OpinionKind.TRANSFERRED, "占道经营。")
    login(client, community_worker)
    listing = client.get("/reception/").content.decode()
    assert '<span class="badge late">2</span>' in listing

    page = client.get(f"/reception/{old_day.pk}/").content.decode()
    due = timezone.localtime(reception.answer_by(old_day)).date()
    assert f"须在 {due:%Y-%m-%d} 前答复" in page
    assert page.count("逾期未答复") == 2 and page.count("已按期答复") == 1

    body = client.get(f"/api/reception/days/{old_day.pk}").json()
    states = sorted(m["answer_state"] for m in body["items"])
    assert states == ["answered", "overdue", "overdue"]
    assert body["items"][0]["answer_by"].startswith(due.isoformat())

    data = client.get(f"/reception/{old_day.pk}/export.xlsx").getvalue()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    header = next(r for r in rows if "答复情况" in r)
    column = header.index("答复情况")
    assert sorted(r[column] for r in rows[rows.index(header) + 1 :][:3]) == [
        "已按期答复",
        "逾期未答复",
        "逾期未答复",
    ]


def test_a_matter_filed_after_its_answer_date_is_late_at_once(community_worker, old_day):
    """Filed when the answer date has passed (the matters that most need a case): the case is
    filed, its time limit is that date, and the sweeper sees it late on its next run."""
    from minqing.cases import services

    matters = [
        add(community_worker, old_day, o) for o in (OpinionKind.DEADLINE, OpinionKind.TRANSFERRED)
    ]
    due = reception.answer_by(old_day)
    filed_at = due + datetime.timedelta(days=3)
    for matter in matters:
        case = reception.reception_matter_to_case(
            acting_user=community_worker, matter=matter, now=filed_at
        )
        assert case.deadline == due and case.remind_at == due
        assert case.next_check_at == filed_at  # the sweeper looks at once
    result = services.sweep_deadlines(now=filed_at + datetime.timedelta(minutes=1))
    assert result["overdue"] == 2, result


def test_filing_an_overdue_matter_through_the_page_works(client, community_worker, old_day):
    matter = add(community_worker, old_day, OpinionKind.DEADLINE)
    login(client, community_worker)
    response = client.post(f"/reception/{old_day.pk}/matters/{matter.pk}/case/", {})
    assert response.status_code == 302
    matter.refresh_from_db()
    assert matter.case is not None and matter.case.deadline == reception.answer_by(old_day)


def _transferred_case(community_worker, tree, received):
    day = reception.reception_day_create(
        acting_user=community_worker,
        data={"node": tree["community"], "date": received, "receivers": "社区书记"},
    )
    matter = add(community_worker, day, OpinionKind.TRANSFERRED, "路边垃圾清运不及时。")
    case = reception.reception_matter_to_case(acting_user=community_worker, matter=matter)
    unit = Unit.objects.create(code="hws", name="环卫所", node=tree["county"])
    return day, case, unit


def test_a_transferred_matter_keeps_its_answer_date_at_the_department(
    client, community_worker, tree
):
    """QA: a 转办 matter converted to a case, then transferred to a department a week after the
    reception day, got the department's full 7 working days — past the answer date."""
    day, case, _unit = _transferred_case(
        community_worker, tree, timezone.localdate() - datetime.timedelta(days=7)
    )
    due = reception.answer_by(day)
    assert case.status == Status.REGISTERED and case.deadline <= due
    login(client, community_worker)
    r = client.post(
        f"/api/cases/{case.number}/actions/transfer", {"target_unit": "hws"},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 200, r.content
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED
    assert case.deadline == case.handle_deadline == due
    assert case.remind_at <= case.deadline


def test_every_later_clock_keeps_the_answer_date_unless_an_extension_was_approved(
    community_worker, street_officer, tree, django_user_model
):
    """退单, 核查 and 收回 start clocks of their own: none runs past the answer date. An approved
    extension is the supervisor's decision to give more time: the deadline moves past the
    answer date, and later clocks run to that date moved on by the days granted."""
    day, case, unit = _transferred_case(
        community_worker, tree, timezone.localdate() - datetime.timedelta(days=7)
    )
    due = reception.answer_by(day)
    clerk = django_user_model.objects.create_user(username="hws_1", password="x-minqing-pw-1")
    unit.members.add(clerk)
    late = due + datetime.timedelta(days=3)  # everything below happens after the answer date

    def act(user, action, now=late, **extra):
        return services.case_act(acting_user=user, case=case, action=action, now=now, **extra)

    case = act(community_worker, "transfer", target_unit=unit)
    assert case.deadline == case.handle_deadline == due
    case = act(clerk, "decline", note="不是我们的事。")
    assert case.deadline == due  # the dispatch clock after 退单, not another working day
    case = act(community_worker, "transfer", target_unit=unit)
    case = act(clerk, "start")
    case = act(clerk, "feedback", note="已清运。")
    assert case.stage == Stage.VERIFY and case.deadline == due  # the 核查 clock too
    case = act(community_worker, "rework", note="还有一处没清。")
    case = act(clerk, "extend_request", note="需协调车辆。", days=5)
    case = act(street_officer, "extend_decide", approve=True, note="同意。")
    assert case.deadline == deadline_after(late, days=5) > due  # by design
    later = late + datetime.timedelta(hours=1)
    case = act(community_worker, "recall", note="另派车辆。", now=later)
    # The dispatch clock (one working day) ends before the answer date moved on by 5 days.
    assert case.deadline == deadline_after(later, days=1) <= deadline_after(due, days=5)
