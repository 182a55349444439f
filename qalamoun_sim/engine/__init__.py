"""Layer 4, the SimPy engine: the day's network, path search, dispatcher, convoys and towns; the ``Run``.

It reads one replication's exogenous state and never computes snow (docs/background.md s.6-7). Names are
imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    from .engine import CountingEnvironment, Engine, simulate_replication
    from .results import FATES, TABLES, TOWN_EVENTS, Run

__all__ = ["simulate_replication", "Engine", "CountingEnvironment", "Run", "TABLES", "FATES", "TOWN_EVENTS"]

_MODULES = {"engine": ["simulate_replication", "Engine", "CountingEnvironment"],
            "results": ["Run", "TABLES", "FATES", "TOWN_EVENTS"]}
__getattr__, __dir__ = lazy_exports(__name__, {n: m for m, ns in _MODULES.items() for n in ns}, globals())
