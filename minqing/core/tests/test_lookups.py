"""`any_of`: ids in hand as one parameter, on a primary key and on a foreign key."""

from django.db import connection

from minqing.registry.models import Person


def test_a_foreign_key_takes_ids_as_one_parameter(zhang_san):
    household = zhang_san.household
    assert list(Person.objects.filter(household__any_of=[household.pk])) == [zhang_san]
    assert list(Person.objects.filter(household__any_of=[household.pk + 1000])) == []
    assert list(Person.objects.filter(household__any_of=[])) == []
    ids = [household.pk, household.pk + 1, household.pk + 2]
    sql, params = Person.objects.filter(household__any_of=ids).query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(%s)" in sql and ids in [p for p in params if isinstance(p, list)]
    else:
        assert sql.count("%s") >= 3


def test_a_text_column_takes_values_as_one_parameter(zhang_san):
    from minqing.registry.identity import id_numbers_q
    from minqing.registry.models import Household

    household = zhang_san.household
    found = Household.objects.filter(number__any_of=[household.number, "no-such-number"])
    assert list(found) == [household]
    assert list(Household.objects.filter(number__any_of=["1", 2])) == []  # str(2): no error
    assert list(Person.objects.filter(id_numbers_q([zhang_san.id_number]))) == [zhang_san]
    sql, params = found.query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(%s)" in sql and [household.number, "no-such-number"] in params
