"""UI forms: they only convert types; the rules live in registry.services."""

from django import forms
from django.core import validators
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from minqing.core.i18n import named
from minqing.core.pasted import plain
from minqing.grids.models import Level
from minqing.registry import services
from minqing.registry.models import Household, Organisation, Person, Place, Sex, TagTarget
from minqing.registry.selectors import grids_for, visible_tags


def keep_hidden_tags(form, name: str) -> list:
    """The chosen tags plus the sensitive ones the user cannot see but the record carries:
    saving a form must not drop a 重点人员 mark its user was never shown."""
    chosen = list(form.cleaned_data.get(name) or [])
    if form.instance.pk:
        shown = set(form.fields[name].queryset.values_list("pk", flat=True))
        chosen += [t for t in form.instance.tags.all() if t.pk not in shown]
    return chosen


# After a masked number in an empty field: the stored number stays unless a new one is typed.
KEEP_HINT = gettext_noop("（不修改请留空）")


class ScopedForm(forms.ModelForm):
    """A form whose place choices are limited to the user's own part of the tree."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        from minqing.accounts.access import visible_nodes

        if "grid" in self.fields:
            self.fields["grid"].queryset = grids = grids_for(user).order_by("path")
            self.fields["grid"].label_from_instance = lambda n: named(n.name, n.code)
            # A grid worker has one grid: a new record is in it unless they choose otherwise.
            if self.instance.pk is None and "grid" not in self.initial:
                only = list(grids[:2])
                if len(only) == 1:
                    self.initial["grid"] = only[0].pk
        if "building" in self.fields:
            self.fields["building"].queryset = (
                visible_nodes(user).filter(level=Level.BUILDING).order_by("path")
            )
        for field in self.fields.values():
            css = "check" if isinstance(field.widget, forms.CheckboxInput) else "input"
            field.widget.attrs.setdefault("class", css)

    # The service function that holds the rules; run here too so a user sees every error at once.
    service_clean = None

    def clean(self):
        cleaned = super().clean()
        if self.service_clean is None:
            return cleaned
        from django.core.exceptions import ValidationError

        data = self.service_data() if hasattr(self, "service_data") else dict(cleaned)
        if self.instance.pk:
            merged = {f: getattr(self.instance, f) for f in type(self.instance).AUDITED_FIELDS}
            merged.update(data)
            data = merged
        try:
            type(self).service_clean(acting_user=self.user, data=data, **self.clean_kwargs())
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field in self.fields and field not in self.errors:
                    for m in messages:
                        self.add_error(field, m)
        return cleaned

    def clean_kwargs(self) -> dict:
        return {}

    def validate_unique(self):
        # Uniqueness (one ID number, one person) is checked by the service, whose message
        # names the existing record only when the user may see it; Django's generic message
        # would confirm to anyone that the number exists.
        pass


class HouseholdForm(ScopedForm):
    service_clean = services.household_clean

    class Meta:
        model = Household
        fields = [
            "address",
            "grid",
            "building",
            "housing",
            "floor_area",
            "residence",
            "tags",
            "note",
        ]
        widgets = {"tags": forms.CheckboxSelectMultiple, "note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].queryset = visible_tags(self.user).filter(target=TagTarget.HOUSEHOLD)
        self.fields["tags"].widget.attrs["class"] = "checks"

    def clean_tags(self):
        return keep_hidden_tags(self, "tags")


class MaskedPhoneForm(ScopedForm):
    """A stored phone is not put in the form (it would show in full): the field is left empty
    with the masked number as its hint, and left empty it keeps what is stored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"inputmode": "tel"})
        if self.instance.pk and self.instance.phone:
            self.initial["phone"] = ""
            self.fields["phone"].widget.attrs["placeholder"] = self.instance.phone_masked + gettext(
                KEEP_HINT
            )

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if self.instance.pk and not data.get("phone"):
            data.pop("phone", None)
        return data


