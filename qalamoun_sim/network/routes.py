"""The route network: a networkx multigraph of places and routes, built from a scenario.

Routes are indexed in scenario order; the arrays (``capacity_tpd``, ``max_elevation_m`` ...)
share that index with every (replications, days, routes) array of the exogenous state.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io import atomic_write
from ..scenario import Node, Route, Scenario, unreachable_towns
from ..scenario.graphml import FORMAT as GRAPHML_FORMAT
from ..scenario.graphml import read_graphml_network, wkt_linestring
from ..scenario.highways import HIGHWAY_OF_SURFACE
from ..scenario.schema_network import NetworkSource
from .flow import FlowSolver
from .geometry import _haversine_km
from .sides import enemy_of, side_arcs

if TYPE_CHECKING:  # pragma: no cover - annotations only: gis.py imports this module for its own
    import networkx as nx  # imported where a graph is built: a replication never builds one

    from .cuts import CorridorCuts
    from .gis import Columns

__all__ = ["RouteNetwork"]

class RouteNetwork:
    """Places and routes over a :class:`networkx.MultiDiGraph`.

    Each route is one edge keyed by its id (a bidirectional route adds the reverse edge
    with the same key); the graph is built when first asked for (:attr:`graph`). Route attributes are
    also kept as numpy arrays in route order.

    Parameters
    ----------
    nodes, routes : sequences of :class:`~qalamoun_sim.scenario.Node` / :class:`~qalamoun_sim.scenario.Route`
    speeds_kph : dict, optional
        Default speed per surface for routes without ``speed_kph``.

    Examples
    --------
    >>> from qalamoun_sim.scenario import Node, Route
    >>> net = RouteNetwork(
    ...     [Node(id="s", kind="source", elevation_m=1400, lat=34.1, lon=36.4, corridor="c"),
    ...      Node(id="t", kind="town", side="militant", elevation_m=1300, lat=34.0, lon=36.7)],
    ...     [Route(id="r1", **{"from": "s"}, to="t", length_km=30, surface="track", capacity_tpd=40),
    ...      Route(id="r2", **{"from": "s"}, to="t", length_km=35, surface="trail", capacity_tpd=5)])
    >>> net.max_flow("c")
    45.0
    """

    def __init__(self, nodes: Sequence[Node], routes: Sequence[Route],
                 speeds_kph: Mapping[str, float] | None = None) -> None:
        speeds = speeds_kph or {"road": 50.0, "track": 20.0, "trail": 3.5}
        self.nodes: dict[str, Node] = {n.id: n for n in nodes}
        self.routes: tuple[Route, ...] = tuple(routes)
        self.route_ids: tuple[str, ...] = tuple(r.id for r in routes)
        self.route_index: dict[str, int] = {rid: i for i, rid in enumerate(self.route_ids)}
        elev = {n.id: n.elevation_m for n in nodes}
        self.capacity_tpd = np.array([r.capacity_tpd for r in routes], dtype=float)
        self.length_km = np.array([r.length_km for r in routes], dtype=float)
        self.max_elevation_m = np.array([_highest_point(r, elev) for r in routes], dtype=float)
        self.surface = np.array([r.surface for r in routes], dtype=object)
        self.speed_kph = np.array([r.speed_kph or speeds[r.surface] for r in routes], dtype=float)
        self.ploughed = np.array([r.is_ploughed for r in routes], dtype=bool)
        self.route_side = np.array([r.side for r in routes], dtype=object)
        self.corridor = np.array([r.corridor or "" for r in routes], dtype=object)
        self._graph: nx.MultiDiGraph | None = None  # built on first use (a replication never asks for it)
        self._arc_list: list[tuple[str, str, dict[str, Any]]] | None = None  # the graph's arcs, made on first use
        self._flow_cache: dict[tuple[Any, ...], float] = {}
        self._solvers: dict[tuple[str, str, frozenset[str]], FlowSolver] = {}
        self._cuts: dict[tuple[str, str, frozenset[str]], CorridorCuts | None] = {}

    def __repr__(self) -> str:
        kinds = Counter(n.kind for n in self.nodes.values())
        return (f"RouteNetwork({len(self.nodes)} nodes ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}), "
                f"{self.n_routes} routes, corridors {self.corridors()})")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_scenario(cls, scn: Scenario) -> RouteNetwork:
        """The network of a validated scenario."""
        return cls(scn.nodes, scn.routes, dict(scn.engine.speeds_kph.items()))

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The :class:`networkx.MultiDiGraph` of the places and routes, built on first use."""
        if self._graph is None:
            self._graph = self._build_graph()
        return self._graph

    def _build_graph(self) -> nx.MultiDiGraph:
        import networkx as nx

        g = nx.MultiDiGraph(crs="epsg:4326")  # what osmnx.graph_to_gdfs needs
        for n in self.nodes.values():
            g.add_node(n.id, kind=n.kind, side=n.side, elevation=n.elevation_m, x=n.lon, y=n.lat)
        for i, r in enumerate(self.routes):
            attrs = dict(index=i, length=r.length_km * 1000.0, surface=r.surface,
                         max_elevation=float(self.max_elevation_m[i]), capacity=r.capacity_tpd,
                         speed_kph=float(self.speed_kph[i]), corridor=r.corridor, side=r.side)
            g.add_edge(r.from_, r.to, key=r.id, **attrs)
            if r.bidirectional:
                g.add_edge(r.to, r.from_, key=r.id, **attrs)
        return g

    # ------------------------------------------------------------------ queries
    @property
    def n_routes(self) -> int:
        """Number of routes."""
        return len(self.routes)

    def nodes_of_kind(self, kind: str, side: str | None = None) -> list[str]:
        """Node ids of one kind (and side), in scenario order."""
        return [n.id for n in self.nodes.values() if n.kind == kind and (side is None or n.side == side)]

    def corridors(self) -> list[str]:
        """Corridor labels used by routes or sources, sorted."""
        labels = {c for c in self.corridor if c} | {n.corridor for n in self.nodes.values() if n.corridor}
        return sorted(labels)

    def corridor_routes(self, corridor: str) -> list[str]:
        """Ids of the routes labelled with this corridor."""
        return [rid for rid, c in zip(self.route_ids, self.corridor, strict=True) if c == corridor]

    def corridor_mask(self, corridor: str) -> np.ndarray:
        """Boolean mask over routes: labelled with this corridor."""
        return self.corridor == corridor

    def corridor_sources(self, corridor: str) -> list[str]:
        """Source nodes of a corridor: sources labelled with it, else sources that its routes touch."""
        labelled = [n.id for n in self.nodes.values() if n.kind == "source" and n.corridor == corridor]
        if labelled:
            return labelled
        touched = {r.from_ for r in self.routes if r.corridor == corridor} | \
                  {r.to for r in self.routes if r.corridor == corridor}
        return [n.id for n in self.nodes.values() if n.kind == "source" and n.id in touched]

    def militant_towns(self) -> list[str]:
        """Towns held by the militant side (the sinks of the connectivity metric)."""
        return self.nodes_of_kind("town", "militant")

    def routes_within(self, node_id: str, range_km: float) -> np.ndarray:
        """Boolean mask: routes whose midpoint lies within ``range_km`` of a node (great circle)."""
        base = self.nodes[node_id]
        out = np.zeros(self.n_routes, dtype=bool)
        for i, r in enumerate(self.routes):
            a, b = self.nodes[r.from_], self.nodes[r.to]
            mid_lat, mid_lon = (a.lat + b.lat) / 2, (a.lon + b.lon) / 2
            out[i] = _haversine_km(base.lat, base.lon, mid_lat, mid_lon) <= range_km
        return out

    def open_subgraph(self, factors: Sequence[float] | np.ndarray | None = None) -> nx.MultiDiGraph:
        """The routes open under per-route capacity factors (0 = closed), capacities scaled."""
        import networkx as nx

        f = self._factors(factors)
        g = nx.MultiDiGraph()
        g.add_nodes_from(self.graph.nodes(data=True))
        for u, v, key, data in self.graph.edges(keys=True, data=True):
            i = data["index"]
            if f[i] > 0:
                g.add_edge(u, v, key=key, **{**data, "capacity": data["capacity"] * f[i]})
        return g

    def flow_graph(self, factors: Sequence[float] | np.ndarray | None = None,
                   side: str = "militant", held: frozenset[str] = frozenset()) -> nx.DiGraph:
        """Routes usable by ``side`` collapsed into a DiGraph with summed capacities.

        Routes held by the other side and nodes held by the army (for the militant side) are left out:
        networkx flow functions need a simple graph, so parallel routes are summed. ``held``: places the
        other side holds beyond their own ``side`` (towns it has taken).
        """
        import networkx as nx

        f = self._factors(factors)
        g = nx.DiGraph()
        for u, v, i, capacity in self.side_arcs(side, held):
            if f[i] <= 0:
                continue
            cap = capacity * f[i]
            if g.has_edge(u, v):
                g[u][v]["capacity"] += cap
            else:
                g.add_edge(u, v, capacity=cap)
        return g

    def side_arcs(self, side: str = "militant", held: frozenset[str] = frozenset()) -> list[tuple[str, str, int, float]]:
        """Every arc ``side`` may use (:func:`~qalamoun_sim.network.sides.side_arcs`), in graph order:
        ``(u, v, route index, nominal capacity)``. ``held``: places taken by the other side since the start."""
        enemy = enemy_of(side)
        node_side = {nid: (enemy if nid in held else n.side) for nid, n in self.nodes.items()}
        return list(side_arcs(self._arcs(), node_side, self.route_side, side))

    def _arcs(self) -> list[tuple[str, str, dict[str, Any]]]:
        """``(u, v, {"index", "capacity"})`` of every arc of :attr:`graph`, in its edge order, made from the
        routes without building the graph (nor importing networkx: the claim's shares need only these).

        A :class:`networkx.MultiDiGraph` lists its edges by tail (nodes in the order they were added), then
        head (in the order of the tail's first edge to it), then key; :meth:`_build_graph` adds every node,
        then each route's edge and, for a bidirectional route, the reverse one. The same dicts, in order,
        give the same list (tests/test_network.py checks it against the graph).
        """
        if self._arc_list is None:
            succ: dict[str, dict[str, dict[str, dict[str, Any]]]] = {nid: {} for nid in self.nodes}
            for i, r in enumerate(self.routes):
                data = {"index": i, "capacity": r.capacity_tpd}
                for u, v in ((r.from_, r.to), (r.to, r.from_)) if r.bidirectional else ((r.from_, r.to),):
                    succ.setdefault(u, {})
                    succ.setdefault(v, {})
                    succ[u].setdefault(v, {})[r.id] = data
            self._arc_list = [(u, v, data) for u, heads in succ.items() for v, keyed in heads.items()
                              for data in keyed.values()]
        return self._arc_list

    def enemy_route_mask(self, side: str = "militant") -> np.ndarray:
        """Boolean mask over routes: held by the side that denies them to ``side``."""
        return self.route_side == enemy_of(side)

    def enemy_node_mask(self, side: str = "militant") -> np.ndarray:
        """Boolean mask over the nodes, in :attr:`nodes` order: held by the side that denies them to ``side``."""
        enemy = enemy_of(side)
        return np.array([n.side == enemy for n in self.nodes.values()], dtype=bool)

    def max_flow(self, corridor: str, factors: Sequence[float] | np.ndarray | None = None,
                 side: str = "militant", held: frozenset[str] = frozenset()) -> float:
        """Maximum flow (t/day) from a corridor's sources to the towns ``side`` holds.

        ``held``: towns (or other places) the other side has taken: no flow goes to or through them.
        Memoized on the factors, since most days repeat an earlier pattern of closures.
        """
        f = self._factors(factors)
        key = (corridor, side, held, f.tobytes())
        hit = self._flow_cache.get(key)
        if hit is not None:
            return hit
        solver = self._solvers.get((corridor, side, held))
        if solver is None:
            solver = self._solvers[(corridor, side, held)] = FlowSolver(self, corridor, side, held)
        value = solver.value(f)
        if len(self._flow_cache) < 500_000:
            self._flow_cache[key] = value
        return value

    def flow_signature(self) -> tuple[Any, ...]:
        """What max flows and corridor cuts depend on: node sides, and each route's ends, capacity, side,
        corridor and direction (not elevations, lengths or speeds)."""
        return (tuple((nid, n.side, n.kind, n.corridor) for nid, n in self.nodes.items()),
                tuple((r.id, r.from_, r.to, r.capacity_tpd, r.side, r.corridor, r.bidirectional) for r in self.routes))

    def share_flow_memos(self, other: RouteNetwork) -> bool:
        """Use ``other``'s memoized max flows, flow solvers and corridor cuts when both have the same
        :meth:`flow_signature` (a network whose passes were only raised or lowered, say); True when shared.

        Examples
        --------
        >>> from qalamoun_sim.scenario import load_scenario
        >>> scn = load_scenario()
        >>> higher = scn.with_updates({"routes[0].max_elevation_m": 2500.0})
        >>> RouteNetwork.from_scenario(higher).share_flow_memos(RouteNetwork.from_scenario(scn))
        True
        """
        if self.flow_signature() != other.flow_signature():
            return False
        self._flow_cache, self._solvers, self._cuts = other._flow_cache, other._solvers, other._cuts
        return True

    def corridor_cuts(self, corridor: str, side: str = "militant",
                      held: frozenset[str] = frozenset()) -> CorridorCuts | None:
        """The corridor's max flow as a minimum over cuts (:class:`~qalamoun_sim.network.cuts.CorridorCuts`),
        built once per ``held`` (towns the other side has taken: neither a way nor a destination).

        None when the corridor has too many end nodes to enumerate its cuts.
        """
        from .cuts import CorridorCuts  # with networkx: a replication never asks

        key = (corridor, side, held)
        if key not in self._cuts:
            sinks = [t for t in self.militant_towns() if t not in held]
            try:
                self._cuts[key] = CorridorCuts(self.side_arcs(side, held), np.flatnonzero(self.corridor_mask(corridor)),
                                               self.corridor_sources(corridor), sinks, corridor)
            except ValueError:
                self._cuts[key] = None
        return self._cuts[key]

    def _factors(self, factors: Sequence[float] | np.ndarray | None) -> np.ndarray:
        if factors is None:
            return np.ones(self.n_routes)
        f = np.asarray(factors, dtype=float)
        if f.shape != (self.n_routes,):
            raise ValueError(f"expected {self.n_routes} route factors, got shape {f.shape}")
        return f

    def unreachable_towns(self) -> list[str]:
        """Towns that no source reaches over the nominal network."""
        return unreachable_towns(self.nodes.values(), self.routes)

    # ------------------------------------------------------------------ report
    def report(self) -> dict[str, Any]:
        """Nodes by kind, routes by surface and corridor, highest passes, nominal max flow per corridor."""
        passes = sorted(((n.elevation_m, n.id) for n in self.nodes.values() if n.kind == "pass"), reverse=True)
        highest_routes = sorted(zip(self.max_elevation_m, self.route_ids, strict=True), reverse=True)
        return {
            "nodes_by_kind": dict(Counter(n.kind for n in self.nodes.values())),
            "routes_by_surface": dict(Counter(self.surface)),
            "routes_by_corridor": dict(Counter(c or "(none)" for c in self.corridor)),
            "highest_passes": [{"id": p, "elevation_m": z} for z, p in passes[:5]],
            "highest_routes": [{"id": r, "max_elevation_m": float(z)} for z, r in highest_routes[:5]],
            "nominal_max_flow_tpd": {c: self.max_flow(c) for c in self.corridors() if self.corridor_sources(c)},
        }

    # ------------------------------------------------------------------ files
    def to_graphml(self, path: str | Path) -> None:
        """Write GraphML that OSMnx loads as it is (``osmnx.load_graphml``) and :meth:`from_graphml` reads back exactly.

        As OSMnx writes a graph: every value a string, integer node ids (the nodes' own ids when every one is
        an integer, OSM ids say; else 0, 1, ... in node order), graph ``crs`` EPSG:4326, node ``x``, ``y`` and
        ``elevation``, edge ``length`` (m), ``highway``, ``oneway``, ``reversed`` and ``geometry`` (WKT); a
        two-way route is two edges, the second ``reversed`` (its geometry and profile reversed too). Ours
        besides: ``qs_id`` (node and route ids), ``qs_index`` (route order), ``qs_surface``, ``length_km``,
        ``capacity_tpd`` and the other route fields; ``tags`` (attributes read from OSMnx) go back as they came.
        Written atomically: a whole file or none.
        """
        import networkx as nx

        from .._version import __version__  # importlib.metadata: only when a file is written

        gid = _graphml_ids(list(self.nodes))
        g = nx.MultiDiGraph(crs="epsg:4326", created_with=f"qalamoun-sim {__version__}", qs_format=GRAPHML_FORMAT,
                            simplified="True")
        for n in self.nodes.values():
            attrs: dict[str, Any] = {**(n.tags or {}), "y": n.lat, "x": n.lon, "elevation": n.elevation_m, "qs_id": n.id,
                     "kind": n.kind, "side": n.side, "supply_tpd": n.supply_tpd, "stock_t": n.stock_t,
                     "consumption_tpd": n.consumption_tpd, "name": n.name, "corridor": n.corridor}
            g.add_node(gid[n.id], **_strings(attrs))
        for i, r in enumerate(self.routes):
            tags = r.tags or {}
            attrs = {**tags, "qs_id": r.id, "qs_index": i, "length": _metres(r), "length_km": r.length_km,
                     "highway": tags.get("highway", HIGHWAY_OF_SURFACE[r.surface]), "qs_surface": r.surface,
                     "qs_derived": None if "highway" in tags else ["highway"],  # not a tag: read back as none
                     "capacity_tpd": r.capacity_tpd, "max_elevation_m": r.max_elevation_m, "speed_kph": r.speed_kph,
                     "corridor": r.corridor, "side": r.side, "ploughed": r.ploughed, "oneway": not r.bidirectional,
                     "reversed": False, "elevation_profile_m": r.elevation_profile_m,
                     "geometry": wkt_linestring(r.geometry) if r.geometry else None}
            g.add_edge(gid[r.from_], gid[r.to], **_strings(attrs))
            if r.bidirectional:  # OSMnx's reverse edge of a two-way street
                back = {**attrs, "reversed": True,
                        "elevation_profile_m": r.elevation_profile_m[::-1] if r.elevation_profile_m else None,
                        "geometry": wkt_linestring(r.geometry[::-1]) if r.geometry else None}
                g.add_edge(gid[r.to], gid[r.from_], **_strings(back))
        atomic_write(path, lambda tmp: nx.write_graphml(g, str(tmp)))

    @classmethod
    def from_graphml(cls, path: str | Path, network: NetworkSource | None = None,
                     speeds_kph: Mapping[str, float] | None = None) -> RouteNetwork:
        """Read a GraphML file: ours (:meth:`to_graphml`, either format) or an OSMnx graph (``ox.save_graphml``).

        The reading rules are :mod:`qalamoun_sim.scenario.graphml`'s: two directions of a two-way street
        are one bidirectional route, every other edge a one-way route. ``network`` gives roles, capacities
        and surfaces as a scenario's ``[network]`` section does. Raises
        :class:`~qalamoun_sim.errors.ScenarioError` naming the file, the field and the element.
        """
        nodes, routes = read_graphml_network(path, network)
        return cls(nodes, routes, speeds_kph)

    def to_geojson(self, folder: str | Path | None = None, *, node_columns: Columns | None = None,
                   route_columns: Columns | None = None) -> dict[str, dict[str, Any]]:
        """GeoJSON, one FeatureCollection per layer: ``{"nodes": Points, "routes": LineStrings}``.

        Routes are drawn along their ``geometry`` (else the straight line between their ends);
        ``node_columns`` / ``route_columns`` add columns (``{column: {id: value}}``, e.g. results).
        With ``folder``, written as ``folder/nodes.geojson`` and ``folder/routes.geojson``
        (:func:`~qalamoun_sim.network.gis.geojson_layers`; a GeoPackage: ``gis.write_geopackage``).
        """
        from .gis import geojson_layers, write_geojson

        layers = geojson_layers(self, node_columns, route_columns)
        if folder is not None:
            write_geojson(layers, folder)
        return layers


