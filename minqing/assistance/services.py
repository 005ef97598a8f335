"""Writes of pairing assistance: helpers, pairings, help-log entries, disqualification.

Each function validates, checks who may do it, writes and audits in one transaction, like
registry.services and visits.services. Errors are Django ValidationErrors keyed by form field,
with the messages below (the UI, the API and the tests share them: Chinese source text, lazily
translated into the request's language); acting on something the user may not act on raises
registry.services.PermissionDenied.

Who may do what:
- offices (社区工作者/书记, 街道, 县, 管理员) register helpers, pair them with targets of their
  subtree, end pairings and disqualify helpers they see;
- a helper logs help for their own pairings (wherever the target lives);
- a grid worker, or an office, may log help on a helper's behalf for pairings of their subtree
  (an 爱心妈妈 without an account reports by phone).
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import has_role, scope_queryset, visible_nodes
from minqing.accounts.models import Role
from minqing.assistance.models import (
    TARGET_FIELD,
    Cause,
    FundSource,
    HelpEntry,
    Helper,
    HelperGroup,
    HelperKind,
    HelpKind,
    Pairing,
    PairingKind,
    Programme,
    TargetKind,
    WorkAbility,
)
from minqing.core.audit import audit_log
from minqing.core.forms import clean_text as _text
from minqing.core.forms import reason_text
from minqing.core.i18n import source
from minqing.core.masking import mask_phone
from minqing.core.models import AuditAction
from minqing.core.phone import ERR_PHONE, is_valid_phone, normalise_phone
from minqing.grids.models import Level, Node
from minqing.registry.models import Household, Organisation, Person, Place
from minqing.registry.services import PermissionDenied

ERR_REQUIRED = _("此项必填。")
ERR_TOO_LONG = _("不能超过 {n} 个字。")
ERR_NOT_MANAGER = _("只有社区、街道、县级工作人员可以管理结对帮扶。")
ERR_PROGRAMME = _("请选择启用中的帮扶项目。")
ERR_TARGET_REQUIRED = _("请选择帮扶对象：{kind}。")
ERR_TARGET_SCOPE = _("该帮扶对象不存在或不在您的管辖范围内。")
ERR_NODE_LEVEL = _("请选择村/社区一级的节点。")
ERR_ALREADY_PAIRED = _("该对象在“{programme}”中已有结对，请勿重复结对。")
ERR_HELPERS_REQUIRED = _("请选择帮扶人。")
ERR_ONE_HELPER = _("一对一结对只能选择一位帮扶人。")
ERR_MANY_HELPERS = _("多对一结对至少选择两位帮扶人。")
ERR_UNIT_HELPERS = _("单位对单位结对的帮扶方须是单位。")
ERR_HELPER_SCOPE = _("所选帮扶人不存在或不在您的范围内。")
ERR_HELPER_DISQUALIFIED = _("帮扶人“{name}”已被取消资格，不能结对。")
ERR_GROUP_REQUIRED = _("小组结对请选择帮扶小组。")
ERR_GROUP_PROGRAMME = _("该小组不属于所选帮扶项目。")
ERR_GROUP_EMPTY = _("该小组没有具备资格的组员。")
ERR_GROUP_NOT_ALLOWED = _("只有小组结对的项目可以选择小组。")
ERR_CAUSE = _("困难原因无效。")
ERR_WORK_ABILITY = _("请选择有劳动能力、无劳动能力或未评估。")
ERR_START_FUTURE = _("结对日期不能晚于今天。")
ERR_START_PAST = _("结对日期不能早于 2000 年。")
ERR_START_BEFORE_BIRTH = _("结对日期不能早于帮扶对象的出生日期（{born}）。")
ERR_END_BEFORE_START = _("结束日期不能早于结对日期。")
ERR_END_FUTURE = _("结束日期不能晚于今天。")
ERR_ALREADY_ENDED = _("该结对已经结束。")
ERR_REASON_REQUIRED = _("请填写原因。")
ERR_KIND = _("请选择帮扶内容。")
ERR_HELP_DATE_FUTURE = _("帮扶日期不能晚于今天。")
ERR_HELP_DATE_BEFORE = _("帮扶日期不能早于结对日期（{start}）。")
ERR_HELP_DATE_AFTER = _("帮扶日期不能晚于结对结束日期（{end}）。")
ERR_HELP_ENDED = _("该结对已结束，不能再记录帮扶。")
ERR_HELP_EMPTY = _("请填写帮扶情况，或资金、物资。")
ERR_AMOUNT = _("金额须为不小于 0 的数字，最多两位小数。")
ERR_AMOUNT_TOO_BIG = _("金额过大，请核实（单笔不超过 1000 万元）。")
ERR_FUND_SOURCE = _("有资金或物资时请选择资金来源：扶贫资金、干部捐助或社会募集。")
ERR_FUND_SOURCE_INVALID = _("资金来源无效。")
ERR_HELP_HELPER = _("所选帮扶人不是该结对的帮扶人。")
ERR_HELP_WHO = _("请选择是哪位帮扶人提供的帮扶。")
ERR_HELP_CORRECT = _("只能更正本人一个月内记录的帮扶，或由社区、街道工作人员更正。")
ERR_HELP_NOT_ALLOWED = _("您不是该结对的帮扶人，也没有代为记录的权限。")
ERR_HELPER_KIND = _("请选择帮扶人类型。")
ERR_HELPER_USER_TAKEN = _("该账号已登记为帮扶人。")
ERR_HELPER_NODE = _("请选择您管辖范围内的区划节点。")
ERR_ALREADY_DISQUALIFIED = _("该帮扶人已被取消资格。")
ERR_DISQUALIFY_NOT_ALLOWED = _("只有登记该帮扶人的单位或其上级可以取消其资格。")
ERR_GROUP_SCOPE = _("该小组不存在或不在您的范围内。")
ERR_DISQUALIFY_DATE = _("取消资格日期不能晚于今天。")
ERR_HELPER_EDIT_NOT_ALLOWED = _("只有登记该帮扶人的单位或其上级可以修改其信息。")
ERR_PAIRING_ENDED_EDIT = _("该结对已经结束，不能再修改。")
ERR_GROUP_KIND = _("请选择小组结对的帮扶项目。")
ERR_GROUP_NODE = _("请选择您管辖范围内的社区或网格。")
ERR_GROUP_MEMBERS = _("请选择至少一位有资格的组员。")
ERR_GROUP_EDIT_NOT_ALLOWED = _("只有小组所在社区或其上级可以修改小组。")
ERR_GROUP_HELPERS = _("小组结对的帮扶人就是小组的组员：请更换小组，或调整小组的组员。")
ERR_DATE = _("日期格式应为 YYYY-MM-DD。")

MAX_TEXT = 2000
MAX_AMOUNT = Decimal("10000000")
EARLIEST = dt.date(2000, 1, 1)

# Offices that register helpers and pair them.
MANAGE_ROLES = {
    Role.COMMUNITY_WORKER,
    Role.COMMUNITY_SECRETARY,
    Role.STREET_OFFICER,
    Role.COUNTY_OFFICER,
    Role.ADMIN,
}
# Staff who may log help on a helper's behalf for pairings of their subtree.
LOG_ROLES = MANAGE_ROLES | {Role.GRID_WORKER}

# Stored as the pairing's end reason (data, like a reason typed in): Chinese whatever the UI
# language, not a translated message.
ENDED_BY_DISQUALIFICATION = "帮扶人被取消资格：{reason}"


# --- guards ----------------------------------------------------------------------------------


def can_manage(user) -> bool:
    return has_role(user, MANAGE_ROLES)


def _office_sees(user, pairing: Pairing) -> bool:
    """The pairing's target lies in the user's part of the tree (not merely: they are a helper)."""
    return scope_queryset(
        user, Pairing.objects.filter(pk=pairing.pk), node_field="grid", owner_fields=()
    ).exists()


def can_manage_pairing(user, pairing: Pairing) -> bool:
    return can_manage(user) and _office_sees(user, pairing)


def can_disqualify(user, helper: Helper) -> bool:
    """Only the office where the helper is registered (or one above it) may disqualify them:
    a community sees the county's cadres to pair them, but reports their neglect upwards."""
    return (
        can_manage(user)
        and scope_queryset(
            user, Helper.objects.filter(pk=helper.pk), node_field="node", owner_fields=()
        ).exists()
    )


