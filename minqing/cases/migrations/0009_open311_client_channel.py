"""Open311 clients get a channel (a 12345 platform's reports are 12345 cases) and a case keeps
the client that sent it, so the client can read its own cases with its key. Cases already sent
are linked to their client by the name they carry (`source_client`), where that name is one
client's only."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count


def link_sent_cases(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Open311Client = apps.get_model("cases", "Open311Client")
    unique = (
        Open311Client.objects.values("name").annotate(n=Count("id")).filter(n=1).values("name")
    )
    for client in Open311Client.objects.filter(name__in=unique):
        Case.objects.filter(source_client=client.name[:50], open311_client=None).update(
            open311_client=client
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_case_extension_pending")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="open311_client",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="cases.open311client",
                verbose_name="Open311 客户端",
            ),
        ),
        migrations.AddField(
            model_name="open311client",
            name="channel",
            field=models.CharField(
                choices=[("online", "网上"), ("hotline", "12345")],
                default="online",
                help_text="12345 热线平台选“12345”：其报告按 12345 渠道统计和计时，不公开发布，"
                "平台凭 API 密钥查询自己报告的办理情况。",
                max_length=12,
                verbose_name="渠道",
            ),
        ),
        migrations.RunPython(link_sent_cases, migrations.RunPython.noop),
    ]
