"""Finding the columns: header variants, title rows, merged and two-row headers, CSV."""

import io

import openpyxl
import pytest

from conftest import valid_id
from minqing.registry.imports.headers import COLUMNS, match_header
from minqing.registry.imports.reader import read_sheets
from minqing.registry.imports.template import SHEET_DATA, SHEET_HELP, build_template
from minqing.registry.models import Person
from minqing.registry.tests.test_import_support import (
    GRID_A,
    HEADERS,
    person_row,
    reasons,
    run,
    xlsx,
    xlsx_writer,
)

VARIANTS = [(c.key, v) for c in COLUMNS for v in (c.header, *c.variants)]


@pytest.mark.parametrize(("key", "header"), VARIANTS, ids=[v for _, v in VARIANTS])
def test_every_header_variant_is_recognised(key, header):
    base = {"name": ["公民身份号码"], "id_number": ["姓名"]}.get(key, ["姓名", "公民身份号码"])
    data = xlsx([*base, header], [["x"] * (len(base) + 1)])
    sheets, _ = read_sheets(data, "台账.xlsx")
    assert key in sheets[0].columns, header
    assert sheets[0].headers[key] == header


@pytest.mark.parametrize(
    "written",
    ["*姓名", "姓名（必填）", " 姓 名 ", "姓名:", "身份证号码\n(18位)", "联系电话（手机）"],
)
def test_decorated_headers_are_recognised(written):
    assert match_header(written) in ("name", "id_number", "phone")


def test_a_ledger_with_variant_headers_imports_every_column(grid_a_worker, tree):
    headers = [
        "网格编码",
        "户编号",
        "户主",
        "家庭关系",
        "居民姓名",
        "身份证号",
        "性别",
        "出生年月",
        "民族",
        "手机号码",
        "居住地址",
        "标签",
        "说明",
    ]
    row = [
        GRID_A,
        "H-001",
        "王建国",
        "本人",
        "王建国",
        valid_id(1),
        "男",
        "1960-05-04",
        "汉",
        "138 1234 5678",
        "人民路8号",
        "残疾",
        "腿脚不便",
    ]
    plan = run(grid_a_worker, xlsx(headers, [row]))
    assert plan.ok, reasons(plan)
    person = Person.objects.get()
    assert (person.name, person.relation, person.sex, person.ethnicity, person.phone) == (
        "王建国",
        "head",
        "M",
        "汉族",
        "13812345678",
    )
    assert person.note == "腿脚不便"
    assert (
        person.household.number == "330188001001-H-001" and person.household.address == "人民路8号"
    )
    assert [t.name for t in person.tags.all()] == ["残疾"]


def test_title_rows_above_the_header_are_skipped(grid_a_worker, tree):
    data = xlsx(
        HEADERS,
        [person_row(1, "王建国")],
        titles=["东门社区第1网格人口台账", "填报单位：东门社区居委会    2026年11月"],
    )
    sheets, _ = read_sheets(data, "t.xlsx")
    assert sheets[0].header_row == 3
    plan = run(grid_a_worker, data)
    assert plan.ok and plan.counts["new_people"] == 1
    # Errors name the row as Excel shows it.
    bad = person_row(2, "李四")
    bad[5] = "33018819600504002X"
    plan = run(grid_a_worker, xlsx(HEADERS, [bad], titles=["标题"]), dry_run=True)
    assert [(e.row, e.column) for e in plan.errors] == [(3, "F")]


def test_a_merged_two_row_header_with_a_merged_title(grid_a_worker, tree):
    def build(wb, ws):
        ws.merge_range("A1:G1", "东门社区人口台账（2026年）")
        # 姓名, 身份证号 and 所属网格 span two header rows; 联系方式 spans two columns.
        ws.merge_range("A2:A3", "所属网格")
        ws.merge_range("B2:B3", "姓名")
        ws.merge_range("C2:C3", "公民身份号码")
        ws.merge_range("D2:E2", "联系方式")
        ws.write("D3", "手机号")
        ws.write("E3", "固定电话")
        ws.merge_range("F2:G2", "住址")
        ws.write("F3", "现住址")
        ws.write("G3", "户籍地址")
        ws.write_row(3, 0, [GRID_A, "王建国", valid_id(1), "13812345678", "0571-8765432"])
        ws.write_row(3, 5, ["人民路8号", "浙江省民安县"])
        ws.write_row(4, 0, [GRID_A, "李秀英", valid_id(2, male=False), "", "0571-86660000"])
        ws.write_row(4, 5, ["人民路9号"])

    data = xlsx_writer(build)
    sheets, _ = read_sheets(data, "t.xlsx")
    sheet = sheets[0]
    assert sheet.header_row == 3
    assert {"grid", "name", "id_number", "phone", "address", "registered_address"} <= set(
        sheet.columns
    )
    assert sheet.letter("phone") == "D"
    plan = run(grid_a_worker, data)
    assert plan.ok, reasons(plan)
    person = Person.objects.get(name="王建国")
    assert person.phone == "13812345678" and person.household.address == "人民路8号"
    # A landline-only resident keeps the landline; the note says which column counts.
    assert Person.objects.get(name="李秀英").phone == "0571-86660000"
    assert "手机号、固定电话" in " ".join(plan.notes)


