"""Shared look of the figures: colours, markers, axes helpers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["COLORS", "KIND_MARKERS", "SIDE_COLORS", "SNOW_STATES", "date_axis", "median_band",
           "map_axes", "map_bounds", "new_figure", "n_label", "outside_legend", "replication_grid", "rolling", "spans", "spread_labels"]


SNOW_STATES = ("snow", "both")


COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")


SIDE_COLORS = {"militant": "#c0392b", "army": "#2c3e50", "neutral": "#7f8c8d"}


KIND_MARKERS = {"source": "^", "town": "o", "junction": ".", "pass": "v", "base": "s"}


def n_label(n: int, what: str = "replication") -> str:
    """``"n = 200 replications"``: how many replications (or winters, samples) stand behind a figure."""
    return f"n = {n:,} {what}{'s' if n != 1 else ''}"


def new_figure(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return figure_of(ax), ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def figure_of(ax: Axes) -> Figure:
    """The figure an axes draws on."""
    return ax.figure  # type: ignore[return-value]  # a SubFigure draws like a Figure


def map_bounds(pos: dict[str, tuple[float, float]], margin: float = 0.06) -> tuple[float, float, float, float]:
    """(west, east, south, north) of the places, widened by ``margin`` of their span on each side."""
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    w, h = max(max(xs) - min(xs), 1e-3), max(max(ys) - min(ys), 1e-3)
    return min(xs) - margin * w, max(xs) + margin * w, min(ys) - margin * h, max(ys) + margin * h


def map_axes(ax: Axes, pos: dict[str, tuple[float, float]]) -> None:
    """Longitude and latitude axes at the places' mean latitude's aspect, a little margin around them.

    The limits are the places' (:func:`map_bounds`), whatever else is drawn (a hillshade, a border).
    """
    lats = [p[1] for p in pos.values()]
    ax.set_aspect(1.0 / math.cos(math.radians(float(np.mean(lats)))))
    w, e, s, n = map_bounds(pos)
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")


def date_axis(ax: Axes) -> None:
    loc = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def replication_grid(df: pd.DataFrame, index: str, column: str, value: str, columns: Sequence[Any] | None = None,
          days: np.ndarray | None = None) -> tuple[np.ndarray, list[Any], np.ndarray]:
    """(R, D, K) array of ``value`` by replication, day and ``column`` (missing cells are 0)."""
    reps = np.sort(df["replication"].unique())
    days = np.arange(int(df[index].max()) + 1) if days is None else days
    cols = list(columns) if columns is not None else list(dict.fromkeys(df[column].astype(str)))
    r = np.searchsorted(reps, df["replication"].to_numpy())
    d = df[index].to_numpy(dtype=int)
    cidx = {c: i for i, c in enumerate(cols)}
    k = df[column].astype(str).map(cidx)
    keep = k.notna().to_numpy() & (d >= 0) & (d < len(days))
    out = np.zeros((len(reps), len(days), len(cols)))
    np.add.at(out, (r[keep], d[keep], k[keep].to_numpy(dtype=int)), df[value].to_numpy(dtype=float)[keep])
    return out, cols, reps


def rolling(a: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` days along axis 1 (shorter at the start)."""
    if window <= 1:
        return a
    c = np.cumsum(a, axis=1)
    out = c.copy()
    out[:, window:] = c[:, window:] - c[:, :-window]
    n = np.minimum(np.arange(1, a.shape[1] + 1), window)
    return out / n[None, :, None]


def median_band(ax: Axes, x: np.ndarray, values: np.ndarray, color: str, label: str) -> None:
    """Median line and 5-95 percent band of (R, D) values."""
    lo, mid, hi = np.quantile(values, [0.05, 0.5, 0.95], axis=0)
    if values.shape[0] > 1:
        ax.fill_between(x, lo, hi, color=color, alpha=0.15, linewidth=0)
    ax.plot(x, mid, color=color, lw=1.6, label=label)


def outside_legend(ax: Axes, **kw: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                  fontsize="small", frameon=False, **kw)


def spans(ax: Axes, x: np.ndarray, weight: np.ndarray, color: str, alpha: float) -> None:
    """Shade days with weight > 0, alpha scaled by weight; contiguous equal days merged."""
    one = np.timedelta64(1, "D")
    i = 0
    while i < len(weight):
        if weight[i] <= 0:
            i += 1
            continue
        j = i
        while j + 1 < len(weight) and weight[j + 1] == weight[i]:
            j += 1
        ax.axvspan(x[i], x[j] + one, color=color, alpha=alpha * float(weight[i]), linewidth=0, zorder=0,
                   gid="storm_span")
        i = j + 1


def spread_labels(ys: list[float], lo: float, hi: float, gap: float) -> list[float]:
    """Positions near ``ys`` (sorted), at least ``gap`` apart, kept within [lo, hi]."""
    out: list[float] = []
    for y in ys:
        out.append(max(y, out[-1] + gap) if out else y)
    over = out[-1] - hi if out else 0.0
    if over > 0:
        out = [y - over for y in out]
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - gap)
    return [max(lo, y) for y in out]
