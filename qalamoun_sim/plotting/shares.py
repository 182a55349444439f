"""The share of a corridor cut (by count, capacity or connectivity) and the claim's distribution."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from ..analysis.claim import ClaimShares, claim_holds, days_at_threshold, wilson_interval, window_mask
from ..analysis.metrics import METRICS, corridor_shares, held_by_day
from ..environment.closures import limits_of_routes
from ..environment.state import ROUTE_STATES, ExogenousState
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from ._style import SNOW_STATES, date_axis, n_label, new_figure, outside_legend, spans
from .data import as_results, index_of

__all__ = ["corridor_share_frame", "plot_share_cut", "plot_claim_distribution"]


def _factor_arrays(routes: pd.DataFrame, net: RouteNetwork, scn: Scenario) -> dict[str, np.ndarray]:
    """(R, D, N) snow factor and interdicted arrays from (a chunk of) a routes table, and its R replications.

    The routes table holds the combined capacity factor and the state. The snow factor is exact:
    open -> the capacity factor; snow or both -> 0; interdicted (snow left it open) -> the surface's
    slowed factor when the depth reached its slowed limit, else 1. Rows in the order a run writes them
    (replication, day, route; every cell once) are reshaped; others are placed cell by cell.
    """
    rep = routes["replication"].to_numpy(dtype=np.int64)
    lo = int(rep.min()) if len(rep) else 0
    seen = np.bincount(rep - lo) > 0 if len(rep) else np.zeros(0, bool)
    reps = np.flatnonzero(seen) + lo  # sorted, as np.unique, in one pass
    days = int(routes["day"].max()) + 1
    k = index_of(routes["route"], list(net.route_ids))  # through the categories: one lookup per route id
    if (k < 0).any():
        raise ValueError(f"routes table names routes not in the scenario: "
                         f"{sorted(set(routes['route'].astype(str)[k < 0]))[:5]}")
    code = index_of(routes["state"], ROUTE_STATES)
    is_snow, is_strike = np.zeros(len(ROUTE_STATES) + 1, bool), np.zeros(len(ROUTE_STATES) + 1, bool)
    is_snow[[ROUTE_STATES.index(s) for s in SNOW_STATES]] = True
    is_strike[[ROUTE_STATES.index(s) for s in ("interdicted", "both")]] = True
    snow_closed, interdicted = is_snow[code], is_strike[code]
    cf = routes["capacity_factor"].to_numpy(dtype=float)
    limits = limits_of_routes(net, scn.snow)
    slowed_cm = np.array([lim.slowed_cm for lim in limits])[k]
    slowed_f = np.array([lim.slowed_capacity_factor for lim in limits])[k]
    depth = routes["snow_depth_cm"].to_numpy(dtype=float)
    snow_f = np.where(snow_closed, 0.0, np.where(interdicted, np.where(depth >= slowed_cm, slowed_f, 1.0), cf))
    shape = (len(reps), days, net.n_routes)
    r = rep - reps[0] if len(reps) and reps[-1] - reps[0] + 1 == len(reps) else np.searchsorted(reps, rep)
    flat = (r * days + routes["day"].to_numpy(dtype=np.int64)) * net.n_routes + k
    if len(flat) == int(np.prod(shape)) and np.array_equal(flat, np.arange(len(flat))):
        return {"snow_f": snow_f.reshape(shape), "interdicted": interdicted.reshape(shape), "replications": reps}
    out = {"snow_f": np.ones(shape), "interdicted": np.zeros(shape, dtype=bool), "replications": reps}
    out["snow_f"].ravel()[flat] = snow_f
    out["interdicted"].ravel()[flat] = interdicted
    return out


def corridor_share_frame(results: Any, metric: str | None = None, corridor: str | None = None,
                         scenario: Scenario | None = None) -> pd.DataFrame:
    """Daily share of a corridor cut by snow, by interdiction (of routes snow left open) and in total.

    :func:`qalamoun_sim.analysis.metrics.corridor_shares` (docs/background.md s.8) on the route factors of the
    routes table of a run or an ensemble, the towns taken by their dated captures.

    Parameters
    ----------
    results : Run, Ensemble or results folder
    metric : {"connectivity", "paths", "count", "capacity"}, optional
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
    key = ("corridor_share_frame", metric, corridor)
    if key not in res.cache:  # the share and the claim figures draw the same shares: computed once
        cols = ["day", "route", "capacity_factor", "state", "snow_depth_cm"]
        held = held_by_day(scn)
        parts = [_chunk_shares(block, net, scn, corridor, metric, held)
                 for block in _blocks(res.chunks("routes", cols), scn.scenario.days * net.n_routes)]
        snow = np.concatenate([p[1] for p in parts])
        total = np.concatenate([p[2] for p in parts])
        reps = np.concatenate([p[0] for p in parts])
        n_rep, n_day = snow.shape
        days = np.tile(np.arange(n_day), n_rep)
        res.cache[key] = pd.DataFrame({"replication": np.repeat(reps, n_day), "day": days,
                                       "date": res.dates(days), "snow": snow.ravel(),
                                       "interdiction": np.maximum(total - snow, 0.0).ravel(), "total": total.ravel()})
    return res.cache[key]


