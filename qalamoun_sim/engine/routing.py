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

On large networks a forest that will be settled whole anyway is computed at once by
:func:`settled_forest`: SciPy's compiled Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`) for the
distances, then each node's previous node and route picked as the Dijkstra above picks them, so that
the paths are the same, ties included.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["RouteGraph", "Forest", "SettledForest", "Clearance", "BLOCKED", "settled_forest"]

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
    prev, via : list of int
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

    def __init__(self, graph: RouteGraph, usable: bytes | bytearray, roots: Sequence[int],
                 settle_all: bool = False) -> None:
        n = graph.n_nodes
        self.graph = graph
        self.usable = usable
        self.dist: list[float] = [_INF] * n
        self.prev: list[int] = [-1] * n
        self.via: list[int] = [-1] * n
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
        dist, prev, via, root, settled = self.dist, self.prev, self.via, self.root, self.settled
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

    Attributes
    ----------
    version : int
        Bumped by every removal: a path found clear stays known clear until the next removal.
    forest : SettledForest or None
        The forest that marks removals in :attr:`cut` (one byte per node in its preorder), if any.
    """

    def __init__(self, usable: bytearray, active: bytearray, forest: Forest | None = None) -> None:
        self.usable = usable
        self.active = active
        self.bad = bytearray(len(active))
        self.ok = [0] * len(active)
        self.version = 1
        self.forest: SettledForest | None = None
        self.cut = bytearray()
        self._bind(forest)

    def _bind(self, forest: Forest | None) -> None:
        """Mark removals through ``forest`` when it is a settled forest used before (its preorder pays)."""
        self.forest = None
        if isinstance(forest, SettledForest):
            forest.uses += 1
            if forest.uses > 1:
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

    def renew(self, forest: Forest | None = None) -> None:
        """Forget what is known of paths: for ``forest``, computed from the current state."""
        self.bad = bytearray(len(self.active))
        self.ok = [0] * len(self.active)
        self.version = 1
        self._bind(forest)


class SettledForest(Forest):
    """A :class:`Forest` settled whole at once (made by :func:`settled_forest`), held as arrays.

    ``prev`` and ``via`` are lists (paths are walked in Python); ``dist`` and ``root`` are made from the
    arrays when first asked for (the cut-off test asks only which nodes are reached, :attr:`reached`).

    Parameters
    ----------
    graph : RouteGraph
    usable : bytes or bytearray
    dist : (n,) ndarray of float
    prev, via : (n,) ndarray of int
        Previous node and route of each node's path (-1 at roots and unreached nodes).
    root : (n,) ndarray of int, optional
        Each reached node's root (anything at unreached nodes); found from ``prev`` when not given.
    """

    def __init__(self, graph: RouteGraph, usable: bytes | bytearray, dist: np.ndarray, prev: np.ndarray,
                 via: np.ndarray, root: np.ndarray | None = None) -> None:
        n = graph.n_nodes
        self.graph = graph
        self.usable = usable
        self._dist_a, self._prev_a, self._via_a, self._root_a = dist, prev, via, root
        self.uses = 0  # dispatch rounds it served (see Clearance)
        self._tin: list[int] = []  # preorder positions, made on first use
        self._ptin = np.empty(0, dtype=np.int64)  # the preorder position of the parent at each position
        self._ptin_list: list[int] = []
        self._child = np.empty(0, dtype=np.int64)  # per route, the node it leads to in the forest, else -1
        self.prev = prev.tolist()
        self.via = via.tolist()
        reached = dist != _INF
        self.reached = reached.view(np.uint8).tobytes()
        self.settled = bytearray(b"\x01") * n
        self.settled_count = int(np.count_nonzero(reached))
        self._reach_lists = {}
        self._heap = []
        self._dist: list[float] | None = None
        self._root: list[int] | None = None

    @property
    def dist(self) -> list[float]:
        """Hours from the node's root (``inf`` where no root reaches it)."""
        if self._dist is None:
            self._dist = self._dist_a.tolist()
        return self._dist

    @dist.setter
    def dist(self, value: list[float]) -> None:
        self._dist = value

    @property
    def root(self) -> list[int]:
        """The root of each node's path (the node itself at roots, -1 where unreached)."""
        if self._root is None:
            root, prev = self._root_a, self._prev_a
            if root is None:
                root = np.where(prev >= 0, prev, np.arange(len(prev)))  # its ancestors by pointer doubling
                while True:
                    up = np.take(root, root)
                    if np.array_equal(up, root):
                        break
                    root = up
            root = np.where(self._dist_a == _INF, -1, root)
            self._root = root.tolist()
        return self._root

    @root.setter
    def root(self, value: list[int]) -> None:
        self._root = value

    def reaches(self, target: int) -> bool:
        """Whether a root reaches ``target``."""
        return self.reached[target] != 0

    def reach_list(self, targets: tuple[int, ...]) -> list[bool]:
        """Whether a root reaches each of ``targets``."""
        known = self._reach_lists.get(targets)
        if known is None:
            reached = self.reached
            known = self._reach_lists[targets] = [reached[k] != 0 for k in targets]
        return known

    def path(self, target: int) -> tuple[list[int], list[int]] | None:
        """``(routes, nodes)`` of the fastest path to ``target``, or None when no root reaches it."""
        return self._walk(target) if self.reached[target] else None

    def clear_path(self, target: int, clearance: Clearance) -> tuple[list[int], list[int]] | str | None:
        """As :meth:`Forest.clear_path`; without walking the path when ``clearance`` marks removals here."""
        if not self.reached[target]:
            return None
        if clearance.forest is self:
            return BLOCKED if clearance.cut[self._tin[target]] else self._walk(target)
        return Forest.clear_path(self, target, clearance)

    def preorder(self) -> list[int]:
        """Each node's position in a depth-first order of the forest (-1 at unreached nodes), in which
        every subtree is a run of positions; made on first use.

        The trees hang from a chain of virtual nodes, one per root, so that no node has many children
        (SciPy's depth-first search looks through a node's children again each time it comes back to it).
        """
        if not self._tin:
            n = self.graph.n_nodes
            prev = self._prev_a
            kids = np.flatnonzero(prev >= 0)
            roots = np.flatnonzero((prev < 0) & (self._dist_a == 0.0))
            virtual = np.arange(n, n + len(roots))
            tails = np.concatenate((prev[kids], virtual, virtual[:-1]))
            heads = np.concatenate((kids, roots, virtual[1:]))
            size = n + len(roots)
            indptr = np.zeros(size + 1, dtype=np.int32)
            np.cumsum(np.bincount(tails, minlength=size), out=indptr[1:])
            by_tail = np.argsort(tails, kind="stable")
            tree: Any = _scipy()[0]((np.ones(len(heads)), heads[by_tail].astype(np.int32), indptr), shape=(size, size))
            order = _scipy()[2](tree, n, directed=True, return_predecessors=False)
            order = order[order < n]
            tin = np.full(n, -1, dtype=np.int64)
            tin[order] = np.arange(len(order))
            up = prev[order]
            self._ptin = np.where(up >= 0, tin[up], -1)
            self._ptin_list = self._ptin.tolist()
            self._child = np.full(len(self.usable), -1, dtype=np.int64)
            self._child[self._via_a[kids]] = kids
            self._tin = tin.tolist()
        return self._tin

    def cut_route(self, cut: bytearray, route: int) -> None:
        """Mark in ``cut`` (by preorder position) the nodes whose path crosses ``route``."""
        node = int(self._child[route])
        if node >= 0:
            self.cut_below(cut, node)

    def cut_below(self, cut: bytearray, node: int) -> None:
        """Mark in ``cut`` (by preorder position) ``node`` and the nodes whose path passes it."""
        p = self._tin[node]
        if cut[p]:
            return  # its subtree is cut already
        ptin = self._ptin_list
        n = len(ptin)
        q, stop = p + 1, min(n, p + 24)
        while q < stop and ptin[q] >= p:  # the subtree ends at the first position whose parent lies before p
            q += 1
        if q == stop < n:
            w = 64
            while q < n:
                hits = np.flatnonzero(self._ptin[q:q + w] < p)
                if len(hits):
                    q += int(hits[0])
                    break
                q += w
                w *= 4
            q = min(q, n)
        cut[p:q] = b"\x01" * (q - p)


