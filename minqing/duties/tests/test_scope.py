"""Holders see their own duties; offices see the holders whose node is in their subtree.
Anything else answers 404 and is absent from the report, the API and the export."""

import io

import openpyxl

from minqing.accounts.models import DataScope, Role
from minqing.duties.selectors import compliance

from .conftest import cadre, holder, last_month


def _names_in_xlsx(response) -> set[str]:
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    ws = wb.worksheets[0]
    return {ws.cell(r, 2).value for r in range(2, ws.max_row + 1)}


def test_a_holder_cannot_see_another_holders_duties(client, zhao, qian, zhao_duty, tree):
    other = holder(qian, "cadre", tree["county"])
    start, _ = last_month()
    month = f"{start:%Y-%m}"
    client.force_login(qian)

    assert client.get(f"/duties/holders/{zhao_duty.pk}/").status_code == 404
    assert client.get(f"/duties/holders/{other.pk}/").status_code == 200
    page = client.get(f"/duties/report/?month={month}").content.decode()
    assert "qian" in page and "zhao" not in page
    api = client.get(f"/api/duties/report?month={month}").json()
    assert [i["holder_id"] for i in api["items"]] == [other.pk]
    assert client.get(f"/api/duties/holders/{zhao_duty.pk}").status_code == 404
    names = _names_in_xlsx(client.get(f"/duties/report.xlsx?month={month}"))
    assert "qian" in names and "zhao" not in names


def test_an_office_sees_the_holders_in_its_subtree_only(client, street_officer, zhao, qian, tree):
    start, _ = last_month()
    at_street = holder(zhao, "cadre", tree["street"], unit="城关街道办")
    at_county = holder(qian, "cadre", tree["county"], unit="县民政局")
    secretary = cadre(
        "sec",
        tree["other_community"],
        role=Role.COMMUNITY_SECRETARY,
        scope=DataScope.NODE_AND_BELOW,
    )
    in_community = holder(secretary, "secretary", tree["other_community"], unit="南苑社区居委会")

    seen = {ln.holder for ln in compliance(street_officer, start.year, start.month).lines}
    assert seen == {at_street, in_community}
    assert {ln.holder for ln in compliance(secretary, start.year, start.month).lines} == {
        in_community
    }

    client.force_login(street_officer)
    assert client.get(f"/duties/holders/{at_street.pk}/").status_code == 200
    assert client.get(f"/duties/holders/{at_county.pk}/").status_code == 404
    # narrowing to a community in scope, and refusing one outside it
    narrowed = client.get(
        f"/duties/report/?month={start:%Y-%m}&node={tree['other_community'].code}"
    )
    assert narrowed.status_code == 200 and "南苑社区居委会" in narrowed.content.decode()
    assert "城关街道办" not in narrowed.content.decode()
    client.force_login(secretary)
    assert client.get(f"/duties/report/?node={tree['street'].code}").status_code == 404
    assert client.get(f"/api/duties/report?node={tree['street'].code}").status_code == 404


def test_an_outsider_sees_no_holder(client, outsider, zhao_duty):
    client.force_login(outsider)
    start, _ = last_month()
    assert compliance(outsider, start.year, start.month).lines == []
    assert client.get(f"/duties/holders/{zhao_duty.pk}/").status_code == 404
    assert client.get("/api/duties/report").json()["count"] == 0
    page = client.get("/duties/").content.decode()
    assert "您没有联系群众任务" in page


def test_pages_need_a_login(client, zhao_duty):
    assert client.get("/duties/").status_code == 302
    assert client.get("/duties/report.xlsx").status_code == 302
    assert client.get("/api/duties/me").status_code == 401
