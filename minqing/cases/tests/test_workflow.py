"""The state machine, proven by table: every action by every persona from every state.

Each persona works at one node of the conftest tree (plus a 社区工作者, a second grid worker of
grid A who is dispatched cases — "the handler" — and a member of the water department). Each
state is reached through the services, never by writing fields. For every (action, state)
pair the test asks `can_act` and then calls `case_act` for every persona inside a savepoint:
the allowed ones must succeed and write exactly one event; the refused ones must raise
PermissionDenied (CaseConflict when the state is wrong) and write nothing.

The expected answer comes from `expected()`, written from the rules in workflow.py, not from
the code under test:
- LEVEL:   staff assigned at the level holding the case or above it (with the right role);
- HANDLER: the user the case was dispatched to, or a member of the department it was sent to;
- ABOVE:   staff strictly above the holding level (at the top level, the top level's own staff:
           there is nobody above the county to urge a department or approve its extension);
- OVERSEE: as ABOVE, and while a handler has the case (dispatched, handling) the holding level
           too (督办 by the community a late case was moved up to);
- the administrator (superuser) may take every staff action, but is never the handler.
A few states also have their "who may do what" written out by hand below, so the rule-reading
function is itself checked against the obvious.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.cases import services, workflow
from minqing.cases.models import (
    Case,
    CaseEvent,
    Category,
    ExtensionRequest,
    ExtensionStatus,
    Notification,
    NotificationKind,
    Status,
    Unit,
)
from minqing.core import workdays
from minqing.grids.models import Level, Node
from minqing.registry.services import PermissionDenied

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTE = "测试说明"


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


# --- the personas ----------------------------------------------------------------------------

# persona → its role assignments as (role, node key in the tree fixture); the oracle reads this.
SPEC: dict[str, list[tuple[Role, str]]] = {
    "grid_a_worker": [(Role.GRID_WORKER, "grid_a")],
    "grid_b_worker": [(Role.GRID_WORKER, "grid_b")],
    "community_secretary": [(Role.COMMUNITY_SECRETARY, "community")],  # the `community_worker`
    "community_staff": [(Role.COMMUNITY_WORKER, "community")],  # a 社区工作者
    "street_officer": [(Role.STREET_OFFICER, "street")],
    "county_officer": [(Role.COUNTY_OFFICER, "county")],
    "admin_user": [(Role.ADMIN, "county")],
    "outsider": [],
    "handler": [(Role.GRID_WORKER, "grid_a")],  # a second grid worker of grid A
    "unit_member": [],  # 供水公司's duty officer; no place in the tree
}
SUPERUSERS = {"admin_user"}


@dataclass
class World:
    tree: dict[str, Node]
    users: dict[str, User]
    unit: Unit
    category: Category

    def name_of(self, user: User) -> str:
        return next(name for name, u in self.users.items() if u.pk == user.pk)


@pytest.fixture
def world(
    tree,
    grid_a_worker,
    grid_b_worker,
    community_worker,
    street_officer,
    county_officer,
    admin_user,
    outsider,
    water_unit,
    street_light,
):
    staff = User.objects.create_user(username="community_staff", full_name="社区工作者小李")
    RoleAssignment.objects.create(
        user=staff,
        role=Role.COMMUNITY_WORKER,
        node=tree["community"],
        data_scope=DataScope.NODE_AND_BELOW,
    )
    handler = User.objects.create_user(
        username="handler", full_name="网格员小周", mobile="13900000002"
    )
    RoleAssignment.objects.create(
        user=handler,
        role=Role.GRID_WORKER,
        node=tree["grid_a"],
        data_scope=DataScope.NODE_AND_BELOW,
    )
    users = {
        "grid_a_worker": grid_a_worker,
        "grid_b_worker": grid_b_worker,
        "community_secretary": community_worker,
        "community_staff": staff,
        "street_officer": street_officer,
        "county_officer": county_officer,
        "admin_user": admin_user,
        "outsider": outsider,
        "handler": handler,
        "unit_member": water_unit.members.get(),
    }
    assert set(users) == set(SPEC)
    return World(tree=tree, users=users, unit=water_unit, category=street_light)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Each test makes ten users; Argon2 per user would dominate this file's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_calendar():
    workdays.clear_cache()
    yield
    workdays.clear_cache()


# --- driving a case to a state through the services ------------------------------------------


def new_case(w: World, *, by: str = "grid_a_worker", register: bool = True, now=None) -> Case:
    return services.case_accept(
        acting_user=w.users[by],
        data={
            "category": w.category,
            "description": "东门路3号路灯不亮。",
            "grid": w.tree["grid_a"],
            "reporter_name": "王大妈",
            "reporter_phone": "13812345678",
            "channel": "phone",
        },
        register=register,
        now=now,
    )


def act(w: World, case: Case, who: str, action: str, **kw) -> Case:
    if workflow.TRANSITIONS[action].note_required:
        kw.setdefault("note", NOTE)
    return services.case_act(acting_user=w.users[who], case=case, action=action, **kw)


def dispatched(w, case, by):
    return act(w, case, by, "dispatch", target_user=w.users["handler"])


def transferred(w, case, by):
    return act(w, case, by, "transfer", target_unit=w.unit)


def escalated(w, case, by):
    return act(w, case, by, "escalate")


def s_accepted(w):
    return new_case(w, register=False)


def s_registered(w):
    return new_case(w)


def s_dispatched(w):
    return dispatched(w, s_registered(w), "community_secretary")


def s_transferred(w):
    return transferred(w, s_registered(w), "community_secretary")


def s_handling(w):
    return act(w, s_dispatched(w), "handler", "start")


def s_unit_handling(w):
    return act(w, s_transferred(w), "unit_member", "start")


def s_taken(w):
    return act(w, s_registered(w), "grid_a_worker", "take")


def s_fed_back(w):
    return act(w, s_handling(w), "handler", "feedback", note="已更换灯泡。")


def s_closed(w):
    return act(w, s_fed_back(w), "grid_a_worker", "verify")


def s_rated(w):
    return act(w, s_closed(w), "grid_a_worker", "rate", satisfaction="satisfied")


def s_cancelled(w):
    return act(w, s_registered(w), "grid_a_worker", "cancel", note="重复反映。")


def s_community_accepted(w):
    # A 社区书记 files it without registering: the community holds it (首问负责).
    return new_case(w, by="community_secretary", register=False)


def s_community_registered(w):
    return escalated(w, s_registered(w), "grid_a_worker")


def s_community_escalated_unregistered(w):
    return escalated(w, s_accepted(w), "grid_a_worker")


def s_community_dispatched(w):
    return dispatched(w, s_community_registered(w), "community_secretary")


def s_community_transferred(w):
    return transferred(w, s_community_registered(w), "community_staff")


def s_community_handling(w):
    return act(w, s_community_dispatched(w), "handler", "start")


def s_community_fed_back(w):
    return act(w, s_community_handling(w), "handler", "feedback", note="已修复。")


def s_community_closed(w):
    return act(w, s_community_fed_back(w), "community_staff", "verify")


def s_street_registered(w):
    return escalated(w, s_community_registered(w), "community_secretary")


def s_street_handling(w):
    return act(w, dispatched(w, s_street_registered(w), "street_officer"), "handler", "start")


def s_county_registered(w):
    return escalated(w, s_street_registered(w), "street_officer")


def s_county_transferred(w):
    return transferred(w, s_county_registered(w), "county_officer")


STATES: dict[str, Callable[[World], Case]] = {
    "accepted": s_accepted,
    "registered": s_registered,
    "dispatched": s_dispatched,
    "transferred": s_transferred,
    "handling": s_handling,
    "unit_handling": s_unit_handling,
    "taken": s_taken,
    "fed_back": s_fed_back,
    "closed": s_closed,
    "rated": s_rated,
    "cancelled": s_cancelled,
    "community_accepted": s_community_accepted,
    "community_registered": s_community_registered,
    "community_escalated_unregistered": s_community_escalated_unregistered,
    "community_dispatched": s_community_dispatched,
    "community_transferred": s_community_transferred,
    "community_handling": s_community_handling,
    "community_fed_back": s_community_fed_back,
    "community_closed": s_community_closed,
    "street_registered": s_street_registered,
    "street_handling": s_street_handling,
    "county_registered": s_county_registered,
    "county_transferred": s_county_transferred,
}


def test_every_state_builder_reaches_the_state_it_is_named_after(world):
    # given / when: every state built through the services
    cases = {name: build(world) for name, build in STATES.items()}
    # then: status and holding level are what the name says
    expect = {
        "accepted": (Status.ACCEPTED, "grid_a"),
        "registered": (Status.REGISTERED, "grid_a"),
        "dispatched": (Status.DISPATCHED, "grid_a"),
        "transferred": (Status.DISPATCHED, "grid_a"),
        "handling": (Status.HANDLING, "grid_a"),
        "unit_handling": (Status.HANDLING, "grid_a"),
        "taken": (Status.HANDLING, "grid_a"),
        "fed_back": (Status.FED_BACK, "grid_a"),
        "closed": (Status.CLOSED, "grid_a"),
        "rated": (Status.RATED, "grid_a"),
        "cancelled": (Status.CANCELLED, "grid_a"),
        "community_accepted": (Status.ACCEPTED, "community"),
        "community_registered": (Status.REGISTERED, "community"),
        "community_escalated_unregistered": (Status.REGISTERED, "community"),
        "community_dispatched": (Status.DISPATCHED, "community"),
        "community_transferred": (Status.DISPATCHED, "community"),
        "community_handling": (Status.HANDLING, "community"),
        "community_fed_back": (Status.FED_BACK, "community"),
        "community_closed": (Status.CLOSED, "community"),
        "street_registered": (Status.REGISTERED, "street"),
        "street_handling": (Status.HANDLING, "street"),
        "county_registered": (Status.REGISTERED, "county"),
        "county_transferred": (Status.DISPATCHED, "county"),
    }
    got = {name: (c.status, _key(world, c.level_node)) for name, c in cases.items()}
    assert got == expect
    assert cases["transferred"].handler_unit == world.unit
    assert cases["unit_handling"].handler_user == world.users["unit_member"]
    assert cases["handling"].handler_user == world.users["handler"]


def _key(w: World, node: Node) -> str:
    return next(k for k, n in w.tree.items() if n.pk == node.pk)


# --- the rule, read from workflow.py ---------------------------------------------------------


def chain_up(node: Node) -> list[int]:
    """The holding node and its ancestors, nearest first (walking parents, not paths)."""
    ids = []
    while node is not None:
        ids.append(node.pk)
        node = node.parent
    return ids


def is_handler(w: World, name: str, case: Case) -> bool:
    user = w.users[name]
    return case.handler_user_id == user.pk or (
        case.handler_unit_id is not None and case.handler_unit.members.filter(pk=user.pk).exists()
    )


def expected(w: World, name: str, case: Case, action: str) -> bool:
    """Whether the rule lets persona `name` take `action` on `case` (and the UI offers it)."""
    return (
        rule_allows(w, name, case, action)
        and not escalating_from_the_top(case, action)
        and not extension_out_of_turn(case, action)
        and not own_work(w, name, case, action)
        and not locating_a_grid_case(case, action)
    )


def locating_a_grid_case(case: Case, action: str) -> bool:
    # 指定网格 sends a case held above grid level down to a grid; a grid has nothing below it.
    return action == "locate" and case.level_node.level >= Level.GRID


def own_work(w: World, name: str, case: Case, action: str) -> bool:
    # 分权制衡: nobody records the resident's rating of what they handled, approves their own
    # request for more time, takes a case from the one handling it by sending it up, or
    # cancels a case the resident sent back unhappy.
    if action == "rate":
        return is_handler(w, name, case)
    if action == "extend_decide":
        asked = case.extensions.filter(status=ExtensionStatus.PENDING).first()
        return asked is not None and asked.requested_by_id == w.users[name].pk
    if action == "escalate" and case.status == Status.HANDLING:
        return not is_handler(w, name, case)
    return action == "cancel" and case.reopened


def extension_out_of_turn(case: Case, action: str) -> bool:
    # One request for more time at a time; a decision only on a request. Neither is offered
    # out of turn, and trying it is a clear error.
    if action == "extend_request":
        return case.extension_pending
    return action == "extend_decide" and not case.extension_pending


def escalating_from_the_top(case: Case, action: str) -> bool:
    # Nobody is above the county: 上报 is not offered there, and trying it is a clear error.
    return action == "escalate" and case.level_node.parent_id is None


def rule_allows(w: World, name: str, case: Case, action: str) -> bool:
    t = workflow.TRANSITIONS[action]
    if case.status not in t.sources:
        return False
    if t.who == workflow.HANDLER:
        return is_handler(w, name, case)
    if name in SUPERUSERS:
        return True
    chain = chain_up(case.level_node)
    at_top = len(chain) == 1
    for role, key in SPEC[name]:
        if role not in t.roles:
            continue
        node_id = w.tree[key].pk
        if t.who == workflow.LEVEL and node_id in chain:
            return True
        above = node_id in chain[1:] or (at_top and node_id in chain)
        if t.who == workflow.ABOVE and above:
            return True
        with_handler = case.status in (Status.DISPATCHED, Status.HANDLING)
        if t.who == workflow.OVERSEE and (above or (with_handler and node_id in chain)):
            return True
    return False


def params(w: World, action: str) -> dict:
    return {
        "note": NOTE,
        "target_user": {"dispatch": w.users["handler"], "reassign": w.users["community_staff"]}.get(
            action
        ),
        "target_unit": w.unit if action == "transfer" else None,
        "days": 2 if action == "extend_request" else None,
        "approve": True if action == "extend_decide" else None,
        "satisfaction": "satisfied" if action == "rate" else "",
        "target_node": w.tree["grid_b"] if action == "locate" else None,
    }


def written(case: Case) -> tuple:
    fresh = Case.objects.get(pk=case.pk)
    return (
        fresh.version,
        fresh.status,
        CaseEvent.objects.filter(case=case).count(),
        Notification.objects.count(),
        ExtensionRequest.objects.filter(case=case).count(),
    )


# The event each action writes (approve=True and satisfaction="satisfied" in these calls).
EVENT_ACTION = {"extend_decide": "extend_approve"}


@pytest.mark.parametrize("state", list(STATES))
def test_each_persona_may_take_each_action_exactly_when_the_rule_allows_it(world, state):
    # given: a case in the state, built once; every attempt below is rolled back
    case = STATES[state](world)
    before = written(case)
    wrong: list[str] = []
    for action in workflow.TRANSITIONS:
        with transaction.atomic():
            wrong += check_action(world, with_pending_extension(world, case, action), action)
            transaction.set_rollback(True)
    # then: nothing was left behind
    assert not wrong, wrong
    assert written(case) == before


def with_pending_extension(w: World, case: Case, action: str) -> Case:
    """Deciding an extension needs one to decide: the handler asks first."""
    if action == "extend_decide" and case.status in (Status.DISPATCHED, Status.HANDLING):
        who = w.name_of(case.handler_user) if case.handler_user_id else "unit_member"
        return act(w, case, who, "extend_request", days=2)
    return case


def refusal_text(w: World, name: str, case: Case, action: str) -> str:
    """Why a refused persona is refused: not theirs to do, or (theirs) a check of own work."""
    if rule_allows(w, name, case, action) and own_work(w, name, case, action):
        return str(services.separation_refusal(w.users[name], case, action))
    return services.ERR_NOT_ALLOWED.format(action=workflow.TRANSITIONS[action].label)


def check_action(w: World, case: Case, action: str) -> list[str]:
    """Every persona tries `action` on `case` (each in a savepoint); what went against the rule."""
    before = written(case)
    last_event = CaseEvent.objects.filter(case=case).latest("id").pk
    t = workflow.TRANSITIONS[action]
    wrong: list[str] = []
    allowed_by = []
    for name, user in w.users.items():
        want = expected(w, name, case, action)
        allowed_by += [name] if want else []
        # the guard agrees with the rule
        if services.can_act(user, case, action) != want:
            wrong.append(f"{action}: can_act({name}) should be {want}")
        # and the action agrees with the guard
        with transaction.atomic():
            try:
                result = services.case_act(
                    acting_user=user,
                    case=case,
                    action=action,
                    version=case.version,
                    **params(w, action),
                )
            except PermissionDenied as e:
                if want or case.status not in t.sources:
                    wrong.append(f"{action}: {name}: unexpected PermissionDenied {e}")
                elif str(e) != refusal_text(w, name, case, action):
                    wrong.append(f"{action}: {name}: message {e}")
                if written(case) != before:
                    wrong.append(f"{action}: {name}: a refused action wrote something")
            except services.CaseConflict as e:
                if want or case.status in t.sources:
                    wrong.append(f"{action}: {name}: unexpected CaseConflict {e}")
                elif str(e) != services.ERR_WRONG_STATE.format(
                    status=case.get_status_display(), action=t.label
                ):
                    wrong.append(f"{action}: {name}: message {e}")
                if written(case) != before:
                    wrong.append(f"{action}: {name}: a refused action wrote something")
            except ValidationError as e:
                top = escalating_from_the_top(case, action) and rule_allows(w, name, case, action)
                if not top or e.message_dict != {"note": [services.ERR_TOP_LEVEL]}:
                    wrong.append(f"{action}: {name}: ValidationError {e}")
                if written(case) != before:
                    wrong.append(f"{action}: {name}: a refused action wrote something")
            else:
                if not want:
                    wrong.append(f"{action}: {name}: should have been refused")
                else:
                    problems = check_one_event(case, result, user, action, last_event)
                    wrong += [f"{action}: {name}: {p}" for p in problems]
            transaction.set_rollback(True)
    # Somebody can act exactly when the state allows the action (and it has a handler).
    possible = case.status in t.sources and action_possible(w, case, action)
    if bool(allowed_by) != (
        possible
        and not escalating_from_the_top(case, action)
        and not locating_a_grid_case(case, action)
    ):
        wrong.append(f"{action}: allowed for {allowed_by} in {case.status}")
    return wrong


def action_possible(w: World, case: Case, action: str) -> bool:
    """Whether anybody at all should be able to act: HANDLER actions need a handler; a case
    being handled goes up only by its handler, if they work at the level holding it (a
    department, or a grid worker given the community's case, hands it back first)."""
    if workflow.TRANSITIONS[action].who == workflow.HANDLER:
        return bool(case.handler_user_id or case.handler_unit_id)
    if action == "escalate" and case.status == Status.HANDLING:
        return case.handler_user_id is not None and rule_allows(
            w, w.name_of(case.handler_user), case, action
        )
    return True


def check_one_event(before: Case, after: Case, user: User, action: str, last: int) -> list[str]:
    new = list(CaseEvent.objects.filter(case=before, pk__gt=last))
    if len(new) != 1:
        return [f"{len(new)} new events"]
    event, problems = new[0], []
    if (event.from_status, event.to_status) != (before.status, after.status):
        problems.append(f"event {event.from_status}→{event.to_status}")
    if event.actor_id != user.pk or event.at != after.updated_at:
        problems.append("event actor or time")
    if event.action != EVENT_ACTION.get(action, action):
        problems.append(f"event action {event.action}")
    if after.version != before.version + 1:
        problems.append("version not bumped")
    t = workflow.TRANSITIONS[action]
    if after.status != (t.target or before.status):
        problems.append(f"status {after.status}")
    return problems


# --- the rule written out by hand for a few states -------------------------------------------

NOBODY: set[str] = set()
EVERY_CHIEF = ("community_secretary", "street_officer", "county_officer", "admin_user")
HAND_TABLES = {
    "registered": {
        "grid_a_worker": {"cancel", "take", "escalate"},
        "handler": {"cancel", "take", "escalate"},
        "grid_b_worker": NOBODY,
        "community_secretary": {"cancel", "take", "dispatch", "transfer", "escalate", "supervise"},
        "community_staff": {"cancel", "take", "dispatch", "transfer", "escalate"},
        "street_officer": {"cancel", "take", "dispatch", "transfer", "escalate", "supervise"},
        "county_officer": {"cancel", "take", "dispatch", "transfer", "escalate", "supervise"},
        "admin_user": {"cancel", "take", "dispatch", "transfer", "escalate", "supervise"},
        "outsider": NOBODY,
        "unit_member": NOBODY,
    },
    "dispatched": {
        # A request for more time is waiting (extend_decide needs one): no second request.
        "handler": {"decline", "start"},
        "community_staff": {"recall", "reassign"},
        **{name: {"extend_decide", "supervise", "recall", "reassign"} for name in EVERY_CHIEF},
    },
    "unit_handling": {
        # The department has it: nobody sends it up from under them (收回 first).
        "unit_member": {"feedback"},
        "community_staff": {"recall", "reassign"},
        **{name: {"extend_decide", "supervise", "recall", "reassign"} for name in EVERY_CHIEF},
    },
    "fed_back": {
        "grid_a_worker": {"verify", "rework"},
        "handler": {"verify", "rework"},
        "community_staff": {"verify", "rework"},
        **{name: {"verify", "rework", "supervise"} for name in EVERY_CHIEF},
    },
    "closed": {  # not the handler: the call-back records what the resident thinks of them
        name: {"rate"} for name in ("grid_a_worker", "community_staff", *EVERY_CHIEF)
    },
    "rated": {},
    "cancelled": {},
    "community_handling": {
        "handler": {"feedback"},
        # The community holds it and a handler has it: its secretary urges too (督办).
        "community_secretary": {"supervise", "recall", "reassign"},
        "community_staff": {"recall", "reassign"},
        **{name: {"extend_decide", "supervise", "recall", "reassign"} for name in EVERY_CHIEF[1:]},
    },
    "county_transferred": {
        "unit_member": {"decline", "start"},
        "county_officer": {"extend_decide", "supervise", "recall", "reassign"},
        "admin_user": {"extend_decide", "supervise", "recall", "reassign"},
    },
}


@pytest.mark.parametrize("state", list(HAND_TABLES))
def test_who_may_do_what_in_a_state_is_the_hand_written_table(world, state):
    case = with_pending_extension(world, STATES[state](world), "extend_decide")
    table = HAND_TABLES[state]
    got = {name: set(services.available_actions(u, case)) for name, u in world.users.items()}
    want = {name: table.get(name, NOBODY) for name in world.users}
    assert got == want
    # The rule-reading oracle says the same.
    oracle = {
        name: {a for a in workflow.TRANSITIONS if expected(world, name, case, a)}
        for name in world.users
    }
    assert oracle == want


@pytest.mark.parametrize("state", list(STATES))
def test_grid_b_never_acts_on_a_grid_a_case_in_any_state(world, state):
    case = with_pending_extension(world, STATES[state](world), "extend_decide")
    grid_b = world.users["grid_b_worker"]
    assert services.available_actions(grid_b, case) == []
    for action in workflow.TRANSITIONS:
        with pytest.raises((PermissionDenied, services.CaseConflict)):
            act(
                world,
                case,
                "grid_b_worker",
                action,
                **{k: v for k, v in params(world, action).items() if k != "note"},
            )
    assert Case.objects.get(pk=case.pk).version == case.version


# --- what each action does besides changing the status ---------------------------------------

MONDAY = at(2026, 3, 9, 10, 0)  # an ordinary week: 3 working days run to Thursday 17:30
THURSDAY_CLOSE = at(2026, 3, 12, 17, 30)


def events(case: Case) -> list[str]:
    return list(case.events.order_by("id").values_list("action", flat=True))


def notified(case: Case, kind: str) -> set[str]:
    return set(
        Notification.objects.filter(case=case, kind=kind).values_list("user__username", flat=True)
    )


def test_take_makes_the_taker_the_handler_and_starts_the_handle_clock(world):
    case = new_case(world, now=MONDAY)
    case = act(world, case, "grid_a_worker", "take", now=MONDAY)
    assert case.status == Status.HANDLING
    assert case.handler_user == world.users["grid_a_worker"] and case.handler_unit is None
    assert case.dispatched_at == MONDAY
    assert case.stage == "handle"
    assert case.handle_deadline == case.deadline == THURSDAY_CLOSE


def test_dispatch_sets_the_handler_and_notifies_them(world):
    case = new_case(world, now=MONDAY)
    case = act(
        world,
        case,
        "community_secretary",
        "dispatch",
        target_user=world.users["handler"],
        now=MONDAY,
    )
    assert case.status == Status.DISPATCHED
    assert case.handler_user == world.users["handler"]
    assert case.handle_deadline == THURSDAY_CLOSE
    assert notified(case, NotificationKind.ASSIGNED) == {"handler"}
    note = Notification.objects.get(case=case, user=world.users["handler"])
    assert case.number in note.message and "03月12日 17:30" in note.message
    assert case.events.latest("id").target_user == world.users["handler"]


def test_nobody_is_told_of_what_they_did_themselves(world):
    """A grid worker who handles their grid's case and feeds it back is not asked to verify it
    in their own bell; the grid's other worker is."""
    case = new_case(world, now=MONDAY)
    case = act(world, case, "grid_a_worker", "take", now=MONDAY)
    case = act(world, case, "grid_a_worker", "feedback", note="已修好。", now=MONDAY)
    assert notified(case, NotificationKind.FEEDBACK) == {"handler"}
    # The same action by the other worker tells grid A's worker.
    case = act(world, case, "handler", "rework", note="灯罩还没装。", now=MONDAY)
    assert notified(case, NotificationKind.REOPENED) == {"grid_a"}


@pytest.mark.parametrize("target", ["grid_b_worker", "outsider", "unit_member", None])
def test_dispatch_to_someone_who_cannot_handle_the_grid_is_refused(world, target):
    case = new_case(world)
    before = written(case)
    with pytest.raises(ValidationError) as e:
        act(
            world,
            case,
            "community_secretary",
            "dispatch",
            target_user=world.users[target] if target else None,
        )
    message = services.ERR_TARGET if target is None else services.ERR_TARGET_SCOPE
    assert e.value.message_dict == {"target_user": [message]}
    assert written(case) == before


def test_dispatch_to_a_deactivated_user_is_refused(world):
    handler = world.users["handler"]
    handler.is_active = False
    handler.save()
    case = new_case(world)
    with pytest.raises(ValidationError, match=str(services.ERR_TARGET_SCOPE)):
        act(world, case, "community_secretary", "dispatch", target_user=handler)


def test_transfer_to_a_department_notifies_its_active_members(world):
    second = User.objects.create_user(username="water_2", full_name="供水维修员")
    gone = User.objects.create_user(username="water_3", full_name="离职人员", is_active=False)
    world.unit.members.add(second, gone)
    case = act(world, new_case(world), "community_staff", "transfer", target_unit=world.unit)
    assert case.status == Status.DISPATCHED
    assert case.handler_unit == world.unit and case.handler_user is None
    assert case.handle_deadline is not None
    assert notified(case, NotificationKind.ASSIGNED) == {"water_1", "water_2"}
    assert case.events.latest("id").target_unit == world.unit
    # Any member may start it; the one who does becomes its handler.
    case = services.case_act(acting_user=second, case=case, action="start")
    assert case.status == Status.HANDLING and case.handler_user == second
    assert case.handler_unit == world.unit


def test_transfer_to_a_disabled_department_is_refused(world):
    world.unit.active = False
    world.unit.save()
    case = new_case(world)
    with pytest.raises(ValidationError) as e:
        act(world, case, "community_secretary", "transfer", target_unit=world.unit)
    assert e.value.message_dict == {"target_unit": [services.ERR_TARGET_UNIT]}


def test_decline_returns_the_case_to_registered_without_a_handler(world):
    case = s_dispatched(world)
    case = act(world, case, "handler", "decline", note="不属于本人职责。")
    assert case.status == Status.REGISTERED
    assert case.handler_user is None and case.handler_unit is None
    assert case.dispatched_at is None and case.handle_deadline is None
    assert case.stage == "dispatch" and case.deadline is not None
    assert case.level_node == world.tree["grid_a"]
    # The level holding it and the dispatcher hear of it (not the one who declined).
    told = set(
        Notification.objects.filter(case=case, message__contains="退单").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"grid_a", "community"}
    assert services.can_act(world.users["community_secretary"], case, "dispatch")


def test_a_department_declines_a_transferred_case(world):
    case = act(world, s_transferred(world), "unit_member", "decline", note="非供水问题。")
    assert case.status == Status.REGISTERED and case.handler_unit is None


def test_feedback_records_the_result_and_asks_the_level_to_verify(world):
    case = act(world, s_handling(world), "handler", "feedback", note="已更换灯泡。")
    assert case.status == Status.FED_BACK
    assert case.result == "已更换灯泡。" and case.fed_back_at is not None
    assert case.stage == "verify"
    assert notified(case, NotificationKind.FEEDBACK) == {"grid_a"}  # not the handler himself


def test_verify_closes_the_case_on_time_with_its_handling_hours(world):
    case = new_case(world, now=MONDAY)
    case = dispatched(world, case, "community_secretary")
    case = services.case_act(
        acting_user=world.users["handler"], case=case, action="start", now=MONDAY
    )
    case = services.case_act(
        acting_user=world.users["handler"],
        case=case,
        action="feedback",
        note="已更换灯泡。",
        now=at(2026, 3, 10, 10, 0),
    )
    case = services.case_act(
        acting_user=world.users["grid_a_worker"],
        case=case,
        action="verify",
        now=at(2026, 3, 10, 11, 0),
    )
    assert case.status == Status.CLOSED and case.closed_on_time is True
    assert case.answer == "已更换灯泡。"
    assert case.deadline is None and case.next_check_at is None


def test_rework_counts_and_sends_the_case_back_to_its_handler(world):
    case = act(world, s_fed_back(world), "grid_a_worker", "rework", note="灯还是不亮。")
    assert case.status == Status.HANDLING and case.rework_count == 1
    assert case.handler_user == world.users["handler"]
    assert case.fed_back_at is None and case.stage == "handle"
    assert notified(case, NotificationKind.REOPENED) == {"handler"}
    case = act(world, case, "handler", "feedback", note="再次修理。")
    case = act(world, case, "grid_a_worker", "rework", note="仍未修好。")
    assert case.rework_count == 2


def test_escalate_moves_the_case_to_the_parent_clears_the_handler_and_tells_the_parent(world):
    case = s_taken(world)
    case = act(world, case, "grid_a_worker", "escalate", note="需要社区协调。")
    assert case.level_node == world.tree["community"]
    assert case.status == Status.REGISTERED
    assert case.handler_user is None and case.handler_unit is None
    assert case.handle_deadline is None and case.stage == "dispatch"
    assert case.escalation_count == 1
    # The community's staff hear of it, the grid's do not.
    assert notified(case, NotificationKind.ESCALATED) == {"community", "community_staff"}
    event = case.events.latest("id")
    assert (event.from_node, event.to_node) == (world.tree["grid_a"], world.tree["community"])
    assert (event.from_status, event.to_status) == (Status.HANDLING, Status.REGISTERED)
    # Grid A no longer acts on it.
    assert services.available_actions(world.users["grid_a_worker"], case) == []


def test_escalating_an_accepted_case_registers_it_at_the_parent(world):
    case = act(world, s_accepted(world), "grid_a_worker", "escalate", note="需社区立案。")
    assert case.status == Status.REGISTERED and case.level_node == world.tree["community"]
    assert case.registered_at is not None  # counted as 立案 in the indicators


def test_a_grid_under_a_zone_escalates_straight_to_the_community(world, tree):
    # given: 东片区 (a zone, no staff of its own) between the community and grid Z
    zone = Node.objects.create(
        level=Level.ZONE, name="东片区", code="33018800100101", parent=tree["community"]
    )
    grid_z = Node.objects.create(
        level=Level.GRID, name="东片区第1网格", code="330188001001003", parent=zone
    )
    worker = User.objects.create_user(username="grid_z", full_name="网格员小钱")
    RoleAssignment.objects.create(user=worker, role=Role.GRID_WORKER, node=grid_z)
    case = services.case_accept(
        acting_user=worker,
        data={"category": "0601", "description": "路灯不亮。", "grid": grid_z},
    )
    assert case.level_node == grid_z
    # when
    case = services.case_act(acting_user=worker, case=case, action="escalate", note="需协调。")
    # then: the community holds it, and its staff were told
    assert case.level_node == tree["community"]
    assert case.escalation_count == 1
    assert case.events.latest("id").to_node == tree["community"]
    assert notified(case, NotificationKind.ESCALATED) == {"community", "community_staff"}
    assert services.can_act(world.users["community_secretary"], case, "dispatch")


def test_a_handler_in_a_zone_asks_the_community_for_an_extension(world, tree):
    zone = Node.objects.create(
        level=Level.ZONE, name="东片区", code="33018800100101", parent=tree["community"]
    )
    grid_z = Node.objects.create(
        level=Level.GRID, name="东片区第1网格", code="330188001001003", parent=zone
    )
    worker = User.objects.create_user(username="grid_z", full_name="网格员小钱")
    RoleAssignment.objects.create(user=worker, role=Role.GRID_WORKER, node=grid_z)
    case = services.case_accept(
        acting_user=worker,
        data={"category": "0601", "description": "路灯不亮。", "grid": grid_z},
    )
    case = services.case_act(acting_user=worker, case=case, action="take")
    case = services.case_act(
        acting_user=worker, case=case, action="extend_request", days=2, note="等配件。"
    )
    # The people who can decide are the ones who hear about it.
    # (the 社区书记, not the 社区工作者, who may not approve; nobody at the staffless zone)
    assert notified(case, NotificationKind.EXTENSION) == {"community"}
    assert services.can_act(world.users["community_secretary"], case, "extend_decide")


def test_escalating_from_the_county_is_a_clear_error_and_changes_nothing(world):
    case = s_county_registered(world)
    assert not services.can_act(world.users["county_officer"], case, "escalate")
    before = written(case)
    with pytest.raises(ValidationError) as e:
        act(world, case, "county_officer", "escalate", note="再上报。")
    assert e.value.message_dict == {"note": [services.ERR_TOP_LEVEL]}
    assert written(case) == before


def handling_since_monday(world) -> Case:
    case = new_case(world, now=MONDAY)
    case = act(
        world, case, "community_secretary", "dispatch", target_user=world.users["handler"],
        now=MONDAY,
    )  # fmt: skip
    return services.case_act(
        acting_user=world.users["handler"], case=case, action="start", now=MONDAY
    )


def test_an_approved_extension_moves_both_deadlines_by_working_days(world):
    # given: due Thursday 12 March 17:30; the handler asks for 2 more working days
    case = handling_since_monday(world)
    assert case.handle_deadline == THURSDAY_CLOSE
    case = act(world, case, "handler", "extend_request", days=2, note="等配件。", now=MONDAY)
    assert case.handle_deadline == THURSDAY_CLOSE  # asking changes nothing yet
    request = ExtensionRequest.objects.get(case=case)
    assert request.status == ExtensionStatus.PENDING and request.working_days == 2
    # The community (one level up) is asked.
    assert notified(case, NotificationKind.EXTENSION) == {"community"}
    # when: the 社区书记 approves
    case = act(world, case, "community_secretary", "extend_decide", approve=True, now=MONDAY)
    # then: Friday 13, Monday 16 March
    assert case.deadline == case.handle_deadline == at(2026, 3, 16, 17, 30)
    request.refresh_from_db()
    assert request.status == ExtensionStatus.APPROVED
    assert request.decided_by == world.users["community_secretary"]
    assert events(case)[-1] == "extend_approve"
    assert Notification.objects.filter(
        case=case, user=world.users["handler"], kind=NotificationKind.EXTENSION
    ).exists()
    # The reminder moves with the deadline.
    assert case.remind_at > THURSDAY_CLOSE and case.reminded is False


def test_a_rejected_extension_leaves_the_deadlines_alone(world):
    case = handling_since_monday(world)
    case = act(world, case, "handler", "extend_request", days=2, note="等配件。")
    case = act(world, case, "street_officer", "extend_decide", approve=False, note="可按期完成")
    assert case.deadline == case.handle_deadline == THURSDAY_CLOSE
    assert ExtensionRequest.objects.get(case=case).status == ExtensionStatus.REJECTED
    assert events(case)[-1] == "extend_reject"
    # Once decided, the handler may ask again.
    act(world, case, "handler", "extend_request", days=1, note="配件仍未到。")
    assert ExtensionRequest.objects.filter(case=case).count() == 2


def test_a_second_pending_extension_is_refused(world):
    case = handling_since_monday(world)
    case = act(world, case, "handler", "extend_request", days=2, note="等配件。")
    before = written(case)
    with pytest.raises(ValidationError) as e:
        act(world, case, "handler", "extend_request", days=3, note="再延。")
    assert e.value.message_dict == {"days": [services.ERR_EXTENSION_PENDING]}
    assert written(case) == before


@pytest.mark.parametrize("days", [0, 31, -1, None, "2", 2.5])
def test_an_extension_of_a_wrong_number_of_days_is_refused(world, days):
    case = handling_since_monday(world)
    with pytest.raises(ValidationError) as e:
        act(world, case, "handler", "extend_request", days=days, note="等配件。")
    assert e.value.message_dict == {"days": [services.ERR_EXTENSION_DAYS]}


def test_deciding_without_a_pending_request_is_refused(world):
    case = handling_since_monday(world)
    with pytest.raises(ValidationError) as e:
        act(world, case, "community_secretary", "extend_decide", approve=True)
    assert e.value.message_dict == {"approve": [services.ERR_NO_EXTENSION]}


def test_deciding_an_extension_without_saying_yes_or_no_is_refused(world):
    case = handling_since_monday(world)
    case = act(world, case, "handler", "extend_request", days=2, note="等配件。")
    before = written(case)
    with pytest.raises(ValidationError) as e:
        act(world, case, "community_secretary", "extend_decide", approve=None)
    assert e.value.message_dict == {"approve": [services.ERR_APPROVE]}
    assert written(case) == before
    assert ExtensionRequest.objects.get(case=case).status == ExtensionStatus.PENDING


@pytest.mark.parametrize(
    ("leave", "who", "kw"),
    [
        ("feedback", "handler", {"note": "已修好。"}),
        ("escalate", "handler", {"note": "需社区协调。"}),
    ],
)
def test_a_pending_extension_lapses_when_the_case_leaves_the_handler(world, leave, who, kw):
    # given: an extension is pending when the handler finishes (or the case goes up)
    case = handling_since_monday(world)
    case = act(world, case, "handler", "extend_request", days=2, note="等配件。")
    case = act(world, case, who, leave, **kw)
    # then: nobody can approve a stale request later
    request = ExtensionRequest.objects.get(case=case)
    assert request.status == ExtensionStatus.REJECTED
    assert request.decided_by is None and request.decision_note
    # and the next handler may ask for their own
    if leave == "feedback":
        case = act(world, case, "grid_a_worker", "rework", note="仍不亮。")
    else:
        case = dispatched(world, case, "community_secretary")
    act(world, case, "handler", "extend_request", days=1, note="等配件。")
    assert ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.PENDING).count() == 1


