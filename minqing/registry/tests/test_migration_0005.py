"""Migration 0005's data step: rows written in clear before encryption come out sealed.

A pre-0005 database held ID numbers, phones and health notes as plain text and had no hash
column filled in. The step reads each row, encrypts what is still plain, fills the blind
index, and leaves already-sealed values alone, so running it again changes nothing.
"""

import importlib
import types

from django.apps import apps
from django.db import connection

from conftest import valid_id
from minqing.core import crypto
from minqing.registry import services
from minqing.registry.identity import id_number_q
from minqing.registry.models import Person

migration = importlib.import_module("minqing.registry.migrations.0005_encrypt_personal_numbers")

NOTE = "糖尿病，每日注射胰岛素"


def raw_row(person_id: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, id_number_hash, phone, health_note FROM registry_person "
            "WHERE id = %s",
            [person_id],
        )
        return cursor.fetchone()


def put_in_clear(person_id: int, id_number, phone: str, note: str) -> None:
    """The row as a database before 0005 held it: plaintext, no hash."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_person SET id_number = %s, id_number_hash = NULL, phone = %s, "
            "health_note = %s WHERE id = %s",
            [id_number, phone, note, person_id],
        )


def run_migration() -> None:
    migration.encrypt_rows(apps, types.SimpleNamespace(connection=connection))


def test_plaintext_rows_are_encrypted_hashed_and_read_back_unchanged(
    zhang_san, grid_a_worker, tree
):
    # given: 张三 in clear, and 李四 with no ID number, phone or note (stays empty)
    li_si = services.person_create(
        acting_user=grid_a_worker, data={"name": "李四", "grid": tree["grid_a"]}
    )
    number = zhang_san.id_number
    put_in_clear(zhang_san.pk, number, "13812345678", NOTE)
    put_in_clear(li_si.pk, None, "", "")
    assert raw_row(zhang_san.pk) == (number, None, "13812345678", NOTE)

    run_migration()

    id_cipher, digest, phone_cipher, note_cipher = raw_row(zhang_san.pk)
    for cipher, plain in ((id_cipher, number), (phone_cipher, "13812345678"), (note_cipher, NOTE)):
        assert cipher.startswith("v1$") and plain not in cipher
        assert crypto.decrypt(cipher) == plain
    assert digest == crypto.blind_index(number)
    person = Person.objects.get(pk=zhang_san.pk)
    assert (person.id_number, person.phone, person.health_note) == (number, "13812345678", NOTE)
    assert Person.objects.get(id_number_q(number)) == person
    # nothing to seal stays as it was: no ciphertext of an empty value, no hash of nothing
    assert raw_row(li_si.pk) == (None, None, "", "")


def test_running_it_twice_changes_nothing(zhang_san):
    put_in_clear(zhang_san.pk, zhang_san.id_number, "13812345678", NOTE)
    run_migration()
    first = raw_row(zhang_san.pk)
    run_migration()
    assert raw_row(zhang_san.pk) == first  # sealed values are not sealed again
    assert Person.objects.get(pk=zhang_san.pk).phone == "13812345678"


def test_rows_already_encrypted_are_left_alone_and_only_the_hash_is_filled(zhang_san):
    # given: a row written by the new code (ciphertext) whose hash was lost
    before = raw_row(zhang_san.pk)
    assert before[0].startswith("v1$")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_person SET id_number_hash = NULL WHERE id = %s", [zhang_san.pk]
        )
    run_migration()
    after = raw_row(zhang_san.pk)
    assert (after[0], after[2], after[3]) == (before[0], before[2], before[3])
    assert after[1] == crypto.blind_index(zhang_san.id_number) == before[1]


def test_more_rows_than_one_batch_are_all_sealed(monkeypatch, grid_a_worker, tree):
    people = [
        services.person_create(
            acting_user=grid_a_worker,
            data={"name": f"居民{i}", "id_number": valid_id(10 + i), "grid": tree["grid_a"]},
        )
        for i in range(5)
    ]
    for p in people:
        put_in_clear(p.pk, p.id_number, f"1380000000{p.pk % 10}", "")
    monkeypatch.setattr(migration, "BATCH", 2)
    run_migration()
    for p in people:
        id_cipher, digest, phone_cipher, _ = raw_row(p.pk)
        assert id_cipher.startswith("v1$") and phone_cipher.startswith("v1$"), p.name
        assert digest == crypto.blind_index(p.id_number), p.name
