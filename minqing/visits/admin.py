"""Admin: the visit classes are configuration; visits are evidence and read-only here.

The diary is deliberately absent: it is its author's alone, not even a superuser reads it.
After changing a class's frequency or tags run `manage.py refresh_visit_due` (or wait for the
nightly run) to move every household's due date.
"""

from django.contrib import admin

from minqing.core.admin import AuditedAdmin, CountyWide, ReadOnlyScopedAdmin, ScopedAdmin
from minqing.visits.models import Campaign, HouseholdVisitPlan, Visit, VisitClass


@admin.register(VisitClass)
class VisitClassAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "code", "every", "unit", "applies_to_all", "active", "sort"]
    list_editable = ["active", "sort"]
    filter_horizontal = ["tags"]


@admin.register(HouseholdVisitPlan)
class HouseholdVisitPlanAdmin(ScopedAdmin):
    scope_node_field = "household__grid"
    list_display = ["household", "visit_class", "until", "reason", "created_by", "created_at"]
    list_filter = ["visit_class"]
    raw_id_fields = ["household", "created_by"]

    # Plans change through the household page, which keeps the schedule and the audit log.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(ReadOnlyScopedAdmin):
    list_display = ["visited_at", "household", "mode", "grid", "created_by"]
    list_filter = ["mode"]
    date_hierarchy = "visited_at"
    raw_id_fields = ["household", "grid", "created_by"]
    filter_horizontal = []
    exclude = ["visitors", "members_met", "needs", "cases"]


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyScopedAdmin):
    """Campaigns change only through their pages (the state table and the audit log)."""

    scope_node_field = "node"
    list_display = ["name", "kind", "node", "start", "end", "status", "created_by"]
    list_filter = ["kind", "status"]
    date_hierarchy = "start"
    raw_id_fields = ["node", "created_by", "closed_by"]
    filter_horizontal = []
    exclude = ["tags"]
