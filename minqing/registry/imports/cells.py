"""One cell at a time: the spellings ledgers use for dates, sexes, relations and the like.

Each parser takes the cell as calamine or csv gives it (str, int, float, bool, date, datetime)
and returns the stored value, or raises CellError with the reason shown to the user (in the UI
language).
"""

import datetime
import math
import re
import unicodedata

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from minqing.core.digits import plain_digits
from minqing.core.i18n import source_choices, source_labels
from minqing.core.idnumber import normalise as normalise_id
from minqing.core.pasted import plain
from minqing.registry.models import Employment, Health, Relation

ERR_DATE = _(
    "无法识别的日期。可写 2026-11-26、2026/11/26、20261126、2026年11月26日，或 Excel 日期格式。"
)
ERR_SEX = _("性别应为“男”或“女”。")
ERR_RELATION = _(
    "无法识别的与户主关系。可填：户主、配偶、子女、父母、孙子女、祖父母、兄弟姐妹、"
    "儿媳/女婿、其他。"
)
# The accepted values are the Chinese labels whatever the UI language: they are what a sheet holds.
ERR_EMPLOYMENT = format_lazy(
    _("无法识别的就业状况。可填：{choices}。"), choices="、".join(source_labels(Employment))
)
ERR_HEALTH = format_lazy(
    _("无法识别的健康状况。可填：{choices}。"), choices="、".join(source_labels(Health))
)
ERR_DISABILITY = _("无法识别的残疾等级。可填：一级、二级、三级、四级（或 1–4），不是残疾人留空。")
ERR_PARTY = _("无法识别的政治面貌。可填：中共党员、预备党员、共青团员、群众等，或“是/否”。")
ERR_ID_MASKED = _(
    "身份证号已打码（导出文件中的号码不完整），不能导入：请在导入模板中填写完整号码。"
)
ERR_ID_NUMERIC = _(
    "身份证号被 Excel 存成了数字，末几位已变成 0，无法恢复：请把该列设为“文本”格式后重新填写。"
)
ERR_TOO_LONG = _("内容过长：最多 {n} 个字。")

_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31
_DATE_PARTS = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_YEAR_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
TAG_SPLIT = re.compile(r"[、，,;；/／|｜\s]+")


class CellError(ValueError):
    pass


def text(value) -> str:
    """A cell as the text a person typed: 13812345678.0 → "13812345678", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return plain(value)  # a zero-width space or a no-break space pasted into the cell
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def id_number_text(value) -> str:
    """The ID number as typed; a number Excel has rounded (over 15 digits) cannot be trusted."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        digits = text(value)
        if len(digits) > 15:
            raise CellError(ERR_ID_NUMERIC)
        return digits
    # Excel's text prefix ('3301…), kept as typed when the sheet went through a CSV.
    typed = normalise_id(text(value).lstrip("'‘’"))
    if "*" in typed:
        raise CellError(ERR_ID_MASKED)
    if is_scientific(typed):
        raise CellError(ERR_ID_NUMERIC)  # 3.30188E+17: Excel's number, saved to a CSV as text
    return typed


_SCIENTIFIC = re.compile(r"^[0-9][.,]?([0-9]*)E\+?[0-9]{1,3}$", re.IGNORECASE)


def is_scientific(typed: str) -> bool:
    """A number as Excel shows a long one (3.30188E+17): its last digits are gone."""
    return _SCIENTIFIC.match(typed) is not None


def scientific_shown(typed: str) -> str:
    """3.30188197102039E+17 as an error shows it: the region's digits, not the birth date."""
    mantissa, _e, exponent = typed.upper().partition("E")
    return mantissa[:7] + "*" * len(mantissa[7:]) + "E" + exponent


def address(value: str) -> str:
    """An address as stored: what a Chinese keyboard types in full width (１２号３幢, Ａ座)
    written plainly, as the search is typed, and runs of spaces as one."""
    if value.isascii():
        return " ".join(value.split())
    return " ".join(unicodedata.normalize("NFKC", value).split())


def address_key(value: str) -> str:
    """What makes two spellings of an address (from `address`) one place: its spaces do not
    count (幸福路12号 3幢 is 幸福路12号3幢), so one family's rows stay one household."""
    return "".join(value.split())


def limited(value: str, n: int) -> str:
    if len(value) > n:
        raise CellError(ERR_TOO_LONG.format(n=n))
    return value


