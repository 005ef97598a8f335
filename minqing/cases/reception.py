"""接待日: the register of a community's reception day, and its matters turned into cases.

A community (its secretary, workers and the grid workers of its grids) receives residents on a
reception day. Every matter gets its 处理意见 when it is registered (当场解决, 限期办理, 转办 or
提交班子会议); a matter not solved on the spot becomes a case with one click, and the case loop
(channel 接待日: 7 working days to handle, from the seeded time limits) takes it from there.

Reads are scoped like everything else (accounts.access): a day is visible to those whose part
of the place tree holds its community, and to the grid workers of that community's grids
(unless their data scope is narrowed).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, TextChoices
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import scope_queryset, user_assignments, visible_nodes
from minqing.accounts.models import DataScope
from minqing.cases import config, services
from minqing.cases.models import (
    Case,
    Category,
    Channel,
    OpinionKind,
    ReceptionDay,
    ReceptionMatter,
)
from minqing.core.audit import audit_log, snapshot
from minqing.core.digits import plain_digits
from minqing.core.forms import clean_text
from minqing.core.masking import mask_phone
from minqing.core.models import AuditAction
from minqing.core.pasted import plain
from minqing.core.phone import ERR_PHONE, is_valid_phone, normalise_phone
from minqing.core.workdays import WORKDAY_END, add_working_days, deadline_after
from minqing.grids.models import Level, Node, subtree_q
from minqing.registry.services import PermissionDenied

ERR_REQUIRED = services.ERR_REQUIRED
ERR_TOO_LONG = services.ERR_TOO_LONG
ERR_COMMUNITY = _("请选择您管辖范围内的社区。")
ERR_DATE = _("请填写正确的接待日期，如 2026-03-18。")
ERR_NOT_YET = _("接待日还没到，不能登记来访事项。")
ERR_DATE_RANGE = _("接待日期应在 {start} 至 {end} 之间。")
ERR_OPINION = _("请选择处理意见：当场解决、限期办理、转办或提交班子会议。")
ERR_DAY_SCOPE = _("您不能登记该接待日的事项。")
ERR_SOLVED = _("当场解决的事项已办结，无需转为案件。")
ERR_CONVERTED = _("该事项已转为案件 {number}。")
ERR_GRID = _("请选择本社区内、您管辖范围内的网格。")
ERR_NO_GRID = _("本社区没有您管辖的网格，无法转为案件。")

# 答复期限: every matter of a reception day is answered within 7 working days of that day,
# whether it is solved on the spot, filed as a case at once, or filed days later.
ANSWER_WORKING_DAYS = 7

# The category a reception matter is filed under unless the receiver picks another: a class
# cases are filed under (a leaf, as on the new-case form), not a whole top-level class.
DEFAULT_CATEGORY = "0702"  # 社区事务 / 民生求助
# Opinions under which the receiving community handles the case itself (自行处置: the handle
# clock starts at once); a 转办 matter waits, registered, to be transferred to a department.
HANDLED_HERE = (OpinionKind.DEADLINE, OpinionKind.MEETING)


# --- reads -----------------------------------------------------------------------------------


def _own_communities(user) -> list[int]:
    """The communities of the grids (or zones) a user is assigned to: their reception days
    belong to the whole community team, grid workers included — those whose data scope is
    their part of the tree (本部门及以下). A narrowed scope (仅本人, 本部门, 自定数据) keeps to
    itself here too: the register names visitors from all over the community."""
    codes: set[str] = set()
    for a in user_assignments(user):
        if a.node.level > Level.COMMUNITY and a.data_scope == DataScope.NODE_AND_BELOW:
            codes.update(c for c in a.node.path.split("/") if c)
    if not codes:
        return []
    return list(
        Node.objects.filter(code__in=codes, level=Level.COMMUNITY).values_list("pk", flat=True)
    )


def reception_days_for(user) -> QuerySet[ReceptionDay]:
    if not getattr(user, "is_authenticated", False):
        return ReceptionDay.objects.none()
    own = _own_communities(user)
    return scope_queryset(
        user,
        ReceptionDay.objects.select_related("node", "created_by"),
        node_field="node",
        owner_fields=("created_by",),
        also=Q(node__in=own) if own else None,
    )


def reception_day_for(user, pk: int) -> ReceptionDay:
    """A day the user may see; 'not yours' and 'does not exist' are the same 404."""
    if not isinstance(pk, int) or not (0 < pk < 2**63):
        raise Http404
    day = reception_days_for(user).filter(pk=pk).first()
    if day is None:
        raise Http404
    return day


def communities_for(user) -> QuerySet[Node]:
    """The communities a user may open a reception day for: those in their scope."""
    if not getattr(user, "is_authenticated", False):
        return Node.objects.none()
    return visible_nodes(user).filter(level=Level.COMMUNITY).order_by("path")


def grids_for(user, day: ReceptionDay) -> QuerySet[Node]:
    """The grids of the day's community that the user may file a case in (the first is the
    default)."""
    return visible_nodes(user).filter(subtree_q(day.node.path), level=Level.GRID).order_by("path")


def categories() -> QuerySet[Category]:
    """The classes a matter may be filed under: those a case may be (cases.config's leaves:
    active, with no active class below them, under active classes)."""
    leaves = [c.pk for c in config.catalog().leaves]
    return (
        Category.objects.filter(pk__in=leaves)
        .select_related("parent")
        .order_by("parent__sort", "parent__code", "sort", "code")
    )


def default_category() -> Category | None:
    return categories().filter(code=DEFAULT_CATEGORY).first() or categories().first()


def answer_by(day: ReceptionDay) -> datetime.datetime:
    """The end of the 7th working day after the reception day (core.workdays calendar)."""
    noon = timezone.make_aware(datetime.datetime.combine(day.date, datetime.time(12)))
    return deadline_after(noon, days=ANSWER_WORKING_DAYS)


class Answer(TextChoices):
    """Where a matter stands against its 答复期限."""

    ANSWERED = "answered", _("已按期答复")
    ANSWERED_LATE = "answered_late", _("逾期答复")
    PENDING = "pending", _("待答复")
    OVERDUE = "overdue", _("逾期未答复")


def answer_state(
    matter: ReceptionMatter,
    *,
    now: datetime.datetime | None = None,
    due: datetime.datetime | None = None,
) -> Answer:
    """Solved on the spot, or its case closed (or cancelled with a reason) by the answer date;
    otherwise pending until that date and overdue after it, filed as a case or not.
    `due`: the day's answer_by, when the caller has it for all of the day's matters."""
    due = due or answer_by(matter.day)
    if matter.opinion == OpinionKind.SOLVED:
        return Answer.ANSWERED
    closed = matter.case.closed_at if matter.case_id else None
    if closed is not None:
        return Answer.ANSWERED if closed <= due else Answer.ANSWERED_LATE
    return Answer.OVERDUE if (now or timezone.now()) > due else Answer.PENDING


def last_overdue_day(now: datetime.datetime | None = None) -> datetime.date:
    """The latest reception day whose answer date has passed (answer_by < now)."""
    local = timezone.localtime(now or timezone.now())
    # The last day whose working day has ended: today once work is over, else yesterday.
    ended = local.date() if local.time() > WORKDAY_END else local.date() - datetime.timedelta(1)
    day = ended
    while add_working_days(day, ANSWER_WORKING_DAYS) > ended:
        day -= datetime.timedelta(days=1)
    return day


def overdue_q(now: datetime.datetime | None = None, *, on_days: bool = False) -> Q:
    """The matters answer_state calls OVERDUE, as a query condition; `on_days`, the same over
    a ReceptionDay's matters (to count them per day)."""
    p = "matters__" if on_days else ""
    unanswered = ~Q(**{f"{p}opinion": OpinionKind.SOLVED}) & (
        Q(**{f"{p}case__isnull": True}) | Q(**{f"{p}case__closed_at__isnull": True})
    )
    date = "date__lte" if on_days else "day__date__lte"
    return Q(**{date: last_overdue_day(now)}) & unanswered


