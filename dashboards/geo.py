"""A generated GeoJSON of a county's towns (or a town's villages) for the screen's map.

Real boundaries are not needed (and not available offline): each child place gets the Voronoi
cell of its seat (`Region.lat/lng`) inside a rounded outline around all seats, so neighbouring
towns share edges and the picture reads like a county map. Places without coordinates are laid
out on a ring around the parent. Deterministic: the same places give the same shapes.
"""

from __future__ import annotations

import math
from typing import Any

from centers.models import Region

Point = tuple[float, float]  # (lng, lat)
OUTLINE_SIDES = 48


def _seats(parent: Region, children: list[Region]) -> list[Point]:
    lat0 = parent.lat if parent.lat is not None else 28.0
    lng0 = parent.lng if parent.lng is not None else 112.0
    missing = [c for c in children if c.lat is None or c.lng is None]
    out = []
    for c in children:
        if c.lat is not None and c.lng is not None:
            out.append((c.lng, c.lat))
        else:
            i = missing.index(c)
            angle = 2 * math.pi * i / max(len(missing), 1)
            out.append((lng0 + 0.1 * math.cos(angle), lat0 + 0.1 * math.sin(angle)))
    # Seats at one point would give no cells: spread exact duplicates a little.
    seen: dict[Point, int] = {}
    for i, p in enumerate(out):
        n = seen.get(p, 0)
        seen[p] = n + 1
        if n:
            out[i] = (p[0] + 0.002 * n, p[1] + 0.002 * n)
    return out


def _outline(seats: list[Point]) -> list[Point]:
    cx = sum(p[0] for p in seats) / len(seats)
    cy = sum(p[1] for p in seats) / len(seats)
    radius = max([math.dist((cx, cy), p) for p in seats] + [0.02]) * 1.25
    return [
        (
            cx + radius * math.cos(2 * math.pi * k / OUTLINE_SIDES),
            cy + radius * math.sin(2 * math.pi * k / OUTLINE_SIDES),
        )
        for k in range(OUTLINE_SIDES)
    ]


def _clip(poly: list[Point], a: Point, b: Point) -> list[Point]:
    """The part of convex `poly` nearer to seat `a` than to seat `b` (Sutherland–Hodgman)."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    nx, ny = b[0] - a[0], b[1] - a[1]

    def side(p: Point) -> float:  # < 0: on a's side of the bisector
        return (p[0] - mx) * nx + (p[1] - my) * ny

    out: list[Point] = []
    for i, cur in enumerate(poly):
        prev = poly[i - 1]
        sc, sp = side(cur), side(prev)
        if sc <= 0:
            if sp > 0:
                out.append(_cross(prev, cur, sp, sc))
            out.append(cur)
        elif sp <= 0:
            out.append(_cross(prev, cur, sp, sc))
    return out


def _cross(p: Point, q: Point, sp: float, sq: float) -> Point:
    t = sp / (sp - sq)
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def voronoi_cells(seats: list[Point]) -> list[list[Point]]:
    outline = _outline(seats)
    cells = []
    for i, a in enumerate(seats):
        cell = outline
        for j, b in enumerate(seats):
            if i != j and cell:
                cell = _clip(cell, a, b)
        cells.append(cell)
    return cells


def feature_collection(parent: Region, children: list[Region]) -> dict[str, Any]:
    """GeoJSON FeatureCollection: one polygon per child, `properties.name` as ECharts expects."""
    if not children:
        children = [parent]
    seats = _seats(parent, children)
    features = []
    for child, cell, seat in zip(children, voronoi_cells(seats), seats, strict=True):
        ring = [[round(x, 5), round(y, 5)] for x, y in cell]
        ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name": child.name,
                    "id": child.pk,
                    "code": child.code,
                    "cp": [seat[0], seat[1]],
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}
