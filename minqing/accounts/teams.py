"""组团 kept by the community office: each block's service team, its members and its first and
second responsible people (一块区，一组团).

Teams change when people do — a volunteer joins, a 楼组长 moves away, the first responsible
person is rotated — so the community office keeps them in the app, not only the admin. Every
change is audited like the registry's records. The pages and the API call these functions.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import has_role, node_in_scope, visible_nodes
from minqing.accounts.models import MemberKind, Responsibility, Role, ServiceTeam, TeamMember, User
from minqing.core.audit import audit_log
from minqing.core.forms import PermissionDenied
from minqing.core.forms import clean_text as _text
from minqing.core.models import AuditAction
from minqing.core.phone import ERR_PHONE, is_valid_phone, normalise_phone
from minqing.grids.models import Level, Node

# The community office and those above it keep the teams of their blocks.
MANAGE_ROLES = {
    Role.COMMUNITY_WORKER,
    Role.COMMUNITY_SECRETARY,
    Role.STREET_OFFICER,
    Role.COUNTY_OFFICER,
    Role.ADMIN,
}
# A team serves a block: a 片区 or a grid.
TEAM_LEVELS = (Level.ZONE, Level.GRID)

ERR_NOT_ALLOWED = _("只有社区及以上的工作人员可以维护本辖区的服务组团。")
ERR_LEVEL = _("服务组团建在片区或网格上。")
ERR_KIND = _("请选择成员身份。")
ERR_RESPONSIBILITY = _("职责应为成员、第一责任人或第二责任人。")
ERR_RESPONSIBILITY_TAKEN = _("本组团已有{role}：{name}。请先把其职责改为成员。")
ERR_OFFICE_PHONE = _("办公电话只能包含数字、空格、“-”和“转”。")
ERR_USER = _("没有这个用户名的账号。")
ERR_USER_SCOPE = _(
    "这个账号的管辖范围不含“{node}”，看不到本网格的住户，不能登记为组团成员的账号；"
    "可只登记姓名和电话。"
)


def can_manage_team(user, node: Node) -> bool:
    return has_role(user, MANAGE_ROLES) and visible_nodes(user).filter(pk=node.pk).exists()


def _check(user, node: Node) -> None:
    if not can_manage_team(user, node):
        raise PermissionDenied(ERR_NOT_ALLOWED)


def _office_phone(data: dict, errors: dict) -> str:
    value = _text(data, "office_phone", 30, errors)
    if value and not all(c.isdigit() or c in " -转" for c in value):
        errors["office_phone"] = ERR_OFFICE_PHONE
    return value


def _diff(obj, values: dict) -> dict:
    """Set the changed values on obj; return {field: [old, new]} of what changed."""
    changes = {}
    for field, value in values.items():
        old = getattr(obj, field)
        if old != value:
            changes[field] = [old, value]
            setattr(obj, field, value)
    return changes


@transaction.atomic
def team_save(*, acting_user, node: Node, data: dict, request=None) -> ServiceTeam:
    """Create the team of a block, or change its name, office phone and office address.

    Only the keys present in data change on an existing team; a new one needs a name.
    """
    _check(acting_user, node)
    team = ServiceTeam.objects.select_for_update().filter(node=node).first()
    errors: dict[str, str] = {}
    if team is None and node.level not in TEAM_LEVELS:
        raise ValidationError({"node": ERR_LEVEL})
    values = {}
    if "name" in data or team is None:
        values["name"] = _text(data, "name", 100, errors, required=True)
    if "office_phone" in data:
        values["office_phone"] = _office_phone(data, errors)
    if "office_address" in data:
        values["office_address"] = _text(data, "office_address", 200, errors)
    if errors:
        raise ValidationError(errors)
    if team is None:
        team = ServiceTeam.objects.create(node=node, **values)
        changes = {k: [None, v] for k, v in values.items()}
        action = AuditAction.CREATE
    else:
        changes = _diff(team, values)
        if changes:
            team.save(update_fields=list(changes))
        action = AuditAction.UPDATE
    if changes:
        audit_log(
            actor=acting_user, action=action, obj=team, changes=changes, request=request, node=node
        )
    return team


def _member_values(data: dict, member: TeamMember | None, errors: dict) -> dict:
    """The member's fields from data (on an edit: only the keys present)."""
    new = member is None
    values = {}
    if new or "name" in data:
        values["name"] = _text(data, "name", 50, errors, required=True)
    if new or "kind" in data:
        kind = str(data.get("kind") or "")
        if kind not in MemberKind.values:
            errors["kind"] = ERR_KIND
        values["kind"] = kind
    if new or "responsibility" in data:
        raw = data.get("responsibility") or 0
        try:
            responsibility = int(raw)
        except (TypeError, ValueError):
            responsibility = -1
        if responsibility not in Responsibility.values:
            errors["responsibility"] = ERR_RESPONSIBILITY
        values["responsibility"] = responsibility
    if new or "duty" in data:
        values["duty"] = _text(data, "duty", 100, errors)
    if new or "office_phone" in data:
        values["office_phone"] = _office_phone(data, errors)
    if new or "mobile" in data:
        mobile = normalise_phone(str(data.get("mobile") or ""))
        if mobile and not is_valid_phone(mobile):
            errors["mobile"] = ERR_PHONE
        values["mobile"] = mobile
    if new or "username" in data:
        username = str(data.get("username") or "").strip()
        user = None
        if username:
            user = User.objects.filter(username=username[:150], is_active=True).first()
            if user is None:
                errors["username"] = ERR_USER
        values["user"] = user
    return values


