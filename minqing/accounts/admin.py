from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from minqing.accounts.models import ApiToken, RoleAssignment, ServiceTeam, TeamMember, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ["node"]
    filter_horizontal = ["custom_nodes"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [RoleAssignmentInline]
    list_display = ["username", "full_name", "mobile", "is_active", "is_staff", "last_login"]
    fieldsets = BaseUserAdmin.fieldsets + (("民情", {"fields": ["full_name", "mobile"]}),)


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    raw_id_fields = ["user"]


@admin.register(ServiceTeam)
class ServiceTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "node", "office_phone"]
    search_fields = ["name", "node__name", "node__code"]
    raw_id_fields = ["node"]
    inlines = [TeamMemberInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["digest", "prefix", "created_at", "last_used_at"]
