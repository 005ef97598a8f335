"""An old 15-digit ID number and the 18-digit one that replaced it are one person: in the
person form, in an import (either way round), in the search, and after migration 0011 on a
database that filed people under the 15 digits."""

import importlib
import io
import types

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection

from conftest import valid_id
from minqing.core.crypto import blind_index
from minqing.core.idnumber import check_character, other_form, upgraded
from minqing.core.models import AuditAction, AuditEntry
from minqing.registry import services
from minqing.registry.identity import id_number_q
from minqing.registry.imports.validate import ERR_DUP_IN_FILE
from minqing.registry.models import Person
from minqing.registry.tests.test_import_support import HEADERS, person_row, reasons, run, xlsx

NEW = valid_id(1)  # 330188 19600504 003 + check: issued to someone born in 1960
OLD = NEW[:6] + NEW[8:17]  # the 15-digit card the same person held before


def test_a_15_digit_number_has_one_18_digit_form_and_back():
    assert len(OLD) == 15 and upgraded(OLD) == NEW and other_form(NEW) == OLD
    assert other_form(OLD) == NEW and upgraded(NEW) == NEW
    # A number of the 2000s never had a 15-digit card; nor does a foreigner's card.
    born_2001 = "3301882001010100" + "1"
    born_2001 += check_character(born_2001)
    assert other_form(born_2001) is None
    assert other_form("9" + NEW[1:17] + check_character("9" + NEW[1:17])) is None


def legacy_person(user, tree, name="王建国"):
    return services.person_create(
        acting_user=user, data={"name": name, "grid": tree["grid_a"], "id_number": OLD}
    )


def test_the_form_refuses_the_18_digits_of_a_person_filed_under_15(grid_a_worker, tree):
    old = legacy_person(grid_a_worker, tree)
    with pytest.raises(ValidationError) as refused:
        services.person_create(
            acting_user=grid_a_worker,
            data={"name": "王建国", "grid": tree["grid_a"], "id_number": NEW},
        )
    assert "王建国" in refused.value.message_dict["id_number"][0]
    # And the other way round; either number finds the one person.
    Person.objects.all().delete()
    services.person_create(
        acting_user=grid_a_worker, data={"name": "王建国", "grid": tree["grid_a"], "id_number": NEW}
    )
    with pytest.raises(ValidationError):
        legacy_person(grid_a_worker, tree)
    assert Person.objects.filter(id_number_q(OLD)).count() == 1
    assert Person.objects.filter(id_number_q(NEW)).count() == 1
    assert old.pk is not None


def test_an_import_with_the_18_digits_updates_the_person_filed_under_15(
    client, grid_a_worker, tree
):
    person = legacy_person(grid_a_worker, tree)
    row = person_row(1, "王建国")
    assert row[5] == NEW
    plan = run(grid_a_worker, xlsx(HEADERS, [row]))
    assert plan.ok, reasons(plan)
    assert plan.counts["new_people"] == 0 and plan.counts["updated_people"] == 1
    person.refresh_from_db()
    assert (person.id_number, person.id_legacy, Person.objects.count()) == (NEW, False, 1)
    entry = AuditEntry.objects.get(
        model="registry.person", object_id=str(person.pk), action=AuditAction.IMPORT
    )
    assert entry.changes["id_number"][1].endswith(NEW[-4:]) and NEW not in str(entry.changes)
    # Found by the new last four in the search.
    client.force_login(grid_a_worker)
    page = client.get("/people/", {"q": NEW[-4:]}).content.decode()
    assert f"/people/{person.pk}/" in page


def test_an_import_with_the_15_digits_finds_the_person_filed_under_18(grid_a_worker, tree):
    row = person_row(1, "王建国")
    assert run(grid_a_worker, xlsx(HEADERS, [row])).ok
    row[5] = OLD
    plan = run(grid_a_worker, xlsx(HEADERS, [row]))
    assert plan.ok, reasons(plan)
    assert plan.counts["new_people"] == 0 and Person.objects.count() == 1
    person = Person.objects.get()
    assert (person.id_number, person.id_legacy) == (NEW, False)  # the 18 digits stay


