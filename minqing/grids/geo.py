"""Plane geometry on the grids' own GeoJSON boundaries, without a GIS library.

Boundaries are GeoJSON (RFC 7946) in WGS84 with positions as [lng, lat]. A county has a few
hundred grids of a few hundred metres each, so treating degrees as a plane is exact enough for
"which grid is this point in": polygon edges are straight lines between the stored vertices,
as Leaflet draws them.

A point on an edge or a vertex counts as inside, so a point on the line between two adjacent
grids is in both; `locate_grid` then picks the first by path, so the answer is stable.
"""

import json
import math
import threading
import time
from decimal import Decimal
from numbers import Real

from django.core.exceptions import ValidationError
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from minqing.grids.models import Level, Node

ERR_NOT_POLYGON = _("边界必须是 GeoJSON 多边形（Polygon 或 MultiPolygon）")
ERR_NO_RING = _("多边形至少需要一个外环")
ERR_POSITION = _("坐标格式不正确：每个点应为 [经度, 纬度] 两个数字")
ERR_RANGE = _("坐标超出范围：经度应在 -180～180，纬度应在 -90～90（顺序为 [经度, 纬度]）")
ERR_RING = _("多边形的环至少需要 4 个点且首尾相同")
ERR_EMPTY_AREA = _("多边形的面积不能为零")

# Distance, in degrees, within which a point counts as on an edge (about 0.1 mm): absorbs
# the rounding of coordinates that were computed, e.g. 120.0 + 0.01 vs 120.01.
EDGE_TOLERANCE = 1e-9

CACHE_SECONDS = 300

POLYGON_TYPES = ("Polygon", "MultiPolygon")

Point = tuple[float, float]
Ring = list[Point]
Polygon = list[Ring]  # outer ring first, then holes
BBox = tuple[float, float, float, float]


# --- input shapes ------------------------------------------------------------------------------


def geometry_of(obj) -> dict | None:
    """The Polygon or MultiPolygon geometry in a GeoJSON object, or None.

    Accepts a geometry, a Feature, a FeatureCollection or a GeometryCollection (their polygons
    merged into one MultiPolygon, or the single one as is), or the same as a JSON string. Only
    the shape is checked here; coordinates are checked where they are used.
    """
    if isinstance(obj, str | bytes):
        try:
            obj = json.loads(obj)
        except (ValueError, RecursionError):
            return None
    parts = _polygon_parts(obj, depth=0)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    coordinates = []
    for part in parts:
        if part["type"] == "Polygon":
            coordinates.append(part["coordinates"])
        else:
            coordinates.extend(part["coordinates"])
    return {"type": "MultiPolygon", "coordinates": coordinates}


def _polygon_parts(obj, depth: int) -> list[dict]:
    if not isinstance(obj, dict) or depth > 3:
        return []
    kind = obj.get("type")
    if kind in POLYGON_TYPES:
        return [obj] if isinstance(obj.get("coordinates"), list) else []
    if kind == "Feature":
        return _polygon_parts(obj.get("geometry"), depth + 1)
    if kind == "FeatureCollection":
        children = obj.get("features")
    elif kind == "GeometryCollection":
        children = obj.get("geometries")
    else:
        return []
    if not isinstance(children, list):
        return []
    return [part for child in children for part in _polygon_parts(child, depth + 1)]


def _coordinate(value) -> float | None:
    """A finite float from a JSON number (or Decimal); None for anything else, bool included."""
    if isinstance(value, bool) or not isinstance(value, Real | Decimal):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _position(value) -> Point | None:
    if not isinstance(value, list | tuple) or len(value) < 2:
        return None
    x, y = _coordinate(value[0]), _coordinate(value[1])
    if x is None or y is None:
        return None
    return (x, y)


def _ring(value) -> Ring | None:
    """The vertices of a ring, closing point dropped; None unless at least 3 points."""
    if not isinstance(value, list):
        return None
    points = []
    for item in value:
        point = _position(item)
        if point is None:
            return None
        points.append(point)
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return points if len(points) >= 3 else None


def _polygon(value) -> Polygon | None:
    if not isinstance(value, list) or not value:
        return None
    rings = [_ring(item) for item in value]
    if any(ring is None for ring in rings):
        return None
    return rings


def _polygons(obj) -> list[Polygon] | None:
    """The polygons of a GeoJSON object as rings of float pairs; None if anything is malformed."""
    geometry = geometry_of(obj)
    if geometry is None:
        return None
    if geometry["type"] == "Polygon":
        candidates = [geometry["coordinates"]]
    else:
        candidates = geometry["coordinates"]
    polygons = [_polygon(item) for item in candidates]
    if not polygons or any(polygon is None for polygon in polygons):
        return None
    return polygons


# --- point in polygon --------------------------------------------------------------------------


