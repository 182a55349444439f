"""An animation of one winter: the network with routes coloured by their state each day, the snow by elevation.

Frames are drawn by matplotlib (Agg) and written as an animated GIF by Pillow, atomically.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..io import atomic_write
from ..network.routes import RouteNetwork
from .data import Results, as_results
from .network_map import _draw_places, _label_places, _route_segments

__all__ = ["animate_winter", "winter_frames", "STATE_COLORS"]

#: Route state -> colour in the animation.
STATE_COLORS: dict[str, str] = {"open": "#2ca02c", "snow": "#1f77b4", "interdicted": "#d62728", "both": "#9467bd"}
_STATES = tuple(STATE_COLORS)


def _frames_data(res: Results, net: RouteNetwork, replication: int | None) -> tuple[
        int, np.ndarray, np.ndarray, np.ndarray, list[dt.date]]:
    """(replication, state codes (D, N), band elevations (B,), depth (D, B), dates) of one replication."""
    reps = [int(r) for r in res.replication_ids()]
    rep = reps[0] if replication is None else int(replication)
    if rep not in reps:
        raise ValueError(f"replication {rep} is not in the results (have {reps[0]} .. {reps[-1]})")
    rt = pd.concat(list(res.chunks("routes", ["day", "route", "state"], [rep])), ignore_index=True)
    codes = pd.Categorical(rt["state"].astype(str), categories=list(_STATES)).codes
    grid = (pd.DataFrame({"day": rt["day"].to_numpy(), "route": rt["route"].astype(str).to_numpy(), "code": codes})
            .pivot(index="day", columns="route", values="code")
            .reindex(columns=list(net.route_ids)).fillna(0).astype(int))
    wx = pd.concat(list(res.chunks("weather", ["day", "elevation_m", "snow_depth_cm"], [rep])), ignore_index=True)
    bands = wx.pivot(index="day", columns="elevation_m", values="snow_depth_cm").reindex(grid.index).fillna(0.0)
    elev = bands.columns.to_numpy(dtype=float)
    depth = bands.to_numpy(dtype=float)
    dates = list(res.dates(grid.index.to_numpy()).astype(dt.date))
    return rep, grid.to_numpy(), elev, depth, dates


def _snow_axes(ax: Axes, elev: np.ndarray, depth: np.ndarray, closed_cm: float | None) -> Any:
    """Horizontal bars of snow depth by elevation band; returns the bars."""
    step = float(np.min(np.diff(elev))) if len(elev) > 1 else 100.0
    bars = ax.barh(elev, depth[0], height=step * 0.85, color="#6baed6", edgecolor="none")
    ax.set_xlim(0, max(10.0, float(np.nanmax(depth)) * 1.05) if depth.size else 10.0)
    ax.set_ylim(elev.min() - step, elev.max() + step) if len(elev) else None
    if closed_cm is not None:
        ax.axvline(closed_cm, color="#555555", lw=0.8, ls="--")
        ax.annotate("a track closes", (closed_cm, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12),
                    textcoords="offset points", fontsize="x-small", color="#555555")
    ax.set_xlabel("snow depth (cm)")
    ax.set_ylabel("elevation (m)")
    ax.grid(alpha=0.2)
    return bars


def winter_frames(results: Any, *, replication: int | None = None, every: int = 1, scenario: Any = None,
                  dpi: int = 72) -> tuple[list[Any], dict[str, Any]]:
    """The frames of one winter as Pillow images (palette mode), and what they show.

    Parameters
    ----------
    results : Run, Ensemble or results folder
    replication : int, optional
        Default the first one held.
    every : int
        One frame every ``every`` days.
    scenario : Scenario, optional
        Needed for a run whose routes are not the bundled scenario's.
    dpi : int
        Resolution of the 10 x 5 inch figure.

    Returns
    -------
    list of PIL.Image.Image, dict
        The frames, and ``replication``, ``days`` and ``dates`` of the frames.
    """
    from PIL import Image

    if every < 1:
        raise ValueError(f"every: must be >= 1, got {every}")
    res = as_results(results, scenario)
    scn = res.need_scenario()
    net = RouteNetwork.from_scenario(scn)
    rep, codes, elev, depth, dates = _frames_data(res, net, replication)
    fig = Figure(figsize=(10, 5), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax_map, ax_snow = fig.subplots(1, 2, width_ratios=[1.7, 1])
    pos = {n.id: (n.lon, n.lat) for n in net.nodes.values()}
    segs, widths = _route_segments(net, pos)
    palette = np.array(list(STATE_COLORS.values()))
    lc = LineCollection(segs, colors=palette[codes[0]], linewidths=widths, zorder=1, capstyle="round")
    ax_map.add_collection(lc)
    _draw_places(ax_map, net)
    ax_map.set_aspect(1.0 / math.cos(math.radians(float(np.mean([p[1] for p in pos.values()])))))
    ax_map.autoscale_view()
    ax_map.margins(0.05)
    ax_map.set_xticks([])
    ax_map.set_yticks([])
    ax_map.legend(handles=[Line2D([], [], color=c, lw=3, label=s) for s, c in STATE_COLORS.items()],
                  loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize="small", ncol=4, frameon=False)
    track = scn.snow.limits.get("track")
    bars = _snow_axes(ax_snow, elev, depth, track.closed_cm if track is not None else None)
    title = fig.suptitle(f"{scn.scenario.name}: replication {rep}, 00 Xxx 0000 (day 000); 00 of 00 routes open",
                         x=0.01, ha="left", fontsize="medium")
    _label_places(ax_map, net)
    fig.canvas.draw()
    fig.set_layout_engine("none")  # laid out once: every frame has the same artists
    frames, shown = [], list(range(0, len(dates), every))
    for d in shown:
        lc.set_color(palette[codes[d]])
        for bar, h in zip(bars, depth[d], strict=True):
            bar.set_width(h)
        n_open = int((codes[d] == 0).sum())
        title.set_text(f"{scn.scenario.name}: replication {rep}, {dates[d]:%d %b %Y} (day {d}); "
                       f"{n_open} of {codes.shape[1]} routes open")
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
        frames.append(Image.fromarray(rgba[..., :3]).quantize(colors=64, method=Image.Quantize.FASTOCTREE))
    return frames, {"replication": rep, "days": shown, "dates": [dates[d] for d in shown]}


def animate_winter(results: Any, out: str | Path, *, replication: int | None = None, every: int = 1,
                   fps: float = 8.0, scenario: Any = None, dpi: int = 72) -> Path:
    """Write an animated GIF of one winter: routes coloured by state each day, snow depth by elevation beside.

    Parameters
    ----------
    results : Run, Ensemble or results folder
    out : path
        The GIF to write (atomically: a temporary file, then a rename).
    replication, every, scenario, dpi
        As for :func:`winter_frames`.
    fps : float
        Frames a second.

    Returns
    -------
    Path
        ``out``.
    """
    if not fps > 0:
        raise ValueError(f"fps: must be > 0, got {fps}")
    frames, _ = winter_frames(results, replication=replication, every=every, scenario=scenario, dpi=dpi)
    duration = max(20, round(1000.0 / fps))

    def write(tmp: Path) -> None:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0,
                       optimize=False)

    return atomic_write(out, write)
