"""A corridor's max flow as a function of its own routes' factors: a minimum over pinned cuts.

By max-flow min-cut, the max flow from a corridor's sources to the militant towns is the smallest
capacity of a cut that puts the sources on one side and the towns on the other. With every route
outside the corridor at its nominal capacity (as the connectivity share has it, docs/background.md s.8),
the capacity of a cut is affine in the corridor's capacity factors ``f``: ``b + a . f``, where
``a`` holds the nominal capacities of the corridor routes the cut crosses (source side to town
side) and ``b`` the capacity of the other routes it crosses. Which corridor routes a cut crosses
depends only on the sides of their end nodes. For each assignment of those nodes to a side, the
cheapest ``b`` is one max flow on the network without the corridor's routes, with the assignment
pinned by arcs from the super-source or to the super-sink. Hence, exactly::

    max_flow(f) = min over assignments of (b + a . f)

and for many days at once it is one matrix product and a minimum. The corridor's sources are
always on the source side and the militant towns on the town side (any other cut is infinite),
so only the ``k`` other end nodes are assigned: ``2**k`` max flows, once per corridor (``k`` = 6
in the default scenario: the passes and the junction of Jurd Arsal). Cuts that another beats for
every ``f >= 0`` are dropped.

On whole-number capacities with few other nodes (the default corridor: 3 to 0 of them), the ``2**k``
pinned min cuts come from listing every cut instead: a cut's capacity is a sum of whole numbers,
exact in any order, so the smallest one over the other nodes' sides is the max flow to the last bit
(max-flow min-cut), with no solver. Otherwise each is one Edmonds-Karp max flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - annotations only: networkx is imported where a max flow is solved
    import networkx as nx

__all__ = ["CorridorCuts", "MAX_FREE_NODES"]

#: Most end nodes to assign (2**12 = 4,096 max flows); beyond, callers solve each pattern instead.
MAX_FREE_NODES = 12

#: Most (cut, arc) cells that listing every cut may take (:meth:`CorridorCuts._enumerate_cuts`); beyond, max flows.
MAX_LISTED_CELLS = 2**21

#: Arcs by tail and head with their capacity; nodes (keys) in the order they were met.
_Arcs = dict[str, dict[str, float]]

_SOURCE = "__cuts_source__"
_SINK = "__cuts_sink__"


class CorridorCuts:
    """The cuts that decide a corridor's max flow; :meth:`max_flow` evaluates them for many patterns.

    Parameters
    ----------
    arcs : iterable of (u, v, route index, capacity)
        The arcs the side may use (:meth:`RouteNetwork.side_arcs`), nominal capacities.
    corridor_routes : array of int
        Indices of the corridor's routes: those whose capacity varies; every other arc keeps its own.
    sources, sinks : sequences of node ids
        The corridor's sources and the towns supplied; those on no arc are dropped.
    label : str
        The corridor's name, for messages.

    Raises
    ------
    ValueError
        When more than :data:`MAX_FREE_NODES` end nodes of corridor routes are neither a corridor
        source nor a sink (use :meth:`RouteNetwork.max_flow` per pattern instead).

    Examples
    --------
    >>> from qalamoun_sim import load_scenario
    >>> from qalamoun_sim.network import RouteNetwork
    >>> net = RouteNetwork.from_scenario(load_scenario())
    >>> cuts = CorridorCuts(net.side_arcs(), np.flatnonzero(net.corridor_mask("arsal")),
    ...                     net.corridor_sources("arsal"), net.militant_towns(), "arsal")
    >>> float(cuts.max_flow(np.ones(cuts.n_routes))) == cuts.nominal_flow() == net.max_flow("arsal")
    True
    """

    def __init__(self, arcs: Iterable[tuple[str, str, int, float]], corridor_routes: np.ndarray,
                 sources: Sequence[str], sinks: Sequence[str], label: str = "") -> None:
        arcs = list(arcs)
        self.route_positions = np.asarray(corridor_routes, dtype=np.int64)
        m = len(self.route_positions)
        position = {int(i): j for j, i in enumerate(self.route_positions)}
        fixed: _Arcs = {}  # the other routes, summed per (tail, head): what a networkx DiGraph would hold
        variable: dict[tuple[str, str], np.ndarray] = {}
        for u, v, i, capacity in arcs:
            fixed.setdefault(u, {})
            fixed.setdefault(v, {})
            if i in position:
                variable.setdefault((u, v), np.zeros(m))[position[i]] += capacity
            elif v in fixed[u]:
                fixed[u][v] += capacity
            else:
                fixed[u][v] = capacity
        #: Every capacity a whole number (and their sum well within a float's integers): every cut and
        #: every augmenting flow is then exact, so :meth:`nominal_flow` equals any max-flow solver's value.
        self.integral = all(float(c).is_integer() for *_, c in arcs) and sum(abs(c) for *_, c in arcs) < 2.0**52
        sources = [s for s in sources if s in fixed]
        sinks = [t for t in sinks if t in fixed]
        ends = sorted({x for arc in variable for x in arc})
        self.free_nodes = [x for x in ends if x not in sources and x not in sinks]
        if len(self.free_nodes) > MAX_FREE_NODES:
            raise ValueError(f"corridor '{label}': {len(self.free_nodes)} end nodes to assign "
                             f"(at most {MAX_FREE_NODES})")
        if not (sources and sinks):
            self.a, self.b = np.zeros((1, m)), np.zeros(1)
            return
        a, b = self._enumerate(fixed, variable, set(sources), set(sinks), m)
        self.a, self.b = _undominated(a, b)

    @property
    def n_routes(self) -> int:
        """Number of corridor routes (the length of a pattern)."""
        return len(self.route_positions)

    @property
    def n_cuts(self) -> int:
        """Number of cuts kept."""
        return len(self.b)

    def _enumerate(self, fixed: _Arcs, variable: dict[tuple[str, str], np.ndarray],
                   sources: set[str], sinks: set[str], m: int) -> tuple[np.ndarray, np.ndarray]:
        """``a`` (C, m) and ``b`` (C,) for every assignment of the free nodes (bit ``j`` of row ``i``:
        free node ``j`` on the source side)."""
        n_free = len(self.free_nodes)
        inner = [x for x in fixed if x not in sources and x not in sinks and x not in self.free_nodes]
        listed = 2 ** (n_free + len(inner)) * max(sum(len(heads) for heads in fixed.values()), 1)
        if not (self.integral and sources.isdisjoint(sinks) and listed <= MAX_LISTED_CELLS
                and all(c >= 0 for *_, c in _edges(fixed))):
            return self._enumerate_flows(fixed, variable, sources, sinks, m)
        side = _sides(fixed, self.free_nodes + inner, sources)
        b = _smallest_cuts(fixed, side, 2 ** n_free)
        a = np.zeros((2 ** n_free, m))
        for (u, v), caps in variable.items():  # in the order of the max-flow enumeration: the same sums
            a[side[u][:2 ** n_free] & ~side[v][:2 ** n_free]] += caps
        return a, b

    def _enumerate_flows(self, fixed: _Arcs, variable: dict[tuple[str, str], np.ndarray],
                         sources: set[str], sinks: set[str], m: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_enumerate` by one Edmonds-Karp max flow per assignment (any capacities)."""
        from networkx.algorithms.flow import build_residual_network, edmonds_karp

        # pins are finite but larger than any cut of the fixed network, so a min cut never takes one
        big = 2.0 * sum(c for _, _, c in _edges(fixed)) + 1.0
        g = _digraph(fixed)
        for s in sources:
            g.add_edge(_SOURCE, s, capacity=big)
        for t in sinks:
            g.add_edge(t, _SINK, capacity=big)
        for x in self.free_nodes:  # the residual network keeps only arcs with capacity: set per assignment
            g.add_edge(_SOURCE, x, capacity=big)
            g.add_edge(x, _SINK, capacity=big)
        residual = build_residual_network(g, "capacity")
        n_free = len(self.free_nodes)
        a = np.zeros((2 ** n_free, m))
        b = np.zeros(2 ** n_free)
        for bits in range(2 ** n_free):
            source_side = set(sources)
            for j, x in enumerate(self.free_nodes):
                on_source_side = bool(bits >> j & 1)
                residual[_SOURCE][x]["capacity"] = big if on_source_side else 0.0
                residual[x][_SINK]["capacity"] = 0.0 if on_source_side else big
                if on_source_side:
                    source_side.add(x)
            flow = edmonds_karp(g, _SOURCE, _SINK, capacity="capacity", residual=residual)
            b[bits] = flow.graph["flow_value"]
            for (u, v), caps in variable.items():
                if u in source_side and v not in source_side:
                    a[bits] += caps
        return a, b

    def nominal_flow(self) -> float:
        """The max flow with every corridor route open: the smallest cut at factors 1 (exact when :attr:`integral`)."""
        return float((self.b + self.a.sum(axis=1)).min())

    def max_flow(self, factors: np.ndarray, rows_per_block: int = 400) -> np.ndarray:
        """Max flow for corridor factors shaped ``(..., n_routes)``: an array shaped ``(...)``.

        Rows go ``rows_per_block`` at a time: blocks this small stay on one BLAS thread, which on
        two cores is 5-15 times faster than letting OpenBLAS spread one large product over threads
        (45,000 rows x 15 routes x 40 cuts: 5 ms against 24-88 ms, measured on the benchmark machine).
        """
        f = np.asarray(factors, dtype=float)
        if f.shape[-1:] != (self.n_routes,):
            raise ValueError(f"expected {self.n_routes} corridor factors on the last axis, got shape {f.shape}")
        flat = f.reshape(-1, self.n_routes)
        if len(flat) == 0:
            return np.zeros(f.shape[:-1])
        # a row like the one before it (most days repeat the day before) takes that row's value
        new = np.ones(len(flat), dtype=bool)
        np.any(flat[1:] != flat[:-1], axis=1, out=new[1:])
        rows = flat[new]
        values = np.empty(len(rows))
        at = self.a.T
        buf = np.empty((min(rows_per_block, len(rows)), self.n_cuts))
        for lo in range(0, len(rows), rows_per_block):
            block = rows[lo:lo + rows_per_block]
            cut = buf[:len(block)]
            np.matmul(block, at, out=cut)
            cut += self.b
            cut.min(axis=1, out=values[lo:lo + len(block)])
        return values[np.cumsum(new) - 1].reshape(f.shape[:-1])


