"""Correcting and deleting a help entry: the recorder within a month, an office at any time;
the monthly report and the helper's page read the corrected values; the audit keeps the old."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from minqing.assistance import selectors, services
from minqing.assistance.models import HelpEntry
from minqing.core.models import AuditAction, AuditEntry
from minqing.registry.services import PermissionDenied

from .conftest import pair

DAY = dt.date(2026, 3, 10)


@pytest.fixture
def entry(office, cadre, cadre_helper, household_a):
    p = pair(office, "cadre", [cadre_helper], household=household_a, start=dt.date(2026, 1, 5))
    return services.help_entry_add(
        acting_user=cadre,
        pairing=p,
        data={"kind": "goods", "text": "送慰问金", "amount": "5000", "fund_source": "cadre",
              "occurred_on": DAY},
    )  # fmt: skip


def test_a_wrong_sum_is_corrected_and_the_report_reads_the_new_one(office, cadre, entry):
    data = {"kind": "goods", "text": "送慰问金", "amount": "500", "fund_source": "cadre",
            "occurred_on": DAY}  # fmt: skip
    with pytest.raises(ValidationError) as err:
        services.help_entry_update(acting_user=cadre, entry=entry, data=data, reason=" ")
    assert "reason" in err.value.message_dict
    services.help_entry_update(acting_user=cadre, entry=entry, data=data, reason="多打了一个0")
    entry.refresh_from_db()
    assert entry.amount == Decimal("500.00") and entry.helper is not None  # helper kept
    report = selectors.month_report(office, month=DAY.replace(day=1), today=dt.date(2026, 4, 2))
    assert report.totals.total == Decimal("500")
    log = AuditEntry.objects.get(action=AuditAction.UPDATE, model="assistance.helpentry")
    assert log.changes == {"amount": ["5000.00", "500.00"]} and log.reason == "多打了一个0"


def test_only_the_recorder_within_a_month_or_an_office_may_correct(
    office, cadre, cadre2, grid_b_worker, entry
):
    assert services.can_correct_help(cadre, entry) and services.can_correct_help(office, entry)
    assert not services.can_correct_help(cadre2, entry)
    assert not services.can_correct_help(grid_b_worker, entry)
    later = entry.created_at + dt.timedelta(days=services.CORRECT_DAYS + 1)
    assert not services.can_correct_help(cadre, entry, now=later)
    assert services.can_correct_help(office, entry, now=later)
    with pytest.raises(PermissionDenied):
        services.help_entry_delete(acting_user=cadre2, entry=entry, reason="不是我的")
    assert HelpEntry.objects.filter(pk=entry.pk).exists()


def test_the_pages_correct_and_delete_an_entry(client, cadre, cadre2, entry):
    client.force_login(cadre2)
    assert client.get(f"/assistance/help/{entry.pk}/edit/").status_code in (403, 404)
    client.force_login(cadre)
    pairing_page = client.get(f"/assistance/pairings/{entry.pairing_id}/").content.decode()
    assert f'href="/assistance/help/{entry.pk}/edit/"' in pairing_page
    form = client.get(f"/assistance/help/{entry.pk}/edit/").content.decode()
    assert 'value="5000.00"' in form and "更正原因" in form
    fields = {"kind": "goods", "text": "送慰问金", "amount": "500", "fund_source": "cadre",
              "occurred_on": "2026-03-10"}  # fmt: skip
    no_reason = client.post(f"/assistance/help/{entry.pk}/edit/", fields)
    assert no_reason.status_code == 400 and HelpEntry.objects.get().amount == Decimal("5000")
    done = client.post(f"/assistance/help/{entry.pk}/edit/", {**fields, "reason": "金额录错"})
    assert done.status_code == 302 and HelpEntry.objects.get().amount == Decimal("500")
    gone = client.post(f"/assistance/help/{entry.pk}/edit/", {"delete": "1", "reason": "重复录入"})
    assert gone.status_code == 302 and not HelpEntry.objects.exists()
    deleted = AuditEntry.objects.get(action=AuditAction.DELETE)
    assert deleted.changes["amount"] == ["500.00", None] and deleted.reason == "重复录入"


def test_the_api_corrects_and_deletes_an_entry(client, cadre, cadre2, entry):
    url = f"/api/assistance/help/{entry.pk}"
    body = {"kind": "goods", "text": "送慰问金", "amount": "500", "fund_source": "cadre",
            "occurred_on": "2026-03-10", "reason": "金额录错"}  # fmt: skip
    client.force_login(cadre2)
    assert client.put(url, json.dumps(body), content_type="application/json").status_code == 404
    client.force_login(cadre)
    r = client.put(url, json.dumps(body), content_type="application/json")
    assert r.status_code == 200 and r.json()["amount"] == "500.00"
    bad = client.put(url, json.dumps({**body, "amount": "-1"}), content_type="application/json")
    assert bad.status_code == 422 and "amount" in bad.json()["errors"]  # schema: no negatives
    assert client.delete(url).status_code == 422  # the reason is required
    assert client.delete(f"{url}?reason=%20").status_code == 400  # and must say something
    assert client.delete(f"{url}?reason=重复录入").status_code == 204
    assert not HelpEntry.objects.exists()
