"""Migration cases 0009 links the cases an Open311 client sent before cases kept their client:
by the name they carry, where the name is one client's only."""

import hashlib
import importlib

from django.apps import apps

from minqing.cases import services
from minqing.cases.models import Case, Open311Client


def _client(name: str, n: int) -> Open311Client:
    key = f"o311_key-{n}"
    return Open311Client.objects.create(
        name=name, key_digest=hashlib.sha256(key.encode()).hexdigest(), key_prefix=key[:8]
    )


def _sent(name: str, tree, street_light) -> Case:
    return services.case_accept(
        public=True,
        source_client=name,
        data={"category": street_light, "description": "路灯不亮。", "grid": tree["grid_a"]},
    )


def test_sent_cases_are_linked_to_their_client_by_a_unique_name(tree, street_light):
    app = _client("随手拍", 1)
    _client("热线", 2)
    _client("热线", 3)  # two clients of one name: which sent it is unknown
    from_app, from_hotline = _sent("随手拍", tree, street_light), _sent("热线", tree, street_light)
    by_staff = services.case_accept(
        public=True,
        data={"category": street_light, "description": "井盖缺失。", "grid": tree["grid_a"]},
    )
    Case.objects.update(open311_client=None)  # as before 0009
    migration = importlib.import_module("minqing.cases.migrations.0009_open311_client_channel")
    migration.link_sent_cases(apps, None)
    migration.link_sent_cases(apps, None)  # twice: nothing more
    links = dict(Case.objects.values_list("pk", "open311_client_id"))
    assert links == {from_app.pk: app.pk, from_hotline.pk: None, by_staff.pk: None}
