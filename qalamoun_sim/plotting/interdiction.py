"""Figures of optimal interdiction: the budget curve, and the network with the routes struck.

Both read the JSON-ready result of :func:`~qalamoun_sim.analysis.interdiction.optimal_interdiction`
(``report.as_dict()``, or an ``interdict.json`` that ``qalamoun-sim interdict --out`` wrote).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..network.routes import RouteNetwork
from ..scenario import Scenario
from ._style import COLORS, map_axes, n_label, new_figure, outside_legend
from .network_map import _draw_places, _label_places, _route_segments

__all__ = ["plot_budget_curve", "plot_interdiction_map"]


def plot_budget_curve(result: Mapping[str, Any], *, ax: Axes | None = None) -> Figure:
    """Residual max flow against strikes: targeted with snow (median, 5-95 %), targeted without snow,
    and the scenario's own random strikes (at the routes they close a day).

    Parameters
    ----------
    result : dict
        ``InterdictionReport.as_dict()`` (or the ``interdict.json`` of the command).
    """
    fig, ax = new_figure(ax, (8.5, 5))
    curve = result["budget_curve"]
    ks = np.array([c["strikes"] for c in curve], dtype=float)
    q = {p: np.array([c["residual_flow_tpd"][p] for c in curve]) for p in ("p05", "p50", "p95")}
    if result["replications"] > 1:
        ax.fill_between(ks, q["p05"], q["p95"], color=COLORS[0], alpha=0.18, lw=0,
                        label="targeted, with snow: 5-95 % of winters")
    ax.plot(ks, q["p50"], "o-", color=COLORS[0], lw=1.8, label="targeted, with snow: median winter")
    open_weather = result["no_snow_curve"]
    ax.plot([c["strikes"] for c in open_weather], [c["residual_flow_tpd"] for c in open_weather], "s--",
            color=COLORS[1], lw=1.4, label="targeted, no snow")
    rnd = result["random_policy"]
    x, y = rnd["routes_closed_per_day"], rnd["residual_flow_tpd"]
    ax.errorbar([x["p50"]], [y["p50"]], xerr=[[x["p50"] - x["p05"]], [x["p95"] - x["p50"]]],
                yerr=[[y["p50"] - y["p05"]], [y["p95"] - y["p50"]]], fmt="D", color=COLORS[3], capsize=3,
                label="the scenario's random strikes\n(at the open routes they close a day)")
    ax.axhline(result["nominal_flow_tpd"], color="#777777", ls=":", lw=1, label="nominal max flow")
    need = result["strikes_to_cut_rest"]["p50"]
    if need is not None:
        ax.axvline(need, color="#444444", ls="-.", lw=0.8,
                   label=f"fewest strikes to a cut share of {result['target']:.2f} (median winter)")
    what = "strikes a day" if result["mode"] == "daily" else "routes closed for the whole window"
    ax.set_xlabel(f"targeted {what}")
    ax.set_ylabel("max flow left, t/day (mean over the window)")
    ax.set_ylim(bottom=0)
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    ax.set_title(f"What the army would need: corridor '{result['corridor']}', {result['mode']} mode, "
                 f"{n_label(int(result['replications']))}, {result['window_start']} .. {result['window_end']}",
                 loc="left", fontsize="medium")
    outside_legend(ax)
    return fig


def plot_interdiction_map(result: Mapping[str, Any], scenario: Scenario, *, strikes: int | None = None,
                          ax: Axes | None = None) -> Figure:
    """The network on longitude and latitude with the routes struck marked: the plan's routes (``plan``), or
    each route's share of days struck (``daily``), at ``strikes`` (default the largest budget)."""
    curve = {c["strikes"]: c for c in result["budget_curve"]}
    k = max(curve) if strikes is None else strikes
    if k not in curve:
        raise ValueError(f"strikes: no budget {k} in the result (have {', '.join(map(str, sorted(curve)))})")
    routes = curve[k]["routes"]
    weight = dict.fromkeys(routes, 1.0) if isinstance(routes, list) else dict(routes)
    net = RouteNetwork.from_scenario(scenario)
    fig, ax = new_figure(ax, (9, 8))
    pos = {n.id: (n.lon, n.lat) for n in net.nodes.values()}
    segs, widths = _route_segments(net, pos)
    ax.add_collection(LineCollection(segs, colors="#bbbbbb", linewidths=[0.6 * w for w in widths], zorder=1))
    hit = [i for i, rid in enumerate(net.route_ids) if weight.get(rid, 0.0) > 0]
    share = np.array([weight[net.route_ids[i]] for i in hit])
    lc = LineCollection([segs[i] for i in hit], array=share, cmap="Reds", norm=Normalize(0, 1),
                        linewidths=[2.0 + 2.5 * s for s in share], zorder=2, capstyle="round")
    ax.add_collection(lc)
    if result["mode"] == "daily":
        cb = fig.colorbar(lc, ax=ax, shrink=0.6, pad=0.02)
        cb.set_label(f"share of replication-days struck ({k} strikes a day)")
        cb.ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        title = (f"Where {k} targeted strikes a day fall, corridor '{result['corridor']}', "
                 f"{n_label(int(result['replications']))}")
    else:
        title = (f"The plan of {k} routes closed for the whole window, corridor '{result['corridor']}', "
                 f"{n_label(int(result['replications']))}")
    _draw_places(ax, net)
    ax.legend(handles=[Line2D([], [], color="#bbbbbb", lw=1.5, label="route"),
                       Line2D([], [], color="#c0392b", lw=4, label="struck")],
              loc="upper left", bbox_to_anchor=(0.0, -0.08), ncol=2, fontsize="small", frameon=False)
    map_axes(ax, pos)
    ax.set_title(title, loc="left", fontsize="medium")
    ax.grid(alpha=0.2)
    _label_places(ax, net)
    return fig
