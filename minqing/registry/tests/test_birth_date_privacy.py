"""A masked ID number (330188********0039) hides exactly the birth date: wherever the mask is
shown, the birth date must not be, or the mask is undone. And a database dump must not rebuild
an ID number from the clear birth date and the last four characters."""

import datetime
import importlib
import io
import types

import openpyxl
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from conftest import valid_id
from minqing.core.masking import mask_birth_date_audited, mask_id_number
from minqing.core.models import AuditEntry
from minqing.registry import services
from minqing.registry.identity import id_last4_digest, id_last4_q
from minqing.registry.models import Person

FULL_DATES = ("1960-05-04", "1960年5月4日", "19600504", "1960/05/04", "May 4, 1960")


def assert_no_birth_date(text: str, where: str) -> None:
    for shown in FULL_DATES:
        assert shown not in text, (where, shown)


def test_pages_api_export_and_admin_give_the_year_not_the_date(
    client, grid_a_worker, admin_user, zhang_san
):
    client.force_login(grid_a_worker)
    detail = client.get(f"/people/{zhang_san.pk}/").content.decode()
    assert "330188********0039" in detail and "1960-**-**" in detail
    for url in (f"/people/{zhang_san.pk}/", f"/people/{zhang_san.pk}/edit/", "/people/?q=zs"):
        assert_no_birth_date(client.get(url).content.decode(), url)

    body = client.get(f"/api/people/{zhang_san.pk}").json()
    assert (body["birth_date"], body["birth_year"], body["age"]) == (None, 1960, zhang_san.age())
    assert_no_birth_date(client.get("/api/people?q=zs").content.decode(), "api list")

    ws = openpyxl.load_workbook(io.BytesIO(client.get("/people/export.xlsx").getvalue())).active
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "1960-**-**" in cells
    assert not any(c.startswith("1960-05-04") for c in cells)

    client.force_login(admin_user)
    for url in ("/admin/registry/person/", f"/admin/registry/person/{zhang_san.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_birth_date(response.content.decode(), url)


def test_without_an_id_number_the_typed_birth_date_is_shown(client, grid_a_worker, tree):
    person = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "李无证", "birth_date": datetime.date(1950, 2, 3), "grid": tree["grid_a"]},
    )
    client.force_login(grid_a_worker)
    assert "1950-02-03" in client.get(f"/people/{person.pk}/").content.decode()
    body = client.get(f"/api/people/{person.pk}").json()
    assert body["birth_date"] == "1950-02-03" and body["birth_year"] == 1950
    assert 'name="birth_date"' in client.get(f"/people/{person.pk}/edit/").content.decode()


