"""Path search for the engine: shortest-path forests over the day's usable routes, memoized per network state.

A :class:`PathSearch` hands out :class:`~qalamoun_sim.engine.routing.Forest` objects: from the sources
(the dispatcher's rounds, the cut-off test) or from one node (a convoy that reroutes). Each is memoized
on the network state it was computed for, so it is computed only when a route opens or closes or a town
falls; the memos are bounded (:data:`MAX_CACHED_NODES`). On networks of :data:`COMPILED_MIN_NODES`
nodes or more, a forest from the sources is computed whole by SciPy's compiled Dijkstra
(:func:`~qalamoun_sim.engine.compiled.settled_forest`: the same paths), since nearly all of it is asked
for; a convoy's tree, asked for one town, stays on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from .compiled import settled_forest
from .routing import Forest, RouteGraph

__all__ = ["PathSearch", "MAX_CACHED_NODES", "COMPILED_MIN_NODES"]

#: Nodes of the memoized path forests before the memo is emptied: memory stays under about 60 MB.
MAX_CACHED_NODES = 500_000

#: Nodes from which the sources' forests are computed whole by SciPy rather than settled on demand in
#: Python (measured: the compiled search costs a fixed ~0.1 ms a call, and is faster from a few hundred
#: nodes; see benchmarks/README.md).
COMPILED_MIN_NODES = 600


class _Memo:
    """Forests by network state, emptied whenever they would hold more than ``budget`` nodes."""

    def __init__(self, n_nodes: int, budget: int) -> None:
        self.items: dict[Hashable, Forest] = {}
        self.room = max(1, budget // max(1, n_nodes))  # forests held at most
        self.built = 0
        self._settled_before = 0  # nodes settled by the forests of emptied memos

    def get(self, key: Hashable, make: Callable[[], Forest]) -> Forest:
        """The forest memoized on ``key``, made by ``make`` when there is none."""
        hit = self.items.get(key)
        if hit is None:
            if len(self.items) >= self.room:
                self._settled_before += sum(f.settled_count for f in self.items.values())
                self.items.clear()
            hit = self.items[key] = make()
            self.built += 1
        return hit

    @property
    def settled(self) -> int:
        """Nodes settled so far by every forest this memo built: the work done."""
        return self._settled_before + sum(f.settled_count for f in self.items.values())


class PathSearch:
    """Fastest paths over a route graph, from the sources or from one node, memoized per network state.

    Parameters
    ----------
    graph : RouteGraph
    source_nodes : sequence of int
        The sources' nodes, in scenario order: the roots a forest may start from.

    Attributes
    ----------
    graph : RouteGraph
    """

    def __init__(self, graph: RouteGraph, source_nodes: Sequence[int]) -> None:
        self.graph = graph
        self._sources = list(source_nodes)
        n_nodes = graph.n_nodes
        self._day_forests = _Memo(n_nodes, MAX_CACHED_NODES * 2 // 5)
        self._round_forests = _Memo(n_nodes, MAX_CACHED_NODES * 2 // 5)
        self._trees = _Memo(n_nodes, MAX_CACHED_NODES // 5)
        self._compiled = n_nodes >= COMPILED_MIN_NODES

    def forest(self, usable: bytes, roots: bytes, first: bool = True) -> Forest:
        """Fastest paths from the nearest of the sources marked in ``roots`` (one byte per node) over the
        routes marked in ``usable``: memoized on both (``first``: a day's first forest, else a later
        round's, kept apart so that the many one-off states of later rounds do not push out the first)."""
        memo = self._day_forests if first else self._round_forests
        return memo.get((usable, roots), lambda: self._make_forest(usable, [s for s in self._sources if roots[s]]))

    def _make_forest(self, usable: bytes, roots: list[int]) -> Forest:
        """A new forest from ``roots``: whole by SciPy on large networks, else settled on demand."""
        if self._compiled:
            return settled_forest(self.graph, usable, roots)
        return Forest(self.graph, usable, roots)

    def tree(self, node: int, usable: bytes, blocked: bytes) -> Forest:
        """Fastest paths from ``node`` over the routes marked in ``usable``, memoized on the network state
        (``usable`` and the army-held nodes ``blocked``) and ``node``."""
        return self._trees.get((usable, blocked, node), lambda: Forest(self.graph, usable, [node]))

    @property
    def patterns(self) -> int:
        """Days' first forests computed: the network states met."""
        return self._day_forests.built

    @property
    def built(self) -> int:
        """Forests and trees computed."""
        return self._day_forests.built + self._round_forests.built + self._trees.built

    @property
    def settled(self) -> int:
        """Nodes settled by every forest and tree computed: the work done."""
        return self._day_forests.settled + self._round_forests.settled + self._trees.settled
