"""Writes for visits: schedules, visit records, a demand turned into a case, plans, the diary.

Each function validates, checks scope, writes and audits in one transaction, like
registry.services. Errors are Django ValidationErrors keyed by form field, with the messages
below (lazily translated); the UI and the tests share them.

The schedule rule (DOMAIN.md, seeds/000): every household has the most frequent of the visit
classes that apply to it; its next visit is due one interval after its last visit (or after it
was put on file, if nobody has visited yet), on the next working day if that date is a weekend
or a holiday. A month after 31 January is the last day of February.
"""

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from minqing.accounts.access import (
    can_edit_registry,
    has_role,
    scope_queryset,
    user_assignments,
    visible_nodes,
)
from minqing.accounts.links import linked_households_q
from minqing.accounts.models import DataScope, Role
from minqing.core.audit import audit_log
from minqing.core.bulk import Inserter
from minqing.core.digits import positive_id
from minqing.core.forms import clean_text as _text
from minqing.core.forms import reason_text
from minqing.core.i18n import source
from minqing.core.models import AuditAction
from minqing.core.workdays import add_working_days
from minqing.grids.models import Level, Node, subtree_q
from minqing.registry.models import Household, NeedKind, Person
from minqing.registry.services import PermissionDenied
from minqing.visits.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignTarget,
    DiaryEntry,
    FrequencyUnit,
    HouseholdVisitPlan,
    HouseholdVisitState,
    TargetRule,
    TargetSource,
    Visit,
    VisitClass,
    VisitMode,
)

ERR_REQUIRED = _("此项必填。")
ERR_TOO_LONG = _("不能超过 {n} 个字。")
ERR_HOUSEHOLD_SCOPE = _("该家庭不存在或不在您的管辖范围内。")
ERR_FUTURE = _("时间不能晚于现在。")
ERR_TOO_EARLY = _("时间过早，请检查年份。")
# No file is older than minqing's predecessors on paper; a year 1 typed by mistake would
# otherwise overflow the time-zone conversion of some databases.
EARLIEST_VISIT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# A visit is recorded, or recorded late (补录), within a year: an older one is a mistyped year.
BACKFILL_DAYS = 366
ERR_TOO_OLD = _("走访时间早于 {days} 天前：只能补录一年内的走访，请检查年份。")
ERR_MODE = _("请选择走访方式：入户、电话、接访或座谈会。")
ERR_EMPTY_VISIT = _("请填写走访情况或群众的意见诉求。")
ERR_VISIT_CORRECT = _("只能更正本人一个月内记录的走访，或由社区、街道工作人员更正。")
ERR_VISIT_HAS_CASE = _("这次走访已转为案件 {number}，不能删除；如有记错，请更正。")
ERR_VISITOR = _("所选走访人不是该网格的组团成员。")
ERR_MEMBER = _("所选人员不是该家庭的成员。")
ERR_NEED_KIND = _("请选择需求或资源。")
ERR_NEED_PARTS = _("请同时填写需求的类别和内容。")
ERR_NEED_NOT_ALLOWED = _("您没有修改民情档案的权限，不能更新需求。")
ERR_REPORTER = _("反映人须是本次走访见到的家庭成员。")
ERR_ALREADY_CASE = _("该诉求已转为案件 {number}，请勿重复提交。")
ERR_PLAN_NOT_ALLOWED = _("您没有安排走访类别的权限。")
ERR_PLAN_CLASS = _("请选择有效的走访类别。")
ERR_PLAN_UNTIL = _("截止日期不能早于今天。")
ERR_DIARY_FUTURE = _("日记日期不能晚于今天。")
ERR_DIARY_PAST = _("日记日期不能早于 2000 年。")
ERR_DIARY_EDIT = _("只能修改自己的民情日记。")
ERR_DIARY_DELETE = _("只能删除自己的民情日记。")
ERR_CAMPAIGN_CHOICE = _("所选走访活动不在进行中，或该家庭不是它的走访对象。")
ERR_CAMPAIGN_WINDOW = _("走访时间不在活动期间（{start} 至 {end}）内。")
ERR_GIFT_NEEDS_CAMPAIGN = _("填写慰问品或慰问金时，请选择所属的走访活动。")
ERR_GIFT_AMOUNT = _("慰问金应为 0 至 1000000 元之间、最多两位小数的金额。")
MAX_GIFT_AMOUNT = Decimal("1000000")

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
    rows = Household.objects.filter(pk__any_of=household_ids).values_list(
        "pk", "grid_id", "created_at"
    )
    tags: dict[int, set[int]] = defaultdict(set)
    for hid, tid in Household.tags.through.objects.filter(
        household__any_of=household_ids
    ).values_list("household_id", "tag_id"):
        tags[hid].add(tid)
    for hid, tid in Person.tags.through.objects.filter(
        person__household__any_of=household_ids
    ).values_list("person__household_id", "tag_id"):
        tags[hid].add(tid)
    planned: dict[int, set[int]] = defaultdict(set)
    for hid, cid in HouseholdVisitPlan.objects.filter(
        Q(until__isnull=True) | Q(until__gte=today), household__any_of=household_ids
    ).values_list("household_id", "visit_class_id"):
        planned[hid].add(cid)
    last = dict(
        Visit.objects.filter(household__any_of=household_ids)
        .values("household_id")
        .annotate(at=Max("visited_at"))
        .values_list("household_id", "at")
    )
    for hid, at in help_visits_last(household_ids).items():
        if last.get(hid) is None or at > last[hid]:
            last[hid] = at
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


def help_visits_last(household_ids: list[int], *, by=None) -> dict[int, dt.datetime]:
    """{household id: the start of the last day a helper logged 走访慰问 there} (结对帮扶's help
    log): a visit too, for the schedule — enter once, not again as a 走访记录. `by`: only the
    entries of the helper who is this user (a cadre's contact duty, duties.selectors)."""
    from minqing.assistance.models import HelpEntry, HelpKind

    out: dict[int, dt.date] = {}
    visits = HelpEntry.objects.filter(kind=HelpKind.VISIT)
    if by is not None:
        visits = visits.filter(helper__user=by)
    for path in ("pairing__household", "pairing__person__household"):
        rows = (
            visits.filter(**{f"{path}__any_of": household_ids})
            .values(f"{path}_id")
            .annotate(on=Max("occurred_on"))
            .values_list(f"{path}_id", "on")
        )
        for hid, on in rows:
            if hid is not None and (hid not in out or on > out[hid]):
                out[hid] = on
    return {
        hid: timezone.make_aware(dt.datetime.combine(on, dt.time.min)) for hid, on in out.items()
    }


