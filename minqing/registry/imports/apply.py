"""Writing a validated plan: bulk inserts and updates in batches, one audit entry per record.

The caller holds the transaction (see imports.service): either every row of the file is written
with its audit entries, or nothing is. Values in audit entries are masked the way
registry.services masks them (Person.MASKED), so the log never holds a full ID number.

New records (the bulk of a first import) go through core.bulk.Inserter in a second thread
(bulk.Pipeline) while this thread prepares the next batch: values, audit entries, and derived
keys and ciphertext (for large files computed by worker processes while the file was read,
see derive.py).
Records that already exist are updated through the ORM (bulk_update), as are the few rows whose
insert may meet a concurrent one (category links of existing records: ignore_conflicts).
"""

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from minqing.core.audit import client_ip
from minqing.core.bulk import Inserter, defaults, instance
from minqing.core.masking import mask_id_number, mask_phone
from minqing.core.models import AuditAction, AuditEntry
from minqing.grids.models import Node
from minqing.registry.imports.bulk import Pipeline
from minqing.registry.imports.derive import derived_fields
from minqing.registry.imports.validate import Plan, chunked
from minqing.registry.models import Household, Person, Relation, Tag, TagTarget
from minqing.registry.moves import records_moved
from minqing.registry.services import last_household_seq, person_derive_keys

BATCH = 2000
AUDIT_FIELDS = [
    "at",
    "actor_id",
    "action",
    "model",
    "object_id",
    "object_repr",
    "changes",
    "reason",
    "ip",
    "node_id",
]


def apply_plan(plan: Plan, *, acting_user, reason: str, request=None) -> dict:
    """Write everything the plan describes; returns the counts written."""
    assert plan.ok, "a plan with errors is never applied"
    w = _Writer(plan, acting_user, reason, request)
    w.create_tags()
    new_households = [g for g in plan.households if g.existing is None]
    new_people = [p for p in plan.people if p.existing is None]
    for g in plan.households:
        g.obj = g.existing  # new ones get theirs in prepare_households
    w.prepare_households(new_households)
    person_ids = w.person_inserter.allocate_ids(len(new_people))
    # From here until the pipeline closes only the pipeline's thread touches the database.
    with Pipeline() as pipe:
        w.insert_households(pipe, new_households)
        # While the households go in: the derived keys that worker processes computed as the
        # file was read (large files only; this thread takes over what they have not begun).
        w.derived = (
            plan.deriver.results(needed=lambda p: p.existing is None and not p.bad)
            if plan.deriver is not None
            else {}
        )
        for start in range(0, len(new_people), BATCH):
            w.insert_people(
                pipe, new_people[start : start + BATCH], person_ids[start : start + BATCH]
            )
    w.update_households([g for g in plan.households if g.existing is not None])
    w.household_tags()
    w.update_people([p for p in plan.people if p.existing is not None and p.changes])
    w.refresh_households()
    # Enter once, use everywhere: what was imported is on the visit due lists at once. Only
    # the households whose schedule can have changed (a file that changes nothing costs nothing).
    from minqing.visits.services import household_states_write

    rescheduled = w.rescheduled | {
        g.obj.pk for g in plan.households if g.existing is None or g.changes or g.new_tags
    }
    rescheduled |= {p.group.obj.pk for p in new_people if p.group is not None}
    household_states_write(rescheduled)
    records_moved(households=w.moved_households, people=w.moved_people)
    # 高龄 from the birth dates the file gave, 残疾 from its grades (registry.given_tags).
    from minqing.registry import given_tags

    # Only the rows old enough for a group, or with a grade, are asked about (a few in a hundred).
    groups = given_tags.given_groups()
    if groups:
        ages = [t.min_age for t in groups if t.min_age is not None]
        latest = max(given_tags.born_by(timezone.localdate(), a) for a in ages) if ages else None
        graded = any(t.by_disability for t in groups)

        def asked(p) -> bool:
            return (latest is not None and _born_by(p, latest)) or (
                graded and (p.disability_grade or 0) > 0
            )

        ids = [pk for p, pk in zip(new_people, person_ids, strict=True) if asked(p)]
        ids += [
            p.existing.pk for p in plan.people if p.existing is not None and p.changes and asked(p)
        ]
        given_tags.give_due(person_ids=ids)
    return dict(plan.counts)


