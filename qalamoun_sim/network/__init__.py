"""Layer 2, the route network: :class:`RouteNetwork` over networkx, max flow, corridor cuts, the side rule,
max-flow interdiction (:class:`FlowInterdiction`, Wood's MILP).

Pure functions and objects over graph data; no randomness. ``graphml_to_document`` is re-exported from
:mod:`qalamoun_sim.scenario` for code written against the flat layout.
"""

from __future__ import annotations

from ..scenario.graphml import graphml_to_document
from .cuts import MAX_FREE_NODES, CorridorCuts
from .flow import SUPER_SINK, SUPER_SOURCE, FlowSolver
from .interdiction import FlowInterdiction, Interdiction, StrikeGroup
from .routes import RouteNetwork
from .sides import enemy_of, side_arcs, usable_by

__all__ = ["RouteNetwork", "CorridorCuts", "MAX_FREE_NODES", "FlowSolver", "SUPER_SOURCE", "SUPER_SINK",
           "enemy_of", "usable_by", "side_arcs", "graphml_to_document",
           "FlowInterdiction", "Interdiction", "StrikeGroup"]
