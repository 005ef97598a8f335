"""Writes to the resident files. Each function validates, scopes, writes and audits in one transaction.

Errors are Django ValidationErrors keyed by field, with messages the UI, the API and the tests
share: Chinese source text, lazily translated into the request's language.
"""

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import can_edit_registry, can_reveal, scope_queryset, visible_nodes
from minqing.core.audit import audit_log, diff, snapshot
from minqing.core.forms import PermissionDenied  # noqa: F401  (re-exported: services raise it)
from minqing.core.i18n import source
from minqing.core.idnumber import IdNumberError, parse_id_number
from minqing.core.idnumber import normalise as normalise_id
from minqing.core.models import AuditAction, AuditEntry
from minqing.core.pasted import plain
from minqing.core.phone import ERR_PHONE, is_valid_phone, normalise_phone
from minqing.core.pinyin import pinyin_keys
from minqing.grids.models import CODE_LENGTH, Level, Node
from minqing.registry import given_tags
from minqing.registry.identity import filing_key, id_last4_digest, id_number_hash, id_number_q
from minqing.registry.models import (
    Household,
    Organisation,
    Person,
    Place,
    Relation,
    household_short_name,
)
from minqing.registry.moves import records_moved

ERR_REQUIRED = _("此项必填。")
ERR_NOT_ALLOWED = _("您没有修改民情档案的权限。")
ERR_GRID_SCOPE = _("该网格不存在或不在您的管辖范围内。")
ERR_GRID_LEVEL = _("请选择网格一级的节点。")
ERR_BUILDING = _("楼栋须属于所选网格。")
ERR_HOUSEHOLD_SCOPE = _("该家庭不存在或不在您的管辖范围内。")
ERR_DUPLICATE_VISIBLE = _(
    "该身份证号已登记为“{name}”（{grid}），请打开已有档案修改，不要重复建档。"
)
ERR_DUPLICATE_HIDDEN = _("该身份证号已在其他网格登记，请联系社区核实后迁入，不要重复建档。")
# A home, not a building: above this a typing slip is likelier (the API schema says the same).
MAX_FLOOR_AREA = 10000
ERR_FLOOR_AREA = _("住房面积应在 0 至 10000 平方米之间。")
ERR_NEED_STATUS = _("请选择待解决或已解决。")
ERR_BIRTH_FUTURE = _("出生日期不能晚于今天。")
ERR_BIRTH_TOO_OLD = _("出生日期早于 1880 年，请检查。")
ERR_BIRTH_MISMATCH = _("出生日期与身份证号不一致（身份证号对应 {expected}）。")
ERR_SEX_MISMATCH = _("性别与身份证号不一致（身份证号对应 {expected}）。")
ERR_TWO_HEADS = _("该家庭已有户主“{name}”。")
ERR_REVEAL_DENIED = _("您没有查看明文的权限。")
ERR_REVEAL_FIELD = _("只能查看身份证号或电话。")
ERR_REVEAL_REASON = _("请填写查看事由（至少两个字）。")
ERR_REVEAL_LIMIT = _(
    "一小时内已查看明文 {n} 次，已达上限：请稍后再试；确有批量需要，请联系系统管理员。"
)
ERR_CHOICE = _("“{value}”不是可选的值。")
MOVED_WITH_HOUSEHOLD = "随家庭户“{address}”迁至新网格"  # an audit reason: Chinese, as stored
ERR_ID_CLEARED = _("已登记的身份证号不能清空：如需更正，请填写完整的新号码。")
ERR_HAS_MEMBERS = _("该家庭还有成员，请先迁出或删除成员。")
ERR_MEMBER_GRID = _("家庭成员随家庭所在网格：请修改家庭的网格，或把此人迁入另一网格的家庭。")
ERR_HAS_HELP_RECORDS = _(
    "{name}是{what}的对象，删除会抹去这些记录和已出报表中的数字，不能删除。"
    "已去世或迁出的，请在结对或联系页面结束（注明原因），记录会保留。"
)


def _require_editor(user) -> None:
    if not can_edit_registry(user):
        raise PermissionDenied(ERR_NOT_ALLOWED)