def test_a_pending_extension_lapses_when_the_handler_declines(world):
    case = act(world, s_dispatched(world), "handler", "extend_request", days=2, note="等配件。")
    act(world, case, "handler", "decline", note="不归我管。")
    assert ExtensionRequest.objects.get(case=case).status == ExtensionStatus.REJECTED


def test_the_county_approves_an_extension_for_a_department_it_transferred_to(world):
    case = s_county_transferred(world)
    case = act(world, case, "unit_member", "extend_request", days=2, note="需停水检修。")
    assert notified(case, NotificationKind.EXTENSION) == {"county", "admin"}
    case = act(world, case, "county_officer", "extend_decide", approve=True)
    assert ExtensionRequest.objects.get(case=case).status == ExtensionStatus.APPROVED


def test_supervise_counts_and_urges_the_handler(world):
    case = act(world, s_handling(world), "community_secretary", "supervise", note="请今天修好。")
    assert case.supervise_count == 1 and case.status == Status.HANDLING
    assert notified(case, NotificationKind.SUPERVISED) == {"handler"}
    message = Notification.objects.get(case=case, kind=NotificationKind.SUPERVISED).message
    assert "请今天修好。" in message
    case = act(world, case, "street_officer", "supervise", note="再次督办。")
    assert case.supervise_count == 2


