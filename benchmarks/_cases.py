"""The things ``run.py`` times: engine replications, a bare SimPy loop of the same shape, networks.

Kept apart from ``run.py`` (which orders, interleaves and reports them) so that each piece can be
imported and timed on its own, e.g. under a profiler.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from qalamoun_sim.engine import CountingEnvironment, Engine
from qalamoun_sim.environment.state import compute_state
from qalamoun_sim.network import RouteNetwork
from qalamoun_sim.scenario import Scenario
from qalamoun_sim.scenario.synthetic import synthetic_scenario

__all__ = ["SYNTH_SEED", "Case", "reference_case", "dry_case", "grid_case", "run_engine", "bare_simpy",
           "replication_shapes", "numpy_reference"]

SYNTH_SEED = 0  # seed of every synthetic network (and of its scenario)
REFERENCE_ROUTES = 3960  # a 45 x 45 grid: 2,025 nodes, the original design's reference shape of about 2,000 nodes
REFERENCE_DAYS = 180


@dataclass
class Case:
    """A scenario with its network and the exogenous state of replication 0, ready to run."""

    label: str
    scenario: Scenario
    network: RouteNetwork
    state: Any
    seed: int

    @property
    def node_days(self) -> int:
        return len(self.network.nodes) * self.scenario.scenario.days

    def run(self) -> Any:
        """One replication of the engine (state precomputed): the :class:`Run`."""
        return run_engine(self.scenario, self.network, self.state, self.seed, 0)[0]


def _case(label: str, scn: Scenario, seed: int = SYNTH_SEED) -> Case:
    net = RouteNetwork.from_scenario(scn)
    return Case(label, scn, net, compute_state(scn, [0], seed, net), seed)


def reference_case(sources: int) -> Case:
    """The reference shape: a 45 x 45 grid (2,025 nodes, 3,960 routes), 180 days, daily shipments,
    snow and strikes on, ``sources`` sources."""
    scn = synthetic_scenario(REFERENCE_ROUTES, seed=SYNTH_SEED, days=REFERENCE_DAYS, sources=sources)
    return _case(f"reference grid, {sources} sources", scn)


def dry_case(n_routes: int) -> Case:
    """The SupplyNetPy comparison's network: no strikes and no snow (a dry winter), 181 days."""
    return _case(f"dry grid, {n_routes} routes",
                 synthetic_scenario(n_routes, seed=SYNTH_SEED, interdiction=False, snow=False))


def grid_case(n_routes: int) -> Scenario:
    """The scaling study's scenario: a synthetic grid with snow and strikes, 181 days."""
    return synthetic_scenario(n_routes, seed=SYNTH_SEED)


def run_engine(scn: Scenario, net: RouteNetwork, state: Any, seed: int, replication: int) -> tuple[Any, Engine]:
    """One replication as :func:`simulate_replication` runs it (its checks aside), keeping the engine."""
    eng = Engine(scn, net, state, seed, replication)
    return eng.run(), eng


def bare_simpy(n_days: int, starts_per_day: Sequence[int], n_events: int,
               env_class: type[simpy.Environment] = simpy.Environment) -> int:
    """A bare SimPy loop with the engine's shape; returns the events it processed.

    One day process yields ``timeout(1)`` ``n_days`` times and starts, each day, as many processes
    as the engine dispatched convoys that day; each process yields ``timeout`` a few times within
    its day and ends. Timeouts are spread over the processes so that the loop processes exactly
    ``n_events`` events (process starts and ends count, as in the engine), when that is possible.
    """
    n_proc = int(sum(starts_per_day))
    fixed = n_days + 2 + 2 * n_proc
    extra = max(0, n_events - fixed)
    base, rem = divmod(extra, n_proc) if n_proc else (0, 0)
    env = env_class()
    phi = (math.sqrt(5.0) - 1.0) / 2.0

    def proc(k: int, i: int):
        delay = (0.05 + 0.9 * ((i * phi) % 1.0)) / max(k, 1)
        for _ in range(k):
            yield env.timeout(delay)

    def days():
        i = 0
        for d in range(n_days):
            for _ in range(starts_per_day[d]):
                env.process(proc(base + (1 if i < rem else 0), i))
                i += 1
            yield env.timeout(1)

    env.process(days())
    env.run()
    return fixed + (extra if n_proc else 0)


def replication_shapes(scn: Scenario, net: RouteNetwork, states: Any, seed: int,
                       reps: int) -> tuple[int, int, list[tuple[int, list[int], int]]]:
    """Events, convoys and, per replication, (days, convoys started each day, events) of the engine."""
    events = convoys = 0
    shapes: list[tuple[int, list[int], int]] = []
    for k in range(reps):
        run, eng = run_engine(scn, net, states.replication(k), seed, k)
        events += run.event_count
        convoys += len(run.convoys)
        per_day = np.bincount(run.convoys["dispatched_day"].to_numpy(), minlength=eng.n_days).tolist()
        shapes.append((eng.n_days, per_day, run.event_count))
    return events, convoys, shapes


def counted_events(shapes: Sequence[tuple[int, list[int], int]]) -> int:
    """Events the bare loop processes for ``shapes``, counted by SimPy itself."""
    return sum(bare_simpy(*s, env_class=CountingEnvironment) for s in shapes)


def numpy_reference(shape: tuple[int, int, int], p: float, capacity: np.ndarray, seed: int) -> float:
    """The per-cell floor of the exogenous state: one Bernoulli draw per cell and a capacity sum.

    ``shape`` is (replications, days, routes); each replication draws from its own generator, as
    the state does. Returns the total capacity closed (so the work cannot be optimised away).
    """
    reps, days, routes = shape
    children = np.random.SeedSequence(seed).spawn(reps)
    total = 0.0
    for child in children:
        closed = np.random.default_rng(child).random((days, routes)) < p
        total += float((closed * capacity).sum())
    return total
