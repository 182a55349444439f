"""Benchmark: the 70 percent verdict for 1,000 replications of the default scenario.

Not a test (pytest collects only ``tests/``). Three phases, each in a fresh Python process so that
its peak memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and its caches are its own:

``state``
    the exogenous state of the whole network (every route and snow band, what an ensemble block
    needs): weather, snowpack, closures and strikes, ``compute_state`` in blocks of ``--block``
    replications, arrays dropped after each block;
``shares``
    the state of the claim corridor's routes alone (and the bands they need), as ``claim_shares``
    computes it, plus the count and capacity shares (no connectivity);
``claim``
    ``evaluate_claim``: the corridor's state, all three metrics (connectivity as a minimum over the
    corridor's cuts) and the verdict.

Usage::

    python benchmarks/bench_claim.py                  # 1,000 replications, a table
    python benchmarks/bench_claim.py --json           # one JSON object on stdout
    python benchmarks/bench_claim.py --replications 200 --repeat 3 --phases state,shares

Seconds are wall-clock time of the phase's call only (imports and scenario loading excluded); with
``--repeat`` the best and the median of the repeats are reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _machine import git_commit, machine

PHASES = ("state", "shares", "claim")


def _rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


def _run_phase(phase: str, scenario: str | None, replications: int, seed: int, block: int) -> dict[str, Any]:
    """One call of the phase (in this process)."""
    from qalamoun_sim import RouteNetwork, load_scenario
    from qalamoun_sim.analysis.claim import evaluate_claim
    from qalamoun_sim.analysis.metrics import corridor_shares
    from qalamoun_sim.environment.state import compute_state

    scn = load_scenario(scenario)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    if phase == "claim":
        verdict = evaluate_claim(scn, replications=replications, seed=seed)
        out["claim_probability"] = verdict["claim_probability"]
        out["snow_capacity_share_p50"] = verdict["snow_cut_share"]["capacity"]["p50"]  # type: ignore[index]
    else:
        net = RouteNetwork.from_scenario(scn)
        cells = 0
        for lo in range(0, replications, block):
            routes = net.corridor_routes(scn.claim.corridor) if phase == "shares" else None
            state = compute_state(scn, range(lo, min(replications, lo + block)), seed, net, routes=routes)
            cells += state.snow_capacity_factor.size + state.band_depth_cm.size
            if phase == "shares":
                corridor_shares(state, net, scn.claim.corridor, metrics=("count", "capacity"))
            del state
        out["state_cells"] = cells
    out["seconds"] = time.perf_counter() - t0
    return out


def _child(args: argparse.Namespace) -> int:
    """Run one phase ``--repeat`` times in this process and print one JSON line."""
    from qalamoun_sim import load_scenario

    load_scenario(args.scenario)                      # imports and first load outside the timing
    baseline = _rss_mib()
    runs = [_run_phase(args.child, args.scenario, args.replications, args.seed, args.block)
            for _ in range(args.repeat)]
    secs = [r["seconds"] for r in runs]
    res = {k: v for k, v in runs[-1].items() if k != "seconds"}
    best = min(secs)
    res.update(seconds_best=round(best, 4), seconds_median=round(statistics.median(secs), 4),
               seconds_all=[round(s, 4) for s in secs],
               replications_per_second=round(args.replications / best, 1),
               baseline_rss_mib=round(baseline, 1), peak_rss_mib=round(_rss_mib(), 1))
    res["peak_rss_over_baseline_mib"] = round(res["peak_rss_mib"] - baseline, 1)
    print(json.dumps(res))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default=None, help="scenario TOML (default: the bundled default scenario)")
    p.add_argument("--replications", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2013)
    p.add_argument("--block", type=int, default=250, help="replications per compute_state block (as claim)")
    p.add_argument("--repeat", type=int, default=1, help="timed calls per phase (best and median reported)")
    p.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.replications < 1 or args.block < 1 or args.repeat < 1:
        p.error("--replications, --block and --repeat must be >= 1")
    if args.child:
        return _child(args)

    phases = [ph.strip() for ph in args.phases.split(",") if ph.strip()]
    unknown = [ph for ph in phases if ph not in PHASES]
    if unknown:
        p.error(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    results: dict[str, Any] = {}
    for ph in phases:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", ph,
               "--replications", str(args.replications), "--seed", str(args.seed),
               "--block", str(args.block), "--repeat", str(args.repeat)]
        if args.scenario:
            cmd += ["--scenario", args.scenario]
        if not args.json:
            print(f"running {ph} ...", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return proc.returncode
        results[ph] = json.loads(proc.stdout.strip().splitlines()[-1])
    report = {
        "benchmark": "claim", "scenario": args.scenario or "default (qalamoun_winter_2013.toml)",
        "replications": args.replications, "seed": args.seed, "block": args.block, "repeat": args.repeat,
        "commit": git_commit(), "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(), "phases": results,
    }
    if args.json:
        print(json.dumps(report))
        return 0
    m = report["machine"]
    print(f"claim benchmark: {args.replications} replications, seed {args.seed}, block {args.block}, "
          f"repeat {args.repeat}; commit {report['commit']}; {m['nproc']} x {m['cpu']}")
    print(f"{'phase':<8}{'best s':>10}{'median s':>10}{'reps/s':>10}{'peak RSS MiB':>14}{'over base':>11}")
    for ph, r in results.items():
        print(f"{ph:<8}{r['seconds_best']:>10.2f}{r['seconds_median']:>10.2f}{r['replications_per_second']:>10.0f}"
              f"{r['peak_rss_mib']:>14.0f}{r['peak_rss_over_baseline_mib']:>11.0f}")
    if "claim" in results:
        print(f"P(claim holds) {results['claim']['claim_probability']:.3f}, "
              f"snow capacity share p50 {results['claim']['snow_capacity_share_p50']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
