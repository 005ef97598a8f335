"""The columns of a people-and-households ledger (人口台账) and the names they go by.

Ledgers arrive from many offices, each with its own habits: 身份证号 or 公民身份号码, 手机号 or
联系电话, a "*" marking required columns, "(必填)" after a name, a line break inside a cell.
Headers are normalised (`normalise`) and looked up in one table of variants; the first variant
of each column is the canonical header the downloadable template carries.
"""

import re
from dataclasses import dataclass

# Characters that decorate a header without changing its meaning.
_DECORATION = re.compile(r"[\s\u3000*＊:：·•\"'“”‘’]+")
# "(必填)", "（选填）", "(手机)", "【户籍】" … a bracketed remark after the name.
_REMARK = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # canonical, as in the template
    variants: tuple[str, ...]
    required: bool = False
    help: str = ""
    width: float = 12


COLUMNS: tuple[Column, ...] = (
    Column(
        "grid",
        "所属网格",
        ("网格", "网格编码", "网格名称", "所在网格", "网格号", "所属网格编码", "所属网格名称"),
        help="网格编码（15位）或网格名称；导入时选择了默认网格的可不填。",
        width=18,
    ),
    Column(
        "household_number",
        "户号",
        ("户编号", "家庭户号", "户口号", "家庭编号", "户籍号"),
        help="同一户号的人员归为一户（户号在本社区内不重复即可）；不填则按“户主姓名＋现住址”归户。",
        width=16,
    ),
    Column(
        "head_name",
        "户主姓名",
        ("户主", "户主名", "户主名称"),
        help="同一户的每一行都填户主的姓名。",
    ),
    Column(
        "relation",
        "与户主关系",
        ("关系", "家庭关系", "与户主的关系", "家庭成员关系", "成员关系"),
        help="户主、配偶、子女、父母、孙子女、祖父母、兄弟姐妹、儿媳/女婿、其他"
        "（也可写妻子、长子、女儿等）。",
    ),
    Column("name", "姓名", ("居民姓名", "人员姓名", "成员姓名"), required=True),
    Column(
        "id_number",
        "公民身份号码",
        (
            "身份证号",
            "身份证号码",
            "身份证",
            "居民身份证号码",
            "居民身份证号",
            "公民身份证号码",
            "公民身份证号",
            "证件号码",
            "身份号码",
        ),
        required=True,
        help="18位；旧15位号码也可导入，会标记为旧证。请把此列设为“文本”格式，"
        "否则 Excel 会把后几位变成 0。",
        width=22,
    ),
    Column(
        "sex",
        "性别",
        (),
        help="可不填；填写时须与身份证号一致。",
        width=6,
    ),
    Column(
        "birth_date",
        "出生日期",
        ("出生年月日", "出生年月", "生日"),
        help="可不填；填写时须与身份证号一致。可写 1960-05-04、1960/5/4、19600504、"
        "1960年5月4日，或 Excel 日期。",
    ),
    Column("ethnicity", "民族", (), help="如“汉族”，“汉”亦可。", width=8),
    Column(
        "phone",
        "联系电话",
        (
            "手机号",
            "手机号码",
            "手机",
            "电话",
            "电话号码",
            "联系方式",
            "联系电话手机",
            "联系手机",
            "固定电话",
            "固话",
            "座机",
            "座机号码",
            "家庭电话",
            "住宅电话",
        ),
        help="手机11位，固定电话带区号，如 0571-87654321。",
        width=15,
    ),
    Column(
        "address",
        "现住址",
        ("居住地址", "现居住地址", "现居住地", "现住地址", "住址", "家庭住址", "居住地"),
        help="新建家庭户时必填。",
        width=28,
    ),
    Column(
        "registered_address",
        "户籍地址",
        ("户籍地", "户口所在地", "户籍所在地", "户籍住址"),
        width=28,
    ),
    Column(
        "employment",
        "就业状况",
        ("就业情况", "就业状态"),
        help="在业、务农、个体经营、失业、离退休、学生、学龄前、其他。",
    ),
    Column(
        "health",
        "健康状况",
        ("健康情况",),
        help="健康、慢性病、重病、残疾。",
    ),
    Column(
        "disability_grade",
        "残疾等级",
        ("残疾级别", "残疾等级（级）", "残疾程度"),
        help="一级、二级、三级、四级（或 1–4）；不是残疾人留空。",
        width=9,
    ),
    Column(
        "party",
        "政治面貌",
        ("是否党员", "党员"),
        help="中共党员（或“是”）即记为党员。",
    ),
    Column(
        "tags",
        "人员类别",
        ("标签", "人员类型", "类别", "人员标签", "关爱类别", "重点人群类别"),
        help="多个类别用顿号、逗号、分号或斜杠分开，如“低保、残疾”。须是系统中已有的类别。",
        width=18,
    ),
    Column("note", "备注", ("说明", "其他说明"), width=20),
)

BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED = tuple(c.key for c in COLUMNS if c.required)
# Columns a ledger may have several of (手机号 | 固定电话, 联系电话1 | 联系电话2): a row's first
# filled one is the value, so a landline-only resident keeps the number.
SEVERAL = frozenset({"phone"})
_NUMBERED = re.compile(r"[0-9０-９]+$")


def normalise(text) -> str:
    """A header as written → the form looked up: no spaces, stars, colons or (remarks)."""
    if text is None:
        return ""
    text = str(text)
    text = _REMARK.sub("", text)
    return _DECORATION.sub("", text)


_LOOKUP: dict[str, str] = {}
for _c in COLUMNS:
    for _name in (_c.header, *_c.variants):
        _LOOKUP[normalise(_name)] = _c.key


def match_header(text) -> str | None:
    """The column key a header cell names, or None. 联系电话1, 联系电话2 name the phone too."""
    label = normalise(text)
    key = _LOOKUP.get(label)
    if key is None and _NUMBERED.search(label):
        key = _LOOKUP.get(_NUMBERED.sub("", label))
        return key if key in SEVERAL else None
    return key
