"""Writes to cases: one function per action, each atomic and row-locked, each writing an event.

The transition table in `cases.workflow` says which action is allowed from which state and who
may take it; `case_act` applies it. Errors are constants the UI, the API and the tests share.
Notifications are rows written in the same transaction; the SMS for them goes out after commit.
"""

import re
import unicodedata
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Case as DbCase
from django.db.models import F, Max, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import WHOLE_SCOPES, node_in_scope, user_assignments
from minqing.accounts.models import User
from minqing.cases import config, photos, workflow
from minqing.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseCounter,
    CaseEvent,
    CasePhoto,
    CaseType,
    Category,
    Channel,
    EscalationRule,
    ExtensionRequest,
    ExtensionStatus,
    Notification,
    NotificationKind,
    Priority,
    ReceptionMatter,
    Satisfaction,
    Stage,
    Status,
    Unit,
    ZoneKind,
)
from minqing.cases.selectors import dispatch_targets, unit_ids_of
from minqing.cases.texts import EXTENSION_ESCALATED, EXTENSION_LAPSED, Said, say
from minqing.core.pasted import plain
from minqing.core.phone import ERR_PHONE, is_valid_phone, normalise_phone
from minqing.core.sms import send_sms
from minqing.core.workdays import deadline_after, working_hours_between
from minqing.grids import geo
from minqing.grids.models import Level, Node
from minqing.registry.services import PermissionDenied

ERR_REQUIRED = _("此项必填。")
ERR_CHOICE = _("选项不正确。")
ERR_TOO_LONG = _("不能超过 {n} 个字。")
ERR_GRID_SCOPE = _("该网格不存在或不在您的管辖范围内。")
ERR_POINT_OUTSIDE = _("所标位置不在您管辖的网格内，请核对位置或选择网格。")
ERR_POINT_OFF_GRID = _("所标位置不在所选网格内，请核对位置或重新选择网格。")
ERR_POINT_NOWHERE = _("该位置不在本县任何网格内，请在地图上重新选点或选择所属网格。")
ERR_LAT_LNG = _("经纬度不正确。")
ERR_CATEGORY = _("请选择有效的案件类别。")
ERR_REPORTER_TWICE = _(
    "上面已选择家庭成员“{name}”为反映人，这里又填了“{typed}”。反映人不是家庭成员的，"
    "请在上面选择“（不是家庭成员，下面填写）”。"
)
ERR_CATEGORY_LEAF = _("“{name}”是大类，请选择它下面的具体类别。")
ERR_NOT_ALLOWED = _("您不能对该案件执行“{action}”。")
ERR_CONFLICT = _("该案件刚刚已被他人处理，当前状态为“{status}”，请刷新页面后再操作。")
ERR_WRONG_STATE = _("该案件当前状态为“{status}”，不能执行“{action}”。")
ERR_NOTE = _("请填写说明。")
ERR_TARGET = _("请选择处置人。")
ERR_TARGET_UNIT = _("请选择处置部门。")
ERR_NOTE_NAMED = _("请填写{label}。")  # the form names its field: 请填写注销原因。
ERR_TARGET_SCOPE = _("所选处置人不能处理该网格的案件。")
ERR_LOCATE_FIRST = _("该案件还没有落到网格：请先“指定网格”，再派遣给该网格的人员。")
ERR_REASSIGN_SAME = _("案件已由所选人员处置，请选择另一位处置人。")
ERR_UNIT_AREA = _("所选部门的服务区域不包括该案件所在网格。")
ERR_TOP_LEVEL = _("已是最高层级，无法再上报。")
ERR_NO_PLACE = _("系统尚未建立辖区网格，暂不能受理。")
ERR_EXTENSION_PENDING = _("该案件已有待审批的延期申请。")
ERR_EXTENSION_DAYS = _("延长天数应为 1 到 30 个工作日。")
ERR_NO_EXTENSION = _("没有待审批的延期申请。")
ERR_APPROVE = _("请选择同意或不同意延期。")
ERR_SATISFACTION = _("请选择满意、基本满意或不满意。")
ERR_PHOTO_SIZE = _("照片不能超过 {mb} MB。")
ERR_PHOTO_COUNT = _("每次最多上传 {n} 张照片。")
ERR_PHOTO_BROKEN = _("照片“{name}”无法打开：文件已损坏，或不是 JPG、PNG、WebP 图片。")
ERR_PHOTO_PIXELS = _("照片“{name}”像素过多，请缩小后再上传。")
ERR_ACTION = _("未知的操作。")
ERR_OWN_EXTENSION = _("不能审批本人提出的延期申请，请由上一级的其他负责人审批。")
ERR_OWN_SUPERVISE = _("不能督办本人正在处置的案件。")
ERR_OWN_WORK = _("不能为本人处置的案件“{action}”，请由其他工作人员回访，或请群众在查询页评价。")
ERR_REOPENED_CANCEL = _("群众不满意而重办的案件不能注销，请办理并答复。")
ERR_LOCATE_GRID = _("请选择您管辖范围内、该案件所在层级之下的网格。")
ERR_LOCATE_SAME = _("案件已在该网格。")
ERR_ESCALATE_HANDLER = _("案件正由{handler}处置，不能直接上报；请先“收回改派”。")

MAX_PHOTOS = 6
SYSTEM = "系统"
RESIDENT = "群众"
# The stored actor labels of what no user did, in the reader's language (a platform's name,
# also stored there, is shown as it is).
ACTOR_LABELS = {SYSTEM: _("系统"), RESIDENT: _("群众")}


class CaseConflict(Exception):
    """Somebody else changed the case first; nothing was written."""


# --- who may act ---------------------------------------------------------------------------


def _assignments(user) -> list[tuple[str, str]]:
    """(role, node path) of a user's assignments, from the rows read once per request."""
    return [(a.role, a.node.path) for a in user_assignments(user)]


def _who_ok(user, case: Case, t: workflow.Transition) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if t.who == workflow.HANDLER:
        return case.handler_user_id == user.pk or (
            case.handler_unit_id is not None and case.handler_unit_id in unit_ids_of(user)
        )
    if user.is_superuser:
        return True
    level_path = case.level_node.path
    # Nobody is above the top level (the county): its own staff approve and urge there, or a
    # case the county transferred to a department could never be extended or supervised.
    at_top = case.level_node.parent_id is None
    for role, path in _assignments(user):
        if role not in t.roles or not level_path.startswith(path):
            continue
        if t.who == workflow.LEVEL:
            return True
        above = level_path != path or at_top
        if t.who == workflow.ABOVE and above:
            return True
        if t.who == workflow.OVERSEE and (above or case.status in _WITH_HANDLER):
            return True
    return False


def _handled_by(user, case: Case) -> bool:
    return case.handler_user_id == user.pk or (
        case.handler_unit_id is not None and case.handler_unit_id in unit_ids_of(user)
    )


def separation_refusal(user, case: Case, action: str):
    """Why `user` may not take `action` on `case` although their role and place allow it, or
    None. The checks of one's own work (分权制衡): nobody approves their own extension, urges
    (督办) what they are handling, or records the resident's satisfaction with what they
    handled themselves, nor takes a case away
    from its handler by sending it up; a case reopened because the resident was unhappy is
    answered, not cancelled. (A grid worker may still check and close what they solved on the
    spot — 就地解决 is the default, and the resident's rating is what checks it.)"""
    t = workflow.TRANSITIONS[action]
    if action == "rate" and _handled_by(user, case):
        return ERR_OWN_WORK.format(action=t.label)
    if action == "supervise" and _handled_by(user, case) and case.status in _WITH_HANDLER:
        return ERR_OWN_SUPERVISE  # 督办 urges the handler: not oneself
    if action == "extend_decide" and case.extension_pending:
        asked = case.extensions.filter(status=ExtensionStatus.PENDING).values("requested_by_id")
        if any(r["requested_by_id"] == user.pk for r in asked):
            return ERR_OWN_EXTENSION
    if action == "cancel" and case.reopened:
        return ERR_REOPENED_CANCEL
    if action == "escalate" and case.status == Status.HANDLING and not _handled_by(user, case):
        who = case.handler_unit or case.handler_user
        return ERR_ESCALATE_HANDLER.format(handler=str(who) if who else _("他人"))
    return None


