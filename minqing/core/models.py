"""The audit log: who did what to which record, when, with old and new values.

Rows are only ever inserted (等级保护: audit records protected from deletion; kept ≥ 6 months by
the Cybersecurity Law art. 21). Sensitive values are stored masked so the log itself leaks nothing.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    REVEAL = "reveal", "查看明文"
    IMPORT = "import", "导入"
    EXPORT = "export", "导出"


class AuditEntry(models.Model):
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField("操作", max_length=10, choices=AuditAction.choices)
    model = models.CharField("对象类型", max_length=50)
    object_id = models.CharField("对象编号", max_length=40)
    object_repr = models.CharField("对象", max_length=200)
    changes = models.JSONField("变更", default=dict, blank=True)  # {field: [old, new]}
    reason = models.CharField("事由", max_length=200, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    # The base grid of the record, so the audit log can be scoped like the records themselves.
    node = models.ForeignKey(
        "grids.Node", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.get_action_display()} {self.object_repr}"
        )
