"""Fastest paths for the engine: shortest-path forests over one network state, settled on demand.

A :class:`Forest` holds, for every node, the fastest path (by nominal travel time) from the nearest
of several roots -- the sources, for the dispatcher; one node, for a convoy that must reroute --
over the routes a mask allows. It is a Dijkstra run that stops as soon as the node asked about is
settled and goes on from there when a farther one is asked about, so a forest costs only as much of
the network as its queries reach.

While the dispatcher works, routes fill up and sources run out: a forest computed before that may
now hold paths that cross a full route or start at an empty source. :class:`Clearance` tells which
of its paths are still clear, marking what it learns (a path found blocked stays blocked), so that
each node is looked at about once however many towns are asked about.

Ties go to the lower node index, so every result is deterministic.

On large networks a forest that will be settled whole anyway is computed at once by SciPy's
compiled Dijkstra, with the same paths: :mod:`qalamoun_sim.engine.compiled`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:
    from .compiled import SettledForest

__all__ = ["RouteGraph", "Forest", "Clearance", "BLOCKED"]

_INF = math.inf

#: What :meth:`Forest.clear_path` returns for a path that crosses a removal.
BLOCKED = "blocked"


class RouteGraph:
    """Adjacency lists of a route network: ``out[u]`` holds ``(node, hours, route)`` for each way out of ``u``.

    A bidirectional route appears in both directions. Which routes may be used is decided per
    forest (its ``usable`` mask), so the lists are built once per engine.

    Parameters
    ----------
    n_nodes : int
    route_from, route_to : sequence of int
        End nodes of each route.
    bidirectional : sequence of bool
    hours : sequence of float
        Nominal travel time of each route: the routing weight (positive).
    """

    def __init__(self, n_nodes: int, route_from: Sequence[int], route_to: Sequence[int],
                 bidirectional: Sequence[bool], hours: Sequence[float]) -> None:
        out: list[list[tuple[int, float, int]]] = [[] for _ in range(n_nodes)]
        for r, (u, v, both, w) in enumerate(zip(route_from, route_to, bidirectional, hours, strict=True)):
            w = float(w)
            out[u].append((v, w, r))
            if both:
                out[v].append((u, w, r))
        self.n_nodes = n_nodes
        self.out = out
        self._arcs: tuple[np.ndarray, ...] | None = None
        self._indptr: np.ndarray | None = None

    def arcs(self) -> tuple[np.ndarray, ...]:
        """``(tail, head, hours, route)`` of every way out of every node, in the order of :attr:`out`
        (by tail node, then position in its list): built on first use."""
        if self._arcs is None:
            tail = np.repeat(np.arange(self.n_nodes, dtype=np.int32), [len(o) for o in self.out])
            flat = [a for o in self.out for a in o]
            head = np.array([a[0] for a in flat], dtype=np.int32)
            hours = np.array([a[1] for a in flat], dtype=float)
            route = np.array([a[2] for a in flat], dtype=np.int64)
            self._arcs = (tail, head, hours, route)
        return self._arcs

    def indptr(self) -> np.ndarray:
        """Where each node's ways out start among :meth:`arcs` (CSR row pointers, int32): built on first use."""
        if self._indptr is None:
            tail = self.arcs()[0]
            self._indptr = np.zeros(self.n_nodes + 1, dtype=np.int32)
            np.cumsum(np.bincount(tail, minlength=self.n_nodes), out=self._indptr[1:])
        return self._indptr


