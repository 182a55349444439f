"""Timing both sides of a ratio interleaved, CPU time as the figure and wall time beside it.

The machines are shared and noisy: two sides timed one after the other see different loads. Here
every pass times each side once, in turn, and the best of the passes is kept for each side. CPU time
(``time.process_time`` in this process, ``ru_utime + ru_stime`` of a child) is the figure; wall time is
kept beside it, with the load average before and after.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Timing", "interleaved", "bytecode_env", "child_process", "loadavg", "log"]


def log(msg: str) -> None:
    """Progress on stderr (stdout carries the one JSON object)."""
    print(msg, file=sys.stderr, flush=True)


def loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


@dataclass
class Timing:
    """The best CPU and wall seconds of one side over its passes, every pass's figures, and a result."""

    cpu: float = math.inf
    wall: float = math.inf
    passes: list[tuple[float, float]] = field(default_factory=list)
    result: Any = None
    peak_mib: float | None = None

    def add(self, cpu: float, wall: float, peak_mib: float | None = None) -> None:
        self.passes.append((cpu, wall))
        self.cpu, self.wall = min(self.cpu, cpu), min(self.wall, wall)
        if peak_mib is not None:
            self.peak_mib = peak_mib if self.peak_mib is None else min(self.peak_mib, peak_mib)

    def as_dict(self) -> dict[str, Any]:
        return {"cpu_s": self.cpu, "wall_s": self.wall, "passes": [list(p) for p in self.passes],
                **({"peak_mib": self.peak_mib} if self.peak_mib is not None else {})}


@dataclass
class ChildFigures:
    """What a child process cost: CPU and wall seconds and its peak resident memory."""

    cpu: float
    wall: float
    peak_mib: float


# A small launcher between this process and the command. Linux carries a process's peak RSS across
# exec (``ru_maxrss`` of a child forked from a 4 GB benchmark process starts at 4 GB); a command forked
# from this launcher (about 10 MB) has its own peak. The launcher times the command and writes its own
# resource usage (from ``os.wait4``: that one process's, not earlier children's) as JSON to argv[1].
LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as fh:
    json.dump({"cpu": usage.ru_utime + usage.ru_stime, "wall": wall, "maxrss_kib": usage.ru_maxrss}, fh)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def bytecode_env() -> dict[str, str]:
    """This environment with Python's bytecode cache on, in a folder of its own.

    An installed package runs from compiled bytecode (pip compiles it on install); a shell that sets
    ``PYTHONDONTWRITEBYTECODE`` (as this workplace's does) would make every fresh process compile
    the project's and its dependencies' sources again. Children write and read their ``.pyc`` under
    ``PYTHONPYCACHEPREFIX`` instead (nothing is written into the source tree); every side of a ratio
    gets the same environment, and the first pass of each fills the cache.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), f"qsbench-pycache-{os.getuid()}")
    return env


def child_process(argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 900) -> ChildFigures:
    """Run ``argv`` as a fresh process and return its own CPU time, wall time and peak RSS.

    The command runs under a small launcher (:data:`LAUNCHER`) that reports the command's own
    ``os.wait4`` resource usage, so every figure is this one process's, and its peak is not the
    benchmark's. ``env`` defaults to :func:`bytecode_env`. Output is discarded; a failure raises
    with its last stderr line.
    """
    base = f"/tmp/qsbench-{os.getpid()}"
    with open(f"{base}.err", "wb") as err:
        p = subprocess.Popen([sys.executable, "-c", LAUNCHER, f"{base}.json", *argv],
                             stdout=subprocess.DEVNULL, stderr=err, env=bytecode_env() if env is None else env)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            raise RuntimeError(f"{argv[:3]} ran past {timeout} s") from None
    if rc != 0:
        with open(f"{base}.err", encoding="utf-8", errors="replace") as fh:
            tail = fh.read().strip().splitlines()[-1:]
        raise RuntimeError(f"{' '.join(argv[:4])} exited {rc}: {tail}")
    with open(f"{base}.json", encoding="utf-8") as fh:
        fig = json.load(fh)
    for suffix in (".err", ".json"):
        os.unlink(base + suffix)
    return ChildFigures(fig["cpu"], fig["wall"], fig["maxrss_kib"] / 1024)


def interleaved(sides: dict[str, Callable[[], Any]], repeat: int, warmup: bool = False) -> dict[str, Timing]:
    """Time every side once per pass, in turn, for ``repeat`` passes; the best CPU and wall of each.

    ``warmup`` runs every side once, untimed, first (e.g. to fill the children's bytecode cache).

    A side that returns a :class:`ChildFigures` is timed by it (a child process); any other side is
    timed in this process, and its last result is kept.
    """
    out = {name: Timing() for name in sides}
    for fn in sides.values() if warmup else ():
        fn()
    for _ in range(repeat):
        for name, fn in sides.items():
            c0, w0 = time.process_time(), time.perf_counter()
            res = fn()
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            if isinstance(res, ChildFigures):
                out[name].add(res.cpu, res.wall, res.peak_mib)
            else:
                out[name].add(cpu, wall)
                out[name].result = res
    return out
