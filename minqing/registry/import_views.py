"""Import of people and households: upload → preview → confirm.

Thin views over minqing.registry.imports.service. A batch belongs to the user who uploaded it:
anyone else gets 404, as for a record outside their scope. Users who may not edit the registry
get 403 on every page.
"""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from minqing.accounts.access import can_edit_registry, scope_queryset
from minqing.core.digits import plain_digits, positive_id
from minqing.core.models import ImportBatch, ImportStatus
from minqing.registry import services
from minqing.registry.imports import service
from minqing.registry.imports.reader import ImportFileError, check_size
from minqing.registry.imports.template import build_template
from minqing.registry.imports.validate import MAX_SHOWN, TAG_NEW, TAG_SKIP, can_create_tags
from minqing.registry.models import Person, Tag
from minqing.registry.selectors import grids_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACCEPT = ".xlsx,.xlsm,.xls,.ods,.csv"
ERR_NO_FILE = _("请选择要导入的文件。")
MSG_IMPORTED = _("已导入：新增 {new} 人、更新 {updated} 人，新增家庭户 {households} 户。")
PEOPLE_SHOWN = 200
TEMPLATE_NAME = "人员台账导入模板.xlsx"


def _importer(request) -> None:
    if not can_edit_registry(request.user):
        raise DjangoPermissionDenied(services.ERR_NOT_ALLOWED)


def _batch(request, pk: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(pk=pk, user=request.user).first()
    if batch is None:
        raise Http404
    return batch


def _options(request, batch: ImportBatch):
    return service.options_from_json(batch.options, grids=grids_for(request.user))


@login_required
def import_start(request):
    _importer(request)
    grids = grids_for(request.user).order_by("path")
    if request.method == "POST":
        upload = request.FILES.get("file")
        grid_id = request.POST.get("grid", "")
        pk = positive_id(grid_id)
        grid = grids.filter(pk=pk).first() if pk else None
        if upload is None:
            messages.error(request, ERR_NO_FILE)
        else:
            try:
                # Refuse an oversized file before reading it into memory.
                check_size(upload.name, upload.size, service.max_bytes())
                batch = service.import_start(
                    acting_user=request.user,
                    file_name=upload.name,
                    data=upload.read(),
                    options=service.Options(default_grid=grid),
                )
            except ImportFileError as exc:
                messages.error(request, str(exc))
            else:
                return redirect(f"/imports/{batch.pk}/")
        return redirect("/imports/")
    return render(
        request,
        "registry/import_start.html",
        {
            "grids": grids,
            "accept": ACCEPT,
            "max_mb": service.max_bytes() // (1024 * 1024),
            "batches": ImportBatch.objects.filter(user=request.user)[:10],
        },
    )


@login_required
def import_template(request):
    _importer(request)
    response = HttpResponse(build_template(), content_type=XLSX)
    response["Content-Disposition"] = (
        'attachment; filename="minqing-import-template.xlsx"; '
        f"filename*=UTF-8''{quote(TEMPLATE_NAME)}"
    )
    return response


@login_required
def import_preview(request, pk: int):
    _importer(request)
    batch = _batch(request, pk)
    if batch.status == ImportStatus.APPLIED:
        return _result(request, batch)
    if batch.status != ImportStatus.PREVIEW:
        messages.error(request, service.ERR_FILE_GONE)
        return redirect("/imports/")
    options = _options(request, batch)
    if request.method == "POST":  # choices for categories the system does not know
        choices = {}
        for key, value in request.POST.items():
            if key.startswith("tag:") and (
                value in (TAG_NEW, TAG_SKIP) or plain_digits(value, max_len=18)
            ):
                choices[key[4:]] = value
        options.tag_choices = choices
        batch.options = service.options_to_json(options)
        batch.save(update_fields=["options"])
        return redirect(f"/imports/{pk}/")
    try:
        plan = service.import_preview(acting_user=request.user, batch=batch, options=options)
    except ImportFileError as exc:
        service.import_fail(acting_user=request.user, batch=batch)
        messages.error(request, str(exc))
        return redirect("/imports/")
    except service.ImportRefused as exc:
        service.import_cancel(acting_user=request.user, batch=batch)
        messages.error(request, str(exc))
        return redirect("/imports/")
    return render(
        request,
        "registry/import_preview.html",
        {
            "batch": batch,
            "plan": plan,
            "counts": plan.counts,
            "errors_more": plan.error_count - len(plan.errors),
            "warnings_more": plan.warning_count - len(plan.warnings),
            "updated": plan.updated()[:PEOPLE_SHOWN],
            "updated_more": max(0, plan.counts["updated_people"] - PEOPLE_SHOWN),
            "updated_households": plan.updated_households()[:PEOPLE_SHOWN],
            "updated_households_more": max(0, plan.counts["updated_households"] - PEOPLE_SHOWN),
            "unknown_tags": sorted(plan.unknown_tags.items()),
            "tag_choices": options.tag_choices,
            "tags": Tag.objects.all(),
            "can_create_tags": can_create_tags(request.user),
            "grid": options.default_grid,
            "grids": grids_for(request.user).order_by("path"),
            "accept": ACCEPT,
            "max_shown": MAX_SHOWN,
        },
    )


def _result(request, batch: ImportBatch):
    ids = service.batch_people_ids(batch)
    people = (
        scope_queryset(request.user, Person.objects.filter(pk__in=ids[:PEOPLE_SHOWN]))
        .select_related("grid", "household")
        .order_by("id")
    )
    return render(
        request,
        "registry/import_result.html",
        {"batch": batch, "counts": batch.counts, "people": people, "more": len(ids) > PEOPLE_SHOWN},
    )


@login_required
@require_POST
def import_confirm(request, pk: int):
    _importer(request)
    batch = _batch(request, pk)
    try:
        plan, _ = service.import_confirm(
            acting_user=request.user, batch=batch, options=_options(request, batch), request=request
        )
    except (ImportFileError, service.ImportRefused) as exc:
        messages.error(request, str(exc))
        return redirect(f"/imports/{pk}/" if batch.status == ImportStatus.PREVIEW else "/imports/")
    if not plan.ok:
        messages.error(request, service.ERR_HAS_ERRORS.format(n=plan.error_count))
        return redirect(f"/imports/{pk}/")
    c = plan.counts
    messages.success(
        request,
        MSG_IMPORTED.format(
            new=c["new_people"], updated=c["updated_people"], households=c["new_households"]
        ),
    )
    return redirect(f"/imports/{pk}/")


@login_required
@require_POST
def import_cancel(request, pk: int):
    _importer(request)
    batch = _batch(request, pk)
    service.import_cancel(acting_user=request.user, batch=batch)
    if request.POST.get("unchanged"):
        messages.success(request, _("文件与民情档案一致，未写入任何数据。"))
    else:
        messages.success(request, _("已取消，未导入任何数据。"))
    return redirect("/imports/")
