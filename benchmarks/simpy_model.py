"""A minimal hand-written SimPy supply model, the yardstick of ``benchmarks/run.py`` (written here).

What a modeller would write in an afternoon to move supplies over a network with SimPy, and no more:

- every node is one SimPy process that wakes once a day (``yield env.timeout(1)``);
- a source adds its day's supply to its stock; a town eats its day's need from its stock;
- every node that has stock and lies on the way to a town ships all of it, split evenly, to its
  children in a distribution tree: the breadth-first tree from all sources at once over the routes
  that can be used in that direction, pruned to the branches that reach a town;
- each shipment is a process of its own that waits the route's travel time and adds its tonnes to
  the next node's stock.

No weather, no strikes, no routing choices, no capacities, no records beyond the delivered and
consumed totals: the floor of what a supply model over this network costs in SimPy. ``run.py``
divides the engine's CPU time per node-day by this model's, on the same network and horizon.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import simpy

__all__ = ["SupplyModel", "model_from_network", "run_model"]


@dataclass
class SupplyModel:
    """Plain data of one network: per node its supply, need, stock and children with travel days."""

    supply: list[float]
    need: list[float]
    stock: list[float]
    children: list[list[tuple[int, float]]] = field(default_factory=list)

    @property
    def n_nodes(self) -> int:
        return len(self.supply)


def _tree(n: int, arcs: list[tuple[int, int, float]], sources: list[int], towns: set[int]) -> list[list[tuple[int, float]]]:
    """Children lists of the breadth-first tree from ``sources``, pruned to branches reaching a town."""
    out: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for u, v, days in arcs:
        out[u].append((v, days))
    parent: dict[int, tuple[int, float]] = {}
    seen = set(sources)
    queue = deque(sources)
    order: list[int] = []
    while queue:
        u = queue.popleft()
        order.append(u)
        for v, days in out[u]:
            if v not in seen:
                seen.add(v)
                parent[v] = (u, days)
                queue.append(v)
    useful = set(towns)
    for v in reversed(order):  # children before parents
        if v in useful and v in parent:
            useful.add(parent[v][0])
    children: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for v, (u, days) in parent.items():
        if v in useful:
            children[u].append((v, days))
    return children


def model_from_network(network: Any) -> SupplyModel:
    """The :class:`SupplyModel` of a :class:`qalamoun_sim.network.RouteNetwork` (its nominal travel times)."""
    ids = list(network.nodes)
    index = {k: i for i, k in enumerate(ids)}
    days = (network.length_km / network.speed_kph / 24.0).tolist()
    arcs: list[tuple[int, int, float]] = []
    for i, r in enumerate(network.routes):
        arcs.append((index[r.from_], index[r.to], days[i]))
        if r.bidirectional:
            arcs.append((index[r.to], index[r.from_], days[i]))
    nodes = [network.nodes[k] for k in ids]
    sources = [i for i, nd in enumerate(nodes) if nd.kind == "source"]
    towns = {i for i, nd in enumerate(nodes) if nd.kind == "town" and nd.consumption_tpd > 0}
    return SupplyModel(supply=[nd.supply_tpd if nd.kind == "source" else 0.0 for nd in nodes],
                       need=[nd.consumption_tpd if i in towns else 0.0 for i, nd in enumerate(nodes)],
                       stock=[nd.stock_t if i in towns else 0.0 for i, nd in enumerate(nodes)],
                       children=_tree(len(ids), arcs, sources, towns))


def run_model(model: SupplyModel, days: int) -> dict[str, float]:
    """Simulate ``days`` days in a fresh environment; tonnes delivered to towns and eaten there."""
    env = simpy.Environment()
    stock = list(model.stock)
    totals = {"delivered_t": 0.0, "consumed_t": 0.0, "shipments": 0}

    def shipment(to: int, tonnes: float, travel: float):
        yield env.timeout(travel)
        stock[to] += tonnes
        if model.need[to] > 0:
            totals["delivered_t"] += tonnes

    def node(i: int):
        supply, need, kids = model.supply[i], model.need[i], model.children[i]
        for _ in range(days):
            yield env.timeout(1)
            stock[i] += supply
            if need > 0:
                eaten = min(need, stock[i])
                stock[i] -= eaten
                totals["consumed_t"] += eaten
            if kids and stock[i] > 0:
                part = stock[i] / len(kids)
                stock[i] = 0.0
                for to, travel in kids:
                    env.process(shipment(to, part, travel))
                totals["shipments"] += len(kids)

    for i in range(model.n_nodes):
        env.process(node(i))
    env.run()
    return totals
