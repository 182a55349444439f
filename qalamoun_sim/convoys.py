"""Convoys: shortest paths cached per network state, the convoy log, and the convoy process.

A convoy is a SimPy generator (a plain process, as in SimPy's own examples): it travels its
path route by route, takes each route's daily capacity as it enters, waits or reroutes where a
route is closed, runs the risk of strikes and checkpoints, and ends in exactly one fate.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["PathCache", "Pattern", "ConvoyLog", "convoy_process", "CLOSED", "EPS"]

#: Tonnes below this are nothing (float dust).
EPS = 1e-9

#: Cached tree nodes per pattern for trees that avoid spent routes, and for the whole cache.
MAX_VARIANT_NODES = 25_000
MAX_CACHED_NODES = 250_000  # about 60 MB of trees

#: Value a queued convoy is woken with when its route closed overnight.
CLOSED = "closed"

# fate codes, in results.FATES order
DELIVERED, INTERCEPTED, STRANDED, IN_TRANSIT = 0, 1, 2, 3


class Pattern:
    """The routes usable on one network state, as adjacency lists over node indices.

    ``adj[u]`` lists ``(v, hours, route, parallel)`` for each neighbour ``v``: the fastest route
    from ``u`` to ``v`` and all parallel routes sorted by nominal travel time. Shortest-path trees
    are computed on demand, once per source node and set of ``hidden`` routes (routes whose
    capacity is spent for the day), and kept; :attr:`graph` gives the same network as a networkx
    DiGraph for inspection.
    """

    def __init__(self, n_nodes: int, edges: dict[tuple[int, int], list[tuple[float, int]]]) -> None:
        adj: list[list[tuple[int, float, int, list[tuple[float, int]]]]] = [[] for _ in range(n_nodes)]
        for (u, v), alts in edges.items():
            alts.sort()
            adj[u].append((v, alts[0][0], alts[0][1], alts))
        self.adj = adj
        self._trees: dict[tuple[int, frozenset[int]], tuple[dict[int, tuple[int, int]], dict[int, float]]] = {}
        self._paths: dict[tuple[int, int, frozenset[int]], tuple[list[int], list[int]] | None] = {}
        self.trees_computed = 0
        self.size = 0  # nodes held in cached trees: what the cache's memory grows with
        self._variant_size = 0

    @property
    def graph(self) -> nx.DiGraph:
        """The usable network as a networkx DiGraph (edge attributes ``w`` in hours and ``route``)."""
        g = nx.DiGraph()
        g.add_nodes_from(range(len(self.adj)))
        g.add_edges_from((u, v, {"w": w, "route": r}) for u, row in enumerate(self.adj) for v, w, r, _ in row)
        return g

    def tree(self, source: int,
             hidden: frozenset[int] = frozenset()) -> tuple[dict[int, tuple[int, int]], dict[int, float]]:
        """Dijkstra from ``source`` avoiding ``hidden`` routes: ``{node: (previous node, route)}`` and
        ``{node: hours}`` for every reachable node."""
        key = (source, hidden)
        hit = self._trees.get(key)
        if hit is None:
            if hidden and self._variant_size > MAX_VARIANT_NODES:
                self._drop_variants()
            hit = _dijkstra(self.adj, source, hidden)
            self._trees[key] = hit
            self.trees_computed += 1
            self.size += len(hit[1])
            if hidden:
                self._variant_size += len(hit[1])
        return hit

    def _drop_variants(self) -> None:
        """Forget the trees that avoid spent routes (they seldom recur): memory stays bounded."""
        self._trees = {k: v for k, v in self._trees.items() if not k[1]}
        self._paths = {k: v for k, v in self._paths.items() if not k[2]}
        self.size -= self._variant_size
        self._variant_size = 0

    def reachable(self, source: int, hidden: frozenset[int] = frozenset()) -> dict[int, float]:
        """Nodes reachable from ``source`` with their travel times (hours)."""
        return self.tree(source, hidden)[1]

    def path(self, source: int, target: int,
             hidden: frozenset[int] = frozenset()) -> tuple[list[int], list[int]] | None:
        """``(routes, nodes)`` of the fastest path, ``nodes[0] == source``; None if unreachable."""
        key = (source, target, hidden)
        if key in self._paths:
            return self._paths[key]
        pred, dist = self.tree(source, hidden)
        out: tuple[list[int], list[int]] | None = None
        if target in dist:
            nodes = [target]
            routes: list[int] = []
            while nodes[-1] != source:
                prev, r = pred[nodes[-1]]
                nodes.append(prev)
                routes.append(r)
            nodes.reverse()
            routes.reverse()
            out = (routes, nodes)
        self._paths[key] = out
        return out


def _dijkstra(adj: list[list[tuple[int, float, int, list[tuple[float, int]]]]], source: int,
              hidden: frozenset[int]) -> tuple[dict[int, tuple[int, int]], dict[int, float]]:
    """Plain Dijkstra over adjacency lists; ties go to the node reached first (deterministic)."""
    dist: dict[int, float] = {source: 0.0}
    pred: dict[int, tuple[int, int]] = {source: (-1, -1)}
    done: set[int] = set()
    heap: list[tuple[float, int, int]] = [(0.0, 0, source)]
    count = 1
    pop, push = heapq.heappop, heapq.heappush
    inf = math.inf
    while heap:
        d, _, u = pop(heap)
        if u in done:
            continue
        done.add(u)
        for v, w, r, alts in adj[u]:
            if hidden and r in hidden:
                for w2, r2 in alts:
                    if r2 not in hidden:
                        w, r = w2, r2
                        break
                else:
                    continue
            nd = d + w
            if nd < dist.get(v, inf):
                dist[v] = nd
                pred[v] = (u, r)
                push(heap, (nd, count, v))
                count += 1
    return pred, dist


class PathCache:
    """Shortest paths memoized per network state: the usable routes and the army-held nodes.

    Parameters
    ----------
    n_nodes : int
    route_from, route_to : sequence of int
        End nodes of each route (node indices).
    bidirectional : sequence of bool
    hours : sequence of float
        Nominal travel time of each route (the routing weight).
    max_patterns : int
        The cache is emptied when it grows past this many states (or past :data:`MAX_CACHED_NODES`
        nodes in its trees).
    """

    def __init__(self, n_nodes: int, route_from: Sequence[int], route_to: Sequence[int],
                 bidirectional: Sequence[bool], hours: Sequence[float], max_patterns: int = 1024) -> None:
        self.n_nodes = n_nodes
        self.route_from = list(route_from)
        self.route_to = list(route_to)
        self.bidirectional = list(bidirectional)
        self.hours = list(hours)
        self.max_patterns = max_patterns
        self._cache: dict[tuple[bytes, bytes], Pattern] = {}
        self.patterns_built = 0
        self._trees_dropped = 0

    def get(self, usable: np.ndarray, blocked: bytes | bytearray) -> Pattern:
        """The pattern of routes ``usable`` (bool mask) with ``blocked`` nodes (one byte per node) left out."""
        key = (usable.tobytes(), bytes(blocked))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if len(self._cache) >= self.max_patterns or sum(p.size for p in self._cache.values()) > MAX_CACHED_NODES:
            self._trees_dropped += sum(p.trees_computed for p in self._cache.values())
            self._cache.clear()
        edges: dict[tuple[int, int], list[tuple[float, int]]] = {}
        for r in np.flatnonzero(usable).tolist():
            u, v = self.route_from[r], self.route_to[r]
            if blocked[u] or blocked[v]:
                continue
            w = self.hours[r]
            edges.setdefault((u, v), []).append((w, r))
            if self.bidirectional[r]:
                edges.setdefault((v, u), []).append((w, r))
        pat = Pattern(self.n_nodes, edges)
        self._cache[key] = pat
        self.patterns_built += 1
        return pat

    @property
    def trees_computed(self) -> int:
        """Shortest-path trees computed so far."""
        return self._trees_dropped + sum(p.trees_computed for p in self._cache.values())


class ConvoyLog:
    """Column lists of the convoy table, one entry per convoy (its id is its position)."""

    def __init__(self) -> None:
        self.source: list[int] = []
        self.town: list[int] = []
        self.dispatched_day: list[int] = []
        self.tonnes: list[float] = []
        self.fate: list[int] = []
        self.arrived_day: list[int] = []
        self.end_day: list[int] = []
        self.reason: list[str] = []

    def __len__(self) -> int:
        return len(self.tonnes)

    def add(self, source: int, town: int, day: int, tonnes: float) -> int:
        """Record a dispatched convoy (in transit until it ends); returns its id."""
        self.source.append(source)
        self.town.append(town)
        self.dispatched_day.append(day)
        self.tonnes.append(tonnes)
        self.fate.append(IN_TRANSIT)
        self.arrived_day.append(-1)
        self.end_day.append(-1)
        self.reason.append("")
        return len(self.tonnes) - 1

    def end(self, cid: int, fate: int, day: int, reason: str = "") -> None:
        """Record a convoy's fate on ``day``."""
        self.fate[cid] = fate
        self.end_day[cid] = day
        self.reason[cid] = reason
        if fate == DELIVERED:
            self.arrived_day[cid] = day


