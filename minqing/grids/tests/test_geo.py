import math

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from minqing.grids import geo
from minqing.grids.geo import (
    ERR_EMPTY_AREA,
    ERR_NO_RING,
    ERR_NOT_POLYGON,
    ERR_POSITION,
    ERR_RANGE,
    ERR_RING,
    bbox,
    geometry_of,
    locate_grid,
    point_in_geometry,
    valid_lat_lng,
    validate_geometry,
)
from minqing.grids.models import Level, Node


def ring(x: float, y: float, size: float) -> list[list[float]]:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def square(x: float, y: float, size: float = 1.0) -> dict:
    return {"type": "Polygon", "coordinates": [ring(x, y, size)]}


def feature(geometry) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": {"name": "网格"}}


# A 10×10 square at the origin with a 2×2 hole in the middle (4..6 on both axes).
HOLED = {"type": "Polygon", "coordinates": [ring(0, 0, 10), ring(4, 4, 2)]}
# Two unit squares far apart.
TWO_SQUARES = {"type": "MultiPolygon", "coordinates": [[ring(0, 0, 1)], [ring(5, 5, 1)]]}
# An L shape: a concave polygon, where a naive bbox test would be wrong.
L_SHAPE = {
    "type": "Polygon",
    "coordinates": [[[0, 0], [4, 0], [4, 1], [1, 1], [1, 4], [0, 4], [0, 0]]],
}


@pytest.fixture(autouse=True)
def fresh_cache():
    geo.clear_cache()
    yield
    geo.clear_cache()


# --- point_in_geometry ---------------------------------------------------------------------------


def test_a_point_in_the_middle_of_a_square_is_inside():
    assert point_in_geometry(0.5, 0.5, square(0, 0))


@pytest.mark.parametrize("lng, lat", [(-0.1, 0.5), (1.1, 0.5), (0.5, -0.1), (0.5, 1.1), (2, 2)])
def test_a_point_beside_a_square_is_outside(lng, lat):
    assert not point_in_geometry(lng, lat, square(0, 0))


@pytest.mark.parametrize("lng, lat", [(0, 0.5), (1, 0.5), (0.5, 0), (0.5, 1)])
def test_a_point_on_an_edge_counts_as_inside(lng, lat):
    assert point_in_geometry(lng, lat, square(0, 0))


@pytest.mark.parametrize("lng, lat", [(0, 0), (1, 0), (1, 1), (0, 1)])
def test_a_point_on_a_vertex_counts_as_inside(lng, lat):
    assert point_in_geometry(lng, lat, square(0, 0))


def test_a_point_on_an_edge_is_inside_despite_float_rounding():
    # 3 * 0.1 is 0.30000000000000004, so (0.1, 0.3) lies a hair off the line y = 3x, on the
    # far side from this triangle; it is still on the edge for any practical purpose.
    triangle = {"type": "Polygon", "coordinates": [[[0, 0], [1, 3], [0, 3], [0, 0]]]}
    assert point_in_geometry(0.1, 0.3, triangle)
    assert not point_in_geometry(0.1001, 0.3, triangle)


def test_a_point_level_with_a_vertex_but_outside_is_outside():
    # The ray from (−1, 1) runs through the vertices (0, 1) and (1, 1).
    assert not point_in_geometry(-1, 1, square(0, 0))
    diamond = {"type": "Polygon", "coordinates": [[[1, 0], [2, 1], [1, 2], [0, 1], [1, 0]]]}
    assert not point_in_geometry(-1, 1, diamond)
    assert point_in_geometry(0.5, 1, diamond)
    assert not point_in_geometry(3, 1, diamond)


def test_a_point_in_the_notch_of_a_concave_polygon_is_outside():
    assert point_in_geometry(0.5, 3, L_SHAPE)
    assert point_in_geometry(3, 0.5, L_SHAPE)
    assert not point_in_geometry(2, 2, L_SHAPE)


def test_a_point_in_a_hole_is_outside():
    assert not point_in_geometry(5, 5, HOLED)


def test_a_point_between_the_outer_ring_and_the_hole_is_inside():
    assert point_in_geometry(2, 5, HOLED)
    assert point_in_geometry(5, 8, HOLED)