def test_supervising_a_case_nobody_handles_urges_the_level_holding_it(world):
    case = act(world, s_registered(world), "street_officer", "supervise", note="请尽快派遣。")
    assert notified(case, NotificationKind.SUPERVISED) == {"grid_a", "handler"}


def test_a_satisfied_rating_closes_the_loop(world):
    case = act(world, s_closed(world), "community_staff", "rate", satisfaction="satisfied")
    assert case.status == Status.RATED and case.satisfaction == "satisfied"
    assert events(case)[-1] == "rate"


def test_an_unsatisfied_rating_reopens_once_and_the_second_one_stands(world):
    # when: the resident is not satisfied at the call-back
    case = act(world, s_closed(world), "grid_a_worker", "rate", satisfaction="unsatisfied")
    # then: the case is registered again at its level, without a handler
    assert case.status == Status.REGISTERED and case.reopened
    assert case.level_node == world.tree["grid_a"] and case.handler_user is None
    assert case.closed_at is None and case.stage == "dispatch"
    assert case.handle_deadline is None and case.dispatched_at is None  # the old promise is void
    assert events(case)[-1] == "reopen"
    assert notified(case, NotificationKind.REOPENED) == {"handler"}  # grid_a recorded it
    # when: handled again and still not satisfied
    case = act(world, case, "grid_a_worker", "take")
    case = act(world, case, "grid_a_worker", "feedback", note="再修。")
    case = act(world, case, "grid_a_worker", "verify")
    with pytest.raises(PermissionDenied):  # the one who handled it does not record the call-back
        act(world, case, "grid_a_worker", "rate", satisfaction="satisfied")
    case = act(world, case, "community_staff", "rate", satisfaction="unsatisfied")
    # then: the rating stands
    assert case.status == Status.RATED and case.satisfaction == "unsatisfied"
    assert events(case)[-1] == "rate"


