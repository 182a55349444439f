"""Figures of a run or an ensemble: supply flows, share of the corridor cut, snow, the network, the claim.

Every function takes what the engine or the ensemble produced -- a :class:`~qalamoun_sim.results.Run`,
an :class:`~qalamoun_sim.ensemble.Ensemble`, or a results folder -- and an optional matplotlib ``ax``,
and returns the :class:`~matplotlib.figure.Figure`. Figures are made with the object-oriented API
(``matplotlib.figure.Figure``, no ``pyplot``), so they draw on any backend, Agg included, and leave
no global state behind. Plotting reads results; it never simulates (README.md, Layout).

One module per family of figures: :mod:`.supply`, :mod:`.shares` (the corridor cut and the claim),
:mod:`.snow`, :mod:`.network_map`, :mod:`.analysis` (sweeps and criticality), :mod:`.interdiction`
(the budget curve and the routes struck, from the result of ``interdict``), :mod:`.animation` (one
winter as an animated GIF); :mod:`.data` turns
what they are given into :class:`Results`.

A run does not carry its scenario; pass ``scenario=`` for the figures that need route capacities,
corridors or node positions (without it, the bundled default scenario is used when its routes match).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..io import atomic_write
from ..scenario import Scenario
from .analysis import plot_criticality, plot_sweep
from .animation import animate_winter
from .climate import plot_climate
from .data import Results, as_results, load_results
from .explore import plot_explore_pairs, plot_index_convergence, plot_sensitivity
from .interdiction import plot_budget_curve, plot_interdiction_map
from .network_map import plot_network_map
from .shares import corridor_share_frame, plot_claim_distribution, plot_share_cut
from .snow import plot_snow_depth
from .supply import plot_supply

__all__ = ["Results", "as_results", "load_results", "corridor_share_frame", "plot_supply", "plot_share_cut",
           "plot_snow_depth", "plot_network_map", "plot_claim_distribution", "plot_sweep", "plot_criticality",
           "plot_climate", "plot_budget_curve", "plot_interdiction_map", "plot_sensitivity", "plot_explore_pairs",
           "plot_index_convergence", "plot_all", "FIGURES", "animate_winter"]

#: File names written by :func:`plot_all`, in order.
FIGURES: tuple[str, ...] = ("supply_towns.png", "supply_corridors.png", "share_cut.png", "snow_depth.png",
                            "network_map.png", "claim_distribution.png")


def plot_all(results: Any, out_dir: str | Path, *, scenario: Scenario | None = None, dpi: int = 150,
             dem: Any = None, border: Any = None) -> list[Path]:
    """Write every figure of a run or an ensemble as PNG into ``out_dir`` (created); returns the paths.

    The files are named as in :data:`FIGURES`; ``dem`` and ``border`` go to the network map
    (:func:`plot_network_map`: a hillshade and border lines under the routes).
    """
    res = as_results(results, scenario)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    makers = {
        "supply_towns.png": lambda: plot_supply(res, "town"),
        "supply_corridors.png": lambda: plot_supply(res, "corridor"),
        "share_cut.png": lambda: plot_share_cut(res),
        "snow_depth.png": lambda: plot_snow_depth(res),
        "network_map.png": lambda: plot_network_map(res, dem=dem, border=border),
        "claim_distribution.png": lambda: plot_claim_distribution(res),
    }
    written = []
    claim_less = res.scenario is not None and not _has_claim_corridor(res)
    for name in FIGURES:
        if name == "claim_distribution.png" and res.scenario is not None and not _has_window(res):
            continue  # a horizon that misses the claim window has no claim statistic
        if claim_less and name in ("share_cut.png", "claim_distribution.png"):
            continue  # no route carries the claim's corridor label: no share of it to draw
        fig = makers[name]()
        path = out / name
        save_png(fig, path, dpi)
        written.append(path)
    return written


def save_png(fig: Any, path: Path, dpi: int = 150) -> Path:
    """Write a figure as PNG atomically: a full disk or Ctrl-C leaves the old file or none, never half a PNG."""
    def write(tmp: Path) -> None:
        fig.savefig(tmp, dpi=dpi, format="png")

    return atomic_write(path, write)


def _has_claim_corridor(res: Results) -> bool:
    scn = res.need_scenario()
    return any(r.corridor == scn.claim.corridor for r in scn.routes)


def _has_window(res: Results) -> bool:
    scn = res.need_scenario()
    ws, we = scn.claim_window()
    start = scn.scenario.start
    end = start + dt.timedelta(days=scn.scenario.days - 1)
    return ws <= end and we >= start
