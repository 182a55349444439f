"""Supply flows: delivered supply per town or per corridor, over time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..scenario import Scenario
from ._style import (
    COLORS,
    date_axis,
    figure_of,
    median_band,
    n_label,
    outside_legend,
    rolling,
)
from .data import Results, as_results, index_of

__all__ = ["plot_supply"]


def plot_supply(results: Any, by: str = "town", *, names: Sequence[str] | None = None, top: int = 6,
                smooth_days: int = 7, layout: str | None = None, ax: Axes | Sequence[Axes] | None = None,
                scenario: Scenario | None = None) -> Figure:
    """Delivered tonnes per day per town (or corridor), median with a 5-95 percent band, stocks beneath.

    Towns are named by their ``name`` (the part before a comma or bracket; the id where a town has
    none). A town the militants lose (captured or settled, from the ``events`` table) is drawn as lost:
    its lines stop where most winters have lost it, and in the panels the days after the median fall
    are hatched.

    Parameters
    ----------
    results : Run, Ensemble or results folder
    by : {"town", "corridor"}
        ``town``: deliveries recorded by each town; ``corridor``: tonnes of delivered convoys by the
        corridor of their source (the source id when it has none), stocks of all militant towns beneath.
    names : list of str, optional
        Towns (ids) or corridors to draw; default the ``top`` largest by median total delivered.
    smooth_days : int
        Trailing mean over this many days per replication before the quantiles (convoys arrive in lumps).
    layout : {"panels", "overlay"}, optional
        ``panels``: small multiples, one panel per town (flows above, stock beneath); ``overlay``: every
        town on one pair of axes. Default: panels by town, overlay by corridor or when ``ax`` is given.
    ax : Axes or pair of Axes, optional
        One axes: flows only. Two: flows and stocks. Default: a new figure with both.
    scenario : Scenario, optional

    Returns
    -------
    Figure
    """
    if by not in ("town", "corridor"):
        raise ValueError(f"by: must be 'town' or 'corridor', got '{by}'")
    layout = layout or ("panels" if by == "town" and ax is None else "overlay")
    if layout not in ("panels", "overlay") or (layout == "panels" and (by != "town" or ax is not None)):
        raise ValueError(f"layout: 'panels' (by town, on a new figure) or 'overlay', got '{layout}'")
    res = as_results(results, scenario)
    days = res.days()
    if by == "town":
        flow, keys, _ = res.grid("towns", "delivered_t", "town", days=days)  # scanned, chunk by chunk
    else:
        flow, keys = _corridor_flow(res, days)
    chosen = _chosen(flow, keys, names, top, by)
    n = flow.shape[0]
    smooth = rolling(flow[:, :, [keys.index(c) for c in chosen]], smooth_days)  # the towns drawn only
    keys = list(chosen)  # smooth's third axis
    del flow
    behind = f"median and 5-95 % band, {n_label(n)}" if n > 1 else f"replication {int(res.replication_ids()[0])}"
    ylabel = f"delivered (t/day, {smooth_days}-day mean)" if smooth_days > 1 else "delivered (t/day)"
    if layout == "panels":
        return _panels(res, days, smooth, keys, chosen, behind, ylabel)
    fig, ax_flow, ax_stock = _supply_axes(ax)
    x = res.dates(days)
    label = _town_names(res) if by == "town" else {}
    for i, name in enumerate(chosen):
        median_band(ax_flow, x, smooth[:, :, keys.index(name)], COLORS[i % len(COLORS)], label.get(name, str(name)))
    what = "town" if by == "town" else "corridor of the source"
    ax_flow.set_ylabel(ylabel)
    ax_flow.set_title(f"Supply delivered by {what}: {behind}", loc="left", fontsize="medium")
    ax_flow.set_ylim(bottom=0)
    ax_flow.grid(alpha=0.3)
    outside_legend(ax_flow, title=by)
    if ax_stock is not None:
        _draw_stocks(ax_stock, res, days, x, chosen if by == "town" else None, label)
    else:
        ax_flow.set_xlabel("date")
    date_axis(ax_flow)
    return fig


def _panels(res: Results, days: np.ndarray, smooth: np.ndarray, keys: list[Any],
            chosen: list[Any], behind: str, ylabel: str) -> Figure:
    """Small multiples: per town its deliveries above and its stock beneath, hatched once it is lost."""
    stock, tkeys, _ = res.grid("towns", "stock_t", "town", days=days)
    held = _still_held(res, stock.shape, tkeys)
    kinds = _fall_kinds(res)
    label = _town_names(res)
    ncols = 1 if len(chosen) == 1 else 2
    nrows = max(1, math.ceil(len(chosen) / ncols))
    fig = Figure(figsize=(11, 0.8 + 3.1 * nrows), layout="constrained")
    gs = fig.add_gridspec(2 * nrows, ncols, height_ratios=[3, 2] * nrows)
    x = res.dates(days)
    first: Axes | None = None
    for i, name in enumerate(chosen):
        r, c = divmod(i, ncols)
        a_flow = fig.add_subplot(gs[2 * r, c], sharex=first)
        first = first or a_flow
        a_stock = fig.add_subplot(gs[2 * r + 1, c], sharex=first)
        k, color = tkeys.index(name), COLORS[i % len(COLORS)]
        h = held[:, :, k]
        _held_band(a_flow, x, smooth[:, :, keys.index(name)], h, color, "delivered", cross=False)
        _held_band(a_stock, x, stock[:, :, k], h, color, "stock")
        fall = _mark_fall(a_flow, a_stock, x, h, kinds.get(str(name), "captured"))
        a_flow.set_title(f"{label.get(name, str(name))}{fall}", loc="left", fontsize="medium")
        a_flow.tick_params(labelbottom=False)
        for a, what in ((a_flow, ylabel if c == 0 else ""), (a_stock, "stock (t)" if c == 0 else "")):
            a.set_ylim(bottom=0)
            a.grid(alpha=0.3)
            a.set_ylabel(what, fontsize="small")
        date_axis(a_stock)
    fig.suptitle(f"Supply delivered by town and stock while held: {behind}", x=0.01, ha="left",
                 fontsize="medium")
    return fig


def _fall_kinds(res: Results) -> dict[str, str]:
    """Town -> how it is most often lost (``captured`` or ``settled``), from the events table."""
    ev = res.table("events", ["town", "event"])
    if not len(ev):
        return {}
    first = ev.assign(town=ev["town"].astype(str), event=ev["event"].astype(str)).drop_duplicates(
        ["replication", "town"])
    return {str(t): str(g.mode().iloc[0]) for t, g in first.groupby("town")["event"]}


def _mark_fall(a_flow: Axes, a_stock: Axes, x: np.ndarray, held: np.ndarray, kind: str) -> str:
    """Hatch both axes from the median day the town is lost (where most winters lose it); the title's note."""
    lost = held[:, -1] == 0
    if not lost.any():
        return ""
    day = int(np.median(held[lost].sum(axis=1)))
    if lost.mean() < 0.5:
        return f" ({kind} in {lost.mean():.0%} of winters)"
    one = np.timedelta64(1, "D")
    for a in (a_flow, a_stock):
        a.axvspan(x[min(day, len(x) - 1)], x[-1] + one, facecolor="none", edgecolor="#9a9a9a", hatch="///",
                  linewidth=0, zorder=0, gid="lost")
    a_stock.text(0.99, 0.92, kind, transform=a_stock.transAxes, ha="right", va="top", fontsize="small",
                 color="#555555")
    when = f"{x[min(day, len(x) - 1)].astype(object):%d %b %Y}"
    share = "" if lost.all() else f", {lost.mean():.0%} of winters"
    return f": {kind} {when}{' (median)' if not lost.all() else ''}{share}"