def test_a_case_sent_back_unhappy_is_answered_not_cancelled(world):
    case = act(world, s_closed(world), "grid_a_worker", "rate", satisfaction="unsatisfied")
    assert case.status == Status.REGISTERED and case.reopened
    assert not services.can_act(world.users["grid_a_worker"], case, "cancel")
    with pytest.raises(PermissionDenied) as e:
        act(world, case, "grid_a_worker", "cancel", note="群众撤回")
    assert str(e.value) == services.ERR_REOPENED_CANCEL


def test_nobody_approves_their_own_request_for_more_time(world):
    case = handling_since_monday(world)
    secretary = world.users["community_secretary"]
    case = services.case_act(acting_user=secretary, case=case, action="recall", note="我来办")
    case = act(world, case, "community_secretary", "take")
    case = act(world, case, "community_secretary", "extend_request", days=5, note="等配件。")
    assert not services.can_act(secretary, case, "extend_decide")
    with pytest.raises(PermissionDenied) as e:
        act(world, case, "community_secretary", "extend_decide", approve=True)
    assert str(e.value) == services.ERR_OWN_EXTENSION
    assert services.can_act(world.users["street_officer"], case, "extend_decide")


@pytest.mark.parametrize("satisfaction", ["", "very", None])
def test_a_rating_must_be_one_of_the_three(world, satisfaction):
    case = s_closed(world)
    before = written(case)
    with pytest.raises(ValidationError) as e:
        act(world, case, "grid_a_worker", "rate", satisfaction=satisfaction)
    assert e.value.message_dict == {"satisfaction": [services.ERR_SATISFACTION]}
    assert written(case) == before