_SCHEDULE_FIELDS = ("grid_id", "visit_class_id", "last_visit_at", "next_due")  # _state_fields'
_STATE_COLUMNS = ("household_id", *_SCHEDULE_FIELDS, "updated_at")


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
        s.household_id: s for s in HouseholdVisitState.objects.filter(pk__any_of=list(computed))
    }
    new, changed = [], []
    for hid, schedule in computed.items():
        fields = _state_fields(schedule)
        state = existing.get(hid)
        if state is None:
            new.append((hid, *(fields[k] for k in _SCHEDULE_FIELDS), now))
        elif any(getattr(state, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(state, k, v)
            state.updated_at = now
            changed.append(state)
    if new:
        # COPY / many-row INSERTs without model instances (core.bulk): an imported
        # ledger's 33 000 new households spent 1.9 s in bulk_create.
        inserter = Inserter(HouseholdVisitState, _STATE_COLUMNS, with_ids=False)
        inserter.insert(inserter.prepare(row) for row in new)
    HouseholdVisitState.objects.bulk_update(
        changed, ["grid", "visit_class", "last_visit_at", "next_due", "updated_at"]
    )
    return len(new), len(changed)


@transaction.atomic
def household_visit_state_refresh(*, household: Household, today: dt.date | None = None) -> None:
    """Bring one household's schedule up to date (after a tag, grid or plan change)."""
    list(Household.objects.select_for_update().filter(pk=household.pk).values_list("pk"))
    _states_write([household.pk], today=today or timezone.localdate(), now=timezone.now())


def household_states_write(household_ids, *, batch_size: int = 1000) -> None:
    """Bring these households' schedules up to date inside the caller's transaction (an
    import: the households it made or changed are on the due lists the moment it commits)."""
    ids = sorted(set(household_ids))
    today, now = timezone.localdate(), timezone.now()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        list(Household.objects.select_for_update().filter(pk__any_of=chunk).values_list("pk"))
        _states_write(chunk, today=today, now=now)


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


def visitable_households(user):
    """Households `user` may record visits to: those in their scope, and those they reach
    through a personal link (a cadre paired with, or duty-linked to, a household elsewhere)."""
    return scope_queryset(user, Household.objects.all(), also=linked_households_q(user))


def _household_visitable(user, household: Household) -> bool:
    return visitable_households(user).filter(pk=household.pk).exists()


def team_candidates(household: Household):
    """The users who may go on a visit with the recorder: staff assigned at the household's grid
    or above it up to its community, and the grid team's members with an account."""
    return grid_team_users(household.grid)


def grid_team_users(grid):
    """Staff assigned at `grid` or above it up to its community, and the grid team's members
    with an account: who may visit the grid's households (and be given campaign targets)."""
    from minqing.accounts.models import TeamMember, User

    codes = grid.ancestor_codes()
    nodes = Node.objects.filter(code__in=codes, level__gte=Level.COMMUNITY).values("pk")
    team_users = TeamMember.objects.filter(team__node=grid, user__isnull=False).values("user_id")
    return (
        User.objects.filter(Q(assignments__node__in=nodes) | Q(pk__in=team_users), is_active=True)
        .distinct()
        .order_by("full_name", "username")
    )


def _same_minute(when: dt.datetime, correcting) -> bool:
    """Whether `when` is the corrected visit's own time as its form shows it (to the minute:
    a visit recorded at "now" has seconds the form drops)."""
    if correcting is None:
        return False
    kept = correcting.visited_at.replace(second=0, microsecond=0)
    return when.replace(second=0, microsecond=0) == kept


def visit_clean(
    *, acting_user, household: Household, data: dict, now: dt.datetime, correcting=None
) -> dict:
    """Check a visit's fields. `correcting`: the visit being corrected — its recorder stays its
    first visitor and its campaign stays (the new time must lie in that campaign's window)."""
    errors: dict[str, str] = {}
    out: dict = {}
    when = data.get("visited_at") or now
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > now + CLOCK_SKEW:
        errors["visited_at"] = ERR_FUTURE
    elif when < EARLIEST_VISIT:
        errors["visited_at"] = ERR_TOO_EARLY
    elif when < now - dt.timedelta(days=BACKFILL_DAYS) and not _same_minute(
        when,
        correcting,  # an old visit's text corrected: its time as the form shows it
    ):
        # A visit typed years back (2001 for 2021) made its home due in 2001: 9 000 days late.
        errors["visited_at"] = ERR_TOO_OLD.format(days=BACKFILL_DAYS)
    if _same_minute(when, correcting):
        when = correcting.visited_at  # unchanged: its seconds kept
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

    recorder = acting_user if correcting is None else correcting.created_by
    others = [u for u in (data.get("visitors") or []) if recorder is None or u.pk != recorder.pk]
    if others:
        allowed = set(
            team_candidates(household)
            .filter(pk__in=[u.pk for u in others])
            .values_list("pk", flat=True)
        )
        if any(u.pk not in allowed for u in others):
            errors["visitors"] = ERR_VISITOR
    out["visitors"] = [recorder, *others] if recorder is not None else others

    met = list(data.get("members_met") or [])
    if any(p.household_id != household.pk for p in met):
        errors["members_met"] = ERR_MEMBER
    out["members_met"] = met

    if correcting is not None:
        data = {**data, "campaign": correcting.campaign}
    _campaign_clean(
        household=household, data=data, when=when, errors=errors, out=out, kept=correcting
    )
    if correcting is not None and "campaign" in errors:
        errors.setdefault("visited_at", errors.pop("campaign"))  # the time left its window

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


def _campaign_clean(
    *, household: Household, data: dict, when, errors: dict, out: dict, kept=None
) -> None:
    """The optional campaign a visit is made for, and what was given on it. `kept`: a visit
    being corrected, whose campaign stays even if it has closed since."""
    campaign = data.get("campaign")
    if campaign is not None and not isinstance(campaign, Campaign):
        pk = positive_id(campaign)
        campaign = Campaign.objects.filter(pk=pk).first() if pk else None
        if campaign is None:
            errors["campaign"] = ERR_CAMPAIGN_CHOICE
    if campaign is not None:
        is_target = CampaignTarget.objects.filter(campaign=campaign, household=household).exists()
        if kept is None and (campaign.status != CampaignStatus.OPEN or not is_target):
            errors["campaign"] = ERR_CAMPAIGN_CHOICE
        elif not campaign.covers(timezone.localdate(when)):
            errors["campaign"] = ERR_CAMPAIGN_WINDOW.format(
                start=f"{campaign.start:%Y-%m-%d}", end=f"{campaign.end:%Y-%m-%d}"
            )
    out["campaign"] = campaign
    out["gift_goods"] = _text(data, "gift_goods", 100, errors)
    raw = data.get("gift_amount")
    amount = None
    if raw not in (None, ""):
        try:
            amount = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            amount = None
            errors["gift_amount"] = ERR_GIFT_AMOUNT
        else:
            if (
                not amount.is_finite()
                or amount < 0
                or amount > MAX_GIFT_AMOUNT
                or amount.as_tuple().exponent < -2
            ):
                errors["gift_amount"] = ERR_GIFT_AMOUNT
                amount = None
    out["gift_amount"] = amount
    gave = out["gift_goods"] or raw not in (None, "")
    if gave and campaign is None and "campaign" not in errors:
        errors["campaign"] = ERR_GIFT_NEEDS_CAMPAIGN


def _campaign_targets_close(visit: Visit) -> int:
    """A visit closes the household's open targets whose window holds its day (enter once):
    with or without the campaign chosen. The chosen campaign's target points at this visit
    even if a plain visit closed it first, so its gifts show on the list."""
    day = timezone.localdate(visit.visited_at)
    open_here = CampaignTarget.objects.filter(
        household_id=visit.household_id,
        campaign__status=CampaignStatus.OPEN,
        campaign__start__lte=day,
        campaign__end__gte=day,
    )
    n = open_here.filter(visit__isnull=True).update(visit=visit, visited_at=visit.visited_at)
    if visit.campaign_id:
        n += (
            open_here.filter(campaign_id=visit.campaign_id)
            .exclude(visit=visit)
            .update(visit=visit, visited_at=visit.visited_at)
        )
    return n


@transaction.atomic
def visit_record(
    *, acting_user, household: Household, data: dict, request=None, now: dt.datetime | None = None
) -> Visit:
    """Record a visit to a household in the recorder's scope; move its next due date on.

    data: visited_at, mode, visitors (users besides the recorder), other_visitors (text),
    members_met (people of the household), seen, opinions, need_kind/need_category/
    need_description (optional: a need or resource learnt on the visit, added to the file),
    campaign (optional: an open campaign the household is a target of), gift_goods and
    gift_amount (慰问品/慰问金, only with a campaign).

    The household must be in the recorder's scope or personally linked to them (a cadre's
    paired or duty-linked household, accounts.links).
    """
    if not _household_visitable(acting_user, household):
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
        campaign=clean["campaign"],
        gift_goods=clean["gift_goods"],
        gift_amount=clean["gift_amount"],
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
    _campaign_targets_close(visit)
    local = timezone.localtime(clean["visited_at"])
    changes = {
        "household": [None, source(household)],
        "visited_at": [None, f"{local:%Y-%m-%d %H:%M}"],
        "mode": [None, source(VisitMode(visit.mode).label)],
        "visitors": [None, "、".join(str(u) for u in clean["visitors"])],
        "members_met": [None, "、".join(p.name for p in clean["members_met"])],
    }
    if visit.campaign_id:
        changes["campaign"] = [None, visit.campaign.name]
    if visit.gift_goods:
        changes["gift_goods"] = [None, visit.gift_goods]
    if visit.gift_amount is not None:
        changes["gift_amount"] = [None, str(visit.gift_amount)]
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=visit,
        changes=changes,
        request=request,
        node=household.grid,
    )
    return visit


# The recorder may correct or delete their own visit for a month; an office that sees the
# household at any time. The audit keeps what it said before, and why.
VISIT_CORRECT_DAYS = 31
VISIT_FIELDS = ["visited_at", "mode", "visitors", "members_met", "seen", "opinions",
                "other_visitors", "gift_goods", "gift_amount"]  # fmt: skip


def can_correct_visit(user, visit: Visit, *, now=None) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if has_role(user, CAMPAIGN_ROLES) and _household_visible(user, visit.household):
        return True
    now = now or timezone.now()
    return (
        visit.created_by_id == user.pk
        and now - visit.created_at <= dt.timedelta(days=VISIT_CORRECT_DAYS)
        and _household_visitable(user, visit.household)
    )


def _visit_words(visit: Visit) -> dict:
    local = timezone.localtime(visit.visited_at)
    return {
        "visited_at": f"{local:%Y-%m-%d %H:%M}",
        "mode": source(VisitMode(visit.mode).label),
        "visitors": "、".join(str(u) for u in visit.visitors.order_by("pk")),
        "members_met": "、".join(p.name for p in visit.members_met.order_by("pk")),
        "seen": visit.seen,
        "opinions": visit.opinions,
        "other_visitors": visit.other_visitors,
        "gift_goods": visit.gift_goods,
        "gift_amount": "" if visit.gift_amount is None else str(visit.gift_amount),
    }


def _locked_visit(visit: Visit) -> Visit:
    return (
        Visit.objects.select_for_update(of=("self",))
        .select_related("household", "campaign", "created_by")
        .get(pk=visit.pk)
    )


def _targets_recount(visit: Visit, household_id: int) -> None:
    """The campaign targets this visit closed are closed again by the household's best visit
    in each window (this one, moved, or another); then this visit closes what it now can."""
    pointed = CampaignTarget.objects.filter(visit=visit)
    campaign_ids = list(pointed.values_list("campaign_id", flat=True))
    pointed.update(visit=None, visited_at=None)
    for campaign in Campaign.objects.filter(pk__in=campaign_ids):
        _campaign_targets_sync(campaign, [household_id])


@transaction.atomic
def visit_update(
    *, acting_user, visit: Visit, data: dict, reason: str, request=None, now=None
) -> Visit:
    """Correct a visit (the wrong time, a typo, who was met, a gift mistyped). The household,
    the campaign and the needs it added stay; campaign progress and the due date follow the
    new time; the audit keeps the old values and the reason."""
    visit = _locked_visit(visit)
    if not can_correct_visit(acting_user, visit):
        raise PermissionDenied(ERR_VISIT_CORRECT)
    reason = reason_text(reason)
    now = now or timezone.now()
    household = _locked(visit.household)
    data = {k: v for k, v in data.items() if not k.startswith("need_")}
    clean = visit_clean(
        acting_user=acting_user, household=household, data=data, now=now, correcting=visit
    )
    old = _visit_words(visit)
    moved = clean["visited_at"] != visit.visited_at
    for f in ("visited_at", "mode", "seen", "opinions", "other_visitors", "gift_goods",
              "gift_amount"):  # fmt: skip
        setattr(visit, f, clean[f])
    visit.save()
    visit.visitors.set(clean["visitors"])
    visit.members_met.set(clean["members_met"])
    if moved:
        _targets_recount(visit, household.pk)
        _campaign_targets_close(visit)
        _states_write([household.pk], today=timezone.localdate(now), now=now)
    new = _visit_words(visit)
    audit_log(
        actor=acting_user,
        action=AuditAction.UPDATE,
        obj=visit,
        changes={k: [old[k], v] for k, v in new.items() if old[k] != v},
        reason=reason,
        request=request,
        node=household.grid,
    )
    return visit


@transaction.atomic
def visit_delete(*, acting_user, visit: Visit, reason: str, request=None, now=None) -> None:
    """Delete a visit recorded by mistake (twice, or at the wrong household). One that became
    a case stays: the case names it as where the matter was found."""
    visit = _locked_visit(visit)
    if not can_correct_visit(acting_user, visit):
        raise PermissionDenied(ERR_VISIT_CORRECT)
    reason = reason_text(reason)
    case = visit.cases.first()
    if case is not None:
        raise ValidationError({"__all__": ERR_VISIT_HAS_CASE.format(number=case.number)})
    now = now or timezone.now()
    household = _locked(visit.household)
    words = _visit_words(visit)
    words["household"] = source(household)
    audit_log(
        actor=acting_user,
        action=AuditAction.DELETE,
        obj=visit,
        changes={k: [v, None] for k, v in words.items() if v},
        reason=reason,
        request=request,
        node=household.grid,
    )
    pointed = CampaignTarget.objects.filter(visit=visit)
    campaign_ids = list(pointed.values_list("campaign_id", flat=True))
    pointed.update(visit=None, visited_at=None)
    visit.delete()
    for campaign in Campaign.objects.filter(pk__in=campaign_ids):
        _campaign_targets_sync(campaign, [household.pk])
    _states_write([household.pk], today=timezone.localdate(now), now=now)


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
    photos=(),
    request=None,
    now: dt.datetime | None = None,
):
    """A demand raised on a visit becomes a registered case of the household, linked both ways.

    The case comes in through the visit channel, in the household's grid, with a met member as
    the reporter if one is named. visit.cases and case.visits lead from one to the other.
    """
    from minqing.cases.models import Channel
    from minqing.cases.services import case_accept, case_add_photos

    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("household__grid")
        .get(pk=visit.pk)
    )
    household = visit.household
    # A cadre paired with (or duty-linked to) a household outside their area files the demand
    # too: it waits at the household's grid, whose staff own it (cases.services.case_accept).
    in_scope = _household_visible(acting_user, household)
    if not in_scope and not _household_visitable(acting_user, household):
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
        linked=not in_scope,
    )
    if photos:  # photographed on the visit: filed with the case, as on 上报案件
        case_add_photos(acting_user=acting_user, case=case, files=photos, stage="受理")
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
    elif day.year < 2000:  # a notebook of this platform's years (0001-01-01 was taken)
        errors["date"] = ERR_DIARY_PAST
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
            "household": [None, source(entry.household) if entry.household_id else ""],
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
        raise PermissionDenied(ERR_DIARY_EDIT)
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
        raise PermissionDenied(ERR_DIARY_DELETE)
    _diary_audit(acting_user, entry, AuditAction.DELETE, request)
    entry.delete()


