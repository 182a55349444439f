"""Layer 2, the route network: :class:`RouteNetwork` over networkx, max flow, corridor cuts, the side rule,
max-flow interdiction (:class:`FlowInterdiction`, Wood's MILP).

Pure functions and objects over graph data; no randomness. ``graphml_to_document`` is re-exported from
:mod:`qalamoun_sim.scenario` for code written against the flat layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.graphml import graphml_to_document
    from .cuts import MAX_FREE_NODES, CorridorCuts
    from .flow import SUPER_SINK, SUPER_SOURCE, FlowSolver
    from .interdiction import FlowInterdiction, Interdiction, StrikeGroup
    from .routes import RouteNetwork
    from .sides import enemy_of, side_arcs, usable_by

__all__ = ["RouteNetwork", "CorridorCuts", "MAX_FREE_NODES", "FlowSolver", "SUPER_SOURCE", "SUPER_SINK",
           "enemy_of", "usable_by", "side_arcs", "graphml_to_document",
           "FlowInterdiction", "Interdiction", "StrikeGroup"]

# imported on first use: a replication needs RouteNetwork alone, not networkx (cuts, interdiction)
_MODULES = {"qalamoun_sim.scenario.graphml": ["graphml_to_document"], "cuts": ["MAX_FREE_NODES", "CorridorCuts"],
            "flow": ["SUPER_SINK", "SUPER_SOURCE", "FlowSolver"],
            "interdiction": ["FlowInterdiction", "Interdiction", "StrikeGroup"], "routes": ["RouteNetwork"],
            "sides": ["enemy_of", "side_arcs", "usable_by"]}
__getattr__, __dir__ = lazy_exports(__name__, {n: m for m, ns in _MODULES.items() for n in ns}, globals())