def helper_of(user, pairing: Pairing) -> Helper | None:
    """The user's own (qualified) helper record if they are a helper of this pairing."""
    if not getattr(user, "is_authenticated", False):
        return None
    return pairing.helpers.filter(user=user, disqualified_on__isnull=True).first()


# The recorder may correct their own entry for a month (the monthly report is then settled);
# an office that sees the pairing may at any time. Either way the audit keeps the old values.
CORRECT_DAYS = 31


def can_correct_help(user, entry: HelpEntry, *, now=None) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    pairing = entry.pairing
    if has_role(user, LOG_ROLES) and _office_sees(user, pairing):
        return True
    now = now or timezone.now()
    return (
        entry.created_by_id == user.pk
        and now - entry.created_at <= dt.timedelta(days=CORRECT_DAYS)
        and can_log_help(user, pairing)
    )


def can_log_help(user, pairing: Pairing) -> bool:
    if helper_of(user, pairing) is not None:
        return True
    return has_role(user, LOG_ROLES) and _office_sees(user, pairing)


# --- small parsers ---------------------------------------------------------------------------


def parse_amount(raw) -> Decimal | None:
    """Yuan as a Decimal with at most 2 places, or None when empty; ValueError when not a sum."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = Decimal(str(raw).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        raise ValueError(ERR_AMOUNT) from None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:
        raise ValueError(ERR_AMOUNT)
    if value > MAX_AMOUNT:
        raise ValueError(ERR_AMOUNT_TOO_BIG)
    return value.quantize(Decimal("0.01"))


def _date(value, field: str, errors: dict, default: dt.date | None = None) -> dt.date | None:
    if value in (None, ""):
        return default
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        errors[field] = ERR_DATE
        return default


# --- helpers ---------------------------------------------------------------------------------


@transaction.atomic
def helper_create(*, acting_user, data: dict, request=None) -> Helper:
    """Register a helper: a staff user (name and phone from the account) or an outside person or unit.

    data: kind, name, phone, unit_name, user (optional), node (a node in the office's scope;
    default: the office's highest node), note.
    """
    if not can_manage(acting_user):
        raise PermissionDenied(ERR_NOT_MANAGER)
    errors: dict[str, str] = {}
    kind = data.get("kind") or ""
    if kind not in HelperKind.values:
        errors["kind"] = ERR_HELPER_KIND
    user = data.get("user")
    if user is not None and Helper.objects.filter(user=user).exists():
        errors["user"] = ERR_HELPER_USER_TAKEN
    name = _text(data, "name", 50, errors)
    if not name and user is not None:
        name = (user.full_name or user.username)[:50]
    if not name and "name" not in errors:
        errors["name"] = ERR_REQUIRED
    phone = normalise_phone(str(data.get("phone") or ""))
    if not phone and user is not None:
        phone = normalise_phone(user.mobile or "")
    if phone and not is_valid_phone(phone):
        errors["phone"] = ERR_PHONE
    unit_name = _text(data, "unit_name", 100, errors)
    note = _text(data, "note", 200, errors)
    node = data.get("node")
    if node is None:
        from minqing.accounts.access import home_node

        node = home_node(acting_user)
    if node is None or not visible_nodes(acting_user).filter(pk=node.pk).exists():
        errors["node"] = ERR_HELPER_NODE
    if errors:
        raise ValidationError(errors)
    helper = Helper.objects.create(
        kind=kind,
        name=name,
        phone=phone,
        unit_name=unit_name,
        user=user,
        node=node,
        note=note,
        created_by=acting_user,
    )
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=helper,
        changes={
            "kind": [None, source(HelperKind(kind).label)],
            "name": [None, name],
            "unit_name": [None, unit_name],
            "user": [None, user.username if user else ""],
        },
        request=request,
        node=node,
    )
    return helper


@transaction.atomic
def helper_update(*, acting_user, helper: Helper, data: dict, request=None) -> Helper:
    """Correct a helper's record: name, phone, unit, registering node, note.

    Only the keys present in data change (the API's PATCH and the page's form both call this).
    The kind and the linked account stay: a pairing's rules (一对一, 单位对单位) were checked
    against them, and a wrong account is ended by disqualifying the record. A blank name or
    phone of an account holder falls back to the account's, as when registering.
    """
    if not can_disqualify(acting_user, helper):
        raise PermissionDenied(ERR_HELPER_EDIT_NOT_ALLOWED)
    helper = (
        Helper.objects.select_for_update(of=("self",))
        .select_related("user", "node")
        .get(pk=helper.pk)
    )
    errors: dict[str, str] = {}
    new: dict = {}
    if "name" in data:
        name = _text(data, "name", 50, errors)
        if not name and helper.user is not None:
            name = (helper.user.full_name or helper.user.username)[:50]
        if not name and "name" not in errors:
            errors["name"] = ERR_REQUIRED
        new["name"] = name
    if "phone" in data:
        phone = normalise_phone(str(data.get("phone") or ""))
        if not phone and helper.user is not None:
            phone = normalise_phone(helper.user.mobile or "")
        if phone and not is_valid_phone(phone):
            errors["phone"] = ERR_PHONE
        new["phone"] = phone
    for field, n in (("unit_name", 100), ("note", 200)):
        if field in data:
            new[field] = _text(data, field, n, errors)
    if "node" in data:
        node = data.get("node")
        if node is None or not visible_nodes(acting_user).filter(pk=node.pk).exists():
            errors["node"] = ERR_HELPER_NODE
        new["node"] = node
    if errors:
        raise ValidationError(errors)
    changes = {}
    for field, value in new.items():
        old = getattr(helper, field)
        if old != value:
            changes[field] = (
                [old.name, value.name] if field == "node" else [old, value]
            )  # fmt: skip
            setattr(helper, field, value)
    if changes:
        if "phone" in changes:
            changes["phone"] = [mask_phone(changes["phone"][0]), mask_phone(changes["phone"][1])]
        helper.save(update_fields=list(changes))
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=helper,
            changes=changes,
            request=request,
            node=helper.node,
        )
    return helper


@transaction.atomic
def helper_disqualify(
    *, acting_user, helper: Helper, reason: str, on: dt.date | None = None, request=None
) -> list[Pairing]:
    """取消资格: the helper may no longer help. Each active pairing left without a qualified
    helper ends (its target shows as unpaired); pairings where other helpers remain go on
    with them. Returns the pairings that ended."""
    if not can_disqualify(acting_user, helper):
        raise PermissionDenied(ERR_DISQUALIFY_NOT_ALLOWED)
    helper = Helper.objects.select_for_update().get(pk=helper.pk)
    errors: dict[str, str] = {}
    if helper.disqualified_on is not None:
        errors["reason"] = ERR_ALREADY_DISQUALIFIED
    reason = _text({"reason": reason}, "reason", 200, errors, required=True)
    today = timezone.localdate()
    on = _date(on, "on", errors, today)
    if on is not None and on > today:
        errors["on"] = ERR_DISQUALIFY_DATE
    if errors:
        raise ValidationError(errors)
    helper.disqualified_on = on
    helper.disqualified_reason = reason
    helper.disqualified_by = acting_user
    helper.save(update_fields=["disqualified_on", "disqualified_reason", "disqualified_by"])
    ended = []
    for pairing in (
        Pairing.objects.select_for_update(of=("self",))
        .filter(helpers=helper, end__isnull=True)
        .select_related("programme")
    ):
        if pairing.helpers.filter(disqualified_on__isnull=True).exists():
            continue
        pairing.end = max(on, pairing.start)
        pairing.end_reason = ENDED_BY_DISQUALIFICATION.format(reason=reason)[:200]
        pairing.save(update_fields=["end", "end_reason"])
        ended.append(pairing)
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=pairing,
            changes={
                "end": [None, pairing.end.isoformat()],
                "end_reason": [None, pairing.end_reason],
            },
            request=request,
            node=pairing.grid,
        )
    audit_log(
        actor=acting_user,
        action=AuditAction.UPDATE,
        obj=helper,
        changes={
            "disqualified_on": [None, on.isoformat()],
            "disqualified_reason": [None, reason],
        },
        reason=reason,
        request=request,
        node=helper.node,
    )
    return ended


def group_members_sync(group: HelperGroup) -> None:
    """After a group's members change: its active pairings get the new helpers."""
    members = list(group.members.all())
    for pairing in group.pairings.filter(end__isnull=True):
        pairing.helpers.set(members)


def can_edit_group(user, group: HelperGroup) -> bool:
    """The office over the group's community (or above) keeps its name and members."""
    return (
        can_manage(user)
        and scope_queryset(
            user, HelperGroup.objects.filter(pk=group.pk), node_field="node", owner_fields=()
        ).exists()
    )


def editable_groups(user, groups) -> set[int]:
    """can_edit_group for a whole list at once: the ids of those the user may edit."""
    if not can_manage(user) or not groups:
        return set()
    qs = HelperGroup.objects.filter(pk__in=[g.pk for g in groups])
    return set(
        scope_queryset(user, qs, node_field="node", owner_fields=()).values_list("pk", flat=True)
    )


def _group_members(acting_user, data: dict, errors: dict, keep=()) -> list[Helper]:
    """Members in the user's sight and qualified; `keep`: members already in the group, who
    may stay listed even when disqualified (they are dropped, not refused)."""
    from minqing.assistance.selectors import helpers_for

    members = list({h.pk: h for h in (data.get("members") or [])}.values())
    rows = dict(
        helpers_for(acting_user)
        .filter(pk__in=[h.pk for h in members])
        .values_list("pk", "disqualified_on")
    )
    if any(h.pk not in rows for h in members):
        errors["members"] = ERR_HELPER_SCOPE
        return []
    bad = [h for h in members if rows[h.pk] is not None and h.pk not in keep]
    if bad:
        errors["members"] = ERR_HELPER_DISQUALIFIED.format(name=bad[0].name)
        return []
    members = [h for h in members if rows[h.pk] is None]
    if not members:
        errors["members"] = ERR_GROUP_MEMBERS
    return members


@transaction.atomic
def group_save(
    *, acting_user, data: dict, group: HelperGroup | None = None, reason: str = "", request=None
):
    """Create a 帮扶小组 (programme, name, community or grid, members) or change an existing
    one's name and members. Its running pairings follow the new members at once; the
    programme and place of a group stay (they decide which pairings it can take)."""
    if not can_manage(acting_user) or (
        group is not None and not can_edit_group(acting_user, group)
    ):
        raise PermissionDenied(ERR_GROUP_EDIT_NOT_ALLOWED if group else ERR_NOT_MANAGER)
    errors: dict[str, str] = {}
    if group is None:
        programme = data.get("programme")
        if not isinstance(programme, Programme) or not programme.active:
            errors["programme"] = ERR_PROGRAMME
        elif programme.pairing_kind != PairingKind.GROUP:
            errors["programme"] = ERR_GROUP_KIND
        node = data.get("node")
        if (
            node is None
            or node.level not in (Level.COMMUNITY, Level.ZONE, Level.GRID)
            or not visible_nodes(acting_user).filter(pk=node.pk).exists()
        ):
            errors["node"] = ERR_GROUP_NODE
        before_members = []
    else:
        group = HelperGroup.objects.select_for_update().get(pk=group.pk)
        before_members = list(group.members.order_by("pk"))
    name = _text(data, "name", 50, errors, required=True) if "name" in data or not group else None
    members = None
    if "members" in data or group is None:
        members = _group_members(
            acting_user, data, errors, keep={h.pk for h in before_members}
        )  # fmt: skip
    if errors:
        raise ValidationError(errors)
    changes: dict = {}
    if group is None:
        group = HelperGroup.objects.create(programme=programme, name=name, node=node)
        changes = {"programme": [None, programme.name], "name": [None, name]}
        action = AuditAction.CREATE
    else:
        action = AuditAction.UPDATE
        if name is not None and name != group.name:
            changes["name"] = [group.name, name]
            group.name = name
            group.save(update_fields=["name"])
    if members is not None and {h.pk for h in members} != {h.pk for h in before_members}:
        changes["members"] = [
            "、".join(h.name for h in before_members) or None,
            "、".join(h.name for h in members),
        ]
        group.members.set(members)
        group_members_sync(group)
    if changes:
        audit_log(
            actor=acting_user, action=action, obj=group, changes=changes, reason=reason,
            request=request, node=group.node,
        )  # fmt: skip
    return group


# --- pairings --------------------------------------------------------------------------------


def _target(acting_user, kind: str, data: dict, errors: dict):
    """The target object named in data, if the user's scope holds it."""
    from minqing.registry.selectors import (
        households_for,
        organisations_for,
        people_for,
        places_for,
    )

    field = TARGET_FIELD[TargetKind(kind)]
    value = data.get(field)
    if value is None or value == "":
        errors[field] = ERR_TARGET_REQUIRED.format(kind=TargetKind(kind).label)
        return None
    model = {
        "household": Household,
        "person": Person,
        "node": Node,
        "place": Place,
        "organisation": Organisation,
    }[field]
    pk = value.pk if isinstance(value, model) else value
    if not isinstance(pk, int) or not 0 < pk < 2**63:
        errors[field] = ERR_TARGET_SCOPE
        return None
    qs = {
        "household": lambda: households_for(acting_user).select_related("grid"),
        "person": lambda: people_for(acting_user).select_related("household__grid", "grid"),
        "node": lambda: visible_nodes(acting_user),
        "place": lambda: places_for(acting_user).select_related("grid"),
        "organisation": lambda: organisations_for(acting_user).select_related("grid"),
    }[field]()
    target = qs.filter(pk=pk).first()
    if target is None:
        errors[field] = ERR_TARGET_SCOPE
    elif field == "node" and target.level not in (Level.COMMUNITY,):
        errors[field] = ERR_NODE_LEVEL
        return None
    return target


def target_grid(kind: str, target) -> Node:
    """Where a target lies in the tree: see the models' docstring."""
    if kind == TargetKind.NODE:
        return target
    if kind == TargetKind.PERSON and target.household_id:
        return target.household.grid
    return target.grid


def _helpers(acting_user, programme: Programme, data: dict, errors: dict) -> tuple[list, object]:
    from minqing.assistance.selectors import groups_for, helpers_for

    group = data.get("group")
    if programme.pairing_kind == PairingKind.GROUP:
        if group is None:
            errors["group"] = ERR_GROUP_REQUIRED
            return [], None
        if not groups_for(acting_user).filter(pk=group.pk).exists():
            errors["group"] = ERR_GROUP_SCOPE
            return [], None
        if group.programme_id != programme.pk:
            errors["group"] = ERR_GROUP_PROGRAMME
            return [], None
        helpers = list(group.members.filter(disqualified_on__isnull=True))
        if not helpers:
            errors["group"] = ERR_GROUP_EMPTY
        return helpers, group
    if group is not None:
        errors["group"] = ERR_GROUP_NOT_ALLOWED
    helpers = list({h.pk: h for h in (data.get("helpers") or [])}.values())
    if not helpers:
        errors["helpers"] = ERR_HELPERS_REQUIRED
        return [], None
    # Read from the database, not the objects passed in: a helper disqualified since they
    # were loaded must not be paired.
    disqualified = dict(
        helpers_for(acting_user)
        .filter(pk__in=[h.pk for h in helpers])
        .values_list("pk", "disqualified_on")
    )
    if any(h.pk not in disqualified for h in helpers):
        errors["helpers"] = ERR_HELPER_SCOPE
        return [], None
    bad = [h for h in helpers if disqualified[h.pk] is not None]
    if bad:
        errors["helpers"] = ERR_HELPER_DISQUALIFIED.format(name=bad[0].name)
    elif programme.pairing_kind == PairingKind.ONE_TO_ONE and len(helpers) != 1:
        errors["helpers"] = ERR_ONE_HELPER
    elif programme.pairing_kind == PairingKind.MANY_TO_ONE and len(helpers) < 2:
        errors["helpers"] = ERR_MANY_HELPERS
    elif programme.pairing_kind == PairingKind.UNIT and any(
        h.kind != HelperKind.UNIT for h in helpers
    ):
        errors["helpers"] = ERR_UNIT_HELPERS
    return helpers, None


def _causes(data: dict, errors: dict) -> list[str]:
    raw = data.get("causes") or []
    if isinstance(raw, str):
        raw = [raw]
    causes = []
    for c in raw:
        if c not in Cause.values:
            errors["causes"] = ERR_CAUSE
            return []
        if c not in causes:
            causes.append(c)
    # Stored in the order of the choices, so equal sets look equal.
    return [c for c in Cause.values if c in causes]


@transaction.atomic
def pairing_create(*, acting_user, data: dict, request=None) -> Pairing:
    """Pair helper(s) with a target of the office's subtree.

    data: programme, the target (household / person / node / place / organisation, by the
    programme's target kind: an object or its pk), helpers (list of Helper) or group
    (HelperGroup, for group programmes), causes (Cause values), work_ability, note, start.
    """
    if not can_manage(acting_user):
        raise PermissionDenied(ERR_NOT_MANAGER)
    errors: dict[str, str] = {}
    programme = data.get("programme")
    if not isinstance(programme, Programme) or not programme.active:
        raise ValidationError({"programme": ERR_PROGRAMME})
    kind = programme.target_kind
    target = _target(acting_user, kind, data, errors)
    helpers, group = _helpers(acting_user, programme, data, errors)
    causes = _causes(data, errors)
    work_ability = data.get("work_ability") or ""
    if work_ability not in WorkAbility.values:
        errors["work_ability"] = ERR_WORK_ABILITY
    note = _text(data, "note", 500, errors)
    today = timezone.localdate()
    start = _date(data.get("start"), "start", errors, today)
    if start is not None and start > today:
        errors["start"] = ERR_START_FUTURE
    elif start is not None and start < EARLIEST:
        errors["start"] = ERR_START_PAST
    born = getattr(target, "birth_date", None) if kind == TargetKind.PERSON else None
    if start is not None and born is not None and start < born and "start" not in errors:
        errors["start"] = ERR_START_BEFORE_BIRTH.format(born=born.isoformat())
    field = TARGET_FIELD[TargetKind(kind)]
    if target is not None:
        # Lock the target's existing pairings of the programme: two offices pairing the same
        # orphan at once must not both succeed.
        twin = (
            Pairing.objects.select_for_update()
            .filter(programme=programme, end__isnull=True, **{field: target})
            .first()
        )
        if twin is not None:
            errors[field] = ERR_ALREADY_PAIRED.format(programme=programme.name)
    if errors:
        raise ValidationError(errors)
    pairing = Pairing.objects.create(
        programme=programme,
        target_kind=kind,
        grid=target_grid(kind, target),
        group=group,
        causes=causes,
        work_ability=work_ability,
        note=note,
        start=start,
        created_by=acting_user,
        **{field: target},
    )
    pairing.helpers.set(helpers)
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=pairing,
        changes={
            "programme": [None, programme.name],
            "target": [None, pairing.target_name],
            "helpers": [None, "、".join(h.name for h in helpers)],
            "group": [None, group.name if group else ""],
            "start": [None, start.isoformat()],
        },
        request=request,
        node=pairing.grid,
    )
    return pairing


