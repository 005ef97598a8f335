"""{% translate "literal" %} worked out once per language: the same text as Django's own tag."""

import pytest
from django.template import Context, Engine, engines
from django.utils import translation

from minqing.core.templatetags.i18n_once import TranslateOnceNode

SOURCE = (
    "{% load i18n %}"
    '[{% translate "待办" %}]'
    '[{% translate "接待日" context "channel" %}]'
    '[{% translate "待办" as label %}{{ label }}]'
    '[{% translate "待办" noop %}]'
    "[{% translate word %}]"
    '[{% translate "待办"|lower %}]'
    "[{% blocktranslate %}共 {{ n }} 条{% endblocktranslate %}]"
    "{% autoescape off %}[{% translate amp %}]{% endautoescape %}"
    "[{% translate amp %}]"
)


def render(source: str, language: str, **context) -> str:
    with translation.override(language):
        return engines["django"].from_string(source).render(context)


def django_render(source: str, language: str, **context) -> str:
    engine = Engine(libraries={"i18n": "django.templatetags.i18n"})
    with translation.override(language):
        return engine.from_string(source).render(Context(context))


@pytest.mark.parametrize("language", ["zh-hans", "en", "zh-hans", "en"])
def test_every_form_renders_as_djangos_own_tag_in_each_language(language):
    context = {"word": "全部", "n": 3, "amp": "A & B"}
    ours = render(SOURCE, language, **context)
    assert ours == django_render(SOURCE, language, **context)
    if language == "en":
        assert ours.startswith("[Inbox][Reception day][Inbox][待办][All]")
    else:
        assert ours.startswith("[待办][接待日][待办][待办][全部]")


def test_only_literal_messages_without_filters_are_kept():
    template = engines["django"].from_string(SOURCE).template
    kept = [n for n in template.nodelist if isinstance(n, TranslateOnceNode)]
    assert len(kept) == 4  # plain, with context, with as, noop
    with translation.override("en"):
        engines["django"].from_string(SOURCE)  # a fresh template: nothing leaks between them
    assert {key[0] for node in kept for key in node.texts} <= {"zh-hans", "en"}


def test_the_language_switch_on_a_page_changes_its_words(client, grid_a_worker):
    client.force_login(grid_a_worker)
    zh = client.get("/cases/inbox/").content.decode()
    client.cookies["django_language"] = "en"
    en = client.get("/cases/inbox/").content.decode()
    assert "待办" in zh and ">Inbox<" not in zh
    assert "Inbox" in en and "全部案件" not in en
