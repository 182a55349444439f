"""The snowpack by elevation against the sourced figures: what ``climate`` reports, drawn.

Reads a climate summary (:func:`qalamoun_sim.analysis.climate.climate_summary`, best over many
elevations); never simulates. Three panels share the elevation axis: snowfall and snow-cover days,
peak snow water equivalent, and the storms' snow lines, each with the figures of docs/background.md
s.12 drawn as boxes where they apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ._style import n_label

__all__ = ["plot_climate"]

_SOURCE = "#d95f02"


def _profile(summary: dict[str, Any], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Elevations (sorted) and their (p05, p50, p95) of one per-elevation record."""
    items = sorted((float(z), e[key]) for z, e in summary["elevations"].items())
    z = np.array([i[0] for i in items])
    q = np.array([[i[1]["p05"], i[1]["p50"], i[1]["p95"]] for i in items], dtype=float)
    return z, q


def _band(ax: Axes, z: np.ndarray, q: np.ndarray, color: str, label: str) -> None:
    ax.fill_betweenx(z, q[:, 0], q[:, 2], color=color, alpha=0.18, lw=0)
    ax.plot(q[:, 1], z, "-o", color=color, ms=3, label=f"{label} (p50, 5-95 %)")


def _box(ax: Axes, x0: float, x1: float, z0: float, z1: float, label: str | None) -> None:
    ax.add_patch(Rectangle((x0, z0), x1 - x0, z1 - z0, fill=False, ec=_SOURCE, lw=1.4, ls="--", label=label))


def _days_panel(ax: Axes, summary: dict[str, Any]) -> None:
    z, fall = _profile(summary, "snowfall_days")
    _, cover = _profile(summary, "snow_cover_days")
    _band(ax, z, fall, "#2171b5", "snowfall days")
    _band(ax, z, cover, "#6a51a3", "snow-cover days")
    _box(ax, 1.0, 3.0, 650.0, 750.0, "sources (background s.12)")
    _box(ax, 10.0, 20.0, 1300.0, 1600.0, None)
    _box(ax, 20.0, 50.0, 1300.0, 1600.0, None)
    ax.annotate("Damascus ~2 a year", (5.0, 700.0), fontsize="x-small", color=_SOURCE, va="center")
    ax.annotate("snowfall 10-20", (10.5, 1610.0), fontsize="x-small", color=_SOURCE)
    ax.annotate("cover 20-50", (20.5, 1240.0), fontsize="x-small", color=_SOURCE)
    ax.set_xlabel("days over the horizon")
    ax.set_ylabel("elevation (m)")
    ax.legend(loc="lower right", fontsize="x-small", frameon=False)


def _swe_panel(ax: Axes, summary: dict[str, Any]) -> None:
    z, swe = _profile(summary, "peak_swe_mm")
    _band(ax, z, swe, "#238b45", "peak SWE")
    ax.add_patch(Rectangle((73.0, 1200.0), 286.0 - 73.0, 1300.0, color=_SOURCE, alpha=0.12, lw=0,
                           label="Mount Lebanon, peak mean SWE above 1200 m"))
    mean = summary.get("peak_mean_swe_1200_2500_mm")
    if mean and mean.get("p50") is not None:
        ax.errorbar([mean["p50"]], [1850.0], xerr=[[mean["p50"] - mean["p05"]], [mean["p95"] - mean["p50"]]],
                    fmt="D", color="#00441b", capsize=3, label="model, mean SWE 1200-2500 m (p50, 5-95 %)")
    ax.set_xlabel("peak snow water equivalent (mm)")
    ax.legend(loc="lower right", fontsize="x-small", frameon=False)


def _storm_panel(ax: Axes, summary: dict[str, Any]) -> None:
    st = summary["storms"]
    line = st["snow_line_m"]
    ax.axhspan(1000.0, 1400.0, color=_SOURCE, alpha=0.15, lw=0, label="usual storm snow line 1000-1400 m")
    ax.axhspan(500.0, 900.0, color=_SOURCE, alpha=0.07, lw=0, label="strong outbreaks 500-900 m")
    ax.boxplot([[line["p05"], line["p25"], line["p50"], line["p75"], line["p95"]]], positions=[0.5], widths=0.3,
               whis=(0, 100), showfliers=False, medianprops={"color": "#08306b"})
    ax.set_xlim(0, 1)
    ax.set_xticks([0.5], ["storm days\n(box 25-75 %,\nwhiskers 5-95 %)"], fontsize="x-small")
    ax.set_title(f"Alexa-size storm in {st['alexa_size_fraction']:.1%} of winters", fontsize="x-small")
    ax.legend(loc="upper right", fontsize="x-small", frameon=False)


def plot_climate(summary: dict[str, Any], *, fig: Figure | None = None) -> Figure:
    """Snowfall, snow cover, peak water equivalent and storm snow lines by elevation, against the sources.

    Parameters
    ----------
    summary : dict
        A climate summary, as ``climate --json`` prints it; the more elevations it holds, the finer the
        profile (``docs/make_figures.py`` uses every 100 m from 700 to 2700 m).
    fig : Figure, optional
        Drawn into; a new figure by default.
    """
    if not summary.get("elevations"):
        raise ValueError("not a climate summary (no elevations)")
    fig = fig or Figure(figsize=(12, 5.5), layout="constrained")
    days, swe, storms = fig.subplots(1, 3, sharey=True, width_ratios=[1.2, 1.2, 0.6])
    _days_panel(days, summary)
    _swe_panel(swe, summary)
    _storm_panel(storms, summary)
    top = max(float(z) for z in summary["elevations"]) + 100.0
    days.set_ylim(min(500.0, min(float(z) for z in summary["elevations"]) - 100.0), max(top, 2000.0))
    for ax in (days, swe):
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Climate of '{summary['scenario']}': {n_label(int(summary['replications']))}, seed "
                 f"{summary['seed']}, against its sources (background s.12)", fontsize="medium")
    return fig
