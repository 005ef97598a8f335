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
    return Q(id_number_hash__any_of=[blind_index(n) for n in numbers])


def id_last4_digest(number: str | None) -> str:
    """What is stored to find a person by the last four characters of their ID number.

    A keyed hash, not the characters: the birth date is stored in clear (age filters need it)
    and the first six digits are mostly the county's own code, so the last four in clear
    would let a database dump rebuild the whole number, check character included.
    """
    if not number or len(number) < 4:
        return ""
    return blind_index("id-last4:" + number[-4:].upper())[:16]


def id_last4_q(last4: str) -> Q:
    return Q(id_last4_digest=id_last4_digest(last4))
