"""Admin: duty rules are configuration; holders and their links are kept here by offices,
scoped like every list (an office sees the holders whose node is in its subtree), and every
change is written to the audit log. Days in the community are the holders' own records:
listed, not edited."""

from django.contrib import admin

from minqing.core.admin import AuditedAdmin, ReadOnlyScopedAdmin, ScopedAdmin
from minqing.core.audit import audit_log, diff, snapshot
from minqing.core.models import AuditAction
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
class DutyRuleAdmin(_Audited, admin.ModelAdmin):
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


class DutyLinkInline(admin.TabularInline):
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

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for link in formset.deleted_objects:
            audit_log(
                actor=request.user,
                action=AuditAction.DELETE,
                obj=link,
                changes={k: [v, None] for k, v in snapshot(link, LINK_FIELDS).items()},
                request=request,
                node=form.instance.node,
            )
            link.delete()
        for link in instances:
            created = link.pk is None
            old = {} if created else snapshot(DutyLink.objects.get(pk=link.pk), LINK_FIELDS)
            if created:
                link.created_by = request.user
            link.save()
            audit_log(
                actor=request.user,
                action=AuditAction.CREATE if created else AuditAction.UPDATE,
                obj=link,
                changes=diff(old, snapshot(link, LINK_FIELDS)),
                request=request,
                node=form.instance.node,
            )
        formset.save_m2m()


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
