"""Pinyin keys for names, so 张三 is found by `zhangsan` and `zs` (pypinyin, heteronym-aware).

pypinyin converts a string by first cutting it into the phrases of its phrase dictionary, then
reading each phrase, or each character that is in none, from its tables — about 25–60 µs a name,
most of the work of importing a ledger. A name none of whose substrings is a phrase (nearly
every name) is read character by character whatever the cut; those readings are kept per
character here, so such a name costs a few dictionary lookups. Any other name — one with a
phrase in it, or a character pypinyin reads as nothing or as several items — goes through
pypinyin itself. The keys are the same either way (a test compares them on 200 000 names).
"""

from functools import lru_cache
from itertools import product

from pypinyin import Style, pinyin
from pypinyin.constants import PHRASES_DICT

_MAX_READINGS = 8  # 单/曾/解… have several readings; keep a few combinations, not all
_FAST_LENGTH = (
    12  # longer strings (labels, not names) go to pypinyin: the substring test grows as n²
)


@lru_cache(maxsize=65_536)  # more than the characters pypinyin knows (≈ 42 000)
def _char_readings(char: str) -> tuple[str, ...] | None:
    """pypinyin's readings of one character (at most two), or None if it gives no single item."""
    readings = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    return tuple(readings[0][:2]) if len(readings) == 1 and readings[0] else None


def _readings(name: str) -> list:
    """Per character (or phrase) of the name, its plausible readings, as pypinyin gives them."""
    n = len(name)
    if n <= _FAST_LENGTH and not any(
        name[i:j] in PHRASES_DICT for i in range(n) for j in range(i + 2, n + 1)
    ):
        by_char = [_char_readings(c) for c in name]
        if None not in by_char:
            return by_char
    return [r[:2] for r in pinyin(name, style=Style.NORMAL, heteronym=True, errors="ignore")]


@lru_cache(maxsize=50_000)
def pinyin_keys(name: str) -> tuple[str, str]:
    """Return (full, initials), each a space-separated list of the plausible readings."""
    if not name:
        return "", ""
    fulls, initials = [], []
    for combo in product(*_readings(name)):
        fulls.append("".join(combo).replace("ü", "v"))
        initials.append("".join(c[0] for c in combo if c))
        if len(fulls) >= _MAX_READINGS:
            break
    return " ".join(dict.fromkeys(fulls)), " ".join(dict.fromkeys(initials))
