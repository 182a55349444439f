"""Where a route runs: its vertices (its own geometry, else the straight line between its end nodes) and
points along them at a fixed step, by great-circle distance.

The elevation profiles of :mod:`qalamoun_sim.network.terrain` and the GIS layers of
:mod:`qalamoun_sim.network.gis` both draw a route from here, so a map and a profile follow the same line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ..scenario import Node, Route

__all__ = ["route_vertices", "line_length_m", "points_along"]


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, km (a sphere of radius 6371 km)."""
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def route_vertices(route: Route, nodes: Mapping[str, Node]) -> list[tuple[float, float]]:
    """The route's ``(lon, lat)`` vertices: its ``geometry`` when it has one, else its two end nodes.

    Examples
    --------
    >>> a = Node(id="a", kind="source", elevation_m=1000, lat=34.0, lon=36.0)
    >>> b = Node(id="b", kind="town", elevation_m=1200, lat=34.1, lon=36.2)
    >>> route_vertices(Route(id="r", **{"from": "a"}, to="b", length_km=20, surface="track", capacity_tpd=5),
    ...                {"a": a, "b": b})
    [(36.0, 34.0), (36.2, 34.1)]
    """
    geometry = getattr(route, "geometry", None)
    if geometry is not None and len(geometry) >= 2:
        return [(float(x), float(y)) for x, y in geometry]
    a, b = nodes[route.from_], nodes[route.to]
    return [(a.lon, a.lat), (b.lon, b.lat)]


def _segment_lengths_m(vertices: Sequence[tuple[float, float]]) -> np.ndarray:
    return np.array([_haversine_km(y0, x0, y1, x1) * 1000.0
                     for (x0, y0), (x1, y1) in zip(vertices[:-1], vertices[1:], strict=True)], dtype=float)


def line_length_m(vertices: Sequence[tuple[float, float]]) -> float:
    """Great-circle length of a line through ``(lon, lat)`` vertices, in metres."""
    return float(_segment_lengths_m(vertices).sum())


def points_along(vertices: Sequence[tuple[float, float]],
                 step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``step_m`` metres along a line, both ends included.

    Distances are great-circle (haversine) along each segment; within a segment the points are
    spaced evenly in longitude and latitude (segments of a road network are short).

    Parameters
    ----------
    vertices : sequence of (lon, lat)
        At least one vertex.
    step_m : float
        Spacing of the points along the line, metres (> 0). The last step is shorter where the
        length is not a whole number of steps.

    Returns
    -------
    lon, lat, distance_m : ndarray
        The points and their distance from the first vertex.

    Examples
    --------
    >>> lon, lat, d = points_along([(36.0, 34.0), (36.0, 34.001)], 50.0)
    >>> d.round(1).tolist()
    [0.0, 50.0, 100.0, 111.2]
    """
    if not step_m > 0:
        raise ValueError(f"step_m: must be > 0, got {step_m}")
    xy = np.asarray(vertices, dtype=float).reshape(-1, 2)
    seg = _segment_lengths_m([tuple(v) for v in xy]) if len(xy) > 1 else np.zeros(0)
    keep = np.concatenate([[True], seg > 0])  # repeated vertices add no length
    xy, seg = xy[keep], seg[seg > 0]
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(cum[-1])
    if total == 0.0:
        return xy[:1, 0].copy(), xy[:1, 1].copy(), np.zeros(1)
    dist = np.arange(0.0, total, step_m)
    if total - dist[-1] > 1e-6 * step_m:
        dist = np.append(dist, total)
    else:
        dist[-1] = total
    k = np.clip(np.searchsorted(cum, dist, side="right") - 1, 0, len(seg) - 1)
    frac = (dist - cum[k]) / seg[k]
    lon = xy[k, 0] + frac * (xy[k + 1, 0] - xy[k, 0])
    lat = xy[k, 1] + frac * (xy[k + 1, 1] - xy[k, 1])
    return lon, lat, dist
