"""Writes for visits: schedules, visit records, a demand turned into a case, plans, the diary.

Each function validates, checks scope, writes and audits in one transaction, like
registry.services. Errors are Django ValidationErrors keyed by form field, with the Chinese
messages below; the UI and the tests share them.

The schedule rule (DOMAIN.md, seeds/000): every household has the most frequent of the visit
classes that apply to it; its next visit is due one interval after its last visit (or after it
was put on file, if nobody has visited yet), on the next working day if that date is a weekend
or a holiday. A month after 31 January is the last day of February.
"""

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from minqing.accounts.access import can_edit_registry, scope_queryset
from minqing.core.audit import audit_log
from minqing.core.i18n import source
from minqing.core.models import AuditAction
from minqing.core.workdays import add_working_days
from minqing.registry.models import Household, NeedKind, Person
from minqing.registry.services import PermissionDenied
from minqing.visits.models import (
    DiaryEntry,
    FrequencyUnit,
    HouseholdVisitPlan,
    HouseholdVisitState,
    Visit,
    VisitClass,
    VisitMode,
)

ERR_REQUIRED = "此项必填。"
ERR_TOO_LONG = "不能超过 {n} 个字。"
ERR_HOUSEHOLD_SCOPE = "该家庭不存在或不在您的管辖范围内。"
ERR_FUTURE = "时间不能晚于现在。"
ERR_MODE = "请选择走访方式：入户、电话、接访或座谈会。"
ERR_EMPTY_VISIT = "请填写走访情况或群众的意见诉求。"
ERR_VISITOR = "所选走访人不是该网格的组团成员。"
ERR_MEMBER = "所选人员不是该家庭的成员。"
ERR_NEED_KIND = "请选择需求或资源。"
ERR_NEED_PARTS = "请同时填写需求的类别和内容。"
ERR_NEED_NOT_ALLOWED = "您没有修改民情档案的权限，不能更新需求。"
ERR_REPORTER = "反映人须是本次走访见到的家庭成员。"
ERR_ALREADY_CASE = "该诉求已转为案件 {number}，请勿重复提交。"
ERR_PLAN_NOT_ALLOWED = "您没有安排走访类别的权限。"
ERR_PLAN_CLASS = "请选择有效的走访类别。"
ERR_PLAN_UNTIL = "截止日期不能早于今天。"
ERR_DIARY_FUTURE = "日记日期不能晚于今天。"

MAX_TEXT = 2000
MAX_DIARY = 4000
# How far a visit time may lie ahead of the server clock (phones' clocks drift).
CLOCK_SKEW = dt.timedelta(minutes=10)


# --- dates -----------------------------------------------------------------------------------


