"""Writes for team dispatch (组团派驻): teams, members' turns, attendance, activities.

Each function checks the actor's role and scope, validates, writes and audits in one
transaction. Errors are ValidationErrors keyed by form field with the messages below (Chinese
source text, translated lazily into the request's language), shared by the pages, the API and
the tests.

Rules (DOMAIN.md: "one school a 3-year cycle, a teacher a 1-year turn"):
- a cycle ends after it starts and lasts at most MAX_CYCLE_YEARS (default length 3 years);
- a member's turn lies inside the cycle and lasts at most the team's turn_months
  (default 12: a turn from 1 September ends on 31 August of the next year);
- one person's turns in one team do not overlap, and the team has one 队长 at a time;
- attendance is one row per member and date, only on a date of the member's turn, never in the
  future; recording a sheet again corrects it;
- an activity happens inside the cycle, not in the future, with members on turn that day.
"""

import calendar
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import has_role, node_in_scope
from minqing.accounts.models import Role, User
from minqing.core.audit import audit_log, snapshot
from minqing.core.forms import clean_text as _text
from minqing.core.i18n import source
from minqing.core.models import AuditAction
from minqing.core.phone import ERR_PHONE, is_valid_phone, normalise_phone
from minqing.grids.models import Level
from minqing.registry.services import PermissionDenied
from minqing.secondments.models import (
    Activity,
    ActivityKind,
    Attendance,
    AttendanceStatus,
    MemberRole,
    Secondment,
    SecondmentKind,
    SecondmentMember,
)

ERR_REQUIRED = _("此项必填。")
ERR_DATE = _("日期格式应为 YYYY-MM-DD。")
ERR_DATE_RANGE = _("日期超出范围。")
ERR_TOO_LONG = _("不能超过 {n} 个字。")
ERR_NOT_MANAGER = _("您没有管理组团派驻的权限。")
ERR_NOT_RECORDER = _("只有管理人员或本队队长可以登记考勤和活动。")
ERR_NOT_VISIBLE = _("该派驻团队不存在或不在您的管辖范围内。")
ERR_NODE_SCOPE = _("接收单位所在区划不存在或不在您的管辖范围内。")
ERR_NODE_LEVEL = _("接收单位应位于县/区、街道/乡镇、社区/村、片区或网格，不能是楼栋。")
ERR_PLACE_NODE = _("所选接收单位场所不在所选区划之内。")
ERR_KIND = _("请选择派驻类型。")
ERR_CYCLE_ORDER = _("派驻周期的结束日期应晚于开始日期。")
ERR_CYCLE_TOO_LONG = _("派驻周期不能超过 {n} 年。")
ERR_TURN_MONTHS = _("成员轮换期应为 1 到 60 个月。")
ERR_ROLE = _("请选择成员角色：队长、教师、医生或工作人员。")
ERR_TURN_ORDER = _("轮换结束日期不能早于开始日期。")
ERR_TURN_OUTSIDE = _("成员轮换期应在派驻周期（{start} 至 {end}）之内。")
ERR_TURN_OUTSIDE_WHO = _("（{name}：{start} 至 {end}）")
ERR_TURN_TOO_LONG = _("一轮最长 {n} 个月，从 {start} 开始最晚到 {last}。")
ERR_TURN_OVERLAP = _("{name} 在该时段已有一轮派驻（{start} 至 {end}），轮换期不能重叠。")
ERR_TWO_LEADERS = _("同一时段只能有一名队长，{name} 的轮换期为 {start} 至 {end}。")
ERR_USER = _("系统账号不存在或已停用。")
ERR_DATE_FUTURE = _("日期不能晚于今天。")
ERR_DATE_OUTSIDE = _("日期不在派驻周期（{start} 至 {end}）之内。")
ERR_NOT_ON_TURN = _("{name} 在 {date} 不在轮换期内。")
ERR_MEMBER_UNKNOWN = _("所选成员不属于该派驻团队。")
ERR_STATUS = _("考勤只能是出勤、迟到、请假或缺勤。")
ERR_DUPLICATE_MEMBER = _("同一名成员在一张考勤表中只能出现一次。")
ERR_NOTHING = _("请至少为一名成员登记考勤。")
ERR_ACTIVITY_KIND = _("请选择活动类型。")
ERR_ACTIVITY_MEMBERS = _("请至少选择一名参与成员。")
ERR_PARTICIPANTS = _("人数应为 0 到 100000 之间的整数。")

