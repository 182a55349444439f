"""Make the figures of docs/figures from the bundled default scenario.

    python docs/make_figures.py [--replications 20] [--seed 2013]

Writes the six figures of ``qalamoun-sim plot`` for an ensemble of the default scenario, the route
criticality bars (3 engine replications per route), a sweep of warming against the corridor's
elevation (200 replications per combination, from the vectorized state) and the two figures of
``qalamoun-sim interdict`` (200 winters, daily mode), and the three figures of ``qalamoun-sim explore``
(Sobol', 128 base samples x 100 winters over the default parameters: the README's command; its rows
are kept in ``--explore-out`` and reread when that folder is complete), and the snowpack by elevation
against its sources (``qalamoun-sim climate``, 200 winters), then prints the timings.
``--parts`` makes some of them only (``--parts interdict``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import qalamoun_sim as qs
from qalamoun_sim.analysis.climate import climate_summary
from qalamoun_sim.analysis.critical import route_criticality
from qalamoun_sim.analysis.interdiction import optimal_interdiction
from qalamoun_sim.plotting import (
    plot_all,
    plot_budget_curve,
    plot_climate,
    plot_criticality,
    plot_explore_pairs,
    plot_index_convergence,
    plot_interdiction_map,
    plot_sensitivity,
    plot_sweep,
)

PARTS = ("ensemble", "critical", "sweep", "interdict", "explore", "climate")

FIGURES = Path(__file__).parent / "figures"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=20)
    p.add_argument("--seed", type=int, default=2013)
    p.add_argument("--sweep-replications", type=int, default=200)
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    p.add_argument("--explore-out", default="results/explore-readme", help="folder of the explore rows")
    args = p.parse_args(argv)
    parts = {x.strip() for x in args.parts.split(",") if x.strip()}
    FIGURES.mkdir(parents=True, exist_ok=True)
    scn = qs.load_scenario()
    written: list[Path] = []
    times: list[str] = []

    if "ensemble" in parts:
        t = time.perf_counter()
        ens = qs.run_ensemble(scn, args.replications, args.seed, backend="processes", workers=2)
        t_run = time.perf_counter() - t
        t = time.perf_counter()
        written += plot_all(ens, FIGURES)
        times.append(f"ensemble of {args.replications}: {t_run:.1f} s; six figures: {time.perf_counter() - t:.1f} s")

    if "critical" in parts:
        t = time.perf_counter()
        table = route_criticality(scn, 3, args.seed, workers=2)
        plot_criticality(table).savefig(FIGURES / "critical.png", dpi=150)
        written.append(FIGURES / "critical.png")
        times.append(f"criticality (37 routes x 3): {time.perf_counter() - t:.1f} s")

    if "sweep" in parts:
        t = time.perf_counter()
        frame = qs.run_sweep(scn, [("climate.warming_c", [-2.0, -1.0, 0.0, 1.0, 2.0]),
                                   ("corridor.elevation_shift_m", [-200.0, 0.0, 200.0])],
                             args.sweep_replications, args.seed)
        plot_sweep(frame).savefig(FIGURES / "sweep.png", dpi=150)
        written.append(FIGURES / "sweep.png")
        times.append(f"sweep (15 x {args.sweep_replications}): {time.perf_counter() - t:.1f} s")

    if "interdict" in parts:
        t = time.perf_counter()
        result = optimal_interdiction(scn, (0, 1, 2, 3, 4), "daily", args.sweep_replications, args.seed).as_dict()
        plot_budget_curve(result).savefig(FIGURES / "budget_curve.png", dpi=150)
        plot_interdiction_map(result, scn, strikes=2).savefig(FIGURES / "interdiction_map.png", dpi=150)
        written += [FIGURES / "budget_curve.png", FIGURES / "interdiction_map.png"]
        times.append(f"interdict ({args.sweep_replications} winters, daily): {time.perf_counter() - t:.1f} s")

    if "explore" in parts:
        t = time.perf_counter()
        written += explore_figures(scn, args.seed, args.explore_out)
        times.append(f"explore (sobol, 128 x 18 samples x 100 winters): {time.perf_counter() - t:.1f} s")

    if "climate" in parts:
        t = time.perf_counter()
        summary = climate_summary(scn, args.sweep_replications, args.seed, [float(z) for z in range(700, 2701, 100)])
        plot_climate(summary).savefig(FIGURES / "climate.png", dpi=150)
        written.append(FIGURES / "climate.png")
        times.append(f"climate ({args.sweep_replications} winters, 21 elevations): {time.perf_counter() - t:.1f} s")

    for path in written:
        print(f"{path}  {path.stat().st_size // 1024} kB")
    print("; ".join(times))


def explore_figures(scn: qs.Scenario, seed: int, out: str) -> list[Path]:
    """The README's exploration: its indices, the two leading parameters with the boxes, the convergence."""
    from qalamoun_sim.analysis.explore import index_convergence, run_explore
    from qalamoun_sim.analysis.explore_ranges import default_parameters

    res = run_explore(scn, default_parameters(scn), method="sobol", samples=128, replications=100, seed=seed,
                      backend="processes", workers=2, out=out, resume=(Path(out) / "manifest.json").exists())
    conv = index_convergence(res, smallest=8)
    top = res.ranking()[:5]
    paths = [FIGURES / n for n in ("explore_sensitivity.png", "explore_pairs.png", "explore_convergence.png")]
    plot_sensitivity(res).savefig(paths[0], dpi=150)
    plot_explore_pairs(res).savefig(paths[1], dpi=150)
    plot_index_convergence(conv[conv["path"].isin(top)], replications=100).savefig(paths[2], dpi=150)
    return paths


if __name__ == "__main__":
    main()