@transaction.atomic
def pairing_update(
    *, acting_user, pairing: Pairing, data: dict, reason: str = "", request=None
) -> Pairing:
    """Change an active pairing's helpers (or group), causes, work ability or plan.

    帮扶人调动 is the common case: a cadre moves on and another takes over the same family
    without ending the pairing, so its history and contact rhythm go on. Only the keys present
    in data change; helpers are checked as when pairing (in scope, qualified, the programme's
    one-to-one / many-to-one / unit rules). The programme, the target and the start stay: a
    different target is a new pairing. Help already logged keeps the helper who gave it.
    `reason` goes to the audit entry (帮扶人交接 gives the handover's).
    """
    if not can_manage_pairing(acting_user, pairing):
        raise PermissionDenied(ERR_NOT_MANAGER)
    pairing = (
        Pairing.objects.select_for_update(of=("self",))
        .select_related("programme", "group", "grid")
        .get(pk=pairing.pk)
    )
    if pairing.end is not None:
        raise ValidationError({NON_FIELD_ERRORS: ERR_PAIRING_ENDED_EDIT})
    errors: dict[str, str] = {}
    programme = pairing.programme
    changes: dict = {}
    helpers = group = None
    if "helpers" in data or "group" in data:
        picked = {"helpers": data.get("helpers"), "group": data.get("group")}
        if programme.pairing_kind == PairingKind.GROUP:
            if picked["helpers"]:
                errors["helpers"] = ERR_GROUP_HELPERS
            if picked["group"] is None:
                picked["group"] = pairing.group
        if "helpers" not in errors:
            helpers, group = _helpers(acting_user, programme, picked, errors)
    causes = _causes(data, errors) if "causes" in data else pairing.causes
    work_ability = pairing.work_ability
    if "work_ability" in data:
        work_ability = data.get("work_ability") or ""
        if work_ability not in WorkAbility.values:
            errors["work_ability"] = ERR_WORK_ABILITY
    note = _text(data, "note", 500, errors) if "note" in data else pairing.note
    if errors:
        raise ValidationError(errors)
    fields = []
    for field, value in (("causes", causes), ("work_ability", work_ability), ("note", note)):
        if getattr(pairing, field) != value:
            changes[field] = [getattr(pairing, field), value]
            setattr(pairing, field, value)
            fields.append(field)
    if helpers is not None:
        if group is not None and group.pk != pairing.group_id:
            changes["group"] = [pairing.group.name if pairing.group_id else "", group.name]
            pairing.group = group
            fields.append("group")
        before = list(pairing.helpers.order_by("pk"))
        if {h.pk for h in before} != {h.pk for h in helpers}:
            changes["helpers"] = [
                "、".join(h.name for h in before),
                "、".join(h.name for h in helpers),
            ]
            pairing.helpers.set(helpers)
    if fields:
        pairing.save(update_fields=fields)
    if changes:
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=pairing,
            changes=changes,
            reason=reason,
            request=request,
            node=pairing.grid,
        )
    return pairing


