#!/usr/bin/env python3
"""Speed and scale of qalamoun-sim against a minimal SimPy model, bare SimPy, SupplyNetPy and numpy.

Run from the repository root with the project's Python (SupplyNetPy comes with the ``bench`` extra):

    python benchmarks/run.py --quick --json   # every key, one JSON object on stdout (a few minutes)
    python benchmarks/run.py                  # more passes and sizes; the goal table, then the details
    python benchmarks/run.py --only claim     # one section (node_day, per_convoy, supplynetpy, process,
                                              # scale, state, claim, memory)
    python benchmarks/run.py --markdown R.json  # the README table of a saved --json result

Every ratio times both sides in this one run, interleaved pass by pass (side A, side B, side A, ...),
and keeps the best pass of each: CPU time (``time.process_time``, or a child's own ``ru_utime +
ru_stime``) is the figure, wall time is recorded beside it, with the load average before and after.
benchmarks/README.md ("run.py: speed and scale") says what each figure compares.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _cases as cases  # noqa: E402
import simpy_model  # noqa: E402
from _machine import machine  # noqa: E402
from _timing import ChildFigures, child_process, interleaved, loadavg, log  # noqa: E402

from qalamoun_sim import load_scenario  # noqa: E402
from qalamoun_sim.analysis.claim import claim_shares  # noqa: E402
from qalamoun_sim.engine import simulate_replication  # noqa: E402
from qalamoun_sim.environment.state import compute_state  # noqa: E402
from qalamoun_sim.network import RouteNetwork  # noqa: E402

GOALS: dict[str, tuple[str, float]] = {
    "per_node_day_vs_simpy_model": ("<=", 0.5), "per_node_day_vs_simpy_model_400_sources": ("<=", 1.5),
    "per_convoy_vs_simpy_floor": ("<=", 3.5), "vs_supplynetpy_run_speedup_3960": (">=", 15.0),
    "vs_supplynetpy_run_speedup_9940": (">=", 15.0), "vs_supplynetpy_process_speedup_3960": (">=", 8.0),
    "scale_slope_from_1k": ("<=", 1.15), "replication_s_100k": ("<=", 60.0), "state_cell_vs_numpy": ("<=", 10.0),
    "claim_cli_vs_import_floor": ("<=", 1.6), "claim_memory_ratio_10k_1k": ("<=", 1.2)}
DIAGNOSTICS = ("des_overhead_vs_bare_simpy", "state_vs_des_speedup")
SEED = 2013  # the default scenario's seed


def passes(quick: bool, slow: bool = False) -> int:
    """Passes per ratio: at least three; a side that takes tens of seconds gets two in quick mode."""
    return (2 if slow else 3) if quick else (3 if slow else 5)


# --------------------------------------------------------------------------- against the minimal model
def bench_node_day(quick: bool) -> dict[str, Any]:
    """Engine CPU per node-day against the minimal SimPy supply model's, on the reference shape."""
    out: dict[str, Any] = {}
    for sources in (10, 400):
        case = cases.reference_case(sources)
        model = simpy_model.model_from_network(case.network)
        days = case.scenario.scenario.days
        case.run()  # warm-up: first-call costs out of the timing
        t = interleaved({"engine": case.run, "model": lambda m=model, d=days: simpy_model.run_model(m, d)},
                        passes(quick, slow=sources > 10))
        eng, mod = t["engine"], t["model"]
        out[f"{sources}_sources"] = {
            "case": case.label, "nodes": len(case.network.nodes), "routes": case.network.n_routes, "days": days,
            "engine": eng.as_dict(), "model": mod.as_dict(), "convoys": len(eng.result.convoys),
            "model_shipments": mod.result["shipments"],
            "engine_us_per_node_day": 1e6 * eng.cpu / case.node_days, "model_us_per_node_day": 1e6 * mod.cpu / case.node_days,
            "ratio": eng.cpu / mod.cpu, "ratio_wall": eng.wall / mod.wall}
        log(f"  node-day, {sources} sources: engine {eng.cpu:.2f} s CPU, model {mod.cpu:.2f} s -> {eng.cpu / mod.cpu:.2f}x")
    return out


