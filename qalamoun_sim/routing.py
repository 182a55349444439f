"""Fastest paths for the engine: shortest-path forests over the day's usable routes, repaired in place.

A :class:`Forest` holds, for every node, the fastest path (by nominal travel time) from the nearest
of several roots: the sources, for the dispatcher; one node, for a convoy that must reroute. During
a day's dispatch routes only drop out (their capacity is spent) and sources only drop out (their
supply is spent). A removal voids the paths through it at once (a walk down the subtree it cuts
off); :meth:`Forest.repair` recomputes all void subtrees together, seeded from their neighbours
outside -- one Dijkstra over what changed, however many removals it covers.

Ties go to the lower node index, so every result is deterministic.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

__all__ = ["RouteGraph", "Forest"]

_INF = math.inf


class RouteGraph:
    """Adjacency lists of a route network: ``out[u]`` and ``inn[v]`` hold ``(node, hours, route)``.

    A bidirectional route appears in both directions. Which routes may be used is decided per
    forest (its ``usable`` mask), so the lists are built once per engine.

    Parameters
    ----------
    n_nodes : int
    route_from, route_to : sequence of int
        End nodes of each route.
    bidirectional : sequence of bool
    hours : sequence of float
        Nominal travel time of each route: the routing weight (not negative).
    """

    def __init__(self, n_nodes: int, route_from: Sequence[int], route_to: Sequence[int],
                 bidirectional: Sequence[bool], hours: Sequence[float]) -> None:
        out: list[list[tuple[int, float, int]]] = [[] for _ in range(n_nodes)]
        inn: list[list[tuple[int, float, int]]] = [[] for _ in range(n_nodes)]
        for r, (u, v, both, w) in enumerate(zip(route_from, route_to, bidirectional, hours, strict=True)):
            w = float(w)
            out[u].append((v, w, r))
            inn[v].append((u, w, r))
            if both:
                out[v].append((u, w, r))
                inn[u].append((v, w, r))
        self.n_nodes = n_nodes
        self.route_from = list(route_from)
        self.route_to = list(route_to)
        self.out = out
        self.inn = inn


class Forest:
    """Fastest paths from the nearest root over the routes that ``usable`` allows.

    Parameters
    ----------
    graph : RouteGraph
    usable : bytearray
        One byte per route, non-zero where the route may be used (in the directions it runs).
        The forest keeps this object and clears entries of it in :meth:`hide`.
    roots : sequence of int
        Nodes at distance 0; a node's root is the nearest of them.

    Attributes
    ----------
    dist : list of float
        Hours from the node's root; ``inf`` where no root reaches it.
    prev, via : list of int
        Previous node and route on the node's path (-1 at roots and unreached nodes).
    root : list of int
        The node's root, -1 where unreached.
    repairs, repaired_nodes : int
        Repairs made and nodes they recomputed.

    Examples
    --------
    >>> g = RouteGraph(3, [0, 1, 0], [1, 2, 2], [True, True, True], [1.0, 1.0, 5.0])
    >>> f = Forest(g, bytearray(b"\\x01\\x01\\x01"), [0])
    >>> f.path(2)
    ([0, 1], [0, 1, 2])
    >>> f.hide(1)
    >>> f.path(2) is None  # void until the forest is repaired
    True
    >>> f.repair()
    >>> f.path(2), f.dist[2]
    (([2], [0, 2]), 5.0)
    """

    def __init__(self, graph: RouteGraph, usable: bytearray, roots: Sequence[int]) -> None:
        n = graph.n_nodes
        self.graph = graph
        self.usable = usable
        self.repairs = 0
        self.repaired_nodes = 0
        self._cuts: list[int] = []
        self._gone: list[int] = []
        self.dist: list[float] = [_INF] * n
        self.prev: list[int] = [-1] * n
        self.via: list[int] = [-1] * n
        self.root: list[int] = [-1] * n
        # children as linked lists in flat arrays (first child, next and previous sibling): cheap to copy
        self._first: list[int] = [-1] * n
        self._next: list[int] = [-1] * n
        self._prev_sib: list[int] = [-1] * n
        self.active = bytearray(n)
        self.dirty = bytearray(n)
        heap: list[tuple[float, int]] = []
        for s in roots:
            if not self.active[s]:
                self.active[s] = 1
                self.dist[s] = 0.0
                heap.append((0.0, s))
        heapq.heapify(heap)
        self._grow(heap)

    def copy(self, usable: bytearray) -> Forest:
        """An independent copy that reads ``usable`` (its own mask) from now on. No removal may be pending."""
        if self._gone:
            raise RuntimeError("copy of a forest with removals pending; repair it first")
        f = object.__new__(Forest)
        f.graph = self.graph
        f.usable = usable
        f.repairs = 0
        f.repaired_nodes = 0
        f._cuts = []
        f._gone = []
        f.dist = self.dist[:]
        f.prev = self.prev[:]
        f.via = self.via[:]
        f.root = self.root[:]
        f._first = self._first[:]
        f._next = self._next[:]
        f._prev_sib = self._prev_sib[:]
        f.active = bytearray(self.active)
        f.dirty = bytearray(self.dirty)
        return f

    # ------------------------------------------------------------------ removals
    def hide(self, route: int) -> None:
        """Route ``route`` may no longer be used; the paths through it are void until :meth:`repair`."""
        if not self.usable[route]:
            return
        self.usable[route] = 0
        a, b = self.graph.route_from[route], self.graph.route_to[route]
        if self.via[b] == route and self.prev[b] == a:
            self._cut(b)
        elif self.via[a] == route and self.prev[a] == b:
            self._cut(a)

    def drop_root(self, node: int) -> None:
        """``node`` is no longer a root; the paths from it are void until :meth:`repair`."""
        if self.active[node]:
            self.active[node] = 0
            if self.root[node] == node:
                self._cut(node)

    def _cut(self, v: int) -> None:
        """Void the subtree below ``v`` (parts already void are left as they are)."""
        dirty, first, nxt, gone = self.dirty, self._first, self._next, self._gone
        if dirty[v]:
            return
        self._cuts.append(v)
        stack = [v]
        while stack:
            x = stack.pop()
            dirty[x] = 1
            gone.append(x)
            c = first[x]
            while c >= 0:
                if not dirty[c]:
                    stack.append(c)
                c = nxt[c]

    # ------------------------------------------------------------------ queries
    def reaches(self, target: int) -> bool:
        """Whether the forest holds a path to ``target`` (possibly void until the next repair)."""
        return self.dist[target] != _INF

    def path(self, target: int) -> tuple[list[int], list[int]] | None:
        """``(routes, nodes)`` of the fastest path from the nearest root to ``target``, ``nodes[0]`` the root.

        None when no root reaches ``target``, or when its path crosses a route or starts at a root
        removed since the last :meth:`repair` (a repair may then find another).
        """
        if self.dirty[target] or self.dist[target] == _INF:
            return None
        prev, via = self.prev, self.via
        routes: list[int] = []
        nodes = [target]
        x = target
        r = via[x]
        while r >= 0:
            routes.append(r)
            x = prev[x]
            nodes.append(x)
            r = via[x]
        routes.reverse()
        nodes.reverse()
        return routes, nodes

    # ------------------------------------------------------------------ Dijkstra
    def _grow(self, heap: list[tuple[float, int]]) -> None:
        """Dijkstra from the tentative nodes in ``heap`` (``dist``, ``prev`` and ``via`` already set)."""
        dist, prev, via, root = self.dist, self.prev, self.via, self.root
        first, nxt, prv = self._first, self._next, self._prev_sib
        out, usable = self.graph.out, self.usable
        pop, push = heapq.heappop, heapq.heappush
        while heap:
            d, v = pop(heap)
            if d > dist[v]:
                continue  # superseded
            u = prev[v]
            if u >= 0:
                root[v] = root[u]
                c = first[u]
                nxt[v] = c
                prv[v] = -1
                if c >= 0:
                    prv[c] = v
                first[u] = v
            else:
                root[v] = v
            for x, w, r in out[v]:
                if usable[r]:
                    nd = d + w
                    if nd < dist[x]:  # never true for a node already settled: weights are not negative
                        dist[x] = nd
                        prev[x] = v
                        via[x] = r
                        push(heap, (nd, x))

    def repair(self) -> None:
        """Recompute the void subtrees from their neighbours outside: afterwards every path is valid again."""
        if not self._cuts:
            return
        dist, prev, via, root, dirty = self.dist, self.prev, self.via, self.root, self.dirty
        first, nxt, prv = self._first, self._next, self._prev_sib
        inf = _INF
        for v in self._cuts:  # detach each void subtree from its parent's children
            u = prev[v]
            if u >= 0 and not dirty[u]:
                a, b = prv[v], nxt[v]
                if a >= 0:
                    nxt[a] = b
                else:
                    first[u] = b
                if b >= 0:
                    prv[b] = a
        gone = self._gone
        for x in gone:
            dist[x] = inf
            prev[x] = via[x] = root[x] = first[x] = -1
        # seed each void node from its neighbours outside the void subtrees
        inn, usable = self.graph.inn, self.usable
        heap: list[tuple[float, int]] = []
        for x in gone:
            best = inf
            for y, w, r in inn[x]:
                if usable[r] and not dirty[y]:
                    nd = dist[y] + w
                    if nd < best:
                        best = nd
                        prev[x] = y
                        via[x] = r
            if best < inf:
                dist[x] = best
                heap.append((best, x))
        for x in gone:
            dirty[x] = 0
        heapq.heapify(heap)
        self._grow(heap)
        self.repairs += 1
        self.repaired_nodes += len(gone)
        self._cuts = []
        self._gone = []
