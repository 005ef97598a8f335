"""A place's or an organisation's contact phone is mostly the contact's own mobile: masked on
its page, in its form, in exports and in the API, revealed only with a reason, audited."""

import io

import openpyxl
import pytest

from minqing.core.models import AuditEntry
from minqing.registry import services
from minqing.registry.models import Organisation, Place

FULL = "13987654321"
MASKED = "139****4321"


@pytest.fixture
def market(grid_a_worker, tree):
    return services.simple_record_save(
        acting_user=grid_a_worker,
        model=Place,
        data={"kind": "market", "name": "东门菜市场", "address": "人民路5号",
              "grid": tree["grid_a"], "contact": "赵六", "phone": FULL},
    )  # fmt: skip


@pytest.fixture
def club(grid_a_worker, tree):
    return services.simple_record_save(
        acting_user=grid_a_worker,
        model=Organisation,
        data={"kind": "social", "name": "夕阳红合唱团", "grid": tree["grid_a"],
              "contact": "钱七", "phone": FULL},
    )  # fmt: skip


def test_the_page_form_export_and_api_show_the_phone_masked(client, grid_a_worker, market, club):
    client.force_login(grid_a_worker)
    for base, obj, api in (("places", market, "places"), ("orgs", club, "organisations")):
        for url in (f"/{base}/{obj.pk}/", f"/{base}/{obj.pk}/edit/", f"/{base}/"):
            html = client.get(url).content.decode()
            assert FULL not in html, url
        assert MASKED in client.get(f"/{base}/{obj.pk}/").content.decode()
        data = client.get(f"/{base}/export.xlsx").getvalue()
        cells = [c for row in openpyxl.load_workbook(io.BytesIO(data)).active.values for c in row]
        assert MASKED in cells and FULL not in cells
        assert client.get(f"/api/{api}/{obj.pk}").json()["phone_masked"] == MASKED
    assert FULL not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_the_phone_is_revealed_with_a_reason_and_an_audit_entry(
    client, grid_a_worker, grid_b_worker, market, club
):
    client.force_login(grid_a_worker)
    url = f"/places/{market.pk}/reveal/"
    refused = client.post(url, {"field": "phone", "reason": ""})
    assert refused.status_code == 400 and "请填写查看事由" in refused.content.decode()
    assert client.post(url, {"field": "name", "reason": "核对"}).status_code == 400
    shown = client.post(url, {"field": "phone", "reason": "联系市场负责人"})
    assert shown.status_code == 200 and FULL in shown.content.decode()
    entry = AuditEntry.objects.get(action="reveal")
    assert (entry.model, entry.object_id, entry.reason) == (
        "registry.place",
        str(market.pk),
        "联系市场负责人",
    )
    page = client.get(f"/places/{market.pk}/").content.decode()
    assert f'hx-post="/places/{market.pk}/reveal/"' in page

    api = client.post(
        f"/api/organisations/{club.pk}/reveal",
        {"field": "phone", "reason": "通知活动"},
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json() == {"field": "phone", "value": FULL}
    assert AuditEntry.objects.filter(action="reveal").count() == 2

    client.force_login(grid_b_worker)  # another grid: as if it did not exist
    assert client.post(url, {"field": "phone", "reason": "想看"}).status_code == 404
    missing = client.post(
        f"/api/places/{market.pk}/reveal",
        {"field": "phone", "reason": "想看"},
        content_type="application/json",
    )
    assert missing.status_code == 404
    assert AuditEntry.objects.filter(action="reveal").count() == 2


def test_an_edit_that_leaves_the_phone_empty_keeps_it(client, grid_a_worker, market, tree):
    client.force_login(grid_a_worker)
    form = client.get(f"/places/{market.pk}/edit/").content.decode()
    assert MASKED + "（不修改请留空）" in form
    response = client.post(
        f"/places/{market.pk}/edit/",
        {"kind": "market", "name": "东门农贸市场", "address": "人民路5号",
         "grid": tree["grid_a"].pk, "contact": "赵六", "phone": "", "note": ""},
    )  # fmt: skip
    assert response.status_code == 302
    market.refresh_from_db()
    assert (market.name, market.phone) == ("东门农贸市场", FULL)

    # The API's PATCH too: a field left out keeps its value.
    patched = client.patch(
        f"/api/places/{market.pk}",
        {"kind": "market", "name": "东门市场", "grid_code": tree["grid_a"].code},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    market.refresh_from_db()
    assert (market.name, market.phone, market.contact) == ("东门市场", FULL, "赵六")
