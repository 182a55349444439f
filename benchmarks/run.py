#!/usr/bin/env python3
"""Speed and scale of the engine: against bare SimPy, SupplyNetPy, and the vectorized state.

Run from the repository root with the project's Python (SupplyNetPy comes with the ``bench`` extra):

    python benchmarks/run.py            # every figure, as tables on stdout
    python benchmarks/run.py --quick    # fewer sizes and repeats: a few minutes on 2 cores
    python benchmarks/run.py --json     # exactly one JSON object on stdout (progress goes to stderr)

All timings are taken in this one process, one after another; peak memory is measured in a fresh
child process per item (``--probe``), so that each peak is that item's own. benchmarks/README.md
("run.py: speed and scale") says what each figure compares.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import simpy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _machine import machine  # noqa: E402

from qalamoun_sim import load_scenario  # noqa: E402
from qalamoun_sim.analysis.claim import claim_shares  # noqa: E402
from qalamoun_sim.analysis.metrics import METRICS, capacity_cut_share, connectivity_cut_share, count_cut_share  # noqa: E402
from qalamoun_sim.engine import CountingEnvironment, Engine, simulate_replication  # noqa: E402
from qalamoun_sim.environment.closures import factors_from_depth, limits_of_routes  # noqa: E402
from qalamoun_sim.environment.state import compute_state  # noqa: E402
from qalamoun_sim.network import RouteNetwork  # noqa: E402
from qalamoun_sim.scenario import Scenario  # noqa: E402
from qalamoun_sim.scenario.synthetic import synthetic_scenario  # noqa: E402

GOALS = {"des_overhead_vs_bare_simpy": ("<=", 1.5), "state_vs_des_speedup": (">=", 100.0),
         "scale_exponent": ("<=", 1.1), "vs_supplynetpy_speedup": (">=", 10.0)}
SEED = 2013           # the default scenario's seed
SYNTH_SEED = 0        # seed of the synthetic networks
SNP_ROUTES = 4000     # SupplyNetPy comparison: about 2,000 nodes x 181 days, the original design's reference shape


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Least wall-clock seconds of ``repeat`` calls of ``fn``, and the last call's result."""
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_engine(scn: Scenario, net: RouteNetwork, state: Any, seed: int, replication: int) -> tuple[Any, Engine]:
    """One replication as :func:`simulate_replication` runs it (its checks aside), keeping the engine."""
    eng = Engine(scn, net, state, seed, replication)
    return eng.run(), eng


# --------------------------------------------------------------------------- 1. DES overhead
def bare_simpy(n_days: int, starts_per_day: Sequence[int], n_events: int,
               env_class: type[simpy.Environment] = simpy.Environment) -> tuple[float, int]:
    """A bare SimPy loop with the engine's shape: seconds, and the events it processes.

    One day process yields ``timeout(1)`` ``n_days`` times and starts, each day, as many processes
    as the engine dispatched convoys that day; each process yields ``timeout`` a few times within
    its day and ends. Timeouts are spread over the processes so that the loop processes exactly
    ``n_events`` events (process starts and ends count, as in the engine), when that is possible.
    """
    n_proc = int(sum(starts_per_day))
    fixed = n_days + 2 + 2 * n_proc
    extra = max(0, n_events - fixed)
    base, rem = divmod(extra, n_proc) if n_proc else (0, 0)
    env = env_class()
    phi = (math.sqrt(5.0) - 1.0) / 2.0

    def proc(k: int, i: int):
        delay = (0.05 + 0.9 * ((i * phi) % 1.0)) / max(k, 1)
        for _ in range(k):
            yield env.timeout(delay)

    def days():
        i = 0
        for d in range(n_days):
            for _ in range(starts_per_day[d]):
                env.process(proc(base + (1 if i < rem else 0), i))
                i += 1
            yield env.timeout(1)

    env.process(days())
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0, fixed + (extra if n_proc else 0)


