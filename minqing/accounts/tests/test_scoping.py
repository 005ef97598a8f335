"""Who sees what: every persona against grid A's household, through pages and the API."""

import pytest

from minqing.accounts.access import scope_queryset, user_scope
from minqing.accounts.models import DataScope, Role, RoleAssignment, User
from minqing.registry import services
from minqing.registry.models import Household, Person

SEES_GRID_A = [
    "grid_a_worker",
    "community_worker",
    "street_officer",
    "county_officer",
    "admin_user",
]
BLIND_TO_GRID_A = ["grid_b_worker", "outsider"]


@pytest.mark.parametrize("persona", SEES_GRID_A)
def test_the_subtree_above_grid_a_sees_its_household(request, client, persona, zhang_san):
    client.force_login(request.getfixturevalue(persona))
    hid = zhang_san.household_id
    assert client.get(f"/households/{hid}/").status_code == 200
    assert client.get(f"/people/{zhang_san.pk}/").status_code == 200
    assert client.get(f"/api/households/{hid}").status_code == 200
    assert client.get(f"/api/people/{zhang_san.pk}").status_code == 200
    assert "张三" in client.get("/people/?q=zs").content.decode()


@pytest.mark.parametrize("persona", BLIND_TO_GRID_A)
def test_others_get_404_exactly_like_a_missing_record(request, client, persona, zhang_san):
    client.force_login(request.getfixturevalue(persona))
    hid = zhang_san.household_id
    for url in (
        f"/households/{hid}/",
        f"/people/{zhang_san.pk}/",
        f"/households/{hid}/edit/",
        f"/people/{zhang_san.pk}/edit/",
        f"/api/households/{hid}",
        f"/api/people/{zhang_san.pk}",
        f"/api/people/{zhang_san.pk}/history",
        "/households/999999/",
        "/api/people/999999",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/people/{zhang_san.pk}/reveal/", {"field": "phone", "reason": "x"}
        ).status_code
        == 404
    )
    assert client.delete(f"/api/people/{zhang_san.pk}").status_code == 404
    assert (
        client.patch(
            f"/api/people/{zhang_san.pk}", {"phone": "13900000000"}, content_type="application/json"
        ).status_code
        == 404
    )
    # Nor through any list or search
    assert f"/people/{zhang_san.pk}/" not in client.get("/people/?q=张三").content.decode()
    assert client.get("/api/people?q=zs").json()["count"] == 0
    assert client.get("/api/households").json()["count"] == 0
    assert Person.objects.get(pk=zhang_san.pk).phone == "13812345678"  # nothing changed


@pytest.mark.parametrize("persona", BLIND_TO_GRID_A)
def test_every_other_record_of_grid_a_is_404_to_them_too(
    request, client, persona, zhang_san, grid_a_worker, tree
):
    # given: a shop and an organisation in grid A, and grid A's household with a need
    from minqing.registry.models import NeedKind, Organisation, Place

    NEED = NeedKind.values[0]

    shop = Place.objects.create(
        name="东门便利店", kind="shop", address="人民路3号", grid=tree["grid_a"],
        phone="13700001234", created_by=grid_a_worker,
    )  # fmt: skip
    org = Organisation.objects.create(
        name="东门业委会", kind="unit", grid=tree["grid_a"], created_by=grid_a_worker
    )
    hid = zhang_san.household_id
    services.household_need_add(
        acting_user=grid_a_worker, household=Household.objects.get(pk=hid),
        kind=NEED, category="助残", description="需要轮椅",
    )  # fmt: skip
    client.force_login(request.getfixturevalue(persona))
    # then: pages, edits, deletes, the API and the grid's boundary all answer 404
    for url in (
        f"/places/{shop.pk}/",
        f"/places/{shop.pk}/edit/",
        f"/orgs/{org.pk}/",
        f"/orgs/{org.pk}/edit/",
        f"/api/places/{shop.pk}",
        f"/api/organisations/{org.pk}",
        f"/api/households/{hid}/members",
        f"/api/households/{hid}/needs",
        f"/api/households/{hid}/history",
        f"/tree/{tree['grid_a'].code}/",
        f"/tree/{tree['grid_a'].code}/geojson",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/places/{shop.pk}/delete/",
        f"/orgs/{org.pk}/delete/",
        f"/households/{hid}/delete/",
        f"/households/{hid}/needs/",
    ):
        assert client.post(url, {"kind": NEED, "description": "x"}).status_code == 404, url
    for url in (f"/api/places/{shop.pk}", f"/api/organisations/{org.pk}"):
        assert client.delete(url).status_code == 404, url
    # nor through a list or an export
    assert "东门便利店" not in client.get("/places/").content.decode()
    assert client.get("/api/places").json()["count"] == 0
    # and nothing changed
    assert Place.objects.filter(pk=shop.pk).exists() and Organisation.objects.filter(pk=org.pk)
    assert Household.objects.get(pk=hid).needs.count() == 1


def test_anonymous_visitors_are_sent_to_login_or_refused(client, zhang_san):
    for url in (
        "/",
        "/tree/",
        "/people/",
        "/households/",
        "/places/",
        "/orgs/",
        f"/people/{zhang_san.pk}/",
        f"/households/{zhang_san.household_id}/",
        "/audit/",
        "/accounts/tokens/",
        f"/teams/{zhang_san.grid.code}/card/",
        f"/tree/{zhang_san.grid.code}/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            "/accounts/login/"
        ), url
    for url in (
        "/api/people",
        "/api/households",
        "/api/me",
        f"/api/people/{zhang_san.pk}",
        "/api/nodes",
    ):
        assert client.get(url).status_code == 401, url
    assert (
        client.post(
            f"/people/{zhang_san.pk}/reveal/", {"field": "phone", "reason": "x"}
        ).status_code
        == 302
    )