def excel_serial(n: float) -> datetime.date:
    if not 1 <= n <= _EXCEL_MAX_SERIAL:
        raise CellError(ERR_DATE)
    return _EXCEL_EPOCH + datetime.timedelta(days=int(n))


def _number_date(value: float) -> "datetime.date | YearMonth":
    """A date typed into a number cell: 19600504, 1960.05 (出生年月), or an Excel serial."""
    if not math.isfinite(value):  # a cell holding inf or NaN
        raise CellError(ERR_DATE)
    whole = int(value)
    if value == whole and 10_000_000 <= whole <= 99_991_231:
        digits = str(whole)
        try:
            return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            raise CellError(ERR_DATE) from None
    if value != whole and 1880 <= whole <= 2100:
        month = round((value - whole) * 100)  # 1960.05 is May; 1960.1 was typed as 1960.10
        if 1 <= month <= 12:
            return YearMonth((whole, month))
        raise CellError(ERR_DATE)
    return excel_serial(value)


class YearMonth(tuple):
    """出生年月 written without the day ("1960.05", "1960年5月", "196005")."""

    __slots__ = ()

    def isoformat(self) -> str:
        return f"{self[0]:04d}-{self[1]:02d}"

    def matches(self, day: datetime.date) -> bool:
        return (day.year, day.month) == tuple(self)


def year_month(raw: str) -> YearMonth | None:
    m = _YEAR_MONTH.match(raw)
    if m is None and plain_digits(raw, length=6):
        m = (None, raw[:4], raw[4:])
    if m is None or not 1 <= int(m[2]) <= 12:
        return None
    return YearMonth((int(m[1]), int(m[2])))


