"""帮扶人交接: a helper who moves on hands every family they help to a successor at once.

A cadre transferred to another post helps three to five households; until now each pairing
was edited by hand (pairing_update), and the families a busy office forgot waited without
anybody to visit them. Here an office picks the successor and gives a reason, and:

* each running pairing of the leaver that the office manages gets the successor in the
  leaver's place (co-helpers stay) through `services.pairing_update`, in its own transaction,
  so the programme's rules (one-to-one, many-to-one, unit) hold and the audit says why;
* each 帮扶小组 the leaver belongs to that the office may edit gets the successor as a member
  in their place (`services.group_save`), and the group's pairings follow;
* a pairing or group that cannot move (another office's, or the rules refuse it) is reported
  with the reason and left as it was. Help already logged keeps the helper who gave it.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from minqing.assistance import selectors, services
from minqing.assistance.models import Helper, HelperGroup, HelperKind, Pairing, PairingKind
from minqing.core.forms import PermissionDenied

ERR_NO_SUCCESSOR = _("请选择接手的帮扶人。")
ERR_SAME_HELPER = _("交出人和接手人不能是同一人。")
ERR_SUCCESSOR = _("所选接手人不存在、不在您的范围内或已被取消资格。")
ERR_SUCCESSOR_KIND = _("单位的结对只能交给单位，个人的结对只能交给个人。")
ERR_NOTHING = _("该帮扶人没有帮扶中的结对，也不在任何帮扶小组中。")
SKIP_NOT_YOURS = _("该结对不在您的管辖范围内，请由其所在社区办理。")
SKIP_GROUP_NOT_YOURS = _("该小组不在您的管辖范围内，请由小组所在社区办理。")


@dataclass
class Moved:
    """What a handover did: pairings now helped by the successor, groups they joined, and what
    stayed as it was, each with the reason."""

    pairings: list[Pairing] = field(default_factory=list)
    groups: list[HelperGroup] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)


def _is_unit(helper: Helper) -> bool:
    return helper.kind == HelperKind.UNIT


def running_pairings(helper: Helper) -> QuerySet[Pairing]:
    return (
        Pairing.objects.filter(helpers=helper, end__isnull=True)
        .select_related("programme", "household", "person", "node", "place", "organisation")
        .order_by("grid__path", "pk")
    )


def helper_of_user(viewer, user_id: int) -> tuple[Helper, int] | None:
    """A staff member's own helper record, as `viewer` may see it, and how many pairings it
    helps in now: the case handover page (人员交接) points there when somebody leaves."""
    helper = selectors.helpers_for(viewer).filter(user_id=user_id).first()
    if helper is None:
        return None
    running = running_pairings(helper).count()
    return (helper, running) if running else None


def successors(user, helper: Helper) -> QuerySet[Helper]:
    """Who may take over: qualified helpers the user sees, of the leaver's sort (a unit hands
    to a unit, a person to a person)."""
    qs = selectors.helpers_for(user).filter(disqualified_on__isnull=True).exclude(pk=helper.pk)
    qs = qs.filter(kind=HelperKind.UNIT) if _is_unit(helper) else qs.exclude(kind=HelperKind.UNIT)
    return qs.order_by("kind", "name", "pk")


def _swapped(helpers, leaver: Helper, successor: Helper) -> list[Helper]:
    """`helpers` with the successor in the leaver's place (and not twice)."""
    kept = [h for h in helpers if h.pk != leaver.pk]
    return kept if successor.pk in {h.pk for h in kept} else [*kept, successor]


def _first_message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        for messages in exc.message_dict.values():
            if messages:
                return str(messages[0])
    return str(exc.messages[0]) if exc.messages else ""


def hand_over(*, acting_user, helper: Helper, successor: Helper | None, reason: str, request=None):
    """Give `helper`'s running pairings and group places to `successor` (see the module)."""
    if not services.can_manage(acting_user):
        raise PermissionDenied(services.ERR_NOT_MANAGER)
    errors: dict[str, str] = {}
    if successor is None:
        errors["successor"] = ERR_NO_SUCCESSOR
    elif successor.pk == helper.pk:
        errors["successor"] = ERR_SAME_HELPER
    elif not successors(acting_user, helper).filter(pk=successor.pk).exists():
        errors["successor"] = (
            ERR_SUCCESSOR_KIND if _is_unit(successor) != _is_unit(helper) else ERR_SUCCESSOR
        )
    reason = services._text({"reason": reason}, "reason", 200, errors, required=True)
    pairings = list(running_pairings(helper))
    groups = list(helper.groups.select_related("node").order_by("node__path", "name"))
    if not errors and not pairings and not groups:
        errors["successor"] = ERR_NOTHING
    if errors:
        raise ValidationError(errors)
    done = Moved()
    editable = services.editable_groups(acting_user, groups)
    for group in groups:
        if group.pk not in editable:
            done.skipped.append((group.name, str(SKIP_GROUP_NOT_YOURS)))
            continue
        try:
            services.group_save(
                acting_user=acting_user,
                group=group,
                data={"members": _swapped(group.members.all(), helper, successor)},
                reason=reason,
                request=request,
            )
        except (ValidationError, PermissionDenied) as exc:
            why = _first_message(exc) if isinstance(exc, ValidationError) else str(exc)
            done.skipped.append((group.name, why))
        else:
            done.groups.append(group)
    moved_groups = {g.pk for g in done.groups}
    for pairing in pairings:
        if pairing.programme.pairing_kind == PairingKind.GROUP:
            if pairing.group_id in moved_groups:
                done.pairings.append(pairing)
            elif pairing.group_id is None or pairing.group_id not in {g.pk for g in groups}:
                done.skipped.append((pairing.target_name, str(services.ERR_GROUP_HELPERS)))
            continue  # a skipped group has said why already
        if not services.can_manage_pairing(acting_user, pairing):
            done.skipped.append((pairing.target_name, str(SKIP_NOT_YOURS)))
            continue
        try:
            services.pairing_update(
                acting_user=acting_user,
                pairing=pairing,
                data={"helpers": _swapped(pairing.helpers.all(), helper, successor)},
                reason=reason,
                request=request,
            )
        except ValidationError as exc:
            done.skipped.append((pairing.target_name, _first_message(exc)))
        else:
            done.pairings.append(pairing)
    return done
