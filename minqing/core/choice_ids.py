"""Model choice fields refuse ids that no database column can hold.

Django hands a posted id straight to its query: one beyond the key column's range (a typo, a
probe, 99999999999999999999) raised OverflowError on SQLite and DataError on PostgreSQL, and the
page answered 500. `install()` (from core.apps, once) makes such an id an invalid choice in every
form, the same answer as an id that does not exist.
"""

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections

from minqing.core.digits import plain_digits

_INTEGER_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}


def out_of_range(field: forms.ModelChoiceField, value) -> bool:
    """Whether `value` is an integer the field's key column cannot hold."""
    text = str(value).strip()
    digits = text[1:] if text.startswith("-") else text
    if not plain_digits(digits):
        return False  # not a number: the field's own check answers
    model = field.queryset.model
    try:
        key = model._meta.get_field(field.to_field_name) if field.to_field_name else model._meta.pk
    except FieldDoesNotExist:
        return False
    kind = key.get_internal_type()
    if kind not in _INTEGER_TYPES:
        return False
    low, high = connections[field.queryset.db].ops.integer_field_range(kind)
    number = int(text)
    return (low is not None and number < low) or (high is not None and number > high)


def install() -> None:
    single = forms.ModelChoiceField.to_python
    many = forms.ModelMultipleChoiceField._check_values

    def to_python(self, value):
        if value not in self.empty_values and out_of_range(self, value):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return single(self, value)

    def check_values(self, value):
        for pk in value or ():
            if out_of_range(self, pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return many(self, value)

    if not getattr(forms.ModelChoiceField, "_minqing_ids_checked", False):
        forms.ModelChoiceField.to_python = to_python
        forms.ModelMultipleChoiceField._check_values = check_values
        forms.ModelChoiceField._minqing_ids_checked = True
