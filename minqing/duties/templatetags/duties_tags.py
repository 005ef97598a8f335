"""The duties card on the home page."""

from django import template
from django.template.loader import render_to_string

from minqing.duties import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def duties_home_card(context):
    """HTML of this app's home-page card for the signed-in user ('' when nothing applies):
    this month's owed and done for a duty holder."""
    request = context.get("request")
    user = getattr(request, "user", None)
    holder = selectors.current_holder(user) if user is not None else None
    if holder is None:
        return ""
    month = selectors.parse_month("")
    line = next(
        (ln for ln in selectors.my_lines(user, month, with_links=False) if ln.holder == holder),
        None,
    )
    if line is None:
        return ""
    return render_to_string(
        "duties/home_card.html", {"line": line, "month": month}, request=request
    )
