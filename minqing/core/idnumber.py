"""Resident ID numbers (GB 11643-1999, and the legacy 15-digit GB 11643-1989 form)."""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from minqing.core.digits import plain_digits
from minqing.core.pasted import plain

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

ERR_ID_LENGTH = _("身份证号应为18位（旧证15位）。")
ERR_ID_CHARS = _("身份证号只能包含数字，18位号码的最后一位可以是X。")
ERR_ID_BIRTH = _("身份证号中的出生日期 {value} 不是有效日期。")
ERR_ID_FUTURE = _("身份证号中的出生日期晚于今天。")
ERR_ID_CHECK = _("身份证号校验位错误：按 GB 11643 应为 {expected}。")
ERR_ID_REGION = _("身份证号前两位 {value} 不是省级行政区划代码，请核对号码。")

# The first two digits name a province (GB/T 2260): a number from a ledger typed with its first
# digits wrong (or made up) is caught even when its check character happens to fit. Only the
# province is checked: a county code stays valid for life after its county is abolished or
# renamed, so no table of today's counties can judge the other four digits. 71 台湾, 81 香港,
# 82 澳门 and 83 (港澳台居民居住证) are issued too; a 2023 foreigner's permanent residence card
# has 18 characters, 9 and then the issuing province, and the same check character.
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83".split()
)


class IdNumberError(ValueError):
    pass


@dataclass(frozen=True)
class IdNumber:
    number: str  # normalised: upper-case X
    birth_date: datetime.date
    sex: str  # "M" or "F"
    legacy: bool  # a 15-digit number: accepted, flagged

    @property
    def area_code(self) -> str:
        return self.number[:6]


def check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


# Full-width digits and Ｘ (an input method or WPS often gives ３３０１…) are the characters an
# ID card has; nothing else is turned into a digit (a superscript ² stays a wrong character).
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ\u3000", "0123456789Xx ")


def normalise(raw: str) -> str:
    """Upper-case, without spaces of any kind or invisible marks (core.pasted), full-width
    digits read as digits."""
    return plain((raw or "").translate(_FULL_WIDTH)).replace(" ", "").upper()


def parse_id_number(raw: str, *, today: datetime.date | None = None) -> IdNumber:
    """Validate and decode an ID number; raise IdNumberError with a message in the UI language."""
    number = normalise(raw)
    if len(number) not in (15, 18):
        raise IdNumberError(ERR_ID_LENGTH)
    body = number[:17] if len(number) == 18 else number
    if not plain_digits(body) or (
        len(number) == 18 and not (plain_digits(number[17]) or number[17] == "X")
    ):
        raise IdNumberError(ERR_ID_CHARS)
    legacy = len(number) == 15
    foreigner = not legacy and number[0] == "9"  # 9, the issuing province, a country code
    if (number[1:3] if foreigner else number[:2]) not in PROVINCES:
        raise IdNumberError(ERR_ID_REGION.format(value=number[:2]))
    birth = ("19" + number[6:12]) if legacy else number[6:14]
    try:
        birth_date = datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        raise IdNumberError(ERR_ID_BIRTH.format(value=birth)) from None
    if birth_date > (today or datetime.date.today()) or birth_date.year < 1880:
        raise IdNumberError(
            ERR_ID_FUTURE if birth_date.year >= 1880 else ERR_ID_BIRTH.format(value=birth)
        )
    if not legacy:
        expected = check_character(number[:17])
        if number[17] != expected:
            raise IdNumberError(ERR_ID_CHECK.format(expected=expected))
    seq_digit = int(number[14] if legacy else number[16])
    return IdNumber(
        number=number, birth_date=birth_date, sex="M" if seq_digit % 2 else "F", legacy=legacy
    )


def upgraded(number: str) -> str:
    """A 15-digit number as the 18-digit one its holder was given (GB 11643-1999: 19 before
    the two-digit year, a check character after); any other number as it is. Both are the
    same person's: minqing files people under this form (registry.identity)."""
    if len(number) != 15 or not plain_digits(number):
        return number
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_character(first17)


def other_form(number: str) -> str | None:
    """The same person's number in the other length, if there is one: the 18-digit upgrade of
    a 15-digit number, or the 15-digit number an 18-digit one of the 1900s replaced."""
    if len(number) == 15:
        return upgraded(number) if plain_digits(number) else None
    if len(number) == 18 and number[6:8] == "19" and number[0] != "9" and plain_digits(number[:17]):
        if check_character(number[:17]) == number[17]:
            return number[:6] + number[8:17]
    return None


def make_id_number(area: str, birth: datetime.date, seq: int) -> str:
    """Build a valid 18-digit number (demo data and tests)."""
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)
