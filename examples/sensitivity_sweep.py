"""How robust is the 70 percent claim? Sweep a warmer or colder winter against higher or lower passes.

``climate.warming_c`` shifts every monthly mean temperature; ``corridor.elevation_shift_m`` raises or
lowers the highest point of every route of the Arsal corridor. Each combination runs the claim with
the same seeds (common random numbers), so differences come from the parameters alone.
The same sweep on the command line::

    qalamoun-sim sweep qalamoun_sim/scenarios/qalamoun_winter_2013.toml \\
        --param climate.warming_c=-2,-1,0,1,2 --param corridor.elevation_shift_m=-200,0,200 --out sweep/
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import qalamoun_sim as qs
from qalamoun_sim.plotting import plot_sweep

WARMING_C = [-2.0, -1.0, 0.0, 1.0, 2.0]
SHIFT_M = [-200.0, 0.0, 200.0]


def main(days: int | None = None, replications: int = 200, out: str | Path = "results/examples/sweep",
         seed: int = 2013) -> pd.DataFrame:
    """The claim over warming x corridor elevation shift.

    Returns
    -------
    DataFrame
        One row per combination (see :func:`qalamoun_sim.run_sweep`); ``sweep.csv`` and ``sweep.png``
        are written under ``out``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scn = qs.load_scenario()
    if days is not None:
        scn = scn.with_updates({"scenario.days": days})
    frame = qs.run_sweep(scn, [("climate.warming_c", WARMING_C), ("corridor.elevation_shift_m", SHIFT_M)],
                         replications, seed)
    frame.to_csv(out / "sweep.csv", index=False)
    plot_sweep(frame).savefig(out / "sweep.png", dpi=150)
    table = frame.pivot(index="corridor.elevation_shift_m", columns="climate.warming_c", values="claim_probability")
    print("P(claim holds) by corridor elevation shift (rows, m) and warming (columns, degC):")
    print(table.round(2).to_string())
    return frame


if __name__ == "__main__":
    main()