class PersonForm(MaskedPhoneForm):
    service_clean = services.person_clean

    def clean_kwargs(self) -> dict:
        return {"instance": self.instance if self.instance.pk else None}

    def clean_tags(self):
        return keep_hidden_tags(self, "tags")

    def clean_grid(self):
        # A member lives where the household lives: the grid need not be chosen twice.
        household = self.cleaned_data.get("household")
        return household.grid if household is not None else self.cleaned_data.get("grid")

    class Meta:
        model = Person
        fields = [
            "name",
            "id_number",
            "birth_date",
            "sex",
            "phone",
            "ethnicity",
            "registered_address",
            "household",
            "relation",
            "grid",
            "employment",
            "health",
            "disability_grade",
            "health_note",
            "party_member",
            "tags",
            "note",
        ]
        widgets = {
            "tags": forms.CheckboxSelectMultiple,
            "note": forms.Textarea(attrs={"rows": 2}),
            "birth_date": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {
            "id_number": gettext_lazy("填写身份证号后，出生日期和性别自动生成。"),
            "grid": gettext_lazy("已选家庭时自动取家庭所在网格。"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from minqing.registry.selectors import households_for

        self.fields["household"].queryset = households_for(self.user).order_by("number")
        self.fields["household"].widget = forms.HiddenInput()
        self.fields["grid"].required = False
        self.fields["tags"].queryset = visible_tags(self.user).filter(target=TagTarget.PERSON)
        self.fields["tags"].widget.attrs["class"] = "checks"
        groups = list(self.fields["tags"].queryset)
        by_age = [t for t in groups if t.min_age]
        by_grade = [t for t in groups if t.by_disability]
        said = []  # 高龄 from the birth date, 残疾 from the grade (registry.given_tags): say so
        if by_age:
            said.append(
                gettext("%(groups)s按出生日期自动列入。")
                % {"groups": gettext("、").join(named(t.name, t.min_age) for t in by_age)}
            )
        if by_grade:
            said.append(
                gettext("%(groups)s按残疾等级自动列入。")
                % {"groups": gettext("、").join(t.name for t in by_grade)}
            )
        if said:
            self.fields["tags"].help_text = "".join(said)
        self.fields["sex"].choices = [("", gettext("（按身份证号）"))] + list(Sex.choices)
        # A number pasted from a chat may carry invisible marks (19 characters for 18 digits):
        # the service drops them and checks the number; a length cap here refused it first.
        id_field = self.fields["id_number"]
        id_field.max_length = None
        id_field.validators = [
            v for v in id_field.validators if not isinstance(v, validators.MaxLengthValidator)
        ]
        id_field.widget.attrs.pop("maxlength", None)
        id_field.widget.attrs.update({"autocomplete": "off", "inputmode": "text"})
        if self.instance.pk and self.instance.id_number:
            # Shown masked; left unchanged unless the user types a new number.
            self.initial["id_number"] = ""
            self.fields["id_number"].widget.attrs["placeholder"] = (
                self.instance.id_masked + gettext(KEEP_HINT)
            )
            self.fields["id_number"].help_text = gettext("已登记。如需更正，请输入完整的新号码。")
            # The birth date comes from the number; prefilled, it would fill in the mask.
            del self.fields["birth_date"]

    def clean_id_number(self):
        return plain(self.cleaned_data.get("id_number") or "")[:40]

    def service_data(self) -> dict:
        data = super().service_data()  # an empty phone keeps the stored one
        if self.instance.pk:
            # So does an empty ID number; a new one brings its own birth date and sex.
            if not data.get("id_number"):
                data.pop("id_number", None)
            if data.get("id_number"):
                data.pop("birth_date", None)
                data.pop("sex", None)
        return data


class PlaceForm(MaskedPhoneForm):
    service_clean = services.simple_record_clean

    class Meta:
        model = Place
        fields = ["kind", "name", "address", "grid", "contact", "phone", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}


class OrganisationForm(MaskedPhoneForm):
    service_clean = services.simple_record_clean

    class Meta:
        model = Organisation
        fields = ["kind", "name", "address", "grid", "contact", "phone", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", "身份证号"), ("phone", "电话")])
    reason = forms.CharField(max_length=200, required=False)
