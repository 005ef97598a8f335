"""Writing audit entries; registry services call these inside their transactions."""

from django.db import models

from minqing.core.i18n import source
from minqing.core.models import AuditAction, AuditEntry


def plain_value(value):
    """A field value as the audit log stores it (JSON): model instances by their name, in
    Chinese whatever the UI language (as object_repr)."""
    if isinstance(value, models.Model):
        return source(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: list[str], *, masked: dict | None = None) -> dict:
    """Field values as audit-safe plain data; `masked` maps a field to its masking function."""
    masked = masked or {}
    out = {}
    for name in fields:
        value = getattr(obj, name)
        if name in masked:
            mask = masked[name]
            value = mask(value, obj) if getattr(mask, "per_record", False) else mask(value)
        out[name] = plain_value(value)
    return out


def diff(old: dict, new: dict) -> dict:
    return {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_log(
    *,
    actor,
    action: AuditAction,
    obj: models.Model,
    changes: dict | None = None,
    reason: str = "",
    request=None,
    node=None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        model=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=source(obj)[:200],  # stored: in Chinese whatever the UI language
        changes=changes or {},
        reason=reason[:200],
        ip=client_ip(request),
        node=node,
    )


def history_for(obj: models.Model):
    return AuditEntry.objects.filter(
        model=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")
