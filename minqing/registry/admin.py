import re

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from minqing.core.admin import (
    AuditedAdmin,
    CountyWide,
    PhonesMaskedAdmin,
    ReadOnlyScopedAdmin,
    ScopedAdmin,
)
from minqing.registry.models import Household, HouseholdNeed, Organisation, Person, Place, Tag
from minqing.registry.moves import records_moved
from minqing.registry.selectors import text_query


@admin.register(Tag)
class TagAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "name",
        "target",
        "description",
        "sensitive",
        "min_age",
        "by_disability",
        "sort",
    ]
    list_editable = ["sort"]


@admin.register(Household)
class HouseholdAdmin(ReadOnlyScopedAdmin):
    """Listed, not edited here, as people are: a household moved to another grid on its own page
    (or by the API or an import) takes its members, visit schedule, pairings and visits along
    (registry.services, registry.moves); changed here it went alone."""

    list_display = ["number", "head_name", "address", "grid", "member_count"]
    search_fields = ["number", "address", "head_name"]
    raw_id_fields = ["grid", "building"]
    readonly_fields = ["head_name", "member_count"]


@admin.register(Person)
class PersonAdmin(ReadOnlyScopedAdmin):
    """Listed for the back office, never edited here: a resident's file changes on its own
    page, where the derived keys, the household, the visit schedule and the audit follow.

    The admin never shows full numbers, nor a birth date beside a masked ID number: reveal
    goes through the audited action on the person page."""

    list_display = ["name", "id_masked", "sex", "age_years", "grid"]
    search_fields = ["name", "name_pinyin"]
    fields = ["name", "id_masked", "sex", "birth", "phone_masked", "grid", "household"]
    readonly_fields = fields

    @admin.display(description=_("年龄"))
    def age_years(self, obj):
        return obj.age()

    @admin.display(description=_("出生日期"))
    def birth(self, obj):
        return obj.birth_shown

    def get_search_results(self, request, queryset, search_term):
        """Names as configured; the last four of an ID number or phone, or a whole ID number,
        through the people search's own condition (the numbers are stored hashed)."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if re.fullmatch(r"\d{3}[\dXx]|\d{15}|\d{17}[\dXx]", term):
            found = found | queryset.filter(text_query(term))
        return found, duplicates


class _Movable:
    """A place or organisation given another grid here takes its pairings along, as on its page
    (registry.moves)."""

    moved_as = ""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "grid" in form.changed_data:
            records_moved(**{self.moved_as: [obj.pk]})


@admin.register(Place)
class PlaceAdmin(_Movable, PhonesMaskedAdmin, ScopedAdmin):
    moved_as = "places"
    list_display = ["name", "kind", "address", "grid"]
    raw_id_fields = ["grid"]


@admin.register(Organisation)
class OrganisationAdmin(_Movable, PhonesMaskedAdmin, ScopedAdmin):
    moved_as = "organisations"
    list_display = ["name", "kind", "address", "grid"]
    raw_id_fields = ["grid"]


@admin.register(HouseholdNeed)
class HouseholdNeedAdmin(ScopedAdmin):
    scope_node_field = "household__grid"
    raw_id_fields = ["household"]
    list_display = ["household", "kind", "category", "status"]