def can_act(user, case: Case, action: str) -> bool:
    t = workflow.TRANSITIONS[action]
    if action == "escalate" and case.level_node.parent_id is None:
        return False  # nothing above the top level; case_act explains with ERR_TOP_LEVEL
    if action == "locate" and case.level_node.level >= Level.GRID:
        return False  # held by a grid already: nothing below it to send the case to
    # One request for more time at a time, and a decision only on a request (case_act
    # explains either with ERR_EXTENSION_PENDING / ERR_NO_EXTENSION; the page offers neither).
    if action == "extend_request" and case.extension_pending:
        return False
    if action == "extend_decide" and not case.extension_pending:
        return False
    return (
        case.status in t.sources
        and _who_ok(user, case, t)
        and separation_refusal(user, case, action) is None
    )


def available_actions(user, case: Case) -> list[str]:
    return [a for a in workflow.allowed_actions(case.status) if can_act(user, case, a)]


def why_not(user, case: Case, action: str) -> str:
    """Why `action` is not open to `user` on `case` now, as case_act would say it: a form
    from a page that is out of date (the case moved on) or an action never theirs."""
    t = workflow.TRANSITIONS[action]
    if case.status not in t.sources:
        return str(ERR_WRONG_STATE.format(status=_status_text(case), action=t.label))
    return str(separation_refusal(user, case, action) or ERR_NOT_ALLOWED.format(action=t.label))


# --- time limits -----------------------------------------------------------------------------

DEFAULT_LIMITS = {
    Stage.REGISTER: (1, 0),
    Stage.DISPATCH: (1, 0),
    Stage.HANDLE: (3, 0),
    Stage.VERIFY: (1, 0),
}


def limit_for(case: Case, stage: str) -> tuple[int, int]:
    """(working days, working hours) for a stage: the most specific configured row wins.

    Priority outranks channel, channel outranks category, category outranks type: an emergency
    is the same day whatever it is; a reception-day matter has 7 working days whatever it is.
    """
    lineage = case.category.lineage_ids() if case.category_id else []
    best, best_score = None, -1.0
    for row in config.time_limits(stage):
        score = 0.0
        if row.priority:
            if row.priority != case.priority:
                continue
            score += 8
        if row.channel:
            if row.channel != case.channel:
                continue
            score += 4
        if row.category_id:
            if row.category_id not in lineage:
                continue
            # A nearer category beats a farther one, by less than a type row is worth.
            score += 2 + 0.01 * (len(lineage) - lineage.index(row.category_id))
        if row.case_type:
            if row.case_type != case.case_type:
                continue
            score += 1
        if score > best_score:
            best, best_score = row, score
    if best is None:
        return DEFAULT_LIMITS[Stage(stage)]
    return best.working_days, best.working_hours


def _start_clock(case: Case, stage: str, now: datetime) -> None:
    days, hours = limit_for(case, stage)
    case.stage = stage
    case.stage_started_at = now
    case.deadline = deadline_after(now, days=days, hours=hours)
    latest = _answer_limit(case)
    if latest is not None and case.deadline > latest:
        case.deadline = latest
    _set_reminder(case, now)


def _answer_limit(case: Case) -> datetime | None:
    """The latest any clock of a case filed from a reception matter may run to: the matter's
    answer date (reception.answer_by) — the department's 转办, a 退单, the 核查 are all within
    what the visitor was promised. None for every other case (no query but for 接待日 ones).

    An approved extension is a supervisor's decision to give more time: it moves the deadline
    past that date (the register then shows the matter 逾期答复), and later clocks run to the
    answer date moved on by the approved working days, so a later step does not take the
    granted time back. A case reopened because the resident was unhappy was answered: its new
    round runs on the ordinary limits (capped, it would be late and escalated at once)."""
    if case.channel != Channel.RECEPTION or case.pk is None or case.reopened:
        return None
    from minqing.cases.reception import answer_by  # reception imports this module

    matter = ReceptionMatter.objects.filter(case=case).select_related("day").first()
    if matter is None:  # filed as 接待日 on the case form: no reception day promised a date
        return None
    latest = answer_by(matter.day)
    granted = ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.APPROVED)
    days = granted.aggregate(days=Sum("working_days"))["days"]
    return deadline_after(latest, days=days) if days else latest


def _set_reminder(case: Case, now: datetime) -> None:
    """The 催办 point is 80% of the stage's working time; the sweeper looks again then.
    A deadline at or before the stage's start (brought forward to an answer date) leaves no
    working time: the reminder is the deadline itself."""
    total = working_hours_between(case.stage_started_at or now, case.deadline)
    if total > 0:
        case.remind_at = deadline_after(case.stage_started_at or now, hours=0.8 * total)
    if total <= 0 or case.remind_at >= case.deadline:
        case.remind_at = case.deadline
    case.reminded = False
    case.overdue_notified = False
    case.auto_escalated_at = None
    case.next_check_at = max(case.remind_at, now)


def cap_deadline(case: Case, latest: datetime, *, now: datetime) -> None:
    """Bring the running stage's deadline forward to `latest` when it would end after it (a
    reception matter's answer date), with its 催办 point; saved at once."""
    if case.deadline is None or case.deadline <= latest:
        return
    case.deadline = latest
    if case.handle_deadline is not None and case.handle_deadline > latest:
        case.handle_deadline = latest
    _set_reminder(case, now)
    case.save(
        update_fields=[
            "deadline", "handle_deadline", "remind_at", "reminded", "overdue_notified",
            "auto_escalated_at", "next_check_at",
        ]
    )  # fmt: skip


def _stop_clock(case: Case) -> None:
    case.stage = ""
    case.deadline = case.remind_at = case.next_check_at = None


# --- notifications ---------------------------------------------------------------------------


def level_staff(node: Node, case: Case | None = None) -> list:
    """The people who hold cases at a node, to be told of `case`: those assigned exactly there
    in a role that works cases (not a cadre). One whose data scope there is narrowed (自定数据,
    本部门, 仅本人) is told only of a saved case they may open (`selectors.cases_for`)."""
    return _may_see(list(_staff_at(node=node)), case)


def _staff_at(**where):
    """Users assigned at the node(s) `where` names, in a role that works cases, with `whole`:
    whether one of those assignments has a data scope that sees all that is held there."""
    whole = DbCase(When(assignments__data_scope__in=WHOLE_SCOPES, then=Value(1)), default=Value(0))
    lookups = {f"assignments__{key}": value for key, value in where.items()}
    return User.objects.filter(
        **lookups, assignments__role__in=workflow.ALL_STAFF, is_active=True
    ).annotate(whole=Max(whole))


def _may_see(users: list, case: Case | None) -> list:
    """users (from _staff_at) without those whose narrowed scope does not reach `case`."""
    from minqing.cases.selectors import cases_for

    return [
        u
        for u in users
        if u.whole or (case is not None and case.pk and cases_for(u).filter(pk=case.pk).exists())
    ]


def _responsible(case: Case):
    if case.handler_user_id and case.status in (Status.DISPATCHED, Status.HANDLING):
        return User.objects.filter(pk=case.handler_user_id, is_active=True)
    if case.handler_unit_id and case.status in (Status.DISPATCHED, Status.HANDLING):
        return case.handler_unit.members.filter(is_active=True)
    return level_staff(case.level_node, case)


# Who is taking the action being written (case_act): nobody is told of what they did themselves
# (a grid worker's own feedback is not "please verify" in their own bell, nor an SMS).
_ACTOR: ContextVar[int | None] = ContextVar("case_actor", default=None)


