"""Wood's max-flow interdiction MILP as matrices, solved by :func:`scipy.optimize.milp` (HiGHS).

Variables, in order: ``y`` (one per route that may be struck), ``z`` (one per asset and route it reaches,
only with strike groups), then for each scenario ``pi`` (one per node) and ``beta`` (one per open arc)::

    min   sum_s  w_s  sum_a  u_sa beta_sa                 (or, with a flow bound: min sum_r y_r)
    s.t.  pi_sv - pi_su - beta_sa - y_r(a) <= 0          every open arc a = (u, v) of scenario s
          sum_r y_r <= k                                  (the budget)
          y_r - sum_g z_gr <= 0,  sum_r z_gr <= k_g       (strike groups)
          sum_s w_s sum_a u_sa beta_sa <= F               (the flow bound, when asked)
          pi = 0 on the sources, 1 on the sinks;  0 <= pi, beta <= 1;  y, z binary

The public face is :class:`~qalamoun_sim.network.interdiction.FlowInterdiction`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .interdiction import FlowInterdiction, StrikeGroup

__all__ = ["WoodModel", "quiet_stdout"]


class WoodModel:
    """The matrices of one interdiction MILP over scenarios of arc capacities.

    Parameters
    ----------
    problem : FlowInterdiction
        The arcs, nodes, sources, sinks and routes that may be struck.
    factors : (S, N) array
        Route capacity factors per scenario.
    weights : (S,) array
        Scenario weights, summing to 1.
    reach : (N,) bool
        Routes some strike may reach.
    groups : sequence of StrikeGroup
        Assets and their budgets (empty: one budget for all).
    """

    def __init__(self, problem: FlowInterdiction, factors: np.ndarray, weights: np.ndarray, reach: np.ndarray,
                 groups: Sequence[StrikeGroup] = ()) -> None:
        self.problem = problem
        self.caps = problem.capacity[None, :] * factors[:, problem.route]  # (S, A)
        useful = np.zeros(problem.n_routes, dtype=bool)
        useful[problem.route[(self.caps > 0).any(axis=0)]] = True
        self.y_routes = np.flatnonzero(reach & useful)
        self.n_y = len(self.y_routes)
        self.y_col = np.full(problem.n_routes, -1, dtype=np.int64)
        self.y_col[self.y_routes] = np.arange(self.n_y)
        self.groups = [g for g in groups if g.budget > 0]
        self.z_pairs = [(g, int(r)) for g, grp in enumerate(self.groups)
                        for r in np.flatnonzero(np.asarray(grp.routes, dtype=bool)) if self.y_col[r] >= 0]
        self.weights = weights

    def solve(self, *, budget: int | None = None, flow_at_most: float | None = None,
              time_limit: float | None = None) -> tuple[np.ndarray, float]:
        """The routes struck (indices) and the objective: least flow under ``budget``, or fewest strikes
        that bring the flow to ``flow_at_most``."""
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import coo_matrix, csr_matrix, vstack

        rows, cols, vals, hi, cost, ub_var, lb_var = self._matrices()
        n_var = len(cost)
        a = coo_matrix((vals, (rows, cols)), shape=(len(hi), n_var)).tocsr()
        strikes = np.zeros(n_var)
        strikes[:self.n_y] = 1.0
        extra, extra_hi = [], []
        if budget is not None:
            extra.append(strikes)
            extra_hi.append(float(budget))
        objective = cost
        if flow_at_most is not None:
            extra.append(cost)
            extra_hi.append(float(flow_at_most))
            objective = strikes
        if extra:
            a = vstack([a, csr_matrix(np.vstack(extra))]).tocsr()
            hi = np.concatenate([hi, extra_hi])
        integrality = np.zeros(n_var)
        integrality[:self.n_y + len(self.z_pairs)] = 1
        options: dict[str, Any] = {"mip_rel_gap": 0.0}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        with quiet_stdout():
            res = milp(objective, integrality=integrality, bounds=Bounds(lb_var, ub_var),
                       constraints=LinearConstraint(a, np.full(len(hi), -np.inf), hi), options=options)
        if res.x is None:
            raise RuntimeError(f"max-flow interdiction MILP: {res.message}")
        return self.y_routes[np.asarray(res.x)[:self.n_y] > 0.5], float(res.fun)

    def _matrices(self) -> tuple[np.ndarray, ...]:
        """Triplets (rows, cols, values), row upper bounds, costs and variable bounds, budget and flow rows aside."""
        p = self.problem
        n_node = len(p.node_ids)
        n_head = self.n_y + len(self.z_pairs)
        rows, cols, vals, hi = self._group_rows()
        row = len(hi)
        cost: list[np.ndarray] = [np.zeros(n_head)]
        lb: list[np.ndarray] = [np.zeros(n_head)]
        ub: list[np.ndarray] = [np.ones(n_head)]
        offset = n_head
        node_lb, node_ub = np.zeros(n_node), np.ones(n_node)
        node_ub[p.source_index] = 0.0
        node_lb[p.sink_index] = 1.0
        for s in range(len(self.caps)):
            arcs = np.flatnonzero(self.caps[s] > 0)
            m = len(arcs)
            r = row + np.arange(m)
            y = self.y_col[p.route[arcs]]
            has = y >= 0
            rows += [r, r, r, r[has]]
            cols += [offset + p.head[arcs], offset + p.tail[arcs], offset + n_node + np.arange(m), y[has]]
            vals += [np.ones(m), -np.ones(m), -np.ones(m), -np.ones(int(has.sum()))]
            hi.extend([0.0] * m)
            cost += [np.zeros(n_node), self.weights[s] * self.caps[s, arcs]]
            lb += [node_lb, np.zeros(m)]
            ub += [node_ub, np.ones(m)]
            row += m
            offset += n_node + m
        cat = np.concatenate
        return (cat(rows).astype(np.int64), cat(cols).astype(np.int64), cat(vals), np.asarray(hi, dtype=float),
                cat(cost), cat(ub), cat(lb))

    def _group_rows(self) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[float]]:
        """Rows ``y_r - sum_g z_gr <= 0`` and ``sum_r z_gr <= k_g`` (none without groups)."""
        rows: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        cols: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        vals: list[np.ndarray] = [np.zeros(0)]
        hi: list[float] = []
        if not self.groups:
            return rows, cols, vals, hi
        for j in range(self.n_y):
            z = [self.n_y + q for q, (_, r) in enumerate(self.z_pairs) if r == self.y_routes[j]]
            rows.append(np.full(1 + len(z), len(hi)))
            cols.append(np.array([j, *z]))
            vals.append(np.array([1.0] + [-1.0] * len(z)))
            hi.append(0.0)
        for g, grp in enumerate(self.groups):
            z = [self.n_y + q for q, (gg, _) in enumerate(self.z_pairs) if gg == g]
            if z:
                rows.append(np.full(len(z), len(hi)))
                cols.append(np.array(z))
                vals.append(np.ones(len(z)))
                hi.append(float(grp.budget))
        return rows, cols, vals, hi


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """File descriptor 1 on the null device while HiGHS runs: some HiGHS builds print debug lines on the
    C stdout even with ``disp`` off, which would break ``--json`` (exactly one object on stdout)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no usable stdout: nothing to protect
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    _flush_c_stdio()
    os.dup2(null, 1)
    try:
        yield
    finally:
        _flush_c_stdio()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


@functools.cache
def _libc() -> Any:
    import ctypes

    try:
        return ctypes.CDLL(None)
    except (OSError, TypeError):  # pragma: no cover - no C library to call (Windows)
        return None


def _flush_c_stdio() -> None:
    """``fflush(NULL)``: what C code buffered goes out before the descriptor changes."""
    lib = _libc()
    if lib is not None:
        lib.fflush(None)
