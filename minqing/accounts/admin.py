from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from minqing.accounts.models import ApiToken, RoleAssignment, ServiceTeam, TeamMember, User
from minqing.core.admin import SECRET, AuditedAdmin
from minqing.core.models import AuditAction


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ["node"]
    filter_horizontal = ["custom_nodes"]


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    inlines = [RoleAssignmentInline]
    list_display = ["username", "full_name", "mobile", "is_active", "is_staff", "last_login"]
    fieldsets = BaseUserAdmin.fieldsets + ((_("民情"), {"fields": ["full_name", "mobile"]}),)

    def user_change_password(self, request, id, form_url=""):
        """A password set by an administrator is audited (never the password itself)."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            self._audit(request, AuditAction.UPDATE, user, {"password": [SECRET, SECRET]})
        return response


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    raw_id_fields = ["user"]


@admin.register(ServiceTeam)
class ServiceTeamAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "node", "office_phone"]
    search_fields = ["name", "node__name", "node__code"]
    raw_id_fields = ["node"]
    inlines = [TeamMemberInline]
    audit_node_field = "node"


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["digest", "prefix", "created_at", "last_used_at"]