def test_the_edit_form_keeps_the_birth_date_the_id_number_gives(client, grid_a_worker, zhang_san):
    client.force_login(grid_a_worker)
    form = client.get(f"/people/{zhang_san.pk}/edit/").content.decode()
    assert 'name="birth_date"' not in form
    response = client.post(
        f"/people/{zhang_san.pk}/edit/",
        {"name": "张三丰", "sex": "M", "ethnicity": "汉族", "health": "good",
         "disability_grade": "0", "grid": zhang_san.grid_id, "relation": "head",
         "household": zhang_san.household_id},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get(pk=zhang_san.pk)
    assert (person.name, person.birth_date) == ("张三丰", datetime.date(1960, 5, 4))


def test_the_audit_log_keeps_the_year_and_still_sees_a_corrected_date(grid_a_worker, zhang_san):
    created = AuditEntry.objects.get(model="registry.person", action="create")
    assert created.changes["birth_date"][1].startswith("1960-**-**（·")
    # A typo in the birth digits of the ID number: the masked number looks the same, the
    # birth date's fingerprint does not, so the correction is in the log.
    corrected = next(
        n
        for day in range(1, 29)
        if (n := valid_id(1, birth=datetime.date(1960, 5, day))) != zhang_san.id_number
        and n[-4:] == zhang_san.id_number[-4:]
    )
    assert mask_id_number(corrected) == mask_id_number(zhang_san.id_number)
    services.person_update(
        acting_user=grid_a_worker, person=zhang_san, data={"id_number": corrected}
    )
    entry = AuditEntry.objects.filter(model="registry.person", action="update").latest("id")
    old, new = entry.changes["birth_date"]
    assert old != new and old.startswith("1960-**-**") and new.startswith("1960-**-**")
    everything = str(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert_no_birth_date(everything, "audit") and corrected[6:14] not in everything


def test_core_migration_0005_masks_the_dates_of_older_entries(zhang_san):
    old = AuditEntry.objects.create(
        action="update",
        model="registry.person",
        object_id=str(zhang_san.pk),
        changes={"birth_date": [None, "1960-05-04"], "name": ["张三", "张叁"]},
    )
    other = AuditEntry.objects.create(
        action="update", model="cases.case", object_id="1", changes={"birth_date": "1960-05-04"}
    )
    migration = importlib.import_module("minqing.core.migrations.0005_scrub_birth_dates_from_audit")
    migration.scrub(apps, None)
    migration.scrub(apps, None)  # twice: a masked date is left as it is
    old.refresh_from_db()
    other.refresh_from_db()
    masked = mask_birth_date_audited(datetime.date(1960, 5, 4))
    assert old.changes == {"birth_date": [None, masked], "name": ["张三", "张叁"]}
    assert other.changes == {"birth_date": "1960-05-04"}  # not a person's entry


def _rebuilt_from_a_dump(person_id: int) -> set[str]:
    """What an attacker holding only a dump can make of one row: the county's own area code,
    the clear birth date, and any four-character value stored beside them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_person WHERE id = %s", [person_id])
        columns = [c[0] for c in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    birth = row["birth_date"]
    birth = birth if isinstance(birth, datetime.date) else datetime.date.fromisoformat(birth)
    fours = {str(v) for v in row.values() if v is not None and len(str(v)) == 4}
    return {"330188" + birth.strftime("%Y%m%d") + four for four in fours}


def test_a_dump_cannot_rebuild_the_id_number_and_search_by_last_four_still_works(
    client, grid_a_worker, zhang_san, tree
):
    assert zhang_san.id_number not in _rebuilt_from_a_dump(zhang_san.pk)
    with_x = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "王五", "id_number": valid_id(29), "grid": tree["grid_a"]},
    )
    assert with_x.id_number.endswith("X")
    assert with_x.id_number not in _rebuilt_from_a_dump(with_x.pk)

    client.force_login(grid_a_worker)
    for person in (zhang_san, with_x):
        for last4 in (person.id_number[-4:], person.id_number[-4:].lower()):
            items = client.get("/api/people", {"q": last4}).json()["items"]
            assert person.pk in [i["id"] for i in items], last4
    assert client.get("/api/people", {"q": "5678"}).json()["count"] == 1  # the phone's last 4
    assert client.get("/api/people", {"q": "9999"}).json()["count"] == 0


def test_registry_migration_0007_writes_the_digest_of_every_stored_number(zhang_san):
    Person.objects.filter(pk=zhang_san.pk).update(id_last4_digest="0039")  # as before 0007
    migration = importlib.import_module("minqing.registry.migrations.0007_person_id_last4_digest")
    migration.write_digests(apps, types.SimpleNamespace(connection=connection))
    stored = Person.objects.values_list("id_last4_digest", flat=True).get(pk=zhang_san.pk)
    assert stored == id_last4_digest(zhang_san.id_number) and len(stored) == 16


def test_a_new_index_key_recomputes_the_last_four_digest(monkeypatch, zhang_san):
    import base64
    import os

    from minqing.core import crypto

    before = Person.objects.values_list("id_last4_digest", flat=True).get(pk=zhang_san.pk)
    monkeypatch.setenv("MINQING_INDEX_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    crypto.index_key.cache_clear()
    try:
        call_command("rotate_data_key", "--reindex")
        after = Person.objects.values_list("id_last4_digest", flat=True).get(pk=zhang_san.pk)
        assert after != before and after == id_last4_digest(zhang_san.id_number)
        assert Person.objects.get(id_last4_q(zhang_san.id_number[-4:])) == zhang_san
    finally:
        monkeypatch.delenv("MINQING_INDEX_KEY")
        crypto.index_key.cache_clear()


def test_a_corrected_id_number_brings_its_own_birth_date_through_the_api(
    client, grid_a_worker, zhang_san
):
    """PATCH with only the new number: the old number's birth date must not refuse it."""
    client.force_login(grid_a_worker)
    corrected = valid_id(1, birth=datetime.date(1961, 7, 8))
    response = client.patch(
        f"/api/people/{zhang_san.pk}", {"id_number": corrected}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["birth_year"] == 1961
    person = Person.objects.get(pk=zhang_san.pk)
    assert (person.id_number, person.birth_date) == (corrected, datetime.date(1961, 7, 8))
    with pytest.raises(ValidationError) as refused:  # a date given with it is still checked
        services.person_update(
            acting_user=grid_a_worker,
            person=person,
            data={"id_number": zhang_san.id_number, "birth_date": datetime.date(1961, 7, 8)},
        )
    assert "出生日期与身份证号不一致" in str(refused.value)


def test_a_birth_dates_fingerprint_tells_nothing_about_another_record(grid_a_worker, tree):
    """QA (privacy): the fingerprint was keyed by the date alone — 1946-**-**（·646901） for
    everyone born that day — and a record without an ID number shows its date in clear: typing
    dates there built the table that un-masked every other record's history. Keyed by the
    record now; older entries keep the year only (core 0007)."""
    import importlib

    from django.apps import apps

    day = datetime.date(1946, 11, 30)
    a = services.person_create(acting_user=grid_a_worker, data={
        "name": "甲", "grid": tree["grid_a"], "id_number": valid_id(3, birth=day)})  # fmt: skip
    b = services.person_create(acting_user=grid_a_worker, data={
        "name": "乙", "grid": tree["grid_a"], "birth_date": day})  # fmt: skip

    def shown(person):
        entry = AuditEntry.objects.get(model="registry.person", object_id=str(person.pk))
        return entry.changes["birth_date"][1]

    assert shown(a).startswith("1946-**-**（·") and shown(b).startswith("1946-**-**（·")
    assert shown(a) != shown(b)
    old = AuditEntry.objects.create(action="update", model="registry.person", object_id="9",
                                    changes={"birth_date": ["1946-**-**（·646901）", None]})  # fmt: skip
    migration = importlib.import_module(
        "minqing.core.migrations.0007_birth_fingerprints_per_record"
    )
    migration.scrub(apps, None)
    old.refresh_from_db()
    assert old.changes == {"birth_date": ["1946-**-**", None]}