def test_a_point_on_the_edge_of_a_hole_counts_as_inside():
    assert point_in_geometry(4, 5, HOLED)
    assert point_in_geometry(6, 6, HOLED)


def test_a_point_in_any_part_of_a_multipolygon_is_inside():
    assert point_in_geometry(0.5, 0.5, TWO_SQUARES)
    assert point_in_geometry(5.5, 5.5, TWO_SQUARES)
    assert point_in_geometry(6, 5.5, TWO_SQUARES)


def test_a_point_between_the_parts_of_a_multipolygon_is_outside():
    assert not point_in_geometry(3, 3, TWO_SQUARES)


def test_a_ring_may_wind_either_way_and_be_left_unclosed():
    clockwise = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    unclosed = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
    assert point_in_geometry(0.5, 0.5, clockwise)
    assert point_in_geometry(0.5, 0.5, unclosed)


def test_positions_with_an_altitude_are_read_as_lng_lat():
    geometry = {"type": "Polygon", "coordinates": [[[*p, 12.5] for p in ring(0, 0, 1)]]}
    assert point_in_geometry(0.5, 0.5, geometry)


def test_a_feature_is_read_through_its_geometry():
    assert point_in_geometry(0.5, 0.5, feature(square(0, 0)))
    assert not point_in_geometry(5, 5, feature(HOLED))


def test_a_feature_collection_counts_every_polygon_in_it():
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature({"type": "Point", "coordinates": [3, 3]}),
            feature(square(0, 0)),
            feature(square(5, 5)),
        ],
    }
    assert point_in_geometry(0.5, 0.5, collection)
    assert point_in_geometry(5.5, 5.5, collection)
    assert not point_in_geometry(3, 3, collection)


MALFORMED = [
    None,
    "",
    "not json",
    "{}",
    42,
    [],
    {},
    {"type": "Polygon"},
    {"type": "Polygon", "coordinates": None},
    {"type": "Polygon", "coordinates": []},
    {"type": "Polygon", "coordinates": [[]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1]]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], ["1", 1], [0, 0]]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [True, 1], [0, 0]]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [float("nan"), 1], [0, 0]]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [float("inf"), 1], [0, 0]]]},
    {"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1], [0, 0]]},
    {"type": "Polygon", "coordinates": [ring(0, 0, 1), None]},
    {"type": "Polygon", "coordinates": {"0": ring(0, 0, 1)}},
    {"type": "MultiPolygon", "coordinates": [ring(0, 0, 1)]},
    {"type": "MultiPolygon", "coordinates": [[ring(0, 0, 1)], "x"]},
    {"type": "Point", "coordinates": [0.5, 0.5]},
    {"type": "LineString", "coordinates": ring(0, 0, 1)},
    {"type": "Feature", "geometry": None},
    {"type": "Feature"},
    {"type": "FeatureCollection", "features": None},
    {"type": "FeatureCollection", "features": [None, 1, "x"]},
    {"type": "FeatureCollection", "features": []},
]


@pytest.mark.parametrize("geometry", MALFORMED)
def test_a_malformed_geometry_contains_nothing_and_raises_nothing(geometry):
    assert point_in_geometry(0.5, 0.5, geometry) is False


@pytest.mark.parametrize("lng, lat", [(None, 0.5), ("0.5", 0.5), (math.nan, 0.5), (0.5, math.inf)])
def test_a_point_that_is_not_a_pair_of_numbers_is_inside_nothing(lng, lat):
    assert point_in_geometry(lng, lat, square(0, 0)) is False


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["type", "coordinates", "geometry", "features", "geometries"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=30,
)
geo_types = st.sampled_from(
    ["Polygon", "MultiPolygon", "Feature", "FeatureCollection", "GeometryCollection"]
)


@settings(max_examples=300, deadline=None)
@given(kind=geo_types, body=json_values, lng=st.floats(), lat=st.floats())
def test_no_json_value_makes_the_geometry_functions_raise(kind, body, lng, lat):
    obj = {"type": kind, "coordinates": body, "geometry": body, "features": body}
    assert point_in_geometry(lng, lat, obj) in (True, False)
    assert point_in_geometry(lng, lat, body) in (True, False)
    geometry_of(obj)
    try:
        validate_geometry(obj)
    except ValidationError:
        pass