def add_months(d: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the last day of that month if it is shorter (31 Jan → 28/29 Feb)."""
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def due_after(base: dt.date, visit_class: VisitClass) -> dt.date:
    """The date the next visit is due after a visit (or filing) on `base`: a working day."""
    if visit_class.unit == FrequencyUnit.MONTH:
        raw = add_months(base, visit_class.every)
    else:
        raw = base + dt.timedelta(days=visit_class.every)
    return add_working_days(raw, 0)


# --- schedules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    grid_id: int
    visit_class: VisitClass | None
    last_visit_at: dt.datetime | None
    next_due: dt.date | None


def _active_classes() -> list[tuple[VisitClass, set[int]]]:
    classes = list(VisitClass.objects.filter(active=True).prefetch_related("tags"))
    return [(vc, {t.pk for t in vc.tags.all()}) for vc in classes]


def _strictest(candidates: Iterable[VisitClass]) -> VisitClass | None:
    return min(candidates, key=lambda vc: (vc.approx_days, vc.sort, vc.pk), default=None)


def schedules_compute(household_ids: list[int], *, today: dt.date | None = None) -> dict:
    """{household id: Schedule} for a batch of households, in a fixed number of queries."""
    today = today or timezone.localdate()
    classes = _active_classes()
    rows = Household.objects.filter(pk__in=household_ids).values_list("pk", "grid_id", "created_at")
    tags: dict[int, set[int]] = defaultdict(set)
    for hid, tid in Household.tags.through.objects.filter(
        household_id__in=household_ids
    ).values_list("household_id", "tag_id"):
        tags[hid].add(tid)
    for hid, tid in Person.tags.through.objects.filter(
        person__household_id__in=household_ids
    ).values_list("person__household_id", "tag_id"):
        tags[hid].add(tid)
    planned: dict[int, set[int]] = defaultdict(set)
    for hid, cid in HouseholdVisitPlan.objects.filter(
        Q(until__isnull=True) | Q(until__gte=today), household_id__in=household_ids
    ).values_list("household_id", "visit_class_id"):
        planned[hid].add(cid)
    last = dict(
        Visit.objects.filter(household_id__in=household_ids)
        .values("household_id")
        .annotate(at=Max("visited_at"))
        .values_list("household_id", "at")
    )
    out = {}
    for hid, grid_id, created_at in rows:
        applicable = [
            vc
            for vc, tag_ids in classes
            if vc.applies_to_all or (tag_ids & tags[hid]) or vc.pk in planned[hid]
        ]
        vc = _strictest(applicable)
        last_at = last.get(hid)
        base = timezone.localdate(last_at or created_at)
        out[hid] = Schedule(
            grid_id=grid_id,
            visit_class=vc,
            last_visit_at=last_at,
            next_due=due_after(base, vc) if vc else None,
        )
    return out


def _state_fields(s: Schedule) -> dict:
    return {
        "grid_id": s.grid_id,
        "visit_class_id": s.visit_class.pk if s.visit_class else None,
        "last_visit_at": s.last_visit_at,
        "next_due": s.next_due,
    }


def _states_write(household_ids: list[int], *, today: dt.date, now: dt.datetime) -> tuple[int, int]:
    """Recompute and store the schedules of these households; (created, updated) counts.

    The caller holds the household rows locked, so a visit recorded meanwhile (which locks its
    household first) cannot be overwritten with the schedule from before it.
    """
    computed = schedules_compute(household_ids, today=today)
    existing = {
        s.household_id: s for s in HouseholdVisitState.objects.filter(pk__in=list(computed))
    }
    new, changed = [], []
    for hid, schedule in computed.items():
        fields = _state_fields(schedule)
        state = existing.get(hid)
        if state is None:
            new.append(HouseholdVisitState(household_id=hid, updated_at=now, **fields))
        elif any(getattr(state, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(state, k, v)
            state.updated_at = now
            changed.append(state)
    HouseholdVisitState.objects.bulk_create(new)
    HouseholdVisitState.objects.bulk_update(
        changed, ["grid", "visit_class", "last_visit_at", "next_due", "updated_at"]
    )
    return len(new), len(changed)


@transaction.atomic
def household_visit_state_refresh(*, household: Household, today: dt.date | None = None) -> None:
    """Bring one household's schedule up to date (after a tag, grid or plan change)."""
    list(Household.objects.select_for_update().filter(pk=household.pk).values_list("pk"))
    _states_write([household.pk], today=today or timezone.localdate(), now=timezone.now())


def visit_states_refresh(*, batch_size: int = 1000, today: dt.date | None = None) -> dict:
    """Recompute every household's schedule in batches: the nightly `refresh_visit_due`.

    Idempotent: rows already right are not written. Each batch is its own transaction, so the
    command can run while people record visits, and can be interrupted and started again.
    """
    today = today or timezone.localdate()
    checked = created = updated = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            ids = list(
                Household.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            c, u = _states_write(ids, today=today, now=timezone.now())
        checked += len(ids)
        created += c
        updated += u
        last_pk = ids[-1]
    return {"checked": checked, "created": created, "updated": updated}


# --- visit records ---------------------------------------------------------------------------


def _locked(household: Household) -> Household:
    # of=("self",): lock the household row only, not its grid's (household numbering locks that).
    return (
        Household.objects.select_for_update(of=("self",))
        .select_related("grid")
        .get(pk=household.pk)
    )


def _household_visible(user, household: Household) -> bool:
    return scope_queryset(user, Household.objects.filter(pk=household.pk)).exists()


def team_candidates(household: Household):
    """The users who may go on a visit with the recorder: staff assigned at the household's grid
    or above it up to its community, and the grid team's members with an account."""
    from minqing.accounts.models import TeamMember, User
    from minqing.grids.models import Level, Node

    grid = household.grid
    codes = grid.ancestor_codes()
    nodes = Node.objects.filter(code__in=codes, level__gte=Level.COMMUNITY).values("pk")
    team_users = TeamMember.objects.filter(team__node=grid, user__isnull=False).values("user_id")
    return (
        User.objects.filter(Q(assignments__node__in=nodes) | Q(pk__in=team_users), is_active=True)
        .distinct()
        .order_by("full_name", "username")
    )


def _text(data: dict, field: str, n: int, errors: dict) -> str:
    value = str(data.get(field) or "").strip()
    if len(value) > n:
        errors[field] = ERR_TOO_LONG.format(n=n)
    return value


def visit_clean(*, acting_user, household: Household, data: dict, now: dt.datetime) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    when = data.get("visited_at") or now
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > now + CLOCK_SKEW:
        errors["visited_at"] = ERR_FUTURE
    out["visited_at"] = when
    mode = data.get("mode") or VisitMode.HOME
    if mode not in VisitMode.values:
        errors["mode"] = ERR_MODE
    out["mode"] = mode
    out["seen"] = _text(data, "seen", MAX_TEXT, errors)
    out["opinions"] = _text(data, "opinions", MAX_TEXT, errors)
    out["other_visitors"] = _text(data, "other_visitors", 200, errors)
    if not out["seen"] and not out["opinions"] and "seen" not in errors:
        errors["seen"] = ERR_EMPTY_VISIT

    others = [u for u in (data.get("visitors") or []) if u.pk != acting_user.pk]
    if others:
        allowed = set(
            team_candidates(household)
            .filter(pk__in=[u.pk for u in others])
            .values_list("pk", flat=True)
        )
        if any(u.pk not in allowed for u in others):
            errors["visitors"] = ERR_VISITOR
    out["visitors"] = [acting_user, *others]

    met = list(data.get("members_met") or [])
    if any(p.household_id != household.pk for p in met):
        errors["members_met"] = ERR_MEMBER
    out["members_met"] = met

    need_category = _text(data, "need_category", 30, errors)
    need_description = _text(data, "need_description", 300, errors)
    out["need"] = None
    if need_category or need_description:
        kind = data.get("need_kind") or NeedKind.NEED
        if kind not in NeedKind.values:
            errors["need_kind"] = ERR_NEED_KIND
        if not (need_category and need_description):
            errors["need_description"] = ERR_NEED_PARTS
        elif not can_edit_registry(acting_user):
            errors["need_description"] = ERR_NEED_NOT_ALLOWED
        out["need"] = {"kind": kind, "category": need_category, "description": need_description}
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def visit_record(
    *, acting_user, household: Household, data: dict, request=None, now: dt.datetime | None = None
) -> Visit:
    """Record a visit to a household in the recorder's scope; move its next due date on.

    data: visited_at, mode, visitors (users besides the recorder), other_visitors (text),
    members_met (people of the household), seen, opinions, need_kind/need_category/
    need_description (optional: a need or resource learnt on the visit, added to the file).
    """
    if not _household_visible(acting_user, household):
        raise PermissionDenied(ERR_HOUSEHOLD_SCOPE)
    now = now or timezone.now()
    # Lock the household: visits to it are recorded one after another, so each sees the last
    # visit of the one before when it moves the due date, and the nightly refresh waits.
    household = _locked(household)
    clean = visit_clean(acting_user=acting_user, household=household, data=data, now=now)
    visit = Visit.objects.create(
        household=household,
        grid=household.grid,
        visited_at=clean["visited_at"],
        mode=clean["mode"],
        other_visitors=clean["other_visitors"],
        seen=clean["seen"],
        opinions=clean["opinions"],
        created_by=acting_user,
        created_at=now,
    )
    visit.visitors.set(clean["visitors"])
    visit.members_met.set(clean["members_met"])
    if clean["need"]:
        from minqing.registry.services import household_need_add

        need = household_need_add(
            acting_user=acting_user, household=household, request=request, **clean["need"]
        )
        visit.needs.add(need)
    _states_write([household.pk], today=timezone.localdate(now), now=now)
    local = timezone.localtime(clean["visited_at"])
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=visit,
        changes={
            "household": [None, str(household)],
            "visited_at": [None, f"{local:%Y-%m-%d %H:%M}"],
            "mode": [None, source(VisitMode(visit.mode).label)],
            "visitors": [None, "、".join(str(u) for u in clean["visitors"])],
            "members_met": [None, "、".join(p.name for p in clean["members_met"])],
        },
        request=request,
        node=household.grid,
    )
    return visit


@transaction.atomic
def visit_demand_to_case(
    *,
    acting_user,
    visit: Visit,
    category,
    description: str,
    title: str = "",
    reporter: Person | None = None,
    priority: str = "",
    request=None,
    now: dt.datetime | None = None,
):
    """A demand raised on a visit becomes a registered case of the household, linked both ways.

    The case comes in through the visit channel, in the household's grid, with a met member as
    the reporter if one is named. visit.cases and case.visits lead from one to the other.
    """
    from minqing.cases.models import Channel
    from minqing.cases.services import case_accept

    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("household__grid")
        .get(pk=visit.pk)
    )
    household = visit.household
    if not _household_visible(acting_user, household):
        raise PermissionDenied(ERR_HOUSEHOLD_SCOPE)
    description = str(description or "").strip()
    if reporter is not None and not visit.members_met.filter(pk=reporter.pk).exists():
        raise ValidationError({"reporter": ERR_REPORTER})
    # A double tap on a phone must not file the same demand twice.
    twin = visit.cases.filter(description=description).first()
    if twin is not None and description:
        raise ValidationError({"description": ERR_ALREADY_CASE.format(number=twin.number)})
    case = case_accept(
        acting_user=acting_user,
        data={
            "category": category,
            "description": description,
            "title": title,
            "priority": priority,
            "channel": Channel.VISIT,
            "household": household,
            "grid": household.grid,
            "address": household.address,
            "reporter": reporter,
            "reporter_name": reporter.name if reporter else "",
        },
        now=now,
    )
    visit.cases.add(case)
    audit_log(
        actor=acting_user,
        action=AuditAction.UPDATE,
        obj=visit,
        changes={"cases": [None, case.number]},
        request=request,
        node=household.grid,
    )
    return case


