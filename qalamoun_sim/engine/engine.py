"""The SimPy supply engine: convoys over the open network, town stocks, captures and settlements.

One replication at a time (design.md s.6): the engine reads that replication's exogenous state
(snow and strikes, from :mod:`qalamoun_sim.state`) day by day and never computes snow itself.
Time is in days; day ``d`` is the interval ``[d, d + 1)``. All randomness comes from
``replication_rng(seed, replication, STREAM_ENGINE)``.

At the start of each day:

1. captures and settlements decided the evening before take effect, then the scripted captures
   of that date. A captured town is army-held from then on: no convoy is sent to it or through it,
   and its checkpoint works from that day unless the scenario dates it;
2. the day's network is read: a route is usable by the militants when its capacity factor (snow
   and strikes) is positive, it is not on a siege line, not held by the army, and neither end is
   army-held -- the side rules of :meth:`RouteNetwork.flow_graph`;
3. each usable route gets a budget of ``capacity_tpd * capacity_factor`` tonnes for the day;
   convoys queued for capacity are served first, then convoys waiting out a closure move;
4. the sources dispatch their ``supply_tpd`` in convoys of ``engine.convoy_t`` tonnes (the last one
   partial), in rounds. A round starts from the fastest paths (by nominal travel time) from the
   nearest source that still has supply, over the routes with capacity left. Then, town by town,
   the militant town with the fewest days of stock ``(stock + tonnes on the way) / consumption_tpd``
   gets a convoy from its nearest source, over that path, and goes back in line. The dispatcher
   books capacity on the routes the convoy will enter that day and sizes the convoy to what they
   can still carry (and to what the source has left). A town whose path runs into a route that
   filled up, or whose source ran out, during the round waits for the next round, which starts
   from fresh paths around them; rounds go on while supply is left and a town waits. A source that
   can no longer reach any town over routes with capacity left sends no more that day. Supply that no
   open path can carry is not sent (``Run.meta["undispatched_t"]``).

A convoy travels route by route, ``length_km / (speed_kph * snow_speed_factor) / 24`` days each.
Entering a route it did not book, it takes what is left of the day's budget and queues (first
come, first served) for the rest on the following days. At a closed route, or when its town no
longer receives (captured or settled), it applies ``engine.closed_route_policy``: ``reroute``
(a new path from where it stands, to the neediest reachable town if its own is gone; with no path
it waits a day and tries again), ``wait`` (for that route to reopen) or ``turn_back`` (back to its
source, stranded there); after ``max_wait_days`` days of waiting it is stranded. A convoy on a
route when a day begins on which that route is interdicted is hit with
``interdiction.convoy_hit_probability`` (strikes are daily states, so only convoys still on the
route overnight are exposed); entering a town whose checkpoint works, it is stopped with the
checkpoint's ``stop_probability``. Both make it ``intercepted``.

At the end of each day towns consume (:class:`~qalamoun_sim.towns.TownLedger`); a militant town
with no open path from any source for ``capture_after_cut_days`` days running is captured, and
one short of supply for ``settlement.shortage_days`` days running settles with
``settlement.daily_probability`` a day. Without an ``[interdiction]`` section there are no strikes,
checkpoints, captures, siege lines or settlements.

Paths come from shortest-path forests over the day's usable routes (:mod:`qalamoun_sim.routing`):
Dijkstra from all the sources at once, settled only as far as the towns asked about. The first
round's forest is memoized per network state -- the usable-route mask and the army-held nodes -- so
it is computed only when a route opens or closes or a town falls, never per convoy; each later
round computes one afresh. A convoy that reroutes uses a tree from where it stands, memoized the
same way.

Events: a convoy covers the hops it starts and ends on the day it leaves in one timeout (nothing
on them can change before the next day begins: see :func:`~qalamoun_sim.convoys.convoy_process`),
then goes route by route. ``Run.event_count`` counts the SimPy events processed.

The dispatcher of point 4 is :class:`~qalamoun_sim.dispatch.Dispatcher` (a mixin of :class:`Engine`);
the ``Run`` tables are built by :mod:`qalamoun_sim.tables`.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from ..environment.state import STREAM_ENGINE, ExogenousState, compute_state, replication_rng
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from . import tables
from .convoys import CLOSED, EPS, ConvoyLog
from .dispatch import Dispatcher
from .results import Run
from .routing import Forest, RouteGraph
from .towns import TownLedger

__all__ = ["simulate_replication", "Engine", "CountingEnvironment"]

_ADMITTED = "admitted"  # value a queued convoy is woken with when it may go

#: Nodes of the memoized path forests before the memo is emptied: memory stays under about 60 MB.
MAX_CACHED_NODES = 500_000


class _Memo:
    """Forests by network state, emptied whenever they would hold more than ``budget`` nodes."""

    def __init__(self, n_nodes: int, budget: int) -> None:
        self.items: dict[Any, Forest] = {}
        self.room = max(1, budget // max(1, n_nodes))  # forests held at most
        self.built = 0
        self._settled_before = 0  # nodes settled by the forests of emptied memos

    def get(self, key: Any, make: Callable[[], Forest]) -> Forest:
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


class CountingEnvironment(simpy.Environment):
    """A :class:`simpy.Environment` that counts the events it processes (``events_processed``).

    Every event processed was scheduled once, taking the next id from the environment's counter,
    and has left the queue: the count is the ids handed out less the events still queued (SimPy
    puts the ``until`` event it stops on back in the queue with a new id, so it is counted once).
    Nothing is added to each event: overriding :meth:`step` or :meth:`schedule` to count would add
    a call or more to every one.
    """

    @property
    def events_processed(self) -> int:
        """Events processed so far."""
        issued = next(self._eid)  # ids handed out so far (ids start at 0) ...
        self._eid = itertools.count(issued)  # ... and the counter put back where it was
        return issued - len(self._queue)


class Engine(Dispatcher):
    """The state of one replication while it runs; build it and call :meth:`run`.

    Use :func:`simulate_replication` rather than this class directly.

    Parameters
    ----------
    scenario : Scenario
    network : RouteNetwork
    state : ExogenousState
        The exogenous state of exactly one replication.
    seed : int
        Root seed (recorded).
    replication : int
        Replication index (recorded); the engine's random stream is ``replication_rng(seed,
        replication, STREAM_ENGINE)``.
    """

    def __init__(self, scenario: Scenario, network: RouteNetwork, state: ExogenousState,
                 seed: int, replication: int) -> None:
        self.scenario = scenario
        self.network = network
        self.state = state
        self.seed = seed
        self.replication = replication
        self.rng = replication_rng(seed, replication, STREAM_ENGINE)
        self.env = CountingEnvironment()
        self.n_days = state.n_days
        eng_cfg = scenario.engine
        self.policy = eng_cfg.closed_route_policy
        self.max_wait_days = eng_cfg.max_wait_days
        self.convoy_t = eng_cfg.convoy_t
        itd = scenario.interdiction
        self.hit_probability = itd.convoy_hit_probability if itd is not None else 0.0

        # ---- nodes
        self.node_ids: list[str] = list(network.nodes)
        nidx = {nid: i for i, nid in enumerate(self.node_ids)}
        self.node_index = nidx
        self.blocked = bytearray(1 if n.side == "army" else 0 for n in network.nodes.values())
        self._blocked_bytes = b""  # bytes(blocked), and what depends on blocked: set by _blocked_changed
        self._route_ok = np.empty(0, dtype=np.uint8)
        self._roots = b""
        town_nodes = [n for n in network.nodes.values() if n.kind == "town"]
        self.towns = TownLedger(town_nodes, state.dates, itd)
        self.town_node: list[int] = [nidx[n.id] for n in town_nodes]
        self._town_nodes = tuple(self.town_node)
        self.town_of_node: list[int] = [-1] * len(self.node_ids)
        for t, k in enumerate(self.town_node):
            self.town_of_node[k] = t
        self.sources: list[tuple[int, float]] = [(nidx[n.id], n.supply_tpd) for n in network.nodes.values()
                                                 if n.kind == "source"]

        # ---- routes: per-route lists for the hot path, (D, N) arrays of the exogenous state
        self.route_from = [nidx[r.from_] for r in network.routes]
        self.route_to = [nidx[r.to] for r in network.routes]
        self._route_from_np = np.asarray(self.route_from, dtype=np.int64)
        self._route_to_np = np.asarray(self.route_to, dtype=np.int64)
        hours = network.length_km / network.speed_kph
        self.route_days: list[float] = (hours / 24.0).tolist()
        cap_f = state.snow_capacity_factor[0]
        self.interdicted = np.asarray(state.interdicted[0], dtype=bool)
        factor = np.where(self.interdicted, 0.0, cap_f)
        siege = np.zeros(network.n_routes, dtype=bool)
        if itd is not None:
            for rid in itd.siege_lines:
                siege[network.route_index[rid]] = True
        self.open_dn = (factor > 0.0) & ~siege[None, :] & (network.route_side != "army")[None, :]
        self.budget_dn = np.where(self.open_dn, network.capacity_tpd[None, :] * factor, 0.0)
        self._filled: list[int] = []  # routes filled up today before the dispatch (by convoys on the way)
        empty = np.argwhere(self.open_dn & (self.budget_dn <= EPS))  # open, but with no capacity at all
        self._empty_dn: dict[int, list[int]] = {}  # by day, only the days that have some
        for d_, r_ in empty.tolist():
            self._empty_dn.setdefault(d_, []).append(r_)
        self.speed_dn = state.snow_speed_factor[0]
        self._open_u8 = self.open_dn.view(np.uint8)  # bools are bytes: no copy
        self._budget_left: list[list[float]] = []  # each closed day's budget left, for the flow table
        self.graph = RouteGraph(len(self.node_ids), self.route_from, self.route_to,
                                [r.bidirectional for r in network.routes], hours.tolist())
        self.source_of_node: dict[int, int] = {s: si for si, (s, _) in enumerate(self.sources)}
        self._out_routes: list[list[int]] = [[r for _, _, r in out] for out in self.graph.out]
        self._track_cut = bool(itd is not None and itd.capture_after_cut_days)
        self._blocked_changed()
        self.has_checkpoints = any(p > 0.0 for p in self.towns.checkpoint_p)
        # the town of each node that is a town with a checkpoint, else -1
        self._checkpoint_town = [t if t >= 0 and self.towns.checkpoint_p[t] > 0.0 else -1 for t in self.town_of_node]
        # forests memoized per network state (the usable-route mask and the sources or node they start from)
        n_nodes = len(self.node_ids)
        self._day_forests = _Memo(n_nodes, MAX_CACHED_NODES * 2 // 5)
        self._round_forests = _Memo(n_nodes, MAX_CACHED_NODES * 2 // 5)
        self._trees = _Memo(n_nodes, MAX_CACHED_NODES // 5)
        self.rounds = 0

        # ---- today's state (set by _start_day)
        self.day = -1
        self.speed_today: list[float] = []
        self.budget: list[float] = []
        self._usable_bytes = b""
        self._key: tuple[bytes, bytes] = (b"", b"")
        self.queues: dict[int, deque[list[Any]]] = {}  # per route: [tonnes still needed, event]
        self.new_day: simpy.Event = self.env.event()
        self._cut: list[bool] | None = None
        self._pending: tuple[list[int], list[int]] = ([], [])
        self.log = ConvoyLog()
        self.dispatched_t = [0.0] * len(self.sources)
        self.undispatched_t = [0.0] * len(self.sources)
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ paths
    def forest(self, usable: bytes, roots: bytes, first: bool = True) -> Forest:
        """Fastest paths from the nearest of the sources marked in ``roots`` (one byte per node) over the
        routes marked in ``usable``: memoized on both (``first``: a day's first forest, else a later
        round's, kept apart so that the many one-off states of later rounds do not push out the first)."""
        memo = self._day_forests if first else self._round_forests
        return memo.get((usable, roots), lambda: Forest(self.graph, usable, [s for s, _ in self.sources if roots[s]]))

    def tree(self, node: int) -> Forest:
        """Today's fastest paths from ``node`` (memoized per network state)."""
        return self._trees.get((*self._key, node), lambda: Forest(self.graph, self._usable_bytes, [node]))

    # ------------------------------------------------------------------ queries used by convoys
    def usable(self, r: int) -> bool:
        """Whether a militant convoy may take route ``r`` today (either way it runs).

        That is today's usable-route mask: open, and neither end army-held.
        """
        return bool(self._usable_bytes[r])

    def plan(self, cid: int, node: int, town: int, tonnes: float) -> tuple[int, list[int], list[int]] | None:
        """A path for convoy ``cid`` from ``node`` on today's network: to ``town`` while it still receives,
        else to the neediest town reachable (moving the tonnes on the way). None when no path exists."""
        tree = self.tree(node)
        towns = self.towns
        if towns.receiving[town]:
            p = tree.path(self.town_node[town])
            return None if p is None else (town, p[0], p[1])
        best: tuple[float, int] | None = None
        for t, k in enumerate(self.town_node):
            if towns.wanted[t] and tree.reaches(k):
                cand = (towns.days_of_stock(self.day, t), t)
                if best is None or cand < best:
                    best = cand
        if best is None:
            return None
        new = best[1]
        p = tree.path(self.town_node[new])
        assert p is not None
        towns.pipeline[town] -= tonnes
        towns.pipeline[new] += tonnes
        self.log.town[cid] = new
        return new, p[0], p[1]

    def stopped_at(self, nodes: list[int], last: int, day: int) -> int:
        """The first of ``nodes[1:last + 1]`` whose checkpoint stops a convoy on ``day`` (its index), else 0.

        One draw per working checkpoint passed, in order, up to the one that stops it.
        """
        cp_town, p, start, rng = self._checkpoint_town, self.towns.checkpoint_p, self.towns.checkpoint_start, self.rng
        for k in range(1, last + 1):
            t = cp_town[nodes[k]]
            if t >= 0 and day >= start[t] and rng.random() < p[t]:
                return k
        return 0

    # ------------------------------------------------------------------ route capacity
    def _spend(self, r: int, tonnes: float) -> None:
        b = self.budget[r] - tonnes
        if b <= EPS:
            self.budget[r] = 0.0
            self._filled.append(r)
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
            if not self._usable_bytes[r]:
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

    # ------------------------------------------------------------------ fates
    def deliver(self, cid: int, town: int, tonnes: float) -> None:
        """Convoy ``cid`` unloads at ``town``."""
        day = int(self.env.now)
        self.towns.deliver(day, town, tonnes)
        self.log.delivered(cid, town, day)

    def end(self, cid: int, town: int, tonnes: float, fate: int, reason: str) -> None:
        """Convoy ``cid`` is intercepted or stranded now."""
        self.towns.pipeline[town] -= tonnes
        self.log.town[cid] = town
        self.log.end(cid, fate, int(self.env.now), reason)

    # ------------------------------------------------------------------ days
    def _capture(self, day: int, town: int, cause: str) -> None:
        if self.towns.capture(day, town, cause):
            self.blocked[self.town_node[town]] = 1
            self._blocked_changed()

    def _blocked_changed(self) -> None:
        """Recompute what follows from the army-held nodes: the routes whose ends are both free,
        and the sources that can still send (the roots of the cut-off test)."""
        blocked = np.frombuffer(self.blocked, dtype=np.uint8)
        self._blocked_bytes = bytes(self.blocked)
        self._route_ok = (1 - (blocked[self._route_from_np] | blocked[self._route_to_np])).astype(np.uint8)
        roots = bytearray(len(self.node_ids))
        for k, _ in self.sources:
            roots[k] = not self.blocked[k]
        self._roots = bytes(roots)

    def _start_day(self, d: int) -> None:
        towns = self.towns
        cut_captures, settles = self._pending
        for t in cut_captures:
            self._capture(d, t, "cut_off")
        for t in settles:
            if towns.receiving[t]:
                towns.settle(d, t)
        for t in towns.scripted_captures.get(d, ()):
            self._capture(d, t, "scripted")
        self.day = d
        self._usable_bytes = (self._open_u8[d] & self._route_ok).tobytes()
        self._key = (self._usable_bytes, self._blocked_bytes)
        self.speed_today = self.speed_dn[d].tolist()
        self.budget = self.budget_dn[d].tolist()
        self._filled = list(self._empty_dn.get(d, ()))
        if self._track_cut:  # towns cut off from every source today
            forest = self.forest(self._usable_bytes, self._roots)
            self._cut = [not reached for reached in forest.reach_list(self._town_nodes)]
        for r in list(self.queues):
            self._admit(r)
        old, self.new_day = self.new_day, self.env.event()
        old.succeed()

    def _close_day(self, d: int) -> None:
        self._budget_left.append(self.budget)  # no longer changed: tomorrow has a list of its own
        self._pending = self.towns.close_day(d, self._cut, self.rng)

    def _days(self) -> Generator[simpy.Event, Any, None]:
        for d in range(self.n_days):
            if d:
                self._close_day(d - 1)
            self._start_day(d)
            yield self.env.timeout(0)  # convoys already on the way move before new ones leave
            self._dispatch(d)
            yield self.env.timeout(1)

    def run(self) -> Run:
        """Run the replication to the end of its horizon and return its :class:`Run`.

        Wall-clock seconds of the simulation and of building the tables are left in :attr:`timings`.
        """
        t0 = time.perf_counter()
        self.env.process(self._days())
        self.env.run(until=self.n_days)
        self._close_day(self.n_days - 1)
        t1 = time.perf_counter()
        run = self._result()
        self.timings = {"simulate_s": t1 - t0, "tables_s": time.perf_counter() - t1}
        return run

    # ------------------------------------------------------------------ tables
    def _result(self) -> Run:
        st, towns = self.state, self.towns
        days = np.arange(self.n_days)
        dates = np.array(st.dates, dtype="datetime64[ms]")  # Parquet's own unit: reads back unchanged
        src_ids = [self.node_ids[s] for s, _ in self.sources]
        flow = self.budget_dn - np.array(self._budget_left, dtype=float).reshape(self.budget_dn.shape)
        routes = tables.routes_table(st, self.network, flow, days, dates)
        town_table = tables.towns_table(towns.tables(), towns.ids, days, dates)
        convoys = tables.convoys_table(self.log, towns.ids, src_ids)
        weather = tables.weather_table(st, days, dates)
        events = tables.events_table(towns.events, st.dates, towns.ids)
        meta = {
            "scenario": self.scenario.scenario.name,
            "start": st.dates[0].isoformat(),
            "days": self.n_days,
            "closed_route_policy": self.policy,
            "convoy_t": self.convoy_t,
            "dispatched_t": dict(zip(src_ids, self.dispatched_t, strict=True)),
            "undispatched_t": dict(zip(src_ids, self.undispatched_t, strict=True)),
            "patterns": self._day_forests.built,
            "path_trees": self._day_forests.built + self._round_forests.built + self._trees.built,
            "rounds": self.rounds,
            "settled_nodes": self._day_forests.settled + self._round_forests.settled + self._trees.settled,
        }
        return Run(routes=routes, towns=town_table, convoys=convoys, weather=weather, events=events,
                   replication=self.replication, seed=self.seed, event_count=self.env.events_processed,
                   meta=meta)


def simulate_replication(scenario: Scenario, replication: int = 0, seed: int | None = None, *,
                         network: RouteNetwork | None = None, state: ExogenousState | None = None) -> Run:
    """Simulate one replication with SimPy and record it.

    Parameters
    ----------
    scenario : Scenario
    replication : int
        Replication index: selects the exogenous state and the engine's random stream
        ``replication_rng(seed, replication, STREAM_ENGINE)``.
    seed : int, optional
        Root seed; default the scenario's.
    network : RouteNetwork, optional
        Built from the scenario when not given.
    state : ExogenousState, optional
        This replication's exogenous state (exactly one replication, index ``replication``);
        computed with :func:`~qalamoun_sim.state.compute_state` when not given.

    Returns
    -------
    Run

    Raises
    ------
    ValueError
        If ``state`` holds other replications, other routes or another number of days.

    Examples
    --------
    >>> from qalamoun_sim import load_scenario
    >>> run = simulate_replication(load_scenario(), replication=0, seed=1)
    >>> set(run.convoys["fate"].astype(str)) <= {"delivered", "in_transit", "intercepted", "stranded"}
    True
    """
    seed = scenario.scenario.seed if seed is None else int(seed)
    net = network or RouteNetwork.from_scenario(scenario)
    if state is None:
        state = compute_state(scenario, [replication], seed, net)
    if state.n_replications != 1 or int(state.replications[0]) != int(replication):
        raise ValueError(f"state must hold exactly replication {replication}, "
                         f"not {list(map(int, state.replications))}; use state.replication(k)")
    if tuple(state.route_ids) != tuple(net.route_ids):
        raise ValueError("state and network have different routes")
    if state.n_days != scenario.scenario.days:
        raise ValueError(f"state has {state.n_days} days, the scenario {scenario.scenario.days}")
    return Engine(scenario, net, state, seed, int(replication)).run()
