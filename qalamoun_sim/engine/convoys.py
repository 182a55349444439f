"""Convoys: the convoy log and the convoy process.

A convoy is a SimPy generator (a plain process, as in SimPy's own examples): it travels its
path route by route, takes each route's daily capacity as it enters, waits or reroutes where a
route is closed, runs the risk of strikes and checkpoints, and ends in exactly one fate. The
hops it makes on the day it leaves, and ends that same day, are one timeout (see
:func:`convoy_process`).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["ConvoyLog", "convoy_process", "CLOSED", "EPS"]

#: Tonnes below this are nothing (float dust).
EPS = 1e-9

#: Value a queued convoy is woken with when its route closed overnight.
CLOSED = "closed"

# fate codes, in results.FATES order
DELIVERED, INTERCEPTED, STRANDED, IN_TRANSIT = 0, 1, 2, 3


class ConvoyLog:
    """Column lists of the convoy table, one entry per convoy (its id is its position)."""

    def __init__(self) -> None:
        self.source: list[int] = []
        self.town: list[int] = []
        self.dispatched_day: list[int] = []
        self.tonnes: list[float] = []
        self.fate: list[int] = []
        self.arrived_day: list[int] = []
        self.end_day: list[int] = []
        self.reason: list[str] = []

    def __len__(self) -> int:
        return len(self.tonnes)

    def add(self, source: int, town: int, day: int, tonnes: float) -> int:
        """Record a dispatched convoy (in transit until it ends); returns its id."""
        self.source.append(source)
        self.town.append(town)
        self.dispatched_day.append(day)
        self.tonnes.append(tonnes)
        self.fate.append(IN_TRANSIT)
        self.arrived_day.append(-1)
        self.end_day.append(-1)
        self.reason.append("")
        return len(self.tonnes) - 1

    def delivered(self, cid: int, town: int, day: int) -> None:
        """Record that convoy ``cid`` unloaded at ``town`` on ``day``."""
        self.town[cid] = town
        self.fate[cid] = DELIVERED
        self.end_day[cid] = day
        self.arrived_day[cid] = day

    def end(self, cid: int, fate: int, day: int, reason: str = "") -> None:
        """Record a convoy's fate on ``day``."""
        self.fate[cid] = fate
        self.end_day[cid] = day
        self.reason[cid] = reason
        if fate == DELIVERED:
            self.arrived_day[cid] = day


def convoy_process(eng: Engine, cid: int, node: int, town: int, tonnes: float, routes: list[int],
                   nodes: list[int], booked: int, day: int, leg: int, leg_end: float) -> Generator[Any, Any, None]:
    """One convoy, from its source ``node`` to ``town`` along ``routes`` / ``nodes``, leaving on ``day``.

    The dispatcher booked the capacity of ``routes[:booked]`` (those the convoy enters on ``day``);
    any other route's capacity is taken on entry. The first ``leg`` hops end on ``day`` too, at
    ``leg_end``: the network, the towns and the checkpoints change only when a day begins and
    their capacity is booked, so nothing on them can change the convoy's course, and it covers
    them in one timeout -- drawing, in order, the checkpoints of the towns it enters, and stopping
    at the first that stops it. From there it goes route by route.
    """
    env = eng.env
    towns = eng.towns
    rng = eng.rng
    usable = eng.usable
    i = 0
    waited = 0
    spent = 0.0  # days travelled so far: the way back for "turn_back"
    if leg:
        k = eng.stopped_at(nodes, leg, day) if eng.has_checkpoints else 0
        if k:
            clock = float(day)
            for r in routes[:k]:
                clock += eng.route_days[r] / eng.speed_today[r]
            yield env.timeout(clock - env.now)
            if booked > k:
                eng.release(set(routes[k:booked]), day, tonnes)
            eng.end(cid, town, tonnes, INTERCEPTED, "checkpoint")
            return
        yield env.timeout(leg_end - env.now)
        if leg == len(routes) and towns.receiving[town]:  # there already (the usual case)
            eng.deliver(cid, town, tonnes)
            return
        spent = leg_end - day
        i = leg
        node = nodes[leg]
    reserved = set(routes[i:booked])
    reserved_day = day
    while True:
        # ---- at a node: deliver, or pick the next route
        if i == len(routes):
            if towns.receiving[town]:
                eng.deliver(cid, town, tonnes)
                return
            ok = False
        else:
            r = routes[i]
            ok = towns.receiving[town] and usable(r)
        if not ok:
            if reserved:
                eng.release(reserved, reserved_day, tonnes)
                reserved = set()
            # closed route or unwanted destination: apply the closed-route policy
            while True:
                plan = None
                if eng.policy == "reroute" or not towns.receiving[town]:
                    plan = eng.plan(cid, node, town, tonnes)
                elif i < len(routes) and usable(routes[i]):
                    plan = (town, routes[i:], nodes[i:])
                if plan is not None:
                    town, routes, nodes = plan
                    i = 0
                    break
                if eng.policy == "turn_back":
                    if spent > 0.0:
                        yield env.timeout(spent)
                    eng.end(cid, town, tonnes, STRANDED, "turned_back")
                    return
                if waited >= eng.max_wait_days:
                    eng.end(cid, town, tonnes, STRANDED, "max_wait")
                    return
                yield eng.new_day
                waited += 1
            continue
        nxt = nodes[i + 1]
        # ---- capacity of the route today
        if r in reserved and reserved_day == eng.day:
            reserved.discard(r)
        else:
            wait = eng.take(r, tonnes)
            if wait is not None:
                if (yield wait) == CLOSED:
                    continue
        # ---- travel, exposed to strikes on days the route is interdicted
        dt = eng.route_days[r] / eng.speed_today[r]
        t0 = env.now
        t1 = t0 + dt
        first = int(t0) + 1
        if first < t1 and eng.hit_probability > 0.0:
            last = min(math.ceil(t1) - 1, eng.n_days - 1)
            for k in range(first, last + 1):
                if eng.interdicted[k, r] and rng.random() < eng.hit_probability:
                    yield env.timeout(k - t0)
                    if reserved:
                        eng.release(reserved, reserved_day, tonnes)
                    eng.end(cid, town, tonnes, INTERCEPTED, "strike")
                    return
        yield env.timeout(dt)
        spent += dt
        node = nxt
        i += 1
        # ---- a checkpoint at the town entered
        t = eng.town_of_node[node]
        if t >= 0:
            p = towns.checkpoint_p[t]
            if p > 0.0 and eng.day >= towns.checkpoint_start[t] and rng.random() < p:
                if reserved:
                    eng.release(reserved, reserved_day, tonnes)
                eng.end(cid, town, tonnes, INTERCEPTED, "checkpoint")
                return
