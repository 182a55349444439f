"""Figures of a run or an ensemble: supply flows, share of the corridor cut, snow, the network, the claim.

Every function takes what the engine or the ensemble produced -- a :class:`~qalamoun_sim.results.Run`,
an :class:`~qalamoun_sim.ensemble.Ensemble`, or a results folder -- and an optional matplotlib ``ax``,
and returns the :class:`~matplotlib.figure.Figure`. Figures are made with the object-oriented API
(``matplotlib.figure.Figure``, no ``pyplot``), so they draw on any backend, Agg included, and leave
no global state behind. Plotting reads results; it never simulates (design.md s.1).

A run does not carry its scenario; pass ``scenario=`` for the figures that need route capacities,
corridors or node positions (without it, the bundled default scenario is used when its routes match).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, PowerNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from .claim import ClaimShares
from .closures import limits_of_routes
from .errors import QalamounError, ResultsError
from .metrics import METRICS, capacity_cut_share, connectivity_cut_share, count_cut_share
from .network import RouteNetwork
from .scenario import Scenario

__all__ = ["Results", "as_results", "load_results", "corridor_share_frame", "plot_supply", "plot_share_cut",
           "plot_snow_depth", "plot_network_map", "plot_claim_distribution", "plot_sweep", "plot_criticality",
           "plot_all", "FIGURES"]

#: File names written by :func:`plot_all`, in order.
FIGURES: tuple[str, ...] = ("supply_towns.png", "supply_corridors.png", "share_cut.png", "snow_depth.png",
                            "network_map.png", "claim_distribution.png")

_DEPTH_COL = re.compile(r"^depth_(-?[\d.]+)m_cm$")
_SNOW_STATES = ("snow", "both")
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
_SIDE_COLORS = {"militant": "#c0392b", "army": "#2c3e50", "neutral": "#7f8c8d"}
_KIND_MARKERS = {"source": "^", "town": "o", "junction": ".", "pass": "v", "base": "s"}


# ---------------------------------------------------------------------------- results adapter
@dataclass
class Results:
    """A uniform view of a run or an ensemble: tables with a ``replication`` column, and the scenario.

    Build it with :func:`as_results`.
    """

    source: Any
    scenario: Scenario | None
    label: str

    def table(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One table with a ``replication`` column (``routes``, ``towns``, ``convoys``, ``weather``, ``events``)."""
        src = self.source
        if hasattr(src, "table"):  # Ensemble
            cols = None if columns is None else list(dict.fromkeys(["replication", *columns]))
            return src.table(name, columns=cols)
        df = getattr(src, name)  # Run
        df = df.assign(replication=int(src.replication))
        return df if columns is None else df[list(dict.fromkeys(["replication", *columns]))]

    @property
    def n_replications(self) -> int:
        """Replications held."""
        if hasattr(self.source, "table"):
            return int(self.table("weather", ["day"])["replication"].nunique())
        return 1

    def need_scenario(self) -> Scenario:
        """The scenario, or a clear error when a figure needs it and none is known."""
        if self.scenario is None:
            raise ValueError(f"{self.label}: this figure needs the scenario; pass scenario=...")
        return self.scenario

    def start(self) -> dt.date:
        """The first simulated date."""
        if self.scenario is not None:
            return self.scenario.scenario.start
        d = self.table("weather", ["date"])["date"].min()
        return pd.Timestamp(d).date()

    def dates(self, days: np.ndarray) -> np.ndarray:
        """Calendar dates (datetime64[D]) of simulation days."""
        return np.datetime64(self.start(), "D") + np.asarray(days, dtype="timedelta64[D]")


def _default_if_matching(route_ids: Sequence[str]) -> Scenario | None:
    from .scenario import load_scenario

    scn = load_scenario()
    return scn if [r.id for r in scn.routes] == list(route_ids) else None


def as_results(results: Any, scenario: Scenario | None = None) -> Results:
    """Wrap a Run, an Ensemble, a results folder (path) or a :class:`Results` for plotting.

    Parameters
    ----------
    results : Run, Ensemble, Results, str or Path
    scenario : Scenario, optional
        Needed for a run whose routes are not those of the bundled default scenario.
    """
    if isinstance(results, Results):
        if scenario is not None:
            return Results(results.source, scenario, results.label)
        return results
    if isinstance(results, str | Path):
        return load_results(results, scenario)
    if hasattr(results, "table") and hasattr(results, "summary"):  # Ensemble
        if scenario is None:
            try:
                scenario = results.scenario
            except (OSError, ValueError, QalamounError):
                scenario = None
        label = str(results.folder) if getattr(results, "folder", None) is not None else "ensemble"
        return Results(results, scenario, label)
    if hasattr(results, "routes") and hasattr(results, "towns"):  # Run
        if scenario is None:
            routes = results.routes["route"]
            ids = list(routes.cat.categories) if hasattr(routes, "cat") else list(dict.fromkeys(routes))
            scenario = _default_if_matching([str(r) for r in ids])
        return Results(results, scenario, f"replication {results.replication}")
    raise TypeError(f"cannot plot a {type(results).__name__}: give a Run, an Ensemble or a results folder")


