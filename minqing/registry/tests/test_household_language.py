"""A household reads in the reader's language ("Household of 张三 · …" in English), while what
the audit log stores about it stays Chinese whatever language the editor uses."""

from django.utils import translation

from conftest import login
from minqing.core.models import AuditEntry
from minqing.registry import services
from minqing.registry.models import Household


def test_a_household_reads_in_the_readers_language(zhang_san, household_a):
    household = Household.objects.get(pk=household_a.pk)
    assert str(household) == "张三户 · 人民路1号1幢101室"
    with translation.override("en"):
        assert str(household) == "Household of 张三 · 人民路1号1幢101室"
    household.head_name = ""
    assert str(household) == "（无户主）户 · 人民路1号1幢101室"
    with translation.override("en"):
        assert str(household) == "Household without a head · 人民路1号1幢101室"


def test_the_english_pages_name_the_household_in_english(client, grid_a_worker, zhang_san):
    login(client, grid_a_worker)
    html = client.get(f"/people/{zhang_san.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Household of 张三 · 人民路1号1幢101室" in html
    # Only the change history, which shows what was stored, keeps the Chinese.
    assert html.count("张三户") == html.count("<ins>张三户")


def test_an_edit_made_in_english_is_audited_in_chinese(grid_a_worker, zhang_san, tree):
    second = services.household_create(
        acting_user=grid_a_worker, data={"address": "人民路2号", "grid": tree["grid_a"]}
    )
    with translation.override("en"):
        services.person_update(
            acting_user=grid_a_worker, person=zhang_san, data={"household": second}
        )
    entry = AuditEntry.objects.filter(model="registry.person", object_id=str(zhang_san.pk))
    changes = entry.latest("at").changes
    assert changes["household"] == ["张三户 · 人民路1号1幢101室", "（无户主）户 · 人民路2号"]
    assert AuditEntry.objects.filter(object_repr__startswith="Household of").count() == 0