def _on_segment(x: float, y: float, a: Point, b: Point) -> bool:
    (ax, ay), (bx, by) = a, b
    tol = EDGE_TOLERANCE
    if not (
        min(ax, bx) - tol <= x <= max(ax, bx) + tol and min(ay, by) - tol <= y <= max(ay, by) + tol
    ):
        return False
    length = math.hypot(bx - ax, by - ay)
    if length == 0.0:
        return math.hypot(x - ax, y - ay) <= tol
    cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax)
    return abs(cross) <= tol * length


def _ring_position(x: float, y: float, ring: Ring) -> int:
    """1 if (x, y) is strictly inside the ring, 0 if on its boundary, -1 if outside."""
    inside = False
    previous = ring[-1]
    for current in ring:
        if _on_segment(x, y, previous, current):
            return 0
        (px, py), (cx, cy) = previous, current
        # Even-odd ray cast towards +x; the half-open test counts a vertex on the ray once.
        if (cy > y) != (py > y):
            crossing = px + (y - py) * (cx - px) / (cy - py)
            if x < crossing:
                inside = not inside
        previous = current
    return 1 if inside else -1


def _in_polygon(x: float, y: float, polygon: Polygon) -> bool:
    outer, *holes = polygon
    where = _ring_position(x, y, outer)
    if where < 0:
        return False
    if where == 0:
        return True
    # Strictly inside a hole is outside the polygon; on a hole's edge is on the polygon's edge.
    return all(_ring_position(x, y, hole) <= 0 for hole in holes)


def _in_polygons(x: float, y: float, polygons: list[Polygon]) -> bool:
    return any(_in_polygon(x, y, polygon) for polygon in polygons)


def point_in_geometry(lng: float, lat: float, geometry: dict) -> bool:
    """Whether [lng, lat] lies in a Polygon/MultiPolygon (edges inside, holes outside).

    A Feature or FeatureCollection is read through `geometry_of`. Malformed input is False,
    never an exception.
    """
    x, y = _coordinate(lng), _coordinate(lat)
    if x is None or y is None:
        return False
    try:
        polygons = _polygons(geometry)
        return polygons is not None and _in_polygons(x, y, polygons)
    except (RecursionError, ArithmeticError):
        return False


def _bbox_of(polygons: list[Polygon]) -> BBox:
    # The outer rings bound the holes, so they are enough.
    xs = [x for polygon in polygons for x, _ in polygon[0]]
    ys = [y for polygon in polygons for _, y in polygon[0]]
    return (min(xs), min(ys), max(xs), max(ys))


def bbox(geometry) -> BBox:
    """(min_lng, min_lat, max_lng, max_lat) of a Polygon/MultiPolygon (or Feature, …).

    Raises ValueError if the geometry has no usable coordinates.
    """
    polygons = _polygons(geometry)
    if not polygons:
        raise ValueError(ERR_NOT_POLYGON)
    return _bbox_of(polygons)


def valid_lat_lng(lat, lng) -> bool:
    """Finite numbers with -90 ≤ lat ≤ 90 and -180 ≤ lng ≤ 180."""
    y, x = _coordinate(lat), _coordinate(lng)
    return y is not None and x is not None and -90.0 <= y <= 90.0 and -180.0 <= x <= 180.0


# --- validation of uploads ---------------------------------------------------------------------


def _ring_area2(ring: list[list[float]]) -> float:
    return abs(sum(ax * by - bx * ay for (ax, ay), (bx, by) in zip(ring, ring[1:], strict=False)))


def _validated_ring(value) -> list[list[float]]:
    if not isinstance(value, list):
        raise ValidationError(ERR_RING, code="ring")
    ring = []
    for item in value:
        point = _position(item)
        if point is None:
            raise ValidationError(ERR_POSITION, code="position")
        ring.append(point)
    for x, y in ring:
        if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
            raise ValidationError(ERR_RANGE, code="range")
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise ValidationError(ERR_RING, code="ring")
    if _ring_area2(ring) == 0.0:
        raise ValidationError(ERR_EMPTY_AREA, code="empty_area")
    return [[x, y] for x, y in ring]


def _validated_polygon(value) -> list[list[list[float]]]:
    if not isinstance(value, list) or not value:
        raise ValidationError(ERR_NO_RING, code="no_ring")
    return [_validated_ring(ring) for ring in value]


def validate_geometry(obj) -> dict:
    """A clean Polygon/MultiPolygon geometry from an uploaded GeoJSON object, or ValidationError.

    Accepts what `geometry_of` accepts. The result holds only [lng, lat] float pairs (altitudes
    dropped), ready to store in `Node.boundary`.
    """
    geometry = geometry_of(obj)
    if geometry is None:
        raise ValidationError(ERR_NOT_POLYGON, code="not_polygon")
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": _validated_polygon(geometry["coordinates"])}
    polygons = geometry["coordinates"]
    if not polygons:
        raise ValidationError(ERR_NO_RING, code="no_ring")
    return {
        "type": "MultiPolygon",
        "coordinates": [_validated_polygon(polygon) for polygon in polygons],
    }


