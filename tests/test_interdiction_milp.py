"""Max-flow interdiction (network.interdiction): Wood's MILP against brute force on small graphs.

Known answers: on Hypothesis-generated graphs of up to eight routes the MILP equals the best of every
k-subset of routes (and so does the closed form over a corridor's cuts); budget 0 is the max flow; the
flow never rises with the budget; a network that snow closed leaves nothing to strike.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qalamoun_sim import RouteNetwork, load_scenario
from qalamoun_sim.network.interdiction import FlowInterdiction, StrikeGroup, denied_routes

Arc = tuple[str, str, int, float]
NODES = ["s", "a", "b", "c", "t", "u"]
SINKS = ["t", "u"]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[Arc], int, np.ndarray, np.ndarray]:
    """Arcs of up to 8 routes (some two-way, some parallel), factors per scenario, candidate routes."""
    n = draw(st.integers(1, 8))
    arcs: list[Arc] = []
    for i in range(n):
        u = draw(st.sampled_from(NODES))
        v = draw(st.sampled_from([x for x in NODES if x != u]))
        cap = float(draw(st.integers(1, 30)))
        arcs.append((u, v, i, cap))
        if draw(st.booleans()):
            arcs.append((v, u, i, cap))
    scenarios = draw(st.integers(1, 3))
    factors = np.array([[draw(st.sampled_from([0.0, 0.5, 1.0])) for _ in range(n)] for _ in range(scenarios)])
    candidates = np.array([draw(st.booleans()) or i == 0 for i in range(n)])
    return arcs, n, factors, candidates


def brute_flow(arcs: Sequence[Arc], f: np.ndarray, struck: Sequence[int]) -> float:
    """Max flow by networkx on the collapsed graph, ``struck`` routes closed."""
    g = nx.DiGraph()
    for u, v, i, c in arcs:
        cap = 0.0 if i in struck else c * f[i]
        if cap > 0:
            g.add_edge(u, v, capacity=g[u][v]["capacity"] + cap if g.has_edge(u, v) else cap)
    if "s" not in g:
        return 0.0
    for t in SINKS:
        if t in g:
            g.add_edge(t, "sink")
    return float(nx.maximum_flow_value(g, "s", "sink")) if "sink" in g else 0.0


def brute_best(arcs: Sequence[Arc], factors: np.ndarray, candidates: np.ndarray, k: int,
               weights: np.ndarray | None = None, feasible=lambda s: True) -> float:
    """The least weighted mean flow over every set of at most ``k`` candidate routes."""
    w = np.full(len(factors), 1.0 / len(factors)) if weights is None else weights / weights.sum()
    pool = np.flatnonzero(candidates).tolist()
    best = np.inf
    for size in range(min(k, len(pool)) + 1):
        for s in itertools.combinations(pool, size):
            if feasible(s):
                best = min(best, sum(wi * brute_flow(arcs, f, s) for wi, f in zip(w, factors, strict=True)))
    return float(best)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(graphs(), st.integers(0, 3))
def test_the_milp_equals_brute_force_over_every_k_subset(g: tuple, k: int) -> None:
    arcs, n, factors, candidates = g
    fi = FlowInterdiction(arcs, n, ["s"], SINKS, candidates)
    for f in factors:
        got = fi.solve(f, k)
        assert got.flow == pytest.approx(brute_best(arcs, f[None], candidates, k), abs=1e-9)
        assert len(got.routes) <= k and all(candidates[r] for r in got.routes)
        assert got.flow == pytest.approx(brute_flow(arcs, f, got.routes), abs=1e-9)  # what it reports is what it leaves
        if got.routes:
            assert got.objective == pytest.approx(got.flow, abs=1e-6)


@FAST
@given(graphs(), st.integers(1, 3))
def test_the_closed_form_over_cuts_equals_the_milp(g: tuple, k: int) -> None:
    arcs, n, factors, candidates = g
    fi = FlowInterdiction(arcs, n, ["s"], SINKS, candidates, cut_routes=np.arange(n))
    for f in factors:
        assert fi.solve(f, k, method="cuts").flow == pytest.approx(fi.solve(f, k, method="milp").flow, abs=1e-9)


@FAST
@given(graphs(), st.integers(0, 3))
def test_one_plan_for_many_scenarios_equals_brute_force(g: tuple, k: int) -> None:
    """The stochastic form (Cormican, Morton & Wood 1998): one set of routes minimising the mean flow."""
    arcs, n, factors, candidates = g
    weights = np.arange(1.0, len(factors) + 1.0)
    got = FlowInterdiction(arcs, n, ["s"], SINKS, candidates).solve(factors, k, weights=weights)
    assert got.flow == pytest.approx(brute_best(arcs, factors, candidates, k, weights), abs=1e-9)


@FAST
@given(graphs(), st.integers(0, 3))
def test_assets_strike_only_in_range_and_within_their_budgets(g: tuple, k: int) -> None:
    arcs, n, factors, candidates = g
    reach_a = np.arange(n) % 2 == 0
    groups = [StrikeGroup(reach_a, 1, "a"), StrikeGroup(~reach_a, 2, "b")]

    def feasible(s: Sequence[int]) -> bool:  # some assignment of strikes to assets that reach them
        for owners in itertools.product(*[[j for j, gr in enumerate(groups) if gr.routes[r]] for r in s]):
            if all(owners.count(j) <= gr.budget for j, gr in enumerate(groups)):
                return True
        return False

    fi = FlowInterdiction(arcs, n, ["s"], SINKS, candidates)
    got = fi.solve(factors[0], k, groups=groups)
    assert got.flow == pytest.approx(brute_best(arcs, factors[:1], candidates, k, feasible=feasible), abs=1e-9)
    assert feasible(got.routes)


@FAST
@given(graphs())
def test_budget_zero_is_the_max_flow_and_the_curve_never_rises(g: tuple) -> None:
    arcs, n, factors, candidates = g
    fi = FlowInterdiction(arcs, n, ["s"], SINKS, candidates)
    f = factors[0]
    curve = [fi.solve(f, k).flow for k in range(5)]
    assert curve[0] == pytest.approx(brute_flow(arcs, f, ()), abs=1e-9)
    assert all(a >= b - 1e-9 for a, b in zip(curve, curve[1:], strict=False))
    assert curve[-1] >= fi.floor(f) - 1e-9


@FAST
@given(graphs())
def test_fewest_strikes_is_the_first_budget_that_reaches_the_bound(g: tuple) -> None:
    arcs, n, factors, candidates = g
    fi = FlowInterdiction(arcs, n, ["s"], SINKS, candidates)
    f = factors[0]
    got = fi.fewest_strikes(f, 0.0)
    curve = [brute_best(arcs, f[None], candidates, k) for k in range(n + 1)]
    if curve[-1] > 1e-9:
        assert got is None
    else:
        assert got is not None and len(got.routes) == next(k for k, v in enumerate(curve) if v <= 1e-9)


def test_a_network_closed_by_snow_leaves_nothing_to_strike() -> None:
    arcs = [("s", "a", 0, 10.0), ("a", "t", 1, 10.0), ("s", "t", 2, 5.0)]
    fi = FlowInterdiction(arcs, 3, ["s"], ["t"])
    closed = np.zeros(3)
    for k in range(4):
        got = fi.solve(closed, k)
        assert got.flow == 0.0 and got.routes == ()


def test_routes_already_closed_cost_nothing_and_are_never_struck() -> None:
    arcs = [("s", "a", 0, 10.0), ("a", "t", 1, 10.0), ("s", "t", 2, 5.0)]
    fi = FlowInterdiction(arcs, 3, ["s"], ["t"])
    got = fi.solve(np.array([0.0, 1.0, 1.0]), 1)  # snow closed the first leg: one strike takes the direct route
    assert got.flow == 0.0 and got.routes == (2,)


def test_a_two_way_route_is_one_decision_and_parallel_routes_are_two() -> None:
    arcs = [("s", "t", 0, 10.0), ("t", "s", 0, 10.0), ("s", "t", 1, 4.0), ("s", "t", 2, 6.0)]
    fi = FlowInterdiction(arcs, 3, ["s"], ["t"])
    assert [fi.solve(np.ones(3), k).flow for k in range(4)] == [20.0, 10.0, 4.0, 0.0]


def test_bad_budget_method_and_shapes_are_refused() -> None:
    fi = FlowInterdiction([("s", "t", 0, 1.0)], 1, ["s"], ["t"])
    with pytest.raises(ValueError, match="budget"):
        fi.solve(np.ones(1), -1)
    with pytest.raises(ValueError, match="method"):
        fi.solve(np.ones(1), 1, method="guess")
    with pytest.raises(ValueError, match="factors"):
        fi.solve(np.ones(2), 1)
    with pytest.raises(ValueError, match="cuts"):
        fi.solve(np.ones(1), 1, method="cuts")  # no corridor cuts given


# ---------------------------------------------------------------------------- the bundled corridor
@pytest.fixture(scope="module")
def arsal() -> tuple[RouteNetwork, FlowInterdiction]:
    net = RouteNetwork.from_scenario(load_scenario())
    return net, FlowInterdiction.for_corridor(net, "arsal")


def test_nominal_flow_is_the_networks_max_flow_and_the_known_open_weather_curve(arsal) -> None:
    net, fi = arsal
    ones = np.ones(net.n_routes)
    assert fi.max_flow(ones) == net.max_flow("arsal") == 161.0
    assert [fi.solve(ones, k).flow for k in range(6)] == [161.0, 81.0, 41.0, 11.0, 5.0, 0.0]


def test_the_cuts_and_the_milp_agree_on_random_corridor_states(arsal) -> None:
    net, fi = arsal
    rng = np.random.default_rng(3)
    mask = net.corridor_mask("arsal")
    for _ in range(25):
        f = np.ones(net.n_routes)
        f[mask] = rng.choice([0.0, 0.5, 1.0], size=mask.sum())
        k = int(rng.integers(1, 4))
        assert fi.solve(f, k, method="cuts").flow == pytest.approx(fi.solve(f, k).flow, abs=1e-9)
        assert fi.max_flow(f) == pytest.approx(net.max_flow("arsal", f), abs=1e-9)


@pytest.mark.parametrize("taken", [frozenset({"qara"}), frozenset({"qara", "deir_atiyah", "nabk"}),
                                   frozenset({"flita", "jarajir", "yabroud"})])
def test_towns_taken_deny_their_routes_as_the_connectivity_share_does(arsal, taken: frozenset[str]) -> None:
    net, fi = arsal
    f = np.where(denied_routes(net, taken), 0.0, 1.0)
    assert fi.max_flow(f) == pytest.approx(net.max_flow("arsal", held=taken), abs=1e-9)
    assert fi.solve(f, 2).flow == pytest.approx(fi.solve(f, 2, method="cuts").flow, abs=1e-9)


def test_army_held_routes_are_never_candidates(arsal) -> None:
    net, _ = arsal
    everything = FlowInterdiction.for_corridor(net, "arsal", candidates=np.ones(net.n_routes, dtype=bool))
    assert not (everything.candidates & net.enemy_route_mask("militant")).any()