def load_results(folder: str | Path, scenario: Scenario | None = None) -> Results:
    """Open a results folder written by ``qalamoun-sim run --out`` (or ``run_ensemble(out=...)``).

    Raises
    ------
    ResultsError
        A missing folder, or one without readable results (one line, for the command line).
    """
    from .ensemble import Ensemble

    path = Path(folder)
    if not path.exists():
        raise ResultsError(f"{path}: no such results folder")
    if not path.is_dir():
        raise ResultsError(f"{path}: not a folder")
    try:
        ens = Ensemble(path)
        ens.table("weather", columns=["replication", "day"])  # are there tables at all?
        scn = scenario or ens.scenario
    except ResultsError:
        raise
    except QalamounError as exc:
        raise ResultsError(f"{path}: bad scenario.json: {exc}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultsError(f"{path}: cannot read results: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") \
            from None
    return Results(ens, scn, str(path))


# ---------------------------------------------------------------------------- shared helpers
def _new_figure(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _date_axis(ax: Axes) -> None:
    loc = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _grid(df: pd.DataFrame, index: str, column: str, value: str, columns: Sequence[Any] | None = None,
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


def _rolling(a: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` days along axis 1 (shorter at the start)."""
    if window <= 1:
        return a
    c = np.cumsum(a, axis=1)
    out = c.copy()
    out[:, window:] = c[:, window:] - c[:, :-window]
    n = np.minimum(np.arange(1, a.shape[1] + 1), window)
    return out / n[None, :, None]


def _band(ax: Axes, x: np.ndarray, values: np.ndarray, color: str, label: str) -> None:
    """Median line and 5-95 percent band of (R, D) values."""
    lo, mid, hi = np.quantile(values, [0.05, 0.5, 0.95], axis=0)
    if values.shape[0] > 1:
        ax.fill_between(x, lo, hi, color=color, alpha=0.15, linewidth=0)
    ax.plot(x, mid, color=color, lw=1.6, label=label)


def _outside_legend(ax: Axes, **kw: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                  fontsize="small", frameon=False, **kw)


# ---------------------------------------------------------------------------- supply flows
def plot_supply(results: Any, by: str = "town", *, names: Sequence[str] | None = None, top: int = 6,
                smooth_days: int = 7, ax: Axes | Sequence[Axes] | None = None,
                scenario: Scenario | None = None) -> Figure:
    """Delivered tonnes per day per town (or corridor), median with a 5-95 percent band, stocks beneath.

    Parameters
    ----------
    results : Run, Ensemble or results folder
    by : {"town", "corridor"}
        ``town``: deliveries recorded by each town; ``corridor``: tonnes of delivered convoys by the
        corridor of their source (the source id when it has none), stocks of all militant towns beneath.
    names : list of str, optional
        Towns or corridors to draw; default the ``top`` largest by median total delivered.
    smooth_days : int
        Trailing mean over this many days per replication before the quantiles (convoys arrive in lumps).
    ax : Axes or pair of Axes, optional
        One axes: flows only. Two: flows and stocks. Default: a new figure with both.
    scenario : Scenario, optional

    Returns
    -------
    Figure
    """
    if by not in ("town", "corridor"):
        raise ValueError(f"by: must be 'town' or 'corridor', got '{by}'")
    res = as_results(results, scenario)
    towns = res.table("towns", ["day", "town", "delivered_t", "stock_t"])
    days = np.arange(int(towns["day"].max()) + 1)
    if by == "town":
        flow, keys, _ = _grid(towns, "day", "town", "delivered_t", days=days)
    else:
        conv = res.table("convoys", ["source", "arrived_day", "tonnes", "fate"])
        conv = conv[(conv["fate"].astype(str) == "delivered") & conv["arrived_day"].notna()]
        corr = {}
        if res.scenario is not None:
            corr = {n.id: n.corridor or n.id for n in res.scenario.nodes if n.kind == "source"}
        conv = conv.assign(corridor=conv["source"].astype(str).map(lambda s: corr.get(s, s)),
                           arrived_day=conv["arrived_day"].astype(int))
        # every replication appears, even one with no delivery at all
        reps = np.sort(towns["replication"].unique())
        flow = np.zeros((len(reps), len(days), 0))
        keys = sorted(set(corr.values()) | set(conv["corridor"]))
        if keys:
            g, _, greps = _grid(conv, "arrived_day", "corridor", "tonnes", columns=keys, days=days) if len(conv) \
                else (np.zeros((0, len(days), len(keys))), keys, np.array([], dtype=int))
            flow = np.zeros((len(reps), len(days), len(keys)))
            flow[np.searchsorted(reps, greps)] = g
    totals = np.median(flow.sum(axis=1), axis=0)
    order = [keys[i] for i in np.argsort(-totals, kind="stable")]
    chosen = [n for n in (names or order[:top]) if n in keys]
    if names and len(chosen) < len(names):
        missing = sorted(set(names) - set(keys))
        raise ValueError(f"names: unknown {by}(s) {', '.join(missing)} (have {', '.join(keys)})")

    if ax is None:
        fig = Figure(figsize=(10, 6.5), layout="constrained")
        ax_flow, ax_stock = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    elif isinstance(ax, Axes):
        fig, ax_flow, ax_stock = ax.figure, ax, None
    else:
        ax_flow, ax_stock = ax[0], ax[1]
        fig = ax_flow.figure
    x = res.dates(days)
    smooth = _rolling(flow, smooth_days)
    for i, name in enumerate(chosen):
        _band(ax_flow, x, smooth[:, :, keys.index(name)], _COLORS[i % len(_COLORS)], str(name))
    what = "town" if by == "town" else "corridor of the source"
    ax_flow.set_ylabel(f"delivered (t/day, {smooth_days}-day mean)" if smooth_days > 1 else "delivered (t/day)")
    n = flow.shape[0]
    ax_flow.set_title(f"Supply delivered by {what}: median" + (f" and 5-95 % band of {n} replications" if n > 1
                                                              else f" (replication {int(towns['replication'].iloc[0])})"),
                      loc="left", fontsize="medium")
    ax_flow.set_ylim(bottom=0)
    ax_flow.grid(alpha=0.3)
    _outside_legend(ax_flow, title=by)
    if ax_stock is not None:
        stock, tkeys, _ = _grid(towns, "day", "town", "stock_t", days=days)
        if by == "town":
            for i, name in enumerate(chosen):
                _band(ax_stock, x, stock[:, :, tkeys.index(name)], _COLORS[i % len(_COLORS)], str(name))
            ax_stock.set_ylabel("stock (t, end of day)")
        else:
            held = _still_held(res, stock.shape, tkeys)
            _band(ax_stock, x, (stock * held).sum(axis=2), "#555555", "towns not yet\ncaptured or settled")
            ax_stock.set_ylabel("stock of militant towns (t)")
            _outside_legend(ax_stock)
        ax_stock.set_ylim(bottom=0)
        ax_stock.grid(alpha=0.3)
        ax_stock.set_xlabel("date")
        _date_axis(ax_stock)
    else:
        ax_flow.set_xlabel("date")
    _date_axis(ax_flow)
    return fig


def _still_held(res: Results, shape: tuple[int, ...], towns: list[Any]) -> np.ndarray:
    """(R, D, K) 1 while a town is still held by the militants (before its capture or settlement), else 0."""
    held = np.ones(shape)
    ev = res.table("events", ["day", "town", "event"])
    if len(ev):
        reps = np.sort(res.table("towns", ["day"])["replication"].unique())
        first = ev.groupby(["replication", ev["town"].astype(str)])["day"].min()
        for (rep, town), day in first.items():
            if town in towns and rep in reps:
                held[np.searchsorted(reps, rep), int(day):, towns.index(town)] = 0.0
    return held


# ---------------------------------------------------------------------------- share of the corridor cut
def _factor_arrays(routes: pd.DataFrame, net: RouteNetwork, scn: Scenario) -> dict[str, np.ndarray]:
    """(R, D, N) snow factor, total factor, snow-closed and interdicted arrays from a routes table.

    The routes table holds the combined capacity factor and the state. The snow factor is exact:
    open -> the capacity factor; snow or both -> 0; interdicted (snow left it open) -> the surface's
    slowed factor when the depth reached its slowed limit, else 1.
    """
    reps = np.sort(routes["replication"].unique())
    days = int(routes["day"].max()) + 1
    r = np.searchsorted(reps, routes["replication"].to_numpy())
    d = routes["day"].to_numpy(dtype=int)
    k = routes["route"].astype(str).map(net.route_index)
    if k.isna().any():
        raise ValueError(f"routes table names routes not in the scenario: {sorted(set(routes['route'][k.isna()]))[:5]}")
    k = k.to_numpy(dtype=int)
    state = routes["state"].astype(str).to_numpy()
    cf = routes["capacity_factor"].to_numpy(dtype=float)
    limits = limits_of_routes(net, scn.snow)
    slowed_cm = np.array([lim.slowed_cm for lim in limits])[k]
    slowed_f = np.array([lim.slowed_capacity_factor for lim in limits])[k]
    depth = routes["snow_depth_cm"].to_numpy(dtype=float)
    snow_closed = np.isin(state, _SNOW_STATES)
    interdicted = np.isin(state, ("interdicted", "both"))
    snow_f = np.where(snow_closed, 0.0, np.where(interdicted, np.where(depth >= slowed_cm, slowed_f, 1.0), cf))
    shape = (len(reps), days, net.n_routes)
    out = {"snow_f": np.ones(shape), "total_f": np.ones(shape), "snow_closed": np.zeros(shape, dtype=bool),
           "interdicted": np.zeros(shape, dtype=bool)}
    out["snow_f"][r, d, k] = snow_f
    out["total_f"][r, d, k] = cf
    out["snow_closed"][r, d, k] = snow_closed
    out["interdicted"][r, d, k] = interdicted
    out["replications"] = reps
    return out


def corridor_share_frame(results: Any, metric: str | None = None, corridor: str | None = None,
                         scenario: Scenario | None = None) -> pd.DataFrame:
    """Daily share of a corridor cut by snow, by interdiction (of routes snow left open) and in total.

    The same definitions as :func:`qalamoun_sim.metrics.corridor_shares` (design.md s.5), computed from
    the routes table of a run or an ensemble.

    Parameters
    ----------
    results : Run, Ensemble or results folder
    metric : {"count", "capacity", "connectivity"}, optional
        Default: the scenario's claim metric.
    corridor : str, optional
        Default: the scenario's claim corridor.

    Returns
    -------
    DataFrame
        ``replication``, ``day``, ``date``, ``snow``, ``interdiction``, ``total``.
    """
    res = as_results(results, scenario)
    scn = res.need_scenario()
    metric = metric or scn.claim.metric
    corridor = corridor or scn.claim.corridor
    if metric not in METRICS:
        raise ValueError(f"metric: must be one of {', '.join(METRICS)}, got '{metric}'")
    net = RouteNetwork.from_scenario(scn)
    mask = net.corridor_mask(corridor)
    if not mask.any():
        raise ValueError(f"no route is labelled with corridor '{corridor}' (have: {', '.join(net.corridors())})")
    cols = ["day", "route", "capacity_factor", "state", "snow_depth_cm"]
    a = _factor_arrays(res.table("routes", cols), net, scn)
    if metric == "count":
        snow = count_cut_share(a["snow_closed"], mask)
        total = count_cut_share(a["snow_closed"] | a["interdicted"], mask)
    elif metric == "capacity":
        snow = capacity_cut_share(a["snow_f"], net.capacity_tpd, mask)
        total = capacity_cut_share(a["total_f"], net.capacity_tpd, mask)
    else:
        snow = connectivity_cut_share(net, a["snow_f"], corridor)
        total = connectivity_cut_share(net, a["total_f"], corridor)
    n_rep, n_day = snow.shape
    days = np.tile(np.arange(n_day), n_rep)
    return pd.DataFrame({"replication": np.repeat(a["replications"], n_day), "day": days,
                         "date": res.dates(days), "snow": snow.ravel(),
                         "interdiction": np.maximum(total - snow, 0.0).ravel(), "total": total.ravel()})


def _spans(ax: Axes, x: np.ndarray, weight: np.ndarray, color: str, alpha: float) -> None:
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


def plot_share_cut(results: Any, metric: str | None = None, corridor: str | None = None, *,
                   ax: Axes | None = None, scenario: Scenario | None = None) -> Figure:
    """Share of the claim corridor cut versus date: snow and interdiction stacked, the threshold, storms.

    The stacked areas are means over replications (so they add up to the mean total share); the line
    is the median snow share with its 5-95 percent band dotted. Storm days are shaded (darker where
    more replications had a storm that day); the claim window is marked with dotted verticals.

    Parameters
    ----------
    results : Run, Ensemble, results folder, or :class:`~qalamoun_sim.claim.ClaimShares`
        Claim shares (thousands of replications from the vectorized state) give no storm marks.
    metric, corridor : str, optional
        Default: the scenario's claim metric and corridor.
    """
    if isinstance(results, ClaimShares):
        scn = results.scenario
        metric = metric or scn.claim.metric
        snow = results.daily["snow"][metric]
        inter = results.daily["interdiction"][metric]
        x = np.array(results.dates, dtype="datetime64[D]")
        storm = None
        n = results.n_replications
        corridor = results.corridor
        label = f"{n} replications"
    else:
        res = as_results(results, scenario)
        scn = res.need_scenario()
        metric = metric or scn.claim.metric
        corridor = corridor or scn.claim.corridor
        df = corridor_share_frame(res, metric, corridor)
        n = int(df["replication"].nunique())
        snow = df["snow"].to_numpy().reshape(n, -1)
        inter = df["interdiction"].to_numpy().reshape(n, -1)
        x = res.dates(np.arange(snow.shape[1]))
        w = res.table("weather")
        storm = None if "storm" not in w.columns else \
            w.groupby("day")["storm"].mean().reindex(range(snow.shape[1])).fillna(0).to_numpy()
        label = f"{n} replications" if n > 1 else f"replication {int(df['replication'].iloc[0])}"

    fig, ax = _new_figure(ax, (10, 5.2))
    mean = " (mean)" if n > 1 else ""
    ax.stackplot(x, snow.mean(axis=0), inter.mean(axis=0), colors=["#6baed6", "#fd8d3c"], alpha=0.85,
                 labels=[f"cut by snow{mean}", f"cut by interdiction, of routes snow left open{mean}"])
    if n > 1:
        lo, mid, hi = np.quantile(snow, [0.05, 0.5, 0.95], axis=0)
        ax.plot(x, mid, color="#08306b", lw=1.4, label="snow, median")
        ax.plot(x, lo, color="#08306b", lw=0.7, ls="--", label="snow, 5-95 % of replications")
        ax.plot(x, hi, color="#08306b", lw=0.7, ls="--")
    thr = scn.claim.threshold
    ax.axhline(thr, color="#b2182b", lw=1.5, ls="--", label=f"claim threshold {thr:.0%}", gid="threshold")
    handles, labels = ax.get_legend_handles_labels()
    if storm is not None:
        # storm days as bars above the axes (x in data, y in axes coordinates): height 0.06 x share of replications
        storm = np.asarray(storm, dtype=float)
        band = ax.get_xaxis_transform()
        for xi, h in zip(x, storm, strict=True):
            if h > 0:
                ax.add_patch(Rectangle((mdates.date2num(xi), 1.015), 1.0, 0.06 * h, transform=band, clip_on=False,
                                       color="#444444", linewidth=0, gid="storm"))
        ax.text(-0.005, 1.015, "storm", transform=ax.transAxes, ha="right", va="bottom", fontsize="x-small")
        if n == 1:
            _spans(ax, x, storm, "#444444", 0.15)
        handles.append(Patch(color="#444444", alpha=0.6))
        labels.append("storm days" if n == 1 else "storm (bar height: share of replications)")
    ws, we = scn.claim_window()
    for edge in (np.datetime64(ws, "D"), np.datetime64(we, "D") + np.timedelta64(1, "D")):
        if x[0] <= edge <= x[-1] + np.timedelta64(1, "D"):
            ax.axvline(edge, color="#222222", lw=1.0, ls="-.")
    handles.append(Line2D([], [], color="#222222", lw=1.0, ls="-."))
    labels.append(f"claim window {ws:%d %b} - {we:%d %b}")
    ax.set_ylim(0, 1.0)
    ax.set_xlim(x[0], x[-1])
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel(f"share of '{corridor}' corridor cut ({metric})")
    ax.set_xlabel("date")
    ax.set_title(f"Share of the '{corridor}' corridor cut, {label}", loc="left", fontsize="medium",
                 pad=26 if storm is not None else 6)
    ax.grid(alpha=0.3)
    _date_axis(ax)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize="small",
              frameon=False)
    return fig


# ---------------------------------------------------------------------------- snow depth by elevation
def _spread_labels(ys: list[float], lo: float, hi: float, gap: float) -> list[float]:
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


def _lowest_shown(scn: Scenario, ze: np.ndarray, step: float) -> float:
    """Bottom of the snow heatmap: 300 m below the lowest route's highest point, within the bands."""
    low = float(RouteNetwork.from_scenario(scn).max_elevation_m.min()) - 300.0
    return float(max(ze[0], min(low, ze[-1] - step)))


def plot_snow_depth(results: Any, *, replication: int | None = None, ax: Axes | None = None,
                    scenario: Scenario | None = None) -> Figure:
    """Snow depth by elevation and date (heatmap), with the pass elevations and closure depths marked.

    Parameters
    ----------
    results : Run, Ensemble or results folder
    replication : int, optional
        Draw this replication; default the median depth over replications.
    """
    res = as_results(results, scenario)
    w = res.table("weather")
    cols = [c for c in w.columns if _DEPTH_COL.match(c)]
    if not cols:
        raise ValueError(f"{res.label}: the weather table has no depth_<elevation>m_cm columns")
    z = np.array([float(_DEPTH_COL.match(c).group(1)) for c in cols])  # type: ignore[union-attr]
    order = np.argsort(z)
    z, cols = z[order], [cols[i] for i in order]
    if replication is not None:
        w = w[w["replication"] == replication]
        if w.empty:
            raise ValueError(f"replication {replication} is not in {res.label}")
        what = f"replication {replication}"
    n = int(w["replication"].nunique())
    depth = w.groupby("day")[cols].median().sort_index()
    if replication is None:
        what = f"median of {n} replications" if n > 1 else f"replication {int(w['replication'].iloc[0])}"
    days = depth.index.to_numpy()
    x = res.dates(days)
    xe = np.append(x, x[-1] + np.timedelta64(1, "D"))
    step = float(np.median(np.diff(z))) if len(z) > 1 else 100.0
    ze = np.concatenate([[z[0] - step / 2], (z[:-1] + z[1:]) / 2, [z[-1] + step / 2]])
    values = depth.to_numpy().T  # (bands, days)

    fig, ax = _new_figure(ax, (10, 5.5))
    vmax = max(1.0, float(np.nanmax(values)))
    mesh = ax.pcolormesh(xe, ze, values, cmap="Blues", norm=PowerNorm(0.5, vmin=0, vmax=vmax), shading="flat")
    cb = fig.colorbar(mesh, ax=ax, location="bottom", shrink=0.6, pad=0.02, aspect=40)
    cb.set_label("snow depth (cm)")
    scn = res.scenario
    if scn is not None:
        xc = x + np.timedelta64(12, "h")
        shown = []
        for surface, color in (("track", "#d95f02"), ("trail", "#7570b3")):
            lim = scn.snow.limits[surface].closed_cm
            if np.nanmax(values) >= lim:
                cs = ax.contour(xc, z, values, levels=[lim], colors=[color], linewidths=1.0)
                ax.clabel(cs, fmt={lim: f"{lim:g} cm"}, fontsize="x-small")
                shown.append(Line2D([], [], color=color, lw=1.0, label=f"{surface}s close ({lim:g} cm)"))
        passes = sorted((n_.elevation_m, n_.id) for n_ in scn.nodes if n_.kind == "pass")
        if passes:
            low = _lowest_shown(scn, ze, step)
            ys = _spread_labels([p[0] for p in passes], low, ze[-1], 0.045 * (ze[-1] - low))
            for (elev, name), y in zip(passes, ys, strict=True):
                ax.axhline(elev, color="#e31a1c", lw=0.7, ls="--", alpha=0.8)
                ax.annotate(f"{name} {elev:.0f} m", xy=(1.0, elev), xycoords=("axes fraction", "data"),
                            xytext=(1.015, y), textcoords=("axes fraction", "data"), fontsize="x-small",
                            va="center", arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "#e31a1c"})
            shown.append(Line2D([], [], color="#e31a1c", lw=0.7, ls="--", label="pass elevation"))
        if shown:
            ax.legend(handles=shown, loc="lower left", bbox_to_anchor=(1.01, 0.0), fontsize="small",
                      frameon=False, borderaxespad=0.0)
        ax.set_ylim(_lowest_shown(scn, ze, step), ze[-1])
    ax.set_ylabel("elevation (m)")
    ax.set_xlabel("date")
    ax.set_title(f"Snow depth by elevation, {what}", loc="left", fontsize="medium")
    _date_axis(ax)
    return fig


# ---------------------------------------------------------------------------- network map
def plot_network_map(results: Any, *, cause: str = "any", ax: Axes | None = None,
                     scenario: Scenario | None = None) -> Figure:
    """The network on longitude and latitude, routes coloured by how often they were closed.

    Parameters
    ----------
    results : Run, Ensemble or results folder
    cause : {"any", "snow", "interdiction"}
        Count a route-day as closed when its capacity factor is 0 (``any``), when snow closed it, or
        when interdiction did.
    """
    if cause not in ("any", "snow", "interdiction"):
        raise ValueError(f"cause: must be any, snow or interdiction, got '{cause}'")
    res = as_results(results, scenario)
    scn = res.need_scenario()
    net = RouteNetwork.from_scenario(scn)
    rt = res.table("routes", ["route", "capacity_factor", "state"])
    state = rt["state"].astype(str)
    closed = {"any": rt["capacity_factor"] <= 0.0, "snow": state.isin(_SNOW_STATES),
              "interdiction": state.isin(("interdicted", "both"))}[cause]
    share = closed.groupby(rt["route"].astype(str)).mean().reindex(list(net.route_ids)).fillna(0.0).to_numpy()

    fig, ax = _new_figure(ax, (9, 8))
    pos = {n.id: (n.lon, n.lat) for n in net.nodes.values()}
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
    cmap = "plasma"
    lc = LineCollection(segs, array=share, cmap=cmap, norm=Normalize(0, 1), linewidths=widths, zorder=1,
                        capstyle="round")
    ax.add_collection(lc)
    cb = fig.colorbar(lc, ax=ax, shrink=0.6, pad=0.02)
    what = {"any": "snow or interdiction", "snow": "snow", "interdiction": "interdiction"}[cause]
    cb.set_label(f"share of days closed ({what})")
    cb.ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    kinds_drawn = []
    for kind, marker in _KIND_MARKERS.items():
        ns = [n for n in net.nodes.values() if n.kind == kind]
        if not ns:
            continue
        kinds_drawn.append(kind)
        ax.scatter([n.lon for n in ns], [n.lat for n in ns], marker=marker, s=70 if kind != "junction" else 60,
                   c=[_SIDE_COLORS[n.side] for n in ns], edgecolors="white", linewidths=0.8, zorder=3)
    for n in net.nodes.values():
        if n.kind == "junction":
            continue
        short = n.name.split(",")[0].split(" (")[0] if n.name and n.kind in ("town", "source") else n.id
        offset, ha = {"pass": ((-5, -9), "right"), "base": ((5, -9), "left")}.get(n.kind, ((4, 4), "left"))
        ax.annotate(short, (n.lon, n.lat), xytext=offset, textcoords="offset points", fontsize="x-small", ha=ha,
                    zorder=4, color="#222222" if n.kind in ("town", "source") else "#555555",
                    path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
    handles = [Line2D([], [], marker=_KIND_MARKERS[k], ls="", color="#555555", label=k) for k in kinds_drawn]
    handles += [Patch(color=c, label=f"{s} held") for s, c in _SIDE_COLORS.items()
                if any(n.side == s for n in net.nodes.values())]
    handles.append(Line2D([], [], color="#888888", lw=0.8 + 1.4 * 2, label="width: capacity (log)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.08), ncol=5, fontsize="small",
              frameon=False)
    lats = [p[1] for p in pos.values()]
    ax.set_aspect(1.0 / math.cos(math.radians(float(np.mean(lats)))))
    ax.autoscale_view()
    ax.margins(0.06)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    n = int(rt["replication"].nunique())
    ax.set_title(f"Routes by share of days closed, {n} replication{'s' if n > 1 else ''} x {scn.scenario.days} days",
                 loc="left", fontsize="medium")
    ax.grid(alpha=0.2)
    return fig


# ---------------------------------------------------------------------------- claim distribution
def _claim_statistic(results: Any, scenario: Scenario | None) -> tuple[Scenario, np.ndarray, np.ndarray, np.ndarray]:
    """Scenario, (R, D) snow and total shares of the claim metric, and the window mask."""
    if isinstance(results, ClaimShares):
        scn = results.scenario
        m = scn.claim.metric
        return scn, results.daily["snow"][m], results.daily["total"][m], results.window_mask()
    res = as_results(results, scenario)
    scn = res.need_scenario()
    df = corridor_share_frame(res)
    n = int(df["replication"].nunique())
    snow = df["snow"].to_numpy().reshape(n, -1)
    total = df["total"].to_numpy().reshape(n, -1)
    ws, we = scn.claim_window()
    dates = res.dates(np.arange(snow.shape[1]))
    window = (dates >= np.datetime64(ws, "D")) & (dates <= np.datetime64(we, "D"))
    return scn, snow, total, window


def plot_claim_distribution(results: Any, *, bins: int = 25, ax: Axes | None = None,
                            scenario: Scenario | None = None) -> Figure:
    """Distribution across replications of the claim statistic against the threshold.

    The statistic is a replication's mean, over the claim window, of the daily share of the corridor
    cut by snow (the claim metric); the outline shows snow and interdiction together. The text gives
    P(claim holds): the share of replications where snow reaches the threshold on at least
    ``min_fraction_of_days`` of the window's days.

    Parameters
    ----------
    results : Run, Ensemble, results folder or :class:`~qalamoun_sim.claim.ClaimShares`
    """
    scn, snow, total, window = _claim_statistic(results, scenario)
    if not window.any():
        raise ValueError("the claim window holds no simulated day")
    cfg = scn.claim
    stat_snow = snow[:, window].mean(axis=1)
    stat_total = total[:, window].mean(axis=1)
    holds = ((snow >= cfg.threshold - 1e-12)[:, window].mean(axis=1) >= cfg.min_fraction_of_days).mean()
    fig, ax = _new_figure(ax, (8, 4.8))
    edges = np.linspace(0, 1, bins + 1)
    ax.hist(stat_snow, bins=edges, color="#6baed6", edgecolor="white", label="cut by snow")
    ax.hist(stat_total, bins=edges, histtype="step", color="#d94801", lw=1.5, label="cut by snow and interdiction")
    ax.axvline(cfg.threshold, color="#b2182b", lw=1.5, ls="--", label=f"threshold {cfg.threshold:.0%}",
               gid="threshold")
    ax.axvline(float(np.median(stat_snow)), color="#08306b", lw=1.0, label="median, snow")
    n = len(stat_snow)
    ws, we = scn.claim_window()
    ax.text(1.02, 0.55, f"P(claim holds) = {holds:.2f}\n{n} replications\nwindow {ws:%d %b %Y}\n   to {we:%d %b %Y}",
            transform=ax.transAxes, va="top", fontsize="small", gid="claim_probability")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel(f"share of '{cfg.corridor}' corridor cut ({cfg.metric}), mean over the claim window")
    ax.set_ylabel("replications")
    ax.set_title("The 70 percent claim across replications", loc="left", fontsize="medium")
    _outside_legend(ax)
    return fig


# ---------------------------------------------------------------------------- sweeps and criticality
def plot_sweep(frame: pd.DataFrame, *, value: str = "claim_probability", ax: Axes | None = None) -> Figure:
    """A sweep from :func:`qalamoun_sim.sweep.run_sweep`: a line plot (one parameter) or a heatmap (two).

    The parameter columns are those before ``claim_probability``.
    """
    if "claim_probability" not in frame.columns:
        raise ValueError("not a sweep table (no claim_probability column)")
    params = list(frame.columns[:list(frame.columns).index("claim_probability")])
    fig, ax = _new_figure(ax, (8, 5) if len(params) == 1 else (8, 6))
    if len(params) == 1:
        p = params[0]
        vals = frame[p].tolist()
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals)
        x = np.asarray(vals, dtype=float) if numeric else np.arange(len(vals))
        ax.plot(x, frame["claim_probability"], "o-", color="#b2182b", label="P(claim holds)")
        if "snow_share_p50" in frame:
            err = [frame["snow_share_p50"] - frame["snow_share_p05"], frame["snow_share_p95"] - frame["snow_share_p50"]]
            ax.errorbar(x, frame["snow_share_p50"], yerr=err, fmt="s--", color="#2171b5", capsize=3,
                        label="share cut by snow (p50, 5-95 %)")
        if "total_share_p50" in frame:
            ax.plot(x, frame["total_share_p50"], "^:", color="#d94801", label="share cut in total (p50)")
        ax.set_xticks(x, [f"{v:g}" if numeric else str(v) for v in vals])
        ax.set_xlabel(p)
        ax.set_ylabel("probability / share of corridor cut")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        _outside_legend(ax)
    else:
        p, q = params
        xs = list(dict.fromkeys(frame[p].tolist()))
        ys = list(dict.fromkeys(frame[q].tolist()))
        grid = np.full((len(ys), len(xs)), np.nan)
        for _, row in frame.iterrows():
            grid[ys.index(row[q]), xs.index(row[p])] = row[value]
        im = ax.imshow(grid, origin="lower", cmap="RdBu_r", vmin=0, vmax=1, aspect="auto")
        for i in range(len(ys)):
            for j in range(len(xs)):
                if not np.isnan(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize="small",
                            color="white" if abs(grid[i, j] - 0.5) > 0.3 else "black")
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_yticks(range(len(ys)), [str(v) for v in ys])
        ax.set_xlabel(p)
        ax.set_ylabel(q)
        cb = fig.colorbar(im, ax=ax)
        cb.set_label(value.replace("_", " "))
    ax.set_title(f"Sweep: {value.replace('_', ' ')}", loc="left", fontsize="medium")
    return fig


def plot_criticality(frame: pd.DataFrame, *, top: int = 15, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Bars of what losing each route costs (from :func:`qalamoun_sim.critical.route_criticality`).

    Three panels sharing the route axis: delivered supply lost, nominal maximum flow lost, and the
    share of winter days snow closes the route. One ``ax``: the first panel only.
    """
    f = frame.sort_values("rank").head(top).iloc[::-1]
    if ax is None:
        fig = Figure(figsize=(12, 0.35 * len(f) + 1.8), layout="constrained")
        axes = list(fig.subplots(1, 3, sharey=True, width_ratios=[3, 2, 1.4]))
    elif isinstance(ax, Axes):
        fig, axes = ax.figure, [ax]
    else:
        axes = list(ax)
        fig = axes[0].figure
    y = np.arange(len(f))
    corridors = list(dict.fromkeys(frame["corridor"].astype(str)))
    colors = [_COLORS[corridors.index(c) % len(_COLORS)] for c in f["corridor"].astype(str)]
    axes[0].barh(y, f["delivered_loss_t"], color=colors)
    if "delivered_loss_p05_t" in f:
        axes[0].errorbar(f["delivered_loss_t"], y, xerr=[f["delivered_loss_t"] - f["delivered_loss_p05_t"],
                                                         f["delivered_loss_p95_t"] - f["delivered_loss_t"]],
                         fmt="none", ecolor="#333333", lw=0.8, capsize=2)
    axes[0].set_yticks(y, f["route"].astype(str))
    axes[0].set_xlabel("supply delivered lost (t over the horizon; mean, 5-95 %)")
    axes[0].axvline(0, color="#333333", lw=0.6)
    axes[0].grid(axis="x", alpha=0.3)
    if len(axes) > 1:
        axes[1].barh(y, f["max_flow_loss_tpd"], color=colors)
        corr = frame.attrs.get("corridor")
        axes[1].set_xlabel(f"nominal max flow lost, '{corr}' (t/day)" if corr else "nominal max flow lost (t/day)")
        axes[1].grid(axis="x", alpha=0.3)
    if len(axes) > 2:
        axes[2].barh(y, f["snow_closed_share"], color="#6baed6")
        axes[2].set_xlim(0, 1)
        axes[2].xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        axes[2].set_xlabel("winter days closed by snow")
        axes[2].grid(axis="x", alpha=0.3)
    handles = [Patch(color=_COLORS[i % len(_COLORS)], label=c) for i, c in enumerate(corridors)
               if c in set(f["corridor"].astype(str))]
    axes[0].legend(handles=handles, title="corridor", loc="lower right", fontsize="small")
    axes[0].set_title(f"Route criticality: the {len(f)} routes whose loss costs most", loc="left",
                      fontsize="medium")
    return fig


# ---------------------------------------------------------------------------- all of them
def plot_all(results: Any, out_dir: str | Path, *, scenario: Scenario | None = None, dpi: int = 150) -> list[Path]:
    """Write every figure of a run or an ensemble as PNG into ``out_dir`` (created); returns the paths.

    The files are named as in :data:`FIGURES`.
    """
    res = as_results(results, scenario)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    makers = {
        "supply_towns.png": lambda: plot_supply(res, "town"),
        "supply_corridors.png": lambda: plot_supply(res, "corridor"),
        "share_cut.png": lambda: plot_share_cut(res),
        "snow_depth.png": lambda: plot_snow_depth(res),
        "network_map.png": lambda: plot_network_map(res),
        "claim_distribution.png": lambda: plot_claim_distribution(res),
    }
    written = []
    for name in FIGURES:
        if name == "claim_distribution.png" and res.scenario is not None and not _has_window(res):
            continue  # a horizon that misses the claim window has no claim statistic
        fig = makers[name]()
        path = out / name
        fig.savefig(path, dpi=dpi)
        written.append(path)
    return written


def _has_window(res: Results) -> bool:
    scn = res.need_scenario()
    ws, we = scn.claim_window()
    start = scn.scenario.start
    end = start + dt.timedelta(days=scn.scenario.days - 1)
    return ws <= end and we >= start
