"""The assistance card on the home page."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def assistance_home_card(context):
    """HTML of this app's home-page card for the signed-in user ('' when nothing applies)."""
    return ""
