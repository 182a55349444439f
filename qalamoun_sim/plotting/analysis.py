"""Figures of analyses: a parameter sweep and the criticality of routes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ._style import COLORS, figure_of, n_label, new_figure, outside_legend

__all__ = ["plot_sweep", "plot_criticality"]


def plot_sweep(frame: pd.DataFrame, *, value: str = "claim_probability", ax: Axes | None = None) -> Figure:
    """A sweep from :func:`qalamoun_sim.sweep.run_sweep`: a line plot (one parameter) or a heatmap (two).

    The parameter columns are those before ``replications`` (or ``claim_probability``); P(claim) is drawn
    with its 95 % interval where the table has one, and the title says how many replications stand behind it.
    """
    if "claim_probability" not in frame.columns:
        raise ValueError("not a sweep table (no claim_probability column)")
    first = "replications" if "replications" in frame.columns else "claim_probability"
    params = list(frame.columns[:list(frame.columns).index(first)])
    fig, ax = new_figure(ax, (8, 5) if len(params) == 1 else (8, 6))
    if len(params) == 1:
        p = params[0]
        vals = frame[p].tolist()
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals)
        x = np.asarray(vals, dtype=float) if numeric else np.arange(len(vals))
        ax.plot(x, frame["claim_probability"], "o-", color="#b2182b", label="P(claim holds)")
        if "claim_probability_ci95_low" in frame:
            ax.fill_between(x, frame["claim_probability_ci95_low"], frame["claim_probability_ci95_high"],
                            color="#b2182b", alpha=0.15, lw=0, label="P(claim), 95 % interval")
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
        outside_legend(ax)
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
    behind = ""
    if "replications" in frame:
        ns = sorted({int(n) for n in frame["replications"]})
        behind = f", {n_label(ns[0]) if len(ns) == 1 else 'n = ' + ', '.join(map(str, ns)) + ' replications'} per point"
    ax.set_title(f"Sweep: {value.replace('_', ' ')}{behind}", loc="left", fontsize="medium")
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
        fig, axes = figure_of(ax), [ax]
    else:
        axes = list(ax)
        fig = figure_of(axes[0])
    y = np.arange(len(f))
    corridors = list(dict.fromkeys(frame["corridor"].astype(str)))
    colors = [COLORS[corridors.index(c) % len(COLORS)] for c in f["corridor"].astype(str)]
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
    handles = [Patch(color=COLORS[i % len(COLORS)], label=c) for i, c in enumerate(corridors)
               if c in set(f["corridor"].astype(str))]
    axes[0].legend(handles=handles, title="corridor", loc="lower right", fontsize="small")
    n = frame.attrs.get("replications")
    behind = f", {n_label(int(n))} per route" if n else ""
    axes[0].set_title(f"Route criticality: the {len(f)} routes whose loss costs most{behind}", loc="left",
                      fontsize="medium", gid="criticality_title")
    return fig
