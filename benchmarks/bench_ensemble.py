"""Benchmark: an ensemble of the default scenario on the ``processes`` backend, written to a folder.

Not a test (pytest collects only ``tests/``). For each replication count, a fresh Python process runs
``run_ensemble(scenario, N, seed, backend="processes", workers=K, out=<temp folder>)`` (what
``qalamoun-sim run --backend processes --workers K --out DIR`` does after its network report) and
reports:

* seconds of the call alone (imports and scenario loading excluded) and replications per second;
* peak memory, three ways:

  - ``tree_peak_mib``: the largest sum of resident set sizes of the process and all its descendants
    (the pool's workers) at one moment, sampled every 0.1 s with psutil;
  - ``main_maxrss_mib``: ``getrusage(RUSAGE_SELF).ru_maxrss`` of the process that runs the ensemble
    (collects the chunks and writes the Parquet files);
  - ``worker_maxrss_mib``: ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, the peak of the largest worker
    (Linux reports the largest single child, not a sum);

* the disk use of the output folder (``du -sk``) and its number of files; the folder is deleted after
  (``--keep`` keeps it).

Usage::

    python benchmarks/bench_ensemble.py                       # 1,000 and 10,000 replications, a table
    python benchmarks/bench_ensemble.py --replications 1000 --json
    python benchmarks/bench_ensemble.py --quick               # 40 replications: a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _machine import machine


def _mib(kib: int) -> float:
    """ru_maxrss is KiB on Linux, bytes on macOS."""
    return kib / 1024.0 if sys.platform != "darwin" else kib / 2**20


class TreeSampler:
    """Peak of the summed RSS of a process and its descendants, sampled in a thread (needs psutil)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        import psutil

        self._psutil = psutil
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        ps = self._psutil
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
        except ps.Error:
            return
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except ps.Error:
                pass
        if total > self.peak:
            self.peak, self.peak_processes = total, len(procs)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _child(args: argparse.Namespace) -> int:
    """Run one ensemble in this process and print one JSON line."""
    from qalamoun_sim import load_scenario
    from qalamoun_sim.ensemble import default_chunk_size, run_ensemble

    scn = load_scenario(args.scenario)
    seed = scn.scenario.seed if args.seed is None else args.seed
    out = Path(args.out)
    base_rss = _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    t0 = time.perf_counter()
    ens = run_ensemble(scn, args.child, seed, backend=args.backend, workers=args.workers, out=out)
    seconds = time.perf_counter() - t0
    meta = json.loads((out / "summary.json").read_text())  # ens.meta is the header written before the run
    size = int(meta["chunk_size"])
    events = ens.event_count
    print(json.dumps({
        "replications": args.child, "seed": seed, "backend": args.backend, "workers": args.workers,
        "chunk_size": size, "default_chunk_size": default_chunk_size(args.child, args.workers),
        "chunks": int(meta["chunks"]), "seconds": round(seconds, 2),
        "replications_per_s": round(args.child / seconds, 2), "simpy_events": events,
        "simpy_events_per_s": round(events / seconds),
        "main_baseline_mib": round(base_rss, 1),
        "main_maxrss_mib": round(_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), 1),
        "worker_maxrss_mib": round(_mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss), 1),
        "status": meta["status"],
    }), flush=True)
    return 0


def _du_kib(path: Path) -> tuple[int, int]:
    """(disk use in KiB as ``du -sk`` gives it, number of files)."""
    kib = int(subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
              .stdout.split()[0])
    return kib, sum(1 for p in path.rglob("*") if p.is_file())


def _measure(n: int, args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench_ensemble_", dir=args.tmp))
    out = root / "out"
    cmd = [sys.executable, __file__, "--child", str(n), "--out", str(out), "--backend", args.backend,
           "--workers", str(args.workers)]
    if args.scenario:
        cmd += ["--scenario", args.scenario]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        sampler = None
        try:
            sampler = TreeSampler(proc.pid)
        except ImportError:
            pass
        if sampler is not None:
            with sampler:
                stdout, _ = proc.communicate()
        else:
            stdout, _ = proc.communicate()
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"bench_ensemble: the run of {n} replications failed (status {proc.returncode})")
        res = json.loads(stdout.strip().splitlines()[-1])
        res["process_wall_s"] = round(wall, 2)
        if sampler is not None:
            res["tree_peak_mib"] = round(sampler.peak / 2**20, 1)
            res["tree_peak_processes"] = sampler.peak_processes
        kib, files = _du_kib(out)
        res["disk_mib"] = round(kib / 1024, 1)
        res["disk_kib_per_replication"] = round(kib / n, 1)
        res["files"] = files
        if args.keep:
            res["out"] = str(out)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replications", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--quick", action="store_true", help="40 replications only (a smoke test)")
    p.add_argument("--backend", default="processes", choices=("serial", "processes", "dask"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scenario", default=None, help="default: the bundled scenario")
    p.add_argument("--seed", type=int, default=None, help="default: the scenario's")
    p.add_argument("--tmp", default=None, help="folder for the temporary output (default: the system's)")
    p.add_argument("--keep", action="store_true", help="keep the output folders")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is not None:
        return _child(args)
    sizes = [40] if args.quick else args.replications
    info = machine()
    results = []
    for n in sizes:
        results.append(_measure(n, args))
        if not args.json:
            r = results[-1]
            print(f"{n:>7,} replications: {r['seconds']:8.1f} s  {r['replications_per_s']:6.1f} rep/s  "
                  f"tree peak {r.get('tree_peak_mib', float('nan')):7.0f} MiB  main {r['main_maxrss_mib']:5.0f} MiB  "
                  f"worker {r['worker_maxrss_mib']:5.0f} MiB  disk {r['disk_mib']:8.1f} MiB "
                  f"({r['files']} files)", flush=True)
    info["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps({"benchmark": "ensemble", "machine": info, "results": results}))
    else:
        print(f"commit {info['commit']}, {info['date']}, nproc {info['nproc']}, {info['cpu']}, "
              f"load {info['loadavg_before']} -> {info['loadavg_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
