"""The day's network: which routes the militants may use each day, and how much each still carries.

A :class:`DayNetwork` holds the usable-route masks of every day (snow, strikes, siege lines and the
army's routes), the army-held nodes and what follows from them, and, for the day in progress, the
usable routes, each route's budget of tonnes and the convoys queued for capacity. Convoys take
capacity as they enter a route (:meth:`DayNetwork.take`) and the dispatcher books it in advance;
each closed day's budget left is recorded for the flow table (:meth:`DayNetwork.flow`).
"""

from __future__ import annotations

import functools
import itertools
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import simpy

from ..environment.state import ExogenousState
from ..network.routes import RouteNetwork

__all__ = ["DayNetwork", "CLOSED", "EPS"]

#: Tonnes below this are nothing (float dust).
EPS = 1e-9

#: Value a queued convoy is woken with when its route closed overnight.
CLOSED = "closed"

#: Routes from which a day's speed and budget lists are reused when they equal yesterday's (below, the
#: comparison costs more than the lists).
REUSE_MIN_ROUTES = 256

_ADMITTED = "admitted"  # value a queued convoy is woken with when it may go


class DayNetwork:
    """The routes usable by the militants, day by day, and the capacity left on each today.

    Parameters
    ----------
    env : simpy.Environment
        Where the events of queued convoys and of :attr:`new_day` are scheduled.
    network : RouteNetwork
    state : ExogenousState
        The exogenous state of exactly one replication.
    node_index : dict of str to int
        Index of each node id.
    source_nodes : sequence of int
        The sources' nodes, in scenario order.
    siege_lines : sequence of str
        Ids of the routes closed by siege lines.

    Attributes
    ----------
    route_from, route_to : list of int
        End nodes of each route.
    interdicted : (D, N) ndarray of bool
        Routes struck each day (read-only).
    open_dn, budget_dn, speed_dn : (D, N) ndarray
        Open to the militants (before the army-held nodes), capacity in tonnes, speed factor.
    blocked : bytearray
        One byte per node, 1 where the army holds it.
    blocked_bytes, roots : bytes
        ``bytes(blocked)``; one byte per node, 1 at the sources not army-held.
    day : int
        The day in progress (-1 before the first).
    usable_bytes : bytes
        One byte per route, 1 where a militant convoy may take it today.
    budget, speed_today : list of float
        Tonnes each route can still carry today; today's speed factor of each route.
    filled : list of int
        Routes filled up today before the dispatch (by convoys on the way, or empty from the start).
    queues : dict of int to deque
        Per route, the convoys waiting for capacity: ``[tonnes still needed, event]``.
    new_day : simpy.Event
        Succeeds when the next day begins.
    """

    def __init__(self, env: simpy.Environment, network: RouteNetwork, state: ExogenousState,
                 node_index: dict[str, int], source_nodes: Sequence[int], siege_lines: Sequence[str]) -> None:
        self.env = env
        self.route_from = [node_index[r.from_] for r in network.routes]
        self.route_to = [node_index[r.to] for r in network.routes]
        self._route_from_np = np.asarray(self.route_from, dtype=np.int64)
        self._route_to_np = np.asarray(self.route_to, dtype=np.int64)
        self._source_nodes = list(source_nodes)
        self._masks(network, state, siege_lines)
        self.blocked = bytearray(network.enemy_node_mask("militant").astype(np.uint8).tobytes())
        self.blocked_bytes = b""  # set by _blocked_changed, with what depends on blocked
        self._route_ok = np.empty(0, dtype=np.uint8)
        self.roots = b""
        self._blocked_changed()
        self._budget_left: list[list[float]] = []  # each closed day's budget left, for the flow table
        # ---- today's state (set by start_day)
        self.day = -1
        self.speed_today: list[float] = []  # read only: kept while the speeds stay the same
        self._reuse = network.n_routes >= REUSE_MIN_ROUTES
        self._speed_row: np.ndarray | None = None
        self._budget_row: np.ndarray | None = None  # the last day's budgets as they began, and as a list
        self._budget_start: list[float] | None = None
        self.budget: list[float] = []
        self.usable_bytes = b""
        self.filled: list[int] = []
        self.queues: dict[int, deque[list[Any]]] = {}
        self.new_day: simpy.Event = env.event()

    def _masks(self, network: RouteNetwork, state: ExogenousState, siege_lines: Sequence[str]) -> None:
        """The (D, N) masks and budgets of every day, and the routes open but with no capacity at all."""
        cap_f = state.snow_capacity_factor[0]
        self.interdicted = np.asarray(state.interdicted[0], dtype=bool)
        self.interdicted.setflags(write=False)
        factor = np.where(self.interdicted, 0.0, cap_f)
        siege = np.zeros(network.n_routes, dtype=bool)
        for rid in siege_lines:
            siege[network.route_index[rid]] = True
        self.open_dn = (factor > 0.0) & ~siege[None, :] & ~network.enemy_route_mask("militant")[None, :]
        self.budget_dn = np.where(self.open_dn, network.capacity_tpd[None, :] * factor, 0.0)
        empty = np.argwhere(self.open_dn & (self.budget_dn <= EPS))  # open, but with no capacity at all
        self._empty_dn: dict[int, list[int]] = {}  # by day, only the days that have some
        for d_, r_ in empty.tolist():
            self._empty_dn.setdefault(d_, []).append(r_)
        self.speed_dn = state.snow_speed_factor[0]
        self._open_u8 = self.open_dn.view(np.uint8)  # bools are bytes: no copy

    # ------------------------------------------------------------------ army-held nodes
    def block(self, node: int) -> None:
        """The army holds ``node`` from now on (it takes effect on the usable routes at :meth:`start_day`)."""
        self.blocked[node] = 1
        self._blocked_changed()

    def _blocked_changed(self) -> None:
        """Recompute what follows from the army-held nodes: the routes whose ends are both free,
        and the sources that can still send (the roots of the cut-off test)."""
        blocked = np.frombuffer(self.blocked, dtype=np.uint8)
        self.blocked_bytes = bytes(self.blocked)
        self._route_ok = (1 - (blocked[self._route_from_np] | blocked[self._route_to_np])).astype(np.uint8)
        roots = bytearray(len(self.blocked))
        for k in self._source_nodes:
            roots[k] = not self.blocked[k]
        self.roots = bytes(roots)

    # ------------------------------------------------------------------ days
    def start_day(self, d: int) -> None:
        """Day ``d`` begins: today's usable routes, speeds and budgets; the queued convoys are served,
        then :attr:`new_day` succeeds (and is replaced by the next day's)."""
        self.day = d
        self.usable_bytes = (self._open_u8[d] & self._route_ok).tobytes()
        self._day_lists(d)
        self.filled = list(self._empty_dn.get(d, ()))
        for r in list(self.queues):
            self._admit(r)
        old, self.new_day = self.new_day, self.env.event()
        old.succeed()

    def _day_lists(self, d: int) -> None:
        """Day ``d``'s speed and budget lists; on a large network, yesterday's speeds and a copy of
        yesterday's first budgets when they are the same (a comparison costs less than a list made anew)."""
        speed, budget = self.speed_dn[d], self.budget_dn[d]
        if not self._reuse:
            self.speed_today, self.budget = speed.tolist(), budget.tolist()
            return
        if self._speed_row is None or not np.array_equal(speed, self._speed_row):  # else yesterday's list
            self.speed_today = speed.tolist()
            self._speed_row = speed
        if self._budget_row is not None and np.array_equal(budget, self._budget_row):
            if self._budget_start is None:
                self._budget_start = budget.tolist()
            self.budget = self._budget_start.copy()  # a list of the same floats: quicker than tolist
        else:
            self._budget_row, self._budget_start = budget, None
            self.budget = budget.tolist()

    def close_day(self) -> None:
        """The day in progress ends: record its budget left (no longer changed: tomorrow has a list of its own)."""
        self._budget_left.append(self.budget)

    def flow(self) -> np.ndarray:
        """(D, N) tonnes of each route's capacity used each day, once every day is closed."""
        return self.flow_later()()

    def flow_later(self) -> Callable[[], np.ndarray]:
        """What makes :meth:`flow` when called, holding only the days' budgets (not this network)."""
        return functools.partial(_used, self.budget_dn, self._budget_left)

    def usable(self, r: int) -> bool:
        """Whether a militant convoy may take route ``r`` today (either way it runs).

        That is today's usable-route mask: open, and neither end army-held.
        """
        return bool(self.usable_bytes[r])

    # ------------------------------------------------------------------ route capacity
    def _spend(self, r: int, tonnes: float) -> None:
        """Take ``tonnes`` of route ``r``'s budget today (a route left with float dust is full)."""
        b = self.budget[r] - tonnes
        if b <= EPS:
            self.budget[r] = 0.0
            self.filled.append(r)
        else:
            self.budget[r] = b

    def take(self, r: int, tonnes: float) -> simpy.Event | None:
        """Take ``tonnes`` of route ``r``'s capacity today; an event to wait for when it is short.

        What is left today is taken now; the convoy then queues (first come, first served) for the
        rest on the following days. The event's value is :data:`CLOSED` if the route closes first.
        """
        q = self.queues.get(r)
        b = self.budget[r]
        if not q and b >= tonnes:
            self._spend(r, tonnes)
            return None
        need = tonnes
        if not q and b > 0.0:
            need -= b
            self._spend(r, b)
        ev = self.env.event()
        if q is None:
            q = self.queues[r] = deque()
        q.append([need, ev])
        return ev

    def _admit(self, r: int) -> None:
        """Serve route ``r``'s queue from today's budget (closed for a convoy: wake it with CLOSED)."""
        q = self.queues[r]
        while q:
            entry = q[0]
            need, ev = entry
            if not self.usable_bytes[r]:
                q.popleft()
                ev.succeed(CLOSED)
                continue
            b = self.budget[r]
            if b <= 0.0:
                break
            if b >= need:
                self._spend(r, need)
                q.popleft()
                ev.succeed(_ADMITTED)
            else:
                entry[0] = need - b
                self._spend(r, b)
                break
        if not q:
            del self.queues[r]

    def release(self, routes: set[int], day: int, tonnes: float) -> None:
        """Give back capacity booked on ``day`` for routes a convoy will not enter after all."""
        if day != self.day:
            return
        for r in routes:
            self.budget[r] += tonnes
            if r in self.queues:
                self._admit(r)


def _used(budget_dn: np.ndarray, budget_left: list[list[float]]) -> np.ndarray:
    """(D, N) capacity used: each day's budget as it began (``budget_dn``) less what was left of it."""
    left = np.fromiter(itertools.chain.from_iterable(budget_left), dtype=float,
                       count=sum(map(len, budget_left))).reshape(budget_dn.shape)
    return np.subtract(budget_dn, left, out=left)