def _notify(users, case: Case, kind: str, said: Said) -> None:
    actor = _ACTOR.get()
    users = [u for u in users if u.is_active and u.pk != actor]
    Notification.objects.bulk_create([_notification(u, case, kind, said) for u in users])
    texts = [(u.mobile, f"【民情】{said.text}") for u in users if u.mobile]
    if texts:
        transaction.on_commit(lambda: [send_sms(m, t) for m, t in texts])


def _notification(user, case: Case, kind: str, said: Said) -> Notification:
    return Notification(
        user=user, case=case, kind=kind, message=said.text[:300],
        message_key=said.key, message_args=said.args,
    )  # fmt: skip


# --- accepting a case ------------------------------------------------------------------------


def _next_number(now: datetime, *, async_commit: bool = False) -> str:
    """The next number of the day, e.g. 20261126-000123.

    One statement: an upsert of the day's counter row that returns the new count (three on a
    database without INSERT … RETURNING). The row stays locked until the transaction it runs in
    commits, so concurrent acceptances of the day are numbered one after another.
    async_commit (PostgreSQL): the same statement also sets synchronous_commit off for its
    transaction (see `_number_apart`).
    """
    day = timezone.localdate(now)
    if connection.features.can_return_rows_from_bulk_insert:
        table = connection.ops.quote_name(CaseCounter._meta.db_table)
        source = (
            "SELECT %s, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async"
            if async_commit
            else "VALUES (%s, 1)"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO {table} ("day", "last") {source} '
                f'ON CONFLICT ("day") DO UPDATE SET "last" = {table}."last" + 1 '
                'RETURNING "last"',
                [connection.ops.adapt_datefield_value(day)],
            )
            last = cursor.fetchone()[0]
    else:  # pragma: no cover - SQLite before 3.35
        CaseCounter.objects.get_or_create(day=day)
        # The update takes the row lock: concurrent acceptances are numbered one after another.
        CaseCounter.objects.filter(day=day).update(last=F("last") + 1)
        last = CaseCounter.objects.get(day=day).last
    return f"{day:%Y%m%d}-{last:06d}"


def _number_apart(now: datetime) -> str:
    """Take the day's next number in a transaction of its own, committed at once (PostgreSQL).

    The counter row is then locked for one statement, not until the case's commit: concurrent
    acceptances on several app servers do not queue behind each other's inserts and disk
    flush. That commit does not wait for the disk (synchronous_commit off, for this transaction
    only): the case's own commit comes later in the same log and flushes it too, so a number
    that a saved case carries is never handed out again, even after a crash. A case that then
    fails to save leaves a gap in the day's numbers; numbers stay unique and in order.
    In autocommit mode (the callers') the one statement is that transaction: no BEGIN and
    COMMIT of their own to wait for.
    """
    if connection.get_autocommit():
        return _next_number(now, async_commit=True)
    with transaction.atomic():
        return _next_number(now, async_commit=True)