def _blocks(chunks: Iterator[pd.DataFrame], rows_per_replication: int,
            replications: int = 200) -> Iterator[pd.DataFrame]:
    """Chunks of a table joined into blocks of about ``replications`` (fewer, larger calls to the shares)."""
    held: list[pd.DataFrame] = []
    for chunk in chunks:
        held.append(chunk)
        if sum(map(len, held)) >= replications * rows_per_replication:
            yield pd.concat(held, ignore_index=True) if len(held) > 1 else held[0]
            held = []
    if held:
        yield pd.concat(held, ignore_index=True) if len(held) > 1 else held[0]


def _chunk_shares(routes: pd.DataFrame, net: RouteNetwork, scn: Scenario, corridor: str, metric: str,
                  held: list[frozenset[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The replications of one chunk of the routes table and their (R, D) snow and total shares."""
    a = _factor_arrays(routes, net, scn)
    shape = a["snow_f"].shape
    state = ExogenousState(  # the routes' factors as a state: the shares are those of the claim, by definition
        replications=a["replications"], dates=scn.dates[:shape[1]], route_ids=net.route_ids,
        temperature_c=np.zeros(shape[:2]), precipitation_mm=np.zeros(shape[:2]), storm=np.zeros(shape[:2], bool),
        band_elevations_m=np.zeros(1), band_depth_cm=np.zeros(shape[:2] + (1,)), route_depth_cm=np.zeros(shape),
        snow_capacity_factor=a["snow_f"], snow_speed_factor=np.ones(shape), interdicted=a["interdicted"])
    shares = corridor_shares(state, net, corridor, (metric,), held=held[:shape[1]])
    return a["replications"], shares["snow"][metric], shares["total"][metric]


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
    scn, metric, corridor, snow, inter, x, storm, label = _share_series(results, metric, corridor, scenario)
    n = snow.shape[0]
    fig, ax = new_figure(ax, (10, 5.2))
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
        _mark_storms(ax, x, storm, n, handles, labels)
    _mark_window(ax, scn, x, handles, labels)
    ax.set_ylim(0, 1.0)
    ax.set_xlim(x[0], x[-1])
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel(f"share of '{corridor}' corridor cut ({metric})")
    ax.set_xlabel("date")
    ax.set_title(f"Share of the '{corridor}' corridor cut, {label}", loc="left", fontsize="medium",
                 pad=26 if storm is not None else 6)
    ax.grid(alpha=0.3)
    date_axis(ax)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize="small",
              frameon=False)
    return fig


def _share_series(results: Any, metric: str | None, corridor: str | None, scenario: Scenario | None) -> tuple[
        Scenario, str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, str]:
    """Scenario, metric, corridor, (R, D) snow and interdiction shares, dates, storm share by day (or None)
    and a label saying how many replications stand behind them."""
    if isinstance(results, ClaimShares):
        scn = results.scenario
        metric = metric or scn.claim.metric
        n = results.n_replications
        return (scn, metric, results.corridor, results.daily["snow"][metric], results.daily["interdiction"][metric],
                np.array(results.dates, dtype="datetime64[D]"), None, n_label(n))
    res = as_results(results, scenario)
    scn = res.need_scenario()
    metric = metric or scn.claim.metric
    corridor = corridor or scn.claim.corridor
    df = corridor_share_frame(res, metric, corridor)
    n = int(df["replication"].nunique())
    snow = df["snow"].to_numpy().reshape(n, -1)
    inter = df["interdiction"].to_numpy().reshape(n, -1)
    storm = res.day_mean("weather", "storm", days=np.arange(snow.shape[1]))  # share of replications, scanned
    label = n_label(n) if n > 1 else f"replication {int(df['replication'].iloc[0])}"
    return scn, metric, corridor, snow, inter, res.dates(np.arange(snow.shape[1])), storm, label


def _mark_storms(ax: Axes, x: np.ndarray, storm: np.ndarray, n: int, handles: list[Any], labels: list[str]) -> None:
    """Storm days as bars above the axes (x in data, y in axes coordinates): height 0.06 x share of replications."""
    storm = np.asarray(storm, dtype=float)
    band = ax.get_xaxis_transform()
    for xi, h in zip(x, storm, strict=True):
        if h > 0:
            ax.add_patch(Rectangle((mdates.date2num(xi), 1.015), 1.0, 0.06 * h, transform=band, clip_on=False,
                                   color="#444444", linewidth=0, gid="storm"))
    ax.text(-0.005, 1.015, "storm", transform=ax.transAxes, ha="right", va="bottom", fontsize="x-small")
    if n == 1:
        spans(ax, x, storm, "#444444", 0.15)
    handles.append(Patch(color="#444444", alpha=0.6))
    labels.append("storm days" if n == 1 else "storm (bar height: share of replications)")


def _mark_window(ax: Axes, scn: Scenario, x: np.ndarray, handles: list[Any], labels: list[str]) -> None:
    """The claim window's first and last day as dash-dotted verticals (where they fall inside the dates)."""
    ws, we = scn.claim_window()
    for edge in (np.datetime64(ws, "D"), np.datetime64(we, "D") + np.timedelta64(1, "D")):
        if x[0] <= edge <= x[-1] + np.timedelta64(1, "D"):
            ax.axvline(edge, color="#222222", lw=1.0, ls="-.")  # type: ignore[arg-type]  # dates have units
    handles.append(Line2D([], [], color="#222222", lw=1.0, ls="-."))
    labels.append(f"claim window {ws:%d %b} - {we:%d %b}")


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
    return scn, snow, total, window_mask(scn, res.dates(np.arange(snow.shape[1])))


def plot_claim_distribution(results: Any, *, bins: int = 20, ax: Axes | None = None,
                            scenario: Scenario | None = None) -> Figure:
    """The statistic that decides the claim, across replications: the share of the window's days at the threshold.

    Per winter, the fraction of the claim window's days on which snow alone cuts at least the threshold
    (the claim metric); the outline shows snow and interdiction together. The claim holds in a winter
    right of the dashed line (``min_fraction_of_days``), so the bars right of it make P(claim holds),
    given with its 95 % Wilson interval. (Under ``[claim] rule = "half_days"``, the default.)

    Parameters
    ----------
    results : Run, Ensemble, results folder or :class:`~qalamoun_sim.analysis.claim.ClaimShares`
    """
    scn, snow, total, window = _claim_statistic(results, scenario)
    if not window.any():
        raise ValueError("the claim window holds no simulated day")
    cfg = scn.claim
    at_snow = days_at_threshold(snow, window, cfg.threshold)
    at_total = days_at_threshold(total, window, cfg.threshold)
    holds = claim_holds(snow, window, cfg.threshold, cfg.min_fraction_of_days)
    lo, hi = wilson_interval(int(holds.sum()), len(holds))
    fig, ax = new_figure(ax, (8, 4.8))
    edges = np.linspace(0, 1, bins + 1).tolist()
    ax.hist(at_snow, bins=edges, color="#6baed6", edgecolor="white", label="by snow")
    ax.hist(at_total, bins=edges, histtype="step", color="#d94801", lw=1.5, label="by snow and interdiction")
    ax.axvline(cfg.min_fraction_of_days, color="#b2182b", lw=1.5, ls="--", gid="threshold",
               label=f"claim holds right of {cfg.min_fraction_of_days:.0%} of the days")
    n = len(at_snow)
    ws, we = scn.claim_window()
    ax.text(1.02, 0.55, f"P(claim holds) = {holds.mean():.2f}\n95 % CI {lo:.2f} - {hi:.2f}\n{n_label(n)}\n"
            f"window {ws:%d %b %Y}\n   to {we:%d %b %Y}", transform=ax.transAxes, va="top", fontsize="small",
            gid="claim_probability")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel(f"share of the window's days with at least {cfg.threshold:.0%} of the '{cfg.corridor}' "
                  f"corridor cut ({cfg.metric})")
    ax.set_ylabel("replications")
    ax.set_title(f"The 70 percent claim across replications, {n_label(n)}", loc="left", fontsize="medium")
    outside_legend(ax)
    return fig
