"""The route network on a map, routes coloured by how often they were closed."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..network.routes import RouteNetwork
from ..scenario import Scenario
from ._geo import Dem, draw_border, draw_hillshade, read_border, read_dem
from ._labels import place_labels
from ._style import KIND_MARKERS, SIDE_COLORS, SNOW_STATES, map_axes, map_bounds, new_figure
from .data import as_results, index_of

__all__ = ["plot_network_map"]


def plot_network_map(results: Any, *, cause: str = "any", ax: Axes | None = None,
                     scenario: Scenario | None = None, dem: str | Path | Dem | None = None,
                     border: str | Path | dict[str, Any] | list[np.ndarray] | None = None) -> Figure:
    """The network on longitude and latitude, routes coloured by how often they were closed.

    Place names are set where they collide least with each other and the markers
    (:func:`~qalamoun_sim.plotting._labels.place_labels`).

    Parameters
    ----------
    results : Run, Ensemble or results folder
    cause : {"any", "snow", "interdiction"}
        Count a route-day as closed when its capacity factor is 0 (``any``), when snow closed it, or
        when interdiction did.
    dem : path or (array, (west, east, south, north)), optional
        A digital elevation model in longitude and latitude, drawn as a hillshade under the network: a
        raster file read with rasterio (the ``geo`` extra), or the elevations (rows north to south) and
        their extent.
    border : path, GeoJSON object or list of (K, 2) arrays, optional
        Lines to draw (a border, a front line): the LineStrings, MultiLineStrings and Polygon outlines of
        a GeoJSON file in longitude and latitude (or the lines :func:`~qalamoun_sim.plotting._geo.read_border`
        read from one).

    Raises
    ------
    ValueError
        A DEM or border file that cannot be read (its name in the message).
    ImportError
        A DEM file without rasterio installed.
    """
    if cause not in ("any", "snow", "interdiction"):
        raise ValueError(f"cause: must be any, snow or interdiction, got '{cause}'")
    res = as_results(results, scenario)
    scn = res.need_scenario()
    net = RouteNetwork.from_scenario(scn)
    states = {"snow": SNOW_STATES, "interdiction": ("interdicted", "both")}.get(cause, ())

    def closed(rt: Any) -> Any:  # per row of a chunk, through the state's categories
        if cause == "any":
            return rt["capacity_factor"].to_numpy() <= 0.0
        return index_of(rt["state"], states) >= 0

    share = res.group_mean("routes", "route", ["capacity_factor", "state"], closed)  # scanned, chunk by chunk
    share = share.reindex(list(net.route_ids)).fillna(0.0).to_numpy()

    fig, ax = new_figure(ax, (9, 8))
    pos = {n.id: (n.lon, n.lat) for n in net.nodes.values()}
    extras = _draw_ground(ax, pos, dem, border)
    segs, widths = _route_segments(net, pos)
    lc = LineCollection(segs, array=share, cmap="plasma", norm=Normalize(0, 1), linewidths=widths, zorder=1,
                        capstyle="round")
    ax.add_collection(lc)
    cb = fig.colorbar(lc, ax=ax, shrink=0.6, pad=0.02)
    what = {"any": "snow or interdiction", "snow": "snow", "interdiction": "interdiction"}[cause]
    cb.set_label(f"share of days closed ({what})")
    cb.ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    kinds_drawn = _draw_places(ax, net)
    handles: list[Artist] = [Line2D([], [], marker=KIND_MARKERS[k], ls="", color="#555555", label=k) for k in kinds_drawn]
    handles += [Patch(color=c, label=f"{s} held") for s, c in SIDE_COLORS.items()
                if any(n.side == s for n in net.nodes.values())]
    handles.append(Line2D([], [], color="#888888", lw=0.8 + 1.4 * 2, label="width: capacity (log)"))
    handles += extras
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.08), ncol=5, fontsize="small",
              frameon=False)
    map_axes(ax, pos)
    n_reps = res.n_replications
    ax.set_title(f"Routes by share of days closed: n = {n_reps} replication{'s' if n_reps > 1 else ''} x "
                 f"{scn.scenario.days} days",
                 loc="left", fontsize="medium")
    ax.grid(alpha=0.2)
    _label_places(ax, net)
    return fig


def _draw_ground(ax: Axes, pos: dict[str, tuple[float, float]], dem: str | Path | Dem | None,
                 border: str | Path | dict[str, Any] | list[np.ndarray] | None) -> list[Artist]:
    """The hillshade and the border under the network; returns their legend handles."""
    handles: list[Artist] = []
    if dem is not None:
        grid = read_dem(dem, map_bounds(pos, 0.15)) if isinstance(dem, str | Path) else dem
        draw_hillshade(ax, grid)
        handles.append(Patch(facecolor="#b0b0b0", edgecolor="none", label="hillshade (DEM)"))
    if border is not None:
        draw_border(ax, border if isinstance(border, list) else read_border(border))
        handles.append(Line2D([], [], color="#444444", lw=1.2, ls="-.", label="border"))
    return handles


def _route_segments(net: RouteNetwork, pos: dict[str, tuple[float, float]]) -> tuple[list[Any], list[float]]:
    """One straight segment per route (parallel routes offset side by side) and its width (log capacity)."""
    seen: dict[frozenset[str], int] = {}
    segs, widths = [], []
    span = max(1e-6, max(p[0] for p in pos.values()) - min(p[0] for p in pos.values()))
    for r in net.routes:
        (x0, y0), (x1, y1) = pos[r.from_], pos[r.to]
        pair = frozenset((r.from_, r.to))
        k = seen.get(pair, 0)
        seen[pair] = k + 1
        off = (0.012 * span) * ((k + 1) // 2) * (1 if k % 2 else -1) if k else 0.0
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        nx_, ny_ = -(y1 - y0) / length * off, (x1 - x0) / length * off
        segs.append([(x0 + nx_, y0 + ny_), (x1 + nx_, y1 + ny_)])
        widths.append(0.8 + 1.4 * math.log10(max(r.capacity_tpd, 1.0)))
    return segs, widths


def _draw_places(ax: Axes, net: RouteNetwork) -> list[str]:
    """Places as markers by kind, coloured by side; returns the kinds drawn."""
    kinds_drawn = []
    for kind, marker in KIND_MARKERS.items():
        ns = [n for n in net.nodes.values() if n.kind == kind]
        if not ns:
            continue
        kinds_drawn.append(kind)
        ax.scatter([n.lon for n in ns], [n.lat for n in ns], marker=marker, s=70 if kind != "junction" else 60,
                   c=[SIDE_COLORS[n.side] for n in ns], edgecolors="white", linewidths=0.8, zorder=3)
    return kinds_drawn


#: The order labels are placed in: the first get the best spots.
_LABEL_ORDER = ("source", "town", "base", "pass")


def _label_places(ax: Axes, net: RouteNetwork) -> None:
    """Name the places (junctions unlabelled) where the labels collide least, once the axes are laid out."""
    nodes = sorted((n for n in net.nodes.values() if n.kind in _LABEL_ORDER), key=lambda n: _LABEL_ORDER.index(n.kind))
    if not nodes:
        return
    fig: Any = ax.figure
    fig.draw_without_rendering()
    texts = [n.name.split(",")[0].split(" (")[0] if n.name and n.kind in ("town", "source") else n.id for n in nodes]
    colors = ["#222222" if n.kind in ("town", "source") else "#555555" for n in nodes]
    junctions = [(n.lon, n.lat) for n in net.nodes.values() if n.kind not in _LABEL_ORDER]
    place_labels(ax, [(n.lon, n.lat) for n in nodes], texts, colors=colors, avoid=junctions)