def _decimal(value, low: int, high: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError from None
    if not d.is_finite() or not (low <= d <= high):
        raise ValueError
    return d


def _in_zone(lat: Decimal | None, lng: Decimal | None, kind: str) -> bool:
    if lat is None or lng is None:
        return False
    return any(
        geo.point_in_geometry(float(lng), float(lat), geometry)
        for layer_kind, geometry in config.zoning_layers()
        if layer_kind == kind
    )


def zone_of(lat, lng) -> str:
    if lat is None or lng is None:
        return ""
    for kind in (ZoneKind.NO_BUILD, ZoneKind.RESTRICTED, ZoneKind.BUILDABLE, ZoneKind.BUILT):
        if _in_zone(lat, lng, kind):
            return kind
    return ""


def _holding_node(user, grid: Node) -> Node:
    """首问负责: the case is held by the acceptor's own level (the deepest assignment over it)."""
    best = None
    for a in user_assignments(user):
        if grid.path.startswith(a.node.path) and (best is None or a.node.level > best.level):
            best = a.node
    return best or grid


def case_clean(
    *, acting_user, data: dict, public: bool = False, place: bool = True, linked: bool = False
) -> dict:
    """Validate what a case is filed with; returns cleaned values or raises ValidationError.

    `place=False` checks a public report's fields without placing it in a grid (no database
    read when `category` is a Category): a deferred Open311 report is placed when it is filed.
    `linked`: the caller has checked that the user reaches the grid's household through a
    personal link (case_accept), so the grid is not checked against their scope.
    """
    errors: dict[str, str] = {}
    out: dict = {}
    for field, n in (("title", 100), ("description", 4000), ("address", 200)):
        # As the user sees it (core.pasted): "\u200b\u200b" pasted from a chat is no description.
        value = plain(str(data.get(field) or ""))
        if len(value) > n:
            errors[field] = ERR_TOO_LONG.format(n=n)
        out[field] = value
    if not out["description"]:
        errors["description"] = ERR_REQUIRED
    if not out["title"]:
        out["title"] = re.split(r"[。！？\n]", out["description"])[0][:30] or "群众反映"
    category = data.get("category")
    if not isinstance(category, Category):
        category = Category.objects.filter(code=str(category or ""), active=True).first()
    if category is None or not category.active:
        errors["category"] = ERR_CATEGORY
    elif category.code not in config.catalog().leaf_by_code:
        # A class with sub-categories (公用设施): its limits and handlers are the sub-category's.
        # (Not a leaf for want of an active class above it: not a category to file under.)
        tree = config.catalog().by_pk.values()
        parent = any(c.parent_id == category.pk and c.active for c in tree)
        errors["category"] = (
            ERR_CATEGORY_LEAF.format(name=category.name) if parent else ERR_CATEGORY
        )
    out["category"] = category
    for field, choices, default in (
        ("channel", Channel, Channel.ONLINE if public else Channel.PATROL),
        ("case_type", CaseType, category.default_type if category else CaseType.HELP),
        ("priority", Priority, Priority.NORMAL),
    ):
        value = data.get(field) or default
        if value not in choices.values:
            errors[field] = ERR_CHOICE
        out[field] = value
    try:
        out["lat"] = _decimal(data.get("lat"), -90, 90)
        out["lng"] = _decimal(data.get("lng"), -180, 180)
    except ValueError:
        errors["lat"] = ERR_LAT_LNG
        out["lat"] = out["lng"] = None
    if (out["lat"] is None) != (out["lng"] is None):
        errors["lat"] = ERR_LAT_LNG
    phone = normalise_phone(str(data.get("reporter_phone") or ""))
    if phone and not is_valid_phone(phone):
        errors["reporter_phone"] = ERR_PHONE
    out["reporter_phone"] = phone
    out["reporter_name"] = plain(str(data.get("reporter_name") or ""))[:50]
    out["anonymous"] = bool(data.get("anonymous"))
    out["reporter"] = data.get("reporter")
    member = out["reporter"]
    if member is not None and out["reporter_name"] and out["reporter_name"] != member.name:
        # A member chosen and another's name typed: shown as the member, with the other's
        # phone on /track/ and the SMS — one reporter, not two mixed.
        if not out["anonymous"]:
            errors["reporter_name"] = ERR_REPORTER_TWICE.format(
                name=member.name, typed=out["reporter_name"]
            )
    out["household"] = data.get("household")

    if not place and public:
        if errors:
            raise ValidationError(errors)
        out["grid"] = None
        return out
    grid = data.get("grid")
    located = (
        geo.locate_grid(float(out["lat"]), float(out["lng"]))
        if out["lat"] is not None and "lat" not in errors
        else None
    )
    if public:
        grid = located or grid
    elif located is not None and node_in_scope(acting_user, located):
        grid = located
    elif located is not None and grid is None:
        errors["lat"] = ERR_POINT_OUTSIDE
    elif grid is None and out["lat"] is not None and "lat" not in errors:
        # A point in no grid (0,0, a slip of the finger off the map) and no grid chosen: say
        # so on the point, which was otherwise dropped without a word.
        errors["lat"] = ERR_POINT_NOWHERE
    elif grid is not None and _point_off_grid(grid, out["lat"], out["lng"], located):
        # A point in another's grid, or in no grid (0,0 far out of the county), beside a chosen
        # grid: the map would show the case where it is not.
        errors["lat"] = ERR_POINT_OFF_GRID
    if not public:
        if grid is None:
            errors.setdefault("grid", ERR_REQUIRED)
        elif not linked and not node_in_scope(acting_user, grid):
            errors["grid"] = ERR_GRID_SCOPE
    if grid is None and public:
        grid = Node.objects.filter(parent__isnull=True).order_by("id").first()
        if grid is None:  # no place tree at all yet: nowhere to accept a report
            errors["lat"] = ERR_NO_PLACE
    out["grid"] = grid
    if errors:
        raise ValidationError(errors)
    return out


def _point_off_grid(grid: Node, lat, lng, located: Node | None) -> bool:
    """Is a marked point outside the chosen grid (whose boundary is drawn)? The point's own
    grid in the user's scope was taken instead before this is asked."""
    if lat is None or lng is None or located == grid:
        return False
    geometry = geo.geometry_of(grid.boundary) if isinstance(grid, Node) and grid.boundary else None
    return geometry is not None and not geo.point_in_geometry(float(lng), float(lat), geometry)


def case_accept(
    *,
    acting_user=None,
    data: dict,
    register: bool = True,
    public: bool = False,
    source_client: str = "",
    now: datetime | None = None,
    token: str = "",
    linked: bool = False,
    open311_client=None,
) -> Case:
    """受理: record a case. Staff who file it themselves also register it (立案) at once.

    A public report (Open311, the resident page) is accepted at its grid, or at the county when
    its place is unknown, and waits there to be registered. So does a demand a cadre files for
    a household they are paired or duty-linked with outside their own area (`linked`, checked
    by the caller, visits.services.visit_demand_to_case): the grid's staff are told and own it.

    Everything that only reads (checking, placing, zoning, the time limit, who is told) comes
    first; the transaction holds only the writes (SQLite takes its one write lock when a
    transaction begins, so the reads of concurrent requests run in parallel, not under it).
    The day's number: on PostgreSQL, called outside a transaction (Open311, the resident
    page), it is taken in a short transaction of its own (`_number_apart`); otherwise the
    counter row is updated just before the case is inserted and stays locked until commit.
    """
    clean = case_clean(acting_user=acting_user, data=data, public=public, linked=linked)
    now = now or timezone.now()
    staff = acting_user is not None and getattr(acting_user, "is_authenticated", False)
    case = Case(
        accepted_at=now,
        updated_at=now,
        created_by=acting_user if staff else None,
        source_client=source_client[:50],
        open311_client=open311_client,
        **{k: v for k, v in clean.items() if k != "reporter_phone"},
    )
    if token:
        case.token = token  # a deferred Open311 report keeps the token its client was given
    case.reporter_phone = clean["reporter_phone"]
    phone = clean["reporter_phone"] or (case.reporter.phone if case.reporter_id else "")
    case.reporter_phone_last4 = phone[-4:] if len(phone) >= 4 else ""
    case.level_node = _holding_node(acting_user, case.grid) if staff and not linked else case.grid
    case.zoning = zone_of(case.lat, case.lng)
    flagged = case.zoning == ZoneKind.NO_BUILD and _zoning_sensitive(case.category)
    if flagged:
        case.priority = Priority.URGENT
    _start_clock(case, Stage.REGISTER, now)
    # Who is told is read before the transaction too (what _notify uses of them, nothing more).
    told = None if staff and not linked else level_staff(case.level_node)
    # PostgreSQL, and not inside a caller's transaction: the number in a short one of its own.
    apart = connection.vendor == "postgresql" and not connection.in_atomic_block
    number = _number_apart(now) if apart else None
    with transaction.atomic():
        case.number = number or _next_number(now)
        case.save()
        label = "" if staff else (source_client or RESIDENT)
        _event(
            case,
            actor=acting_user if staff else None,
            label=label,
            action="accept",
            at=now,
            to_status=Status.ACCEPTED,
            to_node=case.level_node,
        )
        if flagged:
            _event(
                case,
                actor=None,
                label=SYSTEM,
                action="zoning",
                at=now,
                public=False,
                note=say("log_zoning"),
            )
        if staff and not case.anonymous:
            _send_receipt(case, phone)
        if staff and register and not linked:
            case = case_act(acting_user=acting_user, case=case, action="register", now=now)
        elif told is not None:
            _notify(
                told,
                case,
                NotificationKind.ASSIGNED,
                say("accepted", number=case.number, title=case.title),
            )
    return case


def _send_receipt(case: Case, phone: str) -> None:
    """件件有回音: a resident whose problem staff accepted (a call, a visit, the front desk)
    gets the case number by SMS, and where to follow it. Reports from platforms (Open311) are
    answered by their platform; anonymous reporters get nothing (the caller's checks)."""
    if not phone:
        return
    where = f"{settings.MINQING_PUBLIC_URL}/track/" if settings.MINQING_PUBLIC_URL else "查询页"
    text = (
        f"【民情】您反映的问题已受理，案件编号 {case.number}。"
        f"可在{where}凭案件编号和手机号后四位查询办理进度。"
    )
    transaction.on_commit(lambda: send_sms(phone, text))


def _zoning_sensitive(category: Category) -> bool:
    node = category
    while node is not None:
        if node.zoning_sensitive:
            return True
        node = node.parent
    return False


def _event(
    case,
    *,
    actor,
    action,
    at,
    label="",
    from_status="",
    to_status="",
    from_node=None,
    to_node=None,
    target_user=None,
    target_unit=None,
    note: str | Said = "",
    public=True,
) -> CaseEvent:
    """The log row of an action; `note` is what a person wrote, or what minqing says (texts)."""
    said = note if isinstance(note, Said) else None
    return CaseEvent.objects.create(
        case=case, actor=actor, actor_label=label, action=action, at=at,
        from_status=from_status, to_status=to_status or case.status,
        from_node=from_node, to_node=to_node, target_user=target_user, target_unit=target_unit,
        note=(said.text if said else note)[:4000], public=public,
        note_key=said.key if said else "", note_args=said.args if said else None,
    )  # fmt: skip


# --- acting on a case ------------------------------------------------------------------------


def _status_text(case: Case) -> str:
    """The case's status in the language of the ERR_* messages (the UI language)."""
    return str(case.get_status_display())


def _lock(case: Case) -> Case:
    # Lock the case row alone, then read it with its joins. A locking query that joins the node
    # would, on PostgreSQL, re-check the join against the row another transaction just changed
    # (the sweeper escalating it) and find nothing; and it would lock node and category rows.
    Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).get()
    return Case.objects.select_related("level_node", "category").get(pk=case.pk)


