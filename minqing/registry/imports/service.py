"""The life of an import: upload → preview → confirm (or cancel), each step a function.

    batch = import_start(acting_user=…, file_name=…, data=…)   # checks size, keeps the file
    plan = import_preview(acting_user=…, batch=batch, options=…)  # reads, validates; no writes
    plan = import_confirm(acting_user=…, batch=batch, options=…)  # re-reads, re-validates,
                                                                   # writes all or nothing

The command line runs the same steps (`import_file`). Every applied import leaves its
ImportBatch row (who, when, file name, SHA-256, counts) and one audit entry per record it
created or changed, with the batch named in the entry's reason.
"""

import datetime
import hashlib
import os
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minqing.accounts.access import can_edit_registry
from minqing.core import crypto
from minqing.core.audit import client_ip
from minqing.core.models import AuditAction, AuditEntry, ImportBatch, ImportStatus
from minqing.registry.imports.apply import apply_plan
from minqing.registry.imports.reader import ImportFileError, check_size
from minqing.registry.imports.validate import Options, Plan, plan_import
from minqing.registry.services import ERR_NOT_ALLOWED, PermissionDenied

ERR_STATE = _("该批次{status}，不能再确认导入。请重新上传文件。")
ERR_FILE_GONE = _("上传的文件已不在（已导入、已取消或超过 24 小时未确认），请重新上传。")
ERR_HAS_ERRORS = _("文件中还有 {n} 处错误，改正后重新上传才能导入。")
PREVIEW_KEEP_SECONDS = 24 * 3600
_AAD = b"minqing-import"


class ImportRefused(Exception):
    """Confirm was refused; the message says why, in the UI language."""


def max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024)


def _require_importer(user) -> None:
    if user is not None and not can_edit_registry(user):
        raise PermissionDenied(ERR_NOT_ALLOWED)


# The uploaded file is full of ID numbers: it is kept encrypted with the current data key,
# like the ID numbers themselves once imported (minqing.core.crypto).
def seal(data: bytes) -> bytes:
    kid, key = crypto.data_keys()[0]
    nonce = os.urandom(12)
    return b"v1$" + kid.encode() + b"$" + nonce + AESGCM(key).encrypt(nonce, data, _AAD)


def unseal(blob: bytes) -> bytes:
    blob = bytes(blob)
    if not blob:
        raise ImportRefused(ERR_FILE_GONE)
    _, kid, rest = blob.split(b"$", 2)
    key = dict(crypto.data_keys()).get(kid.decode())
    if key is None:
        raise ImportRefused(ERR_FILE_GONE)
    return AESGCM(key).decrypt(rest[:12], rest[12:], _AAD)


def options_to_json(options: Options) -> dict:
    return {
        "default_grid": options.default_grid.pk if options.default_grid else None,
        "tag_choices": dict(options.tag_choices),
    }


def options_from_json(data: dict, *, grids=None) -> Options:
    from minqing.grids.models import Node

    pk = (data or {}).get("default_grid")
    qs = grids if grids is not None else Node.objects.all()
    grid = qs.filter(pk=pk).first() if pk else None
    return Options(default_grid=grid, tag_choices=dict((data or {}).get("tag_choices") or {}))


def _expire_old_previews() -> None:
    cutoff = timezone.now() - datetime.timedelta(seconds=PREVIEW_KEEP_SECONDS)
    ImportBatch.objects.filter(status=ImportStatus.PREVIEW, created_at__lt=cutoff).update(
        status=ImportStatus.EXPIRED, content=b""
    )


def import_start(
    *, acting_user, file_name: str, data: bytes, options: Options | None = None, source="web"
) -> ImportBatch:
    """Keep an uploaded file for preview; raises ImportFileError when it is empty or too big."""
    _require_importer(acting_user)
    file_name = os.path.basename(file_name or "")[:255] or "upload"
    check_size(file_name, len(data), max_bytes())
    _expire_old_previews()
    return ImportBatch.objects.create(
        user=acting_user,
        file_name=file_name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=seal(data),
        options=options_to_json(options or Options()),
        source=source,
    )


def import_preview(*, acting_user, batch: ImportBatch, options: Options) -> Plan:
    """Read and validate the batch's file against the database as it is now. Writes nothing
    but the batch's own counts and options."""
    _require_importer(acting_user)
    data = unseal(batch.content)
    plan = plan_import(
        acting_user=acting_user, data=data, file_name=batch.file_name, options=options
    )
    batch.counts = plan.counts
    batch.options = options_to_json(options)
    batch.save(update_fields=["counts", "options"])
    return plan


def _batch_reason(batch: ImportBatch) -> str:
    # The same text in every entry of the batch, so its records can be listed (AuditEntry.reason
    # is at most 200 characters: a very long file name is shortened, the batch id kept).
    return f"导入台账（批次 {batch.pk}）：{batch.file_name}"[:200]


