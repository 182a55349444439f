"""Compiled path forests: a :class:`~qalamoun_sim.engine.routing.Forest` settled whole by SciPy.

On large networks a forest that will be settled whole anyway is computed at once by
:func:`settled_forest`: SciPy's compiled Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`) for the
distances, then each node's previous node and route picked as the heap-based Dijkstra of
:class:`~qalamoun_sim.engine.routing.Forest` picks them, so that the paths are the same, ties included.
:class:`SettledForest` holds the result as arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from .routing import BLOCKED, Clearance, Forest, RouteGraph

__all__ = ["SettledForest", "settled_forest"]

_INF = math.inf


class SettledForest(Forest):
    """A :class:`Forest` settled whole at once (made by :func:`settled_forest`), held as arrays.

    ``prev`` and ``via`` are read-only views of the arrays (paths are walked in Python: a view costs
    nothing to make, a list of every node far more than the few paths walked); ``dist`` and ``root`` are
    lists made from the arrays when first asked for (the cut-off test asks only which nodes are reached,
    :attr:`reached`).

    Parameters
    ----------
    graph : RouteGraph
    usable : bytes or bytearray
    dist : (n,) ndarray of float
    prev, via : (n,) ndarray of int64
        Previous node and route of each node's path (-1 at roots and unreached nodes).
    ways_in : (n,) ndarray of int
        Each node's way in (its position among the graph's :meth:`~RouteGraph.arcs`, -1 where none):
        lets :meth:`preorder` list the forest's arcs by tail without sorting them.
    root : (n,) ndarray of int, optional
        Each reached node's root (anything at unreached nodes); found from ``prev`` when not given.
    """

    marks_removals = True

    def __init__(self, graph: RouteGraph, usable: bytes | bytearray, dist: np.ndarray, prev: np.ndarray,
                 via: np.ndarray, ways_in: np.ndarray, root: np.ndarray | None = None) -> None:
        n = graph.n_nodes
        self.graph = graph
        self.usable = usable
        self._dist_a, self._prev_a, self._via_a, self._root_a = dist, prev, via, root
        self._ways_in = ways_in
        self.uses = 0  # dispatch rounds it served (see Clearance)
        self._tin_a: np.ndarray | None = None  # preorder positions, made on first use
        self._tin: Sequence[int] = ()
        self._ptin = np.empty(0, dtype=np.int64)  # the preorder position of the parent at each position
        self._ptin_view: Sequence[int] = ()
        self._child = np.empty(0, dtype=np.int64)  # per route, the node it leads to in the forest, else -1
        self.prev = _view(prev)  # read only: indexed, never set
        self.via = _view(via)
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

    def preorder(self) -> Sequence[int]:
        """Each node's position in a depth-first order of the forest (-1 at unreached nodes), in which
        every subtree is a run of positions; made on first use.

        The trees hang from a chain of virtual nodes, one per root, so that no node has many children
        (SciPy's depth-first search looks through a node's children again each time it comes back to it).
        Which child comes first does not matter: any such order keeps each subtree a run.
        """
        if self._tin_a is None:
            n = self.graph.n_nodes
            prev = self._prev_a
            tails, heads = self._tree_arcs()
            roots = np.flatnonzero((prev < 0) & (self._dist_a == 0.0))
            k = len(roots)
            chain = np.empty(2 * k - 1, dtype=np.int64)  # virtual node n + i: root i, then virtual node n + i + 1
            chain[0::2] = roots
            chain[1::2] = np.arange(n + 1, n + k)
            size = n + k
            counts = np.bincount(tails, minlength=size)
            counts[n:] = 2
            counts[-1] = 1
            indptr = np.zeros(size + 1, dtype=np.int32)
            np.cumsum(counts, out=indptr[1:])
            indices = np.concatenate((heads, chain)).astype(np.int32)
            tree: Any = _scipy()[0]((np.ones(len(indices)), indices, indptr), shape=(size, size))
            order = _scipy()[2](tree, n, directed=True, return_predecessors=False)
            order = order[order < n]
            tin = np.full(n, -1, dtype=np.int64)
            tin[order] = np.arange(len(order))
            up = prev[order]
            self._ptin = np.where(up >= 0, tin[up], -1)
            self._ptin_view = _view(self._ptin)
            self._child = np.full(len(self.usable), -1, dtype=np.int64)
            self._child[self._via_a[heads]] = heads
            self._tin_a = tin
            self._tin = _view(tin)
        return self._tin

    def positions(self, nodes: np.ndarray) -> list[int]:
        """The :meth:`preorder` positions of ``nodes`` (an int array), as a list."""
        self.preorder()
        assert self._tin_a is not None
        return np.take(self._tin_a, nodes).tolist()

    def _tree_arcs(self) -> tuple[np.ndarray, np.ndarray]:
        """Tail and head of each arc of the forest (a node's previous node and the node), by tail: the
        graph's arcs are by tail already."""
        tail, head = self.graph.arcs()[:2]
        on = np.zeros(len(tail), dtype=bool)
        on[self._ways_in[self._ways_in >= 0]] = True
        arcs = np.flatnonzero(on)
        return np.take(tail, arcs).astype(np.int64), np.take(head, arcs).astype(np.int64)

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
        ptin = self._ptin_view
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
    return SettledForest(graph, usable, dist, prev, via, best, None if tied else np.asarray(found[2]))


def _view(a: np.ndarray) -> Sequence[int]:
    """A read-only sequence of the ints of ``a`` (a memoryview: made at once, indexed about half as fast as a list)."""
    return cast(Sequence[int], memoryview(cast(Any, a)).toreadonly())


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
