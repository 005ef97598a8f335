"""The steps' own measures (数字城管: 派遣数, 准确派遣率, 按时立案率, 按期处置率) need what the
cases did not keep: how often a handler was given a case and sent it back, and whether 立案 and
处置 came within their limits. Cases from before are filled in from what they do keep: the
counts from their logged events, 按期处置 from the feedback time against the handler's limit
(closed and fed-back cases keep both). Whether they were registered in time cannot be told (the
立案 limit running then was not kept): it stays unknown, and the rate counts only the known."""

from django.db import migrations, models
from django.db.models import Count, F, OuterRef, Q, Subquery

HANDED_OVER = ("take", "dispatch", "transfer")


def fill_in(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    CaseEvent = apps.get_model("cases", "CaseEvent")

    def counted(actions):
        return Subquery(
            CaseEvent.objects.filter(case=OuterRef("pk"), action__in=actions)
            .order_by()
            .values("case")
            .annotate(n=Count("*"))
            .values("n")[:1]
        )

    for field, actions in (("dispatch_count", HANDED_OVER), ("decline_count", ("decline",))):
        logged = CaseEvent.objects.filter(action__in=actions).values("case_id")
        Case.objects.filter(pk__in=logged).update(**{field: counted(actions)})
    fed = Case.objects.filter(fed_back_at__isnull=False)
    # No limit kept: in time — unless reopened (不满意 clears the limit, not the feedback time).
    fed.filter(
        Q(handle_deadline__isnull=True, reopened=False) | Q(fed_back_at__lte=F("handle_deadline"))
    ).update(handled_on_time=True)
    fed.filter(fed_back_at__gt=F("handle_deadline")).update(handled_on_time=False)


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_category_published")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="decline_count",
            field=models.PositiveSmallIntegerField(
                db_default=0, default=0, verbose_name="退单次数"
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="dispatch_count",
            field=models.PositiveSmallIntegerField(
                db_default=0, default=0, verbose_name="派遣次数"
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="handled_on_time",
            field=models.BooleanField(blank=True, null=True, verbose_name="按期处置"),
        ),
        migrations.AddField(
            model_name="case",
            name="registered_on_time",
            field=models.BooleanField(blank=True, null=True, verbose_name="按时立案"),
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop),
    ]
