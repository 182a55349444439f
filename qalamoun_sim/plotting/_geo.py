"""Terrain and borders under a map: a hillshade of a DEM and the outlines of a GeoJSON file.

Both are optional and given by the user: nothing is downloaded. A DEM is read with rasterio (the
``geo`` extra), imported only when a DEM file is given; an array with its extent needs nothing.
Coordinates are longitude and latitude (EPSG:4326), as the scenario's places and GeoJSON (RFC 7946).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import LightSource
from matplotlib.image import AxesImage

__all__ = ["Dem", "read_dem", "draw_hillshade", "read_border", "draw_border"]

#: A DEM as elevations (rows from north to south) and its extent (west, east, south, north) in degrees.
Dem = tuple[np.ndarray, tuple[float, float, float, float]]

#: Largest side, in cells, a DEM is read at (a larger one is decimated on reading).
MAX_CELLS = 1200


def read_dem(path: str | Path, bounds: tuple[float, float, float, float] | None = None) -> Dem:
    """Read a DEM's first band in longitude and latitude, cropped to ``bounds`` (west, east, south, north).

    Raises
    ------
    ImportError
        rasterio is not installed (``pip install 'qalamoun-sim[geo]'``).
    ValueError
        The file cannot be read, is not in longitude and latitude, or does not cover ``bounds``.
    """
    try:
        import rasterio
        from rasterio.errors import RasterioError, WindowError
        from rasterio.windows import Window, from_bounds
        from rasterio.windows import bounds as window_bounds
    except ImportError:
        raise ImportError(f"{path}: reading a DEM needs rasterio: pip install 'qalamoun-sim[geo]'") from None
    try:
        src_cm = rasterio.open(path)
    except (OSError, RasterioError) as exc:
        raise ValueError(f"{path}: cannot read the DEM: {str(exc).splitlines()[0][:200]}") from None
    with src_cm as src:
        if src.crs is not None and not src.crs.is_geographic:
            raise ValueError(f"{path}: the DEM must be in longitude and latitude (EPSG:4326), not {src.crs}")
        win = Window(0, 0, src.width, src.height)
        try:
            if bounds is not None:
                w, e, s, n = bounds
                win = from_bounds(w, s, e, n, src.transform).intersection(win).round_offsets().round_lengths()
        except WindowError:
            win = Window(0, 0, 0, 0)
        if win.width < 2 or win.height < 2:
            raise ValueError(f"{path}: the DEM does not cover the map ({bounds})")
        step = max(1, math.ceil(max(win.width, win.height) / MAX_CELLS))
        shape = (max(2, int(win.height // step)), max(2, int(win.width // step)))
        z = src.read(1, window=win, out_shape=shape, masked=True).astype(float).filled(np.nan)
        left, bottom, right, top = window_bounds(win, src.transform)
    return z, (float(left), float(right), float(bottom), float(top))


def draw_hillshade(ax: Axes, dem: Dem, *, azimuth: float = 315.0, altitude: float = 45.0,
                   alpha: float = 0.55) -> AxesImage:
    """Shade ``dem`` as lit from the north-west under the map (zorder 0); returns the image.

    The cell sizes are turned into metres at the DEM's mean latitude, so the relief is not exaggerated
    north-south against east-west. Cells without data are left blank.
    """
    z, (w, e, s, n) = dem
    z = np.asarray(z, dtype=float)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"dem: a 2-D array of at least 2 x 2 elevations, got shape {z.shape}")
    lat = math.radians((s + n) / 2.0)
    dx = (e - w) / z.shape[1] * 111_320.0 * math.cos(lat)
    dy = (n - s) / z.shape[0] * 110_540.0
    filled = np.where(np.isfinite(z), z, np.nanmean(z) if np.isfinite(z).any() else 0.0)
    shade = LightSource(azdeg=azimuth, altdeg=altitude).hillshade(filled, dx=dx, dy=dy)
    shade = np.ma.masked_where(~np.isfinite(z), shade)
    return ax.imshow(shade, extent=(w, e, s, n), origin="upper", cmap="gray", vmin=0, vmax=1, alpha=alpha,
                     zorder=0, interpolation="bilinear", gid="hillshade")


def _lines(geom: dict[str, Any]) -> Iterator[list[Any]]:
    """The outlines of a GeoJSON geometry: its lines and its polygons' rings."""
    kind = geom.get("type")
    coords: Any = geom.get("coordinates")
    if kind == "LineString":
        yield coords
    elif kind in ("MultiLineString", "Polygon"):
        yield from coords
    elif kind == "MultiPolygon":
        for poly in coords:
            yield from poly
    elif kind == "GeometryCollection":
        for g in geom.get("geometries", []):
            yield from _lines(g)


def read_border(path: str | Path | dict[str, Any]) -> list[np.ndarray]:
    """The lines of a GeoJSON file (or parsed object): LineString, MultiLineString, Polygon outlines.

    Points are ignored. Returns a list of (K, 2) arrays of longitude and latitude.

    Raises
    ------
    ValueError
        The file cannot be read, is not JSON, or holds no line or polygon.
    """
    where = "border" if isinstance(path, dict) else str(path)
    if isinstance(path, dict):
        doc = path
    else:
        try:
            doc = json.loads(Path(path).read_text())
        except OSError as exc:
            raise ValueError(f"{where}: cannot read: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{where}: not GeoJSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: not GeoJSON: a JSON object is expected")
    feats = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    out = []
    for f in feats or []:
        geom = f.get("geometry") if isinstance(f, dict) and f.get("type") == "Feature" else f
        if not isinstance(geom, dict):
            continue
        try:
            out += [a for a in (np.asarray(line, dtype=float)[:, :2] for line in _lines(geom)) if len(a) >= 2]
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"{where}: a {geom.get('type')} with bad coordinates") from None
    if not out:
        raise ValueError(f"{where}: no LineString, MultiLineString or Polygon to draw")
    return out


def draw_border(ax: Axes, lines: list[np.ndarray], *, color: str = "#444444") -> LineCollection:
    """Draw border lines dash-dotted under the routes; returns the collection (without moving the limits)."""
    lc = LineCollection(lines, colors=color, linewidths=1.2, linestyles="dashdot", zorder=0.5, gid="border",
                        label="border")
    ax.add_collection(lc, autolim=False)
    return lc
