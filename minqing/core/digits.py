"""Is this typed text a plain number?

`str.isdigit()` also says yes to "²" and "¹²" (superscripts, which int() refuses) and to other
scripts' digits; a form or query string holding one reached int() or the database and answered
500 (found by fuzzing). Every check of digits a user typed goes through here, so the rule is
written once: ASCII 0–9 only, and not so many that the number overflows a key column.
"""


def plain_digits(text: str, *, max_len: int | None = None, length: int | None = None) -> bool:
    """`text` is one or more ASCII digits; at most `max_len` of them, or exactly `length`."""
    if not (text.isascii() and text.isdigit()):
        return False
    if length is not None:
        return len(text) == length
    return max_len is None or len(text) <= max_len


def positive_id(raw) -> int | None:
    """A primary key from a query string or form value; None for anything that is not one
    (so a typed URL can never reach the database as a bad integer)."""
    raw = str(raw or "").strip()
    if plain_digits(raw, max_len=11) and int(raw) > 0:
        return int(raw)
    return None
