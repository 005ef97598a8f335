import pytest
from django.core.exceptions import ValidationError

from minqing.grids.models import ERR_CODE_PREFIX, Level, Node


def test_levels_must_nest_in_order(tree):
    # given a street, when a grid is put directly under it, then it is refused
    node = Node(level=Level.GRID, name="错层网格", code="330188001009001", parent=tree["street"])
    with pytest.raises(ValidationError) as exc:
        node.full_clean()
    assert "level" in exc.value.message_dict


def test_a_grid_code_must_extend_its_community_code(tree):
    node = Node(level=Level.GRID, name="错码网格", code="330188001002009", parent=tree["community"])
    with pytest.raises(ValidationError) as exc:
        node.full_clean()
    assert exc.value.message_dict["code"] == [
        ERR_CODE_PREFIX.format(level="社区/村", prefix="330188001001")
    ]


def test_a_grid_under_a_zone_still_extends_the_community_code(tree):
    zone = Node.objects.create(
        level=Level.ZONE, name="一片区", code="33018800100101", parent=tree["community"]
    )
    Node(level=Level.GRID, name="片区网格", code="330188001001009", parent=zone).full_clean()


def test_only_a_county_may_be_a_root(db):
    with pytest.raises(ValidationError):
        Node(level=Level.STREET, name="孤儿街道", code="330188009").full_clean()


def test_codes_are_unique(tree):
    with pytest.raises(ValidationError):
        Node(
            level=Level.GRID, name="重复", code=tree["grid_a"].code, parent=tree["community"]
        ).full_clean()


def test_a_subtree_is_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = sorted(n.code for n in tree["community"].subtree())
    assert codes == sorted(
        [tree["community"].code, tree["grid_a"].code, tree["grid_b"].code, tree["building_a"].code]
    )


def test_the_grid_page_draws_its_map_from_its_own_geojson(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    page = client.get(f"/tree/{tree['grid_a'].code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "vendor/leaflet/leaflet.js" in html and 'id="map"' in html
    assert "http://" not in html.split("<main ")[1] and "https://" not in html  # no CDN, no tiles
    fc = client.get(f"/tree/{tree['grid_a'].code}/geojson").json()
    assert fc["features"][0]["geometry"]["type"] == "Polygon"
    assert fc["features"][0]["properties"]["self"] is True


def test_a_grid_worker_cannot_open_another_grid(client, grid_a_worker, tree):
    client.force_login(grid_a_worker)
    assert client.get(f"/tree/{tree['grid_b'].code}/").status_code == 404
    assert client.get(f"/tree/{tree['grid_b'].code}/geojson").status_code == 404
    assert client.get(f"/tree/{tree['community'].code}/").status_code == 404


def test_a_community_page_shows_its_grids(client, community_worker, tree):
    client.force_login(community_worker)
    page = client.get(f"/tree/{tree['community'].code}/").content.decode()
    assert tree["grid_a"].name in page and tree["grid_b"].name in page
    fc = client.get(f"/tree/{tree['community'].code}/geojson").json()
    assert {f["properties"]["code"] for f in fc["features"]} == {
        tree["community"].code,
        tree["grid_a"].code,
        tree["grid_b"].code,
    }


def test_the_crumbs_link_only_to_places_the_user_may_open(
    client, grid_a_worker, community_worker, tree
):
    client.force_login(grid_a_worker)
    html = client.get(f"/tree/{tree['grid_a'].code}/").content.decode()
    crumbs = html.split('<nav class="crumbs">')[1].split("</nav>")[0]
    assert tree["community"].name in crumbs and tree["county"].name in crumbs
    assert "href=" not in crumbs  # named, not linked: their pages are 404 for a grid worker
    client.force_login(community_worker)
    html = client.get(f"/tree/{tree['grid_a'].code}/").content.decode()
    crumbs = html.split('<nav class="crumbs">')[1].split("</nav>")[0]
    assert f'href="/tree/{tree["community"].code}/"' in crumbs
    assert f'href="/tree/{tree["county"].code}/"' not in crumbs
