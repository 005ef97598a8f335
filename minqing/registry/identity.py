"""How to find a person by ID number.

ID numbers are stored encrypted (see minqing.core.crypto); exact lookups, de-duplication and
uniqueness go through a keyed hash of the number. Every lookup by ID number in the code base
uses these helpers so the storage form can change in one place.
"""

from django.db.models import Q


def id_number_q(number: str) -> Q:
    return Q(id_number=number)


def id_numbers_q(numbers) -> Q:
    return Q(id_number__in=list(numbers))