def _responsibility_free(team: ServiceTeam, values: dict, member, errors: dict) -> None:
    role = values.get("responsibility")
    if not role:
        return
    holder = team.members.filter(responsibility=role).exclude(pk=getattr(member, "pk", None))
    holder = holder.first()
    if holder is not None:
        errors["responsibility"] = ERR_RESPONSIBILITY_TAKEN.format(
            role=Responsibility(role).label, name=holder.name
        )


def _member_changes(changes: dict) -> dict:
    out = {}
    for field, (old, new) in changes.items():
        if field == "user":
            old, new = (getattr(old, "username", None), getattr(new, "username", None))
        out[field] = [old, new]
    return out


@transaction.atomic
def member_save(
    *, acting_user, team: ServiceTeam, data: dict, member: TeamMember | None = None, request=None
) -> TeamMember:
    """Add a member to a team, or change one (only the keys present in data change).

    A team has at most one 第一责任人 and one 第二责任人: naming a second one is refused with
    who holds the role now, rather than silently demoting them.
    """
    _check(acting_user, team.node)
    team = (
        ServiceTeam.objects.select_for_update(of=("self",)).select_related("node").get(pk=team.pk)
    )
    if member is not None:
        member = TeamMember.objects.select_for_update().get(pk=member.pk, team=team)
    errors: dict[str, str] = {}
    values = _member_values(data, member, errors)
    account = values.get("user")
    if account is not None and not node_in_scope(account, team.node):
        # Given this grid's campaign targets and visits, it could open none of its homes.
        errors["username"] = ERR_USER_SCOPE.format(node=team.node.name)
    _responsibility_free(team, values, member, errors)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            if member is None:
                member = TeamMember.objects.create(team=team, **values)
                changes = {k: [None, v] for k, v in values.items()}
                action = AuditAction.CREATE
            else:
                changes = _diff(member, values)
                if changes:
                    member.save(update_fields=list(changes))
                action = AuditAction.UPDATE
    except IntegrityError:
        # Another office named the same responsible person at the same moment.
        raise ValidationError(
            {"responsibility": ERR_RESPONSIBILITY_TAKEN.format(
                role=Responsibility(values["responsibility"]).label, name="—")}
        ) from None  # fmt: skip
    if changes:
        audit_log(
            actor=acting_user,
            action=action,
            obj=member,
            changes=_member_changes(changes),
            request=request,
            node=team.node,
        )
    return member


@transaction.atomic
def member_remove(*, acting_user, member: TeamMember, request=None) -> None:
    team = member.team
    _check(acting_user, team.node)
    audit_log(
        actor=acting_user,
        action=AuditAction.DELETE,
        obj=member,
        changes={"name": [member.name, None], "kind": [member.kind, None]},
        request=request,
        node=team.node,
    )
    member.delete()


def team_for(user, code: str) -> tuple[Node, ServiceTeam | None]:
    """The block named by code in the user's sight, and its team (None when it has none);
    Http404 when the block is not there for this user."""
    from django.http import Http404

    code = str(code or "").strip()[:20]
    node = visible_nodes(user).filter(code=code).first() if code.isdigit() else None
    if node is None:
        raise Http404
    return node, ServiceTeam.objects.filter(node=node).first()