def test_cancel_records_the_reason_and_stops_the_clock(world):
    case = act(world, s_registered(world), "grid_a_worker", "cancel", note="重复反映。")
    assert case.status == Status.CANCELLED and case.cancel_reason == "重复反映。"
    assert case.closed_at is not None
    assert case.deadline is None and case.next_check_at is None
    assert services.available_actions(world.users["admin_user"], case) == []


# action → a state where it is allowed, and who may take it there
NOTE_CASES = {
    "cancel": ("registered", "grid_a_worker", {}),
    "decline": ("dispatched", "handler", {}),
    "feedback": ("handling", "handler", {}),
    "rework": ("fed_back", "grid_a_worker", {}),
    "escalate": ("registered", "grid_a_worker", {}),
    "extend_request": ("handling", "handler", {"days": 2}),
    "supervise": ("handling", "community_secretary", {}),
    "recall": ("dispatched", "community_secretary", {}),
    "reassign": ("handling", "community_staff", {}),
}


def test_every_action_that_needs_a_note_is_listed_here():
    assert set(NOTE_CASES) == {a for a, t in workflow.TRANSITIONS.items() if t.note_required}


@pytest.mark.parametrize("action", list(NOTE_CASES))
@pytest.mark.parametrize("note", ["", "   \n "])
def test_an_action_that_needs_a_note_refuses_an_empty_one(world, action, note):
    state, who, kw = NOTE_CASES[action]
    case = STATES[state](world)
    assert services.can_act(world.users[who], case, action)
    before = written(case)
    with pytest.raises(ValidationError) as e:
        act(world, case, who, action, note=note, **kw)
    assert e.value.message_dict == {"note": [services.ERR_NOTE]}
    assert written(case) == before


