"""Writes ledger.xls beside this file: an Excel 97-2003 ledger as offices keep them (a merged
title row, 户号 and phones typed as numbers, date cells), read by test_import_xls.

Run once, by hand, when the file must change: xlwt is not a dependency of minqing.
    python -m venv /tmp/xlwt && /tmp/xlwt/bin/pip install xlwt
    /tmp/xlwt/bin/python minqing/registry/tests/data/make_ledger_xls.py
"""

import datetime
import pathlib

import xlwt

HEADERS = [
    "所属网格",
    "户号",
    "户主姓名",
    "与户主关系",
    "姓名",
    "身份证号码",
    "出生日期",
    "手机号",
    "现住址",
]
GRID = "330188001001001"
ROWS = [
    (GRID, 1, "王建国", "户主", "王建国", "330188196005040039", datetime.date(1960, 5, 4),
     13812345678, "人民路8号"),
    (GRID, 1, "王建国", "配偶", "李秀英", "330188196203090045", datetime.date(1962, 3, 9), None, ""),
    (GRID, 2, "赵大", "户主", "赵大", "330188197508010071", None, 13900001111, "人民路9号"),
]  # fmt: skip


def main() -> None:
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("家庭台账")
    ws.write_merge(0, 0, 0, len(HEADERS) - 1, "东门社区第1网格 家庭成员台账（2026年）")
    for c, h in enumerate(HEADERS):
        ws.write(1, c, h)
    date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(ROWS, start=2):
        for c, v in enumerate(row):
            if isinstance(v, datetime.date):
                ws.write(r, c, v, date)
            elif v is not None:
                ws.write(r, c, v)
    wb.save(str(pathlib.Path(__file__).with_name("ledger.xls")))


if __name__ == "__main__":
    main()
