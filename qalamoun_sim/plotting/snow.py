"""Snow depth by elevation band against the routes' closing depths."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..network.routes import RouteNetwork
from ..scenario import Scenario
from ._style import date_axis, n_label, new_figure, spread_labels
from .data import as_results

__all__ = ["plot_snow_depth"]


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
    if replication is not None and int(replication) not in set(res.replication_ids().tolist()):
        raise ValueError(f"replication {replication} is not in {res.label}")
    # (R, D, B) depths scanned chunk by chunk, float32 (a relative error of 6e-8 at most: 4 bytes a value,
    # 188 MB for 10,000 winters of 181 days and 26 bands); the median across replications taken in place
    grid, bands, reps = res.grid("weather", "snow_depth_cm", "elevation_m", dtype=np.float32,
                                 replications=None if replication is None else [int(replication)])
    if not bands:
        raise ValueError(f"{res.label}: the weather table has no snow bands (elevation_m)")
    z = np.asarray(bands, dtype=float)
    order = np.argsort(z)
    z = z[order]
    n = len(reps)
    depth = np.median(grid, axis=0, overwrite_input=True)[:, order].astype(float)  # (days, bands)
    del grid
    if replication is not None or n == 1:
        what = f"replication {int(reps[0])}"
    else:
        what = f"median of {n_label(n)}"
    days = res.days()
    x = res.dates(days)
    xe = np.append(x, x[-1] + np.timedelta64(1, "D"))
    step = float(np.median(np.diff(z))) if len(z) > 1 else 100.0
    ze = np.concatenate([[z[0] - step / 2], (z[:-1] + z[1:]) / 2, [z[-1] + step / 2]])
    values = depth.T  # (bands, days)

    fig, ax = new_figure(ax, (10, 5.5))
    vmax = max(1.0, float(np.nanmax(values)))
    mesh = ax.pcolormesh(xe, ze, values, cmap="Blues", norm=PowerNorm(0.5, vmin=0, vmax=vmax), shading="flat")
    cb = fig.colorbar(mesh, ax=ax, location="bottom", shrink=0.6, pad=0.02, aspect=40)
    cb.set_label("snow depth (cm)")
    scn = res.scenario
    if scn is not None:
        xc = x + np.timedelta64(12, "h")
        shown = []
        for surface, color in (("track", "#d95f02"), ("trail", "#7570b3")):
            lim = scn.snow.limits[surface].closed_cm  # type: ignore[index]  # a Surface literal
            if np.nanmax(values) >= lim:
                cs = ax.contour(xc, z, values, levels=[lim], colors=[color], linewidths=1.0)
                ax.clabel(cs, fmt={lim: f"{lim:g} cm"}, fontsize="x-small")
                shown.append(Line2D([], [], color=color, lw=1.0, label=f"{surface}s close ({lim:g} cm)"))
        passes = sorted((n_.elevation_m, n_.id) for n_ in scn.nodes if n_.kind == "pass")
        if passes:
            low = _lowest_shown(scn, ze, step)
            ys = spread_labels([p[0] for p in passes], low, ze[-1], 0.045 * (ze[-1] - low))
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
    date_axis(ax)
    return fig
