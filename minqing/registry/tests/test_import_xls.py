"""An Excel 97-2003 (.xls) ledger, as many offices still save them: read through calamine like an
.xlsx. The file (tests/data/ledger.xls, 6 KB, made once with xlwt) has a merged title row,
户号 and phone numbers typed as numbers (stored as floats) and real date cells."""

import datetime
import pathlib

from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import login
from minqing.core.models import ImportBatch
from minqing.registry.identity import id_number_q
from minqing.registry.models import Household, Person
from minqing.registry.tests.test_import_support import reasons, run

LEDGER = pathlib.Path(__file__).parent / "data" / "ledger.xls"


def test_an_xls_ledger_imports_like_an_xlsx(grid_a_worker, tree):
    plan = run(grid_a_worker, LEDGER.read_bytes(), name="家庭台账.xls")
    assert plan.ok, reasons(plan)
    assert plan.counts["new_people"] == 3 and plan.counts["new_households"] == 2
    wang = Person.objects.get(id_number_q("330188196005040039"))
    assert (wang.name, wang.phone, wang.birth_date) == (
        "王建国",
        "13812345678",
        datetime.date(1960, 5, 4),
    )
    li = Person.objects.get(name="李秀英")
    assert li.household == wang.household and li.relation == "spouse"
    assert wang.household.number == "330188001001-001"  # 户号 1, typed as a number: 3 digits
    assert Household.objects.get(number="330188001001-002").head_name == "赵大"
    # The same file again changes nothing.
    again = run(grid_a_worker, LEDGER.read_bytes(), name="家庭台账.xls")
    assert again.ok and again.counts["unchanged_people"] == 3


def test_an_xls_ledger_through_the_upload_page(client, grid_a_worker, tree):
    """Upload, preview (nothing written), confirm: as an .xlsx goes."""
    login(client, grid_a_worker)
    upload = SimpleUploadedFile(
        "家庭台账.xls", LEDGER.read_bytes(), content_type="application/vnd.ms-excel"
    )
    response = client.post("/imports/", {"file": upload})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"
    preview = client.get(f"/imports/{batch.pk}/")
    assert preview.context["counts"]["new_people"] == 3 and not Person.objects.exists()
    assert client.post(f"/imports/{batch.pk}/confirm/").status_code == 302
    assert Person.objects.count() == 3 and Household.objects.count() == 2
