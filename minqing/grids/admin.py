from django.contrib import admin

from minqing.accounts.access import visible_nodes
from minqing.core.admin import AuditedAdmin, ScopedChoices
from minqing.grids.models import Node


@admin.register(Node)
class NodeAdmin(ScopedChoices, AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "level", "code", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    raw_id_fields = ["parent"]

    def get_queryset(self, request):
        return visible_nodes(request.user)

    def get_readonly_fields(self, request, obj=None):
        # Code and parent anchor the materialised path of every node below; they are fixed
        # once the node exists (moving a subtree is a data migration, not a form edit).
        return ["code", "parent", "level"] if obj is not None else []
