"""Quickstart: load the bundled scenario, simulate an ensemble with SimPy, write every figure.

Run it from the project root::

    python examples/quickstart.py

The key figure it returns is the mean tonnage delivered to the militant towns per replication.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import qalamoun_sim as qs
from qalamoun_sim.plotting import plot_all


def main(days: int | None = None, replications: int = 20, out: str | Path = "results/examples/quickstart",
         seed: int = 1) -> dict[str, Any]:
    """Simulate ``replications`` winters (``days`` long; default the scenario's 181) and plot them.

    Returns
    -------
    dict
        ``delivered_t`` (mean tonnes delivered to the towns per replication), ``towns`` (the per-town
        report) and ``figures`` (the PNG files written under ``out``).
    """
    scn = qs.load_scenario()                                   # the bundled Qalamoun winter 2013-14
    if days is not None:
        scn = scn.with_updates({"scenario.days": days})        # a shorter horizon, re-validated
    net = qs.RouteNetwork.from_scenario(scn)
    print(f"{scn.scenario.name}: {len(scn.nodes)} places, {net.n_routes} routes, "
          f"nominal max flow from Arsal {net.max_flow('arsal'):.0f} t/day")

    ens = qs.run_ensemble(scn, replications, seed)             # SimPy engine, one run per replication
    towns = ens.town_report()
    print(towns[["delivered_t", "shortfall_t", "days_without_stock", "p_captured"]].round(1).to_string())

    delivered = float(ens.summary()["delivered_t"].sum()) / replications
    figures = plot_all(ens, out)                               # supply, share cut, snow, map, claim
    print(f"delivered to the towns: {delivered:.0f} t per replication; figures in {out}")
    return {"delivered_t": delivered, "towns": towns, "figures": figures}


if __name__ == "__main__":
    main()