def convoy_process(eng: Engine, cid: int, node: int, town: int, tonnes: float, routes: list[int],
                   nodes: list[int], reserved: set[int], reserved_day: int) -> Generator[Any, Any, None]:
    """One convoy, from its source ``node`` to ``town`` along ``routes`` / ``nodes``.

    ``reserved`` holds the routes whose capacity the dispatcher already booked for the convoy on
    ``reserved_day`` (those it enters that day); any other route's capacity is taken on entry.
    """
    env = eng.env
    towns = eng.towns
    rng = eng.rng
    usable = eng.usable
    i = 0
    waited = 0
    spent = 0.0  # days travelled so far: the way back for "turn_back"
    while True:
        # ---- at a node: deliver, or pick the next route
        if i == len(routes):
            if towns.receiving[town]:
                eng.deliver(cid, town, tonnes)
                return
            ok = False
        else:
            r = routes[i]
            ok = towns.receiving[town] and usable(r, node, nodes[i + 1])
        if not ok:
            if reserved:
                eng.release(reserved, reserved_day, tonnes)
                reserved = set()
            # closed route or unwanted destination: apply the closed-route policy
            while True:
                plan = None
                if eng.policy == "reroute" or not towns.receiving[town]:
                    plan = eng.plan(cid, node, town, tonnes)
                elif i < len(routes) and usable(routes[i], node, nodes[i + 1]):
                    plan = (town, routes[i:], nodes[i:])
                if plan is not None:
                    town, routes, nodes = plan
                    i = 0
                    break
                if eng.policy == "turn_back":
                    if spent > 0.0:
                        yield env.timeout(spent)
                    eng.end(cid, town, tonnes, STRANDED, "turned_back")
                    return
                if waited >= eng.max_wait_days:
                    eng.end(cid, town, tonnes, STRANDED, "max_wait")
                    return
                yield eng.new_day
                waited += 1
            continue
        nxt = nodes[i + 1]
        # ---- capacity of the route today
        if r in reserved and reserved_day == eng.day:
            reserved.discard(r)
        else:
            wait = eng.take(r, tonnes, node, nxt)
            if wait is not None:
                if (yield wait) == CLOSED:
                    continue
        # ---- travel, exposed to strikes on days the route is interdicted
        dt = eng.route_days[r] / eng.speed_today[r]
        t0 = env.now
        t1 = t0 + dt
        first = int(t0) + 1
        if first < t1 and eng.hit_probability > 0.0:
            last = min(math.ceil(t1) - 1, eng.n_days - 1)
            for k in range(first, last + 1):
                if eng.interdicted[k, r] and rng.random() < eng.hit_probability:
                    yield env.timeout(k - t0)
                    if reserved:
                        eng.release(reserved, reserved_day, tonnes)
                    eng.end(cid, town, tonnes, INTERCEPTED, "strike")
                    return
        yield env.timeout(dt)
        spent += dt
        node = nxt
        i += 1
        # ---- a checkpoint at the town entered
        t = eng.town_of_node[node]
        if t >= 0:
            p = towns.checkpoint_p[t]
            if p > 0.0 and eng.day >= towns.checkpoint_start[t] and rng.random() < p:
                if reserved:
                    eng.release(reserved, reserved_day, tonnes)
                eng.end(cid, town, tonnes, INTERCEPTED, "checkpoint")
                return