def settled_forest(graph: RouteGraph, usable: bytes | bytearray, roots: Sequence[int]) -> Forest:
    """A :class:`Forest` settled whole at once, with the same distances and paths as ``Forest(graph,
    usable, roots, settle_all=True)`` (node for node, ties included), by SciPy's compiled Dijkstra.

    The distances are the same floats: both searches add each route's hours to its tail's distance, and
    with positive weights the least of those sums is unique. Each node's previous node is then the one
    the heap-based search settles first among those that give it its distance -- the least ``(distance,
    index)`` -- and its route the first such way out of that node, as the search's strict ``<`` leaves it.
    Where a sum rounds to its tail's own distance (a route too short to add anything) that order is not
    certain, and the plain search is used instead.
    """
    csr_matrix, dijkstra, _ = _scipy()
    roots = sorted(set(roots))
    if not roots:
        return Forest(graph, usable, roots, settle_all=True)
    n = graph.n_nodes
    tail, head, hours, route = graph.arcs()
    # every way out, those not usable at an infinite weight (never a way in: inf is no distance)
    weight = np.where(np.take(np.frombuffer(usable, dtype=np.uint8), route) != 0, hours, math.inf)
    matrix: Any = csr_matrix((weight, head, graph.indptr()), shape=(n, n))
    found = dijkstra(matrix, directed=True, indices=roots, min_only=True, return_predecessors=True)
    dist = np.asarray(found[0], dtype=float)
    ways = _ways_in(dist, tail, head, weight, n)
    if ways is None:  # pragma: no cover - a route too short to count
        return Forest(graph, usable, roots, settle_all=True)
    best, tied = ways
    heads = np.flatnonzero(best >= 0)
    arcs = best[heads]
    prev = np.full(n, -1, dtype=np.int64)
    via = np.full(n, -1, dtype=np.int64)
    prev[heads] = np.take(tail, arcs)
    via[heads] = np.take(route, arcs)
    # without ties each node has one way in at its distance, SciPy's too: its roots are the search's
    return SettledForest(graph, usable, dist, prev, via, None if tied else np.asarray(found[2]))


