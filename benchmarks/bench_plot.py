"""Benchmark: ``qalamoun-sim plot`` on a large results folder (10,000 replications of the default scenario).

Not a test (pytest collects only ``tests/``). Simulating 10,000 winters takes most of an hour on two
cores, and ``plot`` only reads, so the large folder is built from a real one:

1. a real run of the default scenario, ``--base`` replications (default 100) in chunks of 50;
2. a synthetic folder of N replications in chunks of 50, each chunk a copy of one of the real
   chunks (round robin) with its ``replication`` column relabelled to the chunk's own range,
   written with the table's schema and listed in a manifest with its size and SHA-256, exactly
   as a run writes it (so the reader verifies every file, as it does for a real run).

Every replication of a chunk is one of the ``--base`` real winters, so the figures' quantiles are
those of the base run repeated; what is measured is the reading and the reducing, which depend only
on the number of rows. Then, for each N, a fresh child process runs
``qalamoun-sim plot DIR --out FIG`` (the installed command, as a user would), and this script reports:

* ``wall_s``: wall-clock seconds of the child (start to exit, imports included);
* ``cpu_s``: its user + system CPU seconds (``os.wait4``'s resource usage);
* ``peak_rss_mib``: its ``ru_maxrss``, the peak resident memory of the plotting process;
* ``folder_mib``: the folder's size on disk, and the figures written.

Usage::

    python benchmarks/bench_plot.py                          # 1,000 and 10,000 replications, a table
    python benchmarks/bench_plot.py --replications 2000 --json
    python benchmarks/bench_plot.py --quick                  # 200 replications: a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import machine

CHUNK = 50


def _mib(kib: int) -> float:
    """ru_maxrss is KiB on Linux, bytes on macOS."""
    return kib / 1024.0 if sys.platform != "darwin" else kib / 2**20


def _cli() -> list[str]:
    exe = Path(sys.executable).parent / "qalamoun-sim"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "qalamoun_sim"]


def base_run(folder: Path, replications: int, seed: int) -> None:
    """The real run the synthetic folders are copied from (the default scenario, serial, chunks of 50)."""
    from qalamoun_sim import load_scenario, run_ensemble

    run_ensemble(load_scenario(), replications, seed, chunk_size=CHUNK, out=folder)


def synthetic_folder(base: Path, out: Path, replications: int) -> None:
    """A results folder of ``replications`` built from the chunks of ``base``, relabelled (see the module doc)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from qalamoun_sim.ensemble.chunks import plan_chunks
    from qalamoun_sim.ensemble.folder import CHUNK_TABLES, chunk_rel
    from qalamoun_sim.ensemble.manifest import Manifest
    from qalamoun_sim.io import write_bytes, write_json

    src = Manifest.read(base)
    sources = [(i, lo) for i, (lo, hi) in enumerate(src.chunks) if hi - lo == CHUNK]
    if not sources:
        raise SystemExit(f"{base}: no full chunk of {CHUNK} replications to copy")
    tables = {t: [pq.read_table(base / chunk_rel(i, t)) for i, _ in sources] for t in CHUNK_TABLES}
    plan = plan_chunks(replications, CHUNK)
    header = {**src.header, "replications": replications, "chunk_size": CHUNK}
    manifest = Manifest(dict(header), [(c.start, c.stop) for c in plan])
    for c in plan:
        k = c.index % len(sources)
        shift = c.start - sources[k][1]
        for t in CHUNK_TABLES:
            tbl = tables[t][k]
            if c.size < CHUNK:
                tbl = tbl.filter(pc.less(tbl["replication"], sources[k][1] + c.size))
            rep = pc.add(tbl["replication"], pa.scalar(shift, pa.int64()))
            tbl = tbl.set_column(tbl.schema.get_field_index("replication"), tbl.schema.field("replication"), rep)
            sink = pa.BufferOutputStream()
            pq.write_table(tbl, sink)
            data = sink.getvalue().to_pybytes()
            write_bytes(data, out / chunk_rel(c.index, t))
            manifest.record(chunk_rel(c.index, t), data)
    for name in ("scenario.json",):
        data = (base / name).read_bytes()
        write_bytes(data, out / name)
        manifest.record(name, data)
    summary = {**json.loads((base / "summary.json").read_text()), **header, "chunks": len(plan),
               "chunks_done": len(plan), "status": "complete", "synthetic_from": str(base)}
    summary.pop("towns", None)
    path = write_json(summary, out / "summary.json")
    manifest.record("summary.json", path.read_bytes())
    manifest.write(out)


def du_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def time_plot(folder: Path, fig: Path) -> dict[str, Any]:
    """``qalamoun-sim plot folder --out fig`` in a fresh child: wall, CPU and peak RSS from ``os.wait4``."""
    t0 = time.perf_counter()
    p = subprocess.Popen([*_cli(), "plot", str(folder), "--out", str(fig)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode() if p.stderr else ""
    if p.returncode != 0:
        raise SystemExit(f"plot exited {p.returncode}: {err.strip().splitlines()[-1:]}")
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mib": round(_mib(usage.ru_maxrss), 1), "figures": len(list(fig.glob("*.png")))}


def bench(sizes: list[int], base_n: int, seed: int, keep: Path | None) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench_plot_"))
    try:
        base = tmp / "base"
        t0 = time.perf_counter()
        base_run(base, base_n, seed)
        rows = []
        for n in sizes:
            folder = tmp / f"r{n}"
            t1 = time.perf_counter()
            synthetic_folder(base, folder, n)
            built = time.perf_counter() - t1
            row = {"replications": n, "folder_mib": round(du_mib(folder), 1), "build_s": round(built, 1),
                   **time_plot(folder, tmp / f"fig{n}")}
            rows.append(row)
            if keep is not None:
                shutil.copytree(folder, keep / folder.name, dirs_exist_ok=True)
            shutil.rmtree(folder)
        return {"base_replications": base_n, "seed": seed, "base_run_s": round(time.perf_counter() - t0, 1),
                "results": rows}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, action="append", help="folder size (repeat); default 1000 and 10000")
    ap.add_argument("--base", type=int, default=100, help="replications of the real run copied (default 100)")
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument("--quick", action="store_true", help="200 replications from a base of 50")
    ap.add_argument("--keep", type=Path, help="copy the synthetic folders here")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args(argv)
    sizes = [200] if args.quick else (args.replications or [1000, 10000])
    base_n = CHUNK if args.quick else args.base
    before = machine()
    out = {"machine": before, "command": "qalamoun-sim plot DIR --out FIG", **bench(sizes, base_n, args.seed, args.keep)}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"commit {before['commit']}, {before['date']}, {before['nproc']} cores ({before['cpu']}), "
          f"load average before {before['loadavg_before']}")
    print(f"{'replications':>12} {'folder MiB':>10} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>12} {'figures':>7}")
    for r in out["results"]:
        print(f"{r['replications']:>12,} {r['folder_mib']:>10.0f} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
              f"{r['peak_rss_mib']:>12.0f} {r['figures']:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