def can_register(day: ReceptionDay, today: datetime.date | None = None) -> bool:
    """Matters are registered on the day or after it, never ahead of it."""
    return day.date <= (today or timezone.localdate())


# --- writes ----------------------------------------------------------------------------------


def _text(data: dict, field: str, n: int, errors: dict, *, required: bool = False) -> str:
    """core.forms.clean_text of the text as the user sees it (core.pasted.plain): a matter of
    zero-width marks pasted from a chat is no matter, and is required like an empty one."""
    value = plain(str(data.get(field) or ""))
    return clean_text({field: value}, field, n, errors, required=required)


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        day = datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


# A register copied in from paper may go back a year; days may be planned a year ahead. Beyond
# that a date is a typo (2000 for 2026), and a matter filed from it would be years late at once.
DAY_RANGE = datetime.timedelta(days=366)


@transaction.atomic
def reception_day_create(*, acting_user, data: dict) -> ReceptionDay:
    """Open a reception day for a community in the acting user's scope.

    data: node (a community Node or its code), date (a date or "YYYY-MM-DD"), receivers, place.
    """
    errors: dict[str, str] = {}
    node = data.get("node")
    allowed = communities_for(acting_user)
    if isinstance(node, Node):
        node = allowed.filter(pk=node.pk).first()
    else:
        code = str(node or "").strip()
        node = allowed.filter(code=code).first() if plain_digits(code, max_len=18) else None
    if node is None:
        errors["node"] = ERR_COMMUNITY
    date = _date(data.get("date"))
    today = timezone.localdate()
    if date is None:
        errors["date"] = ERR_DATE
    elif not today - DAY_RANGE <= date <= today + DAY_RANGE:
        errors["date"] = ERR_DATE_RANGE.format(
            start=f"{today - DAY_RANGE:%Y-%m-%d}", end=f"{today + DAY_RANGE:%Y-%m-%d}"
        )
    receivers = _text(data, "receivers", 200, errors, required=True)
    place = _text(data, "place", 100, errors)
    if errors:
        raise ValidationError(errors)
    return ReceptionDay.objects.create(
        node=node, date=date, receivers=receivers, place=place, created_by=acting_user
    )