def _check_choices(model, data: dict, errors: dict, instance=None) -> None:
    """Fields with choices hold one of them: a form's select offers nothing else, but the API
    and the services take any text (an API client wrote "NaN" as employment, which the edit
    form could not show or save again). A value the record already holds is let be: a bad one
    stored before must not block an edit of another field."""
    for f in model._meta.fields:
        if not f.choices or f.name not in data or f.name in errors:
            continue
        value = data[f.name]
        if instance is not None and getattr(instance, f.attname) == value:
            continue
        if value in (None, "") and f.blank:
            continue
        if value not in {key for key, _label in f.flatchoices}:
            errors[f.name] = ERR_CHOICE.format(value=str(value)[:20])


def _check_grid(user, grid: Node | None, errors: dict, field: str = "grid") -> None:
    if grid is None:
        errors[field] = ERR_REQUIRED
    elif grid.level != Level.GRID:
        errors[field] = ERR_GRID_LEVEL
    elif not visible_nodes(user).filter(pk=grid.pk).exists():
        errors[field] = ERR_GRID_SCOPE


# ---------------------------------------------------------------- people


def person_clean(*, acting_user, data: dict, instance: Person | None = None) -> dict:
    """Validate and normalise person data; derive birth date and sex from the ID number."""
    data = dict(data)
    errors: dict[str, str] = {}
    data["name"] = plain(str(data.get("name") or ""))  # 张\u200b三 pasted from a chat is 张三
    if not data["name"]:
        errors["name"] = ERR_REQUIRED

    household = data.get("household")
    if household is not None:
        if (
            not scope_queryset(acting_user, Household.objects.all())
            .filter(pk=household.pk)
            .exists()
        ):
            errors["household"] = ERR_HOUSEHOLD_SCOPE
        else:
            # A member lives in the household's grid. Another grid asked for (not the one the
            # person is in) is refused, not dropped: an API PATCH of grid_code answered 200 and
            # left the grid as it was (QA).
            asked = data.get("grid")
            kept = instance.grid_id if instance is not None else None
            if asked is not None and asked.pk not in (household.grid_id, kept):
                errors["grid"] = ERR_MEMBER_GRID
            data["grid"] = household.grid
    _check_grid(acting_user, data.get("grid"), errors)

    raw_id = (data.get("id_number") or "").strip()
    if raw_id:
        try:
            parsed = parse_id_number(raw_id)
        except IdNumberError as exc:
            errors["id_number"] = str(exc)
        else:
            data["id_number"] = parsed.number
            data["id_legacy"] = parsed.legacy
            given_birth, given_sex = data.get("birth_date"), data.get("sex")
            if given_birth and given_birth != parsed.birth_date:
                errors["birth_date"] = ERR_BIRTH_MISMATCH.format(
                    expected=parsed.birth_date.isoformat()
                )
            if given_sex and given_sex != parsed.sex:
                errors["sex"] = ERR_SEX_MISMATCH.format(
                    expected="男" if parsed.sex == "M" else "女"
                )
            data["birth_date"], data["sex"] = parsed.birth_date, parsed.sex
            existing = Person.objects.filter(id_number_q(parsed.number))
            if instance is not None:
                existing = existing.exclude(pk=instance.pk)
            if instance is not None and normalise_id(instance.id_number or "") == parsed.number:
                # The number the record has: accepted when filed (a pair of records under an
                # old number and its 18 digits, from before registry 0011, stays editable).
                existing = existing.none()
            other = existing.select_related("grid").first()
            if other is not None:
                visible = scope_queryset(acting_user, Person.objects.filter(pk=other.pk)).exists()
                errors["id_number"] = (
                    ERR_DUPLICATE_VISIBLE.format(name=other.name, grid=other.grid.name)
                    if visible
                    else ERR_DUPLICATE_HIDDEN
                )
    elif instance is not None and instance.id_number:
        # Emptied, the masked digits would show as the birth date in clear (a record without
        # a number shows its date): a number is corrected by a new one, never wiped.
        errors["id_number"] = ERR_ID_CLEARED
    else:
        data["id_number"] = None
        data["id_legacy"] = False
        # Typed by hand (no ID number to take it from): the same bounds as an ID's date.
        birth = data.get("birth_date")
        if isinstance(birth, dt.date) and birth > timezone.localdate():
            errors["birth_date"] = ERR_BIRTH_FUTURE
        elif isinstance(birth, dt.date) and birth.year < 1880:
            errors["birth_date"] = ERR_BIRTH_TOO_OLD

    phone = normalise_phone(data.get("phone") or "")
    if phone and not is_valid_phone(phone):
        errors["phone"] = ERR_PHONE
    data["phone"] = phone

    if (
        household is not None
        and data.get("relation") == Relation.HEAD
        and "household" not in errors
    ):
        head = household.members.filter(relation=Relation.HEAD)
        if instance is not None:
            head = head.exclude(pk=instance.pk)
        head = head.first()
        if head is not None:
            errors["relation"] = ERR_TWO_HEADS.format(name=head.name)
    _check_choices(Person, data, errors, instance)
    if errors:
        raise ValidationError(errors)
    return data


