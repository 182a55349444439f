"""Convoys: the convoy log, the rules and collaborators a convoy works with, and the convoy process.

A convoy is a SimPy generator (a plain process, as in SimPy's own examples): it travels its
path route by route, takes each route's daily capacity as it enters, waits or reroutes where a
route is closed, runs the risk of strikes and checkpoints, and ends in exactly one fate. The
hops it makes on the day it leaves, and ends that same day, are one timeout (see
:func:`convoy_process`). It works with a :class:`ConvoyContext`: the day's network, the path
search, the towns, the convoy log, the random stream and the fixed :class:`ConvoyRules`.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from .day_network import CLOSED, EPS, DayNetwork
from .paths import PathSearch
from .towns import TownLedger

__all__ = ["ConvoyLog", "ConvoyRules", "ConvoyContext", "convoy_process", "CLOSED", "EPS"]

# fate codes, in results.FATES order
DELIVERED, INTERCEPTED, STRANDED, IN_TRANSIT = 0, 1, 2, 3

#: A convoy's path: ``(town, routes, nodes)``.
Plan = tuple[int, list[int], list[int]]


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


@dataclass(frozen=True, slots=True)
class ConvoyRules:
    """What a convoy obeys, fixed for a replication.

    Attributes
    ----------
    policy : str
        ``engine.closed_route_policy``: ``reroute``, ``wait`` or ``turn_back``.
    max_wait_days : int
        Days of waiting after which a convoy is stranded.
    hit_probability : float
        Chance that a strike hits a convoy on an interdicted route overnight.
    n_days : int
        Days simulated.
    route_days : tuple of float
        Days each route takes at full speed.
    interdicted : (D, N) ndarray of bool
        Routes struck each day (read-only).
    has_checkpoints : bool
        Whether any town has a checkpoint.
    checkpoint_town : tuple of int
        Per node, its town when that town has a checkpoint, else -1.
    town_of_node : tuple of int
        Per node, its town, else -1.
    town_node : tuple of int
        Per town, its node.
    """

    policy: str
    max_wait_days: int
    hit_probability: float
    n_days: int
    route_days: tuple[float, ...]
    interdicted: np.ndarray
    has_checkpoints: bool
    checkpoint_town: tuple[int, ...]
    town_of_node: tuple[int, ...]
    town_node: tuple[int, ...]


class ConvoyContext:
    """The collaborators of every convoy of a replication, and what a convoy does with them.

    Parameters
    ----------
    env : simpy.Environment
    net : DayNetwork
    paths : PathSearch
    towns : TownLedger
    log : ConvoyLog
    rng : numpy.random.Generator
        The engine's one random stream.
    rules : ConvoyRules
    """

    __slots__ = ("env", "net", "paths", "towns", "log", "rng", "rules", "_process")

    def __init__(self, env: simpy.Environment, net: DayNetwork, paths: PathSearch, towns: TownLedger,
                 log: ConvoyLog, rng: np.random.Generator, rules: ConvoyRules) -> None:
        self.env = env
        self.net = net
        self.paths = paths
        self.towns = towns
        self.log = log
        self.rng = rng
        self.rules = rules
        self._process = env.process  # SimPy makes a new bound method at each ``env.process``

    def start(self, cid: int, node: int, town: int, tonnes: float, routes: list[int], nodes: list[int],
              booked: int, day: int, leg: int, leg_end: float) -> None:
        """Start the process of convoy ``cid`` (the arguments of :func:`convoy_process`)."""
        self._process(convoy_process(self, cid, node, town, tonnes, routes, nodes, booked, day, leg, leg_end))

    def plan(self, cid: int, node: int, town: int, tonnes: float) -> Plan | None:
        """A path for convoy ``cid`` from ``node`` on today's network: to ``town`` while it still receives,
        else to the neediest town reachable (moving the tonnes on the way). None when no path exists."""
        net, towns, town_node = self.net, self.towns, self.rules.town_node
        tree = self.paths.tree(node, net.usable_bytes, net.blocked_bytes)
        if towns.receiving[town]:
            p = tree.path(town_node[town])
            return None if p is None else (town, p[0], p[1])
        best: tuple[float, int] | None = None
        for t, k in enumerate(town_node):
            if towns.wanted[t] and tree.reaches(k):
                cand = (towns.days_of_stock(net.day, t), t)
                if best is None or cand < best:
                    best = cand
        if best is None:
            return None
        new = best[1]
        p = tree.path(town_node[new])
        assert p is not None
        towns.pipeline[town] -= tonnes
        towns.pipeline[new] += tonnes
        self.log.town[cid] = new
        return new, p[0], p[1]

    def stopped_at(self, nodes: list[int], last: int, day: int) -> int:
        """The first of ``nodes[1:last + 1]`` whose checkpoint stops a convoy on ``day`` (its index), else 0.

        One draw per working checkpoint passed, in order, up to the one that stops it.
        """
        cp_town, p, start, rng = self.rules.checkpoint_town, self.towns.checkpoint_p, self.towns.checkpoint_start, self.rng
        for k in range(1, last + 1):
            t = cp_town[nodes[k]]
            if t >= 0 and day >= start[t] and rng.random() < p[t]:
                return k
        return 0

    def strike_day(self, r: int, t0: float, t1: float) -> int:
        """The first day that begins while a convoy is on route ``r`` (from ``t0`` to ``t1``) on which a strike
        hits it, else 0. One draw per interdicted day, in order, up to the one that hits it."""
        rules = self.rules
        first = int(t0) + 1
        if first < t1 and rules.hit_probability > 0.0:
            last = min(math.ceil(t1) - 1, rules.n_days - 1)
            interdicted, hit_p, rng = rules.interdicted, rules.hit_probability, self.rng
            for k in range(first, last + 1):
                if interdicted[k, r] and rng.random() < hit_p:
                    return k
        return 0

    def checkpoint_stops(self, t: int) -> bool:
        """Whether the checkpoint of town ``t`` stops a convoy entering it now (one draw if it works today)."""
        p = self.towns.checkpoint_p[t]
        return p > 0.0 and self.net.day >= self.towns.checkpoint_start[t] and self.rng.random() < p

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

    def intercept(self, cid: int, town: int, tonnes: float, reserved: set[int], day: int, reason: str) -> None:
        """Convoy ``cid`` is intercepted now, giving back the capacity of the routes ``reserved`` on ``day``."""
        if reserved:
            self.net.release(reserved, day, tonnes)
        self.end(cid, town, tonnes, INTERCEPTED, reason)


def convoy_process(ctx: ConvoyContext, cid: int, node: int, town: int, tonnes: float, routes: list[int],
                   nodes: list[int], booked: int, day: int, leg: int, leg_end: float) -> Generator[Any, Any, None]:
    """One convoy, from its source ``node`` to ``town`` along ``routes`` / ``nodes``, leaving on ``day``.

    The dispatcher booked the capacity of ``routes[:booked]`` (those the convoy enters on ``day``);
    any other route's capacity is taken on entry. The first ``leg`` hops end on ``day`` too, at
    ``leg_end``: the network, the towns and the checkpoints change only when a day begins and
    their capacity is booked, so nothing on them can change the convoy's course, and it covers
    them in one timeout -- drawing, in order, the checkpoints of the towns it enters, and stopping
    at the first that stops it. From there it goes route by route (:func:`_travel`).
    """
    if not leg:
        yield from _travel(ctx, cid, node, town, tonnes, routes, nodes, 0, booked, day, 0.0)
        return
    env = ctx.env
    k = ctx.stopped_at(nodes, leg, day) if ctx.rules.has_checkpoints else 0
    if k:
        route_days, speed = ctx.rules.route_days, ctx.net.speed_today
        clock = float(day)
        for r in routes[:k]:
            clock += route_days[r] / speed[r]
        yield env.timeout(clock - env.now)
        ctx.intercept(cid, town, tonnes, set(routes[k:booked]), day, "checkpoint")
        return
    yield env.timeout(leg_end - env.now)
    if leg == len(routes) and ctx.towns.receiving[town]:  # there already (the usual case)
        ctx.deliver(cid, town, tonnes)
        return
    yield from _travel(ctx, cid, nodes[leg], town, tonnes, routes, nodes, leg, booked, day, leg_end - day)


def _travel(ctx: ConvoyContext, cid: int, node: int, town: int, tonnes: float, routes: list[int],
            nodes: list[int], i: int, booked: int, day: int, spent: float) -> Generator[Any, Any, None]:
    """The convoy at ``node`` (``nodes[i]``) goes on route by route until its fate.

    ``routes[i:booked]`` are booked on ``day``; ``spent`` is the days travelled so far (the way back
    for ``turn_back``). At each node it delivers or picks the next route; a closed route or a town that
    no longer receives goes to :func:`_closed_route`.
    """
    env, net, towns = ctx.env, ctx.net, ctx.towns
    usable, take, route_days, town_of_node = net.usable, net.take, ctx.rules.route_days, ctx.rules.town_of_node
    waited = 0
    reserved = set(routes[i:booked])
    reserved_day = day
    while True:
        # ---- at a node: deliver, or pick the next route
        if i == len(routes):
            if towns.receiving[town]:
                ctx.deliver(cid, town, tonnes)
                return
            ok = False
        else:
            r = routes[i]
            ok = towns.receiving[town] and usable(r)
        if not ok:
            if reserved:
                net.release(reserved, reserved_day, tonnes)
                reserved = set()
            plan, waited = yield from _closed_route(ctx, cid, node, town, tonnes, routes, nodes, i, spent, waited)
            if plan is None:
                return
            town, routes, nodes = plan
            i = 0
            continue
        nxt = nodes[i + 1]
        # ---- capacity of the route today
        if r in reserved and reserved_day == net.day:
            reserved.discard(r)
        else:
            wait = take(r, tonnes)
            if wait is not None:
                if (yield wait) == CLOSED:
                    continue
        # ---- travel, exposed to strikes on days the route is interdicted
        dt = route_days[r] / net.speed_today[r]
        t0 = env.now
        k = ctx.strike_day(r, t0, t0 + dt)
        if k:
            yield env.timeout(k - t0)
            ctx.intercept(cid, town, tonnes, reserved, reserved_day, "strike")
            return
        yield env.timeout(dt)
        spent += dt
        node = nxt
        i += 1
        # ---- a checkpoint at the town entered
        t = town_of_node[node]
        if t >= 0 and ctx.checkpoint_stops(t):
            ctx.intercept(cid, town, tonnes, reserved, reserved_day, "checkpoint")
            return


def _closed_route(ctx: ConvoyContext, cid: int, node: int, town: int, tonnes: float, routes: list[int],
                  nodes: list[int], i: int, spent: float, waited: int) -> Generator[Any, Any, tuple[Plan | None, int]]:
    """The closed-route policy, for a convoy at ``node`` (``nodes[i]``) whose next route is closed or
    whose town no longer receives: its new path and the days waited so far (``waited`` before), or
    ``(None, waited)`` when it ended (stranded)."""
    env, towns, rules = ctx.env, ctx.towns, ctx.rules
    policy = rules.policy
    while True:
        plan = None
        if policy == "reroute" or not towns.receiving[town]:
            plan = ctx.plan(cid, node, town, tonnes)
        elif i < len(routes) and ctx.net.usable(routes[i]):
            plan = (town, routes[i:], nodes[i:])
        if plan is not None:
            return plan, waited
        if policy == "turn_back":
            if spent > 0.0:
                yield env.timeout(spent)
            ctx.end(cid, town, tonnes, STRANDED, "turned_back")
            return None, waited
        if waited >= rules.max_wait_days:
            ctx.end(cid, town, tonnes, STRANDED, "max_wait")
            return None, waited
        yield ctx.net.new_day
        waited += 1