@transaction.atomic
def pairing_end(
    *, acting_user, pairing: Pairing, reason: str, on: dt.date | None = None, request=None
) -> Pairing:
    """End a pairing (脱贫、迁出、帮扶人调动 …) with a reason."""
    if not can_manage_pairing(acting_user, pairing):
        raise PermissionDenied(ERR_NOT_MANAGER)
    pairing = (
        Pairing.objects.select_for_update(of=("self",))
        .select_related("programme")
        .get(pk=pairing.pk)
    )
    errors: dict[str, str] = {}
    if pairing.end is not None:
        raise ValidationError({"reason": ERR_ALREADY_ENDED})
    reason = _text({"reason": reason}, "reason", 200, errors, required=True)
    today = timezone.localdate()
    on = _date(on, "on", errors, today)
    if on is not None and on > today:
        errors["on"] = ERR_END_FUTURE
    elif on is not None and on < pairing.start:
        errors["on"] = ERR_END_BEFORE_START
    if errors:
        raise ValidationError(errors)
    pairing.end = on
    pairing.end_reason = reason
    pairing.save(update_fields=["end", "end_reason"])
    audit_log(
        actor=acting_user,
        action=AuditAction.UPDATE,
        obj=pairing,
        changes={"end": [None, on.isoformat()], "end_reason": [None, reason]},
        reason=reason,
        request=request,
        node=pairing.grid,
    )
    return pairing


