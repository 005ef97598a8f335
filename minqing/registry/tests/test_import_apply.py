"""What a confirmed import writes: people, households, categories, audit entries, the batch;
all or nothing; and nothing at all the second time."""

import datetime

import pytest

from conftest import valid_id
from minqing.core import bulk
from minqing.core.idnumber import make_id_number
from minqing.core.models import AuditAction, AuditEntry, ImportBatch, ImportStatus
from minqing.core.phone import ERR_PHONE
from minqing.registry import services
from minqing.registry.identity import id_last4_digest, id_number_hash, id_number_q
from minqing.registry.imports import apply
from minqing.registry.models import Household, Person
from minqing.registry.tests.test_import_support import (
    GRID_A,
    HEADERS,
    person_row,
    reasons,
    run,
    xlsx,
)

FAMILY = [
    person_row(1, "王建国", phone="13812345678", tags="残疾、低保"),
    person_row(2, "李秀英", head="王建国", relation="妻子", male=False),
    person_row(3, "王小明", head="王建国", relation="儿子", address=""),
    person_row(4, "赵六", address="人民路9号", note="独居"),
]


def snapshot_db():
    return (
        sorted(Person.objects.values_list("id", "name", "phone", "household_id", "updated_at")),
        sorted(Household.objects.values_list("id", "number", "head_name", "member_count")),
        AuditEntry.objects.exclude(model="core.importbatch").count(),
    )


def test_people_households_and_categories_are_written(grid_a_worker, tree):
    plan = run(grid_a_worker, xlsx(HEADERS, FAMILY))
    assert plan.ok, reasons(plan)
    assert {k: plan.counts[k] for k in ("new_people", "new_households", "updated_people")} == {
        "new_people": 4,
        "new_households": 2,
        "updated_people": 0,
    }
    wang = Person.objects.get(id_number_q(valid_id(1)))
    assert (wang.name, wang.relation, wang.phone, wang.grid, wang.created_by) == (
        "王建国",
        "head",
        "13812345678",
        tree["grid_a"],
        grid_a_worker,
    )
    # Derived keys, as services set them: pinyin, initials, last four digits, ID hash.
    assert "wangjianguo" in wang.name_pinyin and wang.phone_last4 == "5678"
    assert wang.id_last4_digest == id_last4_digest(valid_id(1))
    household = wang.household
    assert household.number == f"{GRID_A}-0001"
    assert (household.head_name, household.member_count, household.address) == (
        "王建国",
        3,
        "人民路8号",
    )
    assert sorted(household.members.values_list("relation", flat=True)) == [
        "child",
        "head",
        "spouse",
    ]
    assert [t.name for t in household.tags.all()] == ["低保"]
    assert [t.name for t in wang.tags.all()] == ["残疾"]
    zhao = Person.objects.get(name="赵六")
    assert zhao.household.number == f"{GRID_A}-0002" and zhao.note == "独居"
    # Stored encrypted, found by hash, read back in plain text.
    assert Person.objects.filter(id_number_q(valid_id(4))).get() == zhao


def test_each_record_gets_an_import_entry_with_masked_values(client, grid_a_worker, tree):
    run(grid_a_worker, xlsx(HEADERS, FAMILY), name="东门台账.xlsx")
    batch = ImportBatch.objects.get()
    assert (batch.user, batch.file_name, batch.status, batch.source) == (
        grid_a_worker,
        "东门台账.xlsx",
        ImportStatus.APPLIED,
        "cli",
    )
    assert batch.counts["new_people"] == 4 and len(batch.sha256) == 64 and not bytes(batch.content)
    wang = Person.objects.get(name="王建国")
    entry = AuditEntry.objects.get(model="registry.person", object_id=str(wang.pk))
    assert (entry.action, entry.actor, entry.node) == (AuditAction.IMPORT, grid_a_worker, wang.grid)
    assert f"批次 {batch.pk}" in entry.reason and "东门台账.xlsx" in entry.reason
    assert entry.changes["id_number"] == [None, wang.id_masked]
    assert entry.changes["phone"] == [None, "138****5678"]
    assert entry.changes["household"] == [None, str(wang.household)]
    assert entry.changes["tags"] == [None, ["残疾"]]
    assert AuditEntry.objects.filter(model="registry.household", action="import").count() == 2
    body = " ".join(str(e.changes) for e in AuditEntry.objects.all())
    assert wang.id_number not in body and "13812345678" not in body

    # The person's page lists the import in its history.
    client.force_login(grid_a_worker)
    page = client.get(f"/people/{wang.pk}/").content.decode()
    assert "导入" in page and "东门台账.xlsx" in page and wang.id_number not in page


