"""The assistance card on the home page, and small filters of the assistance pages."""

from django import template
from django.template.loader import render_to_string

from minqing.core.masking import mask_phone

register = template.Library()


@register.simple_tag(takes_context=True)
def assistance_home_card(context):
    """HTML of this app's home-page card for the signed-in user ('' when nothing applies):
    due and overdue contacts of the user's own pairings, or of their part of the tree."""
    from minqing.assistance import selectors

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    concern = selectors.concerns(user)
    if not concern:
        return ""
    if concern == "mine":
        qs = selectors.my_pairings(user)
    else:
        qs = selectors.office_pairings(user)
    rows = selectors.due_rows(user, qs=qs)
    return render_to_string(
        "assistance/home_card.html",
        {
            "mine": concern == "mine",
            "counts": selectors.due_counts(rows),
            "pairings": qs.filter(end__isnull=True).count(),
        },
        request=request,
    )


@register.filter
def masked_phone(value) -> str:
    return mask_phone(value or "")
