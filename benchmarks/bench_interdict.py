"""Benchmark: the solve time of one day's max-flow interdiction, and of the whole ``interdict`` command.

Not a test (pytest collects only ``tests/``). Two networks:

``bundled``
    the default scenario's ``arsal`` corridor (37 routes, 15 in the corridor): the distinct corridor
    states (snow, towns taken) of the claim window over ``--replications`` winters;
``synthetic``
    ``synthetic_scenario(1000)`` with every route in one corridor (1,012 routes, 484 nodes): too many
    end nodes for the corridor's cuts, so every flow is a networkx max flow and every solve the MILP;
    the distinct states of the window over 2 winters, the first ``--days`` of them.

For each state and budget ``k`` one ``FlowInterdiction.solve`` (Wood's MILP through HiGHS, residual
flow recomputed, wasted strikes pruned) and, on the bundled corridor, the closed form over its cuts,
the two interleaved state by state. Wall time (``perf_counter``) and CPU time (``process_time``) per
solve, median and 95th percentile. Then the whole command, ``optimal_interdiction`` for the default
budgets in both modes, once each.

Usage::

    python benchmarks/bench_interdict.py                 # a table
    python benchmarks/bench_interdict.py --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import numpy as np
from _machine import machine

from qalamoun_sim import RouteNetwork, load_scenario, scenario_from_dict, synthetic_scenario
from qalamoun_sim.analysis.interdiction import corridor_days, optimal_interdiction
from qalamoun_sim.network.interdiction import FlowInterdiction


def timed(fn: Any) -> tuple[Any, float, float]:
    """The result of ``fn()``, its wall and CPU seconds."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def summary(wall: list[float], cpu: list[float]) -> dict[str, Any]:
    return {"solves": len(wall), "wall_ms_median": round(1000 * statistics.median(wall), 2),
            "wall_ms_p95": round(1000 * float(np.quantile(wall, 0.95)), 2),
            "cpu_ms_median": round(1000 * statistics.median(cpu), 2),
            "cpu_ms_p95": round(1000 * float(np.quantile(cpu, 0.95)), 2)}


def per_day(problem: FlowInterdiction, patterns: np.ndarray, budgets: list[int], methods: list[str]) -> dict[str, Any]:
    """Solve every pattern at every budget with each method, interleaved; times per method and budget."""
    times: dict[tuple[str, int], tuple[list[float], list[float]]] = {(m, k): ([], []) for m in methods for k in budgets}
    agree = True
    for f in patterns:
        for k in budgets:
            flows = []
            for m in methods:
                r, w, c = timed(lambda m=m, k=k, f=f: problem.solve(f, k, method=m))
                times[(m, k)][0].append(w)
                times[(m, k)][1].append(c)
                flows.append(r.flow)
            agree &= max(flows) - min(flows) <= 1e-9
    return {"agree": bool(agree),
            "by": {f"{m} k={k}": summary(*times[(m, k)]) for m in methods for k in budgets}}


def bundled(replications: int) -> dict[str, Any]:
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    days = corridor_days(scn, net, "arsal", replications, scn.scenario.seed)
    problem = FlowInterdiction.for_corridor(net, "arsal")
    out = per_day(problem, days.patterns, [1, 2, 3, 4], ["milp", "cuts"])
    out.update(network="bundled arsal corridor", routes=net.n_routes, corridor_routes=int(net.corridor_mask("arsal").sum()),
               states=len(days.patterns), replications=replications)
    command = {}
    for mode in ("daily", "plan"):
        r, w, c = timed(lambda mode=mode: optimal_interdiction(scn, (0, 1, 2, 3, 4), mode, replications))
        command[mode] = {"wall_s": round(w, 2), "cpu_s": round(c, 2), "milp_solves": r.solves,
                         "states": r.patterns}
    out["command"] = command
    return out


def synthetic(n_days: int) -> dict[str, Any]:
    base = synthetic_scenario(1000, seed=1)
    doc = base.model_dump(by_alias=True)
    for r in doc["routes"]:
        r["corridor"] = "main"
    scn = scenario_from_dict(doc, source="<synthetic 1000, one corridor>")
    net = RouteNetwork.from_scenario(scn)
    days = corridor_days(scn, net, "main", 2, scn.scenario.seed)
    problem = FlowInterdiction.for_corridor(net, "main")
    picked = days.patterns[np.linspace(0, len(days.patterns) - 1, min(n_days, len(days.patterns))).astype(int)]
    out = per_day(problem, picked, [1, 2, 4, 8], ["milp"])
    out.update(network="synthetic grid, every route in the corridor", routes=net.n_routes, nodes=len(net.nodes),
               corridor_routes=int(net.corridor_mask("main").sum()), states=len(picked),
               nominal_flow_tpd=problem.max_flow(np.ones(net.n_routes)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=200, help="winters of the bundled scenario")
    p.add_argument("--days", type=int, default=12, help="distinct states of the synthetic corridor")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = {"machine": machine(), "bundled": bundled(args.replications), "synthetic": synthetic(args.days)}
    if args.json:
        print(json.dumps(result))
        return 0
    print(json.dumps(result["machine"]))
    for part in ("bundled", "synthetic"):
        r = result[part]
        print(f"\n{r['network']}: {r['routes']} routes ({r['corridor_routes']} in the corridor), {r['states']} states; "
              f"methods agree: {r['agree']}")
        print(f"{'solve':<14}{'n':>6}{'wall ms p50':>13}{'p95':>9}{'cpu ms p50':>12}{'p95':>9}")
        for name, s in r["by"].items():
            print(f"{name:<14}{s['solves']:>6}{s['wall_ms_median']:>13.2f}{s['wall_ms_p95']:>9.2f}"
                  f"{s['cpu_ms_median']:>12.2f}{s['cpu_ms_p95']:>9.2f}")
        for mode, c in r.get("command", {}).items():
            print(f"command {mode}: {c['wall_s']} s wall, {c['cpu_s']} s CPU, {c['milp_solves']} MILP solves over "
                  f"{c['states']} states")
    return 0


if __name__ == "__main__":
    sys.exit(main())