@transaction.atomic
def case_act(
    *,
    acting_user,
    case: Case,
    action: str,
    note: str = "",
    version: int | None = None,
    target_user: User | None = None,
    target_unit: Unit | None = None,
    days: int | None = None,
    approve: bool | None = None,
    satisfaction: str = "",
    target_node: Node | None = None,
    now: datetime | None = None,
) -> Case:
    """Take one action of the transition table on a case, as `acting_user`.

    `version` is what the actor's form saw: if the case changed since, CaseConflict is raised
    and nothing is written (two handlers at once: the first wins, the second is told).
    """
    t = workflow.TRANSITIONS.get(action)
    if t is None:
        raise ValidationError({"action": ERR_ACTION})
    now = now or timezone.now()
    note = plain(note or "")  # a note of zero-width marks only says nothing (core.pasted)
    case = _lock(case)
    if case.status not in t.sources:
        msg = ERR_CONFLICT if version is not None and version != case.version else ERR_WRONG_STATE
        raise CaseConflict(msg.format(status=_status_text(case), action=t.label))
    if version is not None and version != case.version:
        raise CaseConflict(ERR_CONFLICT.format(status=_status_text(case)))
    if not _who_ok(acting_user, case, t) or (
        action == "locate" and case.level_node.level >= Level.GRID
    ):
        raise PermissionDenied(ERR_NOT_ALLOWED.format(action=t.label))
    refusal = separation_refusal(acting_user, case, action)
    if refusal is not None:
        raise PermissionDenied(refusal)
    if t.note_required and not note and not (action == "extend_decide"):
        raise ValidationError({"note": ERR_NOTE})
    if len(note) > 4000:
        raise ValidationError({"note": ERR_TOO_LONG.format(n=4000)})

    from_status, from_node = case.status, case.level_node
    event = {"note": note, "target_user": None, "target_unit": None}
    handler = _ACTIONS[action]
    acting = _ACTOR.set(acting_user.pk)
    try:
        handler(case, acting_user=acting_user, note=note, now=now, event=event,
                target_user=target_user, target_unit=target_unit, days=days, approve=approve,
                satisfaction=satisfaction, target_node=target_node)  # fmt: skip
    finally:
        _ACTOR.reset(acting)
    if t.target is not None and case.status == from_status and action not in ("rate",):
        case.status = t.target
    if from_status in _WITH_HANDLER and case.status not in _WITH_HANDLER:
        _lapse_extensions(case, now)
    case.version += 1
    case.updated_at = now
    case.save()
    _event(case, actor=acting_user, action=event.get("action", action), at=now,
           from_status=from_status, to_status=case.status, from_node=from_node,
           to_node=case.level_node, target_user=event["target_user"],
           target_unit=event["target_unit"], note=event["note"],
           public=event.get("public", True))  # fmt: skip
    return case


_WITH_HANDLER = (Status.DISPATCHED, Status.HANDLING)


def _lapse_extensions(case: Case, now: datetime) -> None:
    """A request still pending when the case leaves its handler (fed back, declined, escalated)
    is closed: otherwise someone could approve it later for a different handler, and the next
    handler could not ask (one pending request per case)."""
    ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.PENDING).update(
        status=ExtensionStatus.REJECTED, decided_at=now, decision_note=EXTENSION_LAPSED
    )
    case.extension_pending = False


def _parent_level(node: Node) -> Node | None:
    """The level above a node that has staff: a zone (片区) between grid and community has none."""
    parent = node.parent
    while parent is not None and parent.level == Level.ZONE and parent.parent_id:
        parent = parent.parent
    return parent


def _registered(case: Case, now: datetime) -> None:
    """立案 (by the level, or by going up): the first one is timed against the 立案 limit
    still running (按时立案率). Call it before the next stage's clock starts."""
    if case.registered_at is None:
        case.registered_at = now
        timed = case.stage == Stage.REGISTER and case.deadline is not None
        case.registered_on_time = not timed or now <= case.deadline


def _handed_over(case: Case, now: datetime, start_clock=None) -> None:
    """A handler has it now (派遣, 转办, 自行处置): the handle clock starts (派遣数).
    start_clock: the demo's, which reads the limits from its own cache."""
    case.dispatched_at = now
    case.dispatch_count += 1
    (start_clock or _start_clock)(case, Stage.HANDLE, now)
    case.handle_deadline = case.deadline


def _fed_back(case: Case, now: datetime, start_clock=None) -> None:
    """处置反馈: the handling is timed against the handler's limit (按期处置率); after a 退回
    the last feedback counts."""
    case.fed_back_at = now
    case.handled_on_time = case.handle_deadline is None or now <= case.handle_deadline
    (start_clock or _start_clock)(case, Stage.VERIFY, now)


def _register(case, *, now, **_):
    _registered(case, now)
    case.status = Status.REGISTERED
    _start_clock(case, Stage.DISPATCH, now)


def _cancel(case, *, note, now, **_):
    case.cancel_reason = note[:200]
    case.closed_at = now
    _stop_clock(case)


def _take(case, *, acting_user, now, **_):
    case.handler_user = acting_user
    case.handler_unit = None
    _handed_over(case, now)


def _check_target(case, acting_user, target_user) -> None:
    """A handler is one of those the forms offer (selectors.dispatch_targets: the grid's
    workers and its community's staff). Anyone whose place held the grid passed before —
    the API put a case in the county officer's hands, who could not act on it."""
    if case.grid.level < Level.COMMUNITY:
        # Placed no lower than a street (a report with an address only): nobody's grid yet
        # (a case at a community goes to the community's staff, as the forms offer).
        raise ValidationError({"target_user": ERR_LOCATE_FIRST})
    if not target_user.is_active or not (
        dispatch_targets(acting_user, case).filter(pk=target_user.pk).exists()
    ):
        raise ValidationError({"target_user": ERR_TARGET_SCOPE})


def _dispatch(case, *, acting_user, target_user, now, event, **_):
    if target_user is None:
        raise ValidationError({"target_user": ERR_TARGET})
    _check_target(case, acting_user, target_user)
    case.handler_user, case.handler_unit = target_user, None
    _handed_over(case, now)
    event["target_user"] = target_user
    _notify(
        [target_user],
        case,
        NotificationKind.ASSIGNED,
        say("dispatched", number=case.number, title=case.title, deadline=case.deadline),
    )


def _transfer(case, *, target_unit, now, event, **_):
    if target_unit is None or not target_unit.active:
        raise ValidationError({"target_unit": ERR_TARGET_UNIT})
    if not case.grid.path.startswith(target_unit.node.path):
        raise ValidationError({"target_unit": ERR_UNIT_AREA})
    case.handler_user, case.handler_unit = None, target_unit
    _handed_over(case, now)
    event["target_unit"] = target_unit
    _notify(target_unit.members.all(), case, NotificationKind.ASSIGNED,
            say("transferred", unit=target_unit.name, number=case.number, title=case.title,
                deadline=case.deadline))  # fmt: skip


def _back_to_dispatch(case, now: datetime) -> None:
    """No handler any more (退单, 收回, 上报): the dispatch clock starts again."""
    case.handler_user = case.handler_unit = None
    case.dispatched_at = case.handle_deadline = None
    _start_clock(case, Stage.DISPATCH, now)


def _decline(case, *, acting_user, now, **_):
    case.decline_count += 1  # 准确派遣率: this dispatch was not
    _back_to_dispatch(case, now)
    # Whoever dispatched it must hear of it: a community that dispatched a grid's case is not
    # among the grid's staff (and grid workers cannot dispatch again themselves).
    last = (
        case.events.filter(action__in=("dispatch", "transfer"), actor__isnull=False)
        .order_by("-at", "-id")
        .values_list("actor", flat=True)
        .first()
    )
    told = {u.pk: u for u in level_staff(case.level_node, case)}
    if last is not None and last not in told:
        told.update({u.pk: u for u in User.objects.filter(pk=last, is_active=True)})
    told.pop(acting_user.pk, None)
    _notify(told.values(), case, NotificationKind.ASSIGNED,
            say("declined", number=case.number))  # fmt: skip


def _recall(case, *, acting_user, note, now, **_):
    # Whoever had it hears that it is no longer theirs.
    had = list(_responsible(case))
    _back_to_dispatch(case, now)
    _notify([u for u in had if u.pk != acting_user.pk], case, NotificationKind.ASSIGNED,
            say("recalled", number=case.number, note=note))  # fmt: skip


def _reassign(case, *, acting_user, target_user, note, now, event, **_):
    """改派: another handler takes the case over as it stands — its state, its clock and its
    deadline stay (the resident waits no longer because the staff changed)."""
    if target_user is None:
        raise ValidationError({"target_user": ERR_TARGET})
    if case.handler_unit_id is None and case.handler_user_id == target_user.pk:
        raise ValidationError({"target_user": ERR_REASSIGN_SAME})
    _check_target(case, acting_user, target_user)
    had = [u for u in _responsible(case) if u.pk not in (acting_user.pk, target_user.pk)]
    # A request for more time was the previous handler's: the new one asks again if need be.
    _lapse_extensions(case, now)
    case.handler_user, case.handler_unit = target_user, None
    event["target_user"] = target_user
    _notify(had, case, NotificationKind.ASSIGNED,
            say("reassigned_away", number=case.number, note=note))  # fmt: skip
    _notify(
        [target_user],
        case,
        NotificationKind.ASSIGNED,
        say("reassigned", number=case.number, title=case.title, deadline=case.deadline),
    )


