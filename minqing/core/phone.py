"""Phone numbers as residents give them: an 11-digit mobile or a landline with area code."""

import re

from django.utils.translation import gettext_lazy as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")

ERR_PHONE = _("电话号码格式不对：手机应为1开头的11位数字，固定电话如 0571-87654321。")


def normalise_phone(raw: str) -> str:
    value = (raw or "").strip().replace(" ", "").replace("（", "(").replace("）", ")")
    if value.startswith("+86"):
        value = value[3:]
    return value.replace("(", "").replace(")", "-") if value.startswith("(") else value


def is_valid_phone(value: str) -> bool:
    return bool(_MOBILE.match(value) or _LANDLINE.match(value))
