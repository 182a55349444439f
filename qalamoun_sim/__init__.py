"""qalamoun-sim: supply routes under siege (snow, interdiction, convoys) in the Qalamoun mountains."""

from __future__ import annotations

from .errors import QalamounError, ResultsError, ScenarioError
from .network import RouteNetwork
from .scenario import Scenario, default_scenario_path, load_scenario, scenario_from_dict

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
]
