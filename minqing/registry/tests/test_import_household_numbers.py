"""户号 in ledgers are numbered by each community (1, 2, 3 … or 001 …): the same 户号 in two
communities is two households, and each community can import its ledger as it is."""

from conftest import _user, valid_id
from minqing.accounts.models import Role
from minqing.core.models import AuditEntry
from minqing.registry import services
from minqing.registry.identity import id_number_q
from minqing.registry.imports.validate import ERR_HOUSEHOLD_NUMBER_LONG
from minqing.registry.models import Household, Person
from minqing.registry.tests.test_import_support import (
    GRID_A,
    HEADERS,
    person_row,
    reasons,
    run,
    xlsx,
)

GRID_C = "330188001002001"  # 南苑社区第1网格: another community of the same street


def ledger(grid: str, first_seq: int) -> bytes:
    """A community's ledger: two households, 户号 001 and 002, numbered as offices do."""
    return xlsx(
        HEADERS,
        [
            person_row(first_seq, "赵大", number="001", grid=grid, address="一路1号"),
            person_row(first_seq + 1, "赵二", head="赵大", relation="子女", number="001",
                       grid=grid, address=""),
            person_row(first_seq + 2, "钱三", number="002", grid=grid, address="一路2号"),
        ],
    )  # fmt: skip


def test_two_communities_import_ledgers_with_the_same_numbers(
    grid_a_worker, community_worker, tree
):
    south = _user("south", Role.COMMUNITY_WORKER, tree["other_community"])
    assert run(grid_a_worker, ledger(GRID_A, 1)).ok
    plan = run(south, ledger(GRID_C, 11))
    assert plan.ok, reasons(plan)
    numbers = sorted(Household.objects.values_list("number", flat=True))
    assert numbers == [
        "330188001001-001",
        "330188001001-002",
        "330188001002-001",
        "330188001002-002",
    ]
    zhao = Person.objects.get(id_number_q(valid_id(1)))
    assert zhao.household.number == "330188001001-001" and zhao.household.member_count == 2
    assert Household.objects.get(number="330188001002-001").grid == tree["grid_c"]

    # Each import again changes nothing: the same households are found by their 户号.
    people, households, entries = (
        Person.objects.count(),
        Household.objects.count(),
        (AuditEntry.objects.count()),
    )
    for user, data in ((grid_a_worker, ledger(GRID_A, 1)), (south, ledger(GRID_C, 11))):
        again = run(user, data)
        assert again.ok and again.counts["unchanged_people"] == 3, again.counts
        assert again.counts["new_households"] == again.counts["updated_households"] == 0
    assert (Person.objects.count(), Household.objects.count()) == (people, households)
    assert AuditEntry.objects.count() == entries + 2  # one IMPORT record per file, no changes


def test_a_county_ledger_keeps_the_communities_households_apart(admin_user, tree):
    """One file, two communities, the same 户号: two households, not one."""
    data = xlsx(
        HEADERS,
        [
            person_row(1, "赵大", number="001", grid=GRID_A, address="一路1号"),
            person_row(2, "孙五", number="001", grid=GRID_C, address="二路1号"),
        ],
    )
    plan = run(admin_user, data)
    assert plan.ok, reasons(plan)
    a, c = Person.objects.get(name="赵大"), Person.objects.get(name="孙五")
    assert a.household != c.household
    assert (a.household.grid, c.household.grid) == (tree["grid_a"], tree["grid_c"])


def test_an_export_read_back_and_an_older_bare_number_find_their_households(grid_a_worker, tree):
    # A household an earlier version filed under the bare 户号.
    old = Household.objects.create(number="007", grid=tree["grid_a"], address="三路7号")
    # One minqing numbered itself, as the people export gives it.
    own = services.household_create(
        acting_user=grid_a_worker, data={"grid": tree["grid_a"], "address": "四路9号"}
    )
    data = xlsx(
        HEADERS,
        [
            person_row(1, "周七", number="007", address="三路7号"),
            person_row(2, "吴八", number=own.number, address="四路9号"),
        ],
    )
    plan = run(grid_a_worker, data)
    assert plan.ok, reasons(plan)
    assert Person.objects.get(name="周七").household == old
    assert Person.objects.get(name="吴八").household == own
    assert Household.objects.count() == 2