def date(value) -> datetime.date | YearMonth | None:
    """2026-11-26, 2026/11/26, 2026.11.26, 20261126, 2026年11月26日 (or 号), in full width too,
    a date cell or a serial; a year and month alone (1960.05) as YearMonth."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        raise CellError(ERR_DATE)
    if isinstance(value, int | float):
        return _number_date(value)
    raw = str(value).strip()
    if not raw:
        return None
    if not raw.isascii():
        raw = unicodedata.normalize("NFKC", raw)  # １９６００５０４ typed in full width
    m = _DATE_PARTS.match(raw)
    try:
        if m:
            return datetime.date(int(m[1]), int(m[2]), int(m[3]))
        if plain_digits(raw, length=8):
            return datetime.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        partial = year_month(raw)
        if partial is not None:
            return partial
        if raw.isascii() and raw.replace(".", "", 1).isdigit() and len(raw.split(".")[0]) <= 5:
            return excel_serial(float(raw))  # a serial number that arrived as text (CSV)
    except ValueError:
        raise CellError(ERR_DATE) from None
    raise CellError(ERR_DATE)


_SEX = {"男": "M", "男性": "M", "M": "M", "MALE": "M", "女": "F", "女性": "F", "F": "F"}
_SEX["FEMALE"] = "F"


def sex(value: str) -> str:
    if not value:
        return ""
    found = _SEX.get(value.upper())
    if found is None:
        raise CellError(ERR_SEX)
    return found


_RELATION_WORDS = {
    Relation.HEAD: "户主 本人 户主本人",
    Relation.SPOUSE: "配偶 妻 妻子 夫 丈夫 夫妻 爱人 老伴",
    Relation.CHILD: "子女 子 女 儿 儿子 女儿 长子 次子 二子 三子 四子 五子 长女 次女 二女 三女 "
    "四女 五女 独子 独女 养子 养女 继子 继女 大儿子 二儿子 小儿子 大女儿 二女儿 小女儿",
    Relation.PARENT: "父母 父 母 父亲 母亲 公公 婆婆 岳父 岳母 养父 养母 继父 继母",
    Relation.GRANDCHILD: "孙子女 孙子 孙女 外孙 外孙子 外孙女 孙 曾孙 曾孙子 曾孙女 重孙 "
    "重孙子 重孙女 外曾孙 外曾孙女",
    Relation.GRANDPARENT: "祖父母 祖父 祖母 外祖父 外祖母 爷爷 奶奶 外公 外婆",
    Relation.SIBLING: "兄弟姐妹 兄 弟 姐 妹 哥哥 弟弟 姐姐 妹妹 兄弟 姐妹 胞兄 胞弟 胞姐 胞妹",
    Relation.IN_LAW: "儿媳/女婿 儿媳 女婿 媳妇 儿媳妇 长媳 次媳",
    # Relatives the household form has no place for: nephews, in-laws of a sibling, a
    # grandchild's spouse …
    Relation.OTHER: "其他 其它 其他亲属 亲属 非亲属 保姆 租户 侄 侄子 侄儿 侄女 外甥 外甥女 侄孙 "
    "侄孙子 侄孙女 嫂 嫂子 弟媳 姐夫 妹夫 孙媳 孙媳妇 孙女婿 伯父 伯母 叔叔 叔父 婶婶 姑姑 "
    "姑妈 舅舅 舅妈 姨妈 姨父",
}
# "户主之子", "之女", "之孙": the relation written after "(户主)之" or "(户主)的".
_OF_HEAD = re.compile(r"^(?:户主)?[之的]")
RELATIONS = {word: rel.value for rel, words in _RELATION_WORDS.items() for word in words.split()}
RELATIONS.update({r.value: r.value for r in Relation})


def relation(value: str) -> str:
    if not value:
        return ""
    value = value.replace(" ", "")
    found = RELATIONS.get(value) or RELATIONS.get(_OF_HEAD.sub("", value))
    if found is None:
        raise CellError(ERR_RELATION)
    return found


_EMPLOYMENT = {label: value for value, label in source_choices(Employment).items()}
_EMPLOYMENT.update(
    {
        "就业": Employment.EMPLOYED,
        "在职": Employment.EMPLOYED,
        "务工": Employment.EMPLOYED,
        "农民": Employment.FARMER,
        "个体": Employment.SELF,
        "个体户": Employment.SELF,
        "无业": Employment.UNEMPLOYED,
        "下岗": Employment.UNEMPLOYED,
        "失业人员": Employment.UNEMPLOYED,
        "退休": Employment.RETIRED,
        "离休": Employment.RETIRED,
        "在校学生": Employment.STUDENT,
        "在校生": Employment.STUDENT,
        "学龄前儿童": Employment.CHILD,
        "其它": Employment.OTHER,
    }
)


def employment(value: str) -> str:
    if not value:
        return ""
    found = _EMPLOYMENT.get(value)
    if found is None:
        raise CellError(ERR_EMPLOYMENT)
    return str(found)


_HEALTH = {label: value for value, label in source_choices(Health).items()}
_HEALTH.update(
    {
        "良好": Health.GOOD,
        "健康良好": Health.GOOD,
        "一般": Health.GOOD,
        "慢性病患者": Health.CHRONIC,
        "患病": Health.CHRONIC,
        "大病": Health.SERIOUS,
        "重大疾病": Health.SERIOUS,
        "残疾人": Health.DISABLED,
    }
)


_DISABILITY = {}
for _n, _word in enumerate(("一", "二", "三", "四"), start=1):
    for _form in (f"{_word}级", _word, str(_n), f"{_n}级", f"{_word}级残疾", f"残疾{_word}级"):
        _DISABILITY[_form] = _n
_DISABILITY.update({"无": 0, "否": 0, "0": 0})


def disability_grade(value: str) -> int | None:
    """残疾等级 as 1–4 (0: none); None for an empty cell, which never clears what is on file."""
    if not value:
        return None
    found = _DISABILITY.get(value.replace(" ", ""))
    if found is None:
        raise CellError(ERR_DISABILITY)
    return found


def health(value: str) -> str:
    if not value:
        return ""
    found = _HEALTH.get(value)
    if found is None:
        raise CellError(ERR_HEALTH)
    return str(found)


_PARTY_YES = {"中共党员", "中国共产党党员", "党员", "中共预备党员", "预备党员", "是", "Y", "YES"}
_PARTY_NO = {
    "群众",
    "共青团员",
    "团员",
    "中共团员",
    "民主党派",
    "无党派人士",
    "无党派",
    "否",
    "非党员",
    "无",
    "N",
    "NO",
}


def party(value: str) -> bool | None:
    if not value:
        return None
    v = value.upper()
    if v in _PARTY_YES:
        return True
    if v in _PARTY_NO or v.endswith(("党派", "团员")):
        return False
    raise CellError(ERR_PARTY)


def ethnicity(value: str) -> str:
    """ "汉" → "汉族": the 56 nationalities are stored with their 族."""
    if not value:
        return ""
    value = value.replace(" ", "")
    if not value.endswith("族") and len(value) <= 4 and "人" not in value:
        value += "族"
    return limited(value, 20)


def tag_names(value: str) -> list[str]:
    return [t for t in TAG_SPLIT.split(value) if t] if value else []
