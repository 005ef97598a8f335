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