def _check_day(acting_user, day: ReceptionDay) -> None:
    if not reception_days_for(acting_user).filter(pk=day.pk).exists():
        raise PermissionDenied(ERR_DAY_SCOPE)


@transaction.atomic
def reception_matter_add(
    *, acting_user, day: ReceptionDay, data: dict, request=None
) -> ReceptionMatter:
    """Register one visitor's matter with its 处理意见, which is required: the register is
    complete the day it is kept.

    data: visitor_name, visitor_phone, matter, opinion (an OpinionKind value), opinion_note.
    """
    _check_day(acting_user, day)
    errors: dict[str, str] = {}
    if not can_register(day):
        errors["date"] = ERR_NOT_YET
    name = _text(data, "visitor_name", 50, errors, required=True)
    phone = normalise_phone(str(data.get("visitor_phone") or ""))
    if phone and not is_valid_phone(phone):
        errors["visitor_phone"] = ERR_PHONE
    matter = _text(data, "matter", 4000, errors, required=True)
    opinion = str(data.get("opinion") or "")
    if opinion not in OpinionKind.values:
        errors["opinion"] = ERR_OPINION
    note = _text(data, "opinion_note", 500, errors)
    if errors:
        raise ValidationError(errors)
    row = ReceptionMatter(
        day=day, visitor_name=name, matter=matter, opinion=opinion, opinion_note=note
    )
    row.visitor_phone = phone
    row.visitor_phone_last4 = phone[-4:] if len(phone) >= 4 else ""
    row.save()
    # A resident's name and phone were recorded: audited like the registry's personal data.
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=row,
        changes={
            k: [None, v]
            for k, v in snapshot(
                row,
                ["visitor_name", "visitor_phone", "opinion"],
                masked={"visitor_phone": mask_phone},
            ).items()
        },
        request=request,
        node=day.node,
    )
    return row


@transaction.atomic
def reception_matter_to_case(
    *,
    acting_user,
    matter: ReceptionMatter,
    grid: Node | str | None = None,
    category: Category | str | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """转为案件: file a reception matter as a case (channel 接待日) and link it to the matter.

    The case is filed in `grid` (a grid of the day's community in the user's scope; the first
    one when not given), under `category` (a class cases are filed under, by its code; 民生求助
    when not given), with the visitor as the
    reporter. Under 限期办理 and 提交班子会议 the receiver handles it at once (自行处置), so the
    handle clock starts now; a 转办 matter stays registered for the transfer. Either way the
    clock runs out no later than the matter's answer date (answer_by): a matter filed days
    after the reception day does not get 7 more working days. The clocks started later (the
    department's handling after 转办, a 退单, the 核查) are capped there too, by the case
    loop itself (services._answer_limit, which also says what an approved extension does).
    """
    # Lock the matter: two clicks (or two receivers) must not file two cases.
    matter = (
        ReceptionMatter.objects.select_for_update().select_related("day__node").get(pk=matter.pk)
    )
    day = matter.day
    _check_day(acting_user, day)
    if matter.case_id:
        raise services.CaseConflict(ERR_CONVERTED.format(number=matter.case.number))
    if matter.opinion == OpinionKind.SOLVED:
        raise ValidationError({"opinion": ERR_SOLVED})
    grids = grids_for(acting_user, day)
    if isinstance(grid, Node):
        grid = grids.filter(pk=grid.pk).first()
    elif grid:
        code = str(grid).strip()
        grid = grids.filter(code=code).first() if plain_digits(code, max_len=18) else None
        if grid is None:
            raise ValidationError({"grid": ERR_GRID})
    else:
        grid = grids.first()
        if grid is None:
            raise ValidationError({"grid": ERR_NO_GRID})
    if grid is None:
        raise ValidationError({"grid": ERR_GRID})
    if category is None or category == "":
        category = default_category()
    elif not isinstance(category, Category):
        category = categories().filter(code=str(category)[:20]).first()
        if category is None:
            raise ValidationError({"category": services.ERR_CATEGORY})
    case = services.case_accept(
        acting_user=acting_user,
        data={
            "category": category,
            "description": matter.matter,
            "channel": Channel.RECEPTION,
            "grid": grid,
            "reporter_name": matter.visitor_name,
            "reporter_phone": matter.visitor_phone,
        },
        now=now,
    )
    if matter.opinion in HANDLED_HERE and services.can_act(acting_user, case, "take"):
        case = services.case_act(acting_user=acting_user, case=case, action="take", now=now)
    services.cap_deadline(case, answer_by(day), now=now or timezone.now())
    matter.case = case
    matter.save(update_fields=["case"])
    return case
