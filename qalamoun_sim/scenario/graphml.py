"""GraphML to a scenario document: an OSMnx graph (or our own export) read into ``nodes`` and ``routes`` lists.

Reading rules (``docs/guides.md``, "From GraphML (OSMnx)"):

* Directed edges stay directed. OSMnx stores a two-way street as two edges, u->v and v->u, with ``oneway``
  false (``reversed`` true on the second): such a pair (same ``qs_id``, or same OSM way ids, and lengths within
  1 m or 0.1 %) is ONE bidirectional route, running the way of the edge with ``reversed`` false. Every other
  edge is a one-way route: a ``oneway`` edge, and a two-way edge whose reverse the file lacks. An undirected
  file's edges are bidirectional routes. Loops (u -> u, loop roads) lead nowhere and are left out, with a
  :class:`LoopEdgeWarning`.
* ``highway`` maps to a surface through :data:`~qalamoun_sim.scenario.highways.SURFACE_OF_HIGHWAY` (a list of
  tags: the most capable), capacity by tag or surface; an unknown tag is an error unless mapped.
* ``geometry`` (WKT ``LINESTRING``, as OSMnx writes it) becomes the route's (lon, lat) vertices.
* Attributes the model does not use (``osmid``, ``name``, ``highway``, ``street_count``...) are kept verbatim
  in the node's or route's ``tags`` and written back by :meth:`RouteNetwork.to_graphml`.

Files written by the first ``to_graphml`` (string node ids, one edge per route) still read as before.
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..errors import ScenarioError
from .base import SURFACES
from .highways import HIGHWAY_OF_SURFACE, UnknownHighway, surface_and_capacity
from .messages import first_error
from .schema import Node, Route
from .schema_network import NetworkSource

if TYPE_CHECKING:  # pragma: no cover - networkx is imported where a file is read
    import networkx as nx

__all__ = ["graphml_to_document", "read_graphml_network", "GraphMLError", "LoopEdgeWarning", "HIGHWAY_OF_SURFACE", "truthy", "parse_wkt_linestring",
           "wkt_linestring", "FORMAT", "NODE_FIELDS", "EDGE_FIELDS"]

#: ``qs_format`` of the files :meth:`RouteNetwork.to_graphml` writes (absent in the first format).
FORMAT = "2"
#: Node attributes the model reads (others go to ``tags``).
NODE_FIELDS = frozenset({"qs_id", "x", "y", "elevation", "kind", "side", "name", "supply_tpd", "stock_t",
                         "consumption_tpd", "corridor", "lat", "lon", "elevation_m"})
#: Edge attributes the model reads (others go to ``tags``; ``surface`` only when it is one of ours).
EDGE_FIELDS = frozenset({"qs_id", "qs_index", "qs_derived", "id", "index", "length", "length_km", "oneway", "reversed",
                         "geometry", "qs_surface", "surface", "capacity_tpd", "max_elevation_m", "speed_kph", "corridor", "side",
                         "ploughed", "elevation_profile_m"})


class LoopEdgeWarning(UserWarning):
    """Edges from a node to itself (OSMnx keeps loop roads) were left out: a route joins two places."""


class GraphMLError(ValueError):
    """Bad content in a GraphML file or in the ``[network]`` entries that refer to it: a field and a message."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}" if field else message)


