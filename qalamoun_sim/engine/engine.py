"""The SimPy supply engine: convoys over the open network, town stocks, captures and settlements.

One replication at a time (docs/background.md s.6-7): the engine reads that replication's exogenous state
(snow and strikes, from :mod:`qalamoun_sim.environment.state`) day by day and never computes snow itself.
Time is in days; day ``d`` is the interval ``[d, d + 1)``. All randomness comes from
``replication_rng(seed, replication, STREAM_ENGINE)``.

At the start of each day:

1. captures and settlements decided the evening before take effect, then the scripted captures
   of that date. A captured town is army-held from then on: no convoy is sent to it or through it,
   and its checkpoint works from that day unless the scenario dates it;
2. the day's network is read: a route is usable by the militants when its capacity factor (snow
   and strikes) is positive, it is not on a siege line, not held by the army, and neither end is
   army-held -- the side rules of :meth:`~qalamoun_sim.network.routes.RouteNetwork.flow_graph`;
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

At the end of each day towns consume (:class:`~qalamoun_sim.engine.towns.TownLedger`); a militant town
with no open path from any source for ``capture_after_cut_days`` days running is captured, and
one short of supply for ``settlement.shortage_days`` days running settles with
``settlement.daily_probability`` a day. Without an ``[interdiction]`` section there are no strikes,
checkpoints, captures, siege lines or settlements.

Paths come from shortest-path forests over the day's usable routes (:mod:`qalamoun_sim.engine.routing`):
Dijkstra from all the sources at once, settled only as far as the towns asked about. The first
round's forest is memoized per network state -- the usable-route mask and the army-held nodes -- so
it is computed only when a route opens or closes or a town falls, never per convoy; each later
round computes one afresh. A convoy that reroutes uses a tree from where it stands, memoized the
same way.

Events: a convoy covers the hops it starts and ends on the day it leaves in one timeout (nothing
on them can change before the next day begins: see :func:`~qalamoun_sim.engine.convoys.convoy_process`),
then goes route by route. ``Run.event_count`` counts the SimPy events processed.

The engine is composed of objects that each do one thing, and it alone knows them all (no other
module of this package imports this one but the package face, which re-exports it):

- :class:`~qalamoun_sim.engine.day_network.DayNetwork`: the usable routes and budgets of points 2
  and 3, the army-held nodes, route capacity taken and queued for, the flow of each closed day;
- :class:`~qalamoun_sim.engine.paths.PathSearch`: the memoized forests and trees above, over a
  :class:`~qalamoun_sim.engine.routing.RouteGraph`;
- :class:`~qalamoun_sim.engine.dispatch.Dispatcher`: the dispatch of point 4;
- :func:`~qalamoun_sim.engine.convoys.convoy_process`: a convoy, working with a
  :class:`~qalamoun_sim.engine.convoys.ConvoyContext` (its collaborators) under frozen
  :class:`~qalamoun_sim.engine.convoys.ConvoyRules`;
- :class:`~qalamoun_sim.engine.towns.TownLedger`: stocks, consumption, captures and settlements.

:class:`Engine` builds them, runs the days (captures and settlements, the cut-off test, the
dispatch) and builds the ``Run`` tables with :mod:`qalamoun_sim.engine.tables`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import numpy as np
import simpy
from simpy.core import BoundClass

from ..environment.state import STREAM_ENGINE, ExogenousState, compute_state, replication_rng
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from .convoys import ConvoyContext, ConvoyLog, ConvoyRules
from .day_network import DayNetwork
from .dispatch import Dispatcher
from .paths import PathSearch
from .results import Run
from .routing import RouteGraph
from .towns import TownLedger

__all__ = ["simulate_replication", "Engine", "CountingEnvironment"]


class CountingEnvironment(simpy.Environment):
    """A :class:`simpy.Environment` that counts the events it processes (``events_processed``).

    Every event processed was scheduled once, taking the next id from the environment's counter,
    and has left the queue: the count is the ids handed out less the events still queued (SimPy
    puts the ``until`` event it stops on back in the queue with a new id, so it is counted once).
    Nothing is added to each event: overriding :meth:`step` or :meth:`schedule` to count would add
    a call or more to every one.

    SimPy binds ``process``, ``timeout``, ``event`` ... to a plain :class:`simpy.Environment` when it is
    made, but only those its own class defines, i.e. none for a subclass; they are bound here too, so
    that each ``env.timeout`` is not a new bound method (what SimPy's own early binding avoids).
    """

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        for cls in type(self).__mro__:
            for name, attr in vars(cls).items():
                if type(attr) is BoundClass and name not in vars(self):
                    setattr(self, name, getattr(self, name))

    @property
    def events_processed(self) -> int:
        """Events processed so far."""
        issued = next(self._eid)  # ids handed out so far (ids start at 0) ...
        self._eid = itertools.count(issued)  # ... and the counter put back where it was
        return issued - len(self._queue)


class Engine:
    """One replication while it runs: builds its parts, runs the days; call :meth:`run`.

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

    Attributes
    ----------
    env : CountingEnvironment
    rng : numpy.random.Generator
        The one random stream of every draw.
    n_days : int
    towns : TownLedger
    net : DayNetwork
    paths : PathSearch
    log : ConvoyLog
    rules : ConvoyRules
    dispatcher : Dispatcher
    timings : dict of str to float
        Wall-clock seconds of the simulation (``simulate_s``) and of handing its records to the
        :class:`Run` (``records_s``; the tables are made when first read), once :meth:`run` returned.
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
        self.timings: dict[str, float] = {}
        with _cyclic_gc_paused():  # the parts hold long lists of small objects: see :meth:`run`
            self._build_parts(scenario, network, state)

    def _build_parts(self, scenario: Scenario, network: RouteNetwork, state: ExogenousState) -> None:
        """The towns, the day's network, the path search, the convoy log and rules, the dispatcher."""
        itd = scenario.interdiction
        self._index_nodes(network)
        self.towns = TownLedger([n for n in network.nodes.values() if n.kind == "town"], state.dates, itd)
        source_nodes = [s for s, _ in self.sources]
        self.net = DayNetwork(self.env, network, state, self.node_index, source_nodes,
                              itd.siege_lines if itd is not None else ())
        hours = network.length_km / network.speed_kph
        graph = RouteGraph(len(self.node_ids), self.net.route_from, self.net.route_to,
                           [r.bidirectional for r in network.routes], hours.tolist())
        self.paths = PathSearch(graph, source_nodes)
        self.log = ConvoyLog()
        self.rules = self._convoy_rules(scenario, (hours / 24.0).tolist())
        ctx = ConvoyContext(self.env, self.net, self.paths, self.towns, self.log, self.rng, self.rules)
        self.dispatcher = Dispatcher(self.net, self.paths, self.towns, self.log, self.sources, ctx.start,
                                     convoy_t=scenario.engine.convoy_t, route_days=self.rules.route_days,
                                     town_node=self.town_node, town_of_node=self.rules.town_of_node)
        self._track_cut = bool(itd is not None and itd.capture_after_cut_days)
        self._town_nodes = tuple(self.town_node)
        self._cut: list[bool] | None = None  # towns cut off from every source today
        self._pending: tuple[list[int], list[int]] = ([], [])  # captures and settlements for tomorrow

    def _index_nodes(self, network: RouteNetwork) -> None:
        """Node ids and indices; the towns' nodes and each node's town; the sources' nodes and supply."""
        self.node_ids: list[str] = list(network.nodes)
        nidx = self.node_index = {nid: i for i, nid in enumerate(self.node_ids)}
        self.town_node: list[int] = [nidx[n.id] for n in network.nodes.values() if n.kind == "town"]
        self.town_of_node: list[int] = [-1] * len(self.node_ids)
        for t, k in enumerate(self.town_node):
            self.town_of_node[k] = t
        self.sources: list[tuple[int, float]] = [(nidx[n.id], n.supply_tpd) for n in network.nodes.values()
                                                 if n.kind == "source"]

    def _convoy_rules(self, scenario: Scenario, route_days: list[float]) -> ConvoyRules:
        """The rules every convoy of this replication obeys."""
        itd = scenario.interdiction
        checkpoint_p = self.towns.checkpoint_p
        return ConvoyRules(
            policy=scenario.engine.closed_route_policy,
            max_wait_days=scenario.engine.max_wait_days,
            hit_probability=itd.convoy_hit_probability if itd is not None else 0.0,
            n_days=self.n_days,
            route_days=tuple(route_days),
            interdicted=self.net.interdicted,
            has_checkpoints=any(p > 0.0 for p in checkpoint_p),
            checkpoint_town=tuple(t if t >= 0 and checkpoint_p[t] > 0.0 else -1 for t in self.town_of_node),
            town_of_node=tuple(self.town_of_node),
            town_node=tuple(self.town_node),
        )

    # ------------------------------------------------------------------ days
    def _capture(self, day: int, town: int, cause: str) -> None:
        """The army takes ``town`` from ``day`` on (nothing if it holds it already)."""
        if self.towns.capture(day, town, cause):
            self.net.block(self.town_node[town])

    def _start_day(self, d: int) -> None:
        """Day ``d`` begins: yesterday's captures and settlements, the scripted captures, the day's
        network (queued convoys served, :attr:`DayNetwork.new_day`), the towns cut off."""
        towns = self.towns
        cut_captures, settles = self._pending
        for t in cut_captures:
            self._capture(d, t, "cut_off")
        for t in settles:
            if towns.receiving[t]:
                towns.settle(d, t)
        for t in towns.scripted_captures.get(d, ()):
            self._capture(d, t, "scripted")
        net = self.net
        net.start_day(d)
        if self._track_cut:  # towns cut off from every source today
            forest = self.paths.forest(net.usable_bytes, net.roots)
            self._cut = [not reached for reached in forest.reach_list(self._town_nodes)]

    def _close_day(self, d: int) -> None:
        """Day ``d`` ends: its flow is recorded, the towns consume and decide tomorrow's captures and settlements."""
        self.net.close_day()
        self._pending = self.towns.close_day(d, self._cut, self.rng)

    def _days(self) -> Generator[simpy.Event, Any, None]:
        """The day process: each day begins, convoys on the way move, then the day's dispatch."""
        dispatch = self.dispatcher.dispatch
        for d in range(self.n_days):
            if d:
                self._close_day(d - 1)
            self._start_day(d)
            yield self.env.timeout(0)  # convoys already on the way move before new ones leave
            dispatch(d)
            yield self.env.timeout(1)

    def run(self) -> Run:
        """Run the replication to the end of its horizon and return its :class:`Run`.

        Wall-clock seconds of the simulation and of its records are left in :attr:`timings`; the
        run's tables are made when first read.

        Python's cyclic garbage collector is paused while the days run: the simulation leaves next to
        no reference cycles (a few dozen objects a replication, measured), everything else is freed as
        it goes, and the collector's passes over the engine's long lists cost 10-25 % of a large
        network's run. It is switched back on (if it was on) before the records are handed over.
        """
        t0 = time.perf_counter()
        with _cyclic_gc_paused():
            self.env.process(self._days())
            self.env.run(until=self.n_days)
            self._close_day(self.n_days - 1)
        t1 = time.perf_counter()
        run = self._result()
        self.timings = {"simulate_s": t1 - t0, "records_s": time.perf_counter() - t1}
        return run

    # ------------------------------------------------------------------ tables
    def _result(self) -> Run:
        """The :class:`Run` of the finished replication: its records (each table made on first access) and meta."""
        st, towns, disp, paths = self.state, self.towns, self.dispatcher, self.paths
        days = np.arange(self.n_days)
        dates = np.array(st.dates, dtype="datetime64[ms]")  # Parquet's own unit: reads back unchanged
        src_ids = [self.node_ids[s] for s, _ in self.sources]
        # each table is made on first access (pandas imported then): see qalamoun_sim.engine.results
        routes = _deferred("routes_table", st, self.network, self.net.flow_later(), days, dates)
        town_table = _deferred("towns_table", towns.tables(), towns.ids, days, dates)
        convoys = _deferred("convoys_table", self.log, towns.ids, src_ids, dates)
        weather = _deferred("weather_table", st, days, dates)
        events = _deferred("events_table", towns.events, st.dates, towns.ids)
        meta = {
            "scenario": self.scenario.scenario.name,
            "start": st.dates[0].isoformat(),
            "days": self.n_days,
            "closed_route_policy": self.rules.policy,
            "convoy_t": self.scenario.engine.convoy_t,
            "dispatched_t": dict(zip(src_ids, disp.dispatched_t, strict=True)),
            "undispatched_t": dict(zip(src_ids, disp.undispatched_t, strict=True)),
            "patterns": paths.patterns,
            "path_trees": paths.built,
            "rounds": disp.rounds,
            "settled_nodes": paths.settled,
        }
        return Run(routes=routes, towns=town_table, convoys=convoys, weather=weather, events=events,
                   replication=self.replication, seed=self.seed, event_count=self.env.events_processed,
                   meta=meta)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused inside, and switched back on after if it was on."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _deferred(builder: str, *args: Any) -> Callable[[], Any]:
    """What makes the table ``builder(*args)`` of :mod:`qalamoun_sim.engine.tables` when called (picklable)."""
    return functools.partial(_make_table, builder, *args)


def _make_table(builder: str, *args: Any) -> Any:
    """The table ``builder(*args)`` of :mod:`qalamoun_sim.engine.tables` (which imports pandas)."""
    from . import tables

    return getattr(tables, builder)(*args)


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
    with _cyclic_gc_paused():  # as the engine itself (see Engine.run): long lists, next to no cycles
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