def person_derive_keys(person: Person) -> None:
    """Set the keys minqing derives and nobody types: pinyin, initials, last-4 digits, ID hash."""
    key = id_number_hash(person.id_number)
    pk, stored = person.__dict__.get("id"), person.__dict__.get("id_number_hash")
    if pk and key is not None and key != stored:
        # On file under another key: maybe the old-number record of a pair from before
        # registry 0011, whose 18-digit key is its twin's (identity.filing_key decides).
        key = filing_key(person.id_number, pk)
    person.id_number_hash = key
    person.name_pinyin, person.name_initials = pinyin_keys(person.name)
    person.id_last4_digest = id_last4_digest(person.id_number)
    person.phone_last4 = (person.phone or "")[-4:] if len(person.phone or "") >= 4 else ""


def _household_refresh(household: Household | None) -> None:
    """Keep the household's head name and member count in step with its members."""
    if household is None:
        return
    members = household.members.all()
    head = members.filter(relation=Relation.HEAD).first()
    household.head_name = head.name if head else ""
    household.member_count = members.count()
    household.save(update_fields=["head_name", "member_count", "updated_at"])
    _household_schedule_refresh(household)


def _household_schedule_refresh(household: Household) -> None:
    """Enter once, use everywhere: a tag or grid change moves the household's visit schedule."""
    from minqing.visits.services import household_visit_state_refresh

    household_visit_state_refresh(household=household)


PERSON_FIELDS = [f for f in Person.AUDITED_FIELDS] + ["id_legacy"]


@transaction.atomic
def person_create(*, acting_user, data: dict, request=None) -> Person:
    _require_editor(acting_user)
    data = person_clean(acting_user=acting_user, data=data)
    tags = data.pop("tags", None)
    person = Person(created_by=acting_user, **{k: v for k, v in data.items() if k in PERSON_FIELDS})
    person_derive_keys(person)
    person.save()
    if tags is not None:
        person.tags.set(tags)
    reached = given_tags.add_given(person)  # 高龄 from the birth date, 残疾 from the grade
    _household_refresh(person.household)
    new = snapshot(person, Person.AUDITED_FIELDS, masked=Person.MASKED)
    if tags or reached:
        new["tags"] = sorted({t.name for t in tags or []} | set(reached))
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=person,
        changes={k: [None, v] for k, v in new.items() if v not in (None, "", False)},
        request=request,
        node=person.grid,
    )
    return person