# --- geometry_of and bbox --------------------------------------------------------------------


def test_geometry_of_returns_a_polygon_as_it_is():
    polygon = square(0, 0)
    assert geometry_of(polygon) is polygon
    assert geometry_of(feature(polygon)) is polygon


def test_geometry_of_merges_the_polygons_of_a_collection_into_a_multipolygon():
    collection = {
        "type": "FeatureCollection",
        "features": [feature(square(0, 0)), feature(TWO_SQUARES)],
    }
    assert geometry_of(collection) == {
        "type": "MultiPolygon",
        "coordinates": [[ring(0, 0, 1)], [ring(0, 0, 1)], [ring(5, 5, 1)]],
    }


def test_geometry_of_a_collection_with_one_polygon_is_that_polygon():
    collection = {"type": "FeatureCollection", "features": [feature(HOLED)]}
    assert geometry_of(collection) == HOLED


def test_geometry_of_reads_a_json_string():
    assert geometry_of('{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}') == {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]],
    }


@pytest.mark.parametrize("obj", [None, {"type": "Point", "coordinates": [0, 0]}, "[]", 3])
def test_geometry_of_anything_but_polygons_is_none(obj):
    assert geometry_of(obj) is None


def test_bbox_spans_every_part_of_a_multipolygon():
    assert bbox(TWO_SQUARES) == (0, 0, 6, 6)
    assert bbox(feature(square(120.0, 30.0, 0.5))) == (120.0, 30.0, 120.5, 30.5)


def test_bbox_of_a_malformed_geometry_is_a_value_error():
    with pytest.raises(ValueError):
        bbox({"type": "Polygon", "coordinates": []})


# --- valid_lat_lng ---------------------------------------------------------------------------


@pytest.mark.parametrize("lat, lng", [(30.2, 120.1), (-90, -180), (90, 180), (0, 0)])
def test_finite_coordinates_in_range_are_valid(lat, lng):
    assert valid_lat_lng(lat, lng)


@pytest.mark.parametrize(
    "lat, lng",
    [
        (90.1, 0),
        (-90.1, 0),
        (0, 180.1),
        (0, -180.1),
        (120.1, 30.2),  # swapped
        (math.nan, 0),
        (0, math.inf),
        (None, 0),
        ("30.2", 120.1),
        (True, 120.1),
    ],
)
def test_coordinates_out_of_range_or_not_numbers_are_invalid(lat, lng):
    assert not valid_lat_lng(lat, lng)


# --- validate_geometry -----------------------------------------------------------------------


def messages(obj) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        validate_geometry(obj)
    return exc.value.messages


def test_a_valid_polygon_is_returned_as_lng_lat_pairs():
    geometry = {"type": "Polygon", "coordinates": [[[*p, 5] for p in ring(120, 30, 1)]]}
    assert validate_geometry(feature(geometry)) == {
        "type": "Polygon",
        "coordinates": [[[float(x), float(y)] for x, y in ring(120, 30, 1)]],
    }


def test_a_valid_multipolygon_with_a_hole_is_accepted():
    geometry = {"type": "MultiPolygon", "coordinates": [HOLED["coordinates"], [ring(20, 20, 1)]]}
    assert validate_geometry(geometry) == geometry


def test_an_uploaded_feature_collection_becomes_one_multipolygon():
    collection = {"type": "FeatureCollection", "features": [feature(square(0, 0)), feature(HOLED)]}
    assert validate_geometry(collection)["type"] == "MultiPolygon"


@pytest.mark.parametrize(
    "obj",
    [
        None,
        "oops",
        {"type": "Point", "coordinates": [120, 30]},
        {"type": "LineString", "coordinates": ring(0, 0, 1)},
        {"type": "FeatureCollection", "features": []},
    ],
)
def test_an_upload_that_is_not_a_polygon_is_refused(obj):
    assert messages(obj) == [ERR_NOT_POLYGON]


