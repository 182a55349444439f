"""Elevation profiles from a digital elevation model: the terrain under each route, sampled with rasterio.

Crest elevation is the second driver of the verdict (each 100 m moves P(claim) by about 0.15), so a
network's typed elevations are worth checking against terrain. :func:`sample_profiles` samples a DEM
(a GeoTIFF, or any raster GDAL reads: SRTM, Copernicus GLO-30, ASTER) every ``step_m`` metres along
each route (:func:`~qalamoun_sim.network.geometry.points_along`: its geometry, else the straight line
between its end nodes); :func:`profiled_scenario` puts the profiles in the scenario
(``elevation_profile_m``, and ``max_elevation_m`` their highest sample); :func:`profile_table` ranks the
routes by how far the typed highest point lies from the sampled one.

The DEM's values are taken as metres above sea level; a DEM in any coordinate reference system works
(the points are transformed from longitude/latitude, EPSG:4326, with ``rasterio.warp.transform``).
Samples outside the raster or on its nodata cells are skipped and counted. Needs the ``geo`` extra
(``pip install 'qalamoun-sim[geo]'``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import QalamounError, ScenarioError
from ..scenario import Scenario
from .geometry import points_along, route_vertices
from .routes import RouteNetwork

__all__ = ["RouteProfile", "sample_profiles", "profiled_scenario", "profile_table", "DEFAULT_STEP_M",
           "open_dem"]

#: Spacing of the samples along a route: the cell size of SRTM and Copernicus GLO-30 (1 arc-second, ~30 m).
DEFAULT_STEP_M = 30.0

Method = Literal["bilinear", "nearest"]


@dataclass(frozen=True)
class RouteProfile:
    """The terrain along one route.

    Attributes
    ----------
    route : str
        Route id.
    distance_m : ndarray
        Distance of each sample from the route's first vertex (its ``from`` node).
    elevation_m : ndarray
        The DEM at each sample; NaN where the sample fell outside the raster or on nodata.
    typed_max_m : float
        The highest point the scenario gives the route (its ``max_elevation_m`` or profile, else its
        higher end node), as :class:`~qalamoun_sim.network.RouteNetwork` uses it.
    typed_from : str
        Where ``typed_max_m`` comes from: ``max_elevation_m``, ``elevation_profile_m`` or ``end nodes``.
    """

    route: str
    distance_m: np.ndarray
    elevation_m: np.ndarray
    typed_max_m: float
    typed_from: str

    @property
    def skipped(self) -> int:
        """Samples outside the raster or on nodata."""
        return int(np.isnan(self.elevation_m).sum())

    @property
    def sampled_max_m(self) -> float:
        """The highest sample (NaN when every sample was skipped)."""
        valid = self.elevation_m[~np.isnan(self.elevation_m)]
        return float(valid.max()) if valid.size else math.nan

    @property
    def crest_km(self) -> float:
        """Distance of the highest sample from the ``from`` node, km (NaN when every sample was skipped)."""
        if self.skipped == len(self.elevation_m):
            return math.nan
        return float(self.distance_m[int(np.nanargmax(self.elevation_m))]) / 1000.0

    @property
    def difference_m(self) -> float:
        """Sampled highest point minus the typed one (positive: the terrain is higher than the scenario says)."""
        return self.sampled_max_m - self.typed_max_m


def open_dem(path: str | Path) -> Any:
    """Open a DEM with rasterio: a one-line error when rasterio is missing or the file is not a raster.

    Raises
    ------
    QalamounError
        rasterio is not installed (the ``geo`` extra).
    ScenarioError
        The file is missing, is not a raster GDAL reads, or has no coordinate reference system.
    """
    try:
        import rasterio
    except ImportError:
        raise QalamounError("rasterio is not installed: pip install 'qalamoun-sim[geo]'") from None
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), None, "DEM not found" if not path.exists() else "DEM is not a file")
    try:
        ds = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise ScenarioError(str(path), None, f"cannot read as a raster: {exc}") from None
    if ds.crs is None:
        ds.close()
        raise ScenarioError(str(path), None, "the DEM has no coordinate reference system (CRS)")
    return ds


def sample_profiles(network: RouteNetwork | Scenario, dem: str | Path, step_m: float = DEFAULT_STEP_M,
                    method: Method = "bilinear") -> list[RouteProfile]:
    """Sample a DEM along every route.

    Parameters
    ----------
    network : RouteNetwork or Scenario
    dem : path
        A raster GDAL reads (GeoTIFF ...), band 1 in metres, in any CRS.
    step_m : float
        Spacing of the samples along each route, metres (great-circle). Both ends are sampled.
    method : {"bilinear", "nearest"}
        Interpolation between cell centres; bilinear falls back to the cell under the point next to nodata.

    Returns
    -------
    list of RouteProfile
        In route order.

    Raises
    ------
    QalamounError, ScenarioError
        As :func:`open_dem`; a ``step_m`` that is not positive.
    """
    if not (isinstance(step_m, int | float) and math.isfinite(step_m) and step_m > 0):
        raise ScenarioError("--step-m", None, f"must be a positive number of metres, got {step_m}")
    if method not in ("bilinear", "nearest"):
        raise ScenarioError("--method", None, f"must be bilinear or nearest, got '{method}'")
    net = network if isinstance(network, RouteNetwork) else RouteNetwork.from_scenario(network)
    with open_dem(dem) as ds:
        reader = _Sampler(ds, method)
        out = []
        for i, route in enumerate(net.routes):
            lon, lat, dist = points_along(route_vertices(route, net.nodes), float(step_m))
            out.append(RouteProfile(route.id, dist, reader.sample(lon, lat), float(net.max_elevation_m[i]),
                                    _typed_from(route)))
    return out


def _typed_from(route: Any) -> str:
    if route.elevation_profile_m:
        return "elevation_profile_m"
    return "max_elevation_m" if route.max_elevation_m is not None else "end nodes"


class _Sampler:
    """Band 1 of an open rasterio dataset sampled at longitude/latitude points."""

    def __init__(self, ds: Any, method: Method) -> None:
        self.ds, self.method = ds, method
        self.geographic = bool(ds.crs.is_geographic) and ds.crs.to_epsg() == 4326
        self.nodata = ds.nodata
        self.scale = float(ds.scales[0]) if ds.scales else 1.0
        self.offset = float(ds.offsets[0]) if ds.offsets else 0.0

    def sample(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The DEM at each point; NaN outside the raster or on nodata."""
        x, y = self._to_crs(lon, lat)
        inv = ~self.ds.transform  # to fractional pixel coordinates: cell (r, c) spans [c, c + 1) x [r, r + 1)
        col = inv.a * x + inv.b * y + inv.c
        row = inv.d * x + inv.e * y + inv.f
        h, w = self.ds.height, self.ds.width
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h) & np.isfinite(col) & np.isfinite(row)
        out = np.full(len(col), np.nan)
        if not inside.any():
            return out
        c, r = col[inside], row[inside]
        c0 = max(int(np.floor(c.min() - 0.5)), 0)
        r0 = max(int(np.floor(r.min() - 0.5)), 0)
        c1 = min(int(np.floor(c.max() + 0.5)) + 1, w)
        r1 = min(int(np.floor(r.max() + 0.5)) + 1, h)
        from rasterio.windows import Window

        block = self.ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True).astype(float)
        values = np.ma.filled(block, np.nan)
        if self.nodata is not None and not math.isnan(self.nodata):
            values[values == self.nodata] = np.nan
        out[inside] = self._interpolate(values, c - c0, r - r0) * self.scale + self.offset
        return out

    def _to_crs(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.geographic:
            return lon, lat
        from rasterio.warp import transform

        x, y = transform("EPSG:4326", self.ds.crs, list(map(float, lon)), list(map(float, lat)))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def _interpolate(self, values: np.ndarray, c: np.ndarray, r: np.ndarray) -> np.ndarray:
        """Values at fractional pixel positions of ``values`` (nearest, or bilinear between cell centres)."""
        h, w = values.shape
        nearest = values[np.clip(r.astype(int), 0, h - 1), np.clip(c.astype(int), 0, w - 1)]
        if self.method == "nearest":
            return nearest
        fc, fr = c - 0.5, r - 0.5  # relative to cell centres; past the outer centres the edge value holds
        ci, ri = np.floor(fc).astype(int), np.floor(fr).astype(int)
        tc, tr = np.clip(fc - ci, 0, 1), np.clip(fr - ri, 0, 1)
        cA, cB = np.clip(ci, 0, w - 1), np.clip(ci + 1, 0, w - 1)
        rA, rB = np.clip(ri, 0, h - 1), np.clip(ri + 1, 0, h - 1)
        top = values[rA, cA] * (1 - tc) + values[rA, cB] * tc
        bottom = values[rB, cA] * (1 - tc) + values[rB, cB] * tc
        bilinear = top * (1 - tr) + bottom * tr
        return np.where(np.isnan(bilinear), nearest, bilinear)


def profiled_scenario(scenario: Scenario, profiles: Sequence[RouteProfile], decimals: int = 1) -> Scenario:
    """The scenario with each route's ``elevation_profile_m`` (its samples, skipped ones left out, rounded to
    ``decimals``) and ``max_elevation_m`` (their highest) from the DEM, re-validated.

    Raises
    ------
    ScenarioError
        A route none of whose samples lies on the DEM's data (outside its extent, or nodata), naming it;
        profiles that are not the scenario's routes.
    """
    if [p.route for p in profiles] != [r.id for r in scenario.routes]:
        raise ScenarioError(scenario.source_path or "<dict>", "routes", "the profiles are not of this scenario's routes")
    routes = []
    for i, (route, prof) in enumerate(zip(scenario.routes, profiles, strict=True)):
        valid = prof.elevation_m[~np.isnan(prof.elevation_m)]
        if not valid.size:
            raise ScenarioError(scenario.source_path or "<dict>", f"routes[{i}]",
                                f"route '{route.id}': every one of its {len(prof.elevation_m)} samples falls "
                                "outside the DEM or on nodata")
        values = [round(float(z), decimals) for z in valid]
        routes.append(route.model_copy(update={"elevation_profile_m": values, "max_elevation_m": max(values)}))
    doc = scenario.model_copy(update={"routes": routes}).model_dump(by_alias=True, exclude_none=True)
    doc.pop("network", None)  # the network is inline now
    # the weather files were resolved when the scenario loaded: no base folder to resolve them against again
    return Scenario.from_document(doc, scenario.source_path or "<dict>", None)


def profile_table(profiles: Sequence[RouteProfile]) -> list[dict[str, Any]]:
    """One row per route, the largest disagreement first: ``route``, ``typed_max_m``, ``typed_from``,
    ``sampled_max_m``, ``difference_m`` (sampled minus typed), ``crest_km``, ``samples``, ``skipped``.

    Routes with no valid sample (NaN difference) come last.
    """
    rows = [{"route": p.route, "typed_max_m": p.typed_max_m, "typed_from": p.typed_from,
             "sampled_max_m": p.sampled_max_m, "difference_m": p.difference_m, "crest_km": p.crest_km,
             "samples": len(p.elevation_m), "skipped": p.skipped} for p in profiles]
    return sorted(rows, key=lambda r: (math.isnan(r["difference_m"]),
                                       -abs(r["difference_m"]) if not math.isnan(r["difference_m"]) else 0.0,
                                       r["route"]))