def test_importing_the_same_file_again_changes_nothing(grid_a_worker, tree):
    data = xlsx(HEADERS, FAMILY)
    run(grid_a_worker, data)
    before = snapshot_db()
    plan = run(grid_a_worker, data)
    assert plan.ok, reasons(plan)
    assert plan.counts["unchanged_people"] == 4
    assert plan.counts["new_people"] == plan.counts["updated_people"] == 0
    assert plan.counts["new_households"] == plan.counts["updated_households"] == 0
    assert snapshot_db() == before
    assert ImportBatch.objects.count() == 2  # each import is recorded, even one that did nothing


def test_a_changed_row_updates_only_what_changed_and_lists_it(grid_a_worker, tree):
    run(grid_a_worker, xlsx(HEADERS, FAMILY))
    wang = Person.objects.get(name="王建国")
    changed = [list(r) for r in FAMILY]
    changed[0][9] = "13900001111"  # new phone
    changed[0][11] = "残疾、高龄"  # one more category
    changed[3][12] = ""  # an empty cell never clears what is on file
    plan = run(grid_a_worker, xlsx(HEADERS, changed), dry_run=True)
    assert plan.counts["updated_people"] == 1 and plan.counts["unchanged_people"] == 3
    [row] = plan.updated()
    assert row.changes == {
        "phone": ["138****5678", "139****1111"],
        "tags": [["残疾"], ["残疾", "高龄"]],
    }
    run(grid_a_worker, xlsx(HEADERS, changed))
    wang.refresh_from_db()
    assert wang.phone == "13900001111" and wang.phone_last4 == "1111"
    assert sorted(t.name for t in wang.tags.all()) == ["残疾", "高龄"]
    assert Person.objects.get(name="赵六").note == "独居"
    entry = AuditEntry.objects.filter(model="registry.person", object_id=str(wang.pk)).first()
    assert entry.changes == row.changes and entry.action == AuditAction.IMPORT


def test_a_category_held_but_not_named_in_the_file_is_listed_by_name(grid_a_worker, tree):
    # given: 王建国 imported as 残疾, then tagged 独居 on his page (not in the ledger)
    from minqing.registry.models import Tag

    run(grid_a_worker, xlsx(HEADERS, FAMILY))
    wang = Person.objects.get(name="王建国")
    wang.tags.add(Tag.objects.get(name="独居"))
    # when: the ledger comes again naming one more category for him
    changed = [list(r) for r in FAMILY]
    changed[0][11] = "残疾、高龄"
    plan = run(grid_a_worker, xlsx(HEADERS, changed), dry_run=True)
    # then: the preview names every category, the one only minqing knew included
    [row] = plan.updated()
    assert row.changes["tags"] == [["残疾", "独居"], ["残疾", "独居", "高龄"]]