def test_a_custom_scope_sees_the_chosen_nodes_only(tree, zhang_san):
    inspector = User.objects.create_user("inspector", password="x-very-long-pass")
    a = RoleAssignment.objects.create(
        user=inspector, role=Role.COUNTY_OFFICER, node=tree["county"], data_scope=DataScope.CUSTOM
    )
    a.custom_nodes.set([tree["other_community"]])
    assert not scope_queryset(inspector, Person.objects.all()).exists()
    a.custom_nodes.set([tree["community"]])
    inspector = User.objects.get(pk=inspector.pk)  # the scope is cached per request/user object
    assert list(scope_queryset(inspector, Person.objects.all())) == [zhang_san]


def test_the_self_scope_sees_only_what_the_user_created(tree, grid_a_worker, zhang_san):
    clerk = User.objects.create_user("clerk", password="x-very-long-pass")
    RoleAssignment.objects.create(
        user=clerk, role=Role.COMMUNITY_WORKER, node=tree["community"], data_scope=DataScope.SELF
    )
    assert not scope_queryset(clerk, Household.objects.all()).exists()
    Household.objects.filter(pk=zhang_san.household_id).update(created_by=clerk)
    clerk = User.objects.get(pk=clerk.pk)
    assert scope_queryset(clerk, Household.objects.all()).count() == 1


def test_the_own_unit_scope_excludes_units_below(tree, zhang_san):
    officer = User.objects.create_user("officer", password="x-very-long-pass")
    RoleAssignment.objects.create(
        user=officer, role=Role.COMMUNITY_WORKER, node=tree["community"], data_scope=DataScope.NODE
    )
    assert not scope_queryset(officer, Person.objects.all()).exists()
    assert user_scope(officer).exact_node_ids == {tree["community"].pk}


def test_a_grid_worker_cannot_file_a_resident_into_another_grid(grid_a_worker, tree):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.household_create(
            acting_user=grid_a_worker, data={"address": "x路1号", "grid": tree["grid_b"]}
        )
    assert exc.value.message_dict["grid"] == [services.ERR_GRID_SCOPE]
    assert not Household.objects.exists()


def test_admin_lists_are_scoped_too(client, grid_a_worker, zhang_san, tree):
    grid_a_worker.is_staff = True
    grid_a_worker.save()
    from django.contrib.auth.models import Permission

    grid_a_worker.user_permissions.add(Permission.objects.get(codename="view_person"))
    client.force_login(grid_a_worker)
    assert "张三" in client.get("/admin/registry/person/").content.decode()
    other = services.person_create(
        acting_user=User.objects.get(username="grid_a"),
        data={"name": "李四", "grid": tree["grid_a"]},
    )
    Person.objects.filter(pk=other.pk).update(grid=tree["grid_b"])
    assert "李四" not in client.get("/admin/registry/person/").content.decode()


def test_the_whole_tree_below_the_only_root_means_no_filter(county_officer, street_officer, tree):
    assert user_scope(county_officer).everything is True
    assert user_scope(street_officer).everything is False


def test_node_visible_agrees_with_node_in_scope_without_a_query(
    django_assert_num_queries, tree, grid_a_worker, community_worker, county_officer, outsider
):
    from minqing.accounts.access import node_in_scope, node_visible, user_scope

    for user in (grid_a_worker, community_worker, county_officer, outsider):
        user_scope(user)  # the scope is read once per request anyway
        for name in ("grid_a", "grid_b", "community", "grid_c", "county"):
            with django_assert_num_queries(0):
                seen = node_visible(user, tree[name])
            assert seen == node_in_scope(user, tree[name]), (user.username, name)


def test_single_subtree_path_only_when_the_scope_is_exactly_one_subtree(
    tree, grid_a_worker, street_officer, county_officer
):
    """Queries may repeat this path as a join condition only when it changes no row."""
    from minqing.accounts.access import single_subtree_path

    assert single_subtree_path(grid_a_worker) == tree["grid_a"].path
    assert single_subtree_path(street_officer) == tree["street"].path
    assert single_subtree_path(county_officer) is None  # everything: no filter at all
    two = User.objects.create_user(username="two", password="x-minqing-pw-1")
    for node in (tree["grid_a"], tree["grid_c"]):
        RoleAssignment.objects.create(
            user=two, role=Role.GRID_WORKER, node=node, data_scope=DataScope.NODE_AND_BELOW
        )
    assert single_subtree_path(two) is None
    mixed = User.objects.create_user(username="mixed", password="x-minqing-pw-1")
    RoleAssignment.objects.create(
        user=mixed, role=Role.GRID_WORKER, node=tree["grid_a"], data_scope=DataScope.NODE_AND_BELOW
    )
    RoleAssignment.objects.create(
        user=mixed, role=Role.COMMUNITY_WORKER, node=tree["community"], data_scope=DataScope.SELF
    )
    assert single_subtree_path(mixed) is None  # own records elsewhere would be dropped
