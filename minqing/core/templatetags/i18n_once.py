"""Django's i18n template tags, with `{% translate "literal" %}` worked out once per language.

Django's TranslateNode makes a lazy translation on every render and turns it into text; a page
has a few dozen of them (header, menus, table heads), ≈ 15 µs each. A literal message without
filters gives the same text for the same language and autoescaping, so each such node keeps
its text per (language, autoescape). Everything else — variables, filters, blocktranslate —
is Django's own. Registered as the `i18n` library (settings.TEMPLATES "libraries"), so every
template's `{% load i18n %}` gets it.
"""

from django.template import Library, Node
from django.templatetags import i18n as django_i18n
from django.utils.translation import get_language

register = Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


def _constant(node: django_i18n.TranslateNode) -> bool:
    expression, context = node.filter_expression, node.message_context
    literal = getattr(expression.var, "lookups", True) is None and not expression.filters
    fixed_context = context is None or (isinstance(context.var, str) and not context.filters)
    return literal and fixed_context


class TranslateOnceNode(Node):
    child_nodelists = ()

    def __init__(self, inner: django_i18n.TranslateNode):
        self.inner = inner
        self.asvar, inner.asvar = inner.asvar, None
        self.texts: dict[tuple, str] = {}

    def render(self, context):
        key = (get_language(), context.autoescape)
        text = self.texts.get(key)
        if text is None:
            text = self.texts[key] = self.inner.render(context)
        if self.asvar:
            context[self.asvar] = text
            return ""
        return text


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = django_i18n.do_translate(parser, token)
    return TranslateOnceNode(node) if _constant(node) else node