def test_a_note_over_4000_characters_is_refused(world):
    case = s_registered(world)
    with pytest.raises(ValidationError) as e:
        act(world, case, "grid_a_worker", "cancel", note="重" * 4001)
    assert e.value.message_dict == {"note": [services.ERR_TOO_LONG.format(n=4000)]}


def test_an_unknown_action_is_refused(world):
    case = s_registered(world)
    with pytest.raises(ValidationError):
        services.case_act(acting_user=world.users["admin_user"], case=case, action="delete")
    assert services.available_actions(world.users["admin_user"], case) == [
        "cancel",
        "take",
        "dispatch",
        "transfer",
        "escalate",
        "supervise",
    ]


def test_a_stale_version_is_a_conflict_even_when_the_state_still_allows_the_action(world):
    case = s_handling(world)
    seen = case.version
    act(world, case, "community_secretary", "supervise", note="请尽快。")
    before = written(case)
    with pytest.raises(services.CaseConflict) as e:
        act(world, case, "street_officer", "supervise", note="请尽快。", version=seen)
    assert str(e.value) == services.ERR_CONFLICT.format(status="处置中")
    assert written(case) == before


def test_a_deactivated_user_can_do_nothing(world):
    case = s_handling(world)
    for name in ("handler", "admin_user"):
        user = world.users[name]
        user.is_active = False
        user.save()
        assert services.available_actions(user, case) == []
    with pytest.raises(PermissionDenied):
        act(world, case, "handler", "feedback", note="已修好。")