# --- plans (classes given by hand) -----------------------------------------------------------


@transaction.atomic
def visit_plan_set(
    *,
    acting_user,
    household: Household,
    visit_class: VisitClass | None,
    reason: str = "",
    until: dt.date | None = None,
    request=None,
) -> HouseholdVisitPlan:
    """Give a household a visit class by hand (or change the reason / end date of that plan)."""
    if not _household_visible(acting_user, household):
        raise PermissionDenied(ERR_HOUSEHOLD_SCOPE)
    if not can_edit_registry(acting_user):
        raise PermissionDenied(ERR_PLAN_NOT_ALLOWED)
    errors = {}
    if visit_class is None or not visit_class.active:
        errors["visit_class"] = ERR_PLAN_CLASS
    if until is not None and until < timezone.localdate():
        errors["until"] = ERR_PLAN_UNTIL
    reason = str(reason or "").strip()
    if len(reason) > 200:
        errors["reason"] = ERR_TOO_LONG.format(n=200)
    if errors:
        raise ValidationError(errors)
    household = _locked(household)
    plan, created = HouseholdVisitPlan.objects.update_or_create(
        household=household,
        visit_class=visit_class,
        defaults={"reason": reason, "until": until},
        create_defaults={"reason": reason, "until": until, "created_by": acting_user},
    )
    _states_write([household.pk], today=timezone.localdate(), now=timezone.now())
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=plan,
        changes={
            "visit_class": [None, visit_class.name],
            "reason": [None, reason],
            "until": [None, until.isoformat() if until else "长期"],
        },
        request=request,
        node=household.grid,
    )
    return plan


