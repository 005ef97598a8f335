"""Admin: programmes and helpers are configuration; pairings and the help log change through
the assistance pages (which validate, scope and audit) and are read-only here."""

from django.contrib import admin

from minqing.assistance.models import HelpEntry, Helper, HelperGroup, Pairing, Programme
from minqing.assistance.services import group_members_sync
from minqing.core.admin import (
    AuditedAdmin,
    CountyWide,
    PhonesMaskedAdmin,
    ReadOnlyScopedAdmin,
    ScopedAdmin,
)


@admin.register(Programme)
class ProgrammeAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "pairing_kind",
        "target_kind",
        "every",
        "unit",
        "target_tag",
        "coverage_goal",
        "active",
        "sort",
    ]
    list_editable = ["active", "sort"]
    list_filter = ["pairing_kind", "target_kind", "active"]


@admin.register(Helper)
class HelperAdmin(PhonesMaskedAdmin, ScopedAdmin):
    scope_node_field = "node"
    list_display = ["name", "kind", "unit_name", "node", "user", "disqualified_on"]
    list_filter = ["kind"]
    search_fields = ["name", "unit_name", "user__username"]
    raw_id_fields = ["user", "node", "disqualified_by", "created_by"]
    # Disqualification ends pairings: it goes through the helper's page, never an edit here.
    readonly_fields = ["disqualified_on", "disqualified_reason", "disqualified_by"]


@admin.register(HelperGroup)
class HelperGroupAdmin(ScopedAdmin):
    scope_node_field = "node"
    list_display = ["name", "programme", "node"]
    list_filter = ["programme"]
    filter_horizontal = ["members"]
    raw_id_fields = ["node"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The group's active pairings follow its members.
        group_members_sync(form.instance)


@admin.register(Pairing)
class PairingAdmin(ReadOnlyScopedAdmin):
    list_display = ["__str__", "programme", "grid", "start", "end"]
    list_filter = ["programme"]
    date_hierarchy = "start"
    exclude = ["helpers"]
    raw_id_fields = ["household", "person", "node", "place", "organisation", "grid", "group"]


@admin.register(HelpEntry)
class HelpEntryAdmin(ReadOnlyScopedAdmin):
    scope_node_field = "pairing__grid"
    list_display = ["occurred_on", "kind", "pairing", "helper", "amount", "fund_source"]
    list_filter = ["kind", "fund_source"]
    date_hierarchy = "occurred_on"
    raw_id_fields = ["pairing", "helper", "created_by"]