def import_confirm(
    *, acting_user, batch: ImportBatch, options: Options, request=None
) -> tuple[Plan, dict]:
    """Re-read, re-validate and, if nothing is wrong, write everything in one transaction.

    Returns (plan, timings); when plan.ok is False nothing at all was written. Raises
    ImportRefused when the batch was already applied, cancelled or expired, ImportFileError
    for an unusable file.
    """
    _require_importer(acting_user)
    timings = {}
    with transaction.atomic():
        # Lock the batch: a double click on 确认导入 must not import twice.
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportStatus.PREVIEW:
            raise ImportRefused(ERR_STATE.format(status=batch.get_status_display()))
        data = unseal(batch.content)
        t0 = time.perf_counter()
        plan = plan_import(
            acting_user=acting_user,
            data=data,
            file_name=batch.file_name,
            options=options,
            derive_keys=True,
        )
        try:
            timings["validate"] = time.perf_counter() - t0
            if not plan.ok:
                batch.counts = plan.counts
                batch.save(update_fields=["counts"])
                return plan, timings
            t1 = time.perf_counter()
            _apply(plan, batch, acting_user, options, request)
            timings["write"] = time.perf_counter() - t1
        finally:
            plan.close()
    return plan, timings


def _apply(plan: Plan, batch: ImportBatch, acting_user, options: Options, request) -> None:
    apply_plan(plan, acting_user=acting_user, reason=_batch_reason(batch), request=request)
    batch.status = ImportStatus.APPLIED
    batch.applied_at = timezone.now()
    batch.counts = plan.counts
    batch.options = options_to_json(options)
    batch.content = b""
    batch.save(update_fields=["status", "applied_at", "counts", "options", "content"])
    AuditEntry.objects.create(
        actor=acting_user if getattr(acting_user, "pk", None) else None,
        action=AuditAction.IMPORT,
        model="core.importbatch",
        object_id=str(batch.pk),
        object_repr=batch.file_name[:200],
        changes={COUNT_LABELS[k]: [None, v] for k, v in plan.counts.items() if k in COUNT_LABELS},
        reason=_batch_reason(batch),
        ip=client_ip(request),
    )


COUNT_LABELS = {
    "rows": "数据行",
    "new_people": "新增人员",
    "updated_people": "更新人员",
    "unchanged_people": "无变化",
    "new_households": "新增家庭户",
    "updated_households": "更新家庭户",
    "new_tags": "新建类别",
}


def import_cancel(*, acting_user, batch: ImportBatch) -> None:
    _require_importer(acting_user)
    ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEW).update(
        status=ImportStatus.CANCELLED, content=b""
    )


def import_fail(*, acting_user, batch: ImportBatch) -> None:
    """The file could not be read (not a spreadsheet, no header, no rows …): nothing was
    written, and the list of imports says so instead of "cancelled"."""
    _require_importer(acting_user)
    ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEW).update(
        status=ImportStatus.FAILED, content=b""
    )


def import_file(
    *, acting_user, file_name: str, data: bytes, options: Options, dry_run: bool = False
) -> tuple[Plan, dict]:
    """The command line: check, and unless dry_run write, in one go. A dry run writes nothing,
    not even a batch row."""
    _require_importer(acting_user)
    check_size(file_name, len(data), max_bytes())
    timings = {}
    t0 = time.perf_counter()
    if dry_run:
        plan = plan_import(acting_user=acting_user, data=data, file_name=file_name, options=options)
        timings["validate"] = time.perf_counter() - t0
        return plan, timings
    with transaction.atomic():
        plan = plan_import(
            acting_user=acting_user,
            data=data,
            file_name=file_name,
            options=options,
            derive_keys=True,
        )
        timings["validate"] = time.perf_counter() - t0
        if not plan.ok:
            plan.close()
            return plan, timings
        batch = ImportBatch.objects.create(
            user=acting_user,
            file_name=os.path.basename(file_name)[:255],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            source="cli",
            options=options_to_json(options),
        )
        t1 = time.perf_counter()
        try:
            _apply(plan, batch, acting_user, options, None)
        finally:
            plan.close()
        timings["write"] = time.perf_counter() - t1
    return plan, timings


def batch_people_ids(batch: ImportBatch) -> list[int]:
    """The people an applied batch created or changed, from its audit entries."""
    return [
        int(pk)
        for pk in AuditEntry.objects.filter(
            action=AuditAction.IMPORT, model="registry.person", reason=_batch_reason(batch)
        ).values_list("object_id", flat=True)
    ]


__all__ = [
    "ImportFileError",
    "ImportRefused",
    "import_cancel",
    "import_fail",
    "import_confirm",
    "import_file",
    "import_preview",
    "import_start",
]
