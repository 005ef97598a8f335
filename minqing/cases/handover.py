"""人员交接: everything one handler holds, handed to another in one go.

Their open cases, and the households campaigns gave them to visit (visits.services).

Grid workers leave, fall ill or move to another grid, and the cases dispatched to them would
otherwise wait until the sweeper finds them late. A dispatcher (社区工作者 and up) picks the
person who is leaving and the one who takes over; each of the leaver's open cases that the
dispatcher may act on is reassigned (workflow "reassign", 改派) as one action of the state
machine, in its own transaction: its state, clock and deadline stay, both people are told,
the case's log says who handed it over and why. A case that cannot move (somebody acted on it
meanwhile, or the successor cannot work in its grid) is reported and left as it was.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import has_role, user_assignments
from minqing.accounts.models import Role, User
from minqing.cases import services
from minqing.cases.models import Case, Status
from minqing.cases.selectors import cases_for
from minqing.cases.workflow import DISPATCHERS
from minqing.core.forms import PermissionDenied
from minqing.core.pasted import plain
from minqing.grids.models import Node, subtree_q

ERR_NOT_DISPATCHER = _("只有社区工作者及以上人员可以办理案件交接。")
ERR_SAME_PERSON = _("交出人和接手人不能是同一人。")
ERR_NO_SUCCESSOR = _("请选择接手人。")
ERR_SUCCESSOR = _("所选接手人不在您负责的辖区内。")
ERR_NO_CASES = _("所选人员没有可交接的案件。")

# Who may take cases over: the staff a case can be dispatched to (cases.selectors).
SUCCESSOR_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.COMMUNITY_SECRETARY)


def may_hand_over(user) -> bool:
    return has_role(user, DISPATCHERS)


def _dispatching_paths(user) -> list[str]:
    return [a.node.path for a in user_assignments(user) if a.role in DISPATCHERS]


def held_cases(user, holder_id: int | None = None) -> QuerySet[Case]:
    """Open cases with a personal handler that `user` may reassign (held at a level where
    they dispatch), optionally only `holder_id`'s. A department's case (转办) is the
    department's to share out, not part of a person's handover."""
    qs = cases_for(user).filter(
        status__in=(Status.DISPATCHED, Status.HANDLING),
        handler_user__isnull=False,
        handler_unit__isnull=True,
    )
    if not user.is_superuser:
        levels = Q(pk__in=[])
        for path in _dispatching_paths(user):
            levels |= Q(level_node__in=Node.objects.filter(subtree_q(path)).values("pk"))
        qs = qs.filter(levels)
    if holder_id is not None:
        qs = qs.filter(handler_user_id=holder_id)
    return qs


def holders(user) -> list[dict]:
    """The people holding cases or visit targets `user` may hand over, with how many:
    {id, name, username, count (cases), targets (households to visit)}."""
    from minqing.visits.selectors import target_holders

    cases = dict(
        held_cases(user)
        .order_by()
        .values("handler_user")
        .annotate(n=Count("id"))
        .values_list("handler_user", "n")
    )
    targets = target_holders(user)
    people = User.objects.filter(pk__in=set(cases) | set(targets)).order_by("full_name", "username")
    return [
        {
            "id": u.pk,
            "name": u.full_name or u.username,
            "username": u.username,
            "count": cases.get(u.pk, 0),
            "targets": targets.get(u.pk, 0),
        }
        for u in people
    ]


def successors(user) -> QuerySet[User]:
    """Active staff assigned under the places where `user` dispatches: who may take over."""
    qs = User.objects.filter(is_active=True, assignments__role__in=SUCCESSOR_ROLES)
    if not user.is_superuser:
        nodes = Q(pk__in=[])
        for path in _dispatching_paths(user):
            nodes |= subtree_q(path)
        qs = qs.filter(assignments__node__in=Node.objects.filter(nodes).values("pk"))
    return qs.distinct().order_by("full_name", "username")


@dataclass
class Handover:
    moved: list[str] = field(default_factory=list)  # case numbers
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (number, why)
    targets_moved: int = 0  # households to visit (visits.services.hand_over_targets)
    targets_skipped: list[tuple[str, str, str]] = field(default_factory=list)  # campaign, grid, why


def hand_over(*, acting_user, holder: User, successor: User | None, note: str) -> Handover:
    """Reassign every case `held_cases(acting_user, holder)` names to `successor`."""
    if not may_hand_over(acting_user):
        raise PermissionDenied(ERR_NOT_DISPATCHER)
    note = plain(note or "")  # as services.case_act reads each case's note
    if successor is None:
        raise ValidationError({"successor": ERR_NO_SUCCESSOR})
    if successor.pk == holder.pk:
        raise ValidationError({"successor": ERR_SAME_PERSON})
    if not note:
        raise ValidationError({"note": services.ERR_NOTE})
    if len(note) > 4000:
        raise ValidationError({"note": services.ERR_TOO_LONG.format(n=4000)})
    done = Handover()
    cases = list(
        held_cases(acting_user, holder.pk).select_related("level_node").order_by("deadline", "id")
    )
    for case in cases:
        try:
            with transaction.atomic():
                services.case_act(
                    acting_user=acting_user,
                    case=case,
                    action="reassign",
                    note=note,
                    version=case.version,
                    target_user=successor,
                )
        except ValidationError as e:
            done.skipped.append(
                (case.number, " ".join(m for ms in e.message_dict.values() for m in ms))
            )
        except (PermissionDenied, services.CaseConflict) as e:
            done.skipped.append((case.number, str(e)))
        else:
            done.moved.append(case.number)
    from minqing.visits.services import hand_over_targets

    targets = hand_over_targets(acting_user=acting_user, holder=holder, successor=successor)
    done.targets_moved, done.targets_skipped = targets.moved, targets.skipped
    return done