SEVERAL_PHONES = ["姓名", "身份证号", "{0}", "{1}", "现住址", "户主姓名", "与户主关系", "所属网格"]


@pytest.mark.parametrize(
    ("first", "second"), [("联系电话", "联系电话"), ("联系电话1", "联系电话2")]
)
def test_several_phone_columns_keep_the_first_filled_number(grid_a_worker, tree, first, second):
    header = ",".join(SEVERAL_PHONES).format(first, second)
    lines = [
        header,
        f"王建国,{valid_id(1)},,13844440000,人民路8号,王建国,户主,{GRID_A}",
        f"李秀英,{valid_id(2, male=False)},13812345678,13844440000,人民路8号,王建国,配偶,{GRID_A}",
        f"王小明,{valid_id(3)},,1384444,人民路8号,王建国,子女,{GRID_A}",
    ]
    data = "\r\n".join(lines).encode()
    plan = run(grid_a_worker, data, name="台账.csv")
    # A wrong number is shown in the column it was written in.
    assert [(e.row, e.column, e.header, e.value) for e in plan.errors] == [
        (4, "D", second, "1384444")
    ]
    assert f"{first}、{second}" in " ".join(plan.notes)
    plan = run(grid_a_worker, "\r\n".join(lines[:3]).encode(), name="台账.csv")
    assert plan.ok, reasons(plan)
    phones = dict(Person.objects.values_list("name", "phone"))
    assert phones == {"王建国": "13844440000", "李秀英": "13812345678"}


def test_a_column_typed_twice_is_named_in_the_notes(grid_a_worker, tree):
    data = xlsx(
        ["所属网格", "姓名", "公民身份号码", "现住址", "现住址"],
        [[GRID_A, "王建国", valid_id(1), "人民路8号", "人民路9号"]],
    )
    plan = run(grid_a_worker, data)
    assert plan.ok, reasons(plan)
    assert any("现住址" in note for note in plan.notes)


def test_a_header_written_in_two_rows_without_merging(grid_a_worker, tree):
    data = xlsx(
        ["所属网格", "姓名", "公民身份号码", "联系电话"],
        [["", "", "", "手机"], [GRID_A, "王建国", valid_id(1), "13812345678"]],
    )
    plan = run(grid_a_worker, data)
    assert plan.ok, reasons(plan)
    assert Person.objects.get().phone == "13812345678"


def test_footer_lines_and_repeated_headers_are_not_people(grid_a_worker, tree):
    rows = [
        person_row(1, "王建国"),
        HEADERS,  # the header printed again on page 2
        person_row(2, "李秀英", head="王建国", relation="妻子", male=False),
        [],
        ["填表人：王芳    审核人：李明"],
    ]
    plan = run(grid_a_worker, xlsx(HEADERS, rows))
    assert plan.ok, reasons(plan)
    assert plan.counts["rows"] == 2


TOTALS_HEADER = [
    "序号",
    "户号",
    "户主姓名",
    "姓名",
    "与户主关系",
    "身份证号码",
    "现住址",
    "所属网格",
    "人员类别",
]


def test_a_totals_row_merged_across_columns_is_not_a_person(grid_a_worker, tree):
    def build(wb, ws):
        ws.write_row(0, 0, TOTALS_HEADER)
        ws.write_row(1, 0, [1, "1", "王建国", "王建国", "户主", valid_id(1), "人民路8号", GRID_A])
        ws.write_row(
            2, 0, [2, "1", "王建国", "李秀英", "配偶", valid_id(2, male=False), "", GRID_A]
        )
        ws.merge_range("A4:E4", "合计")
        ws.write("F4", "2人")
        ws.write("I4", "低保2人")

    plan = run(grid_a_worker, xlsx_writer(build))
    assert plan.ok, reasons(plan)
    assert plan.counts["rows"] == 2
    assert Person.objects.count() == 2


def test_totals_in_an_ignored_column_are_not_a_person_but_a_namesake_is(grid_a_worker, tree):
    rows = [
        [1, "", "王建国", "王建国", "户主", valid_id(1), "人民路8号", GRID_A],
        ["小计", "", "", "共1人"],
        ["", "", "总计华", "总计华", "户主", valid_id(3), "人民路9号", GRID_A],
        ["合 计", "", "", "共6人", "", "", "", "", "低保1户"],
    ]
    plan = run(grid_a_worker, xlsx(TOTALS_HEADER, rows))
    assert plan.ok, reasons(plan)
    assert set(Person.objects.values_list("name", flat=True)) == {"王建国", "总计华"}