# --------------------------------------------------------------------------- against bare SimPy
def bench_per_convoy(quick: bool) -> dict[str, Any]:
    """Engine CPU per convoy against a bare SimPy loop of the same events per convoy (default scenario)."""
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    reps = 5 if quick else 20
    states = compute_state(scn, reps, SEED, net)
    events, convoys, shapes = cases.replication_shapes(scn, net, states, SEED, reps)  # also the warm-up
    counted = cases.counted_events(shapes)

    def engine() -> None:
        for k in range(reps):
            cases.run_engine(scn, net, states.replication(k), SEED, k)

    def bare() -> None:
        for s in shapes:
            cases.bare_simpy(*s)

    t = interleaved({"engine": engine, "bare": bare}, passes(quick))
    eng, floor = t["engine"], t["bare"]
    log(f"  per convoy: engine {1e6 * eng.cpu / convoys:.1f} us, bare {1e6 * floor.cpu / convoys:.1f} us "
        f"-> {eng.cpu / floor.cpu:.2f}x")
    return {"scenario": scn.scenario.name, "replications": reps, "convoys": convoys, "events": events,
            "bare_events": counted, "events_per_convoy": events / convoys, "engine": eng.as_dict(), "bare": floor.as_dict(),
            "engine_us_per_convoy": 1e6 * eng.cpu / convoys, "bare_us_per_convoy": 1e6 * floor.cpu / convoys,
            "ratio": eng.cpu / floor.cpu, "ratio_wall": eng.wall / floor.wall,
            "per_event_ratio": (eng.cpu / events) / (floor.cpu / counted),
            "engine_replications_per_cpu_s": reps / eng.cpu}


# --------------------------------------------------------------------------- against SupplyNetPy
def bench_supplynetpy(quick: bool) -> dict[str, Any]:
    """In-process run phases: ours (network, state, engine) against SupplyNetPy's (build, simulate)."""
    import contextlib

    import simpy
    import supplynetpy_model as snp

    out: dict[str, Any] = {}
    for n in (3960, 9940):
        case = cases.dry_case(n)
        scn, days = case.scenario, case.scenario.scenario.days

        def ours(scn: Any = scn) -> Any:
            net = RouteNetwork.from_scenario(scn)
            return cases.run_engine(scn, net, compute_state(scn, [0], cases.SYNTH_SEED, net), cases.SYNTH_SEED, 0)[0]

        def theirs(net: Any = case.network, days: int = days) -> dict[str, float]:
            with contextlib.redirect_stdout(sys.stderr):
                sc, _ = snp.build(net, simpy.Environment())
                return snp.simulate(sc, days)

        t = interleaved({"ours": ours, "supplynetpy": theirs}, passes(quick, slow=n > 5000))
        o, s = t["ours"], t["supplynetpy"]
        out[str(n)] = {"routes": case.network.n_routes, "nodes": len(case.network.nodes), "ours": o.as_dict(),
                       "supplynetpy": s.as_dict(), "ours_delivered_t": float(o.result.towns["delivered_t"].sum()),
                       "supplynetpy_delivered_t": s.result["delivered_t"], "speedup": s.cpu / o.cpu,
                       "speedup_wall": s.wall / o.wall}
        log(f"  SupplyNetPy, {n} routes: ours {o.cpu:.2f} s CPU, theirs {s.cpu:.2f} s -> {s.cpu / o.cpu:.1f}x")
    return out


OURS_PROCESS = """import json, sys
from qalamoun_sim.scenario.loader import scenario_from_dict
from qalamoun_sim.engine import simulate_replication
scn = scenario_from_dict(json.loads(open(sys.argv[1]).read()), source=sys.argv[1])
simulate_replication(scn, 0)
"""


