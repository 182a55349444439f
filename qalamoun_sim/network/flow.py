"""Max flow of a corridor on changing route factors (one residual network, reused)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .routes import RouteNetwork

__all__ = ["FlowSolver", "SUPER_SOURCE", "SUPER_SINK"]

SUPER_SOURCE = "__source__"
SUPER_SINK = "__sink__"


class FlowSolver:
    """Max flow of one corridor on changing route factors, reusing one residual network.

    The collapsed graph is built once on nominal capacities; each call sets the residual
    capacities from the factors (a sparse incidence matrix product: one entry per arc, so a
    100,000-route network needs megabytes, not the 150 GiB of a dense matrix) and runs
    Edmonds-Karp, which resets the flows itself. The answer equals ``nx.maximum_flow_value`` on :meth:`RouteNetwork.flow_graph`.
    """

    def __init__(self, network: RouteNetwork, corridor: str, side: str, held: frozenset[str] = frozenset()) -> None:
        from networkx.algorithms.flow import build_residual_network

        g = network.flow_graph(None, side, held)
        self.edges = list(g.edges())
        sources = [s for s in network.corridor_sources(corridor) if s in g]
        sinks = [t for t in network.militant_towns() if t in g and t not in held]
        self.empty = not (sources and sinks and self.edges)
        if self.empty:
            return
        from scipy.sparse import csr_matrix

        pos = {e: j for j, e in enumerate(self.edges)}
        rows, cols, caps = [], [], []
        for u, v, i, capacity in network.side_arcs(side, held):
            rows.append(pos[(u, v)])
            cols.append(i)
            caps.append(capacity)
        self.incidence = csr_matrix((np.asarray(caps, dtype=float), (rows, cols)),
                                    shape=(len(self.edges), network.n_routes))
        for s in sources:
            g.add_edge(SUPER_SOURCE, s)
        for t in sinks:
            g.add_edge(t, SUPER_SINK)
        self.graph = g
        self.residual = build_residual_network(g, "capacity")

    def value(self, factors: np.ndarray) -> float:
        """Max flow with route capacities scaled by ``factors``."""
        if self.empty:
            return 0.0
        from networkx.algorithms.flow import edmonds_karp

        caps = np.asarray(self.incidence @ np.asarray(factors, dtype=float), dtype=float)
        res = self.residual
        for (u, v), c in zip(self.edges, caps.tolist(), strict=True):
            res[u][v]["capacity"] = c
        r = edmonds_karp(self.graph, SUPER_SOURCE, SUPER_SINK, capacity="capacity", residual=res)
        return float(r.graph["flow_value"])
