"""The ``[network]`` section: a network read from a GraphML file (an OSMnx extract, or our own export).

The file gives places and ways; the section gives them what OpenStreetMap cannot: the roles of places
(``[[network.roles]]``: sources with their supply and corridor, towns with stock and need, bases, sides),
capacities by highway tag or surface (``[network.capacity_tpd]``), surfaces of tags beyond the table of
:mod:`qalamoun_sim.scenario.highways` (``[network.surfaces]``, ``network.default_surface``) and which routes
make up each corridor (``[network.corridors]``). :mod:`qalamoun_sim.scenario.graphml` applies it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import MAX_TONNES, SURFACES, NodeKind, Side, StrictModel, Surface, empty_dict, empty_list
from .highways import SURFACE_OF_HIGHWAY

__all__ = ["NetworkRole", "NetworkSource", "CorridorRule"]

#: A corridor's routes: ``"reachable"`` (every route reachable from the corridor's sources that carries no
#: corridor yet) or a list of route ids.
CorridorRule = Literal["reachable"] | list[str]
Capacity = float


class NetworkRole(StrictModel):
    """``[[network.roles]]``: the role of one GraphML node, by its id (what OSM does not say)."""

    node: str = Field(min_length=1, description="The node's id in the GraphML file (an OSM id, or ours).")
    kind: NodeKind = Field(description="source, town, base, pass or junction.")
    side: Side | None = Field(default=None, description="Default: the file's, else neutral.")
    name: str | None = None
    elevation_m: float | None = Field(default=None, ge=-500, le=9000, description="Default: the file's `elevation`.")
    supply_tpd: float | None = Field(default=None, ge=0, le=1e6, description="Sources: tonnes a day.")
    stock_t: float | None = Field(default=None, ge=0, le=MAX_TONNES, description="Towns: initial stock.")
    consumption_tpd: float | None = Field(default=None, ge=0, le=1e6, description="Towns: daily need.")
    corridor: str | None = Field(default=None, min_length=1, description="Sources: the corridor they supply.")

    @field_validator("node", mode="before")
    @classmethod
    def _integer_ids_are_ids(cls, value: Any) -> Any:
        """OSM ids are integers; ``node = 123`` and ``node = "123"`` name the same node."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def node_fields(self) -> dict[str, Any]:
        """The fields this role sets on the node (those given)."""
        return {k: v for k, v in self.model_dump(exclude={"node"}).items() if v is not None}


class NetworkSource(StrictModel):
    """``[network]``: read nodes and routes from a GraphML file (OSMnx attribute names), give nodes roles."""

    graphml: str = Field(min_length=1, description="Path of a GraphML file, relative to the scenario file.")
    roles: list[NetworkRole] = Field(default_factory=empty_list, description="Roles of nodes, by id.")
    capacity_tpd: dict[str, Capacity] = Field(
        default_factory=empty_dict, description="Capacity of edges that give none, by highway tag or surface "
                                          "(default: road 200, track 40, trail 5 t/day).")
    surfaces: dict[str, Surface] = Field(default_factory=empty_dict,
                                         description="Surface of highway tags beyond (or instead of) the table.")
    default_surface: Surface | None = Field(default=None, description="Surface of a tag nothing maps "
                                            "(default: such an edge is an error).")
    corridors: dict[str, CorridorRule] = Field(
        default_factory=empty_dict, description="Routes of each corridor: 'reachable' or route ids. Default: a "
                                          "corridor of a source that no route carries is 'reachable'.")

    @model_validator(mode="after")
    def _consistent(self) -> NetworkSource:
        seen: dict[str, int] = {}
        for i, role in enumerate(self.roles):
            if role.node in seen:
                raise ValueError(f"roles[{i}].node: node '{role.node}' has a role already (roles[{seen[role.node]}])")
            seen[role.node] = i
        for key, value in self.capacity_tpd.items():
            if key not in SURFACES and key not in SURFACE_OF_HIGHWAY and key not in self.surfaces:
                raise ValueError(f"capacity_tpd.{key}: neither a surface (road, track, trail) nor a highway tag of "
                                 "the table or of network.surfaces")
            if not 0 < value <= 1e6:
                raise ValueError(f"capacity_tpd.{key}: must be > 0 and <= 1e6")
        for name, rule in self.corridors.items():
            if isinstance(rule, list) and not rule:
                raise ValueError(f"corridors.{name}: an empty list of routes")
        return self
