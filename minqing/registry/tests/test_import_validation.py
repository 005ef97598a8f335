"""Row-level errors, in Chinese, by sheet, row, column and value; nothing written while any."""

import datetime

import pytest

from conftest import valid_id
from minqing.core.idnumber import ERR_ID_CHECK, check_character
from minqing.core.phone import ERR_PHONE
from minqing.registry import services
from minqing.registry.imports import cells
from minqing.registry.imports.validate import (
    ERR_DUP_IN_FILE,
    ERR_GRID_MISSING,
    ERR_REQUIRED_CELL,
    ERR_TAG_UNKNOWN,
    WARN_LEGACY,
    Issue,
)
from minqing.registry.models import Household, Person, Tag
from minqing.registry.tests.test_import_support import (
    GRID_A,
    GRID_B,
    HEADERS,
    person_row,
    reasons,
    run,
    xlsx,
    xlsx_writer,
)

COL = {h: chr(ord("A") + i) for i, h in enumerate(HEADERS)}
BIRTH = datetime.date(1960, 5, 4)


def one_error(plan) -> Issue:
    assert plan.error_count == 1, reasons(plan)
    return plan.errors[0]


def test_an_error_names_sheet_row_column_value_and_reason(grid_a_worker, tree):
    bad = person_row(2, "李四")
    good_number = bad[5]
    wrong = good_number[:17] + ("0" if good_number[17] != "0" else "1")
    bad[5] = wrong
    plan = run(grid_a_worker, xlsx(HEADERS, [person_row(1, "王建国"), bad], sheet="东门一网格"))
    assert (
        one_error(plan)
        == Issue(
            sheet="东门一网格",
            row=3,
            column="F",
            header="公民身份号码",
            value=wrong[:6] + "********" + wrong[14:],  # shown masked, like everywhere else
            reason=ERR_ID_CHECK.format(expected=check_character(wrong[:17])),
        )
    )
    assert not plan.ok
    # Nothing at all is written while the file has an error, not even the good row.
    assert Person.objects.count() == 0 and Household.objects.count() == 0


def test_a_15_digit_number_is_accepted_and_flagged(grid_a_worker, tree):
    row = person_row(1, "王建国")
    row[5] = "330188600504003"
    plan = run(grid_a_worker, xlsx(HEADERS, [row]))
    assert plan.ok, reasons(plan)
    assert [(w.row, w.column, w.reason) for w in plan.warnings] == [(2, "F", WARN_LEGACY)]
    person = Person.objects.get()
    assert person.id_legacy and person.birth_date == datetime.date(1960, 5, 4)