MAX_CYCLE_YEARS = 6
DEFAULT_CYCLE_YEARS = 3
MAX_PARTICIPANTS = 100_000
MANAGE_ROLES = {
    Role.COMMUNITY_WORKER,
    Role.COMMUNITY_SECRETARY,
    Role.STREET_OFFICER,
    Role.COUNTY_OFFICER,
    Role.ADMIN,
}


# --- dates -----------------------------------------------------------------------------------


def turn_last_day(start: dt.date, turn_months: int) -> dt.date:
    """The last day of a full turn beginning on `start`: the day before the same day
    `turn_months` later (2025-09-01 + 12 months → 2026-08-31). When that day does not exist
    (31 January + 1 month) the next turn would start on the 1st of the month after, so this
    turn ends on the last day of the short month (28/29 February)."""
    index = start.month - 1 + turn_months
    year, month = start.year + index // 12, index % 12 + 1
    if start.day > calendar.monthrange(year, month)[1]:
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date(year, month, start.day) - dt.timedelta(days=1)


def cycle_default_end(start: dt.date, years: int = DEFAULT_CYCLE_YEARS) -> dt.date:
    """A cycle of `years` from `start`: 2025-09-01 → 2028-08-31."""
    return turn_last_day(start, 12 * years)


def _fmt(d: dt.date) -> str:
    return d.strftime("%Y-%m-%d")


# --- permissions -----------------------------------------------------------------------------


def can_manage(user) -> bool:
    """Create teams and manage their members: community staff and above."""
    return has_role(user, MANAGE_ROLES)


def can_record(user, secondment: Secondment) -> bool:
    """Attendance and activities: managers, and the team's own 队长 (by their user account)."""
    if can_manage(user):
        return True
    return (
        getattr(user, "is_authenticated", False)
        and secondment.members.filter(user=user, role=MemberRole.LEADER).exists()
    )


def _visible(user, secondment: Secondment) -> bool:
    from minqing.secondments.selectors import secondments_for

    return secondments_for(user).filter(pk=secondment.pk).exists()


def _require_manager(user, secondment: Secondment | None = None) -> None:
    if not can_manage(user):
        raise PermissionDenied(ERR_NOT_MANAGER)
    if secondment is not None and not _visible(user, secondment):
        raise PermissionDenied(ERR_NOT_VISIBLE)


def _require_recorder(user, secondment: Secondment) -> None:
    if not _visible(user, secondment):
        raise PermissionDenied(ERR_NOT_VISIBLE)
    if not can_record(user, secondment):
        raise PermissionDenied(ERR_NOT_RECORDER)


# --- small validators ------------------------------------------------------------------------


def _date(data: dict, name: str, errors: dict, *, required: bool = True) -> dt.date | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors[name] = ERR_REQUIRED
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        errors[name] = ERR_DATE
        return None
    if not (2000 <= value.year <= 2100):  # a turn from 9999-12-31 ended in year 10002
        errors[name] = ERR_DATE_RANGE
        return None
    return value


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# --- teams -----------------------------------------------------------------------------------


def _team_fields(acting_user, data: dict) -> dict:
    errors: dict = {}
    kind = data.get("kind") or SecondmentKind.TEACHING
    if kind not in SecondmentKind.values:
        errors["kind"] = ERR_KIND
    sending_org, sending_place = data.get("sending_org"), data.get("sending_place")
    receiving_place, receiving_org = data.get("receiving_place"), data.get("receiving_org")
    sending_name = _text(data, "sending_name", 100, errors)
    if not sending_name and "sending_name" not in errors:
        sending_name = (sending_org or sending_place).name if (sending_org or sending_place) else ""
        if not sending_name:
            errors["sending_name"] = ERR_REQUIRED
    receiving_name = _text(data, "receiving_name", 100, errors)
    if not receiving_name and "receiving_name" not in errors:
        record = receiving_place or receiving_org
        receiving_name = record.name if record else ""
        if not receiving_name:
            errors["receiving_name"] = ERR_REQUIRED
    node = data.get("node")
    if node is None and (receiving_place or receiving_org):
        node = (receiving_place or receiving_org).grid
    if node is None:
        errors["node"] = ERR_REQUIRED
    elif not node_in_scope(acting_user, node):
        errors["node"] = ERR_NODE_SCOPE
    elif node.level == Level.BUILDING:
        errors["node"] = ERR_NODE_LEVEL
    else:
        for field, record in (
            ("receiving_place", receiving_place),
            ("receiving_org", receiving_org),
        ):
            if record is not None and not record.grid.path.startswith(node.path):
                errors[field] = ERR_PLACE_NODE
    start = _date(data, "cycle_start", errors)
    end = _date(data, "cycle_end", errors, required=False)
    if start and end is None and "cycle_end" not in errors:
        end = cycle_default_end(start)
    if start and end:
        if end <= start:
            errors["cycle_end"] = ERR_CYCLE_ORDER
        elif end > cycle_default_end(start, MAX_CYCLE_YEARS):
            errors["cycle_end"] = ERR_CYCLE_TOO_LONG.format(n=MAX_CYCLE_YEARS)
    turn_months = data.get("turn_months")
    if turn_months in (None, ""):
        turn_months = 12
    if (
        not isinstance(turn_months, int)
        or isinstance(turn_months, bool)
        or not (1 <= turn_months <= 60)
    ):
        errors["turn_months"] = ERR_TURN_MONTHS
    name = _text(data, "name", 100, errors)
    note = _text(data, "note", 2000, errors)
    _raise(errors)
    if not name:
        label = source(SecondmentKind(kind).label).removeprefix("组团式").removeprefix("其他")
        name = f"{sending_name}→{receiving_name}{label}团队"[:100]
    return {
        "kind": kind,
        "name": name,
        "sending_name": sending_name,
        "sending_org": sending_org,
        "sending_place": sending_place,
        "receiving_name": receiving_name,
        "receiving_place": receiving_place,
        "receiving_org": receiving_org,
        "node": node,
        "cycle_start": start,
        "cycle_end": end,
        "turn_months": turn_months,
        "note": note,
    }