def test_a_csv_file_in_utf8_or_gbk(grid_a_worker, tree):
    lines = ["姓名,公民身份号码,所属网格,联系电话", f"王建国,{valid_id(1)},{GRID_A},13812345678"]
    text = "\r\n".join(lines)
    plan = run(grid_a_worker, text.encode("utf-8-sig"), name="台账.csv")
    assert plan.ok and plan.counts["new_people"] == 1
    lines[1] = f"李秀英,{valid_id(2, male=False)},{GRID_A},"
    plan = run(grid_a_worker, "\r\n".join(lines).encode("gb18030"), name="台账.csv")
    assert plan.ok, reasons(plan)
    assert set(Person.objects.values_list("name", flat=True)) == {"王建国", "李秀英"}


def test_the_template_carries_the_canonical_headers_and_instructions(grid_a_worker, tree):
    wb = openpyxl.load_workbook(io.BytesIO(build_template()))
    assert wb.sheetnames == [SHEET_DATA, SHEET_HELP]
    header = [c.value for c in wb[SHEET_DATA][1]]
    assert header == [("*" if c.required else "") + c.header for c in COLUMNS]
    help_text = " ".join(str(c.value) for row in wb[SHEET_HELP].iter_rows() for c in row if c.value)
    assert "公民身份号码" in help_text and "户号" in help_text

    # Filled in and uploaded as it is, the template imports (the instructions sheet is skipped).
    ws = wb[SHEET_DATA]
    values = {
        "grid": GRID_A,
        "name": "王建国",
        "id_number": valid_id(1),
        "relation": "户主",
        "address": "人民路8号",
        "party": "中共党员",
        "employment": "离退休",
    }
    ws.append([values.get(c.key, "") for c in COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    plan = run(grid_a_worker, out.getvalue())
    assert plan.ok, reasons(plan)
    assert plan.sheets == [SHEET_DATA]
    person = Person.objects.get()
    assert person.party_member and person.employment == "retired"


def test_a_sheet_without_the_id_number_column_is_told_once(grid_a_worker, tree):
    """Was 此项必填 on every row, with no column letter: the column is not there to point at."""
    from minqing.registry.imports.reader import ERR_MISSING_COLUMN, ImportFileError

    without = HEADERS.index("公民身份号码")
    rows = [
        [v for i, v in enumerate(person_row(n, name)) if i != without]
        for n, name in ((1, "王建国"), (2, "李四"))
    ]
    headers = [h for i, h in enumerate(HEADERS) if i != without]
    with pytest.raises(ImportFileError) as refused:
        read_sheets(xlsx(headers, rows), "台账.xlsx")
    assert str(refused.value) == ERR_MISSING_COLUMN.format(
        name="台账.xlsx", sheet="人员台账", columns="公民身份号码"
    )
    assert not Person.objects.exists()


def test_a_header_only_sheet_without_the_column_beside_the_ledger_is_no_refusal(
    grid_a_worker, tree
):
    """Review: a second sheet holding only a header (姓名, 联系电话) refused the whole file."""

    def build(workbook, ledger):
        for c, h in enumerate(HEADERS):
            ledger.write(0, c, h)
        for c, v in enumerate(person_row(1, "王建国")):
            ledger.write(1, c, v)
        other = workbook.add_worksheet("通讯录")
        other.write(0, 0, "姓名")
        other.write(0, 1, "联系电话")

    plan = run(grid_a_worker, xlsx_writer(build))
    assert plan.ok, reasons(plan)
    assert Person.objects.get().name == "王建国"


def test_a_familys_cells_merged_down_its_rows_belong_to_each_member(grid_a_worker, tree):
    """Offices merge 所属网格, 户号, 户主姓名 and 现住址 down a family's rows: only the first row
    had them ("所属网格必填" on the others); as a person reads it, each member has them."""
    head = person_row(1, "王建国", number="A-1")
    wife = person_row(2, "李秀英", head="王建国", relation="配偶", male=False, number="A-1")
    son = person_row(3, "王小明", head="王建国", relation="儿子", number="A-1")

    def build(workbook, ws):
        for c, h in enumerate(HEADERS):
            ws.write(0, c, h)
        for r, row in enumerate([head, wife, son], start=1):
            for c, v in enumerate(row):
                if r == 1 or c not in (0, 1, 2, 10):
                    ws.write(r, c, v)
        for c in (0, 1, 2, 10):  # 所属网格, 户号, 户主姓名, 现住址
            ws.merge_range(1, c, 3, c, head[c])

    plan = run(grid_a_worker, xlsx_writer(build))
    assert plan.ok, reasons(plan)
    household = Person.objects.get(name="王建国").household
    assert sorted(household.members.values_list("name", flat=True)) == [
        "李秀英",
        "王小明",
        "王建国",
    ]
    assert household.address == "人民路8号"