def test_a_department_that_declines_lands_on_its_inbox_not_a_404(client, world):
    """退单 from the case page: the case goes back to the county, out of the department's
    sight; the page it lands on is its 待办, with the case's fate said (was a 404)."""
    case = s_county_transferred(world)
    client.force_login(world.users["unit_member"])
    response = client.post(
        f"/cases/{case.number}/act/decline/",
        {"version": case.version, "note": "不属于本单位职责。"},
        follow=True,
    )
    assert response.redirect_chain[-1] == ("/cases/inbox/", 302)
    page = response.content.decode()
    assert response.status_code == 200 and "该案件已不在您的办理范围内" in page
    assert client.get(f"/cases/{case.number}/").status_code == 404


def test_a_stale_form_for_an_action_no_longer_open_says_why(client, world):
    """The handler's 处置反馈 form, sent empty after the case was recalled (收回改派): the
    page said nothing (the form is not drawn any more, its errors with it)."""
    case = act(world, s_handling(world), "community_secretary", "recall")
    client.force_login(world.users["handler"])
    Case.objects.filter(pk=case.pk).update(handler_user=world.users["handler"])  # still opens it
    response = client.post(f"/cases/{case.number}/act/feedback/", {"version": 1, "note": ""})
    assert response.status_code == 400
    assert (
        services.ERR_WRONG_STATE.format(
            status=Case.objects.get(pk=case.pk).get_status_display(), action="处置反馈"
        )
        in response.content.decode()
    )


def test_nobody_urges_a_case_they_are_handling_themselves(world):
    """督办 urges the handler: the secretary who took the case (自行处置) was offered it, and
    it counted a 督办 nobody received."""
    case = act(world, s_registered(world), "community_secretary", "take")
    assert case.handler_user == world.users["community_secretary"]
    assert "supervise" not in services.available_actions(world.users["community_secretary"], case)
    with pytest.raises(services.PermissionDenied) as refused:
        act(world, case, "community_secretary", "supervise")
    assert str(refused.value) == services.ERR_OWN_SUPERVISE
    assert "supervise" in services.available_actions(world.users["street_officer"], case)
