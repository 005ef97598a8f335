"""Small helpers every app's views share when they put service errors onto forms."""

from django.core.exceptions import ValidationError


def apply_errors(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has one, else
    at the top."""
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def positive_id(raw) -> int | None:
    """A primary key from a query string or form value; None for anything that is not one
    (so a typed URL can never reach the database as a bad integer)."""
    raw = str(raw or "").strip()
    if raw.isascii() and raw.isdigit() and 0 < len(raw) < 12:
        return int(raw)
    return None
