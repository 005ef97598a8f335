"""The case state machine as a table: which action moves a case from which states to which,
and who may take it.

Who is one of:
- LEVEL:   staff whose assignment node is the level holding the case, or above it
           (a grid worker acts on cases held by their grid; a community worker on those held
           by the community or any of its grids).
- HANDLER: the user the case was dispatched to, or a member of the department (转办).
- ABOVE:   staff strictly above the level holding the case (approves extensions); at
           the top level (the county), whom nobody is above, the county's own staff.
- OVERSEE: as ABOVE; and, while the case is with a handler (dispatched or being handled), the
           level holding it too: a late case climbs to the community while its handler keeps
           it, and the community must be able to urge that handler (督办) — or recall it.
Roles narrow it further: grid workers do not dispatch; anyone in scope can accept a case.
The administrator (superuser) may take every LEVEL and ABOVE action, but is never the HANDLER.
上报 is not offered at the top level (services.can_act); trying it is ERR_TOP_LEVEL.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from minqing.accounts.models import Role
from minqing.cases.models import OPEN_STATUSES, Status

LEVEL = "level"
HANDLER = "handler"
ABOVE = "above"
OVERSEE = "oversee"

# Who works cases at their level. Not a cadre (帮扶干部): assigned at the county for their
# pairings and duties, they file a linked household's demand (cases.services.case_accept) and
# hold no level; counted here they got the county's held cases in their inbox.
ALL_STAFF = frozenset(Role) - {Role.CADRE}
DISPATCHERS = frozenset(
    {
        Role.COMMUNITY_WORKER,
        Role.COMMUNITY_SECRETARY,
        Role.STREET_OFFICER,
        Role.COUNTY_OFFICER,
        Role.ADMIN,
    }
)
SUPERVISORS = frozenset(
    {Role.COMMUNITY_SECRETARY, Role.STREET_OFFICER, Role.COUNTY_OFFICER, Role.ADMIN}
)


@dataclass(frozen=True)
class Transition:
    label: str | Promise  # lazy: shown in the UI language; core.i18n.source() for stored text
    sources: frozenset
    target: Status | None  # None: the status does not change
    who: str
    roles: frozenset = ALL_STAFF
    note_required: bool = False


def _t(label, sources, target, who, roles=ALL_STAFF, note_required=False) -> Transition:
    return Transition(label, frozenset(sources), target, who, roles, note_required)


S = Status
TRANSITIONS: dict[str, Transition] = {
    "register": _t(_("立案"), {S.ACCEPTED}, S.REGISTERED, LEVEL),
    "cancel": _t(_("注销"), {S.ACCEPTED, S.REGISTERED}, S.CANCELLED, LEVEL, note_required=True),
    # 就地解决: whoever holds the case handles it themselves (the default at the lowest level).
    "take": _t(_("自行处置"), {S.REGISTERED}, S.HANDLING, LEVEL),
    "dispatch": _t(_("派遣"), {S.REGISTERED}, S.DISPATCHED, LEVEL, DISPATCHERS),
    # 指定网格: a case that came in without a grid (an Open311 report with an address only, a
    # call placed at the county) or in the wrong one goes to the grid where it is; that grid
    # holds it from then on (solving at the lowest level is the default).
    "locate": _t(_("指定网格"), {S.ACCEPTED, S.REGISTERED}, None, LEVEL, DISPATCHERS),
    "transfer": _t(_("转办"), {S.REGISTERED}, S.DISPATCHED, LEVEL, DISPATCHERS),
    # 退单: the handler sends a wrongly dispatched case back to the dispatcher.
    "decline": _t(_("退单"), {S.DISPATCHED}, S.REGISTERED, HANDLER, note_required=True),
    # 收回: the level holding the case takes it back from its handler (late, or the wrong
    # handler) to take, dispatch, transfer or escalate it again.
    "recall": _t(_("收回改派"), {S.DISPATCHED, S.HANDLING}, S.REGISTERED, LEVEL, DISPATCHERS, True),
    # 改派: the same level gives the case straight to another handler (one who left, fell ill,
    # moved grid): the state and the resident's time limit stay as they are.
    "reassign": _t(_("改派"), {S.DISPATCHED, S.HANDLING}, None, LEVEL, DISPATCHERS, True),
    "start": _t(_("开始处置"), {S.DISPATCHED}, S.HANDLING, HANDLER),
    "feedback": _t(_("处置反馈"), {S.HANDLING}, S.FED_BACK, HANDLER, note_required=True),
    "verify": _t(_("核查结案"), {S.FED_BACK}, S.CLOSED, LEVEL),
    # 退回: the check failed; the handler works on it again (counted as 返工).
    "rework": _t(_("核查退回"), {S.FED_BACK}, S.HANDLING, LEVEL, note_required=True),
    # 上报: the level holding it cannot solve it; the parent level takes it over.
    "escalate": _t(
        _("上报"), {S.ACCEPTED, S.REGISTERED, S.HANDLING}, S.REGISTERED, LEVEL, note_required=True
    ),
    "extend_request": _t(
        _("申请延期"), {S.DISPATCHED, S.HANDLING}, None, HANDLER, note_required=True
    ),
    "extend_decide": _t(_("延期审批"), {S.DISPATCHED, S.HANDLING}, None, ABOVE, SUPERVISORS),
    "supervise": _t(_("督办"), set(OPEN_STATUSES), None, OVERSEE, SUPERVISORS, note_required=True),
    # 回访/评价: staff record the rating given at the call-back (residents rate online).
    "rate": _t(_("回访评价"), {S.CLOSED}, S.RATED, LEVEL),
}

# What each state means to the people waiting on it, for inboxes and the public page.
PUBLIC_LABEL = {
    S.ACCEPTED: _("已受理"),
    S.REGISTERED: _("已立案，等待处理"),
    S.DISPATCHED: _("已派给处置人员"),
    S.HANDLING: _("正在处置"),
    S.FED_BACK: _("已处置，正在核查"),
    S.CLOSED: _("已办结，等待评价"),
    S.RATED: _("已办结"),
    S.CANCELLED: _("已注销"),
}


# The steps a resident may see (the /track/ page and Open311's updates), in their words;
# every other step (an extension asked, a case reassigned or recalled) is internal.
PUBLIC_STEPS = {
    "accept": gettext_noop("已受理您反映的问题"),
    "register": gettext_noop("已立案"),
    "take": gettext_noop("已安排工作人员处置"),
    "dispatch": gettext_noop("已派给处置人员"),
    "transfer": gettext_noop("已转交职能部门办理"),
    "decline": gettext_noop("正在重新安排处置"),
    "recall": gettext_noop("正在重新安排处置"),
    "start": gettext_noop("开始处置"),
    "feedback": gettext_noop("已处置完毕，正在核查"),
    "verify": gettext_noop("已核查办结"),
    "rework": gettext_noop("核查未通过，重新处置"),
    "escalate": gettext_noop("已提交上级部门处理"),
    "extend_approve": gettext_noop("办理时限已依规延长"),
    "supervise": gettext_noop("上级已督促加快办理"),
    "rate": gettext_noop("已评价"),
    "reopen": gettext_noop("群众不满意，已重新办理"),
    "cancel": gettext_noop("已注销"),
}


def allowed_actions(status: str) -> list[str]:
    return [name for name, t in TRANSITIONS.items() if status in t.sources]


# Labels of the logged events that are not actions of the transition table.
EVENT_LABELS = {
    "accept": _("受理"),
    "zoning": _("分区标记"),
    "remind": _("系统催办"),
    "overdue": _("超期"),
    "extend_approve": _("同意延期"),
    "extend_reject": _("不同意延期"),
    "reopen": _("不满意，重新办理"),
}


def event_label(action: str, *, by_system: bool = False):
    """What a case log row's action is called (the timeline, the API), in the reader's language;
    by_system: no user acted (the sweeper's escalation)."""
    if action == "escalate" and by_system:
        return _("超期自动上报")
    label = EVENT_LABELS.get(action)
    if label is None:
        t = TRANSITIONS.get(action)
        label = t.label if t else action
    return label
