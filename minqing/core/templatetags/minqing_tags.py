"""Template helpers that turn stored keys into words a resident's caseworker reads."""

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from minqing.core.i18n import source

register = template.Library()

# Keys of audit entries that are not fields of the model (a campaign's window, its list's counts).
_EXTRA = {
    "tags": _("类别"),
    "field": _("查看字段"),
    "window": _("活动期间"),
    "rule_targets": _("按规则列入"),
    "done": _("已走访"),
    "assignees": _("分配"),
    "assigned": _("分配户数"),
    "targets": _(
        "走访户数"
    ),  # a campaign's list (the reverse relation's name is 走访对象, the rule's)
    # An export's entry (registry.exports.record_export).
    "filters": _("筛选条件"),
    "rows": _("记录数"),
    "query": _("查询参数"),
    "range": _("报告期间"),  # a secondment report's export (secondments.exports)
    "links_ended": _("一并结束的联系"),  # a duty ended (duties.services.office_holder_end)
    "key_prefix": _("令牌前缀"),  # an API token issued or withdrawn (accounts.tokens)
}


@register.simple_tag
def field_label(model_label: str, key: str) -> str:
    """The verbose name of a field named in an audit entry (keys are stored as field names);
    a reverse relation (a campaign's `targets`) by the related records' plural name."""
    try:
        field = apps.get_model(model_label)._meta.get_field(key)
    except (LookupError, ValueError, FieldDoesNotExist):
        return _EXTRA.get(key, key)
    name = getattr(field, "verbose_name", None)
    if name is None:  # a reverse relation has none
        name = _EXTRA.get(key) or field.related_model._meta.verbose_name_plural
    return str(name)


@register.simple_tag
def named(name, detail) -> str:
    """{% named node.name node.code %}: core.i18n.named, the reader's brackets."""
    from minqing.core.i18n import named as _named

    return _named(name, detail)


@register.simple_tag
def field_value(model_label: str, key: str, value):
    """A value in an audit entry as people read it: a choice field's stored code (solved,
    draft …) or stored label (a campaign's history keeps 进行中, as the log reads in Chinese) by
    its label in the reader's language; yes/no as 是/否; a list (categories) joined with 、;
    anything else as stored; an empty value as （空）."""
    if value is None or value == "":
        return str(_("（空）"))
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, list | tuple):
        if not value:
            return str(_("（空）"))
        return str(_("、")).join(str(field_value(model_label, key, v)) for v in value)
    try:
        field = apps.get_model(model_label)._meta.get_field(key)
    except (LookupError, ValueError, FieldDoesNotExist):
        return value
    choices = dict(field.flatchoices) if getattr(field, "choices", None) else {}
    if isinstance(value, str | int) and value in choices:
        return str(choices[value])
    if isinstance(value, str) and choices:
        by_source = {source(label): label for label in choices.values()}
        if value in by_source:
            return str(by_source[value])
    return value


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


@register.simple_tag
def options(choices, selected=None):
    """The <option>s of a filter's drop-down, `selected` marked.

    choices: model instances (value = pk, label = str) or (value, label) pairs; selected: the
    chosen instance or value. Written in Python: as template tags, a list of twenty care
    groups cost a comparison, a filter and a number format per option on every search.
    """
    chosen = "" if selected is None else str(getattr(selected, "pk", selected))
    out = []
    for choice in choices:
        if isinstance(choice, tuple | list):
            value, label = choice[0], choice[1]
        else:
            value, label = choice.pk, choice
        value = str(value)
        mark = " selected" if value == chosen and chosen != "" else ""
        out.append(f'<option value="{escape(value)}"{mark}>{escape(label)}</option>')
    return mark_safe("".join(out))
