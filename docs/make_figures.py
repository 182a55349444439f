"""Make the figures of docs/figures from the bundled default scenario.

    python docs/make_figures.py [--replications 20] [--seed 2013]

Writes the six figures of ``qalamoun-sim plot`` for an ensemble of the default scenario, the route
criticality bars (3 engine replications per route) and a sweep of warming against the corridor's
elevation (200 replications per combination, from the vectorized state), then prints the timings.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import qalamoun_sim as qs
from qalamoun_sim.analysis.critical import route_criticality
from qalamoun_sim.plotting import plot_all, plot_criticality, plot_sweep

FIGURES = Path(__file__).parent / "figures"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=20)
    p.add_argument("--seed", type=int, default=2013)
    p.add_argument("--sweep-replications", type=int, default=200)
    args = p.parse_args(argv)
    FIGURES.mkdir(parents=True, exist_ok=True)
    scn = qs.load_scenario()

    t = time.perf_counter()
    ens = qs.run_ensemble(scn, args.replications, args.seed, backend="processes", workers=2)
    t_run = time.perf_counter() - t
    t = time.perf_counter()
    paths = plot_all(ens, FIGURES)
    t_plot = time.perf_counter() - t

    t = time.perf_counter()
    table = route_criticality(scn, 3, args.seed, workers=2)
    plot_criticality(table).savefig(FIGURES / "critical.png", dpi=150)
    t_crit = time.perf_counter() - t

    t = time.perf_counter()
    frame = qs.run_sweep(scn, [("climate.warming_c", [-2.0, -1.0, 0.0, 1.0, 2.0]),
                               ("corridor.elevation_shift_m", [-200.0, 0.0, 200.0])],
                         args.sweep_replications, args.seed)
    plot_sweep(frame).savefig(FIGURES / "sweep.png", dpi=150)
    t_sweep = time.perf_counter() - t

    for path in [*paths, FIGURES / "critical.png", FIGURES / "sweep.png"]:
        print(f"{path}  {path.stat().st_size // 1024} kB")
    print(f"ensemble of {args.replications}: {t_run:.1f} s; six figures: {t_plot:.1f} s; "
          f"criticality (37 routes x 3): {t_crit:.1f} s; sweep (15 x {args.sweep_replications}): {t_sweep:.1f} s")


if __name__ == "__main__":
    main()
