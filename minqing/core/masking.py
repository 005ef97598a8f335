"""Masking of personal numbers: shown masked everywhere unless revealed on purpose."""


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    if len(value) == 18:
        return value[:6] + "*" * 8 + value[14:]
    if len(value) == 15:
        return value[:6] + "*" * 6 + value[12:]
    return "*" * len(value)


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    if len(value) == 11:
        return value[:3] + "****" + value[7:]
    if len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return "*" * len(value)


def mask_note(value: str | None) -> str:
    """An encrypted free-text note (health, disability) as the audit log keeps it: never the
    text, but a keyed fingerprint, so an entry still shows that the note changed."""
    if not value:
        return ""
    from minqing.core.crypto import blind_index

    return f"（已加密·{blind_index(value)[:6]}）"


def mask_birth_date(value) -> str:
    """A birth date shown beside a masked ID number: its year only.

    The eight characters an 18-digit mask hides (110105********002X) are exactly the birth
    date, so a full birth date on the same page, export or audit entry would undo the mask.
    """
    if not value:
        return ""
    return f"{value.year}-**-**"


def mask_birth_date_audited(value, record=None) -> str:
    """A birth date as the audit log keeps it: the year and a fingerprint keyed by the record,
    so its history still shows that the date changed (a corrected ID number's birth digits)
    without giving it. Keyed by the date alone, one date had one fingerprint everywhere: a
    record without an ID number, whose date shows, told what every other record's meant."""
    if not value:
        return ""
    from minqing.core.crypto import blind_index

    key = getattr(record, "pk", None)
    if key is None:
        return mask_birth_date(value)
    return f"{mask_birth_date(value)}（·{blind_index(f'birth:{key}:{value.isoformat()}')[:6]}）"


mask_birth_date_audited.per_record = True  # core.audit.snapshot passes the record
