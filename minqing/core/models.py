"""The audit log: who did what to which record, when, with old and new values.

Rows are only ever inserted (等级保护: audit records protected from deletion; kept ≥ 6 months by
the Cybersecurity Law art. 21). Sensitive values are stored masked so the log itself leaks nothing.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CREATE = "create", pgettext_lazy("audit action", "新增")
    UPDATE = "update", pgettext_lazy("audit action", "修改")
    DELETE = "delete", pgettext_lazy("audit action", "删除")
    REVEAL = "reveal", _("查看明文")
    IMPORT = "import", pgettext_lazy("audit action", "导入")
    EXPORT = "export", pgettext_lazy("audit action", "导出")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=10, choices=AuditAction.choices)
    model = models.CharField(_("对象类型"), max_length=50)
    object_id = models.CharField(_("对象编号"), max_length=40)
    object_repr = models.CharField(_("对象"), max_length=200)
    changes = models.JSONField(_("变更"), default=dict, blank=True)  # {field: [old, new]}
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    # The base grid of the record, so the audit log can be scoped like the records themselves.
    node = models.ForeignKey(
        "grids.Node", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = pgettext_lazy("plural", "审计日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.get_action_display()} {self.object_repr}"
        )


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", _("待确认")  # uploaded and checked; nothing written yet
    APPLIED = "applied", _("已导入")  # confirmed and written in one transaction
    CANCELLED = "cancelled", _("已取消")  # the importer gave up on it
    FAILED = "failed", _("未能读取")  # the file could not be read; nothing written
    EXPIRED = "expired", _("已过期")  # left unconfirmed; the uploaded file has been discarded


class ImportBatch(models.Model):
    """One upload of a ledger: who, when, which file, what it did.

    Between preview and confirm the uploaded file is kept here, encrypted with the data key
    (it is full of ID numbers); confirm reads it again and re-validates, so nothing stale is
    ever applied. Once applied, cancelled or expired only its SHA-256 is kept.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now, db_index=True)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    kind = models.CharField(_("内容"), max_length=20, default="people")
    source = models.CharField(_("方式"), max_length=10, default="web")  # web or cli
    file_name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("文件大小"), default=0)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    content = models.BinaryField(_("文件（加密）"), default=b"", blank=True, editable=False)
    options = models.JSONField(_("选项"), default=dict, blank=True)
    counts = models.JSONField(_("统计"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEW
    )

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = pgettext_lazy("plural", "导入批次")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.get_status_display()}）"


class WorkdayOverride(models.Model):
    """One day the official calendar gets wrong for us: time limits are counted on this table first.

    Each winter an admin enters next year's holidays and make-up workdays here as soon as the
    State Council publishes them, before chinese-calendar has a release that knows the year; a
    local holiday, or a day the county decides to work, goes here too. See core/workdays.py.
    """

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(
        _("是否工作日"), help_text=_("勾选为上班（调休上班），不勾选为放假")
    )
    name = models.CharField(_("名称"), max_length=50, blank=True, help_text=_("如“2027年春节”"))

    class Meta:
        verbose_name = _("工作日调整")
        verbose_name_plural = pgettext_lazy("plural", "工作日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = gettext("上班") if self.is_working_day else gettext("放假")
        return f"{self.date:%Y-%m-%d} {kind} {self.name}".rstrip()
