"""Text as pasted: what a ledger cell, a WeChat message or a web page carries that nobody sees.

A name copied from a chat can hold a zero-width space (张\u200b三 looks like 张三, and is
found by nobody), an ID number copied from a document a no-break space between its digit
groups (refused as "not 18 digits" while the user sees 18). Invisible marks are dropped and
every kind of space reads as the ordinary one, so what is stored is what the user sees.
"""

import re

# Zero-width space, non-joiner, joiner, word joiner, byte-order mark (ZWNBSP), soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# No-break space, the ideographic space (全角空格), en/em/thin spaces, narrow no-break space.
_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


_ODD = re.compile("[\u00a0\u00ad\u1680\u2000-\u200d\u202f\u205f\u2060\u3000\ufeff]")


def plain(value: str) -> str:
    """The text without invisible marks, its spaces ordinary ones, stripped. A text with none
    (nearly every cell of a 100 000-row ledger) is only stripped."""
    if not value:
        return ""
    if value.isascii() or not _ODD.search(value):
        return value.strip()
    return _SPACES.sub(" ", value.translate(_INVISIBLE)).strip()