# --- the help log ----------------------------------------------------------------------------


def help_entry_clean(*, acting_user, pairing: Pairing, data: dict) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    kind = data.get("kind") or ""
    if kind not in HelpKind.values:
        errors["kind"] = ERR_KIND
    out["kind"] = kind
    today = timezone.localdate()
    day = _date(data.get("occurred_on"), "occurred_on", errors, today)
    if day is not None and "occurred_on" not in errors:
        if day > today:
            errors["occurred_on"] = ERR_HELP_DATE_FUTURE
        elif day < pairing.start:
            errors["occurred_on"] = ERR_HELP_DATE_BEFORE.format(start=pairing.start.isoformat())
        elif pairing.end is not None and day > pairing.end:
            errors["occurred_on"] = ERR_HELP_DATE_AFTER.format(end=pairing.end.isoformat())
    out["occurred_on"] = day
    out["text"] = _text(data, "text", MAX_TEXT, errors)
    out["goods"] = _text(data, "goods", 200, errors)
    for field in ("amount", "goods_value"):
        try:
            out[field] = parse_amount(data.get(field))
        except ValueError as exc:
            errors[field] = str(exc)
            out[field] = None
    source_ = data.get("fund_source") or ""
    if source_ and source_ not in FundSource.values:
        errors["fund_source"] = ERR_FUND_SOURCE_INVALID
    elif not source_ and (out["amount"] or out["goods_value"]):
        errors["fund_source"] = ERR_FUND_SOURCE
    out["fund_source"] = source_
    if not (out["text"] or out["goods"] or out["amount"] or out["goods_value"]) and not errors:
        errors["text"] = ERR_HELP_EMPTY
    # Who helped: the acting helper themselves, or (logged on their behalf) a named helper.
    # An entry names its helper: the helper's page lists it and the monthly report credits them
    # (one with none was credited in the report and missing from the page). A group's pairing
    # may log what the group did together, with no one named.
    own = helper_of(acting_user, pairing)
    helper = data.get("helper")
    if own is not None and helper is None:
        helper = own
    if helper is None and pairing.group_id is None:
        helpers = list(pairing.helpers.all()[:2])
        if len(helpers) == 1:
            helper = helpers[0]  # the only one: nothing to choose
        else:
            errors["helper"] = ERR_HELP_WHO
    elif helper is not None and not pairing.helpers.filter(pk=helper.pk).exists():
        errors["helper"] = ERR_HELP_HELPER
    out["helper"] = helper
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def help_entry_add(*, acting_user, pairing: Pairing, data: dict, request=None) -> HelpEntry:
    """Log help given to a pairing's target (a contact, too).

    data: kind (HelpKind), occurred_on, text, amount, goods, goods_value (yuan), fund_source,
    helper (optional: who helped, when an office logs on a helper's behalf).
    """
    pairing = (
        Pairing.objects.select_for_update(of=("self",))
        .select_related("programme", "grid")
        .get(pk=pairing.pk)
    )
    if not can_log_help(acting_user, pairing):
        raise PermissionDenied(ERR_HELP_NOT_ALLOWED)
    if pairing.end is not None and pairing.end < timezone.localdate() - dt.timedelta(days=31):
        # A helper may still log last month's help after the pairing ended; not years later.
        raise ValidationError({"occurred_on": ERR_HELP_ENDED})
    clean = help_entry_clean(acting_user=acting_user, pairing=pairing, data=data)
    entry = HelpEntry.objects.create(pairing=pairing, created_by=acting_user, **clean)
    money = [
        f"{label}{value}元"
        for label, value in (("资金", entry.amount), ("物资折价", entry.goods_value))
        if value
    ]
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=entry,
        changes={
            "pairing": [None, str(pairing)],
            "kind": [None, source(HelpKind(entry.kind).label)],
            "occurred_on": [None, entry.occurred_on.isoformat()],
            "helper": [None, entry.helper.name if entry.helper else ""],
            "money": [None, "，".join(money)],
            "fund_source": [
                None,
                source(FundSource(entry.fund_source).label) if entry.fund_source else "",
            ],
        },
        request=request,
        node=pairing.grid,
    )
    _visit_schedule_follows(entry)
    return entry


