from django.contrib import admin

from minqing.core.admin import AuditedAdmin, ScopedAdmin
from minqing.registry.models import Household, HouseholdNeed, Organisation, Person, Place, Tag


@admin.register(Tag)
class TagAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "target", "description", "sensitive", "sort"]
    list_editable = ["sort"]


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ["number", "head_name", "address", "grid", "member_count"]
    search_fields = ["number", "address", "head_name"]
    raw_id_fields = ["grid", "building"]
    readonly_fields = ["head_name", "member_count"]


@admin.register(Person)
class PersonAdmin(ScopedAdmin):
    # The admin never shows full numbers: reveal goes through the audited action on the person page.
    list_display = ["name", "id_masked", "sex", "birth_date", "grid"]
    search_fields = ["name", "name_pinyin", "id_last4"]
    exclude = ["id_number", "phone"]
    readonly_fields = ["id_masked", "phone_masked"]
    raw_id_fields = ["grid", "household"]


@admin.register(Place)
class PlaceAdmin(ScopedAdmin):
    list_display = ["name", "kind", "address", "grid"]
    raw_id_fields = ["grid"]


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdmin):
    list_display = ["name", "kind", "address", "grid"]
    raw_id_fields = ["grid"]


@admin.register(HouseholdNeed)
class HouseholdNeedAdmin(ScopedAdmin):
    scope_node_field = "household__grid"
    list_display = ["household", "kind", "category", "status"]