_csgraph: tuple[Any, Any, Any] | None = None  # SciPy's csr_matrix, dijkstra and depth_first_order


def _scipy() -> tuple[Any, Any, Any]:
    """SciPy's csr_matrix, dijkstra and depth_first_order, imported on first use."""
    global _csgraph
    if _csgraph is None:
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import depth_first_order, dijkstra
        _csgraph = (csr_matrix, dijkstra, depth_first_order)
    return _csgraph


def _ways_in(dist: np.ndarray, tail: np.ndarray, head: np.ndarray, hours: np.ndarray,
             n: int) -> tuple[np.ndarray, bool] | None:
    """For each node, the position (in ``tail`` / ``head`` / ``hours``: arcs in the order of the graph's
    lists) of the way in the heap-based search gives it: among the arcs that give the head its distance,
    the one with the least ``(tail distance, position)``; -1 where none (roots, unreached nodes); and whether
    some head had several. None when some such arc adds nothing to its tail's distance (the order of the
    search is then not certain)."""
    d_tail = np.take(dist, tail)  # np.take: some times faster than indexing with int32 positions
    d_head = np.take(dist, head)
    cand = np.flatnonzero((d_tail + hours == d_head) & (d_head != math.inf))
    if np.any(d_tail[cand] >= d_head[cand]):  # pragma: no cover - a route too short to count
        return None
    h_c = np.take(head, cand)
    best = np.full(n, -1, dtype=np.int64)
    ways = np.bincount(h_c, minlength=n)
    if len(h_c) == 0 or ways.max() == 1:  # one way in at each head's distance (the usual case)
        best[h_c] = cand
        return best, False
    tied = np.take(ways, h_c) > 1
    alone = ~tied
    best[h_c[alone]] = cand[alone]
    any_tied = bool(tied.any())
    if any_tied:  # heads with several ways in at their distance: the least (tail distance, position)
        t_idx = cand[tied]
        h_t = h_c[tied]
        order = np.lexsort((d_tail[t_idx], h_t))  # stable: equal keys stay in position order
        h_sorted = h_t[order]
        first = np.empty(len(h_sorted), dtype=bool)
        first[0] = True
        np.not_equal(h_sorted[1:], h_sorted[:-1], out=first[1:])
        best[h_sorted[first]] = t_idx[order[first]]
    return best, any_tied