# --- campaigns (走访活动) ----------------------------------------------------------------------
#
# A campaign is prepared as a draft, launched (its target list is built from its rule: a
# snapshot of the households that match on that day), and closed by its creator or an office
# above. While it is open its list may be rebuilt (new matches added, unvisited ones that no
# longer match dropped) and households added by hand. Targets are closed by visits, never by
# hand: see _campaign_targets_close (each visit) and _campaign_targets_sync (launch, rebuild,
# add, close: visits recorded before the household was on the list).

# Offices (community and up) prepare, launch, close campaigns and assign targets.
CAMPAIGN_ROLES = frozenset(
    {
        Role.COMMUNITY_WORKER,
        Role.COMMUNITY_SECRETARY,
        Role.STREET_OFFICER,
        Role.COUNTY_OFFICER,
        Role.ADMIN,
    }
)

ERR_CAMPAIGN_NOT_ALLOWED = _("只有社区及以上的工作人员可以发起走访活动。")
ERR_CAMPAIGN_MANAGE = _("只有活动发起人或其上级单位可以管理该走访活动。")
ERR_CAMPAIGN_NAME = _("请填写活动名称（不超过 60 个字）。")
ERR_CAMPAIGN_KIND = _("请选择活动类型：节日走访、突发事件走访或专项走访。")
ERR_CAMPAIGN_NODE = _("请选择您管辖范围内的覆盖范围（网格及以上）。")
ERR_CAMPAIGN_DATES = _("请填写开始日期和结束日期，结束日期不能早于开始日期。")
ERR_CAMPAIGN_SPAN = _("活动期间不能超过一年。")
ERR_CAMPAIGN_PAST = _("结束日期已经过去：活动期间须包含今天或以后的日期。")
ERR_CAMPAIGN_FAR = _("开始日期不能晚于一年以后，请检查年份。")
ERR_CAMPAIGN_RULE = _("请选择确定走访对象的方式。")
ERR_CAMPAIGN_TAGS = _("按人员类别确定走访对象时，请至少选择一个类别。")
ERR_CAMPAIGN_MANUAL = _("手工选择走访对象时，请填写至少一个户号。")
ERR_CAMPAIGN_NUMBERS = _("以下户号不存在或不在活动覆盖范围内：{numbers}")
ERR_CAMPAIGN_TOO_MANY = _("一次最多添加 {n} 户。")
ERR_CAMPAIGN_TRANSITION = _("活动当前为“{status}”，不能{action}。")
ERR_CAMPAIGN_ACTION = _("不支持的操作。")
ERR_CAMPAIGN_EDIT = _("活动启动后不能再修改范围、期间和对象规则。")
ERR_CAMPAIGN_DELETE = _("只有草稿可以删除；已启动的活动请结束它。")
ERR_CAMPAIGN_NOT_OPEN = _("活动不在进行中，不能调整走访对象。")
ERR_CAMPAIGN_CLOSED = _("活动已结束，不能再调整。")
ERR_EXTEND_CLOSED = _("活动已结束，不能延长期限；如需继续走访，请发起新的走访活动。")
ERR_EXTEND_DATE = _("请填写新的结束日期，格式如 2026-02-28。")
ERR_EXTEND_NOT_LATER = _("新的结束日期须晚于原结束日期（{end}）。")
ERR_EXTEND_PAST = _("新的结束日期不能早于今天。")
ERR_EXTEND_BEFORE_START = _("新的结束日期不能早于开始日期（{start}）。")
ERR_ADD_NOT_ALLOWED = _("只有社区及以上的工作人员可以追加走访对象。")
ERR_ASSIGN_NOT_ALLOWED = _("只有社区及以上的工作人员可以分配走访任务。")
ERR_ASSIGN_TARGETS = _("请至少选择一户。")
ERR_ASSIGN_USERS = _("请至少选择一名责任人。")
ERR_ASSIGNEE = _("所选责任人不是该户所在网格的组团成员：{names}")

