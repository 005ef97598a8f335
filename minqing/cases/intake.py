"""Deferred Open311 intake: a report is checked and kept at once, and filed as a case after.

A platform that pushes reports in bulk (a 12345 hotline, a city app at rush hour) is better
served by an answer in a millisecond than by waiting for the case's number, placing, time limits
and notifications. GeoReport v2 provides for it: the POST answers a `token`, and
`GET tokens/{token}` gives the `service_request_id` once the case exists. A client opts in by
`Open311Client.deferred`; residents' apps keep the synchronous path and their number at once.

Filing is idempotent and safe with several workers at once: each report is filed in its own
transaction, under a row lock taken with SKIP LOCKED, and the case carries the report's token,
which is unique. `python manage.py file_open311_reports` runs it (every minute, see README), and
a client asking for its token files that report on the spot.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from minqing.cases import services
from minqing.cases.models import Category, IntakeState, Open311Client, Open311Intake

# What a report keeps until it is filed (case_accept's data; the phone in its own column).
KEPT = ("title", "description", "address", "lat", "lng", "reporter_name", "channel", "case_type")


def receive(client: Open311Client, data: dict) -> Open311Intake:
    """Check a public report as case_accept will, and keep it; raises ValidationError.

    One INSERT: the checks read nothing from the database (the category comes checked)."""
    clean = services.case_clean(acting_user=None, data=data, public=True, place=False)
    kept = {name: clean[name] for name in KEPT}
    for name in ("lat", "lng"):
        kept[name] = None if kept[name] is None else str(kept[name])
    kept["category"] = clean["category"].code
    return Open311Intake.objects.create(
        client=client, data=kept, reporter_phone=clean["reporter_phone"]
    )


@dataclass
class Filing:
    filed: int = 0
    failed: int = 0


def file_waiting(*, limit: int = 10_000) -> Filing:
    """File up to `limit` waiting reports, oldest first; what another worker holds is skipped."""
    result = Filing()
    while result.filed + result.failed < limit:
        outcome = _file_next(Open311Intake.objects.filter(state=IntakeState.WAITING))
        if outcome is None:
            break
        if outcome.state == IntakeState.FILED:
            result.filed += 1
        else:
            result.failed += 1
    return result


def file_token(token: str) -> Open311Intake | None:
    """File the waiting report of `token` now (its client asked for it); None if there is
    none, or another worker is filing it at this moment."""
    return _file_next(Open311Intake.objects.filter(state=IntakeState.WAITING, token=token))


def _file_next(waiting) -> Open311Intake | None:
    with transaction.atomic():
        locked = waiting.order_by("id").select_related("client")
        if connection.features.has_select_for_update_skip_locked:
            locked = locked.select_for_update(skip_locked=True, of=("self",))
        intake = locked.first()
        if intake is None:
            return None
        data = dict(intake.data, reporter_phone=intake.reporter_phone)
        data["category"] = Category.objects.filter(code=data.get("category", "")).first()
        try:
            with transaction.atomic():
                case = services.case_accept(
                    acting_user=None,
                    public=True,
                    source_client=intake.client.name,
                    data=data,
                    now=intake.received_at,
                    token=intake.token,
                )
        except ValidationError as e:
            # The category was closed, or a rule changed, since the report was checked.
            reasons = "；".join(m for ms in e.message_dict.values() for m in ms)
            intake.state, intake.error = IntakeState.FAILED, reasons[:500]
        else:
            intake.state, intake.case, intake.error = IntakeState.FILED, case, ""
            intake.data, intake.reporter_phone = {}, ""
        intake.filed_at = timezone.now()
        intake.save(update_fields=["state", "case", "error", "data", "reporter_phone", "filed_at"])
        return intake
