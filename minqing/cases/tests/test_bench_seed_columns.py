"""bench/cases_bench.py seeds cases_case column by column (COPY): a column a migration adds
must be seeded there too, or a fresh benchmark seed stops (it did, unnoticed, after cases 0008).
"""

import importlib.util
from pathlib import Path

from minqing.cases.models import Case

BENCH = Path(__file__).resolve().parents[3] / "bench" / "cases_bench.py"


def test_the_cases_benchmark_seeds_every_column_of_a_case():
    spec = importlib.util.spec_from_file_location("cases_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    columns = {f.column for f in Case._meta.concrete_fields}
    assert columns - bench.SEEDED_CASE_COLUMNS == set()