@transaction.atomic
def visit_plan_remove(*, acting_user, plan: HouseholdVisitPlan, request=None) -> None:
    household = plan.household
    if not _household_visible(acting_user, household):
        raise PermissionDenied(ERR_HOUSEHOLD_SCOPE)
    if not can_edit_registry(acting_user):
        raise PermissionDenied(ERR_PLAN_NOT_ALLOWED)
    household = _locked(household)
    audit_log(
        actor=acting_user,
        action=AuditAction.DELETE,
        obj=plan,
        changes={"visit_class": [plan.visit_class.name, None]},
        request=request,
        node=household.grid,
    )
    plan.delete()
    _states_write([household.pk], today=timezone.localdate(), now=timezone.now())


# --- the diary (民情日记) ----------------------------------------------------------------------


def _tags(raw: str) -> str:
    for sep in ",，、;；#":
        raw = raw.replace(sep, " ")
    seen: list[str] = []
    for word in raw.split():
        if word not in seen:
            seen.append(word)
    return " ".join(seen)


def diary_clean(*, acting_user, data: dict) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    out["text"] = _text(data, "text", MAX_DIARY, errors)
    if not out["text"] and "text" not in errors:
        errors["text"] = ERR_REQUIRED
    out["tags"] = _tags(str(data.get("tags") or ""))
    if len(out["tags"]) > 100:
        errors["tags"] = ERR_TOO_LONG.format(n=100)
    day = data.get("date") or timezone.localdate()
    if day > timezone.localdate():
        errors["date"] = ERR_DIARY_FUTURE
    out["date"] = day
    household = data.get("household")
    if household is not None and not _household_visible(acting_user, household):
        errors["household"] = ERR_HOUSEHOLD_SCOPE
    out["household"] = household
    if errors:
        raise ValidationError(errors)
    return out