def bench_process(quick: bool) -> dict[str, Any]:
    """Whole processes, 3,960 routes: start-up, loading the network from a file, one run, each side."""
    import supplynetpy_model as snp

    case = cases.dry_case(3960)
    tmp = Path(tempfile.mkdtemp(prefix="qsbench-"))
    try:
        scn_json, net_json = tmp / "scenario.json", tmp / "network.json"
        scn_json.write_text(json.dumps(case.scenario.model_dump(mode="json", by_alias=True, exclude_none=True)))
        snp.network_to_json(case.network, net_json)
        days = str(case.scenario.scenario.days)

        def supplynetpy(n_days: str) -> ChildFigures:
            return child_process([sys.executable, str(HERE / "supplynetpy_model.py"), str(net_json), n_days])

        def ours() -> ChildFigures:
            return child_process([sys.executable, "-c", OURS_PROCESS, str(scn_json)])

        ours()  # untimed warm-ups: they fill the children's bytecode cache (SupplyNetPy's over one day)
        supplynetpy("1")
        t = interleaved({"ours": ours, "supplynetpy": lambda: supplynetpy(days)}, passes(quick))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    o, s = t["ours"], t["supplynetpy"]
    log(f"  processes, 3960 routes: ours {o.cpu:.2f} s CPU, SupplyNetPy {s.cpu:.2f} s -> {s.cpu / o.cpu:.1f}x")
    return {"routes": case.network.n_routes, "ours": o.as_dict(), "supplynetpy": s.as_dict(),
            "speedup": s.cpu / o.cpu, "speedup_wall": s.wall / o.wall}


# --------------------------------------------------------------------------- scale
def _replication(scn: Any) -> Callable[[], Any]:
    return lambda: simulate_replication(scn, 0)


def bench_scale(quick: bool) -> dict[str, Any]:
    """CPU of one whole replication (network, state, engine, checks) from 1,000 to 30,000 routes, and 100,000."""
    sizes = [1012, 3960, 9940, 30012] if quick else [1012, 1740, 3960, 5550, 9940, 17400, 30012]
    scns = {n: cases.grid_case(n) for n in sizes}
    simulate_replication(scns[sizes[0]], 0)  # warm-up
    big = {n: s for n, s in scns.items() if n > 10000}
    small = {n: s for n, s in scns.items() if n <= 10000}
    t = interleaved({str(n): _replication(s) for n, s in small.items()}, passes(quick))
    t.update(interleaved({str(n): _replication(s) for n, s in big.items()}, 1 if quick else 2))
    rows = [{"routes": n, "cpu_s": t[str(n)].cpu,
             "wall_s": t[str(n)].wall, "convoys": len(t[str(n)].result.convoys),
             "events": t[str(n)].result.event_count} for n in sizes]
    for r in rows:
        log(f"  scale: {r['routes']:>6} routes {r['cpu_s']:7.2f} s CPU {r['wall_s']:7.2f} s wall  {r['convoys']:>7} convoys")
    lr = np.log([r["routes"] for r in rows])
    slope = float(np.polyfit(lr, np.log([r["cpu_s"] for r in rows]), 1)[0])
    slope_wall = float(np.polyfit(lr, np.log([r["wall_s"] for r in rows]), 1)[0])
    log("  scale: 100,000 routes ...")
    scn = cases.grid_case(100000)
    t100 = interleaved({"100k": _replication(scn)}, 1)["100k"]
    log(f"  scale: {len(scn.routes)} routes {t100.cpu:.1f} s CPU {t100.wall:.1f} s wall")
    return {"network": "synthetic_scenario(n, seed=0): a grid, snow and strikes on, 181 days",
            "timed": "simulate_replication(scenario, 0): network, state, engine, checks", "rows": rows,
            "slope_cpu": slope, "slope_wall": slope_wall, "routes_100k": len(scn.routes),
            "replication_100k": t100.as_dict(), "convoys_100k": len(t100.result.convoys)}


