"""ID numbers, phones and health notes are ciphertext in the database; lookups still work."""

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection

from conftest import valid_id
from minqing.core import crypto
from minqing.registry.identity import id_number_q
from minqing.registry.models import Person


def raw_row(person_id: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone, id_number_hash FROM registry_person WHERE id = %s",
            [person_id],
        )
        return cursor.fetchone()


def test_the_raw_column_does_not_contain_the_number(zhang_san):
    id_cipher, phone_cipher, digest = raw_row(zhang_san.pk)
    assert zhang_san.id_number not in id_cipher and id_cipher.startswith("v1$")
    assert "13812345678" not in phone_cipher and phone_cipher.startswith("v1$")
    assert zhang_san.id_number not in digest and len(digest) == 64


def test_a_dump_of_the_whole_database_reveals_no_id_number(zhang_san):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_person")
        dump = repr(cursor.fetchall())
        cursor.execute("SELECT changes FROM core_auditentry")
        dump += repr(cursor.fetchall())
    assert zhang_san.id_number not in dump and "13812345678" not in dump


def test_lookup_by_id_number_still_works(zhang_san):
    assert Person.objects.get(id_number_q(zhang_san.id_number)) == zhang_san
    assert Person.objects.get(pk=zhang_san.pk).id_number == zhang_san.id_number


def test_a_plain_equality_lookup_is_refused_rather_than_silently_empty(zhang_san):
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number=zhang_san.id_number))


def test_the_same_number_encrypts_differently_each_time():
    assert crypto.encrypt("13812345678") != crypto.encrypt("13812345678")
    assert crypto.decrypt(crypto.encrypt("13812345678")) == "13812345678"


def test_a_tampered_value_fails_authentication():
    token = crypto.encrypt(valid_id(2))
    i = len(token) - 20  # inside the ciphertext, away from base64 padding bits
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered)


def test_rotation_reads_old_keys_and_writes_with_the_new_one(monkeypatch, zhang_san):
    import base64
    import os

    from django.core.management import call_command

    old_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    new_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("MINQING_DATA_KEYS", f"old:{old_key}")
    crypto.data_keys.cache_clear()
    try:
        # update() encrypts with the key in force: now "old"
        Person.objects.filter(pk=zhang_san.pk).update(
            phone="13812345678", id_number=zhang_san.id_number
        )
        monkeypatch.setenv("MINQING_DATA_KEYS", f"new:{new_key},old:{old_key}")
        crypto.data_keys.cache_clear()
        assert crypto.key_id_of(raw_row(zhang_san.pk)[1]) == "old"
        call_command("rotate_data_key")
        assert crypto.key_id_of(raw_row(zhang_san.pk)[1]) == "new"
        assert crypto.key_id_of(raw_row(zhang_san.pk)[0]) == "new"
        monkeypatch.setenv("MINQING_DATA_KEYS", f"new:{new_key}")
        crypto.data_keys.cache_clear()
        person = Person.objects.get(pk=zhang_san.pk)
        assert (person.phone, person.id_number) == ("13812345678", zhang_san.id_number)
    finally:
        crypto.data_keys.cache_clear()


def test_bad_keys_fail_loudly(monkeypatch):
    monkeypatch.setenv("MINQING_DATA_KEYS", "k1:short")
    crypto.data_keys.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured):
            crypto.data_keys()
    finally:
        monkeypatch.delenv("MINQING_DATA_KEYS")
        crypto.data_keys.cache_clear()


def test_check_database_says_when_the_keys_cannot_read_what_is_stored(monkeypatch, zhang_san):
    """QA (ops): a dump restored under other keys started and answered /healthz, then 500 on
    the people pages (another data key) or found nobody by ID number (another index key).
    `django-admin check --database default` says which, and passes with the right keys."""
    import base64
    import os

    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    call_command("check", databases=["default"])  # the keys in force read it
    other = base64.urlsafe_b64encode(os.urandom(32)).decode()
    try:
        monkeypatch.setenv("MINQING_INDEX_KEY", other)
        crypto.index_key.cache_clear()
        with pytest.raises(SystemCheckError, match="minqing.E002"):
            call_command("check", databases=["default"])
        monkeypatch.delenv("MINQING_INDEX_KEY")
        crypto.index_key.cache_clear()
        monkeypatch.setenv("MINQING_DATA_KEYS", f"k9:{other}")
        crypto.data_keys.cache_clear()
        with pytest.raises(SystemCheckError, match="minqing.E001"):
            call_command("check", databases=["default"])
    finally:
        crypto.data_keys.cache_clear()
        crypto.index_key.cache_clear()


def test_rotation_names_the_row_sealed_under_a_key_no_longer_configured(zhang_san):
    """QA (ops): a value under a dropped key stopped rotate_data_key with a bare
    DecryptionError; it now names the table, the row, the column and the key."""
    from django.core.management import CommandError, call_command

    sealed = "v1$k0$" + crypto.encrypt("13812345678").split("$", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_person SET phone = %s WHERE id = %s", [sealed, zhang_san.pk]
        )
    with pytest.raises(CommandError, match=rf"registry.Person id={zhang_san.pk} phone: .*'k0'"):
        call_command("rotate_data_key")
