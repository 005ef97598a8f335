"""Care groups minqing gives from what the file already says: by age (`Tag.min_age`: 高龄 at
80, from the birth date) and by disability (`Tag.by_disability`: 残疾, from 残疾等级).

Enter once: nobody should tick 高龄 for a resident whose ID number already says they are 85,
nobody remembers to tick it on their eightieth birthday, and a ledger's 残疾等级 二级 is the
残疾 group's own definition (持残疾证人员). A person saved through the registry services gets
the groups at once; an import gives them to its rows; the nightly `refresh_visit_due` gives
them to everyone who has come of age since (and to anyone whose grade reached the database
another way), with an audit entry each, and moves their homes' visit schedules as a tag given
on the page does. A group is only ever added: nobody grows younger, and one given it by hand
keeps what the office decided.
"""

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minqing.core.models import AuditAction, AuditEntry
from minqing.registry.models import Person, Tag, TagTarget

BATCH = 2000
REASON = "年满{age}周岁，自动列入{tag}"
REASON_DISABILITY = "登记了残疾等级，自动列入{tag}"


def born_by(today: dt.date, years: int) -> dt.date:
    """The latest birth date of someone `years` old (周岁) on `today`; one born on 29 February
    comes of age on 28 February of a common year."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return dt.date(today.year - years, 2, 28)


def given_groups() -> list[Tag]:
    """The groups minqing gives (by age or by disability): one query."""
    return list(
        Tag.objects.filter(target=TagTarget.PERSON).filter(
            Q(min_age__isnull=False) | Q(by_disability=True)
        )
    )


def _reaches(person, tag: Tag, today: dt.date) -> bool:
    if tag.by_disability and (person.disability_grade or 0) > 0:
        return True
    return (
        tag.min_age is not None
        and person.birth_date is not None
        and person.birth_date <= born_by(today, tag.min_age)
    )


def add_given(person: Person, *, today: dt.date | None = None) -> list[str]:
    """Give a saved person the groups their birth date or disability grade reaches and they
    lack; their names."""
    today = today or timezone.localdate()
    groups = [t for t in given_groups() if _reaches(person, t, today)]
    if not groups:
        return []
    have = set(person.tags.values_list("pk", flat=True))
    new = [t for t in groups if t.pk not in have]
    if new:
        person.tags.add(*new)
    return [t.name for t in new]


def give_due(*, today: dt.date | None = None, person_ids=None) -> int:
    """Everyone (or these people) of a group's age, or with a disability grade for a group
    given by it, without the group gets it: one audit entry each (the system's, with the
    reason), and their homes' schedules moved. Returns how many were given a group.
    Idempotent: a second run finds nobody."""
    from minqing.visits.services import household_states_write

    today = today or timezone.localdate()
    given = 0
    homes: set[int] = set()
    wanted = None if person_ids is None else sorted(set(person_ids))
    rules = []  # (group, who reaches it, the reason said): one per way a group is given
    for tag in given_groups():
        if tag.min_age is not None:
            rules.append(
                (
                    tag,
                    Q(birth_date__lte=born_by(today, tag.min_age)),
                    REASON.format(age=tag.min_age, tag=tag.name),
                )
            )
        if tag.by_disability:
            rules.append((tag, Q(disability_grade__gt=0), REASON_DISABILITY.format(tag=tag.name)))
    for tag, reaches, reason in rules:
        due = Person.objects.filter(reaches).exclude(tags=tag)
        fields = ("pk", "name", "household_id", "grid_id")
        if wanted is None:
            rows = list(due.order_by("pk").values_list(*fields))
        else:  # in chunks: an import's 100 000 ids are more than SQLite takes in one IN
            rows = []
            for start in range(0, len(wanted), BATCH):
                chunk_ids = wanted[start : start + BATCH]
                rows += due.filter(pk__in=chunk_ids).order_by("pk").values_list(*fields)
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            ids = [r[0] for r in chunk]
            had: dict[int, list[str]] = defaultdict(list)
            for pid, name in Person.tags.through.objects.filter(person_id__in=ids).values_list(
                "person_id", "tag__name"
            ):
                had[pid].append(name)
            with transaction.atomic():
                Person.tags.through.objects.bulk_create(
                    [Person.tags.through(person_id=pid, tag_id=tag.pk) for pid in ids],
                    ignore_conflicts=True,
                )
                AuditEntry.objects.bulk_create(
                    [
                        AuditEntry(
                            actor=None,
                            action=AuditAction.UPDATE,
                            model="registry.person",
                            object_id=str(pid),
                            object_repr=name[:200],
                            changes={"tags": [sorted(had[pid]), sorted([*had[pid], tag.name])]},
                            reason=reason,
                            node_id=grid_id,
                        )
                        for pid, name, _home, grid_id in chunk
                    ]
                )
            homes.update(r[2] for r in chunk if r[2] is not None)
            given += len(chunk)
    if homes:
        with transaction.atomic():
            household_states_write(homes)
    return given