def test_a_number_too_long_once_kept_under_the_community_code_is_refused(grid_a_worker, tree):
    data = xlsx(HEADERS, [person_row(1, "郑九", number="1" * 18, address="五路1号")])
    plan = run(grid_a_worker, data)
    assert [(r, col, str(reason)) for r, col, reason in reasons(plan)] == [
        (2, "B", str(ERR_HOUSEHOLD_NUMBER_LONG))
    ]
    assert not Person.objects.exists()


def test_a_household_added_on_the_page_is_numbered_past_imported_numbers(grid_a_worker, tree):
    """Numbers under the grid's code that minqing did not give (an odd one typed into a
    ledger) are skipped, not parsed: adding a household still works."""
    Household.objects.create(number=f"{GRID_A}-X1", grid=tree["grid_a"], address="六路1号")
    Household.objects.create(number=f"{GRID_A}-0041", grid=tree["grid_a"], address="六路2号")
    added = services.household_create(
        acting_user=grid_a_worker, data={"grid": tree["grid_a"], "address": "六路3号"}
    )
    assert added.number == f"{GRID_A}-0042"


def test_excel_dropping_the_zeros_of_a_number_finds_the_same_household(grid_a_worker, tree):
    """户号 "005" as text, then 5 as a number (what Excel makes of it): one household."""
    as_text = xlsx(HEADERS, [
        person_row(31, "严数字", number="005", address="青年路500号"),
        person_row(32, "严二", head="严数字", relation="子女", number="005", address=""),
    ])  # fmt: skip
    assert run(grid_a_worker, as_text).ok
    as_number = xlsx(HEADERS, [
        person_row(31, "严数字", number=5, address="青年路500号"),
        person_row(32, "严二", head="严数字", relation="子女", number=5, address=""),
    ])  # fmt: skip
    plan = run(grid_a_worker, as_number)
    assert plan.ok, reasons(plan)
    assert list(Household.objects.values_list("number", flat=True)) == ["330188001001-005"]
    assert Household.objects.get().member_count == 2


def test_a_household_kept_without_zeros_by_an_earlier_import_is_found_again(grid_a_worker, tree):
    """Before 户号 were kept at 3 digits, 5 was kept as "<community>-5"."""
    old = services.household_create(
        acting_user=grid_a_worker, data={"address": "青年路500号", "grid": tree["grid_a"]}
    )
    Household.objects.filter(pk=old.pk).update(number="330188001001-5")
    plan = run(grid_a_worker, xlsx(HEADERS, [person_row(33, "严三", number="005")]))
    assert plan.ok, reasons(plan)
    assert Household.objects.count() == 1
    assert Person.objects.get(id_number_q(valid_id(33))).household_id == old.pk


def test_a_household_without_its_head_or_with_two_spouses_is_flagged_not_refused(
    grid_a_worker, tree
):
    data = xlsx(HEADERS, [
        person_row(41, "孙子甲", head="户主不在", relation="子女", number="015", address="一路15号"),
        person_row(42, "钱户主", number="008", address="一路8号"),
        person_row(43, "钱妻甲", head="钱户主", relation="配偶", number="008", address=""),
        person_row(44, "钱妻乙", head="钱户主", relation="配偶", number="008", address=""),
    ])  # fmt: skip
    plan = run(grid_a_worker, data)
    assert plan.ok, reasons(plan)
    said = [w.reason for w in plan.warnings]
    assert any("户主“户主不在”不在本文件中" in r for r in said)
    assert any("本户已有配偶“钱妻甲”" in r for r in said)
    assert Household.objects.count() == 2  # written all the same: a ledger may be like that
