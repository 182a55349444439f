"""Tests of the synthetic networks: sizes, reproducibility, reachability, options."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qalamoun_sim.environment.state import compute_state
from qalamoun_sim.network import RouteNetwork
from qalamoun_sim.scenario.synthetic import synthetic_scenario


@pytest.mark.parametrize("n", [12, 40, 100, 1000, 3000])
def test_grid_has_the_routes_of_the_nearest_square_grid(n) -> None:
    scn = synthetic_scenario(n, days=5)
    m = round(math.sqrt(len([x for x in scn.nodes if x.kind != "base"])))
    assert m * m == len([x for x in scn.nodes if x.kind != "base"])
    assert len(scn.routes) == 2 * m * (m - 1)
    # the grid is the one closest to the number asked for
    assert all(abs(2 * k * (k - 1) - n) >= abs(len(scn.routes) - n) for k in (m - 1, m + 1))


@pytest.mark.parametrize("n", [200, 2000])
def test_geometric_network_is_about_the_size_asked_for(n) -> None:
    scn = synthetic_scenario(n, kind="geometric", seed=3, days=5)
    assert 0.6 * n <= len(scn.routes) <= 1.4 * n


@pytest.mark.parametrize("kind", ["grid", "geometric"])
def test_same_arguments_same_scenario_other_seed_differs(kind) -> None:
    a = synthetic_scenario(300, kind=kind, seed=5, days=5)
    b = synthetic_scenario(300, kind=kind, seed=5, days=5)
    c = synthetic_scenario(300, kind=kind, seed=6, days=5)
    assert a.model_dump() == b.model_dump()
    assert a.model_dump() != c.model_dump()


@pytest.mark.slow
@pytest.mark.parametrize("kind, n", [("grid", 100), ("grid", 2000), ("geometric", 300), ("geometric", 3000)])
def test_every_town_is_reachable_from_a_source(kind, n) -> None:
    for seed in range(3):
        scn = synthetic_scenario(n, kind=kind, seed=seed, days=5)
        net = RouteNetwork.from_scenario(scn)
        assert net.nodes_of_kind("source") and net.nodes_of_kind("town")
        assert net.unreachable_towns() == []


def test_sources_towns_and_corridor() -> None:
    scn = synthetic_scenario(2000, seed=1, days=5)
    net = RouteNetwork.from_scenario(scn)
    n_places = len(net.nodes) - 1  # the army air base aside
    sources = net.nodes_of_kind("source")
    assert len(sources) == max(1, n_places // 200)  # one per 200 places
    assert all(net.nodes[s].supply_tpd == 100.0 for s in sources)
    assert len(net.nodes_of_kind("town")) == int(0.2 * (n_places - len(sources)))
    assert net.corridor_mask("main").any() and scn.claim.corridor == "main"
    assert len([n for n in synthetic_scenario(2000, seed=1, days=5, sources=7).nodes if n.kind == "source"]) == 7


def test_options_interdiction_snow_convoy_and_days() -> None:
    scn = synthetic_scenario(200, seed=2, days=30, interdiction=False, snow=False, convoy_t=4.0)
    assert scn.interdiction is None and not any(n.kind == "base" for n in scn.nodes)
    assert scn.engine.convoy_t == 4.0 and scn.scenario.days == 30
    state = compute_state(scn, 2)
    assert state.snow_capacity_factor.min() == 1.0 and not state.interdicted.any()
    assert np.all(state.route_depth_cm == 0.0)
    with_all = synthetic_scenario(200, seed=2, days=30)
    assert with_all.interdiction is not None and with_all.engine.convoy_t == 10.0
    # the network itself does not depend on the options
    assert [r.id for r in with_all.routes] == [r.id for r in scn.routes]
    assert [r.length_km for r in with_all.routes] == [r.length_km for r in scn.routes]
