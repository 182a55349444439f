"""qalamoun-sim: supply routes under siege (snow, interdiction, convoys) in the Qalamoun mountains.

The package is laid out by layer, each importing only from those before it (README.md, Layout):
``scenario`` -> ``network`` -> ``environment`` -> ``engine`` -> ``ensemble`` -> ``analysis`` ->
``plotting`` -> ``cli``. This module is the public face: it re-exports the API and imports each
name's module only when the name is first used, so ``import qalamoun_sim`` loads neither pandas,
SimPy nor matplotlib (nor importlib.metadata, for ``__version__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from .errors import BackendError, QalamounError, ResultsError, ScenarioError

if TYPE_CHECKING:  # pragma: no cover - the names below, for type checkers and editors
    from ._version import __version__
    from .analysis.claim import ClaimShares, claim_shares, claim_verdict, evaluate_claim
    from .analysis.critical import route_criticality
    from .analysis.interdiction import optimal_interdiction
    from .analysis.metrics import capacity_cut_share, connectivity_cut_share, corridor_shares, count_cut_share
    from .analysis.sweep import run_sweep
    from .engine.engine import simulate_replication
    from .engine.results import Run
    from .ensemble.ensemble import run_ensemble
    from .ensemble.reader import Ensemble
    from .environment.state import ExogenousState, compute_state
    from .network.routes import RouteNetwork
    from .scenario.loader import default_scenario_path, load_scenario, scenario_from_dict
    from .scenario.schema import Scenario
    from .scenario.synthetic import synthetic_scenario

#: Public name -> the module that defines it (imported on first use).
_LAZY: dict[str, str] = {
    "__version__": "_version",
    "Scenario": "scenario.schema",
    "default_scenario_path": "scenario.loader",
    "load_scenario": "scenario.loader",
    "scenario_from_dict": "scenario.loader",
    "synthetic_scenario": "scenario.synthetic",
    "RouteNetwork": "network.routes",
    "ExogenousState": "environment.state",
    "compute_state": "environment.state",
    "Run": "engine.results",
    "simulate_replication": "engine.engine",
    "Ensemble": "ensemble.reader",
    "run_ensemble": "ensemble.ensemble",
    "count_cut_share": "analysis.metrics",
    "capacity_cut_share": "analysis.metrics",
    "connectivity_cut_share": "analysis.metrics",
    "corridor_shares": "analysis.metrics",
    "ClaimShares": "analysis.claim",
    "claim_shares": "analysis.claim",
    "claim_verdict": "analysis.claim",
    "evaluate_claim": "analysis.claim",
    "run_sweep": "analysis.sweep",
    "route_criticality": "analysis.critical",
    "optimal_interdiction": "analysis.interdiction",
}

__all__ = [
    "__version__", "QalamounError", "ResultsError", "ScenarioError", "BackendError",
    "Scenario", "default_scenario_path", "load_scenario", "scenario_from_dict", "synthetic_scenario",
    "RouteNetwork", "ExogenousState", "compute_state", "Run", "simulate_replication", "Ensemble", "run_ensemble",
    "count_cut_share", "capacity_cut_share", "connectivity_cut_share", "corridor_shares",
    "ClaimShares", "claim_shares", "claim_verdict", "evaluate_claim", "run_sweep", "route_criticality",
    "optimal_interdiction",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
