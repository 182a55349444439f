"""GraphML to a scenario document: OSMnx attribute names read into ``nodes`` and ``routes`` lists.

Data only (no network object): the loader validates the document like any other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx

__all__ = ["graphml_to_document", "HIGHWAY_OF_SURFACE", "truthy"]

# OSMnx `highway` tags for our surfaces, and back (unknown tags read as tracks).
HIGHWAY_OF_SURFACE = {"road": "primary", "track": "track", "trail": "path"}
_SURFACE_OF_HIGHWAY = {
    **{t: "road" for t in ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified",
                           "residential", "service", "motorway_link", "trunk_link", "primary_link",
                           "secondary_link", "tertiary_link", "road")},
    "track": "track",
    **{t: "trail" for t in ("path", "footway", "bridleway", "steps", "pedestrian", "trail")},
}
# Capacity when a GraphML edge has none [E]: a road carries trucks, a track pickups, a trail mules.
_DEFAULT_CAPACITY_TPD = {"road": 200.0, "track": 40.0, "trail": 5.0}


def graphml_to_document(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Read a GraphML file into scenario ``nodes`` and ``routes`` lists (not yet validated).

    Accepts OSMnx names (``x``, ``y``, ``elevation``, ``length`` in metres, ``highway``); every
    attribute is coerced by the scenario schema afterwards, so string-typed files load too.
    """
    g = nx.read_graphml(str(path), force_multigraph=True)
    nodes: list[dict[str, Any]] = []
    for nid, d in g.nodes(data=True):
        node = {"id": str(nid), "kind": d.get("kind", "junction"), "side": d.get("side", "neutral"),
                "elevation_m": d.get("elevation", d.get("elevation_m")), "lat": d.get("y", d.get("lat")),
                "lon": d.get("x", d.get("lon"))}
        for key in ("supply_tpd", "stock_t", "consumption_tpd", "name", "corridor"):
            if key in d:
                node[key] = d[key]
        nodes.append({k: v for k, v in node.items() if v is not None})
    routes: list[dict[str, Any]] = []
    edges = sorted(g.edges(keys=True, data=True), key=lambda e: int(e[3].get("index", -1)))  # scenario order
    for u, v, k, d in edges:
        surface = d.get("surface") or _SURFACE_OF_HIGHWAY.get(str(d.get("highway", "track")), "track")
        route: dict[str, Any] = {
            "id": str(d.get("id", f"{u}-{v}-{k}")), "from": str(u), "to": str(v),
            "length_km": float(d["length"]) / 1000.0 if "length" in d else None,
            "surface": surface,
            "capacity_tpd": d.get("capacity_tpd", _DEFAULT_CAPACITY_TPD.get(surface, 40.0)),
            "bidirectional": not truthy(d.get("oneway", False)),
        }
        for key in ("max_elevation_m", "speed_kph", "corridor", "side", "ploughed"):
            if key in d:
                route[key] = d[key]
        if "elevation_profile_m" in d:
            route["elevation_profile_m"] = json.loads(d["elevation_profile_m"])
        routes.append({key: val for key, val in route.items() if val is not None})
    return {"nodes": nodes, "routes": routes}


def truthy(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")