def graphml_to_document(path: str | Path, network: NetworkSource | None = None,
                        name: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Read a GraphML file into scenario ``nodes`` and ``routes`` lists (not yet validated by the schema).

    Parameters
    ----------
    path : path
        The GraphML file: an OSMnx graph (``ox.save_graphml``) or one :meth:`RouteNetwork.to_graphml` wrote.
    network : NetworkSource, optional
        The scenario's ``[network]`` section: roles of nodes, capacities, surfaces, corridors.
    name : str, optional
        How error messages name the file (default: its name).

    Raises
    ------
    GraphMLError
        An unknown highway tag, a role naming no node, a bad geometry, a corridor without sources.
    """
    import networkx as nx  # here, not at import: a replication never reads a file

    network = network or NetworkSource(graphml=str(path))
    name = name or Path(path).name
    g = nx.read_graphml(str(path), force_multigraph=True)
    nodes, ids = _read_nodes(g)
    _apply_roles(nodes, network, name)
    coords = {n["id"]: (n.get("lon"), n.get("lat")) for n in nodes}
    legacy = g.graph.get("qs_format") is None and any("index" in d for _, _, d in g.edges(data=True))
    routes = [_route(edge, ids, coords, network, both, name) for edge, both in _directions(g, legacy)]
    order = [r.pop("_index") for r in routes]
    if legacy or g.graph.get("qs_format") is not None:  # scenario order
        routes = [r for _, r in sorted(zip([-1.0 if i is None else i for i in order], routes, strict=True),
                                       key=lambda pair: pair[0])]
    _apply_corridors(nodes, routes, network, name)
    return {"nodes": nodes, "routes": routes}


def read_graphml_network(path: str | Path, network: NetworkSource | None = None) -> tuple[list[Node], list[Route]]:
    """The validated nodes and routes of a GraphML file (:func:`graphml_to_document`, then the schema).

    Raises
    ------
    ScenarioError
        Naming the file, the field and the GraphML element, e.g.
        ``n.graphml: routes[0].length_km: must be > 0 (GraphML edge 'r0')``.
    """
    source = str(path)
    try:
        doc = graphml_to_document(path, network)
    except GraphMLError as exc:
        raise ScenarioError(source, exc.field, exc.message) from None
    except Exception as exc:  # a broken file, whatever the parser raises
        raise ScenarioError(source, None, f"cannot read GraphML: {exc}") from None
    nodes = [_validated(Node, item, f"nodes[{i}]", "node", source) for i, item in enumerate(doc["nodes"])]
    routes = [_validated(Route, item, f"routes[{i}]", "edge", source) for i, item in enumerate(doc["routes"])]
    return nodes, routes


def _validated(model: type[Any], item: dict[str, Any], where: str, element: str, source: str) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        field, message = first_error(exc)
        raise ScenarioError(source, f"{where}.{field}" if field else where,
                            f"{message} (GraphML {element} '{item.get('id')}')") from None


# --------------------------------------------------------------------------- nodes
def _read_nodes(g: nx.MultiGraph) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Node dicts in file order, and each GraphML id's node id (``qs_id`` when there is one)."""
    nodes: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    for raw, d in g.nodes(data=True):
        nid = str(d.get("qs_id", raw))
        ids[str(raw)] = nid
        node = {"id": nid, "kind": d.get("kind", "junction"), "side": d.get("side", "neutral"),
                "elevation_m": _number(d.get("elevation", d.get("elevation_m"))),
                "lat": _number(d.get("y", d.get("lat"))), "lon": _number(d.get("x", d.get("lon")))}
        for key in ("supply_tpd", "stock_t", "consumption_tpd"):
            if key in d:
                node[key] = _number(d[key])
        for key in ("name", "corridor"):
            if key in d:
                node[key] = str(d[key])
        tags = {k: str(v) for k, v in d.items() if k not in NODE_FIELDS}
        if tags:
            node["tags"] = tags
        nodes.append({k: v for k, v in node.items() if v is not None})
    return nodes, ids


def _apply_roles(nodes: list[dict[str, Any]], network: NetworkSource, name: str) -> None:
    by_id = {n["id"]: n for n in nodes}
    for i, role in enumerate(network.roles):
        node = by_id.get(role.node)
        if node is None:
            close = difflib.get_close_matches(role.node, list(by_id), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise GraphMLError(f"network.roles[{i}].node", f"no node '{role.node}' in {name}{hint}")
        node.update(role.node_fields())


# --------------------------------------------------------------------------- edges
Edge = tuple[str, str, Any, dict[str, Any]]


def _directions(g: nx.MultiGraph, legacy: bool) -> list[tuple[Edge, Edge | None]]:
    """Each route's edge, in file order, with the reverse edge that makes it two-way (None: one-way).

    Undirected and first-format files: each edge is a route, two-way unless ``oneway``.
    """
    edges: list[Edge] = [(str(u), str(v), k, d) for u, v, k, d in g.edges(keys=True, data=True) if u != v]
    if len(edges) < g.number_of_edges():
        warnings.warn(f"{g.number_of_edges() - len(edges)} loop edge(s) (u -> u, a loop road) left out: a route "
                      "joins two different places", LoopEdgeWarning, stacklevel=2)
    if not g.is_directed() or legacy:
        return [(e, None if g.is_directed() and truthy(e[3].get("oneway", False)) else e) for e in edges]
    pending: dict[tuple[str, str, Any], list[int]] = {}
    partner: dict[int, int] = {}
    for i, (u, v, _, d) in enumerate(edges):
        if truthy(d.get("oneway", False)):
            continue
        key = _pair_key(d)
        waiting = pending.get((v, u, key), [])
        j = _closest(i, waiting, edges)
        if j is None:
            pending.setdefault((u, v, key), []).append(i)
        else:
            waiting.remove(j)
            partner[i], partner[j] = j, i
    out: list[tuple[Edge, Edge | None]] = []
    for i, e in enumerate(edges):
        j = partner.get(i)
        if j is None:
            out.append((e, None))
        elif j > i:  # the pair's first edge in the file places it; the edge not `reversed` gives its way
            first, second = (e, edges[j]) if not truthy(e[3].get("reversed", False)) else (edges[j], e)
            out.append((first, second))
    return out


def _pair_key(d: dict[str, Any]) -> Any:
    """What two directions of one street share: our route id, else the OSM way ids (as a set)."""
    if "qs_id" in d:
        return ("qs", str(d["qs_id"]))
    if "osmid" in d:
        ids = _literal(d["osmid"])
        return ("osm", frozenset(str(x) for x in (ids if isinstance(ids, list) else [ids])))
    return None


def _closest(i: int, candidates: list[int], edges: list[Edge]) -> int | None:
    """The candidate reverse edge whose length is nearest edge ``i``'s, within 1 m or 0.1 % (any when unknown)."""
    mine = _float_or_none(edges[i][3].get("length"))
    best, gap = None, math.inf
    for j in candidates:
        other = _float_or_none(edges[j][3].get("length"))
        diff = 0.0 if mine is None or other is None else abs(mine - other)
        if diff <= max(1.0, 1e-3 * max(mine or 0.0, other or 0.0)) and diff < gap:
            best, gap = j, diff
    return best


def _route(edge: Edge, ids: dict[str, str], coords: dict[str, tuple[Any, Any]], network: NetworkSource,
           reverse: Edge | None, name: str) -> dict[str, Any]:
    u, v, k, d = edge
    rid = str(d.get("qs_id", d.get("id", f"{u}-{v}-{k}")))
    where = f"edge '{rid}' ({u} -> {v})"
    geometry = _geometry(d.get("geometry"), where)
    surface = next((d[k] for k in ("qs_surface", "surface") if d.get(k) in SURFACES), None)
    try:
        by_tags, capacity = surface_and_capacity(_tags(d.get("highway")), network.surfaces, network.capacity_tpd,
                                                 surface or network.default_surface)
    except UnknownHighway as exc:
        raise GraphMLError("network.graphml", f"{where} of {name}: {exc}") from None
    route: dict[str, Any] = {
        "id": rid, "from": ids[u], "to": ids[v], "length_km": _length_km(d, geometry, coords, ids[u], ids[v]),
        "surface": surface or by_tags, "capacity_tpd": _number(d.get("capacity_tpd", capacity)),
        "bidirectional": reverse is not None, "_index": _float_or_none(d.get("qs_index", d.get("index"))),
    }
    route.update({key: _number(d[key]) for key in ("max_elevation_m", "speed_kph") if key in d})
    route.update({key: str(d[key]) for key in ("corridor", "side") if key in d})
    if "ploughed" in d:
        route["ploughed"] = truthy(d["ploughed"])
    if "elevation_profile_m" in d:
        profile = _literal(d["elevation_profile_m"])
        route["elevation_profile_m"] = [_number(z) for z in profile] if isinstance(profile, list) else profile
    if geometry is not None:
        route["geometry"] = geometry
    # an OSM `surface` (asphalt, gravel...) is a tag; so is ours in a file that has `qs_surface` as well
    derived = set(_tags(d.get("qs_derived")))  # what to_graphml wrote for OSMnx, not read from it (highway)
    tags = {key: str(val) for key, val in d.items() if key not in derived and (
        key not in EDGE_FIELDS or key == "surface" and (val not in SURFACES or "qs_surface" in d))}
    metres = _float_or_none(d.get("length"))
    if metres is not None and isinstance(route["length_km"], float) and route["length_km"] * 1000.0 != metres:
        tags["length"] = str(d["length"])  # metres that km do not give back exactly: written back as they came
    if tags:
        route["tags"] = tags
    return {key: val for key, val in route.items() if val is not None or key == "_index"}


def _length_km(d: dict[str, Any], geometry: list[tuple[float, float]] | None,
               coords: dict[str, tuple[Any, Any]], a: str, b: str) -> float | None:
    """``length`` (m) in km; ``length_km`` where it agrees (ours, exact); else along the geometry or the ends."""
    if "length" in d:
        try:
            km = float(d["length"]) / 1000.0
        except (TypeError, ValueError):
            return d["length"]  # the schema says what is wrong with it
        exact = _float_or_none(d.get("length_km"))
        return exact if exact is not None and abs(exact - km) < 1e-6 else km
    try:
        points = geometry or [(float(coords[a][0]), float(coords[a][1])), (float(coords[b][0]), float(coords[b][1]))]
    except (TypeError, ValueError):
        return None
    return sum(_haversine_km(p, q) for p, q in zip(points, points[1:], strict=False)) or None


def _haversine_km(p: tuple[float, float], q: tuple[float, float]) -> float:
    (lon1, lat1), (lon2, lat2) = p, q
    a = (math.sin(math.radians(lat2 - lat1) / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2))
         * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


# --------------------------------------------------------------------------- corridors
def _apply_corridors(nodes: list[dict[str, Any]], routes: list[dict[str, Any]], network: NetworkSource,
                     name: str) -> None:
    """Label routes with corridors: listed ids first, then routes reachable from a corridor's sources.

    A corridor of a source that no route carries and that ``network.corridors`` does not name is
    ``"reachable"``. A route that two "reachable" corridors reach is an error (list one's routes).
    """
    by_id = {r["id"]: r for r in routes}
    reachable = [c for c, rule in network.corridors.items() if rule == "reachable"]
    for corridor, rule in network.corridors.items():
        for j, rid in enumerate(rule if isinstance(rule, list) else []):
            if rid not in by_id:
                close = difflib.get_close_matches(rid, list(by_id), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise GraphMLError(f"network.corridors.{corridor}[{j}]", f"no route '{rid}' in {name}{hint}")
            by_id[rid]["corridor"] = corridor
    carried = {r.get("corridor") for r in routes}
    for n in nodes:
        c = n.get("corridor")
        if n.get("kind") == "source" and c and c not in carried and c not in network.corridors and c not in reachable:
            reachable.append(c)
    owner: dict[str, str] = {}
    for corridor in reachable:
        sources = [n["id"] for n in nodes if n.get("kind") == "source" and n.get("corridor") == corridor]
        if not sources:
            raise GraphMLError(f"network.corridors.{corridor}", f"no source of corridor '{corridor}' (give one a "
                               f"role: kind = \"source\", corridor = \"{corridor}\")")
        for rid in _reachable_routes(sources, routes):
            if by_id[rid].get("corridor"):
                continue
            if owner.setdefault(rid, corridor) != corridor:
                raise GraphMLError("network.corridors", f"route '{rid}' is reachable from the sources of both "
                                   f"'{owner[rid]}' and '{corridor}': list one corridor's routes "
                                   f"(network.corridors.{corridor} = [...])")
    for rid, corridor in owner.items():
        by_id[rid]["corridor"] = corridor


def _reachable_routes(sources: Iterable[str], routes: list[dict[str, Any]]) -> list[str]:
    """Ids of the routes that leave a node reachable from ``sources`` (routes followed their way)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for r in routes:
        out.setdefault(r["from"], []).append((r["id"], r["to"]))
        if r["bidirectional"]:
            out.setdefault(r["to"], []).append((r["id"], r["from"]))
    seen, stack, found = set(sources), list(sources), {}
    while stack:
        for rid, nxt in out.get(stack.pop(), []):
            found[rid] = True
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return list(found)


# --------------------------------------------------------------------------- values
def truthy(value: Any) -> bool:
    """A GraphML boolean: ``True``/``true``/``1``/``yes``; a list (a simplified OSMnx way) is true if any item is."""
    value = _literal(value)
    if isinstance(value, list):
        return any(truthy(v) for v in value)
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")


def _literal(value: Any) -> Any:
    """A list written as text (``"[1800.0, 2100.5]"``, ``"['service', 'unclassified']"``) as a list."""
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        for parse in (json.loads, ast.literal_eval):
            try:
                return parse(value)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
    return value


def _tags(value: Any) -> list[str]:
    value = _literal(value)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _number(value: Any) -> Any:
    """A number written as text as a float; anything else as it is (the schema says what is wrong with it)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


_WKT = re.compile(r"^\s*LINESTRING\s*(?:ZM|Z|M)?\s*(?:\((?P<body>[^()]*)\)|(?P<empty>EMPTY))\s*$", re.IGNORECASE)


def parse_wkt_linestring(text: str) -> list[tuple[float, float]] | None:
    """The (lon, lat) vertices of a WKT ``LINESTRING`` (z and m dropped; None when ``EMPTY``).

    Examples
    --------
    >>> parse_wkt_linestring("LINESTRING (36.4 34.1, 36.41 34.11)")
    [(36.4, 34.1), (36.41, 34.11)]
    """
    m = _WKT.match(text)
    if m is None:
        raise ValueError(f"not a WKT LINESTRING: {text[:60]!r}")
    if m.group("empty"):
        return None
    points = []
    for vertex in m.group("body").split(","):
        parts = vertex.split()
        if len(parts) < 2:
            raise ValueError(f"a LINESTRING vertex needs x and y: {vertex.strip()[:40]!r}")
        points.append((float(parts[0]), float(parts[1])))
    return points


def wkt_linestring(points: Iterable[tuple[float, float]]) -> str:
    """WKT of a LINESTRING, every coordinate exact (``repr``): what OSMnx and shapely read."""
    return "LINESTRING (" + ", ".join(f"{x!r} {y!r}" for x, y in points) + ")"


def _geometry(value: Any, where: str) -> list[tuple[float, float]] | None:
    if value is None:
        return None
    try:
        return parse_wkt_linestring(str(value))
    except ValueError as exc:
        raise GraphMLError("network.graphml", f"{where}: geometry: {exc}") from None
