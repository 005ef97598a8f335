"""Admin: teams and members are editable (scoped lists); attendance and activities are
evidence, listed read-only: they change through the team's pages, which audit them."""

from django.contrib import admin

from minqing.core.admin import PhonesMaskedAdmin, ReadOnlyScopedAdmin, ScopedAdmin, ScopedChoices
from minqing.secondments.models import Activity, Attendance, Secondment, SecondmentMember


class MemberInline(ScopedChoices, PhonesMaskedAdmin, admin.TabularInline):
    model = SecondmentMember
    extra = 0
    fields = ["name", "role", "speciality", "phone", "turn_start", "turn_end", "user"]
    raw_id_fields = ["user"]


@admin.register(Secondment)
class SecondmentAdmin(ScopedAdmin):
    scope_node_field = "node"
    list_display = ["name", "kind", "sending_name", "receiving_name", "cycle_start", "cycle_end"]
    list_filter = ["kind"]
    search_fields = ["name", "sending_name", "receiving_name"]
    raw_id_fields = [
        "node",
        "sending_org",
        "sending_place",
        "receiving_place",
        "receiving_org",
        "created_by",
    ]
    inlines = [MemberInline]


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyScopedAdmin):
    scope_node_field = "member__secondment__node"
    list_display = ["date", "member", "status", "note", "recorded_by"]
    list_filter = ["status"]
    date_hierarchy = "date"


@admin.register(Activity)
class ActivityAdmin(ReadOnlyScopedAdmin):
    scope_node_field = "secondment__node"
    list_display = ["date", "kind", "title", "secondment", "participants"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    exclude = ["members"]
