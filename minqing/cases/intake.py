"""Deferred Open311 intake: a report is checked and kept at once, and filed as a case after.

A platform that pushes reports in bulk (a 12345 hotline, a city app at rush hour) is better
served by an answer in a millisecond than by waiting for the case's number, placing, time limits
and notifications. GeoReport v2 provides for it: the POST answers a `token`, and
`GET tokens/{token}` gives the `service_request_id` once the case exists. A client opts in by
`Open311Client.deferred`; residents' apps keep the synchronous path and their number at once.

Filing is idempotent and safe with several filers at once: a filer takes a report (WAITING →
FILING, under its row lock with SKIP LOCKED), files it, and marks it FILED; the case carries the
report's token, which is unique, so a report taken again after its filer died is never filed
twice. `python manage.py file_open311_reports` runs it (every minute, see README), and
a client asking for its token files that report on the spot.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from minqing.cases import config, services
from minqing.cases.models import Case, IntakeState, Open311Client, Open311Intake

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


# A report taken by a filer this long ago and still not filed: that filer died; take it again.
STALE_CLAIM = timedelta(minutes=5)
BATCH = 200


def file_waiting(*, limit: int = 10_000) -> Filing:
    """File up to `limit` waiting reports, oldest first; what another filer holds is skipped."""
    result = Filing()
    _release_stale_claims()
    while result.filed + result.failed < limit:
        taken = _claim_batch(min(BATCH, limit - result.filed - result.failed))
        if not taken:
            break
        for report in taken:
            if _file(report).state == IntakeState.FILED:
                result.filed += 1
            else:
                result.failed += 1
    return result


def file_token(token: str) -> Open311Intake | None:
    """File the waiting report of `token` now (its client asked for it); None if there is
    none, or another filer holds it at this moment."""
    taken = _claim(Open311Intake.objects.filter(token=token))
    return _file(taken) if taken is not None else None


def _release_stale_claims() -> None:
    cutoff = timezone.now() - STALE_CLAIM
    Open311Intake.objects.filter(state=IntakeState.FILING, claimed_at__lt=cutoff).update(
        state=IntakeState.WAITING, claimed_at=None
    )


def _locked(waiting):
    waiting = waiting.filter(state=IntakeState.WAITING)
    if connection.features.has_select_for_update_skip_locked:
        waiting = waiting.select_for_update(skip_locked=True)
    return waiting


def _claim(report) -> Open311Intake | None:
    """Take one waiting report: WAITING → FILING under its row lock (SKIP LOCKED: a report
    another filer is taking is left to it)."""
    with transaction.atomic():
        intake = _locked(report).select_related("client").first()
        if intake is not None:
            intake.state, intake.claimed_at = IntakeState.FILING, timezone.now()
            intake.save(update_fields=["state", "claimed_at"])
        return intake


def _claim_batch(n: int) -> list[Open311Intake]:
    """Take the `n` oldest waiting reports no other filer holds, in one short transaction."""
    with transaction.atomic():
        ids = list(_locked(Open311Intake.objects.order_by("id")).values_list("pk", flat=True)[:n])
        if ids:
            Open311Intake.objects.filter(pk__in=ids).update(
                state=IntakeState.FILING, claimed_at=timezone.now()
            )
    return list(Open311Intake.objects.filter(pk__in=ids).select_related("client").order_by("id"))


def _file(intake: Open311Intake) -> Open311Intake:
    """File a report this filer took, as case_accept files a resident's report: outside a
    transaction of ours, so its reads come from the process's caches and the day's number is
    taken apart. The case carries the report's token, which is unique: a report taken again
    after its filer died, once the case was written, finds that case instead of a second."""
    data = dict(intake.data, reporter_phone=intake.reporter_phone)
    data["category"] = config.catalog().leaf_by_code.get(data.get("category", ""))
    case, error = None, ""
    try:
        case = services.case_accept(
            acting_user=None,
            public=True,
            source_client=intake.client.name,
            open311_client=intake.client,
            data=data,
            now=intake.received_at,
            token=intake.token,
        )
    except ValidationError as e:
        # The category was closed, or a rule changed, since the report was checked.
        error = "；".join(m for ms in e.message_dict.values() for m in ms)[:500]
    except IntegrityError:
        case = Case.objects.filter(token=intake.token).first()  # filed before its filer died
        if case is None:
            raise
    if case is not None:
        intake.state, intake.case, intake.error = IntakeState.FILED, case, ""
        intake.data, intake.reporter_phone = {}, ""
    else:
        intake.state, intake.error = IntakeState.FAILED, error
    intake.filed_at = timezone.now()
    intake.save(update_fields=["state", "case", "error", "data", "reporter_phone", "filed_at"])
    return intake