def _edges(arcs: _Arcs) -> Iterator[tuple[str, str, float]]:
    """``(tail, head, capacity)`` of every arc: by tail, then head, as a networkx DiGraph of them lists its edges."""
    for u, heads in arcs.items():
        for v, capacity in heads.items():
            yield u, v, capacity


def _digraph(arcs: _Arcs) -> nx.DiGraph:
    """The :class:`networkx.DiGraph` of ``arcs`` (attribute ``capacity``), with its nodes and edges in their order."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(arcs)
    g.add_weighted_edges_from(_edges(arcs), weight="capacity")
    return g


def _sides(nodes: Iterable[str], listed: Sequence[str], sources: set[str]) -> dict[str, np.ndarray]:
    """Per node, over the ``2**len(listed)`` assignments (bit ``j`` of row ``i``: ``listed[j]`` on the source
    side): on the source side or not. A node not listed is a source (always) or a town (never)."""
    rows = np.arange(2 ** len(listed))
    ones, zeros = np.ones(len(rows), dtype=bool), np.zeros(len(rows), dtype=bool)
    side = {x: ones if x in sources else zeros for x in nodes}
    side.update({x: (rows >> j & 1).astype(bool) for j, x in enumerate(listed)})
    return side


def _smallest_cuts(fixed: _Arcs, side: dict[str, np.ndarray], n_pinned: int) -> np.ndarray:
    """For each of the ``n_pinned`` assignments of the free nodes (the low bits of ``side``'s rows), the
    smallest capacity over the other nodes' sides of the cut: every arc from the source side to the town
    side. Whole-number capacities (summing well within a float's integers): every sum is exact."""
    edges = list(_edges(fixed))
    crossing = np.zeros((len(next(iter(side.values()))), len(edges)))  # a source is always in side
    for k, (u, v, _) in enumerate(edges):
        crossing[:, k] = side[u] & ~side[v]
    cut = crossing @ np.array([c for *_, c in edges], dtype=float)
    return cut.reshape(-1, n_pinned).min(axis=0)


def _undominated(a: np.ndarray, b: np.ndarray, rows_per_block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """The cuts no other cut beats (or ties) for every nonnegative pattern: ``a2 <= a`` and ``b2 <= b``.

    In the order of ``b`` then ``a``'s sums, a cut is kept when no cut before it is as low everywhere
    (the one kept first of equal cuts): since being as low is transitive, the same cuts as keeping
    each one that no cut kept before it beats. ``rows_per_block`` cuts are compared with all at a time.
    """
    order = np.lexsort((a.sum(axis=1), b))  # a cut can only be dominated by one sorted before it
    sa, sb = a[order], b[order]
    beaten = np.zeros(len(order), dtype=bool)
    for lo in range(0, len(order), rows_per_block):
        hi = min(lo + rows_per_block, len(order))
        below = (sa[None, :hi] <= sa[lo:hi, None]).all(axis=2) & (sb[None, :hi] <= sb[lo:hi, None])
        below &= np.arange(hi)[None, :] < np.arange(lo, hi)[:, None]  # only the cuts before each
        beaten[lo:hi] = below.any(axis=1)
    keep = order[~beaten]
    return a[keep], b[keep]
