from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from minqing.accounts.models import ApiToken, RoleAssignment, ServiceTeam, TeamMember, User
from minqing.core.admin import SECRET, AuditedAdmin, ScopedAdmin, ScopedChoices
from minqing.core.models import AuditAction


class SuperuserOnly:
    """Accounts, roles, tokens and the login records are the system administrator's (系统管理员).

    Given "change user" in the admin, a grid worker with staff status ticked 超级用户 on their
    own account and gave themselves the county; given "view", they read every account's mobile
    and every login's address. Django's model permissions cannot say "within my part of the
    tree", so these pages are for superusers whatever permissions a staff account holds."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class RoleAssignmentInline(SuperuserOnly, admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ["node"]
    filter_horizontal = ["custom_nodes"]


@admin.register(User)
class UserAdmin(SuperuserOnly, AuditedAdmin, BaseUserAdmin):
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


class TeamMemberInline(ScopedChoices, admin.TabularInline):
    model = TeamMember
    extra = 0
    raw_id_fields = ["user"]


@admin.register(ServiceTeam)
class ServiceTeamAdmin(ScopedAdmin):
    """Scoped as the team pages are (a grid worker's staff account listed the county's 48
    teams and their members' own mobiles)."""

    list_display = ["name", "node", "office_phone"]
    search_fields = ["name", "node__name", "node__code"]
    raw_id_fields = ["node"]
    inlines = [TeamMemberInline]
    scope_node_field = "node"


@admin.register(ApiToken)
class ApiTokenAdmin(SuperuserOnly, AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["digest", "prefix", "created_at", "last_used_at"]


def _login_records_for_superusers_only() -> None:
    """django-axes' lists (attempts, logins, failures: every user's addresses and browsers)
    re-registered behind SuperuserOnly."""
    from axes import admin as axes_admin
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model, base in (
        (AccessAttempt, axes_admin.AccessAttemptAdmin),
        (AccessLog, axes_admin.AccessLogAdmin),
        (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
    ):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, type(base.__name__, (SuperuserOnly, base), {}))


_login_records_for_superusers_only()


def _groups_for_superusers_only() -> None:
    """Permission groups too: whoever edits a group grants its permissions."""
    from django.contrib.auth.admin import GroupAdmin
    from django.contrib.auth.models import Group

    if admin.site.is_registered(Group):
        admin.site.unregister(Group)
    admin.site.register(Group, type("GroupAdmin", (SuperuserOnly, GroupAdmin), {}))


_groups_for_superusers_only()
