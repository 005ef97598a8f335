"""Writes of contact duties: validate, check who may, write, audit.

Holders, rules and links are configuration an office keeps (the admin calls these too); days
in the community are recorded by the holder themself. Visits are never entered here: they are
visits.Visit rows (see selectors).
"""

import datetime as dt

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from minqing.core.audit import audit_log, snapshot
from minqing.core.digits import plain_digits
from minqing.core.models import AuditAction
from minqing.duties import selectors
from minqing.duties.models import (
    ERR_HOLDER_DATES,
    DayKind,
    DutyDay,
    DutyHolder,
    DutyLink,
    DutyRule,
    LinkKind,
)
from minqing.grids.models import Node
from minqing.registry.services import PermissionDenied

ERR_NOT_HOLDER = _("您没有联系群众任务，不能记录驻社区天数。")
ERR_NOT_YOURS = _("只能修改本人的驻社区记录。")
ERR_DATE_REQUIRED = _("请填写日期。")
ERR_DAY_FUTURE = _("不能记录今天以后的日期。")
ERR_DAY_BEFORE = _("该日期早于您的联系任务开始日期（{start}）。")
ERR_DAY_AFTER = _("该日期晚于您的联系任务结束日期（{end}）。")
ERR_DAY_DUPLICATE = _("{date} 已经记录过驻社区，一天只记一次。")
ERR_DAY_COMMUNITY = _("只能记录在您的联系社区，请先由单位为您设置联系社区。")
ERR_DAY_KIND = _("请选择蹲点、驻社区或接待群众。")
ERR_DAY_TOO_OLD = _("只能补记近 {days} 天内的驻社区天数。")
ERR_LINK_OPEN = _("该对象已在联系中，无需重复添加。")
ERR_LINK_ENDED = _("该联系已经结束。")
ERR_LINK_END_BEFORE = _("结束日期不能早于开始日期（{start}）。")

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
    if holder is None:
        # The duty in force on that day: one that has ended since still takes the days it
        # owed (within BACKFILL_DAYS) — asked by today's, a leaver's gap stayed for good.
        on = date if isinstance(date, dt.date) and date <= today else today
        holder = selectors.current_holder(acting_user, today=on) or selectors.current_holder(
            acting_user, today=today
        )
    if holder is None:
        raise PermissionDenied(ERR_NOT_HOLDER)
    if holder.user_id != acting_user.pk:
        raise PermissionDenied(ERR_NOT_YOURS)
    errors: dict[str, str] = {}
    if kind not in DayKind.values:
        errors["kind"] = ERR_DAY_KIND
    if not isinstance(date, dt.date):
        raise ValidationError({"date": ERR_DATE_REQUIRED})
    if date > today:
        errors["date"] = ERR_DAY_FUTURE
    elif date < holder.active_from:
        errors["date"] = ERR_DAY_BEFORE.format(start=holder.active_from)
    elif holder.active_to and date > holder.active_to:
        errors["date"] = ERR_DAY_AFTER.format(end=holder.active_to)
    elif (today - date).days > BACKFILL_DAYS:
        errors["date"] = ERR_DAY_TOO_OLD.format(days=BACKFILL_DAYS)
    # Which communities were linked depends on the date: a wrong date says so alone.
    if community is None or (
        "date" not in errors
        and not selectors.day_communities(holder, day=date).filter(pk=community.pk).exists()
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
        raise ValidationError({"kind": ERR_LINK_KIND})
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


# ------------------------------------------------------------------ offices keep duties

# What an office does on the pages and through the API: the same services as the admin, after
# the checks the admin does not need (who may, and whether the target is in the office's part
# of the tree). Targets outside the scope get the same message as targets that do not exist.

ERR_NOT_MANAGER = _("您不能管理该干部的联系任务。")
ERR_HOLDER_NOT_ALLOWED = _("您没有设置联系任务的权限。")
ERR_HOLDER_USER = _("请在本辖区的用户中选择干部。")
ERR_HOLDER_SELF = _("不能为自己设置联系任务。")
ERR_HOLDER_NODE = _("所属区划应为您辖区内的县、街道或社区。")
ERR_HOLDER_RULE = _("请选择启用中的任务类型。")
ERR_HOLDER_OVERLAP = _(
    "该干部已有 {start} 至 {end} 的联系任务，时段不能重叠：请先为原任务填写结束日期。"
)
ERR_HOLDER_OPEN = _("该干部已有长期有效的联系任务，请先为原任务填写结束日期。")
ERR_HOLDER_UNIT = _("请填写单位（不超过 100 字）。")
ERR_HOLDER_POSITION = _("职务不超过 50 字。")
ERR_DATE_RANGE = _("日期应在 {first} 至 {last} 之间。")
ERR_LINK_KIND = _("请选择联系类型。")
ERR_LINK_COMMUNITY = _("请选择您辖区内的社区。")
ERR_LINK_HOUSEHOLD = _("户号不存在或不在您的辖区内。")
ERR_LINK_PERSON = _("人员不存在或不在您的辖区内，请填写身份证号或人员编号（如 #123）。")
ERR_LINK_REQUIRED = {
    "community": _("请选择社区。"),
    "household": _("请填写户号。"),
    "person": _("请填写服务对象的身份证号或人员编号。"),
}
ERR_LINK_START_BEFORE = _("开始日期不能早于联系任务开始日期（{start}）。")
ERR_LINK_START_AFTER = _("开始日期不能晚于联系任务结束日期（{end}）。")
ERR_NOTE = _("备注不超过 200 字。")

# Dates an office may type: from the first month reports know to a year ahead.
FIRST_DAY = dt.date(2000, 1, 1)
AHEAD_DAYS = 366

TARGET_FIELD = {
    LinkKind.COMMUNITY: "community",
    LinkKind.HOUSEHOLD: "household",
    LinkKind.TARGET: "person",
}


def _dict_errors(exc: ValidationError, field: str = NON_FIELD_ERRORS) -> ValidationError:
    """A service's ValidationError keyed by field (a bare message goes on `field`), so forms
    and the API show every error where it belongs."""
    if hasattr(exc, "error_dict"):
        return exc
    return ValidationError({field: exc.messages})


def _date_in_range(value, field: str, errors: dict, today: dt.date) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, dt.date):
        errors[field] = ERR_DATE_RANGE.format(first=FIRST_DAY, last=today)
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    last = today + dt.timedelta(days=AHEAD_DAYS)
    if not FIRST_DAY <= value <= last:
        errors[field] = ERR_DATE_RANGE.format(first=FIRST_DAY, last=last)
        return None
    return value


