"""Pinyin keys for names, so 张三 is found by `zhangsan` and `zs` (pypinyin, heteronym-aware)."""

from functools import lru_cache
from itertools import product

from pypinyin import Style, pinyin

_MAX_READINGS = 8  # 单/曾/解… have several readings; keep a few combinations, not all


@lru_cache(maxsize=50_000)
def pinyin_keys(name: str) -> tuple[str, str]:
    """Return (full, initials), each a space-separated list of the plausible readings."""
    if not name:
        return "", ""
    readings = pinyin(name, style=Style.NORMAL, heteronym=True, errors="ignore")
    readings = [r[:2] for r in readings]  # at most two readings per character
    fulls, initials = [], []
    for combo in product(*readings):
        fulls.append("".join(combo).replace("ü", "v"))
        initials.append("".join(c[0] for c in combo if c))
        if len(fulls) >= _MAX_READINGS:
            break
    return " ".join(dict.fromkeys(fulls)), " ".join(dict.fromkeys(initials))