# --------------------------------------------------------------------------- state, claim
def bench_state(quick: bool) -> dict[str, Any]:
    """``compute_state`` CPU per (replication, day, route) cell against the numpy floor per cell."""
    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    reps = 500 if quick else 2000
    out: dict[str, Any] = {}
    for label, routes in (("network", None), ("corridor", net.corridor_routes(scn.claim.corridor))):
        n_routes = net.n_routes if routes is None else len(routes)
        shape = (reps, scn.scenario.days, n_routes)
        cap = net.capacity_tpd if routes is None else net.capacity_tpd[net.corridor_mask(scn.claim.corridor)]
        t = interleaved({"state": lambda r=routes: compute_state(scn, reps, SEED, net, routes=r),
                         "numpy": lambda s=shape, c=cap: cases.numpy_reference(s, 0.3, c, SEED)}, passes(quick))
        cells = math.prod(shape)
        out[label] = {"shape": list(shape), "state": t["state"].as_dict(), "numpy": t["numpy"].as_dict(),
                      "state_ns_per_cell": 1e9 * t["state"].cpu / cells, "numpy_ns_per_cell": 1e9 * t["numpy"].cpu / cells,
                      "ratio": t["state"].cpu / t["numpy"].cpu, "ratio_wall": t["state"].wall / t["numpy"].wall}
        log(f"  state, {label}: {out[label]['state_ns_per_cell']:.1f} ns/cell, numpy "
            f"{out[label]['numpy_ns_per_cell']:.1f} -> {out[label]['ratio']:.1f}x")
    t = interleaved({"claim_shares": lambda: claim_shares(scn, reps, SEED, network=RouteNetwork.from_scenario(scn))},
                    passes(quick))
    out["claim_shares"] = {"replications": reps, **t["claim_shares"].as_dict(),
                           "replications_per_cpu_s": reps / t["claim_shares"].cpu}
    return out


def cli() -> list[str]:
    """The installed ``qalamoun-sim`` beside this Python, else ``python -m qalamoun_sim``."""
    exe = Path(sys.executable).parent / "qalamoun-sim"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "qalamoun_sim"]


def bench_claim(quick: bool) -> dict[str, Any]:
    """The whole ``qalamoun-sim claim`` (200 replications) against a process importing numpy and networkx."""
    t = interleaved({"claim": lambda: child_process(cli() + ["claim", "--replications", "200"]),
                     "floor": lambda: child_process([sys.executable, "-c", "import numpy, networkx"])},
                    passes(quick), warmup=True)
    c, f = t["claim"], t["floor"]
    log(f"  claim CLI: {c.cpu:.2f} s CPU, import floor {f.cpu:.2f} s -> {c.cpu / f.cpu:.2f}x")
    return {"claim": c.as_dict(), "floor": f.as_dict(), "ratio": c.cpu / f.cpu, "ratio_wall": c.wall / f.wall}


def bench_memory(quick: bool) -> dict[str, Any]:
    """Peak RSS of the whole ``claim`` command at 1,000 and 10,000 replications (fresh processes)."""
    t = interleaved({str(n): lambda n=n: child_process(cli() + ["claim", "--replications", str(n)])
                     for n in (1000, 10000)}, 1 if quick else 2)
    a, b = t["1000"], t["10000"]
    assert a.peak_mib is not None and b.peak_mib is not None
    log(f"  claim memory: {a.peak_mib:.0f} MiB at 1,000, {b.peak_mib:.0f} MiB at 10,000 -> {b.peak_mib / a.peak_mib:.2f}")
    return {"1000": a.as_dict(), "10000": b.as_dict(), "ratio": b.peak_mib / a.peak_mib}


SECTIONS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "node_day": bench_node_day, "per_convoy": bench_per_convoy, "supplynetpy": bench_supplynetpy,
    "process": bench_process, "scale": bench_scale, "state": bench_state, "claim": bench_claim,
    "memory": bench_memory}