def office_holder_create(*, acting_user, data: dict, request=None) -> DutyHolder:
    """An office gives a user in its part of the tree a duty at a node it covers.

    data: user (User), rule (DutyRule), unit, position, node (Node), active_from, active_to;
    the user, rule and node may be None (not found): each answers its field error.
    """
    from minqing.duties import permissions

    if not permissions.can_create_holder(acting_user):
        raise PermissionDenied(ERR_HOLDER_NOT_ALLOWED)
    today = timezone.localdate()
    errors: dict[str, str] = {}
    user, rule, node = data.get("user"), data.get("rule"), data.get("node")
    if user is not None and getattr(user, "pk", None) == acting_user.pk:
        errors["user"] = ERR_HOLDER_SELF
    elif user is None or not permissions.holder_users(acting_user).filter(pk=user.pk).exists():
        errors["user"] = ERR_HOLDER_USER
    if not isinstance(rule, DutyRule) or not rule.active:
        errors["rule"] = ERR_HOLDER_RULE
    if (
        not isinstance(node, Node)
        or not permissions.holder_nodes(acting_user).filter(pk=node.pk).exists()
    ):
        errors["node"] = ERR_HOLDER_NODE
    unit = str(data.get("unit") or "").strip()
    if not unit or len(unit) > 100:
        errors["unit"] = ERR_HOLDER_UNIT
    position = str(data.get("position") or "").strip()
    if len(position) > 50:
        errors["position"] = ERR_HOLDER_POSITION
    active_from = _date_in_range(data.get("active_from") or today, "active_from", errors, today)
    active_to = _date_in_range(data.get("active_to"), "active_to", errors, today)
    if active_from and active_to and active_to < active_from:
        errors["active_to"] = ERR_HOLDER_DATES
    if (
        "user" not in errors
        and "active_to" not in errors
        and active_to is None
        and DutyHolder.objects.filter(user=user, active_to__isnull=True).exists()
    ):
        errors["user"] = ERR_HOLDER_OPEN
    if "user" not in errors and active_from and "active_to" not in errors:
        # One duty at a time: overlapping ones were each reported (quotas counted twice or
        # three times) while a day was only ever recorded against the latest.
        overlap = DutyHolder.objects.filter(user=user).filter(
            Q(active_to__isnull=True) | Q(active_to__gte=active_from)
        )
        if active_to is not None:
            overlap = overlap.filter(active_from__lte=active_to)
        other = overlap.order_by("active_from").first()
        if other is not None:
            errors["user"] = ERR_HOLDER_OVERLAP.format(
                start=other.active_from, end=other.active_to or gettext("长期")
            )
    if errors:
        raise ValidationError(errors)
    clean = {
        "user": user,
        "rule": rule,
        "unit": unit,
        "position": position,
        "node": node,
        "active_from": active_from,
        "active_to": active_to,
    }
    try:
        with transaction.atomic():
            return holder_create(acting_user=acting_user, data=clean, request=request)
    except IntegrityError:
        # Two offices gave the same user an open duty at once: the constraint lets one through.
        raise ValidationError({"user": ERR_HOLDER_OPEN}) from None
    except ValidationError as exc:
        raise _dict_errors(exc) from None