MAX_CAMPAIGN_DAYS = 366
MAX_ADD_NUMBERS = 500
BATCH = 2000


@dataclass(frozen=True)
class CampaignTransition:
    label: str | Promise  # lazy: the verb of ERR_CAMPAIGN_TRANSITION, in the UI language
    sources: frozenset
    target: str


# The state table: 草稿 → 进行中 → 已结束; nothing else.
CAMPAIGN_TRANSITIONS: dict[str, CampaignTransition] = {
    "launch": CampaignTransition(
        pgettext_lazy("campaign action", "启动"),
        frozenset({CampaignStatus.DRAFT}),
        CampaignStatus.OPEN,
    ),
    "close": CampaignTransition(
        pgettext_lazy("campaign action", "结束"),
        frozenset({CampaignStatus.OPEN}),
        CampaignStatus.CLOSED,
    ),
}


def can_create_campaign(user) -> bool:
    return getattr(user, "is_authenticated", False) and has_role(user, CAMPAIGN_ROLES)


def can_manage_campaign(user, campaign: Campaign) -> bool:
    """Its creator (still an office), or an office whose node lies strictly above the
    campaign's node, or the administrator."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not has_role(user, CAMPAIGN_ROLES):
        return False
    if campaign.created_by_id == user.pk:
        return True
    path = campaign.node.path
    for a in (a for a in user_assignments(user) if a.role in CAMPAIGN_ROLES):
        if a.data_scope == DataScope.ALL:
            return True
        if a.data_scope == DataScope.NODE_AND_BELOW and path.startswith(a.node.path):
            if path != a.node.path:
                return True
    return False


def can_assign_campaign(user, campaign: Campaign) -> bool:
    """Offices may assign the targets they see (their own part of a larger campaign too)."""
    return campaign.status != CampaignStatus.CLOSED and (
        can_manage_campaign(user, campaign) or has_role(user, CAMPAIGN_ROLES)
    )


def _coverage_q(node: Node) -> Q:
    """Households in a node's subtree: by grid, or by building for a building node."""
    nodes = Node.objects.filter(subtree_q(node.path)).values("pk")
    if node.level >= Level.BUILDING:
        return Q(building__in=nodes)
    return Q(grid__in=nodes)


