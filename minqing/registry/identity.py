"""How to find a person by ID number.

ID numbers are stored encrypted (see minqing.core.crypto); exact lookups, de-duplication and
uniqueness go through a keyed hash of the number. Every lookup by ID number in the code base
uses these helpers so the storage form can change in one place.
"""

from django.db.models import Q

from minqing.core.crypto import blind_index
from minqing.core.idnumber import other_form, upgraded


def id_number_hash(number: str | None) -> str | None:
    """The key a person is filed under: of the 18-digit form, so that an old 15-digit number
    and the 18-digit one that replaced it are one person (unique, as one number is)."""
    return blind_index(upgraded(number)) if number else None


def filing_key(number: str | None, pk: int | None) -> str | None:
    """The key to file this record under: id_number_hash, unless that key is another
    record's — the 18-digit twin of a record kept under its old 15-digit number (see
    id_number_hashes) — when it keeps its number's own key. Only an old number asks the
    database."""
    key = id_number_hash(number)
    if key is None or len(number) != 15:
        return key
    from minqing.registry.models import Person

    if Person.objects.filter(id_number_hash=key).exclude(pk=pk).exists():
        return blind_index(number)
    return key


def id_number_hashes(number: str) -> list[str]:
    """Every key this person may be filed under: the 18-digit form's, and the other form's
    (a 15-digit number filed before registry 0011, and kept when its 18-digit twin was on
    file too — two records then, for an office to merge)."""
    hashes = [id_number_hash(number)]
    other = other_form(number)
    if other is not None:
        hashes.append(blind_index(other))
    return hashes


def id_number_q(number: str) -> Q:
    return Q(id_number_hash__in=id_number_hashes(number))


def id_numbers_q(numbers) -> Q:
    return hashes_q([h for n in numbers for h in id_number_hashes(n)])


def hashes_q(hashes) -> Q:
    """The records filed under any of these keys (id_number_hashes of several numbers)."""
    return Q(id_number_hash__any_of=list(hashes))


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