def test_imported_households_are_on_the_visit_schedule_at_once(grid_a_worker, tree):
    # Enter once, use everywhere: no nightly run needed before the due lists show them.
    from minqing.visits.models import HouseholdVisitState

    def classes():
        return dict(
            HouseholdVisitState.objects.values_list("household__head_name", "visit_class__code")
        )

    # when: the ledger comes in (王建国's household is 低保, 赵六 lives alone: neither tagged 独居)
    run(grid_a_worker, xlsx(HEADERS, FAMILY))
    # then: every household has its schedule, the 低保 household the monthly must-visit class
    assert classes() == {"王建国": "key", "赵六": "general"}
    assert not HouseholdVisitState.objects.filter(next_due__isnull=True).exists()
    # and the rows, written without the ORM, are what the nightly refresh computes
    from minqing.visits.services import visit_states_refresh

    assert visit_states_refresh() == {"checked": 2, "created": 0, "updated": 0}

    # when: a later ledger tags 赵六 独居 (a must-visit category)
    changed = [list(r) for r in FAMILY]
    changed[3][11] = "独居"
    run(grid_a_worker, xlsx(HEADERS, changed))
    # then: his household moved to the monthly class with the import
    assert classes() == {"王建国": "key", "赵六": "key"}


def test_the_registered_address_is_kept_shown_exported_and_updated(client, grid_a_worker, tree):
    # given: a ledger with a 户籍地址 column (人户分离: registered elsewhere)
    import io

    import openpyxl

    headers = HEADERS + ["户籍地址"]
    rows = [FAMILY[0] + ["浙江省杭州市西湖区文三路1号"], FAMILY[3] + [""]]
    plan = run(grid_a_worker, xlsx(headers, rows))
    assert plan.ok and not [n for n in plan.notes if "户籍地址" in str(n)]
    wang = Person.objects.get(name="王建国")
    assert wang.registered_address == "浙江省杭州市西湖区文三路1号"
    # then: on his page and in the people ledger
    client.force_login(grid_a_worker)
    assert "文三路1号" in client.get(f"/people/{wang.pk}/").content.decode()
    book = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get("/people/export.xlsx").streaming_content))
    )
    cells = [[c for c in row] for row in book.active.iter_rows(values_only=True)]
    header = next(r for r in cells if r and "户籍地址" in r)
    column = header.index("户籍地址")
    assert "浙江省杭州市西湖区文三路1号" in [r[column] for r in cells if r and len(r) > column]
    # when: the next ledger has a new registered address, it is updated and audited
    rows[0][-1] = "浙江省杭州市上城区解放路2号"
    [row] = run(grid_a_worker, xlsx(headers, rows), dry_run=True).updated()
    assert row.changes == {
        "registered_address": ["浙江省杭州市西湖区文三路1号", "浙江省杭州市上城区解放路2号"]
    }


def test_a_disability_ledgers_grades_are_imported_changed_and_checked(grid_a_worker, tree):
    from minqing.registry.imports.cells import ERR_DISABILITY

    headers = HEADERS + ["残疾等级"]
    rows = [FAMILY[0] + ["二级"], FAMILY[3] + [""]]
    run(grid_a_worker, xlsx(headers, rows))
    assert dict(Person.objects.values_list("name", "disability_grade")) == {"王建国": 2, "赵六": 0}
    # the next ledger: 王建国 reassessed, and a grade that does not exist
    rows[0][-1], rows[1][-1] = "3", "五级"
    plan = run(grid_a_worker, xlsx(headers, rows), dry_run=True)
    assert [e.reason for e in plan.errors] == [str(ERR_DISABILITY)]
    rows[1][-1] = ""
    [row] = run(grid_a_worker, xlsx(headers, rows), dry_run=True).updated()
    assert row.changes == {"disability_grade": [2, 3]}
    run(grid_a_worker, xlsx(headers, rows))
    assert Person.objects.get(name="王建国").disability_grade == 3


