"""Case.extension_pending: the deciding supervisors' inbox finds cases waiting for an
extension decision through a small partial index; existing pending requests set it."""

from django.conf import settings
from django.db import migrations, models


def mark_pending(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    ExtensionRequest = apps.get_model("cases", "ExtensionRequest")
    pending = ExtensionRequest.objects.filter(status="pending").values("case_id")
    Case.objects.filter(pk__in=pending).update(extension_pending=True)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0007_open311_intake_failed_indexed'),
        ('grids', '0001_initial'),
        ('registry', '0005_encrypt_personal_numbers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='extension_pending',
            field=models.BooleanField(db_default=False, default=False, verbose_name='延期待审批'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('extension_pending', True)), fields=['level_node', 'deadline'], name='case_extension_pending'),
        ),
        migrations.RunPython(mark_pending, migrations.RunPython.noop),
    ]
