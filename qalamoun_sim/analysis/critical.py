"""Route criticality: what losing each route costs (single-link analysis, as in RA2CE).

For every route, three figures:

* **maximum flow lost** -- the drop in the claim corridor's nominal maximum flow (sources to the
  militant towns, :meth:`~qalamoun_sim.network.RouteNetwork.max_flow`) with that route's capacity at 0;
* **supply lost** -- the drop in tonnes delivered to the towns over the horizon when the SimPy engine
  runs with that route closed every day, against a baseline run of the same replications. The
  exogenous state (weather, snow, strikes) is computed once and the same seeds drive both runs
  (common random numbers), so the difference is the route's effect, not noise between draws;
* **snow closure** -- the share of winter days (the claim window, or the whole horizon when the
  window lies outside it) on which snow alone closes the route.

Routes the militants can never use (held by the army, or on a siege line) lose nothing by
construction and are not re-simulated.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pandas as pd

from ..engine.engine import simulate_replication
from ..environment.state import ExogenousState, compute_state
from ..errors import ScenarioError
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from .claim import window_mask

__all__ = ["route_criticality", "close_route", "DEFAULT_REPLICATIONS"]

#: Replications of the engine per route by default (37 routes x 3 runs of ~0.2 s on the reference scenario).
DEFAULT_REPLICATIONS = 3


def close_route(state: ExogenousState, index: int) -> ExogenousState:
    """A copy of the state with route ``index`` closed (capacity and speed factor 0) on every day."""
    cap = state.snow_capacity_factor.copy()
    speed = state.snow_speed_factor.copy()
    cap[..., index] = 0.0
    speed[..., index] = 0.0
    return dataclasses.replace(state, snow_capacity_factor=cap, snow_speed_factor=speed)


def _outcome(scenario: Scenario, seed: int, state: ExogenousState, network: RouteNetwork,
             closed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Per replication of the state: tonnes delivered to towns and towns captured, with one route closed."""
    delivered = np.zeros(state.n_replications)
    captured = np.zeros(state.n_replications)
    for k in range(state.n_replications):
        st = state.replication(k)
        if closed is not None:
            st = close_route(st, closed)
        run = simulate_replication(scenario, int(state.replications[k]), seed, network=network, state=st)
        delivered[k] = float(run.towns["delivered_t"].sum())
        ev = run.events
        captured[k] = float((ev["event"].astype(str) == "captured").sum()) if len(ev) else 0.0
    return delivered, captured


def _route_job(args: tuple[Scenario, int, ExogenousState, int]) -> tuple[int, np.ndarray, np.ndarray]:
    scenario, seed, state, index = args
    net = RouteNetwork.from_scenario(scenario)
    d, c = _outcome(scenario, seed, state, net, index)
    return index, d, c


def _winter_mask(scenario: Scenario) -> np.ndarray:
    mask = window_mask(scenario, scenario.dates)
    return mask if mask.any() else np.ones(len(mask), dtype=bool)