def _start(case, *, acting_user, **_):
    # The handle clock started at dispatch (数字城管: 任务派遣, the clock starts); a unit
    # member who starts it becomes its handler.
    if case.handler_user_id is None:
        case.handler_user = acting_user


def _feedback(case, *, note, now, **_):
    case.result = note
    case.status = Status.FED_BACK
    _fed_back(case, now)
    _notify(level_staff(case.level_node, case), case, NotificationKind.FEEDBACK,
            say("fed_back", number=case.number))  # fmt: skip


def _verify(case, *, note, now, **_):
    case.answer = note or case.result
    case.closed_at = now
    case.status = Status.CLOSED
    case.closed_on_time = case.handle_deadline is None or now <= case.handle_deadline
    start = case.dispatched_at or case.registered_at or case.accepted_at
    case.handling_hours = round(working_hours_between(start, now), 2)
    _stop_clock(case)


def _rework(case, *, now, **_):
    case.rework_count += 1
    case.status = Status.HANDLING
    case.fed_back_at = None
    # The original limit still counts for 按期结案; the handler gets at least a working day.
    _start_clock(case, Stage.HANDLE, now)
    if case.handle_deadline and case.handle_deadline > case.deadline:
        case.deadline = case.handle_deadline
        _set_reminder(case, now)
    _notify(_responsible(case), case, NotificationKind.REOPENED,
            say("reworked", number=case.number))  # fmt: skip


def _escalate(case, *, now, event, **_):
    # A grid's parent may be a zone (片区), which has no staff of its own: skip to the community.
    parent = _parent_level(case.level_node)
    if parent is None:
        raise ValidationError({"note": ERR_TOP_LEVEL})
    _move_up(case, parent)
    case.status = Status.REGISTERED
    # An accepted case goes up registered: it counts as 立案 from now on.
    _registered(case, now)
    _back_to_dispatch(case, now)
    event["to_node"] = parent


def _locate(case, *, acting_user, target_node, note, event, **_):
    grid = target_node
    if (
        not isinstance(grid, Node)
        or grid.level != Level.GRID
        or not grid.path.startswith(case.level_node.path)
        or not node_in_scope(acting_user, grid)
    ):
        raise ValidationError({"target_node": ERR_LOCATE_GRID})
    if grid.pk == case.grid_id:
        raise ValidationError({"target_node": ERR_LOCATE_SAME})
    case.grid = grid
    case.level_node = grid
    event["to_node"] = grid
    event["note"] = say("log_located", node=grid.name, note=note)
    event["public"] = False
    _notify(level_staff(grid, case), case, NotificationKind.ASSIGNED,
            say("located", number=case.number, title=case.title, node=grid.name))  # fmt: skip


def _move_up(case: Case, parent: Node) -> None:
    case.level_node = parent
    case.escalation_count += 1
    _notify(level_staff(parent, case), case, NotificationKind.ESCALATED,
            say("escalated", number=case.number, title=case.title, node=parent.name))  # fmt: skip


def _extend_request(case, *, acting_user, note, days, now, event, **_):
    if not isinstance(days, int) or not (1 <= days <= 30):
        raise ValidationError({"days": ERR_EXTENSION_DAYS})
    if case.extensions.filter(status=ExtensionStatus.PENDING).exists():
        raise ValidationError({"days": ERR_EXTENSION_PENDING})
    ExtensionRequest.objects.create(
        case=case, requested_by=acting_user, working_days=days, reason=note[:500]
    )
    case.extension_pending = True
    event["note"] = say("log_extension_asked", days=days, note=note)
    # Those who may decide hear of it: supervisors one level up (at the top, the top's own).
    parent = _parent_level(case.level_node) or case.level_node
    deciders = User.objects.filter(
        assignments__node=parent, assignments__role__in=workflow.SUPERVISORS, is_active=True
    ).distinct()
    _notify(deciders, case, NotificationKind.EXTENSION,
            say("extension_asked", number=case.number, days=days))  # fmt: skip


def _extend_decide(case, *, acting_user, note, approve, now, event, **_):
    req = case.extensions.filter(status=ExtensionStatus.PENDING).first()
    if req is None:
        raise ValidationError({"approve": ERR_NO_EXTENSION})
    if not isinstance(approve, bool):
        raise ValidationError({"approve": ERR_APPROVE})
    req.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    req.decided_by, req.decided_at, req.decision_note = acting_user, now, note[:500]
    req.save()
    case.extension_pending = False
    if approve:
        case.deadline = deadline_after(max(case.deadline or now, now), days=req.working_days)
        case.handle_deadline = case.deadline
        _set_reminder(case, now)
        event["note"] = say(
            "log_extension_granted", days=req.working_days, deadline=case.deadline, note=note
        )
    else:
        event["note"] = say("log_extension_refused", note=note)
    event["action"] = "extend_approve" if approve else "extend_reject"
    _notify([req.requested_by], case, NotificationKind.EXTENSION,
            say("extension_granted" if approve else "extension_refused",
                number=case.number))  # fmt: skip


def _supervise(case, *, note, **_):
    case.supervise_count += 1
    _notify(_responsible(case), case, NotificationKind.SUPERVISED,
            say("supervised", number=case.number, note=note))  # fmt: skip


def _rate(case, *, satisfaction, note, now, event, **_):
    _apply_rating(case, satisfaction, note, now, event)


def _apply_rating(case, satisfaction, note, now, event) -> None:
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": ERR_SATISFACTION})
    case.satisfaction = satisfaction
    case.rating_note = (note or "")[:500]
    event["note"] = say("log_rated", satisfaction=satisfaction, note=note or "")
    if satisfaction == Satisfaction.UNSATISFIED and not case.reopened:
        # 不满意 reopens the case once: the level that held it registers it again.
        case.reopened = True
        case.status = Status.REGISTERED
        case.closed_at = None
        case.closed_on_time = None
        case.handler_user = case.handler_unit = None
        # The old promise is void: the case waits to be dispatched again, with that stage's time.
        case.dispatched_at = case.handle_deadline = None
        _start_clock(case, Stage.DISPATCH, now)
        event["action"] = "reopen"
        _notify(level_staff(case.level_node, case), case, NotificationKind.REOPENED,
                say("reopened", number=case.number))  # fmt: skip
    else:
        case.status = Status.RATED


_ACTIONS = {
    "register": _register,
    "cancel": _cancel,
    "take": _take,
    "dispatch": _dispatch,
    "locate": _locate,
    "transfer": _transfer,
    "decline": _decline,
    "recall": _recall,
    "reassign": _reassign,
    "start": _start,
    "feedback": _feedback,
    "verify": _verify,
    "rework": _rework,
    "escalate": _escalate,
    "extend_request": _extend_request,
    "extend_decide": _extend_decide,
    "supervise": _supervise,
    "rate": _rate,
}


# --- residents --------------------------------------------------------------------------------


@transaction.atomic
def case_rate_public(*, case: Case, satisfaction: str, note: str = "") -> Case:
    """The resident rates a closed case on the public page (no login)."""
    now = timezone.now()
    case = _lock(case)
    if case.status != Status.CLOSED:
        raise CaseConflict(ERR_WRONG_STATE.format(status=_status_text(case), action=_("评价")))
    note = plain(note or "")
    if len(note) > 500:
        raise ValidationError({"note": ERR_TOO_LONG.format(n=500)})
    event = {"note": ""}
    from_status = case.status
    _apply_rating(case, satisfaction, note, now, event)
    case.version += 1
    case.updated_at = now
    case.save()
    _event(case, actor=None, label=RESIDENT, action=event.get("action", "rate"), at=now,
           from_status=from_status, to_status=case.status, note=event["note"])  # fmt: skip
    return case


_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣_.·/", "-"))