@transaction.atomic
def person_update(*, acting_user, person: Person, data: dict, request=None) -> Person:
    _require_editor(acting_user)
    # Lock the row: two workers saving the same file at once must not lose either audit entry.
    person = Person.objects.select_for_update().get(pk=person.pk)
    old = snapshot(person, Person.AUDITED_FIELDS, masked=Person.MASKED)
    old_tags = sorted(person.tags.values_list("name", flat=True))
    old_household, old_grid_id = person.household, person.grid_id
    merged = {f: getattr(person, f) for f in Person.AUDITED_FIELDS}
    if data.get("id_number"):
        # A corrected number brings its own birth date and sex; only values given with it
        # are checked against it, not the ones the old number gave.
        merged.pop("birth_date")
        merged.pop("sex")
    merged.update(data)
    merged = person_clean(acting_user=acting_user, data=merged, instance=person)
    tags = merged.pop("tags", None)
    for k, v in merged.items():
        if k in PERSON_FIELDS:
            setattr(person, k, v)
    person_derive_keys(person)
    person.save()
    changes = diff(old, snapshot(person, Person.AUDITED_FIELDS, masked=Person.MASKED))
    if tags is not None:
        person.tags.set(tags)
    reached = given_tags.add_given(person)  # a corrected birth date may reach 高龄
    if tags is not None or reached:
        new_tags = sorted({t.name for t in tags} if tags is not None else set(old_tags))
        new_tags = sorted(set(new_tags) | set(reached))
        if new_tags != old_tags:
            changes["tags"] = [old_tags, new_tags]
    if old_household != person.household:
        _household_refresh(old_household)
    _household_refresh(person.household)
    if person.grid_id != old_grid_id:
        records_moved(people=[person.pk])
    if changes:
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=person,
            changes=changes,
            request=request,
            node=person.grid,
        )
    return person


def _help_records(**target) -> str:
    """What a deletion would erase with the record (its pairings and contact-duty links, which
    past month reports count), named for the refusal; "" when nothing."""
    from minqing.assistance.models import Pairing
    from minqing.duties.models import DutyLink

    what = []
    if Pairing.objects.filter(**target).exists():
        what.append(pgettext("what a record is the target of", "结对帮扶"))
    if set(target) <= {"person", "household"} and DutyLink.objects.filter(**target).exists():
        what.append(pgettext("what a record is the target of", "干部联系"))
    return gettext("、").join(what)


@transaction.atomic
def person_delete(*, acting_user, person: Person, request=None) -> None:
    _require_editor(acting_user)
    # A pairing's help log and money, and a cadre's contacts, went with the person (on_delete
    # CASCADE): a closed month's 帮扶月报 lost a pairing and its sum without a word (QA).
    what = _help_records(person=person)
    if what:
        raise ValidationError({"person": ERR_HAS_HELP_RECORDS.format(name=person.name, what=what)})
    old = snapshot(person, Person.AUDITED_FIELDS, masked=Person.MASKED)
    household, grid = person.household, person.grid
    audit_log(
        actor=acting_user,
        action=AuditAction.DELETE,
        obj=person,
        changes={k: [v, None] for k, v in old.items() if v not in (None, "", False)},
        request=request,
        node=grid,
    )
    person.delete()
    _household_refresh(household)


# What may be revealed, per kind of record: field → its label in the audit entry.
REVEALABLE = {"id_number": "公民身份号码", "phone": "联系电话"}
REVEALABLE_BY_MODEL = {
    Person: REVEALABLE,
    Place: {"phone": "联系电话"},
    Organisation: {"phone": "联系电话"},
}


def record_reveal(*, acting_user, obj, field: str, reason: str, request=None) -> str:
    """Return one full sensitive value of a person, place or organisation, writing who looked,
    when and why."""
    if not can_reveal(acting_user):
        raise PermissionDenied(ERR_REVEAL_DENIED)
    revealable = REVEALABLE_BY_MODEL[type(obj)]
    if field not in revealable:
        raise ValidationError({"field": ERR_REVEAL_FIELD})
    # A reason, not a mark: invisible characters dropped, two letters or digits at least
    # (a zero-width space was accepted and showed as a blank reason in the audit log).
    reason = plain(str(reason or ""))
    if sum(ch.isalnum() for ch in reason) < 2:
        raise ValidationError({"reason": ERR_REVEAL_REASON})
    # Looked up one by one, a grid's 300 numbers took 7 seconds: a reveal is for a case in
    # hand, so an hour holds settings.REVEAL_LIMIT_PER_HOUR of them per user.
    limit = settings.REVEAL_LIMIT_PER_HOUR
    since = timezone.now() - dt.timedelta(hours=1)
    made = AuditEntry.objects.filter(
        actor=acting_user, action=AuditAction.REVEAL, at__gte=since
    ).count()
    if made >= limit:
        raise PermissionDenied(ERR_REVEAL_LIMIT.format(n=limit))
    audit_log(
        actor=acting_user,
        action=AuditAction.REVEAL,
        obj=obj,
        changes={"field": [revealable[field], None]},
        reason=reason,
        request=request,
        node=obj.grid,
    )
    return getattr(obj, field) or ""


