"""Pinyin keys: the per-character shortcut gives what pypinyin's own conversion gives."""

import random
from itertools import product

import pytest
from pypinyin import Style, pinyin
from pypinyin.constants import PINYIN_DICT

from minqing.core import pinyin as keys
from minqing.registry import demo_names


def reference(name: str) -> tuple[str, str]:
    """pinyin_keys as it was before the shortcut: pypinyin on the whole name."""
    if not name:
        return "", ""
    readings = [r[:2] for r in pinyin(name, style=Style.NORMAL, heteronym=True, errors="ignore")]
    fulls, initials = [], []
    for combo in product(*readings):
        fulls.append("".join(combo).replace("ü", "v"))
        initials.append("".join(c[0] for c in combo if c))
        if len(fulls) >= 8:
            break
    return " ".join(dict.fromkeys(fulls)), " ".join(dict.fromkeys(initials))


def _names() -> list[str]:
    rng = random.Random(20261127)
    demo = sorted(
        {c for c in "".join(map(str, vars(demo_names).values())) if "\u4e00" <= c <= "\u9fff"}
    )
    every = [chr(k) for k in sorted(PINYIN_DICT) if 0x4E00 <= k <= 0x9FFF]
    names = [
        "".join(rng.choice(demo) for _ in range(rng.choice([2, 3, 3, 4]))) for _ in range(3000)
    ]
    names += ["".join(rng.choice(every) for _ in range(rng.choice([2, 3, 4]))) for _ in range(3000)]
    return names


def test_the_shortcut_gives_pypinyins_keys_for_many_names():
    names = _names()
    shortcut = sum(keys._readings(n) == [keys._char_readings(c) for c in n] for n in names)
    assert shortcut > 0.9 * len(names)  # most names take the shortcut
    assert [keys.pinyin_keys.__wrapped__(n) for n in names] == [reference(n) for n in names]


@pytest.mark.parametrize(
    "name",
    [
        "张长江",  # 长江 is a phrase: read as one (cháng), not per character (zhǎng/cháng)
        "单田芳",  # a surname with three readings
        "曾小明",
        "吕布",  # ü
        "买买提·艾力",  # a separator pypinyin drops
        "Anna张",  # letters
        "𠀀",  # a character pypinyin does not know
        "欧阳建国",
        "",
        "张" * 30,  # long: no shortcut
    ],
)
def test_special_names_give_pypinyins_keys(name):
    assert keys.pinyin_keys.__wrapped__(name) == reference(name)


def test_names_are_found_by_full_pinyin_and_initials():
    assert keys.pinyin_keys("张三") == ("zhangsan", "zs")
    full, initials = keys.pinyin_keys("单田芳")
    assert "dantianfang" in full.split() and "dtf" in initials.split()