def test_a_new_member_joins_an_existing_household(grid_a_worker, household_a, zhang_san, tree):
    # 张三 heads household A (created in the UI); the ledger adds his daughter.
    rows = [
        person_row(1, "张三", address="人民路1号1幢101室"),
        person_row(7, "张小丽", head="张三", relation="女儿", male=False, address=""),
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert plan.ok, reasons(plan)
    assert plan.counts["new_households"] == 0 and plan.counts["new_people"] == 1
    household_a.refresh_from_db()
    assert household_a.member_count == 2 and household_a.head_name == "张三"
    assert Person.objects.get(name="张小丽").household == household_a


def test_an_address_typed_in_full_width_or_with_a_space_is_one_household(grid_a_worker, tree):
    rows = [
        person_row(1, "测全角甲", address="幸福路12号3幢"),
        person_row(2, "测全角乙", head="测全角甲", relation="配偶", address="幸福路１２号３幢"),
        person_row(3, "测全角丙", head="测全角甲", relation="子女", address="幸福路12号 3幢"),
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))  # no 户号: by 户主姓名 and 现住址
    assert plan.ok, reasons(plan)
    assert plan.warnings == []  # not 户主不在本文件中, nor 地址不会保存
    household = Household.objects.get()
    assert household.member_count == 3 and household.head_name == "测全角甲"
    assert household.address == "幸福路12号3幢"
    # The address is kept as it is searched: a household typed in full width alone too.
    plan = run(grid_a_worker, xlsx(HEADERS, [person_row(4, "测全角丁", address="和平路 ８号")]))
    assert Household.objects.get(head_name="测全角丁").address == "和平路 8号"


def test_a_household_on_file_typed_in_full_width_is_found_not_made_again(grid_a_worker, tree):
    """Review: with the file's addresses normalised, a household a form had stored as
    幸福路１２号３幢 was no longer found by its head and address, and was made a second time."""
    on_file = Household.objects.create(
        number="T000001", address="幸福路１２号３幢", grid=tree["grid_a"], head_name="测全角甲"
    )
    rows = [person_row(5, "测全角戊", head="测全角甲", relation="子女", address="幸福路１２号３幢")]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert plan.ok, reasons(plan)
    assert plan.counts["new_households"] == 0
    assert Household.objects.get() == on_file
    assert Person.objects.get(name="测全角戊").household == on_file


def test_2000_rows_with_row_1999_bad_store_nothing(grid_a_worker, tree):
    rows = []
    for i in range(2000):
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=i // 400)
        number = make_id_number("330188", birth, (i % 400) * 2 + 1)
        row = person_row(1, f"居民{i}", number=f"H{i // 3:05d}", head=f"居民{i - i % 3}")
        row[3] = "户主" if i % 3 == 0 else "子女"
        row[5] = number
        rows.append(row)
    rows[1997][9] = "1381234"  # Excel row 1999: the header is row 1, data start at row 2
    data = xlsx(HEADERS, rows)
    plan = run(grid_a_worker, data)
    assert reasons(plan) == [(1999, "J", ERR_PHONE)]
    assert plan.errors[0].value == "1381234"
    assert Person.objects.count() == 0 and Household.objects.count() == 0
    assert not AuditEntry.objects.exists() and not ImportBatch.objects.exists()

    rows[1997][9] = "13812345678"
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert plan.ok and Person.objects.count() == 2000 and Household.objects.count() == 667


