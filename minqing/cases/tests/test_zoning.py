"""Zoning: a 私搭乱建 / 违法建设 case in a 禁建区 is flagged and made urgent; the admin uploads
the zones as GeoJSON and gets a clear Chinese message for a bad file.

Grid A covers lng 120.00–120.01, lat 30.00–30.01 (conftest); the no-build zone below is the
square lng 120.002–120.006, lat 30.002–30.006 inside it.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import login, square
from minqing.cases import services
from minqing.cases.models import Category, Priority, Status, ZoneKind, ZoningLayer
from minqing.grids import geo

INSIDE = {"lat": "30.004", "lng": "120.004"}
OUTSIDE = {"lat": "30.009", "lng": "120.009"}  # still in grid A
ZONE = square(120.002, 30.002, 0.004)
ADD_URL = "/admin/cases/zoninglayer/add/"


@pytest.fixture
def no_build(db):
    return ZoningLayer.objects.create(kind=ZoneKind.NO_BUILD, name="东门河道禁建区", geometry=ZONE)


def file_case(user, tree, code, where, **data):
    return services.case_accept(
        acting_user=user,
        data={
            "category": code,
            "description": "河边有人在搭彩钢棚。",
            "grid": tree["grid_a"],
            **where,
            **data,
        },
    )


def test_an_illegal_structure_inside_a_no_build_zone_is_flagged_and_made_urgent(
    no_build, grid_a_worker, tree
):
    # when: grid A reports 私搭乱建 at a point inside the zone
    case = file_case(grid_a_worker, tree, "0302", INSIDE)
    # then
    assert case.zoning == ZoneKind.NO_BUILD
    assert case.priority == Priority.URGENT
    event = case.events.get(action="zoning")
    assert event.actor is None and event.actor_label == services.SYSTEM
    assert event.public is False and "禁建区" in event.note
    # The urgent limits apply: the dispatch clock is an hour, not a working day.
    assert services.limit_for(case, "dispatch") == (0, 1)
    assert case.status == Status.REGISTERED


def test_a_subcategory_of_a_zoning_sensitive_category_is_flagged_too(no_build, grid_a_worker, tree):
    sheds = Category.objects.create(
        code="030201", name="违建彩钢棚", parent=Category.objects.get(code="0302")
    )
    assert sheds.zoning_sensitive is False
    case = file_case(grid_a_worker, tree, sheds, INSIDE)
    assert case.priority == Priority.URGENT and case.events.filter(action="zoning").exists()


def test_a_resident_report_inside_the_zone_is_flagged_as_well(no_build, tree):
    case = services.case_accept(
        data={"category": "0303", "description": "有人违法建房。", **INSIDE}, public=True
    )
    assert case.grid == tree["grid_a"]
    assert case.zoning == ZoneKind.NO_BUILD and case.priority == Priority.URGENT


def test_the_same_case_outside_the_zone_is_not_raised(no_build, grid_a_worker, tree):
    case = file_case(grid_a_worker, tree, "0302", OUTSIDE)
    assert case.zoning == ""
    assert case.priority == Priority.NORMAL
    assert not case.events.filter(action="zoning").exists()


def test_a_case_without_a_point_is_not_raised(no_build, grid_a_worker, tree):
    case = file_case(grid_a_worker, tree, "0302", {})
    assert case.zoning == "" and case.priority == Priority.NORMAL


def test_a_street_light_inside_the_zone_records_the_zone_but_is_not_raised(
    no_build, grid_a_worker, tree
):
    case = file_case(grid_a_worker, tree, "0601", INSIDE)
    assert case.zoning == ZoneKind.NO_BUILD
    assert case.priority == Priority.NORMAL
    assert not case.events.filter(action="zoning").exists()


def test_an_inactive_zone_flags_nothing(no_build, grid_a_worker, tree):
    no_build.active = False
    no_build.save()
    case = file_case(grid_a_worker, tree, "0302", INSIDE)
    assert case.zoning == "" and case.priority == Priority.NORMAL


def test_a_restricted_zone_is_recorded_but_does_not_raise_the_priority(grid_a_worker, tree):
    ZoningLayer.objects.create(kind=ZoneKind.RESTRICTED, name="限建区", geometry=ZONE)
    case = file_case(grid_a_worker, tree, "0302", INSIDE)
    assert case.zoning == ZoneKind.RESTRICTED and case.priority == Priority.NORMAL


# --- the admin upload ------------------------------------------------------------------------


def upload(client, content: bytes, **fields):
    data = {"kind": ZoneKind.NO_BUILD, "name": "东门河道禁建区", "active": "on", **fields}
    if content is not None:
        data["upload"] = SimpleUploadedFile("zone.geojson", content, "application/geo+json")
    return client.post(ADD_URL, data)


def errors_of(response) -> list[str]:
    form = response.context["adminform"].form
    return [str(m) for messages in form.errors.values() for m in messages]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not json", "文件不是有效的 GeoJSON（JSON 格式）。"),
        (b"\xff\xfe\x00garbage", "文件不是有效的 GeoJSON（JSON 格式）。"),
        (json.dumps({"type": "Point", "coordinates": [120.0, 30.0]}).encode(), geo.ERR_NOT_POLYGON),
        (
            json.dumps(
                {"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120.1, 30.1]]]}
            ).encode(),
            geo.ERR_RING,
        ),
        (
            json.dumps(
                {
                    "type": "Polygon",
                    "coordinates": [[[30, 120], [30.1, 120], [30.1, 120.1], [30, 120]]],
                }
            ).encode(),
            geo.ERR_RANGE,
        ),
    ],
    ids=["not-json", "not-utf8", "a-point", "unclosed-ring", "lat-lng-swapped"],
)
def test_the_admin_rejects_a_bad_geojson_file_with_a_chinese_message(
    client, admin_user, content, message
):
    login(client, admin_user)
    response = upload(client, content)
    assert response.status_code == 200
    assert message in errors_of(response)
    assert str(message) in response.content.decode()
    assert not ZoningLayer.objects.exists()


def test_the_admin_asks_for_a_file_or_a_pasted_geometry(client, admin_user):
    login(client, admin_user)
    response = upload(client, None)
    assert response.status_code == 200
    assert "请上传或粘贴分区范围。" in errors_of(response)
    assert not ZoningLayer.objects.exists()


def test_the_admin_accepts_a_good_feature_collection_and_cases_inside_are_flagged(
    client, admin_user, grid_a_worker, tree
):
    # given: a FeatureCollection with one polygon feature, with altitudes and a BOM
    ring = [[x, y, 12.5] for x, y in ZONE["coordinates"][0]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"名称": "东门河道"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    login(client, admin_user)
    # when
    response = upload(client, "\ufeff".encode() + json.dumps(collection).encode())
    # then
    assert response.status_code == 302, errors_of(response)
    layer = ZoningLayer.objects.get()
    assert layer.kind == ZoneKind.NO_BUILD and layer.active
    assert layer.geometry == ZONE  # a clean Polygon, altitudes dropped
    assert layer.uploaded_by == admin_user
    case = file_case(grid_a_worker, tree, "0302", INSIDE)
    assert case.zoning == ZoneKind.NO_BUILD and case.priority == Priority.URGENT


def test_the_admin_accepts_a_pasted_geometry(client, admin_user):
    login(client, admin_user)
    response = upload(client, None, geometry=json.dumps(ZONE))
    assert response.status_code == 302
    assert ZoningLayer.objects.get().geometry == ZONE


def test_a_grid_worker_cannot_open_the_zoning_admin(client, grid_a_worker):
    login(client, grid_a_worker)
    response = client.get(ADD_URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_zones_are_served_to_the_maps_of_signed_in_staff(client, no_build, grid_a_worker):
    # given: one active zone and one switched off
    ZoningLayer.objects.create(
        kind=ZoneKind.RESTRICTED, name="旧厂区", geometry=square(120.0, 30.0), active=False
    )
    assert client.get("/cases/zoning.geojson").status_code == 302  # to the login page
    login(client, grid_a_worker)
    fc = client.get("/cases/zoning.geojson").json()
    assert [f["properties"] for f in fc["features"]] == [
        {"zone": "no_build", "label": "禁建区", "name": "东门河道禁建区"}
    ]
    assert fc["features"][0]["geometry"]["type"] == "Polygon"
    # and the maps ask for them
    for url in ("/cases/map/", "/cases/new/"):
        assert 'data-zoning="/cases/zoning.geojson"' in client.get(url).content.decode()
