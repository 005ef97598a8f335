"""The home page's 关爱对象 counts: each visible care group with the people of it in the
user's scope, counted on the person–tag links (registry.selectors.care_group_counts)."""

from conftest import valid_id
from minqing.accounts.access import can_reveal
from minqing.accounts.models import DataScope, Role, RoleAssignment
from minqing.registry import services
from minqing.registry.models import Tag, TagTarget
from minqing.registry.selectors import care_group_counts


def person(user, grid, seq: int, *tags):
    return services.person_create(
        acting_user=user,
        data={"name": f"居民{seq}", "id_number": valid_id(seq), "grid": grid, "tags": list(tags)},
    )


def counts(user) -> dict:
    return {t.name: t.n for t in care_group_counts(user)}


def test_counts_follow_the_scope_and_hide_what_may_not_be_seen(
    client, tree, grid_a_worker, grid_b_worker, community_worker, county_officer
):
    low, old = Tag.objects.get(name="低保"), Tag.objects.get(name="空巢")
    watched = Tag.objects.create(name="重点人员Y", target=TagTarget.PERSON, sensitive=True)
    person(grid_a_worker, tree["grid_a"], 1, low, old)
    person(grid_a_worker, tree["grid_a"], 2, low, watched)
    person(grid_b_worker, tree["grid_b"], 3, low)
    person(grid_a_worker, tree["grid_a"], 4)  # in no group

    assert counts(grid_a_worker) == {"低保": 2, "空巢": 1, "重点人员Y": 1}
    assert counts(grid_b_worker) == {"低保": 1}
    assert counts(county_officer) == {"低保": 3, "空巢": 1, "重点人员Y": 1}
    # A 社区书记 sees both grids; whether the sensitive group shows follows the reveal right.
    expected = {"低保": 3, "空巢": 1}
    community = counts(community_worker)
    assert {k: v for k, v in community.items() if k != "重点人员Y"} == expected
    assert ("重点人员Y" in community) == can_reveal(community_worker)

    # In the order of the groups' sort, as the home page lists them.
    sorts = [t.sort for t in care_group_counts(county_officer)]
    assert sorts == sorted(sorts)

    client.force_login(grid_a_worker)
    home = client.get("/").content.decode()
    assert f'href="/people/?tag={low.pk}">低保 <b>2</b>' in home


def test_a_self_scoped_user_counts_only_the_people_they_entered(tree, grid_a_worker):
    from minqing.accounts.models import User

    clerk = User.objects.create_user(username="clerk", password="x" * 12, full_name="录入员")
    RoleAssignment.objects.create(
        user=clerk, role=Role.GRID_WORKER, node=tree["grid_a"], data_scope=DataScope.SELF
    )
    low = Tag.objects.get(name="低保")
    person(grid_a_worker, tree["grid_a"], 5, low)
    theirs = person(grid_a_worker, tree["grid_a"], 6, low)
    type(theirs).objects.filter(pk=theirs.pk).update(created_by=clerk)  # as if they entered it
    assert counts(clerk) == {"低保": 1}
    assert counts(grid_a_worker) == {"低保": 2}


def test_a_households_group_counts_and_lists_its_members_once(client, tree, grid_a_worker):
    # given: a ledger filing 低保 on 王建国's household (three members), and one of them also
    # given 低保 in person on his page
    from minqing.registry.models import Person
    from minqing.registry.selectors import person_search
    from minqing.registry.tests.test_import_apply import FAMILY
    from minqing.registry.tests.test_import_support import HEADERS, run, xlsx

    run(grid_a_worker, xlsx(HEADERS, FAMILY))
    low = Tag.objects.get(name="低保")
    assert low.target == TagTarget.HOUSEHOLD and not Person.objects.filter(tags=low).exists()
    Person.objects.get(name="王小明").tags.add(low)
    members = {"王建国", "李秀英", "王小明"}

    # then: the home page counts the three, and the people list (and its ledger) lists them
    assert counts(grid_a_worker)["低保"] == 3
    assert {p.name for p in person_search(grid_a_worker, tag=low)} == members
    client.force_login(grid_a_worker)
    listed = client.get(f"/people/?tag={low.pk}").content.decode()
    assert all(name in listed for name in members) and "赵六" not in listed