def _graphml_ids(ids: Sequence[str]) -> dict[str, int]:
    """GraphML node ids as OSMnx reads them (integers): the ids themselves when all are, else 0, 1, ..."""
    if all(i.isascii() and i.isdigit() and str(int(i)) == i for i in ids):
        return {i: int(i) for i in ids}
    return {i: k for k, i in enumerate(ids)}


def _metres(route: Route) -> float | str:
    """``length`` in metres: as the file it was read from gave it, while it still gives the route's km."""
    given = (route.tags or {}).get("length")
    try:
        if given is not None and float(given) / 1000.0 == route.length_km:
            return given
    except ValueError:
        pass
    return route.length_km * 1000.0


def _strings(attrs: Mapping[str, Any]) -> dict[str, str]:
    """Attribute values as OSMnx writes them: ``str`` of each (lists as JSON), None left out."""
    return {k: json.dumps(v) if isinstance(v, list) else str(v) for k, v in attrs.items() if v is not None}


def _highest_point(route: Route, elevations: dict[str, float]) -> float:
    if route.elevation_profile_m:
        top = max(route.elevation_profile_m)
        return max(top, route.max_elevation_m) if route.max_elevation_m is not None else top
    if route.max_elevation_m is not None:
        return route.max_elevation_m
    return max(elevations.get(route.from_, 0.0), elevations.get(route.to, 0.0))
