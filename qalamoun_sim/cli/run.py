"""``run``: the network report, then replications of the SimPy engine and a summary per town."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from ..errors import Terminated
from .claim import verdict_lines
from .common import (
    BACKEND_HELP,
    EXIT_TERMINATED,
    WORKERS_HELP,
    Command,
    load,
    progress_bar,
    replications_value,
    seed_value,
    workers_value,
)

__all__ = ["register", "cmd_run", "format_network_report", "format_town_report"]


def register(sub: Any) -> dict[str, Command]:
    """Add ``run``."""
    run = sub.add_parser("run", help="network report, then simulate replications of a scenario")
    run.add_argument("scenario", nargs="?", help="scenario TOML (default: the bundled Qalamoun winter 2013-14)")
    run.add_argument("--replications", type=replications_value, help="default: the scenario's (at most 10,000,000)")
    run.add_argument("--seed", type=seed_value, help="default: the scenario's")
    run.add_argument("--backend", choices=("serial", "processes", "dask"), default="serial", help=BACKEND_HELP)
    run.add_argument("--workers", type=workers_value, default=None, help=WORKERS_HELP)
    run.add_argument("--scheduler", help="address of an existing dask scheduler (tcp://host:port or tls://host:port)")
    run.add_argument("--out", help="folder for Parquet tables, manifest.json and summary.json (locked while the run "
                                   "writes it)")
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    again = run.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="finish the chunks of --out that are missing or fail the manifest's check")
    again.add_argument("--overwrite", action="store_true", help="replace the results already in --out")
    run.add_argument("--report-only", action="store_true", help="print the network report and stop")
    return {"run": cmd_run}


def format_network_report(scn: Any, report: dict[str, Any]) -> str:
    """The network report as text (the header of ``run``)."""
    lines = [f"Scenario: {scn.scenario.name}  ({scn.source_path})",
             f"  {scn.scenario.days} days from {scn.scenario.start}; seed {scn.scenario.seed}",
             "Nodes by kind:  " + ", ".join(f"{k} {v}" for k, v in sorted(report["nodes_by_kind"].items())),
             "Routes by surface:  " + ", ".join(f"{k} {v}" for k, v in sorted(report["routes_by_surface"].items())),
             "Routes by corridor:  " + ", ".join(f"{k} {v}" for k, v in sorted(report["routes_by_corridor"].items())),
             "Highest passes:  " + ", ".join(f"{p['id']} {p['elevation_m']:.0f} m" for p in report["highest_passes"]),
             "Nominal maximum flow to militant towns (t/day):  "
             + ", ".join(f"{c} {v:.0f}" for c, v in report["nominal_max_flow_tpd"].items())]
    return "\n".join(lines)


def format_town_report(report: Any, start: dt.date) -> str:
    """The per-town summary of an ensemble as a table; capture and settlement days as dates from ``start``."""
    def when(day: float) -> str:
        return "" if day != day else (start + dt.timedelta(days=int(round(day)))).isoformat()

    lines = [f"{'town':<16}{'delivered t':>12}{'shortfall t':>12}{'days w/o stock':>15}"
             f"{'P(captured)':>12}{'captured':>12}{'P(settled)':>11}{'settled':>12}"]
    for town, r in report.iterrows():
        lines.append(f"{town:<16}{r['delivered_t']:>12.0f}{r['shortfall_t']:>12.0f}{r['days_without_stock']:>15.1f}"
                     f"{r['p_captured']:>12.2f}{when(r['captured_day_p50']):>12}{r['p_settled']:>11.2f}"
                     f"{when(r['settled_day_p50']):>12}")
    return "\n".join(lines)


def _verdict(scn: Any, n: int, seed: int) -> dict[str, Any] | None:
    """The claim for the run's replications and seed (None when the window misses the horizon)."""
    from ..analysis.claim import claim_shares, claim_verdict, window_mask

    if not window_mask(scn, scn.dates).any() or not scn.routes or scn.claim.corridor not in {
            r.corridor for r in scn.routes}:
        return None
    return claim_verdict(claim_shares(scn, n, seed))


def cmd_run(args: argparse.Namespace) -> int:
    """``run``: the network report, then replications of the SimPy engine and a summary per town.

    Every setting (backend, scheduler, output folder, memory) is checked, the folder locked and the
    backend started, before the report is printed or a file written.
    """
    from ..ensemble import json_records, prepare_ensemble
    from ..network.routes import RouteNetwork

    scn = load(args.scenario)
    report = RouteNetwork.from_scenario(scn).report()
    if args.report_only:
        print(json.dumps({"scenario": scn.scenario.name, "network": report}) if args.json
              else format_network_report(scn, report))
        return 0
    n = args.replications or scn.scenario.replications
    seed = scn.scenario.seed if args.seed is None else args.seed
    with prepare_ensemble(scn, n, seed, backend=args.backend, workers=args.workers, scheduler=args.scheduler,
                          out=args.out, resume=args.resume, overwrite=args.overwrite) as job:
        verdict = _verdict(scn, n, seed)
        if not args.json:
            print(format_network_report(scn, report), flush=True)
            print(verdict_lines(verdict) if verdict else "Verdict: the claim window holds no simulated day",
                  flush=True)
        try:
            with progress_bar(n, not args.json) as bar:
                ens = job.run(progress=bar.update)
        except KeyboardInterrupt as exc:
            how = "terminated" if isinstance(exc, Terminated) else "interrupted"
            kept = f"; finished chunks kept in {args.out}, rerun with --resume" if args.out else ""
            sys.stderr.write(f"qalamoun-sim: {how}{kept}\n")
            return EXIT_TERMINATED if isinstance(exc, Terminated) else 130
    towns = ens.town_report()
    if args.json:
        print(json.dumps({"scenario": scn.scenario.name, "seed": seed, "replications": n,
                          "backend": args.backend, "out": args.out, "event_count": ens.event_count,
                          "network": report, "claim": verdict, "towns": json_records(towns)}))
        return 0
    print(f"\n{n} replications, seed {seed}, backend {args.backend}: mean over replications per town"
          " (dates: the median over the replications where it happened)")
    print(format_town_report(towns, scn.scenario.start))
    if args.out:
        print(f"\nTables written to {args.out} (a Parquet folder per table, manifest.json, summary.json, scenario.json)")
    return 0