def _visit_schedule_follows(entry: HelpEntry, *, was_visit: bool = False) -> None:
    """Enter once: a 走访慰问 at a household is a visit, so its visit schedule (the due lists,
    逾期未访) moves as a 走访记录 would move it — also when the entry is corrected or removed.
    Other kinds of help are contacts of the pairing only."""
    if entry.kind != HelpKind.VISIT and not was_visit:
        return
    from minqing.assistance.selectors import household_of
    from minqing.registry.models import Household
    from minqing.visits.services import household_visit_state_refresh

    pairing = Pairing.objects.select_related("person").get(pk=entry.pairing_id)
    household_id = household_of(pairing)
    if household_id is not None:
        household_visit_state_refresh(household=Household(pk=household_id))


HELP_FIELDS = ["kind", "occurred_on", "text", "amount", "goods", "goods_value", "fund_source"]


def _help_words(entry: HelpEntry) -> dict:
    """An entry's fields as the audit keeps them: Chinese words, sums as text."""
    return {
        "kind": source(HelpKind(entry.kind).label),
        "occurred_on": entry.occurred_on.isoformat(),
        "text": entry.text,
        "amount": str(entry.amount) if entry.amount is not None else "",
        "goods": entry.goods,
        "goods_value": str(entry.goods_value) if entry.goods_value is not None else "",
        "fund_source": source(FundSource(entry.fund_source).label) if entry.fund_source else "",
        "helper": entry.helper.name if entry.helper else "",
    }