def _person_ref(raw) -> tuple[int | None, str]:
    """(pk, "") for '#123', 123 or '123'; (None, id number) otherwise."""
    if isinstance(raw, bool):
        return None, ""
    if isinstance(raw, int):
        return (raw if 0 < raw < 2**63 else 0), ""
    text = str(raw or "").strip().upper()
    digits = text[1:] if text.startswith("#") else text
    if plain_digits(digits, max_len=12):
        return int(digits), ""
    return None, text[:30]


def link_target(acting_user, kind: str, *, community=None, household="", person=""):
    """The community, household or person an office names, looked up in its own scope.

    community: a Node or a community code; household: a household number; person: an ID
    number, a person id ('#123' or 123). ValidationError on the field when none is found.
    """
    from minqing.accounts.access import visible_nodes
    from minqing.grids.models import Level
    from minqing.registry.identity import id_number_q
    from minqing.registry.selectors import households_for, people_for

    field = TARGET_FIELD.get(kind)
    if field is None:
        raise ValidationError({"kind": ERR_LINK_KIND})
    if kind == LinkKind.COMMUNITY:
        communities = visible_nodes(acting_user).filter(level=Level.COMMUNITY)
        if isinstance(community, Node):
            found = communities.filter(pk=community.pk).first()
        else:
            code = str(community or "").strip()
            if not code:
                raise ValidationError({field: ERR_LINK_REQUIRED[field]})
            found = communities.filter(code=code[:20]).first()
        if found is None:
            raise ValidationError({field: ERR_LINK_COMMUNITY})
        return found
    if kind == LinkKind.HOUSEHOLD:
        number = str(household or "").strip()
        if not number:
            raise ValidationError({field: ERR_LINK_REQUIRED[field]})
        found = households_for(acting_user).filter(number=number[:30]).first()
        if found is None:
            raise ValidationError({field: ERR_LINK_HOUSEHOLD})
        return found
    if person in (None, "") or (isinstance(person, str) and not person.strip()):
        raise ValidationError({field: ERR_LINK_REQUIRED[field]})
    pk, number = _person_ref(person)
    people = people_for(acting_user)
    if pk is not None:
        found = people.filter(pk=pk).first() if pk else None
    else:
        found = people.filter(id_number_q(number)).first() if number else None
    if found is None:
        raise ValidationError({field: ERR_LINK_PERSON})
    return found