def normal_case_number(raw: str) -> str:
    """A case number as a resident types it, written the way cases are numbered.

    A phone's number pad has no "-", a Chinese keyboard types full-width digits and "－", a note
    copied by hand has a space: 20261129000004, 20261129 000004, ２０２６１１２９－０００００４
    all mean 20261129-000004. What is not a number is returned as typed (and found nowhere)."""
    text = normal_digits(str(raw or "").translate(_DASHES))
    if re.fullmatch(r"\d{14}", text):
        return f"{text[:8]}-{text[8:]}"
    if re.fullmatch(r"\d{8}-+\d{6}", text):
        return f"{text[:8]}-{text[-6:]}"
    return text


def normal_digits(raw: str) -> str:
    """Digits as typed on any keyboard (full-width, with spaces) written plainly."""
    return "".join(unicodedata.normalize("NFKC", str(raw or "")).split())


def public_lookup(number: str, phone_last4: str) -> Case | None:
    """A case by its number and the last 4 digits of the reporter's phone, or None."""
    number, last4 = normal_case_number(number), normal_digits(phone_last4)
    if not (re.fullmatch(r"\d{8}-\d{6}", number) and re.fullmatch(r"\d{4}", last4)):
        return None
    return (
        Case.objects.filter(number=number, reporter_phone_last4=last4)
        .select_related("category", "level_node")
        .first()
    )


# --- photos -----------------------------------------------------------------------------------