def _born_by(row, day) -> bool:
    birth = row.birth_date
    return isinstance(birth, dt.date) and birth <= day


class _Writer:
    def __init__(self, plan: Plan, acting_user, reason: str, request):
        self.plan = plan
        self.actor_id = getattr(acting_user, "pk", None)
        self.reason = reason[:200]
        self.ip = client_ip(request)
        self.now = timezone.now()
        self.new_tags: dict[str, Tag] = {}
        self.tag_names = {pk: t.name for pk, t in plan.tags.items()}
        self.touched_households: set[int] = set()
        # Households whose visit schedule may change: a member changed, moved in or out.
        self.rescheduled: set[int] = set()
        # Households and people given another grid: what is placed by them follows (moves.py).
        self.moved_households: set[int] = set()
        self.moved_people: set[int] = set()
        self.audits = Inserter(AuditEntry, AUDIT_FIELDS, with_ids=False)
        self.derived: dict[int, tuple] = {}

        self.person_base = defaults(Person)
        self.person_base.update(
            created_by_id=self.actor_id, created_at=self.now, updated_at=self.now
        )
        self.person_fields = list(self.person_base)
        self.person_inserter = Inserter(Person, self.person_fields, with_ids=True)
        self.person_tags = Inserter(Person.tags.through, ["person_id", "tag_id"], with_ids=False)

        self.household_base = defaults(Household)
        self.household_base.update(
            created_by_id=self.actor_id, created_at=self.now, updated_at=self.now
        )
        self.household_fields = list(self.household_base)
        self.household_inserter = Inserter(Household, self.household_fields, with_ids=True)

    def audit(self, model: str, obj_id, obj_repr: str, changes: dict, node_id) -> list:
        """One audit entry, as a prepared row for self.audits."""
        return self.audits.prepare(
            (
                self.now,
                self.actor_id,
                AuditAction.IMPORT,
                model,
                str(obj_id),
                obj_repr[:200],
                changes,
                self.reason,
                self.ip,
                node_id,
            )
        )

    def tag_pk(self, ref) -> int:
        return self.new_tags[ref].pk if isinstance(ref, str) else ref

    def tag_name(self, ref) -> str:
        return ref if isinstance(ref, str) else self.tag_names[ref]

    # ------------------------------------------------------------ categories

    def create_tags(self) -> None:
        names = sorted(self.plan.new_tag_names)
        if not names:
            return
        top = Tag.objects.order_by("-sort").values_list("sort", flat=True).first() or 0
        for i, name in enumerate(names, start=1):
            tag = Tag.objects.create(name=name, target=TagTarget.PERSON, sort=top + i)
            self.new_tags[name] = tag
            self.tag_names[tag.pk] = name
        self.audits.insert(
            self.audit("registry.tag", t.pk, t.name, {"name": [None, t.name]}, None)
            for t in self.new_tags.values()
        )

    # ------------------------------------------------------------ households

    def prepare_households(self, groups) -> None:
        """Numbers and ids for new households (queries: done before the pipeline starts)."""
        numbers = self._numbers([g for g in groups if not g.number])
        ids = self.household_inserter.allocate_ids(len(groups))
        for g, pk in zip(groups, ids, strict=True):
            values = dict(
                self.household_base,
                id=pk,
                number=g.number or numbers[id(g)],
                address=g.address,
                grid_id=g.grid_id,
                head_name=g.head_name,
                member_count=len(g.rows),
            )
            g.obj = instance(Household, values)
            g.obj._state.adding = False

    def _numbers(self, groups) -> dict[int, str]:
        """Household numbers for new households, "<grid code>-0001" onwards in each grid."""
        if not groups:
            return {}
        grid_ids = sorted({g.grid_id for g in groups})
        # Lock the grid rows, as services._next_household_number does, so two imports (or an
        # import and a worker adding a household) cannot hand out the same number.
        grids = {n.pk: n for n in Node.objects.select_for_update().filter(pk__in=grid_ids)}
        out, seq = {}, {}
        for gid in grid_ids:
            seq[gid] = last_household_seq(grids[gid].code)
        for g in groups:
            seq[g.grid_id] += 1
            out[id(g)] = f"{grids[g.grid_id].code}-{seq[g.grid_id]:04d}"
        return out

    def insert_households(self, pipe: Pipeline, groups) -> None:
        grids = self.plan.grids
        inserter, fields = self.household_inserter, self.household_fields
        for start in range(0, len(groups), BATCH):
            rows, entries = [], []
            for g in groups[start : start + BATCH]:
                h = g.obj
                values = h.__dict__
                rows.append([h.pk, *inserter.prepare([values[f] for f in fields])])
                changes = {
                    "number": [None, h.number],
                    "address": [None, h.address],
                    "grid": [None, grids[g.grid_id].name],
                }
                if g.new_tags:
                    changes["tags"] = [None, sorted(self.tag_name(t) for t in g.new_tags)]
                entries.append(
                    self.audit("registry.household", h.pk, g.label(), changes, g.grid_id)
                )
            # The first 50 000 households without waiting for the writer (memory stays bounded):
            # this thread goes on to take its share of deriving keys meanwhile.
            wait = start >= 25 * BATCH
            pipe.put(inserter, rows, wait=wait)
            pipe.put(self.audits, entries, wait=wait)

    def update_households(self, groups) -> None:
        changed, entries = [], []
        wanted = [g.existing.pk for g in groups if g.changes]
        households: dict[int, Household] = {}
        for chunk in chunked(wanted):
            households.update(Household.objects.in_bulk(chunk))
        for g in groups:
            self.touched_households.add(g.existing.pk)
            if not g.changes:
                continue
            h = households[g.existing.pk]
            if "address" in g.changes:
                h.address = g.address
            if "grid" in g.changes:
                h.grid_id = g.grid_id
                self.moved_households.add(h.pk)
            if "address" in g.changes or "grid" in g.changes:
                h.updated_at = self.now
                changed.append(h)
            entries.append(self.audit("registry.household", h.pk, g.label(), g.changes, h.grid_id))
        if changed:
            Household.objects.bulk_update(
                changed, ["address", "grid", "updated_at"], batch_size=BATCH
            )
        for g in self.plan.moved_households:
            self.moved_households.add(g.obj.pk)
            # Members not named in the file move with their household (as household_update does).
            Person.objects.filter(household_id=g.obj.pk).exclude(grid_id=g.grid_id).update(
                grid_id=g.grid_id
            )
        self.audits.insert(entries)

    def household_tags(self) -> None:
        through = Household.tags.through
        links = [
            through(household_id=g.obj.pk, tag_id=self.tag_pk(t))
            for g in self.plan.households
            for t in g.new_tags
        ]
        # A household that exists may have gained the category meanwhile: ignore_conflicts.
        through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)

    # ------------------------------------------------------------ people

    def insert_people(self, pipe: Pipeline, rows, ids) -> None:
        grids = self.plan.grids
        base, fields, inserter = self.person_base, self.person_fields, self.person_inserter
        prepared, entries, links = [], [], []
        for p, pk in zip(rows, ids, strict=True):
            g = p.group
            values = dict(
                base,
                name=p.name,
                id_number=p.id_number,
                id_legacy=p.legacy,
                birth_date=p.birth_date,
                sex=p.sex,
                phone=p.phone,
                household_id=g.obj.pk if g is not None else None,
                relation=p.relation,
                employment=p.employment,
                party_member=bool(p.party),
                grid_id=p.grid_id,
                note=p.note,
            )
            if p.ethnicity:
                values["ethnicity"] = p.ethnicity
            if p.health:
                values["health"] = p.health
            if p.disability_grade:
                values["disability_grade"] = p.disability_grade
            if p.registered_address:
                values["registered_address"] = p.registered_address
            derived = self.derived.pop(id(p), None)  # pop: the memory goes as rows are written
            if derived is not None:
                # person_derive_keys ran in a worker, which also encrypted the two numbers.
                keys, sealed_id, sealed_phone = derived
                values.update(zip(derived_fields(), keys, strict=True))
                values["id_number"], values["phone"] = sealed_id, sealed_phone
            else:
                obj = instance(Person, values)
                person_derive_keys(obj)
                values = obj.__dict__
            prepared.append([pk, *inserter.prepare([values[f] for f in fields])])
            for t in p.new_tags:
                links.append((pk, self.tag_pk(t)))

            # What core.audit.snapshot would record for this person, masked alike.
            shown = {
                "name": p.name,
                "id_number": mask_id_number(p.id_number),
                "birth_date": Person.MASKED["birth_date"](p.birth_date, Person(pk=pk)) or None,
                "sex": p.sex,
                "phone": mask_phone(p.phone),
                "ethnicity": values["ethnicity"],
                "household": g.label() if g is not None else None,
                "relation": p.relation,
                "employment": p.employment,
                "health": values["health"],
                "disability_grade": values.get("disability_grade") or None,
                "party_member": values["party_member"],
                "grid": grids[p.grid_id].name,
                "note": p.note,
            }
            changes = {k: [None, v] for k, v in shown.items() if v not in (None, "", False)}
            if p.new_tags:
                changes["tags"] = [None, sorted(self.tag_name(t) for t in p.new_tags)]
            entries.append(self.audit("registry.person", pk, p.name, changes, p.grid_id))
        pipe.put(inserter, prepared)
        pipe.put(self.person_tags, links)
        pipe.put(self.audits, entries)

    def update_people(self, rows) -> None:
        if not rows:
            return
        fields: set[str] = set()
        objs, entries = [], []
        # The plan holds values; the rows to change are read again here, inside the transaction.
        people: dict[int, Person] = {}
        for chunk in chunked([p.existing.pk for p in rows]):
            people.update(Person.objects.in_bulk(chunk))
        for p in rows:
            person = people[p.existing.pk]
            if person.household_id:
                self.touched_households.add(person.household_id)
                self.rescheduled.add(person.household_id)
            own = [k for k in p.changes if k != "tags"]
            for key in own:
                if key == "grid":
                    person.grid_id = p.grid_id
                    self.moved_people.add(person.pk)
                elif key == "household":
                    person.household_id = p.group.obj.pk
                elif key == "party_member":
                    person.party_member = bool(p.party)
                elif key == "id_number":  # the 18-digit number of one filed under 15
                    person.id_number, person.id_legacy = p.id_number, False
                    fields.add("id_legacy")
                else:
                    setattr(person, key, getattr(p, key))
                fields.add(key)
            if person.household_id:
                self.touched_households.add(person.household_id)
                self.rescheduled.add(person.household_id)
            if own:
                person.updated_at = self.now
                person_derive_keys(person)
                objs.append(person)
            changes = p.changes
            if changes:
                entries.append(
                    self.audit("registry.person", person.pk, person.name, changes, person.grid_id)
                )
        if objs:
            Person.objects.bulk_update(
                objs, [*sorted(fields), *derived_fields(), "updated_at"], batch_size=500
            )
        through = Person.tags.through
        links = [
            through(person_id=p.existing.pk, tag_id=self.tag_pk(t))
            for p in rows
            for t in p.new_tags
        ]
        through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
        self.audits.insert(entries)

    # ------------------------------------------------------------ head names and member counts

    def refresh_households(self) -> None:
        """What services._household_refresh does, for every existing household the import
        touched (new households were written with their head and member count)."""
        ids = sorted(self.touched_households)
        if not ids:
            return
        heads: dict[int, str] = {}
        counts: dict[int, int] = defaultdict(int)
        for chunk in chunked(ids):
            for hid, relation, name in (
                Person.objects.filter(household__any_of=chunk)
                .order_by("id")
                .values_list("household_id", "relation", "name")
            ):
                counts[hid] += 1
                if relation == Relation.HEAD and hid not in heads:
                    heads[hid] = name
        changed = []  # compared as values: a re-import that changes nothing loads no households
        for chunk in chunked(ids):
            for pk, head_name, member_count in Household.objects.filter(
                pk__any_of=chunk
            ).values_list("pk", "head_name", "member_count"):
                head, count = heads.get(pk, ""), counts.get(pk, 0)
                if (head_name, member_count) != (head, count):
                    changed.append(
                        Household(pk=pk, head_name=head, member_count=count, updated_at=self.now)
                    )
        if changed:
            Household.objects.bulk_update(
                changed, ["head_name", "member_count", "updated_at"], batch_size=BATCH
            )
