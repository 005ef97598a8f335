"""Coverage of a target group, and a disqualified helper's targets listed as unpaired."""

import datetime as dt

from minqing.assistance import selectors, services
from minqing.assistance.models import Pairing
from minqing.core.models import AuditEntry

from .conftest import orphan, pair, programme


def orphans(grid_a_worker, grid_b_worker, grid_c_worker, tree):
    return [
        orphan(grid_a_worker, tree["grid_a"], "孤儿甲", 11, dt.date(2014, 4, 1)),
        orphan(grid_a_worker, tree["grid_a"], "孤儿乙", 12, dt.date(2015, 6, 1)),
        orphan(grid_b_worker, tree["grid_b"], "孤儿丙", 13, dt.date(2016, 7, 1)),
        orphan(grid_c_worker, tree["grid_c"], "孤儿丁", 14, dt.date(2017, 8, 1)),
    ]


def test_coverage_counts_the_tag_in_scope_and_lists_the_unpaired(
    client,
    office,
    mother,
    mother2,
    grid_a_worker,
    grid_b_worker,
    grid_c_worker,
    community_worker,
    tree,
):
    o1, o2, o3, o4 = orphans(grid_a_worker, grid_b_worker, grid_c_worker, tree)
    pair(office, "mother", [mother], person=o1.pk)
    pair(office, "mother", [mother2], person=o3.pk)
    pair(office, "mother", [mother], person=o4.pk)

    c = selectors.coverage(community_worker, programme("mother"))
    assert (c.total, c.paired, c.rate, c.goal, c.below_goal) == (3, 2, 66.7, 100, True)
    assert list(c.unpaired) == [o2]
    county = selectors.coverage(office, programme("mother"))
    assert (county.total, county.paired) == (4, 3)
    grid_b = selectors.coverage(grid_b_worker, programme("mother"))
    assert (grid_b.total, grid_b.paired, grid_b.below_goal) == (1, 1, False)

    client.force_login(community_worker)
    page = client.get("/assistance/coverage/?programme=mother").content.decode()
    assert "孤儿乙" in page and "孤儿甲" not in page and "孤儿丁" not in page
    assert "66.7%" in page


def test_a_disqualified_helpers_targets_are_listed_as_unpaired(
    client,
    office,
    mother,
    mother2,
    grid_a_worker,
    grid_b_worker,
    grid_c_worker,
    community_worker,
    tree,
):
    o1, o2, o3, o4 = orphans(grid_a_worker, grid_b_worker, grid_c_worker, tree)
    p1 = pair(office, "mother", [mother], person=o1.pk)
    pair(office, "mother", [mother2], person=o3.pk)
    p4 = pair(office, "mother", [mother], person=o4.pk)

    client.force_login(office)
    response = client.post(
        f"/assistance/helpers/{mother.pk}/disqualify/", {"reason": "连续半年未看望孩子"}
    )
    assert response.status_code == 302

    mother.refresh_from_db()
    assert mother.disqualified_on == dt.date.today() or mother.disqualified_on is not None
    for p in (p1, p4):
        p.refresh_from_db()
        assert p.end is not None and "连续半年未看望孩子" in p.end_reason
    c = selectors.coverage(office, programme("mother"))
    assert (c.total, c.paired) == (4, 1)
    assert set(c.unpaired) == {o1, o2, o4}
    page = client.get("/assistance/coverage/?programme=mother").content.decode()
    assert "孤儿甲" in page and "孤儿丁" in page and "孤儿丙" not in page
    assert AuditEntry.objects.filter(
        model="assistance.helper", object_id=str(mother.pk), reason="连续半年未看望孩子"
    ).exists()
    # A disqualified helper can no longer be paired.
    response = client.post(
        "/assistance/pairings/new/",
        {"programme": programme("mother").pk, "person": f"#{o1.pk}", "helpers": [mother.pk]},
    )
    assert response.status_code == 400
    assert not Pairing.objects.filter(person=o1, end__isnull=True).exists()


def test_a_many_to_one_pairing_goes_on_with_the_helpers_left(
    office, cadre_helper, cadre2_helper, household_a
):
    p = pair(office, "many", [cadre_helper, cadre2_helper], household=household_a)
    ended = services.helper_disqualify(acting_user=office, helper=cadre_helper, reason="调离")
    assert ended == []
    p.refresh_from_db()
    assert p.end is None
    assert household_a.pk in set(
        selectors.paired_target_ids(programme("many")).values_list("household_id", flat=True)
    )
    # The last qualified helper goes too: now it ends.
    ended = services.helper_disqualify(acting_user=office, helper=cadre2_helper, reason="调离")
    assert [e.pk for e in ended] == [p.pk]
    assert household_a.pk not in set(
        selectors.paired_target_ids(programme("many")).values_list("household_id", flat=True)
    )


def test_a_target_already_paired_in_the_programme_cannot_be_paired_twice(
    office, mother, mother2, grid_a_worker, tree
):
    import pytest
    from django.core.exceptions import ValidationError

    o = orphan(grid_a_worker, tree["grid_a"], "孤儿戊", 15, dt.date(2018, 1, 1))
    pair(office, "mother", [mother], person=o.pk)
    with pytest.raises(ValidationError) as exc:
        pair(office, "mother", [mother2], person=o.pk)
    assert "已有结对" in exc.value.message_dict["person"][0]