def team_check(*, acting_user, data: dict) -> None:
    """The team's checks alone (nothing written): a form with errors shows these too."""
    _team_fields(acting_user, data)


@transaction.atomic
def secondment_create(*, acting_user, data: dict, request=None) -> Secondment:
    """A team sent by `sending_*` to `receiving_*` at `node` for a cycle (default 3 years)."""
    _require_manager(acting_user)
    fields = _team_fields(acting_user, data)
    secondment = Secondment.objects.create(created_by=acting_user, **fields)
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=secondment,
        changes={
            k: [None, v]
            for k, v in snapshot(secondment, Secondment.AUDITED_FIELDS).items()
            if v not in (None, "")
        },
        request=request,
        node=secondment.node,
    )
    return secondment


@transaction.atomic
def secondment_update(*, acting_user, secondment: Secondment, data: dict, request=None):
    """Change a team's units, cycle or turn length; members' turns must still fit."""
    _require_manager(acting_user, secondment)
    secondment = Secondment.objects.select_for_update().get(pk=secondment.pk)
    old = snapshot(secondment, Secondment.AUDITED_FIELDS)
    fields = _team_fields(acting_user, data)
    outside = secondment.members.exclude(
        turn_start__gte=fields["cycle_start"], turn_end__lte=fields["cycle_end"]
    ).first()
    if outside is not None:
        raise ValidationError(
            {
                "cycle_end": ERR_TURN_OUTSIDE.format(
                    start=_fmt(fields["cycle_start"]), end=_fmt(fields["cycle_end"])
                )
                + ERR_TURN_OUTSIDE_WHO.format(
                    name=outside.name, start=_fmt(outside.turn_start), end=_fmt(outside.turn_end)
                )
            }
        )
    for k, v in fields.items():
        setattr(secondment, k, v)
    secondment.save()
    new = snapshot(secondment, Secondment.AUDITED_FIELDS)
    changes = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
    if changes:
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=secondment,
            changes=changes,
            request=request,
            node=secondment.node,
        )
    return secondment


# --- members ---------------------------------------------------------------------------------