def route_criticality(scenario: Scenario, replications: int = DEFAULT_REPLICATIONS, seed: int | None = None, *,
                      corridor: str | None = None, workers: int = 1,
                      progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Rank routes by what losing each one costs.

    Parameters
    ----------
    scenario : Scenario
    replications : int
        Engine replications per route (and for the baseline).
    seed : int, optional
        Root seed; default the scenario's.
    corridor : str, optional
        Corridor of the maximum-flow figure; default the claim corridor (or, with a warning, the first
        corridor that has a source when the claim corridor has none).
    workers : int
        Processes for the engine runs (1: in this process).
    progress : callable, optional
        Called with 1 after each route.

    Returns
    -------
    DataFrame
        One row per route, most critical first: ``rank``, ``route``, ``from``, ``to``, ``corridor``,
        ``surface``, ``capacity_tpd``, ``max_elevation_m``, ``max_flow_loss_tpd``, ``max_flow_loss_share``,
        ``delivered_loss_t`` (mean over replications), ``delivered_loss_p05_t``, ``delivered_loss_p95_t``,
        ``delivered_loss_share`` (of the baseline mean), ``captures_added`` (mean extra towns captured),
        ``snow_closed_share``. ``attrs`` holds the baseline: ``baseline_delivered_t``,
        ``nominal_max_flow_tpd``, ``corridor``, ``replications``, ``seed``.

    Raises
    ------
    ScenarioError
        When the corridor (``corridor``, else the claim's) has no source.
    ValueError
        When ``replications`` < 1.

    Examples
    --------
    Two parallel routes from a source to a town; the wide one matters most:

    >>> from qalamoun_sim import scenario_from_dict
    >>> node = lambda i, k, **kw: {"id": i, "kind": k, "side": "militant", "elevation_m": 1000, "lat": 34,
    ...                            "lon": 36 + len(i) / 100, **kw}
    >>> scn = scenario_from_dict({"scenario": {"name": "two routes", "start": "2013-12-01", "days": 10},
    ...     "nodes": [node("s", "source", supply_tpd=50, corridor="c"), node("town", "town", consumption_tpd=50)],
    ...     "routes": [{"id": "wide", "from": "s", "to": "town", "length_km": 10, "surface": "track",
    ...                 "capacity_tpd": 40, "corridor": "c"},
    ...                {"id": "narrow", "from": "s", "to": "town", "length_km": 10, "surface": "trail",
    ...                 "capacity_tpd": 5, "corridor": "c"}], "claim": {"corridor": "c"}})
    >>> table = route_criticality(scn, replications=1, seed=1)
    >>> table[["route", "max_flow_loss_tpd"]].values.tolist()
    [['wide', 40.0], ['narrow', 5.0]]
    """
    if replications < 1:
        raise ValueError(f"replications: must be >= 1, got {replications}")
    seed = scenario.scenario.seed if seed is None else int(seed)
    net = RouteNetwork.from_scenario(scenario)
    corridor = _flow_corridor(scenario, net, corridor)
    nominal = net.max_flow(corridor)
    flow_loss = _max_flow_losses(net, corridor, nominal)
    state = compute_state(scenario, replications, seed, net)
    snow_closed = state.snow_closed[:, _winter_mask(scenario), :].mean(axis=(0, 1))
    base_d, base_c = _outcome(scenario, seed, state, net, None)
    loss_d, added_c = _engine_losses(scenario, seed, state, net, (base_d, base_c), workers, progress)
    table = _ranked_table(net, nominal, flow_loss, loss_d, added_c, float(base_d.mean()), snow_closed)
    table.attrs.update(baseline_delivered_t=float(base_d.mean()), nominal_max_flow_tpd=float(nominal),
                       corridor=corridor, replications=int(replications), seed=int(seed),
                       scenario=scenario.scenario.name)
    return table


def _flow_corridor(scenario: Scenario, net: RouteNetwork, corridor: str | None) -> str:
    """The corridor of the max-flow figure: the one asked for, else the claim's (else the first with a source)."""
    chosen = corridor is not None
    if corridor is None:
        corridor = scenario.claim.corridor
        with_sources = [c for c in net.corridors() if net.corridor_sources(c)]
        if not net.corridor_sources(corridor) and with_sources:
            warnings.warn(f"claim corridor '{corridor}' has no source; max flow lost is measured for corridor "
                          f"'{with_sources[0]}'", stacklevel=3)
            corridor = with_sources[0]
    if not net.corridor_sources(corridor):
        raise ScenarioError(scenario.source_path or "<dict>", "corridor" if chosen else "claim.corridor",
                            f"corridor '{corridor}' has no source (have: {', '.join(net.corridors())})")
    return corridor


def _max_flow_losses(net: RouteNetwork, corridor: str, nominal: float) -> np.ndarray:
    """(N,) the corridor's nominal max flow lost without each route."""
    flow_loss = np.zeros(net.n_routes)
    for i in range(net.n_routes):
        f = np.ones(net.n_routes)
        f[i] = 0.0
        flow_loss[i] = nominal - net.max_flow(corridor, f)
    return flow_loss


def _engine_losses(scenario: Scenario, seed: int, state: ExogenousState, net: RouteNetwork,
                   baseline: tuple[np.ndarray, np.ndarray], workers: int,
                   progress: Callable[[int], None] | None) -> tuple[np.ndarray, np.ndarray]:
    """(N, R) supply lost and captures added per replication when each route the militants use is closed.

    Routes they cannot use anyway (held by the army, on a siege line) lose nothing and are not run.
    """
    base_d, base_c = baseline
    siege = set(scenario.interdiction.siege_lines) if scenario.interdiction else set()
    enemy = net.enemy_route_mask("militant")
    unusable = {i for i, r in enumerate(net.routes) if enemy[i] or r.id in siege}
    todo = [i for i in range(net.n_routes) if i not in unusable]
    loss_d = np.zeros((net.n_routes, state.n_replications))
    added_c = np.zeros((net.n_routes, state.n_replications))
    if progress is not None and unusable:
        progress(len(unusable))

    def record(results: Iterable[tuple[int, np.ndarray, np.ndarray]]) -> None:
        for i, d, c in results:
            loss_d[i] = base_d - d
            added_c[i] = c - base_c
            if progress is not None:
                progress(1)

    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            record(pool.map(_route_job, [(scenario, seed, state, i) for i in todo]))
    else:
        record((i, *_outcome(scenario, seed, state, net, i)) for i in todo)
    return loss_d, added_c


def _ranked_table(net: RouteNetwork, nominal: float, flow_loss: np.ndarray, loss_d: np.ndarray,
                  added_c: np.ndarray, base_mean: float, snow_closed: np.ndarray) -> pd.DataFrame:
    """One row per route, most critical first (supply lost, then max flow lost, then id)."""
    table = pd.DataFrame({
        "route": list(net.route_ids),
        "from": [r.from_ for r in net.routes],
        "to": [r.to for r in net.routes],
        "corridor": [r.corridor or "" for r in net.routes],
        "surface": [r.surface for r in net.routes],
        "capacity_tpd": net.capacity_tpd,
        "max_elevation_m": net.max_elevation_m,
        "max_flow_loss_tpd": np.round(flow_loss, 6),
        "max_flow_loss_share": np.round(flow_loss / nominal, 6) if nominal > 0 else 0.0,
        "delivered_loss_t": loss_d.mean(axis=1),
        "delivered_loss_p05_t": np.quantile(loss_d, 0.05, axis=1),
        "delivered_loss_p95_t": np.quantile(loss_d, 0.95, axis=1),
        "delivered_loss_share": loss_d.mean(axis=1) / base_mean if base_mean > 0 else 0.0,
        "captures_added": added_c.mean(axis=1),
        "snow_closed_share": snow_closed,
    })
    table = table.sort_values(["delivered_loss_t", "max_flow_loss_tpd", "route"],
                              ascending=[False, False, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
