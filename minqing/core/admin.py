from django.contrib import admin

from minqing.accounts.access import scope_queryset
from minqing.core.models import AuditEntry, ImportBatch, WorkdayOverride


class ScopedAdmin(admin.ModelAdmin):
    """Admin lists go through the same scoping as every page and API call."""

    scope_node_field = "grid"

    def get_queryset(self, request):
        return scope_queryset(
            request.user, super().get_queryset(request), node_field=self.scope_node_field
        )


class ReadOnlyScopedAdmin(ScopedAdmin):
    """Records that only change through their own workflow (or never): listed, not edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyScopedAdmin):
    scope_node_field = "node"
    list_display = ["at", "actor", "action", "model", "object_repr", "reason", "ip"]
    list_filter = ["action", "model"]
    search_fields = ["object_repr", "actor__username", "reason"]
    date_hierarchy = "at"

    # Audit records are evidence: nobody edits or deletes them, not even a superuser.


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Who imported which ledger when, and what it did; the stored file is never shown."""

    list_display = ["created_at", "user", "file_name", "status", "applied_at"]
    list_filter = ["status"]
    search_fields = ["file_name", "user__username"]
    exclude = ["content"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    """Next year's official holidays and make-up workdays, entered each winter, and local days."""

    list_display = ["date", "is_working_day", "name"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"
    search_fields = ["name"]
