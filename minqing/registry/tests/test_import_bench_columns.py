"""bench/import_bench.py writes rows straight into registry_person (its raw-table phase) with a
hand-written column list: a NOT NULL column a migration adds without a database default must be
written there too, or that phase of the benchmark stops.
"""

import importlib.util
from pathlib import Path

import pytest
from django.db import connection

from minqing.registry.models import Person

BENCH = Path(__file__).resolve().parents[3] / "bench" / "import_bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("import_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_the_import_benchmark_writes_or_knowingly_leaves_out_every_column_of_a_person():
    bench = load_bench()
    written = set(bench.RAW_PERSON_COLUMNS) | set(bench.RAW_PERSON_CONSTANTS)
    columns = {f.column for f in Person._meta.concrete_fields}
    assert columns - written - bench.RAW_PERSON_LEFT_OUT == set()
    assert (written | bench.RAW_PERSON_LEFT_OUT) - columns == set()  # no column that is gone
    assert written & bench.RAW_PERSON_LEFT_OUT == set()


@pytest.mark.django_db
def test_the_columns_it_leaves_out_are_filled_by_the_database():
    bench = load_bench()
    with connection.cursor() as cursor:
        table = connection.introspection.get_table_description(cursor, Person._meta.db_table)
    described = {c.name: c for c in table}
    for column in bench.RAW_PERSON_LEFT_OUT:
        info = described[column]
        assert column == Person._meta.pk.column or info.null_ok or info.default is not None, (
            f"registry_person.{column} is NOT NULL without a default: the bench must write it"
        )