def _engine_pass(scn: Scenario, net: RouteNetwork, states: Any, seed: int,
                 reps: int) -> tuple[tuple[float, float, float], tuple[int, int, list[tuple[int, list[int], int]]]]:
    """One pass over replications ``0..reps-1``: (wall, simulate, tables) seconds, and (events, convoys,
    the shape of each replication for the bare loop)."""
    wall = sim = tables = 0.0
    events = convoys = 0
    structure: list[tuple[int, list[int], int]] = []
    for k in range(reps):
        t0 = time.perf_counter()
        run, eng = run_engine(scn, net, states.replication(k), seed, k)
        wall += time.perf_counter() - t0
        sim += getattr(eng, "timings", {}).get("simulate_s", math.nan)
        tables += getattr(eng, "timings", {}).get("tables_s", math.nan)
        events += run.event_count
        convoys += len(run.convoys)
        per_day = np.bincount(run.convoys["dispatched_day"].to_numpy(), minlength=eng.n_days).tolist()
        structure.append((eng.n_days, per_day, run.event_count))
    return (wall, sim, tables), (events, convoys, structure)


def bench_des_overhead(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cases = [("default scenario", load_scenario(), SEED, 5 if quick else 20),
             ("synthetic grid, 1,000 routes", synthetic_scenario(1000, seed=SYNTH_SEED), SYNTH_SEED, 1 if quick else 3)]
    for label, scn, seed, reps in cases:
        net = RouteNetwork.from_scenario(scn)
        states = compute_state(scn, reps, seed, net)
        run_engine(scn, net, states.replication(0), seed, 0)  # warm-up: first-call costs out of the timing
        # best of three passes over the replications, as for the bare loop below
        passes = [_engine_pass(scn, net, states, seed, reps) for _ in range(3)]
        wall, sim, tables = min(p[0] for p in passes)
        events, convoys, structure = passes[0][1]
        # the bare loop, same shape and event count, replication by replication
        counted = sum(bare_simpy(*s, env_class=CountingEnvironment)[1] for s in structure)
        bare = min(sum(bare_simpy(*s)[0] for s in structure) for _ in range(3))
        engine_us = 1e6 * wall / events
        bare_us = 1e6 * bare / counted
        out[label] = {
            "replications": reps, "events": int(events), "convoys": int(convoys),
            "events_per_convoy": events / convoys if convoys else None,
            "engine_seconds": wall, "simulate_seconds": sim, "tables_seconds": tables,
            "setup_seconds": wall - sim - tables,
            "engine_us_per_event": engine_us, "engine_events_per_s": events / wall,
            "engine_loop_us_per_event": 1e6 * sim / events,
            "bare_events": int(counted), "bare_seconds": bare, "bare_us_per_event": bare_us,
            "bare_events_per_s": counted / bare,
            "ratio": engine_us / bare_us, "ratio_loop_only": (1e6 * sim / events) / bare_us,
        }
        log(f"  des overhead, {label}: {engine_us:.2f} us/event vs bare {bare_us:.2f} -> "
            f"{engine_us / bare_us:.1f}x")
    return out


# --------------------------------------------------------------------------- 2. state vs DES
def shares_from_routes(routes: Any, net: RouteNetwork, scn: Scenario, corridor: str) -> dict[str, dict[str, np.ndarray]]:
    """The claim's daily shares ``{kind: {metric: (D,)}}`` of one run, from its ``routes`` table alone.

    The table has the total capacity factor, the route state and the snow depth. The snow factor is
    the capacity factor where no strike closed the route; where one did, it is read off the snow
    depth with the surface limits (a ploughed road that snow does not close is cleared).
    """
    n = net.n_routes
    days = len(routes) // n
    cf = routes["capacity_factor"].to_numpy().reshape(days, n)
    code = routes["state"].cat.codes.to_numpy().reshape(days, n)
    depth = routes["snow_depth_cm"].to_numpy().reshape(days, n)
    snow_closed = (code == 1) | (code == 3)
    struck = code >= 2
    limits = limits_of_routes(net, scn.snow)
    from_depth, _ = factors_from_depth(depth, limits)
    cleared = np.array([lim.slowed_capacity_factor for lim in limits])
    open_by_snow = np.where(from_depth > 0.0, from_depth, cleared)
    snow_f = np.where(snow_closed, 0.0, np.where(struck, open_by_snow, cf))
    mask = net.corridor_mask(corridor)
    out: dict[str, dict[str, np.ndarray]] = {"snow": {}, "interdiction": {}, "total": {}}
    for m in METRICS:
        if m == "count":
            snow, total = count_cut_share(snow_closed, mask), count_cut_share(code != 0, mask)
        elif m == "capacity":
            snow, total = capacity_cut_share(snow_f, net.capacity_tpd, mask), capacity_cut_share(cf, net.capacity_tpd, mask)
        else:
            snow, total = connectivity_cut_share(net, snow_f, corridor), connectivity_cut_share(net, cf, corridor)
        out["snow"][m], out["total"][m] = snow, total
        out["interdiction"][m] = np.maximum(total - snow, 0.0)
    return out


def _engine_shares(scn: Scenario, corridor: str, n: int) -> tuple[float, float, list[dict[str, dict[str, np.ndarray]]]]:
    """Seconds in the engine and in the shares for replications ``0..n-1`` run one at a time, on a
    network of their own, and the shares of each."""
    net = RouteNetwork.from_scenario(scn)
    t_engine = t_shares = 0.0
    shares = []
    for r in range(n):
        t0 = time.perf_counter()
        run = simulate_replication(scn, r, SEED, network=net)
        t1 = time.perf_counter()
        shares.append(shares_from_routes(run.routes, net, scn, corridor))
        t_engine += t1 - t0
        t_shares += time.perf_counter() - t1
    return t_engine, t_shares, shares


def bench_state_vs_des(quick: bool, repeat: int = 3) -> dict[str, Any]:
    scn = load_scenario()
    corridor = scn.claim.corridor
    n_state, n_des = (500, 10) if quick else (2000, 40)
    # the state: what `qalamoun-sim claim` does, each time on a network of its own (nothing cached)
    t_state, shares = best_of(lambda: claim_shares(scn, n_state, SEED, network=RouteNetwork.from_scenario(scn)),
                              repeat)
    # the same figures through full engine runs, one replication at a time; best of as many repeats
    runs = [_engine_shares(scn, corridor, n_des) for _ in range(repeat)]
    t_engine, t_shares, mine = min(runs, key=lambda x: x[0] + x[1])
    worst = max(float(np.abs(v - shares.daily[kind][m][r]).max())
                for r, by_kind in enumerate(mine) for kind, by_metric in by_kind.items() for m, v in by_metric.items())
    t_des = t_engine + t_shares
    rate_state, rate_des = n_state / t_state, n_des / t_des
    log(f"  state: {rate_state:.0f} replications/s; engine: {rate_des:.1f}/s -> {rate_state / rate_des:.0f}x")
    return {"scenario": scn.scenario.name, "figures": "daily snow / interdiction / total cut shares of the "
            f"'{corridor}' corridor by count, capacity and connectivity", "repeat": repeat,
            "state_replications": n_state, "state_seconds": t_state, "state_replications_per_s": rate_state,
            "des_replications": n_des, "des_seconds": t_des, "des_engine_seconds": t_engine,
            "des_shares_seconds": t_shares, "des_replications_per_s": rate_des,
            "ratio": rate_state / rate_des, "max_abs_difference": worst}


# --------------------------------------------------------------------------- 3. scale
def bench_scale(quick: bool) -> dict[str, Any]:
    sizes = [100, 316, 1000, 3162, 10000] if quick else [100, 178, 316, 562, 1000, 1778, 3162, 5623, 10000]
    rows = []
    for n in sizes:
        scn = synthetic_scenario(n, seed=SYNTH_SEED)
        net = RouteNetwork.from_scenario(scn)
        state = compute_state(scn, [0], SYNTH_SEED, net)
        repeat = 5 if net.n_routes <= 1200 else 3 if net.n_routes <= 4000 else 2
        secs, (run, eng) = best_of(lambda: run_engine(scn, net, state, SYNTH_SEED, 0), repeat)  # noqa: B023
        rows.append({"routes": net.n_routes, "nodes": len(net.nodes),
                     "sources": len(net.nodes_of_kind("source")), "towns": len(net.nodes_of_kind("town")),
                     "seconds": secs, "simulate_seconds": getattr(eng, "timings", {}).get("simulate_s", math.nan),
                     "tables_seconds": getattr(eng, "timings", {}).get("tables_s", math.nan),
                     "events": run.event_count, "convoys": len(run.convoys), "events_per_s": run.event_count / secs,
                     "rounds": run.meta.get("rounds", 0), "path_repaired_nodes": run.meta.get("path_repaired_nodes", 0),
                     "patterns": run.meta.get("patterns", 0)})
        log(f"  scale: {net.n_routes:>6} routes {secs:8.2f} s  {run.event_count:>8} events  {len(run.convoys):>6} convoys")
    lr = np.log([r["routes"] for r in rows])
    lt = np.log([r["seconds"] for r in rows])
    slope = float(np.polyfit(lr, lt, 1)[0])
    local = (np.diff(lt) / np.diff(lr)).tolist()
    top = [r for r in rows if r["routes"] >= 900]
    top_slope = float(np.polyfit(np.log([r["routes"] for r in top]), np.log([r["seconds"] for r in top]), 1)[0])
    return {"network": "synthetic_scenario(n, kind='grid', seed=0): snow and strikes on, 181 days",
            "rows": rows, "exponent": slope, "exponent_from_1000_routes": top_slope, "local_exponents": local,
            "largest_seconds": rows[-1]["seconds"], "largest_routes": rows[-1]["routes"]}


# --------------------------------------------------------------------------- 4. SupplyNetPy
def dry_scenario(n: int) -> Scenario:
    """The SupplyNetPy comparison's network: no strikes and no snow (a dry winter), 181 days."""
    return synthetic_scenario(n, seed=SYNTH_SEED, interdiction=False, snow=False)


def bench_supplynetpy(quick: bool) -> dict[str, Any]:
    import supplynetpy_model as snp

    sizes = [SNP_ROUTES] if quick else [1000, SNP_ROUTES, 10000]
    rows = []
    for n in sizes:
        scn = dry_scenario(n)
        net = RouteNetwork.from_scenario(scn)
        state = compute_state(scn, [0], SYNTH_SEED, net)
        assert state.snow_capacity_factor.min() == 1.0 and not state.interdicted.any()
        ours, (run, eng) = best_of(lambda: run_engine(scn, net, state, SYNTH_SEED, 0), 3 if n <= 5000 else 2)  # noqa: B023
        env = CountingEnvironment()
        with contextlib.redirect_stdout(sys.stderr):
            t0 = time.perf_counter()
            sc, counts = snp.build(net, env)
            t1 = time.perf_counter()
            flows = snp.simulate(sc, scn.scenario.days)
            t2 = time.perf_counter()
        theirs = t2 - t0
        rows.append({"routes": net.n_routes, "nodes": len(net.nodes), "supplynetpy": counts,
                     "ours_seconds": ours, "ours_events": run.event_count, "ours_events_per_s": run.event_count / ours,
                     "ours_delivered_t": float(run.towns["delivered_t"].sum()),
                     "supplynetpy_seconds": theirs, "supplynetpy_build_seconds": t1 - t0,
                     "supplynetpy_events": env.events_processed,
                     "supplynetpy_events_per_s": env.events_processed / (t2 - t1),
                     "supplynetpy_delivered_t": flows["delivered_t"], "speedup": theirs / ours})
        log(f"  SupplyNetPy: {net.n_routes} routes: ours {ours:.2f} s, SupplyNetPy {theirs:.2f} s -> {theirs / ours:.1f}x")
    head = next(r for r in rows if r["routes"] == max(r["routes"] for r in rows if r["routes"] <= 1.1 * SNP_ROUTES))
    return {"network": "synthetic_scenario(n, seed=0, interdiction=False, snow=False): 181 days",
            "rows": rows, "speedup": head["speedup"], "speedup_routes": head["routes"]}


# --------------------------------------------------------------------------- memory (child processes)
def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (``VmRSS`` now, ``VmHWM`` its peak), in MiB.

    ``VmHWM`` belongs to the process image: unlike ``ru_maxrss`` it does not carry the parent's peak over.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_now_mib() -> float:
    return _status_mib("VmRSS")


def probe(name: str, size: int) -> dict[str, float]:
    """Run one item in this (fresh) process: resident memory before it, and the peak."""
    if name == "engine-default":
        scn = load_scenario()
        net = RouteNetwork.from_scenario(scn)
        state = compute_state(scn, [0], SEED, net)
        before = _rss_now_mib()
        run_engine(scn, net, state, SEED, 0)
    elif name in ("engine-synthetic", "engine-dry"):
        scn = synthetic_scenario(size, seed=SYNTH_SEED) if name == "engine-synthetic" else dry_scenario(size)
        net = RouteNetwork.from_scenario(scn)
        state = compute_state(scn, [0], SYNTH_SEED, net)
        before = _rss_now_mib()
        run_engine(scn, net, state, SYNTH_SEED, 0)
    elif name == "bare-simpy":
        scn = load_scenario()
        net = RouteNetwork.from_scenario(scn)
        run, eng = run_engine(scn, net, compute_state(scn, [0], SEED, net), SEED, 0)
        per_day = np.bincount(run.convoys["dispatched_day"].to_numpy(), minlength=eng.n_days).tolist()
        del run, eng
        before = _rss_now_mib()
        bare_simpy(len(per_day), per_day, size)
    elif name == "state":
        scn = load_scenario()
        net = RouteNetwork.from_scenario(scn)
        before = _rss_now_mib()
        claim_shares(scn, size, SEED, network=net)
    elif name == "supplynetpy":
        import supplynetpy_model as snp

        scn = dry_scenario(size)
        net = RouteNetwork.from_scenario(scn)
        before = _rss_now_mib()
        with contextlib.redirect_stdout(sys.stderr):
            sc, _ = snp.build(net, simpy.Environment())
            snp.simulate(sc, scn.scenario.days)
    else:
        raise SystemExit(f"unknown probe {name}")
    peak = _status_mib("VmHWM")
    return {"before_mib": before, "peak_mib": peak, "increase_mib": peak - before}


def bench_memory(quick: bool, des: dict[str, Any], scale: dict[str, Any]) -> dict[str, Any]:
    events_default = des["default scenario"]["events"] // des["default scenario"]["replications"]
    items = [("engine-default", 0, "engine, one replication of the default scenario"),
             ("bare-simpy", events_default, "bare SimPy loop of the same shape"),
             ("engine-synthetic", scale["rows"][-1]["routes"],
              f"engine, synthetic grid of {scale['rows'][-1]['routes']:,} routes"),
             ("state", 500 if quick else 2000, f"state and shares, {500 if quick else 2000} replications"),
             ("engine-dry", SNP_ROUTES, f"engine, dry synthetic grid of {SNP_ROUTES:,} routes"),
             ("supplynetpy", SNP_ROUTES, f"SupplyNetPy, the same {SNP_ROUTES:,}-route network")]
    out = {}
    for name, size, label in items:
        p = subprocess.run([sys.executable, __file__, "--probe", name, "--size", str(size)],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"memory probe {name} failed: {p.stderr.strip().splitlines()[-1:]}")
        out[name] = {"what": label, **json.loads(p.stdout)}
        log(f"  memory: {label}: peak {out[name]['peak_mib']:.0f} MiB (+{out[name]['increase_mib']:.0f})")
    return out


# --------------------------------------------------------------------------- report
def machine_with_supplynetpy() -> dict[str, Any]:
    """:func:`_machine.machine` and SupplyNetPy's version."""
    import SupplyNetPy

    return {**machine(), "supplynetpy": getattr(SupplyNetPy, "__version__", "0.5.1")}


def verdict(figures: dict[str, float]) -> dict[str, Any]:
    out = {}
    for key, (op, goal) in GOALS.items():
        v = figures[key]
        out[key] = {"value": v, "goal": f"{op} {goal:g}", "met": v <= goal if op == "<=" else v >= goal}
    return out


def print_tables(res: dict[str, Any]) -> None:
    """The goal figures, then the tables of :func:`print_markdown`."""
    m = res["machine"]
    print(f"commit {m['commit']}, {m['date']}, {m['nproc']} cores, {m['cpu']}, Python {m['python']}")
    print("\ngoal figures")
    for key, g in res["goals"].items():
        print(f"  {key:30s} {g['value']:10.3g}   goal {g['goal']:8s} {'met' if g['met'] else 'NOT met'}")
    print()
    print_markdown(res)


def print_markdown(res: dict[str, Any]) -> None:
    """The tables of benchmarks/README.md ("run.py: speed and scale") for a result."""
    print("| case | events | events/convoy | engine s | µs/event | events/s | of which tables s | bare µs/event "
          "| bare events/s | ratio | ratio, loop only |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, d in res["des_overhead"].items():
        print(f"| {label}, {d['replications']} replications | {d['events']:,} | {d['events_per_convoy']:.1f} | "
              f"{d['engine_seconds']:.3f} | {d['engine_us_per_event']:.2f} | {d['engine_events_per_s']:,.0f} | "
              f"{d['tables_seconds']:.3f} | {d['bare_us_per_event']:.2f} | {d['bare_events_per_s']:,.0f} | "
              f"{d['ratio']:.1f} | {d['ratio_loop_only']:.1f} |")
    s = res["state_vs_des"]
    print(f"\nState: {s['state_replications_per_s']:.0f} replications/s ({s['state_replications']:,} in "
          f"{s['state_seconds']:.2f} s); engine: {s['des_replications_per_s']:.1f} replications/s "
          f"({s['des_replications']} in {s['des_seconds']:.2f} s, of which {s['des_shares_seconds']:.2f} s "
          f"for the shares): {s['ratio']:.0f}x; largest difference {s['max_abs_difference']:.1g}.\n")
    print("| routes | nodes | sources | towns | seconds | events | convoys | events/s | dispatch rounds after the first |"
          "\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in res["scale"]["rows"]:
        print(f"| {r['routes']:,} | {r['nodes']:,} | {r['sources']} | {r['towns']:,} | {r['seconds']:.3f} | "
              f"{r['events']:,} | {r['convoys']:,} | {r['events_per_s']:,.0f} | {r['rounds']} |")
    sc = res["scale"]
    print(f"\nslope {sc['exponent']:.2f}; from 1,000 routes {sc['exponent_from_1000_routes']:.2f}\n")
    print("| routes | nodes | ours s | our events | our events/s | SupplyNetPy s (build) | its events | its events/s "
          "| speedup |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in res["supplynetpy"]["rows"]:
        print(f"| {r['routes']:,} | {r['nodes']:,} | {r['ours_seconds']:.3f} | {r['ours_events']:,} | "
              f"{r['ours_events_per_s']:,.0f} | {r['supplynetpy_seconds']:.2f} ({r['supplynetpy_build_seconds']:.2f}) | "
              f"{r['supplynetpy_events']:,} | {r['supplynetpy_events_per_s']:,.0f} | {r['speedup']:.1f} |")
    print("\n| item | resident before | peak | increase |\n|---|---:|---:|---:|")
    for d in res["memory"].values():
        print(f"| {d['what']} | {d['before_mib']:.0f} | {d['peak_mib']:.0f} | {d['increase_mib']:.0f} |")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--markdown", metavar="JSON", help="print the README tables of a saved --json result")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe, args.size)))
        return 0
    if args.markdown:
        print_markdown(json.loads(Path(args.markdown).read_text()))
        return 0
    t0 = time.perf_counter()
    res: dict[str, Any] = {"quick": args.quick, "machine": machine_with_supplynetpy()}
    log("DES overhead ...")
    res["des_overhead"] = bench_des_overhead(args.quick)
    log("state vs engine ...")
    res["state_vs_des"] = bench_state_vs_des(args.quick)
    log("scale ...")
    res["scale"] = bench_scale(args.quick)
    log("SupplyNetPy ...")
    res["supplynetpy"] = bench_supplynetpy(args.quick)
    log("memory ...")
    res["memory"] = bench_memory(args.quick, res["des_overhead"], res["scale"])
    figures = {"des_overhead_vs_bare_simpy": res["des_overhead"]["default scenario"]["ratio"],
               "state_vs_des_speedup": res["state_vs_des"]["ratio"],
               "scale_exponent": res["scale"]["exponent"],
               "vs_supplynetpy_speedup": res["supplynetpy"]["speedup"]}
    res = {**figures, "goals": verdict(figures), "seconds": time.perf_counter() - t0, **res}
    log(f"done in {res['seconds']:.0f} s")
    if args.json:
        print(json.dumps(res, default=float))
    else:
        print_tables(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
