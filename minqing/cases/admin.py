"""Back-office configuration of the case loop: categories, time limits, escalation, departments,
zoning layers and Open311 clients. Cases themselves are read-only here: every change to a case
goes through the workflow so it is checked and leaves an event."""

import hashlib
import json
import secrets

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from minqing.accounts.access import user_scope
from minqing.cases.models import (
    Case,
    CaseEvent,
    Category,
    EscalationRule,
    IntakeState,
    Open311Client,
    Open311Intake,
    TimeLimit,
    Unit,
    ZoningLayer,
)
from minqing.core.admin import AuditedAdmin, CountyWide, ReadOnly, ReadOnlyScopedAdmin
from minqing.core.models import AuditAction
from minqing.grids import geo
from minqing.grids.models import Level


@admin.register(Category)
class CategoryAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "code", "name", "parent", "default_type", "zoning_sensitive", "published", "active", "sort"
    ]  # fmt: skip
    list_filter = ["active", "published", "zoning_sensitive", "default_type"]
    list_editable = ["published", "active", "sort"]
    search_fields = ["code", "name"]


@admin.register(TimeLimit)
class TimeLimitAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "stage",
        "category",
        "case_type",
        "priority",
        "channel",
        "working_days",
        "working_hours",
    ]
    list_filter = ["stage", "priority", "case_type", "channel"]
    list_editable = ["working_days", "working_hours"]


class EscalationRuleForm(forms.ModelForm):
    level = forms.TypedChoiceField(
        label=_("所在层级"),
        coerce=int,
        choices=[(lv.value, lv.label) for lv in Level if lv != Level.COUNTY],
    )

    class Meta:
        model = EscalationRule
        fields = ["level", "grace_working_days", "active"]


@admin.register(EscalationRule)
class EscalationRuleAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    form = EscalationRuleForm
    list_display = ["__str__", "grace_working_days", "active"]


@admin.register(Unit)
class UnitAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    list_display = ["code", "name", "node", "phone", "active"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members"]
    raw_id_fields = ["node"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    fields = ["at", "actor", "actor_label", "action", "from_status", "to_status", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyScopedAdmin):
    list_display = ["number", "title", "category", "status", "grid", "level_node", "deadline"]
    list_filter = ["status", "priority", "channel", "case_type"]
    search_fields = ["number", "title"]
    date_hierarchy = "accepted_at"
    exclude = ["reporter_phone"]
    inlines = [CaseEventInline]


class ZoningLayerForm(forms.ModelForm):
    upload = forms.FileField(
        label=_("上传 GeoJSON 文件"), required=False, help_text=_("或直接在下方粘贴 GeoJSON。")
    )
    geometry = forms.JSONField(label=_("范围 (GeoJSON)"), required=False)

    class Meta:
        model = ZoningLayer
        fields = ["kind", "name", "active", "upload", "geometry"]

    def clean(self):
        data = super().clean()
        raw = data.get("geometry")
        upload = data.get("upload")
        if upload:
            try:
                raw = json.loads(upload.read(5 * 1024 * 1024).decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError):
                self.add_error("upload", _("文件不是有效的 GeoJSON（JSON 格式）。"))
                return data
        if not raw:
            self.add_error("geometry", _("请上传或粘贴分区范围。"))
            return data
        try:
            data["geometry"] = geo.validate_geometry(raw)
        except forms.ValidationError as e:
            self.add_error("upload" if upload else "geometry", e)
        return data


@admin.register(ZoningLayer)
class ZoningLayerAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    form = ZoningLayerForm
    list_display = ["name", "kind", "active", "uploaded_by", "uploaded_at"]
    list_filter = ["kind", "active"]

    def save_model(self, request, obj, form, change):
        obj.geometry = form.cleaned_data["geometry"]
        if not change:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Open311Client)
class Open311ClientAdmin(CountyWide, AuditedAdmin, admin.ModelAdmin):
    """Saving a new client shows its API key once; only the key's SHA-256 is kept."""

    list_display = ["name", "key_prefix", "channel", "active", "deferred", "created_at"]
    fields = ["name", "channel", "active", "deferred"]

    def save_model(self, request, obj, form, change):
        if not change:
            raw = "o311_" + secrets.token_urlsafe(24)
            obj.key_digest = hashlib.sha256(raw.encode()).hexdigest()
            obj.key_prefix = raw[:8]
            messages.warning(
                request, _("API 密钥（只显示这一次，请妥善转交）：%(key)s") % {"key": raw}
            )
        super().save_model(request, obj, form, change)


@admin.register(Open311Intake)
class Open311IntakeAdmin(ReadOnly, CountyWide, AuditedAdmin, admin.ModelAdmin):
    """Deferred clients' reports: waiting, filed (with the case) or failed (with the reason).

    Read-only but for one action: a failed report (its category closed meanwhile, say) can be
    put back in the queue once the cause is fixed. The phone is never shown here.
    """

    list_display = ["token", "client", "received_at", "state", "case", "filed_at", "error"]
    list_filter = ["state", "client"]
    search_fields = ["token", "case__number"]
    date_hierarchy = "received_at"
    exclude = ["reporter_phone"]
    actions = ["requeue"]

    def get_queryset(self, request):
        # A report has no place until it is filed: county-wide staff (and admins) only.
        qs = super().get_queryset(request)
        return qs if user_scope(request.user).everything else qs.none()

    def has_requeue_permission(self, request):
        # Putting a report back changes it: the model's change permission, though the admin
        # never edits one (ReadOnly); viewing the queue is not enough.
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description=_("重新排队受理（仅未能受理的报告）"), permissions=["requeue"])
    def requeue(self, request, queryset):
        failed = list(queryset.filter(state=IntakeState.FAILED))
        for report in failed:
            changes = {"state": [IntakeState.FAILED.value, IntakeState.WAITING.value]}
            changes["error"] = [report.error, ""]
            report.state, report.error, report.filed_at = IntakeState.WAITING, "", None
            report.save(update_fields=["state", "error", "filed_at"])
            self._audit(request, AuditAction.UPDATE, report, changes)
        messages.info(
            request,
            ngettext(
                "%(count)d 条报告已重新排队，将由后台任务受理。",
                "%(count)d 条报告已重新排队，将由后台任务受理。",
                len(failed),
            )
            % {"count": len(failed)},
        )