def _diary_audit(acting_user, entry: DiaryEntry, action, request) -> None:
    # Only when and about whom: the text is the author's alone, even for auditors.
    audit_log(
        actor=acting_user,
        action=action,
        obj=entry,
        changes={
            "date": [None, entry.date.isoformat()],
            "household": [None, str(entry.household) if entry.household_id else ""],
        },
        request=request,
        node=entry.household.grid if entry.household_id else None,
    )


@transaction.atomic
def diary_entry_save(
    *, acting_user, data: dict, entry: DiaryEntry | None = None, request=None
) -> DiaryEntry:
    if not getattr(acting_user, "is_authenticated", False):
        raise PermissionDenied(ERR_HOUSEHOLD_SCOPE)
    if entry is not None and entry.author_id != acting_user.pk:
        raise PermissionDenied("只能修改自己的民情日记。")
    clean = diary_clean(acting_user=acting_user, data=data)
    if entry is None:
        entry = DiaryEntry.objects.create(author=acting_user, **clean)
        _diary_audit(acting_user, entry, AuditAction.CREATE, request)
        return entry
    for k, v in clean.items():
        setattr(entry, k, v)
    entry.updated_at = timezone.now()
    entry.save()
    _diary_audit(acting_user, entry, AuditAction.UPDATE, request)
    return entry


@transaction.atomic
def diary_entry_delete(*, acting_user, entry: DiaryEntry, request=None) -> None:
    if entry.author_id != acting_user.pk:
        raise PermissionDenied("只能删除自己的民情日记。")
    _diary_audit(acting_user, entry, AuditAction.DELETE, request)
    entry.delete()