def office_link_add(
    *,
    acting_user,
    holder: DutyHolder,
    kind: str,
    community=None,
    household="",
    person="",
    started_on: dt.date | None = None,
    note: str = "",
    request=None,
) -> DutyLink:
    """An office links a holder it manages to a community, household or person in its scope,
    from a day within the holder's duty."""
    from minqing.duties import permissions

    if not permissions.can_manage_holder(acting_user, holder):
        raise PermissionDenied(ERR_NOT_MANAGER)
    today = timezone.localdate()
    errors: dict[str, str] = {}
    target = None
    try:
        target = link_target(
            acting_user, kind, community=community, household=household, person=person
        )
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    started_on = _date_in_range(started_on or today, "started_on", errors, today)
    if started_on is not None:
        if started_on < holder.active_from:
            errors["started_on"] = ERR_LINK_START_BEFORE.format(start=holder.active_from)
        elif holder.active_to and started_on > holder.active_to:
            errors["started_on"] = ERR_LINK_START_AFTER.format(end=holder.active_to)
    note = str(note or "").strip()
    if len(note) > 200:
        errors["note"] = ERR_NOTE
    if errors:
        raise ValidationError(errors)
    field = TARGET_FIELD[kind]
    try:
        with transaction.atomic():
            return link_add(
                acting_user=acting_user,
                holder=holder,
                kind=kind,
                target=target,
                started_on=started_on,
                note=note,
                request=request,
            )
    except IntegrityError:
        # The same target linked twice at once: the open-link constraint lets one through.
        raise ValidationError({field: ERR_LINK_OPEN}) from None
    except ValidationError as exc:
        raise _dict_errors(exc, field) from None


def office_link_end(
    *, acting_user, link: DutyLink, ended_on: dt.date | None = None, request=None
) -> DutyLink:
    """An office ends a link of a holder it manages (today unless a date is given)."""
    ended_on = _office_end_date(acting_user, link.holder, ended_on)
    try:
        return link_end(acting_user=acting_user, link=link, ended_on=ended_on, request=request)
    except ValidationError as exc:
        raise _dict_errors(exc) from None


def _office_end_date(acting_user, holder: DutyHolder, ended_on: dt.date | None) -> dt.date:
    """The end an office gives a holder's link or duty: theirs to manage, a date in range
    (today when none is given)."""
    from minqing.duties import permissions

    if not permissions.can_manage_holder(acting_user, holder):
        raise PermissionDenied(ERR_NOT_MANAGER)
    today = timezone.localdate()
    errors: dict[str, str] = {}
    ended_on = _date_in_range(ended_on or today, "ended_on", errors, today)
    if errors:
        raise ValidationError(errors)
    return ended_on


ERR_HOLDER_ENDED = _("该联系任务已于 {end} 结束。")
ERR_HOLDER_END_BEFORE = _("结束日期不能早于任务开始日期（{start}）。")


def office_holder_end(
    *, acting_user, holder: DutyHolder, ended_on: dt.date | None = None, request=None
) -> DutyHolder:
    """An office ends a cadre's duty (they leave, or their rule changes: a new duty follows
    from the next day). Its open links end with it. There was no page or API call for it:
    only the admin, which offices are not given."""
    ended_on = _office_end_date(acting_user, holder, ended_on)
    today = timezone.localdate()
    with transaction.atomic():
        holder = DutyHolder.objects.select_for_update().get(pk=holder.pk)
        if holder.active_to is not None and (
            holder.active_to < today or ended_on > holder.active_to
        ):
            # Ended already, or an end set for later: ending moves it earlier, never on (a
            # later end could run into the duty that follows).
            raise ValidationError({"ended_on": ERR_HOLDER_ENDED.format(end=holder.active_to)})
        if ended_on < holder.active_from:
            raise ValidationError(
                {"ended_on": ERR_HOLDER_END_BEFORE.format(start=holder.active_from)}
            )
        before = holder.active_to
        holder.active_to = ended_on
        holder.save(update_fields=["active_to"])
        still_open = holder.links.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=ended_on))
        ended_links = still_open.filter(started_on__lte=ended_on).update(ended_on=ended_on)
        # (A link set to start after the end date never runs: it ends where it starts.)
        ended_links += still_open.filter(started_on__gt=ended_on).update(ended_on=F("started_on"))
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=holder,
            changes={
                "active_to": [str(before) if before else None, str(ended_on)],
                "links_ended": [None, ended_links],
            },
            request=request,
            node=holder.node,
        )
    return holder