# ---------------------------------------------------------------- households


def household_clean(*, acting_user, data: dict, instance: Household | None = None) -> dict:
    data = dict(data)
    errors: dict[str, str] = {}
    data["address"] = (data.get("address") or "").strip()
    if not data["address"]:
        errors["address"] = ERR_REQUIRED
    grid = data.get("grid")
    _check_grid(acting_user, grid, errors)
    building = data.get("building")
    if building is not None and (grid is None or building.parent_id != grid.pk):
        errors["building"] = ERR_BUILDING
    area = data.get("floor_area")
    if area is not None and not (0 <= area <= MAX_FLOOR_AREA):
        errors["floor_area"] = ERR_FLOOR_AREA
    _check_choices(Household, data, errors, instance)
    if errors:
        raise ValidationError(errors)
    return data


def last_household_seq(grid_code: str) -> int:
    """The highest sequence among the numbers minqing gave in a grid ("<grid code>-0001" …).

    Numbers a ledger brought in are kept under the community's code (ledger_household_number),
    so they never end up here; any other number under the grid's code is skipped, not parsed.
    """
    pattern = re.compile(rf"^{re.escape(grid_code)}-(\d+)$")
    taken = Household.objects.filter(number__startswith=grid_code + "-").values_list(
        "number", flat=True
    )
    return max((int(m[1]) for n in taken if (m := pattern.match(n))), default=0)


def _next_household_number(grid: Node) -> str:
    # Lock the grid row so two servers numbering households in the same grid cannot collide.
    Node.objects.select_for_update().filter(pk=grid.pk).first()
    return f"{grid.code}-{last_household_seq(grid.code) + 1:04d}"


def ledger_household_number(grid_code: str, number: str) -> str:
    """The number minqing keeps for a household a ledger gives a 户号.

    Offices number households within their own community (1, 2, 3 … or 001 …), so the same
    户号 recurs across a county: it is kept under the community's code ("<community code>-001"),
    which the grid's code begins with. A number minqing gave (what an export carries: a grid
    code of that community, "-", a sequence) is kept as it is.
    """
    community = grid_code[: CODE_LENGTH[Level.COMMUNITY]]
    if number.startswith(community):
        return number
    return f"{community}-{household_number_digits(number)}"


def household_number_digits(number: str) -> str:
    """A 户号 of digits as minqing keeps it: 3 digits at least, so "5", "05" and "005" (Excel
    drops the zeros of a number cell) are one household. Anything else is kept as written."""
    if number.isascii() and number.isdigit() and len(number) <= 17:
        return f"{int(number):03d}"
    return number


def household_number_variants(kept: str) -> list[str]:
    """The other forms an earlier import may have kept a numeric 户号 under ("<c>-5" for
    "<c>-005"), to find that household again rather than file a second one."""
    community, _, number = kept.rpartition("-")
    if not community or not (number.isascii() and number.isdigit()):
        return []
    n = int(number)
    forms = {str(n), *(f"{n:0{w}d}" for w in (2, 3, 4, 5, 6))}
    return sorted(f"{community}-{f}" for f in forms if f"{community}-{f}" != kept)


HOUSEHOLD_FIELDS = Household.AUDITED_FIELDS


