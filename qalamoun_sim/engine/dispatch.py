"""The dispatcher: each day's supply sent out in convoys, round by round, to the neediest towns.

A concept of its own (the rules are in the engine's module docstring, point 4): a
:class:`Dispatcher` reads the day's network (usable routes, budgets, speeds) and the towns' needs,
finds paths with the path search, books capacity, records each convoy in the convoy log and starts
its process.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np

from .convoys import ConvoyLog
from .day_network import EPS, DayNetwork
from .paths import PathSearch
from .routing import BLOCKED, Clearance, Forest
from .towns import TownLedger

__all__ = ["Dispatcher", "StartConvoy", "MARK_MIN_TOWNS"]

#: Towns in line for a round from which a compiled forest used for the first time marks the removals of
#: the round through its preorder (see :class:`~qalamoun_sim.engine.routing.Clearance`) rather than each
#: town's path being walked: making the preorder costs about as much as a few hundred walks (measured).
MARK_MIN_TOWNS = 64

_NO_MARK = bytearray(1)  # the one mark every node reads when nothing is marked: never set

_Path = tuple[list[int], list[int]]  # routes, nodes

#: Starts a convoy's process: ``(cid, node, town, tonnes, routes, nodes, booked, day, leg, leg_end)``,
#: the arguments of :func:`~qalamoun_sim.engine.convoys.convoy_process` after its context.
StartConvoy = Callable[[int, int, int, float, list[int], list[int], int, int, int, float], None]


class Dispatcher:
    """Sends each day's supply out in convoys, in rounds (see :meth:`dispatch`).

    Parameters
    ----------
    net : DayNetwork
    paths : PathSearch
    towns : TownLedger
    log : ConvoyLog
        Each convoy sent is added to it.
    sources : sequence of (int, float)
        Each source's node and daily supply in tonnes, in scenario order.
    start : callable
        Starts a convoy's process (see :data:`StartConvoy`).
    convoy_t : float
        Tonnes of a full convoy.
    route_days : sequence of float
        Days each route takes at full speed.
    town_node, town_of_node : sequence of int
        Each town's node; each node's town (-1 where none).

    Attributes
    ----------
    dispatched_t, undispatched_t : list of float
        Tonnes each source sent, and had but could not send, so far.
    rounds : int
        Rounds after the first of a day, so far.
    mark_min_towns : int
        :data:`MARK_MIN_TOWNS`, for this dispatcher.
    """

    def __init__(self, net: DayNetwork, paths: PathSearch, towns: TownLedger, log: ConvoyLog,
                 sources: Sequence[tuple[int, float]], start: StartConvoy, *, convoy_t: float,
                 route_days: Sequence[float], town_node: Sequence[int], town_of_node: Sequence[int]) -> None:
        self._net = net
        self._paths = paths
        self._towns = towns
        self._log = log
        self._sources = list(sources)
        self._start = start
        self._convoy_t = convoy_t
        self._route_days = route_days
        self._town_node = town_node
        self._town_of_node = town_of_node
        self._graph_out = paths.graph.out
        self._out_routes: list[list[int]] = [[r for _, _, r in out] for out in self._graph_out]
        self._source_of_node: dict[int, int] = {s: si for si, (s, _) in enumerate(self._sources)}
        self.dispatched_t = [0.0] * len(self._sources)
        self.undispatched_t = [0.0] * len(self._sources)
        self.rounds = 0
        self.mark_min_towns = MARK_MIN_TOWNS
        self._town_nodes = np.asarray(town_node, dtype=np.int64)
        self._no_positions = [0] * len(town_node)  # every town at the one mark of _NO_MARK

    def _has_way_out(self, node: int, usable: bytearray) -> bool:
        """Whether some route out of ``node`` is ``usable``."""
        for r in self._out_routes[node]:
            if usable[r]:
                return True
        return False

    def _reaches_a_town(self, node: int, usable: bytearray, known: bytearray) -> bool:
        """Whether some town that takes supply can be reached from ``node`` over the ``usable`` routes.

        A search that stops at the first such town it sees (a node is looked at as it is found, before
        it is searched from), or at a node ``known`` to reach one (1) or none (2): what it learns is
        marked there, so that the searches from every source of one call together look at each node about
        once. (Every node a search saw that finds no town reaches none; every node on the way to the town
        it found reaches one.) Within a dispatch routes only fill up, so a source that reaches none can
        send nothing more that day.
        """
        k = known[node]
        if k:
            return k == 1
        wanted, town_of_node, out = self._towns.wanted, self._town_of_node, self._graph_out
        t = town_of_node[node]
        if t >= 0 and wanted[t]:
            known[node] = 1
            return True
        parent = {node: -1}
        stack = [node]
        while stack:
            u = stack.pop()
            for v, _, r in out[u]:
                if not usable[r] or v in parent:
                    continue
                k = known[v]
                if k == 2:
                    continue
                if k == 1 or ((t := town_of_node[v]) >= 0 and wanted[t]):
                    known[v] = 1
                    while u >= 0:  # the way back to ``node``: each of them reaches that town
                        known[u] = 1
                        u = parent[u]
                    return True
                parent[v] = u
                stack.append(v)
        for v in parent:
            known[v] = 2
        return False

    def dispatch(self, d: int) -> None:
        """Send today's supply out in convoys, round by round (see the engine's module docstring)."""
        net = self._net
        left = [0.0] * len(self._sources)  # tonnes each source has left to send today
        active = bytearray(len(net.blocked))  # the sources still sending
        n_active = 0
        for si, (s, supply) in enumerate(self._sources):
            if net.blocked[s]:
                self.undispatched_t[si] += supply
            elif supply > EPS:
                left[si] = supply
                active[s] = 1
                n_active += 1
        if n_active:
            # the first round's paths: from the sources with supply, over the routes with capacity left
            # (convoys already on the way may have filled some)
            usable = bytearray(net.usable_bytes)
            for r in net.filled:
                usable[r] = 0
            n_active -= self._drop_stuck_sources(usable, active, check_way_out=True)
            if n_active:
                self._rounds(d, left, active, n_active, usable)
        for si, rem in enumerate(left):
            self.undispatched_t[si] += rem

    def _drop_stuck_sources(self, usable: bytearray, active: bytearray, check_way_out: bool) -> int:
        """Stop the active sources that reach no town over the ``usable`` routes (``check_way_out``: or
        have no usable route out at all): they send nothing more today. Returns how many stopped."""
        stopped = 0
        known = bytearray(len(active))  # what the searches have learnt of each node (see _reaches_a_town)
        for s, _ in self._sources:
            if active[s] and not ((not check_way_out or self._has_way_out(s, usable))
                                  and self._reaches_a_town(s, usable, known)):
                active[s] = 0
                stopped += 1
        return stopped

    def _rounds(self, d: int, left: list[float], active: bytearray, n_active: int, usable: bytearray) -> None:  # noqa: C901 - hot: one loop
        """The dispatch rounds of day ``d``: convoys to the neediest towns until no supply is left, no
        town waits, or no source can reach one. ``left``, ``active`` and ``usable`` are updated.

        The towns of a round are taken in order of need from two lines: ``line``, sorted (the towns that
        waited for the round: nothing changes their days of stock while they wait), and ``back``, a heap
        (the towns sent a convoy this round, back with their new days of stock) -- what one heap of them
        all would give, without a heap operation per town that waits. A town put aside is known blocked
        without walking its path when the clearance marks removals (see :data:`MARK_MIN_TOWNS`).
        """
        towns = self._towns
        days_of_stock = towns.days_of_stock
        town_node = self._town_node
        send = self._send
        heappop, heappush = heapq.heappop, heapq.heappush
        line = sorted([(days_of_stock(d, t), t) for t, wanted in enumerate(towns.wanted) if wanted])
        # the first round's forest is memoized on its state
        forest = self._paths.forest(bytes(usable), bytes(active))
        clear = Clearance(usable, active, forest, mark=len(line) >= self.mark_min_towns)
        pos, cut = self._marks(forest, clear)
        back: list[tuple[float, int]] = []
        waiting: list[tuple[float, int]] = []  # put aside for the next round, in order of need
        i, n = 0, len(line)
        while n_active:
            if i < n and (not back or line[i] < back[0]):
                item = line[i]
                i += 1
            elif back:
                item = heappop(back)
            else:  # the round is over
                if not waiting:
                    break
                n_active, fresh = self._next_round(usable, active, n_active, clear, len(waiting))
                if fresh is None:
                    break
                forest = fresh
                pos, cut = self._marks(forest, clear)
                waiting.sort()  # in order already: a town's days of stock only grow as it is sent convoys
                line, waiting, i, n = waiting, [], 0, len(waiting)
                continue
            t = item[1]
            if cut[pos[t]]:  # known blocked (as clear_path says)
                waiting.append(item)
                continue
            found = forest.clear_path(town_node[t], clear)
            if found is None:  # no source reaches it: nor will any later this day
                continue
            if found is BLOCKED:  # its path runs into a route that filled up or a source that ran out
                waiting.append(item)
                continue
            routes, nodes = cast(_Path, found)  # neither None nor BLOCKED: a path
            stopped = send(d, t, routes, nodes, left, usable, clear)
            if stopped < 0:  # pragma: no cover - float dust: the routes are full, try again
                heappush(back, item)
                continue
            n_active -= stopped
            heappush(back, (days_of_stock(d, t), t))

    def _marks(self, forest: Forest, clear: Clearance) -> tuple[list[int], bytearray]:
        """Where ``clear`` marks the paths of ``forest`` it knows blocked: each town's position and the marks.
        An unreached town's position, -1, reads the last mark, never set when some node is unreached (the
        marks are one per node, the positions one per reached node). When ``clear`` does not mark them,
        every town reads the one mark there is, never set."""
        if clear.forest is not forest or clear.forest is None:
            return self._no_positions, _NO_MARK
        return clear.forest.positions(self._town_nodes), clear.cut

    def _next_round(self, usable: bytearray, active: bytearray, n_active: int,
                    clear: Clearance, n_waiting: int) -> tuple[int, Forest | None]:
        """A new round: fresh paths around the routes that filled up and the sources that ran out (and
        without the sources that can no longer reach any town: they send nothing more), for ``n_waiting``
        towns. Returns the sources still active and the round's forest (None when no source is left)."""
        n_active -= self._drop_stuck_sources(usable, active, check_way_out=False)
        if not n_active:
            return 0, None
        forest = self._paths.forest(bytes(usable), bytes(active), first=False)
        clear.renew(forest, mark=n_waiting >= self.mark_min_towns)
        self.rounds += 1
        return n_active, forest

    def _size(self, d: int, routes: list[int], room: float) -> tuple[float, int, int, float]:
        """What a convoy leaving on day ``d`` along ``routes`` may carry (at most ``room``): the least budget
        of the routes it enters that day. Returns that, how many routes it enters that day (``booked``), how
        many hops end that day (``leg``: before anything on the way can change) and when they end."""
        budget, speed, route_days = self._net.budget, self._net.speed_today, self._route_days
        end_of_day = float(d + 1)
        clock = float(d)
        booked = leg = 0
        leg_end = clock
        for r in routes:
            if clock >= end_of_day:
                break
            booked += 1
            if budget[r] < room:
                room = budget[r]
            clock += route_days[r] / speed[r]
            if clock < end_of_day:
                leg = booked
                leg_end = clock
        return room, booked, leg, leg_end

    def _send(self, d: int, t: int, routes: list[int], nodes: list[int], left: list[float],
              usable: bytearray, clear: Clearance) -> int:
        """Book capacity for a convoy to town ``t`` along ``routes`` / ``nodes`` and start it.

        Returns 1 when its source sends no more today, 0 when it goes on, and -1 when the routes turn
        out full (float dust: nothing is sent, the town tries again).
        """
        budget = self._net.budget
        src = nodes[0]
        si = self._source_of_node[src]
        rem = left[si]
        convoy_t = self._convoy_t
        room, booked, leg, leg_end = self._size(d, routes, rem if rem < convoy_t else convoy_t)
        if room <= EPS:  # pragma: no cover - float dust
            for r in routes[:booked]:
                if budget[r] <= EPS:
                    budget[r] = 0.0
                    clear.remove_route(r)
            return -1
        for r in routes[:booked]:
            b = budget[r] - room
            if b <= EPS:
                budget[r] = 0.0
                clear.remove_route(r)
            else:
                budget[r] = b
        cid = self._log.add(si, t, d, room)
        self._towns.pipeline[t] += room
        self._start(cid, src, t, room, routes, nodes, booked, d, leg, leg_end)
        self.dispatched_t[si] += room
        rem -= room
        stopped = 0
        if rem <= EPS:
            rem = 0.0
            clear.remove_root(src)
            stopped = 1
        elif not usable[routes[0]] and not self._has_way_out(src, usable):
            clear.remove_root(src)  # every route out of it is full: it sends no more today
            stopped = 1
        left[si] = rem
        return stopped
