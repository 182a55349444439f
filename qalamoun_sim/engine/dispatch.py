"""The dispatcher: each day's supply sent out in convoys, round by round, to the neediest towns.

A mixin of :class:`~qalamoun_sim.engine.Engine`, kept apart because it is a concept of its own
(the rules are in the engine's module docstring, point 4). It reads the engine's state of the day
(usable routes, budgets, speeds, towns' needs) and starts one :func:`~qalamoun_sim.convoys.convoy_process`
per convoy.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from .convoys import EPS, convoy_process
from .routing import BLOCKED, Clearance

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["Dispatcher"]


class Dispatcher:
    """Dispatch methods of :class:`~qalamoun_sim.engine.Engine` (a mixin: every attribute is the engine's)."""

    def _has_way_out(self: Engine, node: int, usable: bytearray) -> bool:
        """Whether some route out of ``node`` is ``usable``."""
        for r in self._out_routes[node]:
            if usable[r]:
                return True
        return False

    def _reaches_a_town(self: Engine, node: int, usable: bytearray) -> bool:
        """Whether some town that takes supply can be reached from ``node`` over the ``usable`` routes.

        A search that stops at the first such town. Within a dispatch routes only fill up, so a
        source that reaches none can send nothing more that day.
        """
        towns, town_of_node, out = self.towns, self.town_of_node, self.graph.out
        seen = {node}
        stack = [node]
        while stack:
            u = stack.pop()
            t = town_of_node[u]
            if t >= 0 and towns.wanted[t]:
                return True
            for v, _, r in out[u]:
                if usable[r] and v not in seen:
                    seen.add(v)
                    stack.append(v)
        return False

    def _dispatch(self: Engine, d: int) -> None:
        """Send today's supply out in convoys, round by round (see the module docstring)."""
        left = [0.0] * len(self.sources)  # tonnes each source has left to send today
        active = bytearray(len(self.node_ids))  # the sources still sending
        n_active = 0
        for si, (s, supply) in enumerate(self.sources):
            if self.blocked[s]:
                self.undispatched_t[si] += supply
            elif supply > EPS:
                left[si] = supply
                active[s] = 1
                n_active += 1
        if n_active:
            # the first round's paths: from the sources with supply, over the routes with capacity left
            # (convoys already on the way may have filled some)
            usable = bytearray(self._usable_bytes)
            for r in self._filled:
                usable[r] = 0
            n_active -= self._drop_stuck_sources(usable, active, check_way_out=True)
            if n_active:
                self._rounds(d, left, active, n_active, usable)
        for si, rem in enumerate(left):
            self.undispatched_t[si] += rem

    def _drop_stuck_sources(self: Engine, usable: bytearray, active: bytearray, check_way_out: bool) -> int:
        """Stop the active sources that reach no town over the ``usable`` routes (``check_way_out``: or
        have no usable route out at all): they send nothing more today. Returns how many stopped."""
        stopped = 0
        for s, _ in self.sources:
            if active[s] and not ((not check_way_out or self._has_way_out(s, usable))
                                  and self._reaches_a_town(s, usable)):
                active[s] = 0
                stopped += 1
        return stopped

    def _rounds(self: Engine, d: int, left: list[float], active: bytearray, n_active: int, usable: bytearray) -> None:
        """The dispatch rounds of day ``d``: convoys to the neediest towns until no supply is left, no
        town waits, or no source can reach one. ``left``, ``active`` and ``usable`` are updated."""
        towns = self.towns
        days_of_stock = towns.days_of_stock
        pipeline = towns.pipeline
        budget = self.budget
        speed = self.speed_today
        route_days = self.route_days
        convoy_t = self.convoy_t
        town_node = self.town_node
        source_of_node = self.source_of_node
        log = self.log
        process = self.env.process
        heappop, heappush = heapq.heappop, heapq.heappush
        end_of_day = float(d + 1)
        # each round's forest is memoized on its state
        forest = self.forest(bytes(usable), bytes(active))
        clear = Clearance(usable, active)
        heap = [(days_of_stock(d, t), t) for t, wanted in enumerate(towns.wanted) if wanted]
        heapq.heapify(heap)
        waiting: list[tuple[float, int]] = []
        while n_active:
            if not heap:
                if not waiting:
                    break
                # a new round: fresh paths around the routes that filled up and the sources that ran out
                # (and without the sources that can no longer reach any town: they send nothing more)
                n_active -= self._drop_stuck_sources(usable, active, check_way_out=False)
                if not n_active:
                    break
                forest = self.forest(bytes(usable), bytes(active), first=False)
                clear.renew()
                self.rounds += 1
                heap = waiting  # no convoy went to them since they were put aside: their keys hold
                heapq.heapify(heap)
                waiting = []
                continue
            days_left, t = heappop(heap)
            found = forest.clear_path(town_node[t], clear)
            if found is None:  # no source reaches it: nor will any later this day
                continue
            if found is BLOCKED:  # its path runs into a route that filled up or a source that ran out
                waiting.append((days_left, t))
                continue
            routes, nodes = found  # type: ignore[misc]
            src = nodes[0]
            si = source_of_node[src]
            # book the routes the convoy enters today and size it to what they can still carry;
            # ``leg`` hops end today (at ``leg_end``), before anything on the way can change
            rem = left[si]
            room = rem if rem < convoy_t else convoy_t
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
            if room <= EPS:  # pragma: no cover - float dust: the routes are full, try again
                for r in routes[:booked]:
                    if budget[r] <= EPS:
                        budget[r] = 0.0
                        clear.remove_route(r)
                heappush(heap, (days_left, t))
                continue
            for r in routes[:booked]:
                b = budget[r] - room
                if b <= EPS:
                    budget[r] = 0.0
                    clear.remove_route(r)
                else:
                    budget[r] = b
            cid = log.add(si, t, d, room)
            pipeline[t] += room
            process(convoy_process(self, cid, src, t, room, routes, nodes, booked, d, leg, leg_end))
            self.dispatched_t[si] += room
            rem -= room
            if rem <= EPS:
                rem = 0.0
                clear.remove_root(src)
                n_active -= 1
            elif not usable[routes[0]] and not self._has_way_out(src, usable):
                clear.remove_root(src)  # every route out of it is full: it sends no more today
                n_active -= 1
            left[si] = rem
            heappush(heap, (days_of_stock(d, t), t))
