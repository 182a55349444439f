"""qalamoun-sim: supply routes under siege (snow, interdiction, convoys) in the Qalamoun mountains."""

from __future__ import annotations

from .claim import claim_shares, claim_verdict, evaluate_claim
from .engine import simulate_replication
from .ensemble import Ensemble, run_ensemble
from .errors import QalamounError, ResultsError, ScenarioError
from .metrics import capacity_cut_share, connectivity_cut_share, corridor_shares, count_cut_share
from .network import RouteNetwork
from .results import Run
from .scenario import Scenario, default_scenario_path, load_scenario, scenario_from_dict
from .state import ExogenousState, compute_state
from .sweep import run_sweep
from .synthetic import synthetic_scenario

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "QalamounError",
    "ResultsError",
    "ScenarioError",
    "RouteNetwork",
    "Scenario",
    "default_scenario_path",
    "load_scenario",
    "scenario_from_dict",
    "ExogenousState",
    "compute_state",
    "count_cut_share",
    "capacity_cut_share",
    "connectivity_cut_share",
    "corridor_shares",
    "claim_shares",
    "claim_verdict",
    "evaluate_claim",
    "Run",
    "simulate_replication",
    "Ensemble",
    "run_ensemble",
    "run_sweep",
    "synthetic_scenario",
]
