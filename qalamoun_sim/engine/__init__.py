"""Layer 4, the SimPy engine: the day's network, path search, dispatcher, convoys and towns; the ``Run``.

It reads one replication's exogenous state and never computes snow (design.md s.6).
"""

from __future__ import annotations

from .engine import CountingEnvironment, Engine, simulate_replication
from .results import FATES, TABLES, TOWN_EVENTS, Run

__all__ = ["simulate_replication", "Engine", "CountingEnvironment", "Run", "TABLES", "FATES", "TOWN_EVENTS"]