@transaction.atomic
def help_entry_update(
    *, acting_user, entry: HelpEntry, data: dict, reason: str, request=None
) -> HelpEntry:
    """Correct a help entry (a sum typed wrong, the wrong day or helper): the same checks as a
    new one; the report, the helper's page and the household's timeline read the new values,
    the audit entry keeps the old ones and why."""
    entry = (
        HelpEntry.objects.select_for_update(of=("self",))
        .select_related("pairing__programme", "pairing__grid", "helper")
        .get(pk=entry.pk)
    )
    if not can_correct_help(acting_user, entry):
        raise PermissionDenied(ERR_HELP_CORRECT)
    reason = reason_text(reason)
    data = dict(data)
    if data.get("helper") is None and entry.helper is not None:
        data["helper"] = entry.helper  # not chosen again: the entry keeps its helper
    clean = help_entry_clean(acting_user=acting_user, pairing=entry.pairing, data=data)
    old = _help_words(entry)
    was_visit = entry.kind == HelpKind.VISIT
    for f in [*HELP_FIELDS, "helper"]:
        setattr(entry, f, clean[f])
    entry.save()
    _visit_schedule_follows(entry, was_visit=was_visit)
    new = _help_words(entry)
    changes = {k: [old[k], v] for k, v in new.items() if old[k] != v}
    audit_log(
        actor=acting_user,
        action=AuditAction.UPDATE,
        obj=entry,
        changes=changes,
        reason=reason,
        request=request,
        node=entry.pairing.grid,
    )
    return entry


@transaction.atomic
def help_entry_delete(*, acting_user, entry: HelpEntry, reason: str, request=None) -> None:
    """Remove an entry logged by mistake (twice, or on the wrong pairing)."""
    entry = (
        HelpEntry.objects.select_for_update(of=("self",))
        .select_related("pairing__grid", "helper")
        .get(pk=entry.pk)
    )
    if not can_correct_help(acting_user, entry):
        raise PermissionDenied(ERR_HELP_CORRECT)
    reason = reason_text(reason)
    audit_log(
        actor=acting_user,
        action=AuditAction.DELETE,
        obj=entry,
        changes={k: [v, None] for k, v in _help_words(entry).items() if v},
        reason=reason,
        request=request,
        node=entry.pairing.grid,
    )
    entry.delete()
    _visit_schedule_follows(entry)