# each figure: where its section's result holds it, the CPU figure's key there and the wall figure's
FIGURES: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "per_node_day_vs_simpy_model": (("node_day", "10_sources"), "ratio", "ratio_wall"),
    "per_node_day_vs_simpy_model_400_sources": (("node_day", "400_sources"), "ratio", "ratio_wall"),
    "per_convoy_vs_simpy_floor": (("per_convoy",), "ratio", "ratio_wall"),
    "des_overhead_vs_bare_simpy": (("per_convoy",), "per_event_ratio", None),
    "vs_supplynetpy_run_speedup_3960": (("supplynetpy", "3960"), "speedup", "speedup_wall"),
    "vs_supplynetpy_run_speedup_9940": (("supplynetpy", "9940"), "speedup", "speedup_wall"),
    "vs_supplynetpy_process_speedup_3960": (("process",), "speedup", "speedup_wall"),
    "scale_slope_from_1k": (("scale",), "slope_cpu", "slope_wall"),
    "replication_s_100k": (("scale", "replication_100k"), "cpu_s", "wall_s"),
    "state_cell_vs_numpy": (("state", "network"), "ratio", "ratio_wall"),
    "state_cell_vs_numpy_corridor": (("state", "corridor"), "ratio", "ratio_wall"),
    "claim_cli_vs_import_floor": (("claim",), "ratio", "ratio_wall"),
    "claim_memory_ratio_10k_1k": (("memory",), "ratio", None)}


def _figure(res: dict[str, Any], key: str, wall: bool) -> float | None:
    """One figure of a result (its wall-time counterpart with ``wall``); None where its section did not run."""
    path, cpu_key, wall_key = FIGURES[key]
    node: Any = res
    for part in path:
        if part not in node:
            return None
        node = node[part]
    field = wall_key if wall else cpu_key
    return None if field is None else float(node[field])


def figures(res: dict[str, Any]) -> dict[str, float]:
    """The goal keys (and the diagnostics) from the sections that ran."""
    f = {k: v for k in FIGURES if (v := _figure(res, k, wall=False)) is not None}
    if "state" in res and "per_convoy" in res:
        f["state_vs_des_speedup"] = (res["state"]["claim_shares"]["replications_per_cpu_s"]
                                     / res["per_convoy"]["engine_replications_per_cpu_s"])
    return f


def wall_figures(res: dict[str, Any]) -> dict[str, float]:
    """The wall-time counterpart of each goal figure, where one exists."""
    return {k: v for k in FIGURES if (v := _figure(res, k, wall=True)) is not None}


def verdict(fig: dict[str, float]) -> dict[str, Any]:
    out = {}
    for key, (op, goal) in GOALS.items():
        if key in fig:
            v = fig[key]
            out[key] = {"value": v, "goal": f"{op} {goal:g}", "met": bool(v <= goal if op == "<=" else v >= goal)}
    return out


def print_markdown(res: dict[str, Any]) -> None:
    """The goal table of benchmarks/README.md for a result."""
    m = res["machine"]
    print(f"Commit `{m['commit']}`, {m['date']}, {m['nproc']} cores ({m['cpu']}), Python {m['python']}, numpy "
          f"{m['numpy']}; load average {res['load_before']} before, {res['load_after']} after; {res['seconds']:.0f} s.\n")
    print("| key | goal | CPU figure | wall figure | met |\n|---|---|---:|---:|---|")
    walls = wall_figures(res)
    for key, g in res["goals"].items():
        w = walls.get(key)
        print(f"| `{key}` | {g['goal']} | {g['value']:.3g} | {'' if w is None else f'{w:.3g}'} | "
              f"{'yes' if g['met'] else '**no**'} |")
    for key in DIAGNOSTICS:
        if key in res:
            print(f"| `{key}` (diagnostic) | | {res[key]:.3g} | | |")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer passes and sizes (what the contract check runs)")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout; progress on stderr")
    ap.add_argument("--only", action="append", choices=list(SECTIONS), help="run only this section (repeatable)")
    ap.add_argument("--markdown", metavar="JSON", help="print the README table of a saved --json result")
    args = ap.parse_args(argv)
    if args.markdown:
        print_markdown(json.loads(Path(args.markdown).read_text()))
        return 0
    t0 = time.perf_counter()
    res: dict[str, Any] = {"quick": args.quick, "machine": machine(), "load_before": loadavg()}
    for name in args.only or list(SECTIONS):
        log(f"{name} ...")
        res[name] = SECTIONS[name](args.quick)
    fig = figures(res)
    res = {**fig, "goals": verdict(fig), "seconds": time.perf_counter() - t0, "load_after": loadavg(), **res}
    log(f"done in {res['seconds']:.0f} s")
    if args.json:
        print(json.dumps(res, default=float))
    else:
        print_markdown(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