def test_birth_date_and_sex_must_agree_with_the_id_number(grid_a_worker, tree):
    rows = [
        person_row(1, "王建国", birth_cell="1961-05-04"),
        person_row(2, "李秀英", head="王建国", relation="配偶", male=False, sex="男"),
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert reasons(plan) == [
        (2, COL["出生日期"], services.ERR_BIRTH_MISMATCH.format(expected="1960-05-04")),
        (3, COL["性别"], services.ERR_SEX_MISMATCH.format(expected="女")),
    ]


@pytest.mark.parametrize(
    "written",
    [
        "1960-05-04",
        "1960/5/4",
        "1960.05.04",
        "19600504",
        "1960年5月4日",
        "1960-05-04 00:00:00",
        "1960.05",  # 出生年月: year and month only
        "1960年5月",
        "196005",
        "1960年5月4号",
        "１９６００５０４",  # full width
        "１９６０年５月４日",
    ],
)
def test_dates_are_read_in_the_usual_spellings(written, grid_a_worker, tree):
    plan = run(grid_a_worker, xlsx(HEADERS, [person_row(1, "王建国", birth_cell=written)]))
    assert plan.ok, reasons(plan)


def test_excel_dates_and_serial_numbers_are_dates(grid_a_worker, tree):
    serial = (BIRTH - datetime.date(1899, 12, 30)).days

    def build(wb, ws):
        ws.write_row(0, 0, HEADERS)
        date_format = wb.add_format({"num_format": "yyyy年m月d日"})
        row = person_row(1, "王建国")
        ws.write_row(1, 0, row)
        ws.write_datetime(1, 7, datetime.datetime(1960, 5, 4), date_format)
        row = person_row(2, "王小明", head="王建国", relation="儿子")
        ws.write_row(2, 0, row)
        ws.write_number(2, 7, serial)  # a date cell that lost its format: just the number

    assert cells.date(serial) == BIRTH
    assert cells.date(19600504) == BIRTH  # typed as a number
    assert cells.date(1960.05) == (1960, 5) and cells.date(1960.1) == (1960, 10)
    plan = run(grid_a_worker, xlsx_writer(build))
    assert plan.ok, reasons(plan)
    assert plan.counts["new_people"] == 2


def test_an_unreadable_date_is_an_error(grid_a_worker, tree):
    plan = run(grid_a_worker, xlsx(HEADERS, [person_row(1, "王建国", birth_cell="六十年代")]))
    e = one_error(plan)
    assert (e.row, e.column, e.value, e.reason) == (2, COL["出生日期"], "六十年代", cells.ERR_DATE)
    plan = run(grid_a_worker, xlsx(HEADERS, [person_row(1, "王建国", birth_cell="1960-02-30")]))
    assert one_error(plan).reason == cells.ERR_DATE
    plan = run(grid_a_worker, xlsx(HEADERS, [person_row(1, "王建国", birth_cell="1960.06")]))
    e = one_error(plan)
    assert (e.value, e.reason) == (
        "1960.06",
        services.ERR_BIRTH_MISMATCH.format(expected="1960-05-04"),
    )


def test_formula_cells_are_read_as_their_values_never_evaluated(grid_a_worker, tree):
    def build(wb, ws):
        ws.write_row(0, 0, HEADERS)
        row = person_row(1, "王建国")
        ws.write_row(1, 0, row)
        # What Excel last showed is what is imported: the formula itself is not run.
        ws.write_formula(1, 4, '=CONCATENATE("王","建国")', None, "王建国")
        ws.write_formula(1, 12, "=1+1", None, "缓存的值")
        ws.write_formula(1, 9, '="1381234"&"5678"', None, "13812345678")

    plan = run(grid_a_worker, xlsx_writer(build))
    assert plan.ok, reasons(plan)
    person = Person.objects.get()
    assert (person.name, person.note, person.phone) == ("王建国", "缓存的值", "13812345678")


def test_a_formula_never_calculated_reads_as_empty(grid_a_worker, tree):
    row = person_row(1, "王建国")
    row[4] = '=CONCATENATE("王","建国")'  # openpyxl stores no cached value
    plan = run(grid_a_worker, xlsx(HEADERS, [row]))
    e = one_error(plan)
    assert (e.column, e.reason) == (COL["姓名"], ERR_REQUIRED_CELL)


def test_the_same_id_number_twice_in_the_file(grid_a_worker, tree):
    rows = [person_row(1, "王建国"), person_row(2, "李秀英", male=False), person_row(1, "王建国")]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert reasons(plan) == [
        (2, "F", ERR_DUP_IN_FILE.format(where="第 4 行")),
        (4, "F", ERR_DUP_IN_FILE.format(where="第 2 行")),
    ]


def test_a_grid_outside_the_importers_scope_or_unknown_is_refused(grid_a_worker, tree):
    rows = [
        person_row(1, "王建国", grid=GRID_B),  # grid_b's grid, by code
        person_row(2, "李四", grid="东门社区第2网格"),  # … and by name
        person_row(3, "赵六", grid="330188009009009"),  # no such grid
        person_row(4, "钱七", grid="330188001001"),  # a community, not a grid
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert reasons(plan) == [
        (2, "A", services.ERR_GRID_SCOPE),
        (3, "A", services.ERR_GRID_SCOPE),
        (4, "A", services.ERR_GRID_SCOPE),
        (5, "A", services.ERR_GRID_LEVEL),
    ]
    assert Person.objects.count() == 0


def test_phones_of_the_wrong_length(grid_a_worker, tree):
    rows = [
        person_row(1, "王建国", phone="1381234567"),
        person_row(2, "李四", phone="138123456789"),
        person_row(3, "赵六", phone="0571-87654321"),  # a landline is fine
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert reasons(plan) == [(2, "J", ERR_PHONE), (3, "J", ERR_PHONE)]


def test_phones_in_the_usual_spellings_and_a_wrong_one_shown_as_typed(grid_a_worker, tree):
    typed = ["138-0013-8000", "+86-13800138001", "86-13800138002", "0086 13800138003"]
    rows = [person_row(i, f"人{i}", phone=phone) for i, phone in enumerate(typed, start=1)]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert plan.ok, reasons(plan)
    assert sorted(Person.objects.values_list("phone", flat=True)) == [
        "13800138000",
        "13800138001",
        "13800138002",
        "13800138003",
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, [person_row(9, "赵六", phone="+86-1380013800")]))
    assert [(e.column, e.value, e.reason) for e in plan.errors] == [
        ("J", "+86-1380013800", ERR_PHONE)
    ]


def test_empty_required_cells(grid_a_worker, tree):
    no_name, no_id, no_grid = (person_row(i, f"人{i}") for i in (1, 2, 3))
    no_name[4] = ""
    no_id[5] = ""
    no_grid[0] = ""
    plan = run(grid_a_worker, xlsx(HEADERS, [no_name, no_id, no_grid]))
    assert reasons(plan) == [
        (2, "E", ERR_REQUIRED_CELL),
        (3, "F", ERR_REQUIRED_CELL),
        (4, "A", ERR_GRID_MISSING),
    ]
    # A default grid fills the empty grid cell.
    plan = run(grid_a_worker, xlsx(HEADERS, [no_grid]), grid=tree["grid_a"])
    assert plan.ok, reasons(plan)


def test_an_id_number_stored_as_a_number_by_excel(grid_a_worker, tree):
    row = person_row(1, "王建国")
    row[5] = float(row[5][:17] + "0") if row[5][17] != "X" else 3.30188196005e17
    plan = run(grid_a_worker, xlsx(HEADERS, [row]))
    assert one_error(plan).reason == cells.ERR_ID_NUMERIC


def test_an_id_number_in_scientific_notation_in_a_csv_is_said_to_be_excels_number(
    grid_a_worker, tree
):
    lines = [
        "姓名,公民身份号码,所属网格,现住址",
        f"王建国,3.30188E+17,{GRID_A},人民路8号",
        f"李四,3.30188197102039E+17,{GRID_A},人民路8号",
    ]
    plan = run(grid_a_worker, "\r\n".join(lines).encode(), name="台账.csv")
    assert [(e.row, e.value, e.reason) for e in plan.errors] == [
        (2, "3.30188E+17", cells.ERR_ID_NUMERIC),
        (3, "3.30188*********E+17", cells.ERR_ID_NUMERIC),  # not the birth date
    ]


def test_an_id_number_with_excels_text_apostrophe_is_accepted(grid_a_worker, tree):
    number = valid_id(1)
    lines = ["姓名,公民身份号码,所属网格,现住址", f"王建国,'{number},{GRID_A},人民路8号"]
    plan = run(grid_a_worker, "\r\n".join(lines).encode(), name="台账.csv")
    assert plan.ok, reasons(plan)
    row = person_row(2, "李秀英", male=False)
    row[5] = "'" + row[5]
    plan = run(grid_a_worker, xlsx(HEADERS, [row]))
    assert plan.ok, reasons(plan)
    assert Person.objects.count() == 2


RELATIVES = [
    ("之子", "child"),
    ("之女", "child"),
    ("户主之子", "child"),
    ("之孙", "grandchild"),
    ("之孙女", "grandchild"),
    ("外孙", "grandchild"),
    ("外孙女", "grandchild"),
    ("之妻", "spouse"),
    ("侄子", "other"),
    ("侄女", "other"),
    ("外甥", "other"),
]


def test_relations_written_as_ledgers_write_them(grid_a_worker, tree):
    rows = [person_row(1, "王建国")] + [
        person_row(i, f"王{i}", head="王建国", relation=written)
        for i, (written, _) in enumerate(RELATIVES, start=2)
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert plan.ok, reasons(plan)
    stored = dict(Person.objects.values_list("name", "relation"))
    assert [stored[f"王{i}"] for i in range(2, len(RELATIVES) + 2)] == [r for _, r in RELATIVES]
    with pytest.raises(cells.CellError):
        cells.relation("之邻居")


def test_an_unknown_relation_and_two_heads_in_one_household(grid_a_worker, tree):
    rows = [
        person_row(1, "王建国"),
        person_row(2, "王建军", head="王建国", relation="户主"),
        person_row(3, "李秀英", head="王建国", relation="邻居", male=False),
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert reasons(plan) == [  # in the file's order (the two heads are found after the rows)
        (2, "D", services.ERR_TWO_HEADS.format(name="王建军")),
        (3, "D", services.ERR_TWO_HEADS.format(name="王建国")),
        (4, "D", cells.ERR_RELATION),
    ]


def test_someone_registered_in_another_grid_is_not_revealed(grid_a_worker, grid_b_worker, tree):
    services.person_create(
        acting_user=grid_b_worker,
        data={"name": "王建国", "id_number": valid_id(1), "grid": tree["grid_b"]},
    )
    plan = run(grid_a_worker, xlsx(HEADERS, [person_row(1, "王建国")]))
    e = one_error(plan)
    assert (e.column, e.reason) == ("F", services.ERR_DUPLICATE_HIDDEN)
    assert "东门社区第2网格" not in e.reason


def test_unknown_categories_are_errors_until_mapped_created_or_skipped(
    grid_a_worker, admin_user, tree
):
    rows = [
        person_row(1, "王建国", tags="残疾、低收入户"),
        person_row(2, "李四", tags="低收入户；党员"),
    ]
    data = xlsx(HEADERS, rows)
    plan = run(grid_a_worker, data, dry_run=True)
    assert reasons(plan) == [
        (2, "L", ERR_TAG_UNKNOWN.format(name="低收入户")),
        (3, "L", ERR_TAG_UNKNOWN.format(name="低收入户")),
        (3, "L", ERR_TAG_UNKNOWN.format(name="党员")),
    ]
    assert plan.unknown_tags == {"低收入户": 2, "党员": 1}

    # A grid worker may map a category to an existing one or skip it, but not create one.
    dibao = Tag.objects.get(name="低保")
    choices = {"低收入户": str(dibao.pk), "党员": "new"}
    plan = run(grid_a_worker, data, dry_run=True, tags=choices)
    assert reasons(plan) == [(3, "L", ERR_TAG_UNKNOWN.format(name="党员"))]
    plan = run(grid_a_worker, data, tags={"低收入户": str(dibao.pk), "党员": "skip"})
    assert plan.ok, reasons(plan)
    assert not Tag.objects.filter(name="党员").exists()
    # 低保 is a household category: it goes to the household, 残疾 to the person.
    wang = Person.objects.get(name="王建国")
    assert [t.name for t in wang.tags.all()] == ["残疾"]
    assert [t.name for t in wang.household.tags.all()] == ["低保"]

    # An administrator may create it.
    rows = [person_row(3, "赵六", tags="党员")]
    plan = run(admin_user, xlsx(HEADERS, rows), tags={"党员": "new"})
    assert plan.ok, reasons(plan)
    assert [t.name for t in Person.objects.get(name="赵六").tags.all()] == ["党员"]


@pytest.mark.parametrize("sep", ["、", "，", ",", ";", "；", "/", "／", " ", "|"])
def test_categories_are_split_on_every_usual_separator(sep):
    assert cells.tag_names(f"低保{sep}残疾{sep}{sep}高龄") == ["低保", "残疾", "高龄"]


def test_care_groups_written_the_usual_ways_are_matched_and_said(grid_a_worker, tree):
    from minqing.registry.models import Person
    from minqing.registry.tests.test_import_support import HEADERS, person_row, run, xlsx

    rows = [
        person_row(51, "甲", tags="低保户、空巢老人"),
        person_row(52, "乙", tags="4050人员;下岗失业人员"),
        person_row(53, "丙", tags="高龄老人，残疾人"),
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert plan.ok and not plan.unknown_tags
    assert any("低保户→低保" in n and "空巢老人→空巢" in n for n in plan.notes)
    groups = {p.name: sorted(t.name for t in p.tags.all()) for p in Person.objects.all()}
    assert groups["乙"] == ["4050", "下岗失业"] and groups["丙"] == ["残疾", "高龄"]


def test_an_id_number_typed_in_full_width_digits_imports(grid_a_worker, tree):
    from conftest import valid_id
    from minqing.registry.identity import id_number_q
    from minqing.registry.models import Person
    from minqing.registry.tests.test_import_support import HEADERS, person_row, run, xlsx

    row = person_row(61, "全角")
    row[HEADERS.index("公民身份号码")] = valid_id(61).translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}
    )
    plan = run(grid_a_worker, xlsx(HEADERS, [row]))
    assert plan.ok, plan.errors
    assert Person.objects.filter(id_number_q(valid_id(61))).exists()