# --- which grid --------------------------------------------------------------------------------

_clock = time.monotonic
_lock = threading.Lock()
_cache: dict = {"loaded_at": None, "index": None}

# A grid whose box covers more cells than this is checked for every point instead of being
# filed under each cell (one odd, huge boundary must not fill memory).
MAX_CELLS_PER_GRID = 400


class GridIndex:
    """The grids' boundaries filed by cell, so a point is tested against a handful of grids.

    The plane is cut into cells the size of a typical grid's box (the median width and
    height); each grid is filed under every cell its box (plus the edge tolerance) touches. A
    point's cell then lists the only grids that can contain it, in path order, so a county of
    thousands of grids costs a dictionary lookup and a few polygon tests, not one per grid.
    """

    def __init__(self, grids: list[tuple[int, BBox, list[Polygon]]]):
        self.grids = grids
        widths = sorted(b[2] - b[0] for _pk, b, _p in grids)
        heights = sorted(b[3] - b[1] for _pk, b, _p in grids)
        self.cell_w = max(widths[len(widths) // 2], 1e-6) if grids else 1.0
        self.cell_h = max(heights[len(heights) // 2], 1e-6) if grids else 1.0
        self.cells: dict[tuple[int, int], list[int]] = {}
        self.everywhere: list[int] = []  # grids too large to file by cell
        tol = EDGE_TOLERANCE
        for i, (_pk, (min_x, min_y, max_x, max_y), _polygons) in enumerate(grids):
            x0, y0 = self._cell(min_x - tol, min_y - tol)
            x1, y1 = self._cell(max_x + tol, max_y + tol)
            if (x1 - x0 + 1) * (y1 - y0 + 1) > MAX_CELLS_PER_GRID:
                self.everywhere.append(i)
                continue
            for cx in range(x0, x1 + 1):
                for cy in range(y0, y1 + 1):
                    self.cells.setdefault((cx, cy), []).append(i)

    def _cell(self, x: float, y: float) -> tuple[int, int]:
        return math.floor(x / self.cell_w), math.floor(y / self.cell_h)

    def containing(self, x: float, y: float) -> list[int]:
        """The ids of the grids whose boundary contains the point, in path order."""
        candidates = self.cells.get(self._cell(x, y), [])
        if self.everywhere:
            candidates = sorted([*candidates, *self.everywhere])
        tol = EDGE_TOLERANCE
        found = []
        for i in candidates:
            pk, (min_x, min_y, max_x, max_y), polygons = self.grids[i]
            if (
                min_x - tol <= x <= max_x + tol
                and min_y - tol <= y <= max_y + tol
                and _in_polygons(x, y, polygons)
            ):
                found.append(pk)
        return found


def clear_cache() -> None:
    """Forget the loaded grid boundaries; the next `locate_grid` reads them again."""
    with _lock:
        _cache["loaded_at"] = None
        _cache["index"] = None


def _grid_index() -> GridIndex:
    """Every grid with a usable boundary, in path order, filed by cell; cached."""
    now = _clock()
    with _lock:
        loaded_at = _cache["loaded_at"]
        if loaded_at is not None and now - loaded_at < CACHE_SECONDS:
            return _cache["index"]
    rows = (
        Node.objects.filter(level=Level.GRID, boundary__isnull=False)
        .order_by("path")
        .values_list("id", "boundary")
    )
    grids = []
    for pk, boundary in rows:
        polygons = _polygons(boundary)
        if polygons:
            grids.append((pk, _bbox_of(polygons), polygons))
    index = GridIndex(grids)
    with _lock:
        _cache["loaded_at"] = now
        _cache["index"] = index
    return index


def locate_grid(lat: float, lng: float) -> Node | None:
    """The grid whose boundary contains the point, or None (also for an invalid point).

    On a line shared by two grids the first in path order wins. The grid is read without its
    boundary (a caller files a case under it; the outline is the map's business).
    """
    if not valid_lat_lng(lat, lng):
        return None
    matches = _grid_index().containing(float(lng), float(lat))
    if not matches:
        return None
    # A grid deleted since the cache was filled is skipped, not returned.
    found = Node.objects.defer("boundary").in_bulk(matches)
    return next((found[pk] for pk in matches if pk in found), None)


@receiver(post_save, sender=Node, dispatch_uid="minqing.grids.geo.node_saved")
@receiver(post_delete, sender=Node, dispatch_uid="minqing.grids.geo.node_deleted")
def _node_changed(sender, instance, **kwargs) -> None:
    # Edits in this process show at once; other processes see them within CACHE_SECONDS.
    if instance.level == Level.GRID:
        clear_cache()