def test_a_polygon_without_rings_is_refused():
    assert messages({"type": "Polygon", "coordinates": []}) == [ERR_NO_RING]
    assert messages({"type": "MultiPolygon", "coordinates": []}) == [ERR_NO_RING]


def test_an_unclosed_ring_is_refused():
    unclosed = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
    assert messages(unclosed) == [ERR_RING]


def test_a_ring_of_three_points_is_refused():
    assert messages({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}) == [ERR_RING]


def test_a_ring_with_no_area_is_refused():
    line = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]}
    assert messages(line) == [ERR_EMPTY_AREA]


def test_coordinates_out_of_range_are_refused():
    # Latitude first by mistake: 120 is not a latitude.
    swapped = {"type": "Polygon", "coordinates": [[[y, x] for x, y in ring(120, 30, 1)]]}
    assert messages(swapped) == [ERR_RANGE]
    assert "坐标超出范围" in ERR_RANGE


@pytest.mark.parametrize("bad", [["120", 30], [120], [None, 30], [math.nan, 30], 120])
def test_a_position_that_is_not_two_numbers_is_refused(bad):
    points = ring(0, 0, 1)
    points[1] = bad
    assert messages({"type": "Polygon", "coordinates": [points]}) == [ERR_POSITION]


# --- locate_grid -----------------------------------------------------------------------------

# conftest.tree: grid A is the 0.01° square at (120.00, 30.00), grid B the one east of it at
# (120.01, 30.00), so they share the edge lng = 120.01; grid C has no boundary.


@pytest.mark.django_db
def test_a_point_is_located_in_the_grid_whose_square_contains_it(tree):
    assert locate_grid(30.005, 120.005) == tree["grid_a"]
    assert locate_grid(30.005, 120.015) == tree["grid_b"]


@pytest.mark.django_db
def test_a_point_outside_every_grid_is_located_nowhere(tree):
    assert locate_grid(30.005, 120.025) is None
    assert locate_grid(29.9, 120.005) is None


@pytest.mark.django_db
def test_a_point_on_the_line_between_two_grids_goes_to_the_first_by_code(tree):
    assert locate_grid(30.005, 120.01) == tree["grid_a"]


@pytest.mark.django_db
def test_only_grids_are_located_not_the_community_around_them(tree):
    # The community's square (0.02°) also covers (30.015, 120.005), but no grid does.
    assert locate_grid(30.015, 120.005) is None


@pytest.mark.django_db
def test_an_invalid_point_is_located_nowhere(tree):
    assert locate_grid(math.nan, 120.005) is None
    assert locate_grid(120.005, 30.005) is None


@pytest.mark.django_db
def test_a_grid_with_a_malformed_boundary_is_skipped(tree):
    Node.objects.filter(pk=tree["grid_a"].pk).update(boundary={"type": "Polygon"})
    Node.objects.filter(pk=tree["grid_c"].pk).update(boundary="nonsense")
    assert locate_grid(30.005, 120.005) is None
    assert locate_grid(30.005, 120.015) == tree["grid_b"]


@pytest.mark.django_db
def test_a_grid_stored_as_a_feature_is_located(tree):
    grid_c = tree["grid_c"]
    grid_c.boundary = feature(square(121.0, 31.0, 0.01))
    grid_c.save()
    assert locate_grid(31.005, 121.005) == grid_c


def _indexed(shapes: list[dict]) -> geo.GridIndex:
    grids = []
    for pk, shape in enumerate(shapes, start=1):
        polygons = geo._polygons(shape)
        grids.append((pk, geo._bbox_of(polygons), polygons))
    return geo.GridIndex(grids)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(119.0, 121.0), st.floats(29.0, 31.0), st.sampled_from([0.003, 0.01, 0.05])
        ),
        min_size=1,
        max_size=30,
    ),
    st.floats(118.9, 121.1),
    st.floats(28.9, 31.1),
)
def test_the_grid_index_finds_what_testing_every_grid_finds_in_path_order(squares, x, y):
    shapes = [square(sx, sy, size) for sx, sy, size in squares]
    every = [pk for pk, shape in enumerate(shapes, start=1) if point_in_geometry(x, y, shape)]
    assert _indexed(shapes).containing(x, y) == every


