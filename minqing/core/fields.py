"""Model fields that keep their values encrypted in the database (see minqing.core.crypto)."""

from django import forms
from django.core import checks
from django.db import models

from minqing.core import crypto


class EncryptedTextField(models.TextField):
    """Transparent encryption: Python sees plaintext, the database only ciphertext.

    Equality lookups cannot work on randomised ciphertext, so only `isnull` is allowed; find
    rows through a blind-index column instead (see registry.identity).
    """

    def __init__(self, *args, plain_max_length: int = 200, **kwargs):
        self.plain_max_length = plain_max_length
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["plain_max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.unique:
            errors.append(
                checks.Error("Encrypted fields cannot be unique; add a blind index.", obj=self)
            )
        return errors

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            return None  # Django then reports "Unsupported lookup" instead of silently not matching
        return super().get_lookup(lookup_name)

    def formfield(self, **kwargs):
        return forms.CharField(
            max_length=self.plain_max_length,
            required=not self.blank,
            label=self.verbose_name,
            help_text=self.help_text,
            **{k: v for k, v in kwargs.items() if k in ("initial", "widget")},
        )
