"""A household moved to another grid takes its members with it, in their histories too."""

from minqing.registry import services


def test_members_moved_with_their_household_each_have_the_move_in_their_history(
    community_worker, household_a, zhang_san, tree
):
    """QA: moving a household to another grid moved its members (and who may see them) with
    an entry on the household only; each person's history and the audit log said nothing."""
    from minqing.core.models import AuditEntry

    services.household_update(
        acting_user=community_worker, household=household_a, data={"grid": tree["grid_b"]}
    )
    zhang_san.refresh_from_db()
    assert zhang_san.grid == tree["grid_b"]
    entry = AuditEntry.objects.filter(model="registry.person", object_id=str(zhang_san.pk)).latest(
        "id"
    )
    assert entry.actor == community_worker and set(entry.changes) == {"grid"}
    old, new = entry.changes["grid"]
    assert old != new and "人民路1号1幢101室" in entry.reason


def test_a_members_grid_is_not_changed_alone_nor_silently_kept(
    client, community_worker, zhang_san, tree
):
    """QA: PATCH /api/people/{id} with another grid_code for a household member answered 200
    and kept the grid as it was."""
    client.force_login(community_worker)
    response = client.patch(
        f"/api/people/{zhang_san.pk}",
        {"grid_code": tree["grid_b"].code},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "家庭成员随家庭所在网格" in str(response.json())
    zhang_san.refresh_from_db()
    assert zhang_san.grid == tree["grid_a"]
    # The grid it is in, sent again with the rest of a form, is accepted.
    response = client.patch(
        f"/api/people/{zhang_san.pk}",
        {"grid_code": tree["grid_a"].code, "phone": "13800001111"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def test_a_person_deleted_is_one_transaction(monkeypatch, grid_a_worker, zhang_san):
    """Review: the refusal's helper took person_delete's @transaction.atomic; a failure after
    the audit entry left the person deleted and the household's counts stale."""
    import pytest

    from minqing.core.models import AuditEntry
    from minqing.registry.models import Person

    def broken(household):
        raise RuntimeError("household refresh failed")

    monkeypatch.setattr(services, "_household_refresh", broken)
    before, pk = AuditEntry.objects.count(), zhang_san.pk
    with pytest.raises(RuntimeError):
        services.person_delete(acting_user=grid_a_worker, person=zhang_san)
    assert Person.objects.filter(pk=pk).exists()
    assert AuditEntry.objects.count() == before
