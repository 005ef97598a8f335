"""Ledger import in the JSON API: upload → preview → confirm, the steps of the /imports/ pages.

A batch belongs to the user who uploaded it: anyone else gets 404. The preview lists each
problem with its sheet, row, column, value and reason (in the request's language, as on the
page); nothing is written until a preview with no errors is confirmed, and then all of it in
one transaction.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status as Reply
from pydantic import Field

from minqing.api.schemas import ErrorOut, FieldErrorsOut, InSchema
from minqing.core.digits import plain_digits
from minqing.core.models import ImportBatch, ImportStatus
from minqing.registry.imports import service
from minqing.registry.imports.reader import ImportFileError, check_size
from minqing.registry.imports.validate import TAG_NEW, TAG_SKIP
from minqing.registry.selectors import grids_for

router = Router(tags=["imports"])

SHOWN = 200  # problems and updated people listed per preview, as on the page
ERR_GRID = _("该网格不存在或不在您的管辖范围内。")
ERR_CHOICE = _("“{name}”应为 new、skip 或已有类别的编号。")


class IssueOut(Schema):
    sheet: str
    row: int
    column: str
    header: str
    value: str
    reason: str


class UpdatedOut(Schema):
    row: int
    name: str
    changes: dict


class BatchOut(Schema):
    id: int
    file_name: str
    status: str
    status_label: str
    created_at: str
    counts: dict
    default_grid: str | None = None
    ok: bool | None = None
    error_count: int | None = None
    errors: list[IssueOut] = []
    warning_count: int | None = None
    warnings: list[IssueOut] = []
    unknown_tags: dict[str, int] = {}
    tag_choices: dict[str, str] = {}
    updated: list[UpdatedOut] = []
    message: str | None = None


class UploadIn(InSchema):
    grid_code: str = Field("", max_length=20, description="grid for rows without 所属网格")


class TagChoicesIn(InSchema):
    """What to do with each category the system does not know: "new" (create it; admins),
    "skip", or the id of an existing category to map it to."""

    choices: dict[str, str] = Field(max_length=200)


def _batch(user, pk: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(pk=pk, user=user).first() if 0 < pk < 2**62 else None
    if batch is None:
        raise Http404
    return batch


def _issue(i) -> dict:
    return {
        "sheet": i.sheet,
        "row": i.row,
        "column": i.column,
        "header": i.header,
        "value": i.value,
        "reason": str(i.reason),
    }


def _base(batch: ImportBatch, options=None) -> dict:
    grid = options.default_grid if options is not None else None
    return {
        "id": batch.pk,
        "file_name": batch.file_name,
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "created_at": batch.created_at.isoformat(),
        "counts": batch.counts or {},
        "default_grid": grid.code if grid is not None else None,
    }


def _plan_out(batch: ImportBatch, plan, options) -> dict:
    return {
        **_base(batch, options),
        "counts": plan.counts,
        "ok": plan.ok,
        "error_count": plan.error_count,
        "errors": [_issue(i) for i in plan.errors[:SHOWN]],
        "warning_count": plan.warning_count,
        "warnings": [_issue(i) for i in plan.warnings[:SHOWN]],
        "unknown_tags": dict(plan.unknown_tags),
        "tag_choices": options.tag_choices,
        "updated": [
            {"row": p.row, "name": p.name, "changes": p.changes} for p in plan.updated()[:SHOWN]
        ],
    }


def _options(user, batch: ImportBatch):
    return service.options_from_json(batch.options, grids=grids_for(user))


def _preview(user, batch: ImportBatch) -> dict:
    if batch.status != ImportStatus.PREVIEW:
        return {**_base(batch), "message": None if batch.status == ImportStatus.APPLIED else str(service.ERR_FILE_GONE)}  # fmt: skip
    options = _options(user, batch)
    try:
        plan = service.import_preview(acting_user=user, batch=batch, options=options)
    except (ImportFileError, service.ImportRefused) as exc:
        service.import_cancel(acting_user=user, batch=batch)
        batch.refresh_from_db()
        return {**_base(batch), "ok": False, "message": str(exc)}
    try:
        return _plan_out(batch, plan, options)
    finally:
        plan.close()


@router.post(
    "/",
    response={201: BatchOut, 400: FieldErrorsOut, 403: ErrorOut},
    summary="Upload a ledger (.xlsx/.xls/.ods/.csv) and get its preview: counts and problems",
)
def import_upload(
    request,
    file: File[UploadedFile],
    form: Form[UploadIn],
):
    from django.core.exceptions import ValidationError

    user = request.user
    grid = None
    grid_code = form.grid_code.strip()
    if grid_code:
        grid = grids_for(user).filter(code=grid_code).first()
        if grid is None:
            raise ValidationError({"grid_code": ERR_GRID})
    try:
        check_size(file.name or "", file.size or 0, service.max_bytes())
        batch = service.import_start(
            acting_user=user,
            file_name=file.name or "",
            data=file.read(),
            options=service.Options(default_grid=grid),
            source="api",
        )
    except ImportFileError as exc:
        raise ValidationError({"file": str(exc)}) from None
    out = _preview(user, batch)
    if out.get("ok") is False and out.get("status") == ImportStatus.CANCELLED:
        # Not a ledger at all (a renamed file, an empty sheet, an export): the upload failed,
        # and says why on `file`, as an empty or oversized file does.
        raise ValidationError({"file": out["message"]})
    return Reply(201, out)


@router.get(
    "/{int:pk}",
    response={200: BatchOut, 404: ErrorOut, 403: ErrorOut},
    summary="The batch's preview (validated again against the database as it is now)",
)
def import_get(request, pk: int):
    return _preview(request.user, _batch(request.user, pk))


@router.post(
    "/{int:pk}/tags",
    response={200: BatchOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Say what to do with categories the system does not know, then preview again",
)
def import_tags(request, pk: int, payload: TagChoicesIn):
    from django.core.exceptions import ValidationError

    batch = _batch(request.user, pk)
    bad = [
        name
        for name, value in payload.choices.items()
        if not (value in (TAG_NEW, TAG_SKIP) or plain_digits(value, max_len=18))
    ]
    if bad:
        raise ValidationError({"choices": ERR_CHOICE.format(name=bad[0])})
    if batch.status == ImportStatus.PREVIEW:
        options = _options(request.user, batch)
        options.tag_choices = dict(payload.choices)
        batch.options = service.options_to_json(options)
        batch.save(update_fields=["options"])
    return _preview(request.user, batch)


@router.post(
    "/{int:pk}/confirm",
    response={200: BatchOut, 400: FieldErrorsOut, 403: ErrorOut, 404: ErrorOut},
    summary="Import the batch: all or nothing; refused while the preview has errors",
)
def import_confirm(request, pk: int):
    user = request.user
    batch = _batch(user, pk)
    options = _options(user, batch)
    try:
        plan, _timings = service.import_confirm(
            acting_user=user, batch=batch, options=options, request=request
        )
    except (ImportFileError, service.ImportRefused) as exc:
        return Reply(400, {"detail": str(exc), "errors": {}})
    batch.refresh_from_db()
    if not plan.ok:
        detail = str(service.ERR_HAS_ERRORS).format(n=plan.error_count)
        return Reply(400, {"detail": detail, "errors": {}})
    return {**_base(batch, options), "ok": True}


@router.post(
    "/{int:pk}/cancel",
    response={200: BatchOut, 403: ErrorOut, 404: ErrorOut},
    summary="Drop an uploaded batch without importing anything",
)
def import_cancel(request, pk: int):
    batch = _batch(request.user, pk)
    service.import_cancel(acting_user=request.user, batch=batch)
    batch.refresh_from_db()
    return _base(batch)
