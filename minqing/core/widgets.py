"""Form widgets shared by the apps."""

from functools import lru_cache

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
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


def _attrs_html(attrs: dict) -> str:
    """Django's attrs.html in Python: True as a bare name, False left out, values escaped."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class QuickOptions:
    """A select written in Python instead of one template include per option, with the same
    markup as Django's.

    Django renders each <option> through a template of its own: a county officer's case form
    lists 3 459 grids and took 356 ms on the cases benchmark county (112 ms written here), the
    handover page's 7 346 staff 722 ms (357). Mixed in before the Select class it speeds up.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        out = [
            f'<select name="{conditional_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>'
        ]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                shown = conditional_escape(str(option["value"]))
                label = conditional_escape(option["label"])
                out.append(
                    f'\n  <option value="{shown}"{_attrs_html(option["attrs"])}>{label}</option>\n'
                )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 — every value above is escaped


class QuickSelect(QuickOptions, forms.Select):
    """forms.Select for long lists (a county's grids)."""


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


class FilterableSelectMultiple(_Filterable, QuickOptions, forms.SelectMultiple):
    """A multi-select with a filter box above it (minqing/filter-select.js).

    Picking two helpers out of a county's hundreds in a plain list means scrolling; typing a
    name, its pinyin or initials narrows the list, and chosen options stay in sight. Without
    JavaScript it is the plain list it always was.
    """


class FilterableSelect(_Filterable, QuickOptions, forms.Select):
    """One choice out of a long list (a successor among a county's helpers), filtered alike."""