@transaction.atomic
def household_create(*, acting_user, data: dict, request=None) -> Household:
    _require_editor(acting_user)
    data = household_clean(acting_user=acting_user, data=data)
    tags = data.pop("tags", None)
    fields = {k: v for k, v in data.items() if k in HOUSEHOLD_FIELDS and k != "number"}
    household = Household(
        created_by=acting_user, number=_next_household_number(data["grid"]), **fields
    )
    household.save()
    if tags:
        household.tags.set(tags)
    _household_schedule_refresh(household)
    new = snapshot(household, HOUSEHOLD_FIELDS)
    audit_log(
        actor=acting_user,
        action=AuditAction.CREATE,
        obj=household,
        changes={k: [None, v] for k, v in new.items() if v not in (None, "")},
        request=request,
        node=household.grid,
    )
    return household


@transaction.atomic
def household_update(*, acting_user, household: Household, data: dict, request=None) -> Household:
    _require_editor(acting_user)
    household = Household.objects.select_for_update().get(pk=household.pk)
    old = snapshot(household, HOUSEHOLD_FIELDS)
    old_tags = sorted(household.tags.values_list("name", flat=True))
    merged = {f: getattr(household, f) for f in HOUSEHOLD_FIELDS}
    merged.update(data)
    merged = household_clean(acting_user=acting_user, data=merged, instance=household)
    tags = merged.pop("tags", None)
    grid_changed = merged["grid"] != household.grid
    old_grid_node = household.grid
    for k, v in merged.items():
        if k in HOUSEHOLD_FIELDS and k != "number":
            setattr(household, k, v)
    household.save()
    if grid_changed:  # members move with their household, each with its history entry
        old_grid = snapshot(Household(grid=old_grid_node), ["grid"])["grid"]
        new_grid = snapshot(household, ["grid"])["grid"]
        members = list(household.members.all())
        household.members.update(grid=household.grid)
        for member in members:
            audit_log(
                actor=acting_user,
                action=AuditAction.UPDATE,
                obj=member,
                changes={"grid": [old_grid, new_grid]},
                reason=MOVED_WITH_HOUSEHOLD.format(address=household.address),
                request=request,
                node=household.grid,
            )
    changes = diff(old, snapshot(household, HOUSEHOLD_FIELDS))
    if tags is not None:
        household.tags.set(tags)
        new_tags = sorted(t.name for t in tags)
        if new_tags != old_tags:
            changes["tags"] = [old_tags, new_tags]
    if "tags" in changes or grid_changed:
        _household_schedule_refresh(household)
    if grid_changed:
        records_moved(households=[household.pk])
    if changes:
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=household,
            changes=changes,
            request=request,
            node=household.grid,
        )
    return household


@transaction.atomic
def household_delete(*, acting_user, household: Household, request=None) -> None:
    _require_editor(acting_user)
    if household.members.exists():
        raise ValidationError({"household": ERR_HAS_MEMBERS})
    what = _help_records(household=household)
    if what:
        name = household_short_name(household.head_name) if household.head_name else ""
        name = name or household.address  # an emptied household has no head to name it by
        raise ValidationError({"household": ERR_HAS_HELP_RECORDS.format(name=name, what=what)})
    old = snapshot(household, HOUSEHOLD_FIELDS)
    audit_log(
        actor=acting_user,
        action=AuditAction.DELETE,
        obj=household,
        changes={k: [v, None] for k, v in old.items() if v not in (None, "")},
        request=request,
        node=household.grid,
    )
    household.delete()


# ---------------------------------------------------------------- places and organisations


