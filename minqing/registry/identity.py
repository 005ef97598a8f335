"""How to find a person by ID number.

ID numbers are stored encrypted (see minqing.core.crypto); exact lookups, de-duplication and
uniqueness go through a keyed hash of the number. Every lookup by ID number in the code base
uses these helpers so the storage form can change in one place.
"""

from django.db.models import Q

from minqing.core.crypto import blind_index


def id_number_hash(number: str | None) -> str | None:
    return blind_index(number) if number else None


def id_number_q(number: str) -> Q:
    return Q(id_number_hash=blind_index(number))


def id_numbers_q(numbers) -> Q:
    return Q(id_number_hash__in=[blind_index(n) for n in numbers])