class Forest:
    """Fastest paths from the nearest root over the routes that ``usable`` allows, settled on demand.

    Parameters
    ----------
    graph : RouteGraph
    usable : bytes or bytearray
        One byte per route, non-zero where the route may be used (in the directions it runs). It
        must not change while the forest is in use.
    roots : sequence of int
        Nodes at distance 0; a node's root is the nearest of them.
    settle_all : bool
        Settle every node now (default: only as queries need).

    Attributes
    ----------
    dist : list of float
        Hours from the node's root for settled nodes (``inf`` where no root reaches it).
    prev, via : sequence of int
        Previous node and route of each settled node's path (-1 at roots and unreached nodes).
    root : list of int
        The root each settled node's path starts from (the node itself at roots, -1 where unreached).
    settled_count : int
        Nodes settled so far: the work done.

    Examples
    --------
    >>> g = RouteGraph(3, [0, 1, 0], [1, 2, 2], [True, True, True], [1.0, 1.0, 5.0])
    >>> f = Forest(g, bytes([1, 1, 1]), [0])
    >>> f.path(2), f.dist[2]
    (([0, 1], [0, 1, 2]), 2.0)
    >>> Forest(g, bytes([1, 0, 1]), [0]).path(2)
    ([2], [0, 2])
    """

    #: Whether a :class:`Clearance` may mark removals through this forest's preorder (a compiled
    #: :class:`~qalamoun_sim.engine.compiled.SettledForest` can; a heap-based forest is walked).
    marks_removals = False

    def __init__(self, graph: RouteGraph, usable: bytes | bytearray, roots: Sequence[int],
                 settle_all: bool = False) -> None:
        n = graph.n_nodes
        self.graph = graph
        self.usable = usable
        self.dist: list[float] = [_INF] * n
        self.prev: Sequence[int] = [-1] * n  # lists here; read-only views in a SettledForest
        self.via: Sequence[int] = [-1] * n
        self.root: list[int] = [-1] * n
        self.settled = bytearray(n)
        self.settled_count = 0
        self._reach_lists: dict[tuple[int, ...], list[bool]] = {}
        heap: list[tuple[float, int]] = []
        for s in roots:
            if self.dist[s] != 0.0:
                self.dist[s] = 0.0
                self.root[s] = s
                heap.append((0.0, s))
        heapq.heapify(heap)
        self._heap = heap
        if settle_all:
            self.settle()

    def settle(self, target: int = -1) -> None:
        """Go on with Dijkstra until ``target`` is settled (every node when ``target`` is -1)."""
        self._dijkstra(None if target < 0 else {target})

    def _dijkstra(self, wanted: set[int] | None) -> None:
        """Settle nodes in order (by distance, then node index) until every node of ``wanted`` is settled,
        or every node when ``wanted`` is None. ``wanted`` is emptied as it goes."""
        heap = self._heap
        if not heap:
            return
        dist, root, settled = self.dist, self.root, self.settled
        prev, via = cast(list[int], self.prev), cast(list[int], self.via)  # a heap-based forest's: lists
        out, usable = self.graph.out, self.usable
        pop, push = heapq.heappop, heapq.heappush
        count = 0
        while heap:
            d, v = pop(heap)
            if d > dist[v]:
                continue  # superseded (a node is pushed again only with a shorter distance)
            settled[v] = 1
            count += 1
            for x, w, r in out[v]:
                if usable[r]:
                    nd = d + w
                    if nd < dist[x]:  # never true for a settled node: weights are positive
                        dist[x] = nd
                        prev[x] = v
                        via[x] = r
                        root[x] = root[v]
                        push(heap, (nd, x))
            if wanted is not None and v in wanted:
                wanted.discard(v)
                if not wanted:
                    break
        self.settled_count += count

    def reaches(self, target: int) -> bool:
        """Whether a root reaches ``target``."""
        if not self.settled[target]:
            self.settle(target)
        return self.dist[target] != _INF

    def reach_list(self, targets: tuple[int, ...]) -> list[bool]:
        """Whether a root reaches each of ``targets``; remembered per ``targets`` for this forest.

        One search settles them all; it stops where asking for them one by one would have stopped:
        Dijkstra settles nodes in a fixed order, so that is where the last of them is settled.
        """
        known = self._reach_lists.get(targets)
        if known is None:
            self.settle_all_of(targets)
            dist = self.dist
            known = self._reach_lists[targets] = [dist[k] != _INF for k in targets]
        return known

    def settle_all_of(self, targets: Sequence[int]) -> None:
        """Go on with Dijkstra until every node of ``targets`` is settled (every node, if one is not reached).

        It stops where settling them one at a time would have stopped too, since Dijkstra settles nodes
        in a fixed order (by distance, then node index).
        """
        settled = self.settled
        wanted = {k for k in targets if not settled[k]}
        if wanted:
            self._dijkstra(wanted)

    def path(self, target: int) -> tuple[list[int], list[int]] | None:
        """``(routes, nodes)`` of the fastest path from the nearest root to ``target`` (``nodes[0]`` the
        root), or None when no root reaches it."""
        if not self.settled[target]:
            self.settle(target)
        if self.dist[target] == _INF:
            return None
        return self._walk(target)

    def _walk(self, target: int) -> tuple[list[int], list[int]]:
        """``(routes, nodes)`` of the settled path to ``target``, a node a root reaches."""
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

    def clear_path(self, target: int, clearance: Clearance) -> tuple[list[int], list[int]] | str | None:  # noqa: C901 - hot: one walk that checks
        """Like :meth:`path`, but :data:`BLOCKED` when the path crosses a route or starts at a root
        that ``clearance`` has removed since this forest was computed."""
        if not self.settled[target]:
            self.settle(target)
        root = self.root
        if root[target] < 0:  # a settled node no root reaches
            return None
        bad, ok, version = clearance.bad, clearance.ok, clearance.version
        usable, active = clearance.usable, clearance.active
        if bad[target] or not active[root[target]]:  # known blocked, or its source ran out
            return BLOCKED
        prev, via = self.prev, self.via
        routes: list[int] = []
        nodes = [target]
        x = target
        checking = True
        while True:
            if checking:
                if ok[x] == version:
                    checking = False  # from here up the path was found clear, and nothing changed since
                elif bad[x]:
                    break
            r = via[x]
            if r < 0:
                if checking and not active[x]:
                    break
                for y in nodes:
                    ok[y] = version
                routes.reverse()
                nodes.reverse()
                return routes, nodes
            if checking and not usable[r]:
                break
            routes.append(r)
            x = prev[x]
            nodes.append(x)
        # blocked at x (its route up, its root, or a node found blocked before): so is all below it
        for y in nodes:
            bad[y] = 1
        return BLOCKED


