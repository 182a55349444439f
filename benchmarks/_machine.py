"""What every benchmark records about the machine and the code it ran on."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else what :mod:`platform` knows)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_commit() -> str | None:
    """The short commit hash, marked when the library or the benchmarks have uncommitted changes."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "qalamoun_sim", "benchmarks/*.py"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + (" (with uncommitted changes)" if dirty else "") if commit else None
    return None


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def machine() -> dict[str, Any]:
    """Date, commit, cores, CPU, load average and the versions that matter for the timings."""
    import numpy
    import pandas
    import simpy

    import qalamoun_sim

    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {"date": dt.date.today().isoformat(), "commit": git_commit(), "qalamoun_sim": qalamoun_sim.__version__,
            "nproc": cores(), "cpu": cpu_model(), "python": platform.python_version(),
            "numpy": numpy.__version__, "pandas": pandas.__version__, "simpy": getattr(simpy, "__version__", "?"),
            "platform": platform.platform(), "loadavg_before": load}
