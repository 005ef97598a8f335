"""manage.py import_people FILE [--grid CODE] [--dry-run] [--user USERNAME]

The same checks and the same all-or-nothing write as the upload page. Without --user the import
runs as the system (every grid; audit entries without an actor), as befits an operator on the
server; with --user it is limited to what that user may edit.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from minqing.accounts.access import can_edit_registry
from minqing.accounts.models import User
from minqing.grids.models import Level, Node
from minqing.registry.imports.reader import ImportFileError
from minqing.registry.imports.service import COUNT_LABELS, import_file
from minqing.registry.imports.validate import TAG_NEW, TAG_SKIP, Options
from minqing.registry.models import Tag
from minqing.registry.selectors import grids_for


class Command(BaseCommand):
    help = "导入人员和家庭户台账（.xlsx/.xls/.ods/.csv）：先检查，无错误才在一个事务中全部写入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="台账文件")
        parser.add_argument("--grid", help="默认网格编码：表中未填所属网格的行归入此网格")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入任何数据")
        parser.add_argument("--user", help="操作人用户名（按其管辖范围检查）")
        parser.add_argument("--create-tags", action="store_true", help="系统中没有的人员类别：新建")
        parser.add_argument(
            "--skip-unknown-tags", action="store_true", help="系统中没有的人员类别：忽略"
        )
        parser.add_argument(
            "--map-tag",
            action="append",
            default=[],
            metavar="表中写法=已有类别",
            help="把表中的类别对应到已有类别，如 --map-tag 低保户=低保（可多次使用）",
        )
        parser.add_argument(
            "--max-errors", type=int, default=50, help="最多列出多少处错误和提示（默认各 50）"
        )

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        user = None
        if opts["user"]:
            user = User.objects.filter(username=opts["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"没有用户“{opts['user']}”。")
            if not can_edit_registry(user):
                raise CommandError(f"用户“{opts['user']}”没有修改民情档案的权限。")
        grid = None
        if opts["grid"]:
            grids = grids_for(user) if user is not None else Node.objects.filter(level=Level.GRID)
            grid = grids.filter(code=opts["grid"]).first()
            if grid is None:
                raise CommandError(f"网格“{opts['grid']}”不存在或不在操作人的管辖范围内。")
        choices = self._tag_choices(opts)

        started = time.perf_counter()
        try:
            plan, _ = import_file(
                acting_user=user,
                file_name=path.name,
                data=path.read_bytes(),
                options=Options(default_grid=grid, tag_choices=choices),
                dry_run=opts["dry_run"],
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        seconds = time.perf_counter() - started

        for note in plan.notes:
            self.stdout.write(f"注意：{note}")
        shown = plan.errors[: opts["max_errors"]]
        for e in shown:
            self.stderr.write(_issue_line(e))
        if plan.error_count > len(shown):
            self.stderr.write(f"……另有 {plan.error_count - len(shown)} 处错误未列出。")
        if plan.unknown_tags:
            names = "、".join(sorted(plan.unknown_tags))
            self.stderr.write(
                f"系统中没有这些人员类别：{names}。可用 --create-tags、--skip-unknown-tags "
                "或 --map-tag 表中写法=已有类别。"
            )
        # Each warning as the errors are (本户没有户主, 这一行的地址不会保存 …): a count alone
        # left the operator to guess which rows to look at.
        hints = plan.warnings[: opts["max_errors"]]
        for w in hints:
            self.stdout.write(f"提示：{_issue_line(w)}")
        if plan.warning_count > len(hints):
            self.stdout.write(f"……另有 {plan.warning_count - len(hints)} 条提示未列出。")
        counts = "，".join(
            f"{label} {plan.counts[key]}"
            for key, label in COUNT_LABELS.items()
            if key in plan.counts
        )
        if not plan.ok:
            raise CommandError(f"有 {plan.error_count} 处错误，未导入任何数据。（{counts}）")
        verb = "检查通过（--dry-run，未写入）" if opts["dry_run"] else "已导入"
        self.stdout.write(self.style.SUCCESS(f"{verb}：{counts}。用时 {seconds:.1f} 秒。"))

    @staticmethod
    def _tag_choices(opts) -> dict[str, str]:
        choices: dict[str, str] = {}
        for item in opts["map_tag"]:
            source, sep, target = item.partition("=")
            if not sep or not source.strip() or not target.strip():
                raise CommandError(f"--map-tag 应写成 表中写法=已有类别：{item}")
            tag = Tag.objects.filter(name=target.strip()).first()
            if tag is None:
                raise CommandError(f"没有人员类别“{target.strip()}”。")
            choices[source.strip()] = str(tag.pk)
        default = TAG_NEW if opts["create_tags"] else TAG_SKIP if opts["skip_unknown_tags"] else ""
        if default:
            # Applied to every category the file names that the system lacks (see validate).
            choices["*"] = default
        return choices


def _issue_line(e) -> str:
    """“人员台账”第 4 行 J列（联系电话）“123”：reason — an error or a warning."""
    where = f"{e.column}列（{e.header}）" if e.column else (e.header or "")
    value = f"“{e.value}”" if e.value else "（空）"
    return f"“{e.sheet}”第 {e.row} 行 {where}{value}：{e.reason}"
