"""Template helpers of secondments."""

from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.875 → "87.5%"; None (nothing recorded) → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f}%"