def photo_clean(files) -> list[tuple[object, str]]:
    """Each file with its content type, as its header says (cases.photos.check): a form with
    one bad photo is refused before anything is stored, the photo named. A body that does not
    decode is refused when it is stored (case_add_photos), inside the form's transaction."""
    files = [f for f in files if f]
    if len(files) > MAX_PHOTOS:
        raise ValidationError({"photos": ERR_PHOTO_COUNT.format(n=MAX_PHOTOS)})
    max_bytes = getattr(settings, "CASE_PHOTO_MAX_BYTES", 10 * 1024 * 1024)
    out = []
    for f in files:
        if f.size > max_bytes:
            raise ValidationError({"photos": ERR_PHOTO_SIZE.format(mb=max_bytes // 1024 // 1024)})
        name = str(getattr(f, "name", "") or "")[-60:]
        try:
            kind = photos.check(f)
        except photos.PhotoTooLarge:
            raise ValidationError({"photos": ERR_PHOTO_PIXELS.format(name=name)}) from None
        except photos.NotAPhoto:
            raise ValidationError({"photos": ERR_PHOTO_BROKEN.format(name=name)}) from None
        out.append((f, kind))
    return out


def case_add_photos(*, acting_user, case: Case, files, stage: str = "") -> list[CasePhoto]:
    """Store the photos as cases.photos prepares them (upright, scaled down, no metadata); a
    bad photo stops the whole form (photo_clean runs first on all of them)."""
    kept = []
    for f, _kind in photo_clean(files):
        name = str(getattr(f, "name", "") or "")[-60:]
        try:
            kept.append(photos.prepared(f))  # decoded here, once: photo_clean read headers
        except photos.PhotoTooLarge:
            raise ValidationError({"photos": ERR_PHOTO_PIXELS.format(name=name)}) from None
        except photos.NotAPhoto:
            raise ValidationError({"photos": ERR_PHOTO_BROKEN.format(name=name)}) from None
    # Every photo decoded before any is written: a bad fifth one leaves no file of the first
    # four behind (the transaction takes back their rows, not their files).
    saved = []
    for photo_kept in kept:
        photo = CasePhoto(
            case=case,
            content_type=photo_kept.content_type,
            size=len(photo_kept.content),
            stage=stage,
            uploaded_by=acting_user,
        )
        photo.file.save("photo", ContentFile(photo_kept.content), save=False)
        photo.save()
        saved.append(photo)
    return saved


# --- the deadline sweeper ---------------------------------------------------------------------


def _escalation_grace(level: int, rules: dict | None = None) -> int | None:
    """Working days a late case may stay at `level` before it goes up; None: it stays there.

    `rules` is {level: EscalationRule} read once per sweep; without it, one query.
    """
    rule = EscalationRule.objects.filter(level=level).first() if rules is None else rules.get(level)
    if rule is None:
        return 0 if level >= Level.COMMUNITY else None
    return rule.grace_working_days if rule.active else None


def _sweep_one(case: Case, now: datetime, counts: dict, rules: dict, out: dict) -> None:
    """Look at one locked, due case: remind once, mark late once, escalate when its grace is over.

    A case is late once `now` is past its deadline (as in `selectors.overdue_for` and
    `closed_on_time`). Every path leaves next_check_at after `now`, or None when nothing is left
    to watch, so one run never looks at the same row twice.

    What changes goes to `out` and is written for the whole batch by `sweep_deadlines` (a
    catch-up run after downtime has thousands of due cases): the case's changed fields, and the
    notifications, events and texts `_notify`, `_event` and `_move_up` would write. The people
    come from out["people"], filled per batch, else read through `_responsible`/`level_staff`.
    """
    from datetime import timedelta

    def people(key, read):
        found = out["people"].get(key)
        if found is None:
            found = out["people"][key] = list(read())
        return found

    def responsible():  # _responsible, per batch
        if case.status in (Status.DISPATCHED, Status.HANDLING):
            if case.handler_user_id:
                return people(("user", case.handler_user_id), lambda: _responsible(case))
            if case.handler_unit_id:
                return people(("unit", case.handler_unit_id), lambda: _responsible(case))
        node = case.level_node
        return _may_see(people(("level", node.pk), lambda: _staff_at(node=node)), case)

    def tell(users, kind: str, said: Said) -> None:  # _notify, per batch
        for user in users:
            if user.is_active:
                out["notes"].append(_notification(user, case, kind, said))
                if user.mobile:
                    out["sms"].append((user.mobile, f"【民情】{said.text}"))

    def record(action: str, said: Said, public: bool = False, **nodes) -> None:  # _event
        out["events"].append(
            CaseEvent(case=case, actor=None, actor_label=SYSTEM, action=action, at=now,
                      from_status=case.status if nodes else "", to_status=case.status,
                      note=said.text[:4000], note_key=said.key, note_args=said.args,
                      public=public, **nodes)
        )  # fmt: skip

    escalated = False
    if case.deadline is None:
        case.next_check_at = None
    elif now <= case.deadline:
        if not case.reminded and case.remind_at and case.remind_at <= now:
            case.reminded = True
            counts["reminded"] += 1
            tell(responsible(), NotificationKind.REMINDER,
                 say("reminder", number=case.number, title=case.title, deadline=case.deadline))  # fmt: skip
            record("remind", say("log_reminder"))
        if not case.reminded and case.remind_at and case.remind_at > now:
            case.next_check_at = case.remind_at  # woken early (e.g. --now): keep the reminder
        else:
            case.next_check_at = case.deadline + timedelta(microseconds=1)  # first late instant
    else:
        if not case.overdue_notified:
            case.overdue_notified = True
            case.reminded = True
            case.late = True
            counts["overdue"] += 1
            tell(responsible(), NotificationKind.OVERDUE,
                 say("overdue", number=case.number, title=case.title))  # fmt: skip
            record("overdue", say("log_overdue", stage=case.stage, deadline=case.deadline))
        grace = _escalation_grace(case.level_node.level, rules)
        parent = case.level_node.parent
        while parent is not None and parent.level == Level.ZONE and parent.parent_id:
            parent = parent.parent
        if grace is None or parent is None:
            case.next_check_at = None
        else:
            # Late where it was held at the deadline: the grace counts from the deadline; after
            # an automatic escalation, from the moment it arrived (at least a working day, so a
            # late case climbs one level per working day at most, never all at once).
            if case.auto_escalated_at is None:
                due = case.deadline if grace == 0 else deadline_after(case.deadline, days=grace)
            else:
                due = deadline_after(case.auto_escalated_at, days=max(grace, 1))
            if due <= now:
                from_node = case.level_node
                case.level_node = parent  # _move_up
                case.escalation_count += 1
                tell(_may_see(people(("level", parent.pk), lambda: _staff_at(node=parent)), case),
                     NotificationKind.ESCALATED,
                     say("escalated", number=case.number, title=case.title, node=parent.name))  # fmt: skip
                case.auto_escalated_at = now
                # Who holds the case changed: a form opened before this is stale (CaseConflict).
                case.version += 1
                case.updated_at = now
                escalated = True
                counts["escalated"] += 1
                logged = say("log_escalated", node=parent.name)
                if case.extension_pending:
                    # As 上报, 收回 and 改派 do, a request still pending is closed: its deciders
                    # were those above the old level, and the new holder is not above itself.
                    # Its handler hears of it and may ask again (the level above now decides).
                    # One read, only for the few cases with a request pending.
                    asked = people(("asked", case.pk), lambda: [
                        r.requested_by for r in case.extensions.filter(
                            status=ExtensionStatus.PENDING).select_related("requested_by")
                    ])  # fmt: skip
                    case.extension_pending = False
                    out["lapsed"].append(case.pk)
                    tell(asked, NotificationKind.EXTENSION,
                         say("extension_lapsed", number=case.number, node=parent.name))  # fmt: skip
                    logged = say("log_escalated_lapsed", node=parent.name)
                record("escalate", logged, public=True, from_node=from_node, to_node=parent)
                grace_up = _escalation_grace(parent.level, rules)
                case.next_check_at = (
                    deadline_after(now, days=max(grace_up, 1))
                    if grace_up is not None and parent.parent_id
                    else None
                )
            else:
                case.next_check_at = due
    if case.next_check_at is not None and case.next_check_at <= now:
        # Defensive: never look at the same row twice in one run, but never forget it either.
        case.next_check_at = now + timedelta(microseconds=1)
    fields = ("reminded", "overdue_notified", "late", "next_check_at")
    if escalated:
        fields += ("level_node", "escalation_count", "auto_escalated_at", "version", "updated_at")
        fields += ("extension_pending",)
    out["saves"].setdefault(fields, []).append(case)


def sweep_deadlines(*, now: datetime | None = None, batch_size: int = 500) -> dict:
    """Send due reminders, mark lateness and escalate late cases, each exactly once.

    Safe with several app servers: every batch locks its rows (SKIP LOCKED on PostgreSQL, so
    two sweepers share the work instead of queueing) and moves each row's next_check_at past
    now in the same transaction, so no row is handled twice. A user acting on a case takes the
    same row lock, so the two never overwrite each other. SQLite runs one write transaction at a
    time, which gives the same guarantee.

    A batch is written with a few statements per batch plus one UPDATE per case. If anything in
    it fails, the batch is undone and done again case by case, each in a savepoint: one bad case
    (a bug, bad data) is logged, left unchanged and retried in an hour; it never stops the run
    for the others. Returns the counts, "failed" included.
    """
    import logging
    from datetime import timedelta

    log = logging.getLogger("minqing.cases.sweeper")
    now = now or timezone.now()
    counts = {"checked": 0, "reminded": 0, "overdue": 0, "escalated": 0, "failed": 0}
    rules = {r.level: r for r in EscalationRule.objects.all()}
    known: dict = {}  # ("user"|"unit"|"level", id) → active users to tell, for this run
    skip_locked = connection.features.has_select_for_update_skip_locked

    def due():
        # Only the partial index on next_check_at: a range read in the order it is kept,
        # whatever the table's size. (A status filter here lets SQLite's planner pick the
        # status index instead and read every open case.) Closed cases are never on the
        # list (_stop_clock clears it); one left there by older code is just taken off.
        # The reporter's phone (encrypted) is not read: a value no key in force can open
        # would stop every run at the batch's load, before any case is tried on its own.
        return (
            Case.objects.select_related("level_node__parent__parent")
            .defer("reporter_phone")
            .order_by("next_check_at", "id")
        )

    def fill(batch) -> None:
        """Everybody the batch may notify, in three queries (see _responsible, level_staff)."""
        users = {c.handler_user_id for c in batch} - {None}
        units = {c.handler_unit_id for c in batch} - {None}
        nodes = set()
        for c in batch:
            node = c.level_node
            nodes.update(n for n in (node.pk, node.parent_id, node.parent and node.parent.parent_id) if n)  # fmt: skip
        users = {pk for pk in users if ("user", pk) not in known}
        units = {pk for pk in units if ("unit", pk) not in known}
        nodes = {pk for pk in nodes if ("level", pk) not in known}
        known.update({("user", pk): [] for pk in users})
        known.update({("unit", pk): [] for pk in units})
        known.update({("level", pk): [] for pk in nodes})
        for user in User.objects.filter(pk__in=users, is_active=True):
            known[("user", user.pk)].append(user)
        for user in User.objects.filter(case_units__in=units, is_active=True).annotate(
            via=F("case_units")
        ):
            known[("unit", user.via)].append(user)
        for user in _staff_at(node__in=nodes).annotate(via=F("assignments__node")):
            staff = known[("level", user.via)]
            if all(u.pk != user.pk for u in staff):
                staff.append(user)

    def sweep(cases) -> dict:
        done = {"reminded": 0, "overdue": 0, "escalated": 0}
        out = {"saves": {}, "notes": [], "events": [], "sms": [], "lapsed": [], "people": known}
        for case in cases:
            _sweep_one(case, now, done, rules, out)
        # One UPDATE statement per set of changed fields, executed for every row.
        for names, rows in out["saves"].items():
            fields = [Case._meta.get_field(name) for name in names]
            qn = connection.ops.quote_name
            sql = "UPDATE {} SET {} WHERE {} = %s".format(
                qn(Case._meta.db_table),
                ", ".join(f"{qn(f.column)} = %s" for f in fields),
                qn(Case._meta.pk.column),
            )
            params = [
                [f.get_db_prep_save(getattr(c, f.attname), connection) for f in fields] + [c.pk]
                for c in rows
            ]
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)
        if out["lapsed"]:  # _lapse_extensions, for the batch
            ExtensionRequest.objects.filter(
                case__in=out["lapsed"], status=ExtensionStatus.PENDING
            ).update(
                status=ExtensionStatus.REJECTED, decided_at=now, decision_note=EXTENSION_ESCALATED
            )
        Notification.objects.bulk_create(out["notes"], batch_size=500)
        CaseEvent.objects.bulk_create(out["events"], batch_size=500)
        texts = out["sms"]
        if texts:
            transaction.on_commit(lambda: [send_sms(m, t) for m, t in texts])
        return done

    def add(done) -> None:
        for key, n in done.items():
            counts[key] += n

    while True:
        with transaction.atomic():
            qs = due().filter(next_check_at__lte=now)
            batch = list(qs.select_for_update(skip_locked=skip_locked, of=("self",))[:batch_size])
            if not batch:
                break
            closed = [c.pk for c in batch if c.status not in OPEN_STATUSES]
            if closed:
                Case.objects.filter(pk__in=closed).update(next_check_at=None)
            batch = [c for c in batch if c.status in OPEN_STATUSES]
            counts["checked"] += len(batch)
            fill(batch)
            try:
                with transaction.atomic():
                    add(sweep(batch))
                continue
            except Exception:
                log.warning("sweep_deadlines: a batch failed; doing it case by case", exc_info=True)
            # The rows are still ours (locked); read them again, as the failed try left them.
            again = due().in_bulk([c.pk for c in batch])
            for pk in [c.pk for c in batch]:
                case = again[pk]
                try:
                    with transaction.atomic():  # a savepoint: one bad case undoes only itself
                        add(sweep([case]))
                except Exception:
                    log.exception(
                        "sweep_deadlines: case %s failed; retrying it in an hour", case.number
                    )
                    counts["failed"] += 1
                    Case.objects.filter(pk=pk).update(next_check_at=now + timedelta(hours=1))
    return counts
