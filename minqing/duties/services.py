"""Writes of contact duties: validate, check who may, write, audit.

Holders, rules and links are configuration an office keeps (the admin calls these too); days
in the community are recorded by the holder themself. Visits are never entered here: they are
visits.Visit rows (see selectors).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from minqing.core.audit import audit_log, snapshot
from minqing.core.models import AuditAction
from minqing.duties import selectors
from minqing.duties.models import DayKind, DutyDay, DutyHolder, DutyLink, DutyRule, LinkKind
from minqing.grids.models import Node
from minqing.registry.services import PermissionDenied

ERR_NOT_HOLDER = "您没有联系群众任务，不能记录驻社区天数。"
ERR_NOT_YOURS = "只能修改本人的驻社区记录。"
ERR_DAY_FUTURE = "不能记录今天以后的日期。"
ERR_DAY_BEFORE = "该日期早于您的联系任务开始日期（{start}）。"
ERR_DAY_AFTER = "该日期晚于您的联系任务结束日期（{end}）。"
ERR_DAY_DUPLICATE = "{date} 已经记录过驻社区，一天只记一次。"
ERR_DAY_COMMUNITY = "只能记录在您的联系社区，请先由单位为您设置联系社区。"
ERR_DAY_KIND = "请选择蹲点、驻社区或接待群众。"
ERR_DAY_TOO_OLD = "只能补记近 {days} 天内的驻社区天数。"
ERR_LINK_OPEN = "该对象已在联系中，无需重复添加。"
ERR_LINK_ENDED = "该联系已经结束。"
ERR_LINK_END_BEFORE = "结束日期不能早于开始日期（{start}）。"

# A forgotten day may be recorded late, but not a year later: the month's report must settle.
BACKFILL_DAYS = 62

DAY_FIELDS = ["holder", "community", "date", "kind", "note"]
LINK_FIELDS = ["holder", "kind", "community", "household", "person", "started_on", "ended_on"]
HOLDER_FIELDS = ["user", "rule", "unit", "position", "node", "active_from", "active_to"]


def day_record(
    *,
    acting_user,
    date: dt.date,
    community: Node | None,
    kind: str = DayKind.STAY,
    note: str = "",
    holder: DutyHolder | None = None,
    request=None,
    today: dt.date | None = None,
) -> DutyDay:
    """The holder records a day spent in a community (蹲点/驻社区/接待)."""
    today = today or timezone.localdate()
    holder = holder or selectors.current_holder(acting_user, today=today)
    if holder is None:
        raise PermissionDenied(ERR_NOT_HOLDER)
    if holder.user_id != acting_user.pk:
        raise PermissionDenied(ERR_NOT_YOURS)
    errors: dict[str, str] = {}
    if kind not in DayKind.values:
        errors["kind"] = ERR_DAY_KIND
    if not isinstance(date, dt.date):
        raise ValidationError({"date": "请填写日期。"})
    if date > today:
        errors["date"] = ERR_DAY_FUTURE
    elif date < holder.active_from:
        errors["date"] = ERR_DAY_BEFORE.format(start=holder.active_from)
    elif holder.active_to and date > holder.active_to:
        errors["date"] = ERR_DAY_AFTER.format(end=holder.active_to)
    elif (today - date).days > BACKFILL_DAYS:
        errors["date"] = ERR_DAY_TOO_OLD.format(days=BACKFILL_DAYS)
    if (
        community is None
        or not selectors.day_communities(holder, day=date).filter(pk=community.pk).exists()
    ):
        errors["community"] = ERR_DAY_COMMUNITY
    if "date" not in errors and DutyDay.objects.filter(holder=holder, date=date).exists():
        errors["date"] = ERR_DAY_DUPLICATE.format(date=date)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            day = DutyDay.objects.create(
                holder=holder,
                community=community,
                date=date,
                kind=kind,
                note=(note or "").strip()[:300],
                created_by=acting_user,
            )
            audit_log(
                actor=acting_user,
                action=AuditAction.CREATE,
                obj=day,
                changes={k: [None, v] for k, v in snapshot(day, DAY_FIELDS).items()},
                request=request,
                node=community,
            )
    except IntegrityError:
        # Two submits of the same day at once: the unique constraint lets one through.
        raise ValidationError({"date": ERR_DAY_DUPLICATE.format(date=date)}) from None
    return day


def day_delete(*, acting_user, day: DutyDay, request=None) -> None:
    """The holder removes a day recorded by mistake."""
    if day.holder.user_id != acting_user.pk:
        raise PermissionDenied(ERR_NOT_YOURS)
    with transaction.atomic():
        audit_log(
            actor=acting_user,
            action=AuditAction.DELETE,
            obj=day,
            changes={k: [v, None] for k, v in snapshot(day, DAY_FIELDS).items()},
            request=request,
            node=day.community,
        )
        day.delete()


def _validated(obj) -> None:
    obj.full_clean(exclude=["created_by"])


def holder_create(*, acting_user, data: dict, request=None) -> DutyHolder:
    """An office gives a user a contact duty (user, rule, unit, position, node, dates)."""
    holder = DutyHolder(created_by=acting_user, **data)
    _validated(holder)
    with transaction.atomic():
        holder.save()
        audit_log(
            actor=acting_user,
            action=AuditAction.CREATE,
            obj=holder,
            changes={k: [None, v] for k, v in snapshot(holder, HOLDER_FIELDS).items()},
            request=request,
            node=holder.node,
        )
    return holder


def link_add(
    *,
    acting_user,
    holder: DutyHolder,
    kind: str,
    target,
    started_on: dt.date | None = None,
    note: str = "",
    request=None,
) -> DutyLink:
    """Link a holder to a community (Node), a household or a person (service target)."""
    field_name = {
        LinkKind.COMMUNITY: "community",
        LinkKind.HOUSEHOLD: "household",
        LinkKind.TARGET: "person",
    }.get(kind)
    if field_name is None:
        raise ValidationError({"kind": "请选择联系类型。"})
    if (
        target is not None
        and DutyLink.objects.filter(
            holder=holder, kind=kind, ended_on__isnull=True, **{field_name: target}
        ).exists()
    ):
        raise ValidationError(ERR_LINK_OPEN)
    link = DutyLink(
        holder=holder,
        kind=kind,
        started_on=started_on or timezone.localdate(),
        note=note,
        created_by=acting_user,
        **{field_name: target},
    )
    _validated(link)
    with transaction.atomic():
        link.save()
        audit_log(
            actor=acting_user,
            action=AuditAction.CREATE,
            obj=link,
            changes={k: [None, v] for k, v in snapshot(link, LINK_FIELDS).items()},
            request=request,
            node=holder.node,
        )
    return link


def link_end(*, acting_user, link: DutyLink, ended_on: dt.date | None = None, request=None):
    """End a link (the household moved away, the target no longer needs the service …)."""
    ended_on = ended_on or timezone.localdate()
    if link.ended_on is not None:
        raise ValidationError(ERR_LINK_ENDED)
    if ended_on < link.started_on:
        raise ValidationError({"ended_on": ERR_LINK_END_BEFORE.format(start=link.started_on)})
    with transaction.atomic():
        link.ended_on = ended_on
        link.save(update_fields=["ended_on"])
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=link,
            changes={"ended_on": [None, str(ended_on)]},
            request=request,
            node=link.holder.node,
        )
    return link


def rule_by_code(code: str) -> DutyRule:
    return DutyRule.objects.get(code=code)
