"""Figures of an exploration: the sensitivity indices with their intervals, the outcome over the two
leading parameters with the PRIM boxes drawn, and the convergence of the indices.

Each takes an :class:`~qalamoun_sim.analysis.explore.Exploration` or its JSON document (with its
rows inline, or ``rows`` as a DataFrame) and returns the Figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ._style import figure_of, n_label, new_figure, outside_legend

__all__ = ["plot_sensitivity", "plot_explore_pairs", "plot_index_convergence"]

#: Per method: the indices drawn, their intervals, labels and colours.
_BARS: dict[str, list[tuple[str, str | None, str, str]]] = {"sobol": [("S1", "S1_conf", "first order S1", "#2171b5"), ("ST", "ST_conf", "total ST", "#b2182b")],
         "morris": [("mu_star", "mu_star_conf", "mu* (mean |elementary effect|)", "#b2182b"),
                    ("sigma", None, "sigma (interactions, non-linearity)", "#6baed6")],
         "lhs": [("S1", "S1_conf", "first order S1", "#2171b5")]}
_HOLDS, _FAILS = "#b2182b", "#2171b5"


def _doc(result: Any) -> dict[str, Any]:
    """The JSON document, rows as a DataFrame."""
    doc = result.to_json() if hasattr(result, "to_json") else dict(result)
    rows = result.rows if hasattr(result, "rows") else doc.get("rows")
    if isinstance(rows, str):
        rows = pd.read_csv(rows)
    doc["rows"] = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    return doc


def plot_sensitivity(result: Any, *, ax: Axes | None = None) -> Figure:
    """Horizontal bars of the indices per parameter, most influential at the top, with 95 % intervals.

    ``delta`` (when computed) is drawn as diamonds beside the bars.
    """
    doc = _doc(result)
    sens, order = doc["sensitivity"], doc["ranking"][::-1]
    bars = [b for b in _BARS[doc["method"]] if any(sens[p].get(b[0]) is not None for p in order)]
    fig, ax = new_figure(ax, (9, 1.2 + 0.38 * len(order)))
    y = np.arange(len(order))
    h = 0.8 / max(1, len(bars))
    for k, (key, conf, label, color) in enumerate(bars):
        v = np.array([sens[p].get(key) or 0.0 for p in order], dtype=float)
        err = np.array([sens[p].get(conf) or 0.0 for p in order], dtype=float) if conf else None
        ax.barh(y + (k - (len(bars) - 1) / 2) * h, v, height=h, xerr=err, color=color, alpha=0.85, label=label,
                error_kw={"elinewidth": 1, "capsize": 2})
    if any(sens[p].get("delta") is not None for p in order):
        d = np.array([sens[p].get("delta") or 0.0 for p in order], dtype=float)
        de = np.array([sens[p].get("delta_conf") or 0.0 for p in order], dtype=float)
        ax.errorbar(d, y, xerr=de, fmt="D", color="#333333", ms=4, capsize=2, label="delta (moment-independent)")
    ax.set_yticks(y, order)
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set_xlabel("index (95 % interval)")
    ax.set_title(f"What moves {doc['outcome']}: {doc['method']}, {doc['evaluations']} samples x "
                 f"{n_label(int(doc['replications']))}", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    outside_legend(ax)
    return figure_of(ax)


def _draw_box(ax: Axes, box: dict[str, Any], px: str, py: str, lims: dict[str, tuple[float, float]],
              color: str) -> None:
    (x0, x1), (y0, y1) = (box["bounds"].get(px, lims[px]), box["bounds"].get(py, lims[py]))
    others = [k for k in box["bounds"] if k not in (px, py)]
    label = (f"PRIM box, claim {box['claim']}: density {box['density']:.2f}, coverage {box['coverage']:.2f}"
             + (f" (+ {len(others)} more restriction{'s' if len(others) > 1 else ''})" if others else ""))
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=color, lw=2, ls="-" if box["claim"] == "holds"
                           else "--", label=label))


def plot_explore_pairs(result: Any, pair: tuple[str, str] | None = None, *, ax: Axes | None = None) -> Figure:
    """The outcome of every sample over two parameters (default: the two leading ones), PRIM boxes drawn.

    The boxes searched over these two parameters when the exploration has them, else those searched
    over every parameter (their bounds on parameters not drawn are counted in the legend entry).
    """
    doc = _doc(result)
    px, py = pair or tuple(doc["ranking"][:2])
    rows = doc["rows"]
    outcome = doc["outcome"]
    fig, ax = new_figure(ax, (8, 6))
    sc = ax.scatter(rows[px], rows[py], c=rows[outcome], cmap="RdBu_r", vmin=0, vmax=1, s=14, alpha=0.8,
                    edgecolors="none")
    fig.colorbar(sc, ax=ax, label=outcome)
    lims = {p["path"]: (p["low"], p["high"]) for p in doc["parameters"]}
    planar = [b for b in doc["boxes"] if b.get("searched") == [px, py]]
    for box in planar or [b for b in doc["boxes"] if b.get("searched", "all parameters") == "all parameters"]:
        _draw_box(ax, box, px, py, lims, _HOLDS if box["claim"] == "holds" else _FAILS)
    ax.set_xlabel(px)
    ax.set_ylabel(py)
    ax.set_title(f"{outcome} per sample over the two leading parameters ({doc['evaluations']} samples x "
                 f"{n_label(int(doc['replications']))})", fontsize=10)
    if doc["boxes"]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, frameon=False)
    return figure_of(ax)


def plot_index_convergence(table: pd.DataFrame, index: str = "ST", *, replications: int | None = None,
                           ax: Axes | None = None) -> Figure:
    """An index per parameter against the sample size, with its interval (``table``: columns ``samples``,
    ``path``, ``index`` and ``index_conf``, as :func:`qalamoun_sim.analysis.explore.index_convergence` gives);
    ``replications``, the replications behind each sample, goes in the title."""
    fig, ax = new_figure(ax, (8, 5))
    for path, g in table.groupby("path", sort=False):
        g = g.sort_values("samples")
        ax.errorbar(g["samples"], g[index], yerr=g.get(f"{index}_conf"), marker="o", capsize=2, label=str(path))
    ax.set_xscale("log", base=2)
    ax.set_xlabel("base samples N (evaluations: N x (parameters + 2))")
    ax.set_ylabel(f"{index} (95 % interval)")
    ax.grid(alpha=0.3)
    behind = f", samples of {n_label(replications)}" if replications else ""
    ax.set_title(f"{index} against the sample size{behind}", fontsize=10)
    outside_legend(ax)
    return figure_of(ax)
