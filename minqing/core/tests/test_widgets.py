"""The filterable multi-select: every option carries what a typed filter matches it by."""

from django import forms

from minqing.core.widgets import FilterableSelectMultiple, search_keys


def test_an_option_is_found_by_text_pinyin_and_initials():
    keys = search_keys("王爱心 · 爱心妈妈 · 县妇联")
    assert "王爱心 · 爱心妈妈 · 县妇联" in keys
    assert "wangaixin" in keys.split() and "wax" in keys.split()
    assert search_keys("Li Ming · 志愿者") == "li ming · 志愿者"


def test_the_widget_renders_the_filter_prompt_and_the_keys():
    class Form(forms.Form):
        who = forms.MultipleChoiceField(
            choices=[("1", "张伟 · 帮扶干部"), ("2", "李慈爱 · 爱心妈妈")],
            widget=FilterableSelectMultiple(),
        )

    html = str(Form(initial={"who": ["2"]})["who"])
    assert 'data-filter="筛选：姓名、拼音或首字母"' in html and 'size="8"' in html
    assert 'data-keys="张伟 · 帮扶干部 zhangwei zw"' in html
    assert 'value="2" selected data-keys="李慈爱 · 爱心妈妈 liciai lca"' in html


class _Django(forms.Select):
    pass


def test_quick_options_write_what_djangos_templates_write():
    """QuickOptions writes the options in Python; the markup must stay Django's own: groups,
    the selected one, the empty choice, attributes and text that need escaping."""
    from minqing.core.widgets import QuickSelect

    choices = [
        ("", "请选择"),
        ("东门", [("a&1", '甲 <"网格">'), ("b", "乙")]),
        ("c'3", "丙 & 丁"),
        (4, "戊"),
    ]
    attrs = {"class": "input", "required": True, "disabled": False, "data-x": 'a"b'}
    for value in ["b", "c'3", "", None, "4", ["x"]]:
        quick = QuickSelect(attrs=attrs, choices=choices).render("grid", value)
        django = _Django(attrs=attrs, choices=choices).render("grid", value)
        assert str(quick) == str(django), value
    many = forms.SelectMultiple(choices=choices).render("who", ["b", 4])
    from minqing.core.widgets import QuickOptions

    class QuickMultiple(QuickOptions, forms.SelectMultiple):
        pass

    assert str(QuickMultiple(choices=choices).render("who", ["b", 4])) == str(many)
    assert "selected" in str(many)
