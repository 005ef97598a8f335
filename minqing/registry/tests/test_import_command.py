"""manage.py import_people FILE [--grid CODE] [--dry-run] [--user USERNAME]."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from minqing.core.models import AuditEntry, ImportBatch
from minqing.registry.models import Household, Person, Tag
from minqing.registry.tests.test_import_support import (
    GRID_A,
    GRID_B,
    HEADERS,
    person_row,
    xlsx,
)

FAMILY = [
    person_row(1, "王建国", grid=""),
    person_row(2, "李秀英", head="王建国", relation="妻子", male=False, grid=""),
]


@pytest.fixture
def ledger(tmp_path):
    def write(rows, name="台账.xlsx"):
        path = tmp_path / name
        path.write_bytes(xlsx(HEADERS, rows))
        return str(path)

    return write


def call(*args):
    out, err = StringIO(), StringIO()
    call_command("import_people", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_dry_run_checks_and_writes_nothing(ledger, grid_a_worker, tree):
    out, _ = call(ledger(FAMILY), "--grid", GRID_A, "--dry-run", "--user", "grid_a")
    assert "检查通过" in out and "新增人员 2" in out
    assert not Person.objects.exists() and not ImportBatch.objects.exists()
    assert not AuditEntry.objects.exists()


def test_an_import_as_a_user_within_their_scope(ledger, grid_a_worker, tree):
    out, _ = call(ledger(FAMILY), "--grid", GRID_A, "--user", "grid_a")
    assert "已导入" in out and "新增人员 2" in out and "新增家庭户 1" in out
    batch = ImportBatch.objects.get()
    assert (batch.user, batch.source) == (grid_a_worker, "cli")
    assert Person.objects.count() == 2 and Household.objects.get().member_count == 2
    out, _ = call(ledger(FAMILY), "--grid", GRID_A, "--user", "grid_a")
    assert "新增人员 0" in out and "无变化 2" in out


def test_errors_are_printed_and_nothing_is_written(ledger, grid_a_worker, tree):
    rows = [*FAMILY, person_row(3, "赵六", grid=GRID_B, phone="123")]
    with pytest.raises(CommandError, match="有 2 处错误，未导入任何数据"):
        out, err = call(ledger(rows), "--grid", GRID_A, "--user", "grid_a")
    assert not Person.objects.exists()


def test_the_errors_name_row_column_and_reason(ledger, grid_a_worker, tree):
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_people",
            ledger([*FAMILY, person_row(3, "赵六", phone="123")]),
            "--grid",
            GRID_A,
            stdout=StringIO(),
            stderr=err,
        )
    assert "“人员台账”第 4 行 J列（联系电话）“123”：电话号码格式不对" in err.getvalue()


def test_each_warning_is_printed_with_its_row_and_reason(ledger, grid_a_worker, tree):
    rows = [
        person_row(1, "王建国", grid="", number="7"),
        person_row(3, "王小明", relation="儿子", grid="", number="7", address="人民路9号"),
        person_row(4, "赵六", head="赵大", relation="配偶", grid=""),
    ]
    out, _ = call(ledger(rows), "--grid", GRID_A, "--dry-run", "--max-errors", "1")
    assert "提示：“人员台账”第 3 行 K列（现住址）“人民路9号”：同一户的现住址不一致" in out
    assert "……另有 1 条提示未列出。" in out
    out, _ = call(ledger(rows), "--grid", GRID_A, "--dry-run")
    assert "提示：“人员台账”第 4 行 C列（户主姓名）“赵大”：本户没有户主" in out


def test_a_grid_outside_the_users_scope_is_refused(ledger, grid_a_worker, tree):
    with pytest.raises(CommandError, match="不在操作人的管辖范围内"):
        call(ledger(FAMILY), "--grid", GRID_B, "--user", "grid_a")
    with pytest.raises(CommandError, match="没有修改民情档案的权限"):
        from minqing.accounts.models import User

        User.objects.create_user("viewer", password="x-long-password-1")
        call(ledger(FAMILY), "--user", "viewer")


def test_without_a_user_the_system_imports_into_any_grid(ledger, tree):
    call(ledger([person_row(1, "王建国", grid=GRID_B)]))
    assert Person.objects.get().grid == tree["grid_b"]
    entry = AuditEntry.objects.get(model="registry.person")
    assert entry.actor is None and entry.action == "import"


def test_unknown_categories_from_the_command_line(ledger, tree):
    rows = [person_row(1, "王建国", grid=GRID_A, tags="低收入户、党员")]
    with pytest.raises(CommandError):
        call(ledger(rows))
    call(ledger(rows), "--map-tag", "低收入户=低保", "--skip-unknown-tags")
    assert [t.name for t in Person.objects.get().household.tags.all()] == ["低保"]
    assert not Tag.objects.filter(name="党员").exists()
    call(ledger(rows), "--map-tag", "低收入户=低保", "--create-tags")
    assert [t.name for t in Person.objects.get().tags.all()] == ["党员"]


def test_a_missing_file_or_a_bad_one(tmp_path, tree):
    with pytest.raises(CommandError, match="找不到文件"):
        call(str(tmp_path / "nope.xlsx"))
    path = tmp_path / "台账.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(CommandError, match="不是可读取的电子表格"):
        call(str(path))
