"""Admin: duty rules are configuration; holders and their links are kept here by offices,
scoped like every list (an office sees the holders whose node is in its subtree), and every
change is written to the audit log. Days in the community are the holders' own records:
listed, not edited."""

from django.contrib import admin

from minqing.core.admin import (
    AuditedAdmin,
    CountyWide,
    ReadOnlyScopedAdmin,
    ScopedAdmin,
    ScopedChoices,
)
from minqing.duties.models import DutyDay, DutyHolder, DutyLink, DutyRule
from minqing.duties.services import HOLDER_FIELDS, LINK_FIELDS

RULE_FIELDS = [
    "code",
    "name",
    "communities",
    "households",
    "targets",
    "days_per_month",
    "visit_every_months",
    "active",
]


class _Audited(AuditedAdmin):
    """Holders and links record who created them; the audit itself is AuditedAdmin's."""

    def save_model(self, request, obj, form, change):
        if not change and hasattr(obj, "created_by_id") and not obj.created_by_id:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(DutyRule)
class DutyRuleAdmin(CountyWide, _Audited, admin.ModelAdmin):
    audit_fields = RULE_FIELDS
    list_display = [
        "name",
        "communities",
        "households",
        "targets",
        "days_per_month",
        "visit_every_months",
        "active",
        "sort",
    ]
    list_editable = ["active", "sort"]


class DutyLinkInline(ScopedChoices, admin.TabularInline):
    model = DutyLink
    extra = 1
    fields = ["kind", "community", "household", "person", "started_on", "ended_on", "note"]
    raw_id_fields = ["community", "household", "person"]


@admin.register(DutyHolder)
class DutyHolderAdmin(_Audited, ScopedAdmin):
    scope_node_field = "node"
    audit_fields = HOLDER_FIELDS
    list_display = ["user", "unit", "position", "rule", "node", "active_from", "active_to"]
    list_filter = ["rule", "unit"]
    search_fields = ["user__username", "user__full_name", "unit", "position"]
    raw_id_fields = ["user", "node"]
    exclude = ["created_by", "created_at"]
    inlines = [DutyLinkInline]

    inline_audit_fields = {DutyLink: LINK_FIELDS}

    def save_formset(self, request, form, formset, change):
        for link_form in formset.forms:  # a new link records who made it, as its admin does
            if link_form.instance.pk is None and not link_form.instance.created_by_id:
                link_form.instance.created_by = request.user
        super().save_formset(request, form, formset, change)


@admin.register(DutyLink)
class DutyLinkAdmin(_Audited, ScopedAdmin):
    scope_node_field = "holder__node"
    audit_fields = LINK_FIELDS
    list_display = ["holder", "kind", "community", "household", "person", "started_on", "ended_on"]
    list_filter = ["kind"]
    search_fields = [
        "holder__user__full_name",
        "holder__unit",
        "person__name",
        "household__head_name",
    ]
    raw_id_fields = ["holder", "community", "household", "person"]
    exclude = ["created_by", "created_at"]


@admin.register(DutyDay)
class DutyDayAdmin(ReadOnlyScopedAdmin):
    scope_node_field = "holder__node"
    list_display = ["date", "holder", "community", "kind", "note"]
    list_filter = ["kind"]
    date_hierarchy = "date"
