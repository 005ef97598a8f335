"""The Chinese source text of translatable labels, whatever language the request is in.

Choice labels, transition labels and the like are lazy translations: the English UI shows them
in English. What is stored (case events, audit entries), exported as an official ledger, read
back from an import sheet or sent to outside systems (Open311) keeps the Chinese source text.
"""

from django.utils import translation


def source(text) -> str:
    """`text` (a lazy translation or a plain str) as its untranslated source string."""
    with translation.override(None):
        return str(text)


def source_text(make) -> str:
    """What `make()` writes in the source language (an official ledger stays Chinese for an
    English reader): a property that translates as it formats, read untranslated."""
    with translation.override(None):
        return str(make())


def source_labels(choices) -> list[str]:
    """The source labels of a Choices class, in order."""
    with translation.override(None):
        return [str(label) for label in choices.labels]


def source_choices(choices) -> dict:
    """{value: source label} of a Choices class."""
    with translation.override(None):
        return {value: str(label) for value, label in choices.choices}


def named(name, detail) -> str:
    """A name with a detail in brackets, punctuated for the reader: 东门社区（330188001001） in
    Chinese, "Dongmen (330188001001)" in English. Empty detail: the name alone."""
    if detail in (None, ""):
        return str(name)
    return translation.gettext("%(name)s（%(detail)s）") % {"name": name, "detail": detail}