class Clearance:
    """The routes and roots still usable while a dispatch removes some, and what is known of each path.

    Parameters
    ----------
    usable : bytearray
        One byte per route; :meth:`remove_route` clears entries.
    active : bytearray
        One byte per node, non-zero at the roots still in use; :meth:`remove_root` clears entries.
    forest : Forest, optional
        The forest asked about, computed from ``usable`` and ``active`` as they are now. A
        :class:`SettledForest` used before (a memoized one) is told of each removal and marks the
        subtree it cuts off, so that a path is known blocked without walking it.
    mark : bool
        Mark removals so through a :class:`SettledForest` used for the first time too (its preorder is
        then made for this clearance: worth it when many paths will be asked about).

    Attributes
    ----------
    version : int
        Bumped by every removal: a path found clear stays known clear until the next removal.
    forest : SettledForest or None
        The forest that marks removals in :attr:`cut` (one byte per node in its preorder), if any.
    """

    def __init__(self, usable: bytearray, active: bytearray, forest: Forest | None = None,
                 mark: bool = False) -> None:
        self.usable = usable
        self.active = active
        self.bad = bytearray(len(active))
        self.ok = [0] * len(active)
        self.version = 1
        self.forest: SettledForest | None = None  # the forest removals are marked through
        self.cut = bytearray()
        self._bind(forest, mark)

    def _bind(self, forest: Forest | None, mark: bool) -> None:
        """Mark removals through ``forest`` when it is a settled forest used before, or ``mark`` says so
        (its preorder pays when many paths will be asked about)."""
        self.forest = None
        if forest is not None and forest.marks_removals:
            forest = cast("SettledForest", forest)
            forest.uses += 1
            if mark or forest.uses > 1:
                self.forest = forest
                self.cut = bytearray(len(forest.preorder()))

    def remove_route(self, route: int) -> None:
        """Route ``route`` is full."""
        if self.usable[route]:
            self.usable[route] = 0
            self.version += 1
            if self.forest is not None:
                self.forest.cut_route(self.cut, route)

    def remove_root(self, node: int) -> None:
        """The source at ``node`` has nothing more to send."""
        if self.active[node]:
            self.active[node] = 0
            self.version += 1
            if self.forest is not None:
                self.forest.cut_below(self.cut, node)

    def renew(self, forest: Forest | None = None, mark: bool = False) -> None:
        """Forget what is known of paths: for ``forest``, computed from the current state (``mark``: as
        for the constructor)."""
        self.bad = bytearray(len(self.active))
        self.ok = [0] * len(self.active)
        self.version = 1
        self._bind(forest, mark)