def _member_fields(secondment: Secondment, data: dict, *, member=None) -> dict:
    errors: dict = {}
    name = _text(data, "name", 50, errors, required=True)
    role = data.get("role") or ""
    if role not in MemberRole.values:
        errors["role"] = ERR_ROLE
    speciality = _text(data, "speciality", 50, errors)
    phone = normalise_phone(str(data.get("phone") or ""))
    if phone and (len(phone) > 20 or not is_valid_phone(phone)):
        errors["phone"] = ERR_PHONE
    user = data.get("user")
    kept = member is not None and user is not None and getattr(user, "pk", None) == member.user_id
    # An account switched off still names the member it was linked to: their turn can be
    # ended (QA: the edit was refused until the link was erased). A new link takes an active one.
    if user is not None and (not isinstance(user, User) or not (user.is_active or kept)):
        errors["user"] = ERR_USER
    start = _date(data, "turn_start", errors)
    end = _date(data, "turn_end", errors, required=False)
    if start and end is None and "turn_end" not in errors:
        end = min(turn_last_day(start, secondment.turn_months), secondment.cycle_end)
    if start and end:
        last = turn_last_day(start, secondment.turn_months)
        if end < start:
            errors["turn_end"] = ERR_TURN_ORDER
        elif start < secondment.cycle_start or end > secondment.cycle_end:
            errors["turn_start" if start < secondment.cycle_start else "turn_end"] = (
                ERR_TURN_OUTSIDE.format(
                    start=_fmt(secondment.cycle_start), end=_fmt(secondment.cycle_end)
                )
            )
        elif end > last:
            errors["turn_end"] = ERR_TURN_TOO_LONG.format(
                n=secondment.turn_months, start=_fmt(start), last=_fmt(last)
            )
    _raise(errors)
    others = secondment.members.filter(turn_start__lte=end, turn_end__gte=start)
    if member is not None:
        others = others.exclude(pk=member.pk)
    same = others.filter(name=name)
    if phone:
        same = same.filter(phone__in=[phone, ""])
    if user is not None:  # one account is one person, whatever name each turn was typed with
        same = same | others.filter(user=user)
    clash = same.first()
    if clash is not None:
        errors["turn_start"] = ERR_TURN_OVERLAP.format(
            name=clash.name, start=_fmt(clash.turn_start), end=_fmt(clash.turn_end)
        )
    elif role == MemberRole.LEADER:
        leader = others.filter(role=MemberRole.LEADER).first()
        if leader is not None:
            errors["role"] = ERR_TWO_LEADERS.format(
                name=leader.name, start=_fmt(leader.turn_start), end=_fmt(leader.turn_end)
            )
    _raise(errors)
    return {
        "name": name,
        "phone": phone,
        "role": role,
        "speciality": speciality,
        "turn_start": start,
        "turn_end": end,
        "user": user,
    }


@transaction.atomic
def member_check(*, secondment: Secondment, data: dict) -> None:
    """A member's checks alone (nothing written): a form with errors shows these too."""
    _member_fields(secondment, data)


def member_add(*, acting_user, secondment: Secondment, data: dict, request=None):
    """One turn of one person; turn_end defaults to a full turn, cut at the cycle's end."""
    _require_manager(acting_user, secondment)
    # Lock the team: two people adding the same member at once must not both pass the check.
    secondment = Secondment.objects.select_for_update().get(pk=secondment.pk)
    fields = _member_fields(secondment, data)
    member = SecondmentMember.objects.create(secondment=secondment, **fields)
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=member,
        changes={
            k: [None, v]
            for k, v in snapshot(
                member, SecondmentMember.AUDITED_FIELDS, masked=SecondmentMember.MASKED
            ).items()
            if v not in (None, "")
        },
        request=request,
        node=secondment.node,
    )
    return member


@transaction.atomic
def member_update(*, acting_user, member: SecondmentMember, data: dict, request=None):
    """Change a member's details or turn (e.g. a turn ended early); attendance stays."""
    _require_manager(acting_user, member.secondment)
    secondment = Secondment.objects.select_for_update().get(pk=member.secondment_id)
    member = SecondmentMember.objects.get(pk=member.pk)
    old = snapshot(member, SecondmentMember.AUDITED_FIELDS, masked=SecondmentMember.MASKED)
    fields = _member_fields(secondment, data, member=member)
    for k, v in fields.items():
        setattr(member, k, v)
    member.save()
    new = snapshot(member, SecondmentMember.AUDITED_FIELDS, masked=SecondmentMember.MASKED)
    changes = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
    if changes:
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=member,
            changes=changes,
            request=request,
            node=secondment.node,
        )
    return member


# --- attendance ------------------------------------------------------------------------------


def _check_day(secondment: Secondment, day, errors: dict, field: str = "date", *, today=None):
    today = today or timezone.localdate()
    if day is None:
        errors[field] = ERR_REQUIRED
    elif isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        errors[field] = ERR_DATE
    elif day > today:
        errors[field] = ERR_DATE_FUTURE
    elif not secondment.cycle_start <= day <= secondment.cycle_end:
        errors[field] = ERR_DATE_OUTSIDE.format(
            start=_fmt(secondment.cycle_start), end=_fmt(secondment.cycle_end)
        )