def _day_bounds(campaign: Campaign) -> tuple[dt.datetime, dt.datetime]:
    """[start of the first day, start of the day after the last) in local time."""
    first = timezone.make_aware(dt.datetime.combine(campaign.start, dt.time(0, 0)))
    after = timezone.make_aware(
        dt.datetime.combine(campaign.end + dt.timedelta(days=1), dt.time(0, 0))
    )
    return first, after


def campaign_rule_households(campaign: Campaign):
    """The households the campaign's rule picks today (a queryset of Household)."""
    base = Household.objects.filter(_coverage_q(campaign.node))
    if campaign.rule == TargetRule.ALL:
        return base
    if campaign.rule == TargetRule.TAGS:
        tag_ids = [t.pk for t in campaign.tags.all()]
        if not tag_ids:
            return base.none()
        own = Household.tags.through.objects.filter(tag_id__in=tag_ids).values("household_id")
        members = (
            Person.tags.through.objects.filter(tag_id__in=tag_ids)
            .exclude(person__household=None)
            .values("person__household_id")
        )
        return base.filter(Q(pk__in=own) | Q(pk__in=members))
    return base.none()


def _grid_workers(grid_ids: Iterable[int]) -> dict[int, list[int]]:
    """The grid workers of each grid: a target's default assignees."""
    from minqing.accounts.models import RoleAssignment

    out: dict[int, list[int]] = defaultdict(list)
    for node_id, user_id in (
        RoleAssignment.objects.filter(
            role=Role.GRID_WORKER, node_id__in=list(grid_ids), user__is_active=True
        )
        .order_by("user_id")
        .values_list("node_id", "user_id")
    ):
        if user_id not in out[node_id]:
            out[node_id].append(user_id)
    return out


_TARGET_COLUMNS = (
    "campaign_id", "household_id", "grid_id", "source", "visit_id", "visited_at", "added_at"
)  # fmt: skip


def _targets_add(campaign: Campaign, household_ids: Iterable[int], *, source: str, now) -> int:
    """Put households on the list (those not on it yet), each assigned to its grid's workers.

    Written by core.bulk's inserter with ids taken up front (COPY / many-row INSERTs, no model
    instances, the assignee links without reading the targets back): a county-wide campaign's
    116 762 targets took 7.7 s through bulk_create, in the launching request."""
    existing = set(campaign.targets.values_list("household_id", flat=True))
    wanted = [pk for pk in dict.fromkeys(household_ids) if pk not in existing]
    added = 0
    targets = Inserter(CampaignTarget, _TARGET_COLUMNS, with_ids=True)
    links = Inserter(
        CampaignTarget.assignees.through, ("campaigntarget_id", "user_id"), with_ids=False
    )
    for i in range(0, len(wanted), BATCH):
        chunk = wanted[i : i + BATCH]
        rows = list(Household.objects.filter(pk__in=chunk).values_list("pk", "grid_id"))
        ids = targets.allocate_ids(len(rows))
        targets.insert(
            (t_pk, *targets.prepare((campaign.pk, pk, grid_id, source, None, None, now)))
            for t_pk, (pk, grid_id) in zip(ids, rows, strict=True)
        )
        workers = _grid_workers({g for _pk, g in rows})
        links.insert(
            (t_pk, u)
            for t_pk, (_pk, grid_id) in zip(ids, rows, strict=True)
            for u in dict.fromkeys(workers.get(grid_id, ()))
        )
        added += len(rows)
    return added


def _campaign_targets_sync(campaign: Campaign, household_ids: Iterable[int] | None = None) -> int:
    """Close the open targets whose household was already visited within the window (visits
    recorded before the household was on the list). The campaign's own visit wins, then the
    earliest. Returns the number of targets closed."""
    first, after = _day_bounds(campaign)
    undone = campaign.targets.filter(visit__isnull=True)
    if household_ids is not None:
        undone = undone.filter(household_id__in=list(household_ids))
    ids = list(undone.values_list("household_id", flat=True))
    best: dict[int, tuple] = {}
    for i in range(0, len(ids), BATCH):
        for hid, vid, at, cid in (
            Visit.objects.filter(
                household_id__in=ids[i : i + BATCH], visited_at__gte=first, visited_at__lt=after
            )
            .values_list("household_id", "pk", "visited_at", "campaign_id")
            .iterator(chunk_size=BATCH)
        ):
            key = (cid != campaign.pk, at, vid)
            if hid not in best or key < best[hid][0]:
                best[hid] = (key, vid, at)
    changed = []
    for t in campaign.targets.filter(visit__isnull=True, household_id__in=list(best)).iterator():
        _key, t.visit_id, t.visited_at = best[t.household_id]
        changed.append(t)
    CampaignTarget.objects.bulk_update(changed, ["visit", "visited_at"], batch_size=BATCH)
    return len(changed)


def _numbers(raw) -> list[str]:
    if isinstance(raw, list | tuple):
        raw = " ".join(str(x) for x in raw)
    text = str(raw or "")
    for sep in ",，、;；\n\r\t":
        text = text.replace(sep, " ")
    return list(dict.fromkeys(w for w in text.split() if w))


