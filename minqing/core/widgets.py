"""Form widgets shared by the apps."""

from functools import lru_cache

from django import forms
from django.utils.translation import gettext_lazy as _

from minqing.core.pinyin import pinyin_keys


@lru_cache(maxsize=8192)
def search_keys(label: str) -> str:
    """What a typed filter matches an option by: its text, and its leading name's pinyin and
    initials (王爱心 · 爱心妈妈 → "wangaixin wax"), lower case. Cached: a county's helper list
    is drawn again on every form, and a name's readings do not change."""
    name = label.split(" · ")[0]
    full, initials = pinyin_keys(name)
    return " ".join(part for part in (label, full, initials) if part).lower()


class _Filterable:
    """Options carry their search keys; the select asks for a filter box (filter-select.js)."""

    def __init__(self, attrs=None, choices=()):
        attrs = {"size": 8, **(attrs or {})}
        attrs.setdefault("data-filter", _("筛选：姓名、拼音或首字母"))
        super().__init__(attrs, choices)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"]["data-keys"] = search_keys(str(label))
        return option


class FilterableSelectMultiple(_Filterable, forms.SelectMultiple):
    """A multi-select with a filter box above it (minqing/filter-select.js).

    Picking two helpers out of a county's hundreds in a plain list means scrolling; typing a
    name, its pinyin or initials narrows the list, and chosen options stay in sight. Without
    JavaScript it is the plain list it always was.
    """


class FilterableSelect(_Filterable, forms.Select):
    """One choice out of a long list (a successor among a county's helpers), filtered alike."""
