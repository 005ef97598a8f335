"""Offices keep holders and links (admin and services), with the invariants and the audit log."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from minqing.core.models import AuditAction, AuditEntry
from minqing.duties import services
from minqing.duties.models import DutyLink, DutyRule, LinkKind

from .conftest import household


def test_holder_and_links_are_created_validated_and_audited(admin_user, zhao, tree):
    h = services.holder_create(
        acting_user=admin_user,
        data={
            "user": zhao,
            "rule": DutyRule.objects.get(code="cadre"),
            "unit": "县民政局",
            "node": tree["county"],
            "active_from": timezone.localdate(),
        },
    )
    services.link_add(
        acting_user=admin_user, holder=h, kind=LinkKind.COMMUNITY, target=tree["community"]
    )
    with pytest.raises(ValidationError):  # already linked
        services.link_add(
            acting_user=admin_user, holder=h, kind=LinkKind.COMMUNITY, target=tree["community"]
        )
    with pytest.raises(ValidationError) as exc:  # a grid is no community
        services.link_add(
            acting_user=admin_user, holder=h, kind=LinkKind.COMMUNITY, target=tree["grid_a"]
        )
    assert "社区/村一级" in str(exc.value)
    link = services.link_add(
        acting_user=admin_user, holder=h, kind=LinkKind.HOUSEHOLD, target=household(tree["grid_a"])
    )
    with pytest.raises(ValidationError):
        services.link_end(
            acting_user=admin_user, link=link, ended_on=link.started_on - dt.timedelta(days=1)
        )
    services.link_end(acting_user=admin_user, link=link)
    assert DutyLink.objects.get(pk=link.pk).ended_on == timezone.localdate()
    actions = list(
        AuditEntry.objects.filter(model__startswith="duties.").values_list("model", "action")
    )
    assert actions.count(("duties.dutylink", AuditAction.CREATE)) == 2
    assert ("duties.dutyholder", AuditAction.CREATE) in actions
    assert ("duties.dutylink", AuditAction.UPDATE) in actions


def test_the_admin_lists_rules_holders_links_and_days(client, admin_user, zhao_duty):
    client.force_login(admin_user)
    for model in ("dutyrule", "dutyholder", "dutylink", "dutyday"):
        assert client.get(f"/admin/duties/{model}/").status_code == 200
    page = client.get(f"/admin/duties/dutyholder/{zhao_duty.pk}/change/")
    assert page.status_code == 200 and "联系对象" in page.content.decode()


def test_the_admin_audits_a_rule_change(client, admin_user):
    client.force_login(admin_user)
    rule = DutyRule.objects.get(code="leader")
    response = client.post(
        f"/admin/duties/dutyrule/{rule.pk}/change/",
        {
            "code": "leader",
            "name": "领导班子成员",
            "communities": 2,
            "households": 5,
            "targets": 0,
            "days_per_month": 4,
            "visit_every_months": 1,
            "description": rule.description,
            "active": "on",
            "sort": 0,
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(model="duties.dutyrule")
    assert entry.action == AuditAction.UPDATE and entry.changes == {"days_per_month": [3, 4]}


def test_the_rules_are_seeded_from_the_domain(db):
    rules = {r.code: r for r in DutyRule.objects.all()}
    leader, cadre, secretary = rules["leader"], rules["cadre"], rules["secretary"]
    assert (leader.communities, leader.households, leader.days_per_month) == (2, 5, 3)
    assert (cadre.communities, cadre.households, cadre.targets, cadre.visit_every_months) == (
        1,
        1,
        3,
        1,
    )
    assert (secretary.households, secretary.visit_every_months) == (5, 1)


def test_a_link_added_and_removed_on_the_holders_admin_page_is_audited(
    client, admin_user, zhao_duty, tree
):
    from minqing.core.models import AuditAction, AuditEntry
    from minqing.core.tests.test_admin_audit import form_of, saved
    from minqing.duties.models import DutyLink

    client.force_login(admin_user)
    url = f"/admin/duties/dutyholder/{zhao_duty.pk}/change/"
    data = form_of(client, url)
    total = int(data["links-TOTAL_FORMS"])
    new = {"kind": "community", "community": str(tree["other_community"].pk)}
    data.update({f"links-{total}-{k}": v for k, v in new.items()})
    data.update({f"links-{total}-started_on": "2026-11-01", "links-0-DELETE": "on"})
    data["links-TOTAL_FORMS"] = str(total + 1)
    gone = DutyLink.objects.get(pk=data["links-0-id"])
    saved(client, url, data)

    added = DutyLink.objects.get(holder=zhao_duty, community=tree["other_community"])
    assert added.created_by == admin_user
    entries = AuditEntry.objects.filter(model="duties.dutylink")
    created = entries.get(action=AuditAction.CREATE, object_id=str(added.pk))
    assert created.changes["community"] == [None, str(tree["other_community"])]
    assert set(created.changes) == {"holder", "kind", "community", "started_on"}
    assert created.node == zhao_duty.node and created.reason == "后台管理"
    deleted = entries.get(action=AuditAction.DELETE, object_id=str(gone.pk))
    assert deleted.changes["kind"] == [gone.kind, None]
    assert not DutyLink.objects.filter(pk=gone.pk).exists()
