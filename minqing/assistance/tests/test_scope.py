"""A helper sees only their own pairs (仅本人); a grid worker their grid's; leaders their subtree."""

import datetime as dt
import io

import openpyxl

from minqing.assistance import selectors, services
from minqing.assistance.models import HelpEntry

from .conftest import pair


def xlsx_text(response) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value)


def test_a_helper_cannot_see_other_helpers_pairs(
    client, office, cadre, cadre_helper, cadre2_helper, household_a, household_b
):
    mine = pair(office, "cadre", [cadre_helper], household=household_a)
    theirs = pair(office, "cadre", [cadre2_helper], household=household_b)
    services.help_entry_add(
        acting_user=office,
        pairing=theirs,
        data={"kind": "goods", "goods": "棉被", "helper": cadre2_helper},
    )
    client.force_login(cadre)

    # Pages: 404 for the other's pairing, and it is in no list.
    assert client.get(f"/assistance/pairings/{mine.pk}/").status_code == 200
    assert client.get(f"/assistance/pairings/{theirs.pk}/").status_code == 404
    response = client.post(
        f"/assistance/pairings/{theirs.pk}/help/", {"kind": "visit", "text": "x"}
    )
    assert response.status_code == 404
    assert HelpEntry.objects.filter(pairing=theirs).count() == 1
    assert client.post(f"/assistance/pairings/{theirs.pk}/end/", {"reason": "x"}).status_code == 404
    for url in ("/assistance/", "/assistance/pairings/?status=all", "/assistance/due/?within=30",
                "/assistance/report/?month=2026-01"):  # fmt: skip
        page = client.get(url).content.decode()
        assert f"/assistance/pairings/{mine.pk}/" in page, url
        assert f"/assistance/pairings/{theirs.pk}/" not in page, url
    assert client.get(f"/assistance/helpers/{cadre2_helper.pk}/").status_code == 404

    # API
    assert client.get(f"/api/assistance/pairings/{theirs.pk}").status_code == 404
    ids = [p["id"] for p in client.get("/api/assistance/pairings/?status=all").json()["items"]]
    assert ids == [mine.pk]
    due = client.get("/api/assistance/due/?within=60").json()["items"]
    assert {d["pairing_id"] for d in due} == {mine.pk}
    report = client.get("/api/assistance/report/?month=2026-01").json()
    assert [r["pairing_id"] for r in report["items"]] == [mine.pk]
    response = client.post(
        f"/api/assistance/pairings/{theirs.pk}/help",
        {"kind": "visit", "text": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404

    # Export
    text = xlsx_text(client.get("/assistance/report/export.xlsx?month=2026-01"))
    assert "干部cadre" in text and "干部cadre2" not in text


def test_a_grid_worker_sees_their_grids_targets_and_a_leader_the_subtree(
    client, office, cadre_helper, cadre2_helper, household_a, household_b, household_c,
    grid_a_worker, community_worker, street_officer,
):  # fmt: skip
    in_a = pair(office, "cadre", [cadre_helper], household=household_a)
    in_b = pair(office, "cadre", [cadre2_helper], household=household_b)
    in_c = pair(office, "cadre", [cadre_helper], household=household_c)

    assert set(selectors.pairings_for(grid_a_worker)) == {in_a}
    assert set(selectors.pairings_for(community_worker)) == {in_a, in_b}
    assert set(selectors.pairings_for(street_officer)) == {in_a, in_b, in_c}
    client.force_login(grid_a_worker)
    assert client.get(f"/assistance/pairings/{in_a.pk}/").status_code == 200
    assert client.get(f"/assistance/pairings/{in_b.pk}/").status_code == 404
    # The grid worker logs help on the helper's behalf in their grid, not elsewhere.
    response = client.post(
        f"/assistance/pairings/{in_a.pk}/help/",
        {"kind": "living", "text": "帮忙买药", "helper": cadre_helper.pk},
    )
    assert response.status_code == 302
    assert HelpEntry.objects.get(pairing=in_a).helper == cadre_helper
    assert (
        client.post(
            f"/assistance/pairings/{in_b.pk}/help/", {"kind": "living", "text": "x"}
        ).status_code
        == 404
    )
    # But may not create pairings (an office's job).
    assert client.get("/assistance/pairings/new/").status_code == 403


def test_linked_households_are_the_active_pairs_of_a_qualified_helper(
    office, cadre, cadre2, cadre_helper, cadre2_helper, household_a, household_b
):
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    pair(office, "cadre", [cadre2_helper], household=household_b)
    assert set(selectors.linked_household_ids(cadre).values_list("pk", flat=True)) == {
        household_a.pk
    }
    services.pairing_end(acting_user=office, pairing=p, reason="已脱困")
    assert not selectors.linked_household_ids(cadre).exists()
    services.helper_disqualify(acting_user=office, helper=cadre2_helper, reason="失职")
    assert not selectors.linked_household_ids(cadre2).exists()


def test_an_outsider_sees_nothing(client, office, outsider, cadre_helper, household_a):
    p = pair(office, "cadre", [cadre_helper], household=household_a)
    client.force_login(outsider)
    assert client.get(f"/assistance/pairings/{p.pk}/").status_code == 404
    assert client.get("/api/assistance/pairings/").json()["count"] == 0
    assert client.get("/api/assistance/coverage/").json()["items"][0]["total"] == 0
    assert "结对" not in client.get("/").content.decode().split("关爱对象")[0].split("案件")[-1]


def test_the_helper_sees_only_a_masked_summary_of_the_target(
    client, office, cadre, cadre_helper, zhang_san
):
    p = pair(
        office, "cadre", [cadre_helper], household=zhang_san.household, start=dt.date(2026, 1, 5)
    )
    client.force_login(cadre)
    page = client.get(f"/assistance/pairings/{p.pk}/").content.decode()
    assert "张三" in page and "138****5678" in page and "13812345678" not in page
    detail = client.get(f"/api/assistance/pairings/{p.pk}").json()
    assert "13812345678" not in str(detail) and detail["target"]["name"] == "张三户"


def test_an_office_lists_the_same_pairings_with_its_places_as_ids_or_a_subquery(
    monkeypatch, office, cadre_helper, cadre2_helper, household_a, household_b, household_c,
    grid_a_worker, community_worker, street_officer, county_officer,
):  # fmt: skip
    from minqing.accounts import access

    in_a = pair(office, "cadre", [cadre_helper], household=household_a)
    in_b = pair(office, "cadre", [cadre2_helper], household=household_b)
    in_c = pair(office, "cadre", [cadre_helper], household=household_c)
    users = (grid_a_worker, community_worker, street_officer, county_officer)

    def seen():
        return [set(selectors.office_pairings(u)) for u in users]

    as_ids = seen()
    monkeypatch.setattr(access, "LITERAL_SCOPE_NODES", 0)  # every scope through its subquery
    assert as_ids == seen()
    assert as_ids[:3] == [{in_a}, {in_a, in_b}, {in_a, in_b, in_c}]
