"""The downloadable template: the canonical headers on one sheet, how to fill them on another."""

import io

import xlsxwriter

from minqing.core.i18n import source_labels
from minqing.registry.imports.cells import RELATIONS
from minqing.registry.imports.headers import COLUMNS
from minqing.registry.models import Employment, Health, Relation

SHEET_DATA = "人员台账"
SHEET_HELP = "填写说明"
GENERAL_NOTES = [
    "1. 每人一行，从第 2 行开始填写；表头不要改动，不用的列可以删除，列的顺序可以调整。",
    "2. 带 * 的列必填。所属网格可在导入页面选择默认网格后不填。",
    "3. 同一户的人员填写相同的“户号”（各社区自行编号，在本社区内不重复即可）；"
    "没有户号的，填写相同的“户主姓名”和“现住址”即归为一户。",
    "4. 身份证号已登记的人员会被更新（只更新表中填写了的项目），未登记的新建档案；"
    "同一文件重复导入不会产生重复档案。",
    "5. 出生日期、性别由身份证号得出，可不填；填写时须与身份证号一致。",
    "6. 人员类别只增加、不删除：表中没写的已有类别保持不变。",
    "7. 导入前会先预览：列出每一处错误（工作表、行、列、内容、原因），全部改正后才能确认导入；"
    "确认后全部写入，或者一条也不写入。",
    "8. 公式单元格按其计算结果读取；请确保文件在 Excel/WPS 中保存过。",
]


def build_template() -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    head = wb.add_format(
        {"bold": True, "bg_color": "#FDE68A", "border": 1, "align": "center", "valign": "vcenter"}
    )
    head_required = wb.add_format(
        {
            "bold": True,
            "bg_color": "#FDE68A",
            "font_color": "#B91C1C",
            "border": 1,
            "align": "center",
            "valign": "vcenter",
        }
    )
    text = wb.add_format({"num_format": "@"})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    bold = wb.add_format({"bold": True})

    ws = wb.add_worksheet(SHEET_DATA)
    ws.freeze_panes(1, 0)
    ws.set_row(0, 22)
    for col, c in enumerate(COLUMNS):
        label = ("*" if c.required else "") + c.header
        ws.write_string(0, col, label, head_required if c.required else head)
        # ID numbers, phones and household numbers are text: as numbers Excel rounds them.
        fmt = date if c.key == "birth_date" else text
        ws.set_column(col, col, c.width, fmt)
        if c.help:
            ws.write_comment(0, col, c.help, {"x_scale": 2, "y_scale": 1.5})
        choices = {
            "sex": ["男", "女"],
            "relation": source_labels(Relation),
            "employment": source_labels(Employment),
            "health": source_labels(Health),
            "disability_grade": ["一级", "二级", "三级", "四级"],
            "party": ["中共党员", "预备党员", "共青团员", "群众"],
        }.get(c.key)
        if choices:
            ws.data_validation(
                1,
                col,
                10000,
                col,
                {
                    "validate": "list",
                    "source": choices,
                    "error_type": "warning",  # other spellings (妻子, 长子 …) are accepted too
                    "ignore_blank": True,
                },
            )

    help_ws = wb.add_worksheet(SHEET_HELP)
    help_ws.set_column(0, 0, 16)
    help_ws.set_column(1, 1, 8)
    help_ws.set_column(2, 2, 44)
    help_ws.set_column(3, 3, 60)
    help_ws.write_string(0, 0, "人员台账导入说明", bold)
    row = 2
    for note in GENERAL_NOTES:
        help_ws.merge_range(row, 0, row, 3, note, wrap)
        help_ws.set_row(row, 30)
        row += 1
    row += 1
    for col, title in enumerate(("列名", "必填", "说明", "也认作这一列的表头")):
        help_ws.write_string(row, col, title, head)
    for c in COLUMNS:
        row += 1
        help_ws.write_string(row, 0, c.header, wrap)
        help_ws.write_string(row, 1, "是" if c.required else "", wrap)
        help_ws.write_string(row, 2, c.help, wrap)
        help_ws.write_string(row, 3, "、".join(c.variants), wrap)
    row += 2
    help_ws.write_string(row, 0, "与户主关系可写", bold)
    help_ws.merge_range(row, 1, row, 3, "、".join(w for w in RELATIONS if not w.isascii()), wrap)
    help_ws.set_row(row, 60)
    wb.close()
    return out.getvalue()