def simple_record_clean(*, acting_user, data: dict, model=None, instance=None) -> dict:
    data = dict(data)
    errors: dict[str, str] = {}
    for required in ("name", "kind"):
        data[required] = (data.get(required) or "").strip()
        if not data[required]:
            errors[required] = ERR_REQUIRED
    _check_grid(acting_user, data.get("grid"), errors)
    phone = normalise_phone(data.get("phone") or "")
    if phone and not is_valid_phone(phone):
        errors["phone"] = ERR_PHONE
    data["phone"] = phone
    if model is not None:
        _check_choices(model, data, errors, instance)
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def simple_record_save(
    *, acting_user, model: type[Place] | type[Organisation], data: dict, instance=None, request=None
):
    """Create or update a place or an organisation (same shape, same rules)."""
    _require_editor(acting_user)
    if instance is not None:
        instance = model.objects.select_for_update().get(pk=instance.pk)
        merged = {f: getattr(instance, f) for f in model.AUDITED_FIELDS}
        merged.update(data)
        data = merged
    data = simple_record_clean(acting_user=acting_user, data=data, model=model, instance=instance)
    fields = {k: v for k, v in data.items() if k in model.AUDITED_FIELDS}
    if instance is None:
        obj = model.objects.create(created_by=acting_user, **fields)
        new = snapshot(obj, model.AUDITED_FIELDS, masked=model.MASKED)
        audit_log(
            actor=acting_user,
            action=AuditAction.CREATE,
            obj=obj,
            changes={k: [None, v] for k, v in new.items() if v not in (None, "")},
            request=request,
            node=obj.grid,
        )
        return obj
    old = snapshot(instance, model.AUDITED_FIELDS, masked=model.MASKED)
    old_grid_id = instance.grid_id
    for k, v in fields.items():
        setattr(instance, k, v)
    instance.save()
    if instance.grid_id != old_grid_id:
        moved = "places" if model is Place else "organisations"
        records_moved(**{moved: [instance.pk]})
    changes = diff(old, snapshot(instance, model.AUDITED_FIELDS, masked=model.MASKED))
    if changes:
        audit_log(
            actor=acting_user,
            action=AuditAction.UPDATE,
            obj=instance,
            changes=changes,
            request=request,
            node=instance.grid,
        )
    return instance


@transaction.atomic
def simple_record_delete(*, acting_user, obj, request=None) -> None:
    _require_editor(acting_user)
    # A school's or a unit's pairing and its help log went with it, as a person's did.
    target = "place" if isinstance(obj, Place) else "organisation"
    what = _help_records(**{target: obj})
    if what:
        raise ValidationError({"name": ERR_HAS_HELP_RECORDS.format(name=obj.name, what=what)})
    old = snapshot(obj, obj.AUDITED_FIELDS, masked=obj.MASKED)
    audit_log(
        actor=acting_user,
        action=AuditAction.DELETE,
        obj=obj,
        changes={k: [v, None] for k, v in old.items() if v not in (None, "")},
        request=request,
        node=obj.grid,
    )
    obj.delete()


# ---------------------------------------------------------------- needs and resources


@transaction.atomic
def household_need_status(*, acting_user, need, status: str, request=None):
    """A need met (已解决), or opened again: seen on a visit, or after help was given."""
    from minqing.registry.models import NeedKind, NeedStatus

    _require_editor(acting_user)
    if status not in NeedStatus.values:
        raise ValidationError({"status": ERR_NEED_STATUS})
    if need.status == status:
        return need
    before = need.get_status_display()
    need.status = status
    need.save(update_fields=["status"])
    label = f"{source(NeedKind(need.kind).label)}：{need.category}：{need.description}"
    audit_log(
        actor=acting_user,
        action=AuditAction.UPDATE,
        obj=need.household,
        changes={label: [source(before), source(need.get_status_display())]},
        request=request,
        node=need.household.grid,
    )
    return need


@transaction.atomic
def household_need_add(
    *, acting_user, household: Household, kind: str, category: str, description: str, request=None
):
    from minqing.registry.models import HouseholdNeed, NeedKind

    _require_editor(acting_user)
    errors = {}
    if kind not in NeedKind.values:
        errors["kind"] = _("请选择需求或资源。")
    if not category.strip():
        errors["category"] = ERR_REQUIRED
    if not description.strip():
        errors["description"] = ERR_REQUIRED
    if errors:
        raise ValidationError(errors)
    need = HouseholdNeed.objects.create(
        household=household,
        kind=kind,
        category=category.strip()[:30],
        description=description.strip()[:300],
        created_by=acting_user,
    )
    audit_log(
        actor=acting_user,
        action=AuditAction.UPDATE,
        obj=household,
        changes={source(NeedKind(need.kind).label): [None, f"{need.category}：{need.description}"]},
        request=request,
        node=household.grid,
    )
    return need