@transaction.atomic
def attendance_record(
    *,
    acting_user,
    secondment: Secondment,
    date: dt.date,
    entries: list[tuple[SecondmentMember, str, str]],
    request=None,
    today: dt.date | None = None,
) -> list[Attendance]:
    """Record (or correct) one day's attendance sheet: (member, status, note) per member.

    Members left out keep whatever was recorded for them. One audit entry per sheet lists the
    members whose status or note changed.
    """
    _require_recorder(acting_user, secondment)
    errors: dict = {}
    _check_day(secondment, date, errors, today=today)
    _raise(errors)
    if not entries:
        raise ValidationError({"entries": ERR_NOTHING})
    seen: set[int] = set()
    for member, status, note in entries:
        if not isinstance(member, SecondmentMember) or member.secondment_id != secondment.pk:
            raise ValidationError({"entries": ERR_MEMBER_UNKNOWN})
        if member.pk in seen:
            raise ValidationError({"entries": ERR_DUPLICATE_MEMBER})
        seen.add(member.pk)
        if status not in AttendanceStatus.values:
            raise ValidationError({f"status_{member.pk}": ERR_STATUS})
        if len(note or "") > 200:
            raise ValidationError({f"note_{member.pk}": ERR_TOO_LONG.format(n=200)})
        if not member.on_turn(date):
            raise ValidationError(
                {f"status_{member.pk}": ERR_NOT_ON_TURN.format(name=member.name, date=_fmt(date))}
            )
    # The team row serialises sheets of the same team: the unique (member, date) constraint
    # would otherwise turn two people saving the same sheet into an IntegrityError.
    Secondment.objects.select_for_update().filter(pk=secondment.pk).values_list("pk").first()
    existing = {
        a.member_id: a
        for a in Attendance.objects.filter(member_id__in=seen, date=date).select_for_update()
    }
    labels = dict(AttendanceStatus.choices)
    now = timezone.now()
    changes: dict = {}
    saved, new, changed = [], [], []
    for member, status, note in entries:
        note = (note or "").strip()
        row = existing.get(member.pk)
        key = f"{_fmt(date)} {member.name}"
        if row is None:
            row = Attendance(
                member=member,
                date=date,
                status=status,
                note=note,
                recorded_by=acting_user,
                recorded_at=now,
            )
            new.append(row)
            changes[key] = [None, source(labels[status]) + (f"（{note}）" if note else "")]
        elif (row.status, row.note) != (status, note):
            changes[key] = [
                source(labels[row.status]) + (f"（{row.note}）" if row.note else ""),
                source(labels[status]) + (f"（{note}）" if note else ""),
            ]
            row.status, row.note, row.recorded_by, row.recorded_at = status, note, acting_user, now
            changed.append(row)
        saved.append(row)
    Attendance.objects.bulk_create(new)
    Attendance.objects.bulk_update(changed, ["status", "note", "recorded_by", "recorded_at"])
    if changes:
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE if changed else AuditAction.CREATE,
            obj=secondment,
            changes=changes,
            reason=f"考勤 {_fmt(date)}",
            request=request,
            node=secondment.node,
        )
    return saved


# --- activities ------------------------------------------------------------------------------


@transaction.atomic
def activity_create(
    *, acting_user, secondment: Secondment, data: dict, request=None, today=None
) -> Activity:
    """An activity (公开课, 送课下乡, 家访 …) on a day of the cycle, by members on turn."""
    _require_recorder(acting_user, secondment)
    errors: dict = {}
    kind = data.get("kind") or ""
    if kind not in ActivityKind.values:
        errors["kind"] = ERR_ACTIVITY_KIND
    day = data.get("date")
    _check_day(secondment, day, errors, today=today)
    title = _text(data, "title", 100, errors, required=True)
    place = _text(data, "place", 100, errors)
    note = _text(data, "note", 2000, errors)
    participants = data.get("participants")
    if participants in (None, ""):
        participants = 0
    if (
        not isinstance(participants, int)
        or isinstance(participants, bool)
        or not 0 <= participants <= MAX_PARTICIPANTS
    ):
        errors["participants"] = ERR_PARTICIPANTS
    members = list(data.get("members") or [])
    if not members:
        errors["members"] = ERR_ACTIVITY_MEMBERS
    elif any(
        not isinstance(m, SecondmentMember) or m.secondment_id != secondment.pk for m in members
    ):
        errors["members"] = ERR_MEMBER_UNKNOWN
    elif "date" not in errors:
        off = [m for m in members if not m.on_turn(day)]
        if off:
            errors["members"] = ERR_NOT_ON_TURN.format(
                name=gettext("、").join(m.name for m in off), date=_fmt(day)
            )
    _raise(errors)
    activity = Activity.objects.create(
        secondment=secondment,
        kind=kind,
        date=day,
        title=title,
        place=place,
        participants=participants,
        note=note,
        created_by=acting_user,
    )
    activity.members.set(members)
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=activity,
        changes={
            "kind": [None, source(ActivityKind(kind).label)],
            "date": [None, _fmt(day)],
            "title": [None, title],
            "members": [None, "、".join(m.name for m in members)],
            "participants": [None, participants],
        },
        request=request,
        node=secondment.node,
    )
    return activity
