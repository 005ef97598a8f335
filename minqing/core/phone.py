"""Phone numbers as residents give them: an 11-digit mobile or a landline with area code."""

import re

from django.utils.translation import gettext_lazy as _

from minqing.core.pasted import plain

# [0-9], not \d: \d is any script's digit (٨, ８), which the last-4 look-ups never match.
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?$")
# What a Chinese keyboard types in full width: digits, the plus, the hyphen, the space.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－\u3000", "0123456789+- ")

# Between a mobile's digit groups (138-0013-8000, 138.0013.8000) and after its country code.
_SEPARATORS = re.compile("[-.\u2010-\u2015]")
_COUNTRY = ("+86", "0086", "86")

ERR_PHONE = _("电话号码格式不对：手机应为1开头的11位数字，固定电话如 0571-87654321。")


def normalise_phone(raw: str) -> str:
    """As typed (138 0013 8000, 138-0013-8000, +86-138…, 0086 138…, （0571）87654321,
    full-width digits) → as stored: a mobile as its 11 digits, a landline as written."""
    value = (
        plain((raw or "").translate(_FULL_WIDTH))
        .replace(" ", "")
        .replace("（", "(")
        .replace("）", ")")
    )
    digits = _SEPARATORS.sub("", value)
    if _MOBILE.match(digits):
        return digits
    for prefix in _COUNTRY:
        if digits.startswith(prefix) and _MOBILE.match(digits[len(prefix) :]):
            return digits[len(prefix) :]
    if value.startswith("+86"):
        value = value[3:]
    return value.replace("(", "").replace(")", "-") if value.startswith("(") else value


def is_valid_phone(value: str) -> bool:
    return bool(_MOBILE.match(value) or _LANDLINE.match(value))
