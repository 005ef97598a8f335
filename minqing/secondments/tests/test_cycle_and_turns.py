"""A school's cycle (3 years by default) and a member's turn (12 months) inside it."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from minqing.registry.services import PermissionDenied
from minqing.secondments import services
from minqing.secondments.models import SecondmentMember
from minqing.secondments.tests.conftest import CYCLE_START, D, add_member


def test_a_cycle_defaults_to_three_years_and_a_turn_to_twelve_months(
    team, community_worker, members
):
    assert team.cycle_end == D(2028, 8, 31)
    assert team.turn_months == 12
    assert team.name == "县第一中学→东门小学支教团队"
    leader = members[0]
    assert (leader.turn_start, leader.turn_end) == (CYCLE_START, D(2026, 8, 31))


def test_a_turn_ends_the_day_before_the_same_day_a_turn_later():
    assert services.turn_last_day(D(2025, 9, 1), 12) == D(2026, 8, 31)
    assert services.turn_last_day(D(2026, 1, 15), 1) == D(2026, 2, 14)
    # No 31 February: the turn ends with February, the next one would start on 1 March.
    assert services.turn_last_day(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert services.turn_last_day(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert services.turn_last_day(D(2023, 12, 31), 2) == D(2024, 2, 29)


def test_the_last_turn_is_cut_at_the_end_of_the_cycle(team, community_worker):
    member = add_member(team, community_worker, "钱多", start=D(2028, 3, 1))
    assert member.turn_end == team.cycle_end == D(2028, 8, 31)


def test_a_turn_outside_the_cycle_or_longer_than_a_turn_is_refused(team, community_worker):
    with pytest.raises(ValidationError) as exc:
        add_member(team, community_worker, "孙立", start=D(2025, 8, 1))
    assert exc.value.message_dict["turn_start"] == [
        services.ERR_TURN_OUTSIDE.format(start="2025-09-01", end="2028-08-31")
    ]
    with pytest.raises(ValidationError) as exc:
        add_member(team, community_worker, "孙立", start=D(2025, 9, 1), end=D(2026, 9, 1))
    assert exc.value.message_dict["turn_end"] == [
        services.ERR_TURN_TOO_LONG.format(n=12, start="2025-09-01", last="2026-08-31")
    ]
    with pytest.raises(ValidationError) as exc:
        add_member(team, community_worker, "孙立", start=D(2026, 3, 1), end=D(2026, 2, 1))
    assert exc.value.message_dict["turn_end"] == [services.ERR_TURN_ORDER]
    assert not SecondmentMember.objects.exists()


def test_a_second_turn_of_the_same_person_may_follow_but_not_overlap(
    team, community_worker, members
):
    with pytest.raises(ValidationError) as exc:
        add_member(team, community_worker, "李梅", start=D(2026, 6, 1), phone="13900002222")
    assert "李梅" in exc.value.message_dict["turn_start"][0]
    second = add_member(team, community_worker, "李梅", start=D(2026, 9, 1), phone="13900002222")
    assert second.turn_end == D(2027, 8, 31)
    # Another teacher who happens to share the name but not the phone is another person.
    add_member(team, community_worker, "李梅", start=D(2026, 6, 1), phone="13900009999")


def test_one_leader_at_a_time(team, community_worker, members):
    with pytest.raises(ValidationError) as exc:
        add_member(team, community_worker, "周队", "leader", start=D(2026, 8, 1))
    assert exc.value.message_dict["role"] == [
        services.ERR_TWO_LEADERS.format(name="王强", start="2025-09-01", end="2026-08-31")
    ]
    nxt = add_member(team, community_worker, "周队", "leader", start=D(2026, 9, 1))
    assert nxt.turn_start == D(2026, 9, 1)


def test_a_shorter_cycle_or_a_custom_turn_length_is_kept(community_worker, tree):
    team = services.secondment_create(
        acting_user=community_worker,
        data={
            "kind": "medical",
            "sending_name": "县人民医院",
            "receiving_name": "东门社区卫生服务站",
            "node": tree["community"],
            "cycle_start": D(2025, 3, 1),
            "cycle_end": D(2026, 2, 28),
            "turn_months": 6,
        },
    )
    member = add_member(team, community_worker, "钟医生", "doctor", start=D(2025, 3, 1))
    assert member.turn_end == D(2025, 8, 31)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"cycle_end": D(2025, 9, 1)}, "cycle_end", services.ERR_CYCLE_ORDER),
        ({"cycle_end": D(2032, 9, 1)}, "cycle_end", services.ERR_CYCLE_TOO_LONG.format(n=6)),
        ({"turn_months": 0}, "turn_months", services.ERR_TURN_MONTHS),
        ({"turn_months": 61}, "turn_months", services.ERR_TURN_MONTHS),
        ({"sending_name": ""}, "sending_name", services.ERR_REQUIRED),
        ({"cycle_start": None}, "cycle_start", services.ERR_REQUIRED),
        ({"kind": "party"}, "kind", services.ERR_KIND),
    ],
)
def test_a_bad_team_is_refused_with_a_clear_message(community_worker, tree, change, field, message):
    data = {
        "sending_name": "县第一中学",
        "receiving_name": "东门小学",
        "node": tree["grid_a"],
        "cycle_start": CYCLE_START,
        **change,
    }
    with pytest.raises(ValidationError) as exc:
        services.secondment_create(acting_user=community_worker, data=data)
    assert exc.value.message_dict[field] == [message]


def test_a_receiving_node_outside_the_scope_or_a_building_is_refused(community_worker, tree):
    data = {"sending_name": "县第一中学", "receiving_name": "南苑小学", "cycle_start": CYCLE_START}
    with pytest.raises(ValidationError) as exc:
        services.secondment_create(
            acting_user=community_worker, data={**data, "node": tree["grid_c"]}
        )
    assert exc.value.message_dict["node"] == [services.ERR_NODE_SCOPE]
    with pytest.raises(ValidationError) as exc:
        services.secondment_create(
            acting_user=community_worker, data={**data, "node": tree["building_a"]}
        )
    assert exc.value.message_dict["node"] == [services.ERR_NODE_LEVEL]


def test_grid_workers_and_outsiders_cannot_create_teams(grid_a_worker, outsider, tree):
    for user in (grid_a_worker, outsider):
        with pytest.raises(PermissionDenied):
            services.secondment_create(
                acting_user=user,
                data={"sending_name": "x", "receiving_name": "y", "node": tree["grid_a"],
                      "cycle_start": CYCLE_START},
            )  # fmt: skip


def test_the_cycle_cannot_shrink_below_a_members_turn(team, community_worker, members):
    data = {
        "kind": team.kind,
        "name": team.name,
        "sending_name": team.sending_name,
        "receiving_name": team.receiving_name,
        "node": team.node,
        "cycle_start": dt.date(2025, 10, 1),
        "cycle_end": team.cycle_end,
    }
    with pytest.raises(ValidationError) as exc:
        services.secondment_update(acting_user=community_worker, secondment=team, data=data)
    assert "王强" in exc.value.message_dict["cycle_end"][0]
    data["cycle_start"] = team.cycle_start
    data["cycle_end"] = D(2027, 8, 31)
    assert services.secondment_update(
        acting_user=community_worker, secondment=team, data=data
    ).cycle_end == D(2027, 8, 31)


def test_a_registry_place_gives_the_name_and_the_node(community_worker, tree):
    from minqing.registry.models import Place

    school = Place.objects.create(
        kind="school", name="东门小学", address="人民路8号", grid=tree["grid_a"]
    )
    team = services.secondment_create(
        acting_user=community_worker,
        data={"sending_name": "县第一中学", "receiving_place": school, "cycle_start": CYCLE_START},
    )
    assert (team.receiving_name, team.node) == ("东门小学", tree["grid_a"])
    with pytest.raises(ValidationError) as exc:
        services.secondment_create(
            acting_user=community_worker,
            data={"sending_name": "县第一中学", "receiving_place": school, "node": tree["grid_b"],
                  "cycle_start": CYCLE_START},
        )  # fmt: skip
    assert exc.value.message_dict["receiving_place"] == [services.ERR_PLACE_NODE]


def test_a_member_whose_account_was_switched_off_can_still_have_their_turn_ended(
    client, team, community_worker, grid_b_worker
):
    """QA: once the linked account was deactivated, every edit of the member — ending their
    turn as they leave — was refused ("系统账号不存在或已停用") unless the link was erased."""
    import datetime as dt

    from minqing.accounts.models import ApiToken
    from minqing.secondments.tests.conftest import add_member

    member = add_member(team, community_worker, "孙老师", user=grid_b_worker)
    grid_b_worker.is_active = False
    grid_b_worker.save()
    _, raw = ApiToken.issue(user=community_worker, name="t")
    r = client.patch(f"/api/secondments/{team.pk}/members/{member.pk}",
                     data={"turn_end": "2025-12-31"}, content_type="application/json",
                     HTTP_AUTHORIZATION=f"Bearer {raw}")  # fmt: skip
    assert r.status_code == 200, r.content
    member.refresh_from_db()
    assert member.turn_end == dt.date(2025, 12, 31) and member.user == grid_b_worker
    # A new link still takes an active account only.
    other = add_member(team, community_worker, "钱老师")
    r = client.patch(f"/api/secondments/{team.pk}/members/{other.pk}",
                     data={"username": grid_b_worker.username}, content_type="application/json",
                     HTTP_AUTHORIZATION=f"Bearer {raw}")  # fmt: skip
    assert r.status_code == 400 and "username" in r.json()["errors"]


def test_one_account_cannot_hold_two_overlapping_turns_under_two_names(
    team, community_worker, grid_b_worker
):
    """QA: "孙老师" and "孙老师二", both linked to grid_b, were both taken: the attendance sheet
    listed the same person twice."""
    import pytest
    from django.core.exceptions import ValidationError

    from minqing.secondments.tests.conftest import D, add_member

    add_member(team, community_worker, "孙老师", user=grid_b_worker)
    with pytest.raises(ValidationError) as exc:
        add_member(team, community_worker, "孙老师二", start=D(2025, 10, 1), user=grid_b_worker)
    assert "turn_start" in exc.value.message_dict