def test_a_failure_while_writing_leaves_nothing_behind(grid_a_worker, tree, monkeypatch):
    data = xlsx(HEADERS, FAMILY)

    def boom(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(apply._Writer, "refresh_households", boom)
    with pytest.raises(RuntimeError):
        run(grid_a_worker, data)
    assert not Person.objects.exists() and not Household.objects.exists()
    assert not AuditEntry.objects.exists() and not ImportBatch.objects.exists()


def test_a_failure_in_the_writer_thread_reaches_the_caller(grid_a_worker, tree, monkeypatch):
    original = bulk.Inserter.insert_raw

    def fail_on_people(self, dbapi, vendor, rows):
        if self.table == "registry_person":
            raise RuntimeError("constraint")
        return original(self, dbapi, vendor, rows)

    monkeypatch.setattr(bulk.Inserter, "insert_raw", fail_on_people)
    with pytest.raises(RuntimeError, match="constraint"):
        run(grid_a_worker, xlsx(HEADERS, FAMILY))
    assert not Household.objects.exists() and not AuditEntry.objects.exists()


def test_ids_continue_after_deleted_records(grid_a_worker, zhang_san, tree):
    """A new person never takes the id (and so the audit history) of a deleted one."""
    old_pk = zhang_san.pk
    services.person_delete(acting_user=grid_a_worker, person=zhang_san)
    run(grid_a_worker, xlsx(HEADERS, [person_row(9, "孙九")]))
    assert Person.objects.get(name="孙九").pk > old_pk


def test_a_person_moves_to_the_household_the_ledger_names(grid_a_worker, tree):
    run(grid_a_worker, xlsx(HEADERS, FAMILY))
    first = Person.objects.get(name="王小明").household
    # 王小明 now heads a household of his own, with its own number.
    rows = [person_row(3, "王小明", number="H-NEW", address="人民路20号")]
    plan = run(grid_a_worker, xlsx(HEADERS, rows), dry_run=True)
    [row] = plan.updated()
    assert row.changes["household"] == [str(first), "王小明户 · 人民路20号"]
    assert row.changes["relation"] == ["child", "head"]
    run(grid_a_worker, xlsx(HEADERS, rows))
    xiaoming = Person.objects.get(name="王小明")
    assert xiaoming.household.number == "330188001001-H-NEW" and xiaoming.relation == "head"
    first.refresh_from_db()
    assert first.member_count == 2


def test_keys_derived_in_worker_processes_match_the_services(grid_a_worker, tree, monkeypatch):
    """Large files derive pinyin, hashes and ciphertext in worker processes (derive.py); the
    result must be what person_derive_keys and EncryptedTextField produce here."""
    from minqing.registry.imports import derive

    monkeypatch.setattr(derive, "PARALLEL_MIN_ROWS", 3)
    monkeypatch.setattr(derive, "CHUNK", 2)
    used = []
    original = derive.Deriver.results

    def results(self, **kwargs):
        out = original(self, **kwargs)
        used.append(len(out))
        return out

    monkeypatch.setattr(derive.Deriver, "results", results)
    plan = run(grid_a_worker, xlsx(HEADERS, FAMILY))
    assert plan.ok and used == [4]  # all four new people came from the workers
    for person in Person.objects.all():
        expected = Person(name=person.name, id_number=person.id_number, phone=person.phone)
        services.person_derive_keys(expected)
        for field in derive.derived_fields():
            assert getattr(person, field) == getattr(expected, field), field
    wang = Person.objects.get(id_number_q(valid_id(1)))
    assert wang.phone == "13812345678" and wang.name_pinyin.startswith("wangjianguo")
    # Again with one newcomer: only the newcomer's keys are wanted from the workers.
    plan = run(grid_a_worker, xlsx(HEADERS, [*FAMILY, person_row(5, "钱五", phone="13700001234")]))
    assert plan.counts["new_people"] == 1 and used[-1] == 1
    qian = Person.objects.get(name="钱五")
    assert qian.phone_last4 == "1234" and qian.phone == "13700001234"
    assert qian.id_number_hash == id_number_hash(valid_id(5))


def test_an_imported_eighty_year_old_is_in_the_elderly_group_once(grid_a_worker, tree):
    """高龄 from the ledger's birth dates (registry.given_tags); a re-import changes nothing."""
    data = xlsx(HEADERS, [person_row(1, "钱奶奶", male=False, birth=datetime.date(1940, 3, 1)),
                          person_row(2, "钱阿姨", male=False, head="钱奶奶", relation="女儿")])  # fmt: skip
    assert run(grid_a_worker, data).ok
    assert list(Person.objects.get(name="钱奶奶").tags.values_list("name", flat=True)) == ["高龄"]
    assert not Person.objects.get(name="钱阿姨").tags.exists()
    before = snapshot_db()
    assert run(grid_a_worker, data).counts["unchanged_people"] == 2
    assert snapshot_db() == before
