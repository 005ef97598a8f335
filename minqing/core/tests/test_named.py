"""Names with a detail in brackets, and a household's short name, punctuated for the reader."""

from django.utils import translation

from conftest import login
from minqing.core.i18n import named
from minqing.registry.models import household_short_name


def test_a_name_with_its_detail_in_the_readers_brackets():
    assert named("东门社区", "330188001001") == "东门社区（330188001001）"
    with translation.override("en"):
        assert named("东门社区", "330188001001") == "东门社区 (330188001001)"
    assert named("东门社区", "") == "东门社区"


def test_a_households_short_name_in_the_readers_language():
    assert household_short_name("张三") == "张三户"
    assert household_short_name("") == "（无户主）户"
    with translation.override("en"):
        assert household_short_name("张三") == "Household of 张三"


def test_the_forms_name_grids_with_their_code_in_the_readers_brackets(client, grid_a_worker, tree):
    login(client, grid_a_worker)
    grid = tree["grid_a"]
    html = client.get("/cases/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{grid.name} ({grid.code})" in html and f"{grid.name}（{grid.code}）" not in html
    html = client.get("/cases/new/").content.decode()
    assert f"{grid.name}（{grid.code}）" in html
