"""Synthetic route networks of any size, for scaling studies and benchmarks.

A grid or a random geometric graph over a 1 degree x 1 degree box near the Qalamoun, with
elevations from a terrain-like field (a north-south ridge plus random smooth bumps), sources on
the ridge side, towns, and passes where routes cross high ground. All of it is illustrative.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

import networkx as nx
import numpy as np

from .loader import scenario_from_dict
from .schema import Scenario

__all__ = ["synthetic_scenario", "terrain_elevation"]

_CAPACITY = {"road": 150.0, "track": 40.0, "trail": 5.0}   # [E] as in the reference scenario
_SURFACE_P = {"road": 0.2, "track": 0.5, "trail": 0.3}     # [E]


def terrain_elevation(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, bumps: int = 12) -> np.ndarray:
    """Elevation (m) on the unit square: a ridge near x = 0.25 (the crest), a plateau, random bumps."""
    z = 1200.0 + 1000.0 * np.exp(-(((x - 0.25) / 0.12) ** 2))
    cx, cy = rng.random(bumps), rng.random(bumps)
    h, w = rng.normal(0.0, 250.0, bumps), rng.uniform(0.05, 0.2, bumps)
    for i in range(bumps):
        z = z + h[i] * np.exp(-(((x - cx[i]) ** 2 + (y - cy[i]) ** 2) / w[i] ** 2))
    return np.clip(z, 300.0, 3000.0)


def _graph(kind: str, n_routes: int, rng: np.random.Generator) -> tuple[nx.Graph, dict[Any, tuple[float, float]]]:
    if kind == "grid":
        m = max(2, round((1 + math.sqrt(1 + 2 * n_routes)) / 2))  # 2 m (m - 1) edges
        g = nx.grid_2d_graph(m, m)
        pos = {v: (v[0] / (m - 1), v[1] / (m - 1)) for v in g}
        return nx.convert_node_labels_to_integers(g, label_attribute="cell"), \
            {i: pos[c] for i, c in enumerate(g.nodes)}
    n = max(4, int(n_routes / 2.5))
    radius = math.sqrt(5.0 / (math.pi * n))  # mean degree ~5, i.e. ~2.5 routes per node
    g = nx.random_geometric_graph(n, radius, seed=int(rng.integers(2**31)))
    giant = max(nx.connected_components(g), key=len)
    g = nx.convert_node_labels_to_integers(g.subgraph(giant).copy())
    return g, {v: tuple(g.nodes[v]["pos"]) for v in g}


def synthetic_scenario(n_routes: int = 1000, *, kind: Literal["grid", "geometric"] = "grid", seed: int = 0,
                       days: int = 181, sources: int | None = None, town_fraction: float = 0.2,
                       interdiction: bool = True, snow: bool = True, convoy_t: float | None = None) -> Scenario:
    """A validated scenario with about ``n_routes`` routes (exactly ``2 m (m - 1)`` for a grid).

    Parameters
    ----------
    n_routes : int
        Routes wanted; a grid has ``m x m`` nodes and the ``m`` closest to this, a geometric graph
        about ``n_routes / 2.5`` nodes (its largest connected part is kept).
    kind : {"grid", "geometric"}
    seed : int
        Seeds the network (and is the scenario's seed): the same arguments give the same scenario.
    days : int
    sources : int, optional
        Number of sources (default one per 200 nodes, at least one), each supplying 100 t/day, drawn
        among the westernmost tenth of the nodes.
    town_fraction : float
        Share of the other nodes that are towns (200 t of stock, 8 t/day of need).
    interdiction : bool
        Add an army air base and an ``[interdiction]`` section (six strikes a day); without it there
        are no strikes, checkpoints, captures or settlements.
    snow : bool
        With False, a winter without precipitation or storms: no snow, so no route ever closes.
    convoy_t : float, optional
        Tonnes per convoy (the ``[engine]`` default when not given).

    Examples
    --------
    >>> s = synthetic_scenario(40, seed=1, days=10)
    >>> len(s.routes), s.scenario.days
    (40, 10)
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    g, pos = _graph(kind, n_routes, rng)
    nodes_ids = sorted(g.nodes)
    x = np.array([pos[v][0] for v in nodes_ids])
    y = np.array([pos[v][1] for v in nodes_ids])
    z = terrain_elevation(x, y, rng)
    n_src = sources or max(1, len(nodes_ids) // 200)
    west = np.argsort(x)[: max(n_src, len(nodes_ids) // 10)]  # sources west of the crest, like Arsal
    src = set(rng.choice(west, size=n_src, replace=False).tolist())
    others = [i for i in range(len(nodes_ids)) if i not in src]
    towns = set(rng.choice(others, size=max(1, int(town_fraction * len(others))), replace=False).tolist())
    nodes = []
    for i, v in enumerate(nodes_ids):
        kind_i = "source" if i in src else "town" if i in towns else ("pass" if z[i] >= 1900 else "junction")
        node = {"id": f"n{v}", "kind": kind_i, "side": "militant", "elevation_m": round(float(z[i]), 1),
                "lat": 33.6 + float(y[i]), "lon": 36.0 + float(x[i])}
        if kind_i == "source":
            node.update(supply_tpd=100.0, corridor="main")
        elif kind_i == "town":
            node.update(stock_t=200.0, consumption_tpd=8.0)
        nodes.append(node)
    index = {v: i for i, v in enumerate(nodes_ids)}
    surfaces = list(_SURFACE_P)
    draws = rng.choice(len(surfaces), size=g.number_of_edges(), p=list(_SURFACE_P.values()))
    bumps = rng.uniform(0.0, 150.0, g.number_of_edges())
    hops = nx.multi_source_dijkstra_path_length(g, [nodes_ids[i] for i in src], cutoff=2, weight=None)
    routes = []
    for k, (u, v) in enumerate(sorted(g.edges)):
        a, b = index[u], index[v]
        surface = surfaces[draws[k]]
        km = 111.0 * math.hypot(x[a] - x[b], y[a] - y[b]) * 1.3  # terrain stretch [E]
        near = u in hops and v in hops
        routes.append({"id": f"r{k}", "from": f"n{u}", "to": f"n{v}", "length_km": round(max(km, 0.5), 3),
                       "max_elevation_m": round(float(max(z[a], z[b]) + bumps[k]), 1), "surface": surface,
                       "capacity_tpd": _CAPACITY[surface], "corridor": "main" if near else "interior"})
    doc: dict[str, Any] = {
        "scenario": {"name": f"synthetic {kind} network, {len(routes)} routes (illustrative)",
                     "start": dt.date(2013, 11, 1), "days": days, "seed": seed, "replications": 10},
        "nodes": nodes, "routes": routes, "claim": {"corridor": "main"},
    }
    if not snow:
        doc["weather"] = {"monthly_precip_mm": [0.0] * 12, "storms_per_month": [0.0] * 12}
    if convoy_t is not None:
        doc["engine"] = {"convoy_t": float(convoy_t)}
    if interdiction:
        base = {"id": "base", "kind": "base", "side": "army", "elevation_m": 1300.0, "lat": 34.1, "lon": 36.75}
        doc["nodes"].append(base)
        doc["interdiction"] = {"assets": [{"id": "air", "kind": "air", "base": "base", "range_km": 200.0,
                                           "strikes_per_day": 6, "hit_probability": 0.3, "repair_days": 3}]}
    return scenario_from_dict(doc, source=f"<synthetic {kind} {n_routes}>")
