"""Layer 1, scenarios: the pydantic schema, its validation and one-line messages, the loader, synthetic scenarios.

Data only: no randomness, no simulation. Every name of the schema and the loader is importable from
here (``from qalamoun_sim.scenario import load_scenario, Scenario``), as before the layout by layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:  # pragma: no cover - the names below, for type checkers and editors
    from .checks import UnreachableTownWarning, unreachable_towns
    from .graphml import graphml_to_document
    from .loader import (
        default_scenario_path,
        load_scenario,
        scenario_from_dict,
        scenario_hash,
        scenario_json_schema,
    )
    from .schema import (
        SURFACES,
        Asset,
        Capture,
        Checkpoint,
        ClaimConfig,
        EngineConfig,
        InterdictionConfig,
        NetworkRole,
        NetworkSource,
        Node,
        ObservedWeather,
        Route,
        Scenario,
        ScenarioMeta,
        SettlementPolicy,
        SnowConfig,
        StrictModel,
        SurfaceLimits,
        WeatherConfig,
    )
    from .synthetic import synthetic_scenario

__all__ = [
    "Scenario", "ScenarioMeta", "Node", "Route", "NetworkSource", "NetworkRole", "WeatherConfig", "SnowConfig", "SurfaceLimits",
    "InterdictionConfig", "ObservedWeather", "Asset", "Checkpoint", "Capture", "SettlementPolicy", "EngineConfig", "ClaimConfig",
    "StrictModel", "SURFACES",
    "load_scenario", "scenario_from_dict", "default_scenario_path", "scenario_json_schema", "scenario_hash",
    "UnreachableTownWarning", "unreachable_towns", "graphml_to_document", "synthetic_scenario",
]

#: Module -> the names it gives this face, each imported on first use: the schema alone does not load
#: the GraphML reader or the synthetic networks.
_MODULES: dict[str, list[str]] = {
    "checks": ["UnreachableTownWarning", "unreachable_towns"],
    "graphml": ["graphml_to_document"],
    "loader": ["default_scenario_path", "load_scenario", "scenario_from_dict", "scenario_hash", "scenario_json_schema"],
    "schema": ["SURFACES", "Asset", "Capture", "Checkpoint", "ClaimConfig", "EngineConfig", "InterdictionConfig",
               "NetworkRole", "NetworkSource", "Node", "ObservedWeather", "Route", "Scenario", "ScenarioMeta",
               "SettlementPolicy", "SnowConfig", "StrictModel", "SurfaceLimits", "WeatherConfig"],
    "synthetic": ["synthetic_scenario"],
}
__getattr__, __dir__ = lazy_exports(__name__, {n: m for m, ns in _MODULES.items() for n in ns}, globals())