def test_both_numbers_of_one_person_in_one_file_are_a_duplicate(grid_a_worker, tree):
    first = person_row(1, "王建国")
    second = person_row(2, "王建国", address="人民路10号")
    second[5] = OLD
    plan = run(grid_a_worker, xlsx(HEADERS, [first, second]))
    assert not plan.ok
    assert {(r, c) for r, c, reason in reasons(plan) if ERR_DUP_IN_FILE.split("{")[0] in reason}
    assert not Person.objects.exists()


migration = importlib.import_module("minqing.registry.migrations.0011_legacy_id_filed_as_18")


def filed_under(person_id: int, key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_person SET id_number_hash = %s WHERE id = %s", [key, person_id]
        )


def test_migration_0011_refiles_old_numbers_and_leaves_a_twin_alone(grid_a_worker, tree):
    """Before 0011 a 15-digit number was filed under its own key, and the same person could
    be filed again under the 18 digits: the lone one moves to the 18-digit key; the twin keeps
    its key (two records, an office's to merge), and both are still found."""
    lone = legacy_person(grid_a_worker, tree, "王建国")
    filed_under(lone.pk, blind_index(OLD))
    twin_new = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "李秀英", "grid": tree["grid_a"], "id_number": valid_id(2, male=False)},
    )
    twin_old_15 = twin_new.id_number[:6] + twin_new.id_number[8:17]
    twin_old = services.person_create(  # then made the old card's record, as before 0011
        acting_user=grid_a_worker,
        data={"name": "李秀英", "grid": tree["grid_a"], "id_number": valid_id(3, male=False)},
    )
    Person.objects.filter(pk=twin_old.pk).update(id_number=twin_old_15, id_legacy=True)
    filed_under(twin_old.pk, blind_index(twin_old_15))

    migration.file_under_18(apps, types.SimpleNamespace(connection=connection))

    assert Person.objects.get(pk=lone.pk).id_number_hash == blind_index(NEW)
    assert Person.objects.get(pk=twin_old.pk).id_number_hash == blind_index(twin_old_15)
    assert list(Person.objects.filter(id_number_q(OLD))) == [lone]
    assert set(Person.objects.filter(id_number_q(twin_new.id_number))) == {twin_old, twin_new}
    # Undone, the lone one is filed under its 15 digits again.
    migration.file_under_15(apps, types.SimpleNamespace(connection=connection))
    assert Person.objects.get(pk=lone.pk).id_number_hash == blind_index(OLD)


def test_a_pair_left_by_0011_stays_editable_importable_and_reindexable(grid_a_worker, tree):
    """Review: the old-number record of a pair could not be saved (its key is its twin's),
    neither record could be edited (each was the other's duplicate), an import with the 18
    digits could upgrade the old one into its twin's key (a 500), and --reindex stopped."""
    from django.core.management import call_command

    from minqing.registry.identity import filing_key

    new = services.person_create(
        acting_user=grid_a_worker, data={"name": "王建国", "grid": tree["grid_a"], "id_number": NEW}
    )
    old = services.person_create(
        acting_user=grid_a_worker,
        data={"name": "王建国", "grid": tree["grid_a"], "id_number": valid_id(3)},
    )
    Person.objects.filter(pk=old.pk).update(id_number=OLD, id_legacy=True)
    filed_under(old.pk, blind_index(OLD))
    old = Person.objects.get(pk=old.pk)
    assert filing_key(OLD, old.pk) == blind_index(OLD)  # its twin has the 18-digit key

    for person in (old, new):
        services.person_update(acting_user=grid_a_worker, person=person, data={"note": "QA"})
    assert Person.objects.get(pk=old.pk).id_number_hash == blind_index(OLD)

    row = person_row(1, "王建国")
    plan = run(grid_a_worker, xlsx(HEADERS, [row]))
    assert plan.ok, reasons(plan)
    assert Person.objects.get(pk=old.pk).id_number == OLD  # the 18-digit record was matched

    call_command("rotate_data_key", reindex=True, stdout=io.StringIO())
    assert Person.objects.get(pk=new.pk).id_number_hash == blind_index(NEW)
    assert Person.objects.get(pk=old.pk).id_number_hash == blind_index(OLD)