def test_a_point_on_a_cell_edge_and_a_grid_corner_is_found():
    shapes = [square(120.0, 30.0, 0.01), square(120.01, 30.0, 0.01), square(120.0, 30.01, 0.01)]
    index = _indexed(shapes)
    assert index.containing(120.01, 30.01) == [1, 2, 3]
    assert index.containing(120.02, 30.0) == [2]
    assert index.containing(120.021, 30.0) == []


def test_a_huge_grid_is_checked_everywhere_and_keeps_its_place_in_path_order():
    shapes = [square(120.0, 30.0, 0.01), square(100.0, 20.0, 30.0), square(120.01, 30.0, 0.01)]
    index = _indexed(shapes)
    assert index.everywhere == [1]  # the 30° square, filed by cell, would take 8 million cells
    assert index.containing(120.005, 30.005) == [1, 2]
    assert index.containing(120.015, 30.005) == [2, 3]
    assert index.containing(105.0, 25.0) == [2]
    assert index.containing(99.0, 25.0) == []


def test_an_empty_index_finds_nothing():
    assert geo.GridIndex([]).containing(120.0, 30.0) == []


@pytest.mark.django_db
def test_the_grid_found_is_read_without_its_boundary(tree, django_assert_num_queries):
    locate_grid(30.005, 120.015)  # fills the cache
    with django_assert_num_queries(1) as ctx:
        grid = locate_grid(30.005, 120.005)
    assert grid == tree["grid_a"] and grid.code == tree["grid_a"].code
    assert "boundary" not in ctx.captured_queries[0]["sql"]


@pytest.mark.django_db
def test_grid_boundaries_are_read_once_and_then_served_from_memory(tree, django_assert_num_queries):
    with django_assert_num_queries(2):  # the boundaries, then the grid found
        locate_grid(30.005, 120.005)
    with django_assert_num_queries(1):
        assert locate_grid(30.005, 120.015) == tree["grid_b"]
    with django_assert_num_queries(0):
        assert locate_grid(30.005, 120.025) is None


@pytest.mark.django_db
def test_the_cache_is_refreshed_after_five_minutes(tree, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(geo, "_clock", lambda: now[0])
    assert locate_grid(31.005, 121.005) is None
    # A bulk update sends no signal, so only the clock makes it visible.
    Node.objects.filter(pk=tree["grid_c"].pk).update(boundary=square(121.0, 31.0, 0.01))
    now[0] += 299
    assert locate_grid(31.005, 121.005) is None
    now[0] += 2
    assert locate_grid(31.005, 121.005) == tree["grid_c"]


@pytest.mark.django_db
def test_saving_a_grid_refreshes_the_cache_at_once(tree):
    assert locate_grid(30.005, 120.005) == tree["grid_a"]
    grid_a = tree["grid_a"]
    grid_a.boundary = square(122.0, 32.0, 0.01)
    grid_a.save()
    assert locate_grid(30.005, 120.005) is None
    assert locate_grid(32.005, 122.005) == grid_a


@pytest.mark.django_db
def test_a_grid_deleted_since_the_cache_was_filled_is_not_returned(tree):
    assert locate_grid(30.005, 120.015) == tree["grid_b"]
    Node.objects.filter(pk=tree["grid_b"].pk)._raw_delete(Node.objects.db)
    assert locate_grid(30.005, 120.015) is None


@pytest.mark.django_db
def test_locating_among_hundreds_of_grids_picks_the_right_one(tree):
    community = tree["community"]
    Node.objects.bulk_create(
        Node(
            level=Level.GRID,
            name=f"网格{i}",
            code=f"330188001001{100 + i:03d}",
            parent=community,
            path=f"{community.path}330188001001{100 + i:03d}/",
            boundary=square(119.0 + (i % 20) * 0.01, 29.0 + (i // 20) * 0.01, 0.01),
        )
        for i in range(400)
    )
    geo.clear_cache()
    found = locate_grid(29.0 + 7 * 0.01 + 0.005, 119.0 + 13 * 0.01 + 0.005)
    assert found is not None and found.code == f"330188001001{100 + 7 * 20 + 13:03d}"
