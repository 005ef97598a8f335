"""考勤: one row per member and date; a sheet recorded again corrects it; rates."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from minqing.core.models import AuditAction, AuditEntry
from minqing.registry.services import PermissionDenied
from minqing.secondments import selectors, services
from minqing.secondments.models import Attendance
from minqing.secondments.tests.conftest import D, add_member


def record(user, team, day, *entries):
    return services.attendance_record(
        acting_user=user, secondment=team, date=day, entries=list(entries)
    )


def test_a_sheet_is_one_row_per_member_and_date_and_a_second_save_corrects_it(
    team, members, community_worker
):
    wang, li, zhao = members
    day = D(2025, 9, 2)
    record(
        community_worker,
        team,
        day,
        (wang, "present", ""),
        (li, "late", "堵车"),
        (zhao, "present", ""),
    )
    record(community_worker, team, day, (li, "leave", "病假"))
    rows = {a.member.name: (a.status, a.note) for a in Attendance.objects.filter(date=day)}
    assert rows == {"王强": ("present", ""), "李梅": ("leave", "病假"), "赵刚": ("present", "")}
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.create(member=li, date=day, status="absent")
    entries = AuditEntry.objects.filter(model="secondments.secondment", object_id=str(team.pk))
    assert entries.filter(action=AuditAction.CREATE, reason="考勤 2025-09-02").count() == 1
    correction = entries.get(action=AuditAction.UPDATE, reason="考勤 2025-09-02")
    assert correction.changes == {"2025-09-02 李梅": ["迟到（堵车）", "请假（病假）"]}


def test_saving_the_same_sheet_twice_writes_no_second_audit_entry(team, members, community_worker):
    wang = members[0]
    record(community_worker, team, D(2025, 9, 3), (wang, "present", ""))
    record(community_worker, team, D(2025, 9, 3), (wang, "present", ""))
    assert AuditEntry.objects.filter(reason="考勤 2025-09-03").count() == 1


def test_rates_count_late_as_attended_and_leave_and_absence_as_not(team, members, community_worker):
    wang, li, _ = members
    for day, status in [(2, "present"), (3, "late"), (4, "leave"), (5, "absent")]:
        record(community_worker, team, D(2025, 9, day), (li, status, ""))
    record(community_worker, team, D(2025, 9, 2), (wang, "present", ""))
    report = selectors.term_report(team, start=D(2025, 8, 1), end=D(2026, 1, 31))
    lines = {line.member.name: line for line in report.lines}
    li_line = lines["李梅"]
    assert (li_line.days, li_line.present, li_line.late, li_line.leave, li_line.absent) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert li_line.rate == 0.5
    assert lines["王强"].rate == 1.0
    assert lines["赵刚"].rate is None  # nothing recorded is not 0%
    assert report.totals.days == 5 and report.totals.rate == 3 / 5


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (D(2025, 8, 31), services.ERR_DATE_OUTSIDE.format(start="2025-09-01", end="2028-08-31")),
        (D(2099, 1, 1), services.ERR_DATE_FUTURE),
        ("2025-09-02", "日期格式应为 YYYY-MM-DD。"),
    ],
)
def test_a_day_outside_the_cycle_or_in_the_future_is_refused(
    team, members, community_worker, day, message
):
    with pytest.raises(ValidationError) as exc:
        record(community_worker, team, day, (members[0], "present", ""))
    assert exc.value.message_dict["date"] == [message]
    assert not Attendance.objects.exists()


def test_bad_entries_are_refused(team, members, community_worker):
    wang = members[0]
    later = add_member(team, community_worker, "冯新", start=D(2026, 1, 1))
    cases = [
        ([], "entries", services.ERR_NOTHING),
        ([(wang, "sick", "")], f"status_{wang.pk}", services.ERR_STATUS),
        ([(wang, "present", "x" * 201)], f"note_{wang.pk}", services.ERR_TOO_LONG.format(n=200)),
        ([(wang, "present", ""), (wang, "late", "")], "entries", services.ERR_DUPLICATE_MEMBER),
        (
            [(later, "present", "")],
            f"status_{later.pk}",
            services.ERR_NOT_ON_TURN.format(name="冯新", date="2025-09-02"),
        ),
    ]
    for entries, key, message in cases:
        with pytest.raises(ValidationError) as exc:
            record(community_worker, team, D(2025, 9, 2), *entries)
        assert exc.value.message_dict[key] == [message]
    assert not Attendance.objects.exists()


def test_a_member_of_another_team_cannot_be_put_on_this_sheet(
    team, members, community_worker, tree
):
    other = services.secondment_create(
        acting_user=community_worker,
        data={"sending_name": "县人民医院", "receiving_name": "东门卫生站", "node": tree["grid_b"],
              "cycle_start": D(2025, 9, 1)},
    )  # fmt: skip
    stranger = add_member(other, community_worker, "外队", "doctor")
    with pytest.raises(ValidationError) as exc:
        record(community_worker, team, D(2025, 9, 2), (stranger, "present", ""))
    assert exc.value.message_dict["entries"] == [services.ERR_MEMBER_UNKNOWN]


def test_the_leader_with_an_account_records_attendance_and_a_teacher_does_not(
    team, community_worker, django_user_model
):
    captain = django_user_model.objects.create_user(username="captain", password="x-123456789")
    teacher = django_user_model.objects.create_user(username="teacher", password="x-123456789")
    wang = add_member(team, community_worker, "王强", "leader", user=captain)
    add_member(team, community_worker, "李梅", user=teacher)
    record(captain, team, D(2025, 9, 2), (wang, "present", ""))
    with pytest.raises(PermissionDenied):
        record(teacher, team, D(2025, 9, 2), (wang, "absent", ""))
    assert Attendance.objects.get().status == "present"


def test_a_member_who_left_early_is_not_counted_absent_after_their_last_day(
    team, members, community_worker
):
    """QA: a turn shortened as a member left kept the absences marked after their last day in
    the term report (their rate read 0%, the team's dropped)."""
    wang, li, zhao = members
    record(community_worker, team, D(2025, 9, 2), (li, "present", ""))
    record(community_worker, team, D(2025, 10, 20), (li, "absent", ""))
    services.member_update(acting_user=community_worker, member=li, data={
        "name": li.name, "role": li.role, "speciality": li.speciality, "phone": li.phone,
        "turn_start": li.turn_start, "turn_end": D(2025, 9, 30)})  # fmt: skip
    report = selectors.term_report(team, start=D(2025, 9, 1), end=D(2026, 1, 31), label="秋季")
    [line] = [x for x in report.lines if x.member.pk == li.pk]
    assert (line.days, line.present, line.absent) == (1, 1, 0)
