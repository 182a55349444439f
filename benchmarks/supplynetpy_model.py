"""The same supply network in SupplyNetPy, for benchmarks/run.py (needs the ``bench`` extra).

SupplyNetPy models a supply chain as sites that hold stock and reorder from their suppliers over
links with a lead time; it has no multi-hop routing. The equivalent of one of our scenarios:

- each source is a raw-material ``Supplier`` that mines its ``supply_tpd`` every day;
- every other node is an ``InventoryNode`` -- towns as retailers (their initial stock, a customer
  ``Demand`` of ``consumption_tpd`` every day that takes what is there), junctions and passes as
  distributors that relay -- each reviewing its stock once a day with an (s, S) policy;
- each route is one ``Link`` whose lead time is the route's nominal travel time, pointing away from
  the sources (from the end fewer hops from a source to the other, ties by node order), so that
  every site has a supplier. A route between two sources has no SupplyNetPy equivalent (a supplier
  cannot buy) and is left out.

So both models have the same nodes, the same routes and the same daily rhythm; what each does in a
day differs (SupplyNetPy moves stock echelon by echelon, our engine sends convoys from source to
town). Sites order from their first supplier (``SelectFirst``) and have unbounded storage
(SupplyNetPy fills an order only when its supplier holds all of it, so a bounded site deeper in the
network can wait for ever).
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import simpy

__all__ = ["build", "simulate", "network_to_json", "network_from_json"]

_STORE = 1e9  # storage of every site: unbounded in effect
_RELAY_S, _RELAY_S_UP = 10.0, 40.0  # (s, S) of junctions and passes, tonnes [E]
_TOWN_DAYS_S, _TOWN_DAYS_S_UP = 3.0, 10.0  # (s, S) of towns, in days of need [E]


def build(network: Any, env: simpy.Environment) -> tuple[dict[str, Any], dict[str, int]]:  # noqa: C901 - one adapter to a foreign API, step by step
    """The SupplyNetPy network of ``network`` in ``env``, and its node, link and demand counts.

    ``network`` is a :class:`qalamoun_sim.network.RouteNetwork` or what :func:`network_from_json` reads
    (the same fields: ``nodes``, ``routes``, ``length_km``, ``speed_kph``), so that a process timing
    SupplyNetPy alone never imports qalamoun_sim.
    """
    import SupplyNetPy.Components as scm

    ids = list(network.nodes)
    order = {k: i for i, k in enumerate(ids)}
    neighbours: dict[str, list[str]] = {k: [] for k in ids}
    for r in network.routes:
        neighbours[r.from_].append(r.to)
        neighbours[r.to].append(r.from_)
    hops: dict[str, int] = {}
    queue: deque[str] = deque()
    for k, node in network.nodes.items():
        if node.kind == "source":
            hops[k] = 0
            queue.append(k)
    while queue:
        u = queue.popleft()
        for v in neighbours[u]:
            if v not in hops:
                hops[v] = hops[u] + 1
                queue.append(v)

    nodes: list[Any] = []
    demands: list[Any] = []
    site: dict[str, Any] = {}
    for k, node in network.nodes.items():
        if k not in hops:  # no route from any source (an army base, an island): nothing to model
            continue
        if node.kind == "source":
            mined = scm.RawMaterial(ID=f"supplies_{k}", name="supplies", extraction_quantity=node.supply_tpd,
                                    extraction_time=1, mining_cost=0, cost=1)
            obj = scm.Supplier(env=env, ID=k, name=k, node_type="supplier", capacity=_STORE,
                               initial_level=node.supply_tpd, raw_material=mined, logging=False)
        else:
            town = node.kind == "town" and node.consumption_tpd > 0
            s, s_up = ((_TOWN_DAYS_S * node.consumption_tpd, _TOWN_DAYS_S_UP * node.consumption_tpd) if town
                       else (_RELAY_S, _RELAY_S_UP))
            obj = scm.InventoryNode(env=env, ID=k, name=k, node_type="retailer" if town else "distributor",
                                    capacity=_STORE, initial_level=node.stock_t if town else 0.0,
                                    inventory_holding_cost=0.0, replenishment_policy=scm.SSReplenishment,
                                    policy_param={"s": s, "S": s_up, "period": 1}, product_sell_price=1,
                                    product_buy_price=1, logging=False)
            if town:
                demands.append(scm.Demand(env=env, ID=f"demand_{k}", name=f"demand_{k}", order_arrival_model=1,
                                          order_quantity_model=node.consumption_tpd, demand_node=obj,
                                          consume_available=True, logging=False))
        nodes.append(obj)
        site[k] = obj
    links = []
    days = (network.length_km / network.speed_kph / 24.0).tolist()
    for i, r in enumerate(network.routes):
        a, b = r.from_, r.to
        if a not in site or b not in site:
            continue
        if (hops[a], order[a]) > (hops[b], order[b]):
            a, b = b, a
        if network.nodes[b].kind == "source":
            continue
        links.append(scm.Link(env=env, ID=r.id, source=site[a], sink=site[b], cost=0, lead_time=days[i]))
    net = scm.create_sc_net(nodes, links, demands, env=env)
    return net, {"nodes": len(nodes), "links": len(links), "demands": len(demands)}


def simulate(net: dict[str, Any], days: int) -> dict[str, float]:
    """Run ``days`` days; tonnes demanded by the towns and delivered to them."""
    import SupplyNetPy.Components as scm

    out = scm.simulate_sc_net(net, sim_time=days, logging=False)
    return {"demanded_t": float(out["demand_by_customers"][1]),
            "delivered_t": float(out["fulfillment_received_by_customers"][1])}


def network_to_json(network: Any, path: str | Path) -> None:
    """Write what :func:`build` reads of a RouteNetwork as plain JSON (for a fresh SupplyNetPy process)."""
    nodes = [{"id": k, "kind": n.kind, "supply_tpd": n.supply_tpd, "stock_t": n.stock_t,
              "consumption_tpd": n.consumption_tpd} for k, n in network.nodes.items()]
    routes = [{"id": r.id, "from_": r.from_, "to": r.to} for r in network.routes]
    doc = {"nodes": nodes, "routes": routes, "length_km": network.length_km.tolist(),
           "speed_kph": network.speed_kph.tolist()}
    Path(path).write_text(json.dumps(doc))


def network_from_json(path: str | Path) -> SimpleNamespace:
    """The plain network :func:`network_to_json` wrote."""
    doc = json.loads(Path(path).read_text())
    return SimpleNamespace(nodes={n["id"]: SimpleNamespace(**n) for n in doc["nodes"]},
                           routes=[SimpleNamespace(**r) for r in doc["routes"]],
                           length_km=np.asarray(doc["length_km"]), speed_kph=np.asarray(doc["speed_kph"]))


if __name__ == "__main__":  # one whole SupplyNetPy process: python supplynetpy_model.py NETWORK.json DAYS
    import contextlib
    import sys

    with contextlib.redirect_stdout(sys.stderr):
        sc, _ = build(network_from_json(sys.argv[1]), simpy.Environment())
        print(json.dumps(simulate(sc, int(sys.argv[2]))), file=sys.__stdout__)
