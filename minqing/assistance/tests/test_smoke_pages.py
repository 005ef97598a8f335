"""Every assistance page answers for an office and for a helper (no 500 on a normal day)."""

import datetime as dt

from minqing.assistance import services
from minqing.assistance.models import HelperGroup

from .conftest import orphan, pair, programme


def test_every_page_renders_for_the_office_and_the_helper(
    client, office, cadre, cadre_helper, mother, household_a, household_b, grid_a_worker, tree
):
    p1 = pair(office, "cadre", [cadre_helper], household=household_a)
    group = HelperGroup.objects.create(
        programme=programme("group"), name="第一小组", node=tree["community"]
    )
    group.members.set([cadre_helper, mother])
    p2 = pair(office, "group", group=group, household=household_b)
    services.help_entry_add(
        acting_user=cadre,
        pairing=p1,
        data={
            "kind": "goods",
            "goods": "米面油",
            "goods_value": "200",
            "fund_source": "cadre",
            "occurred_on": dt.date(2026, 1, 10),
        },
    )
    unit = services.helper_create(
        acting_user=office, data={"kind": "unit", "name": "县民政局", "node": tree["county"]}
    )
    p3 = pair(office, "unit", [unit], node=tree["community"].pk)
    child = orphan(grid_a_worker, tree["grid_a"], "小红", 9, dt.date(2017, 6, 1))
    p4 = pair(office, "mother", [mother], person=child.pk)
    client.force_login(office)
    for p in (p3, p4):
        page = client.get(f"/assistance/pairings/{p.pk}/").content.decode()
        assert p.target_name in page
    for user in (office, cadre):
        client.force_login(user)
        for url in [
            "/assistance/",
            "/assistance/pairings/",
            f"/assistance/pairings/{p1.pk}/",
            f"/assistance/pairings/{p2.pk}/",
            "/assistance/due/",
            "/assistance/due/?within=30&mine=0",
            "/assistance/coverage/",
            "/assistance/coverage/?programme=mother",
            "/assistance/report/?month=2026-01",
            "/assistance/helpers/",
            f"/assistance/helpers/{cadre_helper.pk}/",
            f"/assistance/groups/{group.pk}/",
            "/assistance/strategies/?causes=skills&work_ability=able",
            "/",
        ]:
            r = client.get(url)
            assert r.status_code == 200, (user, url, r.status_code)
    client.force_login(office)
    assert client.get("/assistance/pairings/new/").status_code == 200
    assert client.get("/assistance/helpers/new/").status_code == 200
    assert client.get("/assistance/report/export.xlsx?month=2026-01").status_code == 200
