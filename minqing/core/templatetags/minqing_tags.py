"""Template helpers that turn stored keys into words a resident's caseworker reads."""

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

register = template.Library()

_EXTRA = {"tags": "类别", "field": "查看字段"}


@register.simple_tag
def field_label(model_label: str, key: str) -> str:
    """The verbose name of a field named in an audit entry (keys are stored as field names)."""
    try:
        model = apps.get_model(model_label)
        return str(model._meta.get_field(key).verbose_name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return _EXTRA.get(key, key)


@register.filter
def visible_to(tags, user):
    """A record's care-group tags without the sensitive ones the user may not see."""
    from minqing.registry.selectors import shown_tags

    return shown_tags(user, tags)


@register.simple_tag(takes_context=True)
def main_menu(context):
    """The header's menu (minqing.core.navigation), for the signed-in user."""
    from minqing.core.navigation import menu_html

    request = context["request"]
    return menu_html(
        request.path, audit=bool(context.get("perms_audit")), staff=request.user.is_staff
    )