def _corridor_flow(res: Results, days: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """(R, D, K) tonnes of delivered convoys per arrival day by the corridor of their source, and the K keys.

    Every replication has its row, even one with no delivery at all.
    """
    corr = {}
    if res.scenario is not None:
        corr = {n.id: n.corridor or n.id for n in res.scenario.nodes if n.kind == "source"}
    src = next(res.chunks("convoys", ["source"]))["source"]  # every chunk has the run's sources as categories
    seen = [str(s) for s in (src.cat.categories if hasattr(src, "cat") else src.unique())]
    keys = sorted(set(corr.values()) | {corr.get(s, s) for s in seen})  # a source of no node keeps its id
    flow, _, _ = res.grid("convoys", "tonnes", "source", index="arrived_day", keys=keys, days=days,
                          where=lambda c: index_of(c["fate"], ["delivered"]) >= 0, extra=["fate"],
                          key_of=lambda s: corr.get(s, s))
    return flow, keys


def _chosen(flow: np.ndarray, keys: list[Any], names: Sequence[str] | None, top: int, by: str) -> list[Any]:
    """The keys to draw: ``names`` (all known, or an error), else the ``top`` largest by median total."""
    totals = np.median(flow.sum(axis=1), axis=0)
    order = [keys[i] for i in np.argsort(-totals, kind="stable")]
    chosen = [n for n in (names or order[:top]) if n in keys]
    if names and len(chosen) < len(names):
        missing = sorted(set(names) - set(keys))
        raise ValueError(f"names: unknown {by}(s) {', '.join(missing)} (have {', '.join(keys)})")
    return chosen


def _supply_axes(ax: Axes | Sequence[Axes] | None) -> tuple[Figure, Axes, Axes | None]:
    """The figure, the flow axes and the stock axes (None when one axes was given)."""
    if ax is None:
        fig = Figure(figsize=(10, 6.5), layout="constrained")
        ax_flow, ax_stock = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        return fig, ax_flow, ax_stock
    if isinstance(ax, Axes):
        return figure_of(ax), ax, None
    return figure_of(ax[0]), ax[0], ax[1]


def _town_names(res: Results) -> dict[str, str]:
    """Town id -> its short name (``"al-Nabk"`` for ``nabk``), where the scenario names it."""
    if res.scenario is None:
        return {}
    return {n.id: n.name.split(",")[0].split(" (")[0] for n in res.scenario.nodes if n.kind == "town" and n.name}


def _held_band(ax: Axes, x: np.ndarray, stock: np.ndarray, held: np.ndarray, color: str, label: str,
               cross: bool = True) -> None:
    """Median and 5-95 % band of a town's stock over the replications still holding it (R, D each).

    Drawn while at least half the replications hold the town; where most have lost it (captured or
    settled) the line ends, with a cross on the median day of its fall (unless ``cross`` is False).
    """
    keep = held.mean(axis=0) >= 0.5
    vals = np.where((held > 0) & keep, stock, np.nan)
    vals[:, ~keep] = 0.0  # no all-NaN day: those are blanked below
    lo, mid, hi = (np.where(keep, q, np.nan) for q in np.nanquantile(vals, [0.05, 0.5, 0.95], axis=0))
    if stock.shape[0] > 1:
        ax.fill_between(x, lo, hi, color=color, alpha=0.15, linewidth=0)
    ax.plot(x, mid, color=color, lw=1.6, label=label)
    lost = held[:, -1] == 0
    if cross and lost.mean() >= 0.5:
        day = int(np.median(held[lost].sum(axis=1)))
        ax.plot(x[min(day, len(x) - 1)], 0, marker="x", ms=7, mew=2, color=color, ls="", clip_on=False)


def _draw_stocks(ax: Axes, res: Results, days: np.ndarray, x: np.ndarray,
                 chosen: list[Any] | None, label: dict[str, str] | None = None) -> None:
    """Stocks beneath the flows: of each ``chosen`` town while held, or (None) of all towns still militant-held."""
    stock, tkeys, _ = res.grid("towns", "stock_t", "town", days=days)
    if chosen is not None:
        held = _still_held(res, stock.shape, tkeys)
        for i, name in enumerate(chosen):
            k = tkeys.index(name)
            _held_band(ax, x, stock[:, :, k], held[:, :, k], COLORS[i % len(COLORS)], (label or {}).get(name, name))
        ax.set_ylabel("stock while held (t, end of day)")
        ax.set_title("x: the median day the town is captured or settles (where most winters see it)",
                     loc="left", fontsize="small")
    else:
        held = _still_held(res, stock.shape, tkeys)
        median_band(ax, x, (stock * held).sum(axis=2), "#555555", "towns not yet\ncaptured or settled")
        ax.set_ylabel("stock of militant towns (t)")
        outside_legend(ax)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_xlabel("date")
    date_axis(ax)


def _still_held(res: Results, shape: tuple[int, ...], towns: list[Any]) -> np.ndarray:
    """(R, D, K) True while a town is still held by the militants (before its capture or settlement)."""
    held = np.ones(shape, dtype=bool)
    ev = res.table("events", ["day", "town", "event"])
    if len(ev):
        reps = res.replication_ids()
        first = ev.groupby(["replication", ev["town"].astype(str)])["day"].min().reset_index()
        rep = first["replication"].to_numpy(dtype=np.int64)
        i = np.minimum(np.searchsorted(reps, rep), len(reps) - 1)
        k = pd.Index(list(towns)).get_indexer(first["town"])
        ok = (reps[i] == rep) & (k >= 0)
        day = first["day"].to_numpy(dtype=np.int64)[ok]
        held[i[ok], :, k[ok]] = np.arange(shape[1])[None, :] < day[:, None]  # held before its first event
    return held
