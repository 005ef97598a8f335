"""Migration 0008's data step: cases already waiting for an extension decision get the flag.

The flag feeds the deciders' inbox through a partial index; a case whose request was filed
before the column existed must not drop out of that inbox.
"""

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

from django.apps import apps

from minqing.cases import services
from minqing.cases.models import Case, ExtensionRequest

migration = importlib.import_module("minqing.cases.migrations.0008_case_extension_pending")

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # Monday


def dispatched_case(grid_worker, community_worker, grid, category, description: str) -> Case:
    case = services.case_accept(
        acting_user=grid_worker,
        data={"category": category, "description": description, "grid": grid},
        now=T0,
    )
    return services.case_act(
        acting_user=community_worker,
        case=case,
        action="dispatch",
        target_user=grid_worker,
        now=T0,
    )


def test_only_cases_with_a_pending_request_are_marked(
    tree, grid_a_worker, community_worker, street_light
):
    def new(description: str) -> Case:
        return dispatched_case(
            grid_a_worker, community_worker, tree["grid_a"], street_light, description
        )

    waiting, plain, decided = (
        new("东门路3号路灯不亮。"),
        new("东门路5号路灯闪烁。"),
        new("东门路7号路灯倒伏。"),
    )
    # given: one case asks for more time, one asked and was answered, one never asked
    waiting = services.case_act(acting_user=grid_a_worker, case=waiting, action="extend_request",
                                note="零件缺货", days=2, now=T0 + dt.timedelta(hours=1))  # fmt: skip
    decided = services.case_act(acting_user=grid_a_worker, case=decided, action="extend_request",
                                note="等吊车", days=3, now=T0 + dt.timedelta(hours=1))  # fmt: skip
    decided = services.case_act(acting_user=community_worker, case=Case.objects.get(pk=decided.pk),
                                action="extend_decide", approve=False, note="不必",
                                now=T0 + dt.timedelta(hours=2))  # fmt: skip
    assert ExtensionRequest.objects.get(case=waiting).status == "pending"
    assert ExtensionRequest.objects.get(case=decided).status == "rejected"
    assert not ExtensionRequest.objects.filter(case=plain).exists()
    # the database as it stood before the column was filled
    Case.objects.update(extension_pending=False)

    migration.mark_pending(apps, None)

    flags = dict(Case.objects.values_list("pk", "extension_pending"))
    assert flags == {waiting.pk: True, plain.pk: False, decided.pk: False}


def test_the_marked_case_is_back_in_the_deciders_inbox(
    tree, grid_a_worker, community_worker, street_light
):
    from minqing.cases import selectors

    case = dispatched_case(
        grid_a_worker, community_worker, tree["grid_a"], street_light, "东门路3号路灯不亮。"
    )
    services.case_act(acting_user=grid_a_worker, case=case, action="extend_request",
                      note="零件缺货", days=2, now=T0 + dt.timedelta(hours=1))  # fmt: skip

    def in_inbox() -> bool:
        return case.pk in selectors.inbox_for(community_worker).values_list("pk", flat=True)

    assert in_inbox()
    Case.objects.filter(pk=case.pk).update(extension_pending=False)
    assert not in_inbox()  # the flag is what puts it there

    migration.mark_pending(apps, None)

    assert in_inbox()
