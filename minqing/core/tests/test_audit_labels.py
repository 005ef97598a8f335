"""Audit entries store codes (a choice's value); pages show what people read."""


def test_audit_pages_show_choice_labels_not_stored_codes(client, county_officer, grid_a_worker):
    """opinion: solved reads 当场解决; a household relation head reads 户主."""
    from conftest import valid_id
    from minqing.core.models import AuditEntry
    from minqing.registry import services

    person = services.person_create(
        acting_user=grid_a_worker,
        data={
            "name": "钱七",
            "id_number": valid_id(7),
            "relation": "",
            "grid": grid_a_worker.assignments.get().node,
        },
    )
    AuditEntry.objects.create(
        action="create", model="cases.receptionmatter", object_id="1",
        changes={"opinion": [None, "solved"]},
    )  # fmt: skip
    services.person_update(acting_user=grid_a_worker, person=person, data={"employment": "retired"})
    client.force_login(county_officer)
    page = client.get("/audit/").content.decode()
    assert "当场解决" in page and "→ solved" not in page
    assert "离退休" in page and "→ retired" not in page
    client.force_login(grid_a_worker)
    history = client.get(f"/people/{person.pk}/").content.decode()
    assert "<ins>离退休</ins>" in history