def _households_by_number(acting_user, campaign: Campaign, raw) -> list[int]:
    """Household ids for the numbers typed, each in the campaign's coverage and the actor's scope."""
    numbers = _numbers(raw)
    if len(numbers) > MAX_ADD_NUMBERS:
        raise ValidationError({"households": ERR_CAMPAIGN_TOO_MANY.format(n=MAX_ADD_NUMBERS)})
    found = dict(
        scope_queryset(acting_user, Household.objects.filter(_coverage_q(campaign.node)))
        .filter(number__in=[n[:30] for n in numbers])
        .values_list("number", "pk")
    )
    missing = [n for n in numbers if n not in found]
    if missing:
        shown = "、".join(m[:30] for m in missing[:10]) + ("等" if len(missing) > 10 else "")
        raise ValidationError({"households": ERR_CAMPAIGN_NUMBERS.format(numbers=shown)})
    return [found[n] for n in numbers]


def campaign_clean(*, acting_user, data: dict, today: dt.date | None = None) -> dict:
    """Validate the fields of a campaign (create, or edit while a draft). `today`: the day it
    is made (a campaign's window must reach it, and start within a year of it)."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    out: dict = {}
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 60:
        errors["name"] = ERR_CAMPAIGN_NAME
    out["name"] = name
    kind = data.get("kind") or ""
    if kind not in CampaignKind.values:
        errors["kind"] = ERR_CAMPAIGN_KIND
    out["kind"] = kind
    node = data.get("node")
    if (
        not isinstance(node, Node)
        or node.level > Level.GRID
        or not visible_nodes(acting_user).filter(pk=node.pk).exists()
    ):
        errors["node"] = ERR_CAMPAIGN_NODE
    out["node"] = node
    start, end = data.get("start"), data.get("end")
    if not isinstance(start, dt.date) or not isinstance(end, dt.date) or end < start:
        errors["end"] = ERR_CAMPAIGN_DATES
    elif (end - start).days >= MAX_CAMPAIGN_DAYS:
        errors["end"] = ERR_CAMPAIGN_SPAN
    elif end < today:
        # 1990: launched, its list made, and no visit could ever count for it.
        errors["end"] = ERR_CAMPAIGN_PAST
    elif start > today + dt.timedelta(days=MAX_CAMPAIGN_DAYS):
        errors["start"] = ERR_CAMPAIGN_FAR
    out["start"], out["end"] = start, end
    rule = data.get("rule") or ""
    if rule not in TargetRule.values:
        errors["rule"] = ERR_CAMPAIGN_RULE
    out["rule"] = rule
    tags = list(data.get("tags") or [])
    if rule == TargetRule.TAGS and not tags:
        errors["tags"] = ERR_CAMPAIGN_TAGS
    out["tags"] = tags if rule == TargetRule.TAGS else []
    out["description"] = _text(data, "description", 1000, errors)
    out["households"] = data.get("households") or ""
    if errors:
        raise ValidationError(errors)
    return out


def _campaign_audit(acting_user, campaign: Campaign, action, changes: dict, request, reason=""):
    audit_log(
        actor=acting_user,
        action=action,
        obj=campaign,
        changes=changes,
        reason=reason,
        request=request,
        node=campaign.node,
    )


def _campaign_words(campaign: Campaign) -> dict:
    return {
        "name": [None, campaign.name],
        "kind": [None, source(CampaignKind(campaign.kind).label)],
        "node": [None, str(campaign.node)],
        "window": [None, f"{campaign.start:%Y-%m-%d} – {campaign.end:%Y-%m-%d}"],
        "rule": [None, source(TargetRule(campaign.rule).label)],
        "tags": [None, "、".join(t.name for t in campaign.tags.all())],
    }


@transaction.atomic
def campaign_check(
    *, acting_user, data: dict, today: dt.date | None = None
) -> tuple[dict, list[int]]:
    """A new campaign's fields and the households typed by number, checked together (nothing
    written): every error at once — a wrong 户号 is not hidden behind wrong dates."""
    errors: dict = {}
    clean: dict = {}
    try:
        clean = campaign_clean(acting_user=acting_user, data=data, today=today)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    node, raw = data.get("node"), data.get("households") or ""
    ids: list[int] = []
    if "node" not in errors and isinstance(node, Node) and "households" not in errors:
        try:
            if _numbers(raw):
                ids = _households_by_number(acting_user, Campaign(node=node), raw)
            elif data.get("rule") == TargetRule.MANUAL:
                errors["households"] = [ERR_CAMPAIGN_MANUAL]
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return clean, ids


def campaign_create(*, acting_user, data: dict, request=None, now=None) -> Campaign:
    """A new campaign, as a draft. Households typed by number are put on its list at once."""
    if not can_create_campaign(acting_user):
        raise PermissionDenied(ERR_CAMPAIGN_NOT_ALLOWED)
    now = now or timezone.now()
    clean, ids = campaign_check(acting_user=acting_user, data=data, today=timezone.localdate(now))
    campaign = Campaign(
        name=clean["name"],
        kind=clean["kind"],
        node=clean["node"],
        start=clean["start"],
        end=clean["end"],
        rule=clean["rule"],
        description=clean["description"],
        created_by=acting_user,
        created_at=now,
    )
    campaign.save()
    campaign.tags.set(clean["tags"])
    if ids:
        _targets_add(campaign, ids, source=TargetSource.MANUAL, now=now)
    changes = _campaign_words(campaign)
    if ids:
        changes["targets"] = [None, len(ids)]
    _campaign_audit(acting_user, campaign, AuditAction.CREATE, changes, request)
    return campaign


def _locked_campaign(campaign: Campaign) -> Campaign:
    return (
        Campaign.objects.select_for_update(of=("self",)).select_related("node").get(pk=campaign.pk)
    )


def _require_manager(acting_user, campaign: Campaign) -> None:
    if not can_manage_campaign(acting_user, campaign):
        raise PermissionDenied(ERR_CAMPAIGN_MANAGE)


@transaction.atomic
def campaign_update(*, acting_user, campaign: Campaign, data: dict, request=None) -> Campaign:
    """Edit a draft (after launch the list is a snapshot of its rule: see campaign_rebuild)."""
    campaign = _locked_campaign(campaign)
    _require_manager(acting_user, campaign)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError({"__all__": ERR_CAMPAIGN_EDIT})
    old = _campaign_words(campaign)
    clean = campaign_clean(acting_user=acting_user, data=data)
    if clean["rule"] == TargetRule.MANUAL and not campaign.targets.exists():
        if not _numbers(clean["households"]):
            raise ValidationError({"households": ERR_CAMPAIGN_MANUAL})
    for f in ("name", "kind", "node", "start", "end", "rule", "description"):
        setattr(campaign, f, clean[f])
    ids = []
    if _numbers(clean["households"]):
        ids = _households_by_number(acting_user, campaign, clean["households"])
    campaign.save()
    campaign.tags.set(clean["tags"])
    # Hand-picked households outside a new coverage leave the list.
    campaign.targets.exclude(
        household__in=Household.objects.filter(_coverage_q(campaign.node))
    ).delete()
    if ids:
        _targets_add(campaign, ids, source=TargetSource.MANUAL, now=timezone.now())
    new = _campaign_words(campaign)
    changes = {k: [old[k][1], v[1]] for k, v in new.items() if old[k][1] != v[1]}
    if ids:
        changes["targets"] = [None, f"+{len(ids)}"]
    _campaign_audit(acting_user, campaign, AuditAction.UPDATE, changes, request)
    return campaign


@transaction.atomic
def campaign_delete(*, acting_user, campaign: Campaign, request=None) -> None:
    """Delete a draft made by mistake, with its hand-picked households. A launched campaign
    has a list and visits counted against it: it is closed, never deleted. The audit entry
    keeps what the draft was."""
    campaign = _locked_campaign(campaign)
    _require_manager(acting_user, campaign)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError({"__all__": ERR_CAMPAIGN_DELETE})
    words = _campaign_words(campaign)
    words["targets"] = [None, campaign.targets.count()]
    _campaign_audit(
        acting_user,
        campaign,
        AuditAction.DELETE,
        {k: [v[1], None] for k, v in words.items()},
        request,
    )
    campaign.delete()


@transaction.atomic
def campaign_act(
    *, acting_user, campaign: Campaign, action: str, note: str = "", request=None, now=None
) -> Campaign:
    """Launch (草稿 → 进行中: build the list) or close (进行中 → 已结束) a campaign.

    Anything the table does not allow raises ValidationError and writes nothing."""
    transition = CAMPAIGN_TRANSITIONS.get(action)
    if transition is None:
        raise ValidationError({"__all__": ERR_CAMPAIGN_ACTION})
    campaign = _locked_campaign(campaign)
    _require_manager(acting_user, campaign)
    if campaign.status not in transition.sources:
        raise ValidationError(
            {
                "__all__": ERR_CAMPAIGN_TRANSITION.format(
                    status=CampaignStatus(campaign.status).label, action=transition.label
                )
            }
        )
    note = str(note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": ERR_TOO_LONG.format(n=200)})
    now = now or timezone.now()
    if action == "launch" and campaign.end < timezone.localdate(now):
        # A draft left until its window was over: launched, no visit could count for it.
        raise ValidationError({"__all__": ERR_CAMPAIGN_PAST})
    old = campaign.status
    changes: dict = {}
    if action == "launch":
        ids = list(campaign_rule_households(campaign).values_list("pk", flat=True))
        added = _targets_add(campaign, ids, source=TargetSource.RULE, now=now)
        campaign.launched_at = now
        changes["targets"] = [None, campaign.targets.count()]
        changes["rule_targets"] = [None, added]
    else:
        campaign.closed_at = now
        campaign.closed_by = acting_user
        campaign.close_note = note
    # Visits recorded before the household was on the list, or while nobody synced (imports).
    _campaign_targets_sync(campaign)
    campaign.status = transition.target
    campaign.save(update_fields=["status", "launched_at", "closed_at", "closed_by", "close_note"])
    if action == "close":
        done = campaign.targets.filter(visit__isnull=False).count()
        changes["done"] = [None, f"{done}/{campaign.targets.count()}"]
    changes["status"] = [
        source(CampaignStatus(old).label),
        source(CampaignStatus(campaign.status).label),
    ]
    _campaign_audit(acting_user, campaign, AuditAction.UPDATE, changes, request, reason=note)
    return campaign


@transaction.atomic
def campaign_rebuild(*, acting_user, campaign: Campaign, request=None, now=None) -> dict:
    """Rebuild an open campaign's list from its rule: add the new matches, drop the rule
    targets that no longer match and were not visited. Hand-added households stay."""
    campaign = _locked_campaign(campaign)
    _require_manager(acting_user, campaign)
    if campaign.status != CampaignStatus.OPEN:
        raise ValidationError({"__all__": ERR_CAMPAIGN_NOT_OPEN})
    now = now or timezone.now()
    matches = campaign_rule_households(campaign)
    stale = campaign.targets.filter(source=TargetSource.RULE, visit__isnull=True).exclude(
        household__in=matches
    )
    removed = stale.count()
    stale.delete()
    added = _targets_add(
        campaign, matches.values_list("pk", flat=True), source=TargetSource.RULE, now=now
    )
    _campaign_targets_sync(campaign)
    _campaign_audit(
        acting_user,
        campaign,
        AuditAction.UPDATE,
        {"targets": [None, f"+{added} −{removed}"]},
        request,
        reason="重新生成走访名单",
    )
    return {"added": added, "removed": removed}


def can_add_to_campaign(user, campaign: Campaign) -> bool:
    """Who may put households on a draft or open list: whoever may assign its targets (its
    managers, and the offices for their own part of a larger campaign: the households must
    be in their scope, see _households_by_number)."""
    return can_assign_campaign(user, campaign)


@transaction.atomic
def campaign_add_households(*, acting_user, campaign: Campaign, numbers, request=None) -> int:
    """Add households by number to a draft or open campaign (each in its coverage and the
    actor's scope). Households already on the list are left as they are (0 added)."""
    campaign = _locked_campaign(campaign)
    if campaign.status == CampaignStatus.CLOSED:
        _require_manager(acting_user, campaign)
        raise ValidationError({"__all__": ERR_CAMPAIGN_CLOSED})
    if not can_add_to_campaign(acting_user, campaign):
        raise PermissionDenied(ERR_ADD_NOT_ALLOWED)
    ids = _households_by_number(acting_user, campaign, numbers)
    if not ids:
        raise ValidationError({"households": ERR_CAMPAIGN_MANUAL})
    added = _targets_add(campaign, ids, source=TargetSource.MANUAL, now=timezone.now())
    if not added:
        return 0  # all already on the list: a second click changes nothing, audits nothing
    if campaign.status == CampaignStatus.OPEN:
        _campaign_targets_sync(campaign, ids)
    _campaign_audit(
        acting_user, campaign, AuditAction.UPDATE, {"targets": [None, f"+{added}"]}, request
    )
    return added


def _date_of(raw) -> dt.date | None:
    """A date, or 'YYYY-MM-DD' as typed or sent; anything else None (never an exception)."""
    if isinstance(raw, dt.datetime):
        return None
    if isinstance(raw, dt.date):
        return raw
    text = str(raw or "").strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    if not (text[:4] + text[5:7] + text[8:]).isascii() or not text.replace("-", "").isdigit():
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@transaction.atomic
def campaign_extend(
    *, acting_user, campaign: Campaign, ends_on, note: str = "", request=None, now=None
) -> Campaign:
    """Move a draft or open campaign's end date later (延长活动期限): after a sudden event or
    over a holiday more days are often needed. Not earlier than today, not before the start,
    not beyond a year in all; a closed campaign stays closed (a new campaign is the way on).

    Visits already recorded between the old and the new end tick their targets at once: they
    lie in the window now, exactly as if the window had been this long from the start."""
    campaign = _locked_campaign(campaign)
    _require_manager(acting_user, campaign)
    if campaign.status == CampaignStatus.CLOSED:
        raise ValidationError({"__all__": ERR_EXTEND_CLOSED})
    now = now or timezone.now()
    today = timezone.localdate(now)
    day = _date_of(ends_on)
    if day is None or day >= dt.date.max - dt.timedelta(days=1):
        raise ValidationError({"ends_on": ERR_EXTEND_DATE})
    if day < campaign.start:
        raise ValidationError({"ends_on": ERR_EXTEND_BEFORE_START.format(start=campaign.start)})
    if day <= campaign.end:
        raise ValidationError({"ends_on": ERR_EXTEND_NOT_LATER.format(end=campaign.end)})
    if day < today:
        raise ValidationError({"ends_on": ERR_EXTEND_PAST})
    if (day - campaign.start).days >= MAX_CAMPAIGN_DAYS:
        raise ValidationError({"ends_on": ERR_CAMPAIGN_SPAN})
    note = str(note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": ERR_TOO_LONG.format(n=200)})
    old = campaign.end
    campaign.end = day
    campaign.save(update_fields=["end"])
    changes: dict = {"end": [f"{old:%Y-%m-%d}", f"{day:%Y-%m-%d}"]}
    if campaign.status == CampaignStatus.OPEN:
        ticked = _campaign_targets_sync(campaign)
        if ticked:
            changes["done"] = [None, f"+{ticked}"]
    _campaign_audit(
        acting_user,
        campaign,
        AuditAction.UPDATE,
        changes,
        request,
        reason=note or gettext_noop("延长活动期限"),
    )
    return campaign


def household_campaigns(user, household: Household) -> dict:
    """The household page's 走访活动 panel. `targets`: the campaigns (that the user sees) it
    is on, newest first, each with whether it was visited; `addable`: the draft or open ones
    covering it, not listing it yet, that the user may add it to (see can_add_to_campaign)."""
    from minqing.visits.selectors import campaigns_for

    if not getattr(user, "is_authenticated", False):
        return {"targets": [], "addable": []}
    visible = campaigns_for(user)
    targets = list(
        CampaignTarget.objects.filter(household=household, campaign__in=visible.values("pk"))
        .select_related("campaign")
        .order_by("-campaign__start", "-campaign_id")[:20]
    )
    addable: list[Campaign] = []
    if has_role(user, CAMPAIGN_ROLES) and (
        scope_queryset(user, Household.objects.filter(pk=household.pk)).exists()
    ):
        place = household.building or household.grid
        addable = [
            c
            for c in visible.filter(
                status__in=[CampaignStatus.DRAFT, CampaignStatus.OPEN],
                node__path__in=place.ancestor_paths(),
            )
            .exclude(pk__in=CampaignTarget.objects.filter(household=household).values("campaign"))
            .order_by("end", "pk")[:20]
            if can_add_to_campaign(user, c)
        ]
    return {"targets": targets, "addable": addable}


@transaction.atomic
def campaign_assign(
    *, acting_user, campaign: Campaign, target_ids: Iterable[int], users, request=None
) -> int:
    """Give the chosen targets (those the actor sees) to these team members, replacing the
    assignees they had. Each user must be on the team of each target's grid."""
    campaign = _locked_campaign(campaign)
    if not can_assign_campaign(acting_user, campaign):
        raise PermissionDenied(ERR_ASSIGN_NOT_ALLOWED)
    users = list(users or [])
    from minqing.visits.selectors import campaign_targets_for

    targets = list(
        campaign_targets_for(acting_user, campaign)
        .filter(pk__in=[int(t) for t in target_ids or []])
        .select_related("grid")
    )
    errors = {}
    if not targets:
        errors["targets"] = ERR_ASSIGN_TARGETS
    if not users:
        errors["users"] = ERR_ASSIGN_USERS
    if errors:
        raise ValidationError(errors)
    wrong: set[str] = set()
    for grid in {t.grid for t in targets}:
        allowed = set(
            grid_team_users(grid).filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True)
        )
        wrong.update(str(u) for u in users if u.pk not in allowed)
    if wrong:
        raise ValidationError({"users": ERR_ASSIGNEE.format(names="、".join(sorted(wrong)))})
    through = CampaignTarget.assignees.through
    through.objects.filter(campaigntarget_id__in=[t.pk for t in targets]).delete()
    through.objects.bulk_create(
        [through(campaigntarget_id=t.pk, user_id=u.pk) for t in targets for u in users],
        batch_size=BATCH,
    )
    _campaign_audit(
        acting_user,
        campaign,
        AuditAction.UPDATE,
        # Words apart from numbers: the history reads them in the reader's language.
        {
            "assignees": [None, "、".join(str(u) for u in users)],
            "assigned": [None, len(targets)],
        },
        request,
    )
    return len(targets)


@dataclass
class TargetsHandedOver:
    moved: int = 0  # targets now the successor's
    skipped: list = field(default_factory=list)  # (campaign name, grid name, why)


def hand_over_targets(*, acting_user, holder, successor, request=None) -> TargetsHandedOver:
    """人员交接 for visits: the unvisited targets of open campaigns given to `holder` that
    `acting_user` may assign go to `successor` instead; others given the same household keep it.
    A grid whose team the successor is not on is reported and left as it was."""
    from minqing.visits.selectors import campaign_targets_for

    done = TargetsHandedOver()
    campaigns = Campaign.objects.filter(
        status=CampaignStatus.OPEN,
        pk__in=CampaignTarget.objects.filter(assignees=holder, visit__isnull=True).values(
            "campaign_id"
        ),
    ).order_by("end", "pk")
    through = CampaignTarget.assignees.through
    for campaign in campaigns:
        with transaction.atomic():
            campaign = _locked_campaign(campaign)
            if not can_assign_campaign(acting_user, campaign):
                continue
            targets = list(
                campaign_targets_for(acting_user, campaign)
                .filter(assignees=holder, visit__isnull=True)
                .select_related("grid")
            )
            moving = []
            for grid in sorted({t.grid for t in targets}, key=lambda g: g.path):
                here = [t.pk for t in targets if t.grid_id == grid.pk]
                if grid_team_users(grid).filter(pk=successor.pk).exists():
                    moving += here
                else:
                    why = ERR_ASSIGNEE.format(names=str(successor))
                    done.skipped.append((campaign.name, grid.name, why))
            if not moving:
                continue
            through.objects.filter(campaigntarget_id__in=moving, user_id=holder.pk).delete()
            through.objects.bulk_create(
                [through(campaigntarget_id=pk, user_id=successor.pk) for pk in moving],
                batch_size=BATCH,
                ignore_conflicts=True,  # already given to the successor too
            )
            _campaign_audit(
                acting_user,
                campaign,
                AuditAction.UPDATE,
                {"assignees": [str(holder), str(successor)], "assigned": [None, len(moving)]},
                request,
                reason="人员交接",
            )
            done.moved += len(moving)
    return done
