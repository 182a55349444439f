"""The exogenous state of a subset of routes is the whole network's state, column for column."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qalamoun_sim import RouteNetwork, load_scenario
from qalamoun_sim.analysis.metrics import corridor_shares
from qalamoun_sim.environment.state import bands_needed, compute_state, route_depth_from_bands

SCENARIO = load_scenario()
NETWORK = RouteNetwork.from_scenario(SCENARIO)
FULL = compute_state(SCENARIO, [0, 3, 7], 11, NETWORK)
ROUTE_ARRAYS = ("route_depth_cm", "snow_capacity_factor", "snow_speed_factor", "interdicted")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(NETWORK.route_ids), min_size=1, max_size=8))
def test_a_subset_of_routes_has_the_same_values_as_the_whole_network(routes: set[str]) -> None:
    part = compute_state(SCENARIO, [0, 3, 7], 11, NETWORK, routes=sorted(routes))
    cols = sorted(NETWORK.route_index[r] for r in routes)
    assert part.route_ids == tuple(NETWORK.route_ids[i] for i in cols)
    for name in ROUTE_ARRAYS:
        np.testing.assert_array_equal(getattr(part, name), getattr(FULL, name)[..., cols], err_msg=name)
    np.testing.assert_array_equal(part.temperature_c, FULL.temperature_c)
    # the bands kept are a contiguous run of the full set, with the same depths
    first = int(np.searchsorted(FULL.band_elevations_m, part.band_elevations_m[0]))
    np.testing.assert_array_equal(part.band_elevations_m, FULL.band_elevations_m[first:first + len(part.band_elevations_m)])
    np.testing.assert_array_equal(part.band_depth_cm, FULL.band_depth_cm[..., first:first + len(part.band_elevations_m)])


def test_corridor_shares_on_the_corridor_state_equal_those_on_the_whole_state() -> None:
    part = compute_state(SCENARIO, [0, 3, 7], 11, NETWORK, routes=NETWORK.corridor_routes("arsal"))
    assert part.snow_capacity_factor.shape[-1] == 15
    whole, alone = corridor_shares(FULL, NETWORK, "arsal"), corridor_shares(part, NETWORK, "arsal")
    for kind in whole:
        for metric in whole[kind]:
            np.testing.assert_array_equal(alone[kind][metric], whole[kind][metric])


def test_corridor_shares_need_every_route_of_the_corridor() -> None:
    some = NETWORK.corridor_routes("arsal")[:3]
    part = compute_state(SCENARIO, 1, 11, NETWORK, routes=some)
    with pytest.raises(ValueError, match="every route of corridor"):
        corridor_shares(part, NETWORK, "arsal")


def test_unknown_or_no_routes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown route ids: nowhere"):
        compute_state(SCENARIO, 1, 11, NETWORK, routes=["nowhere"])
    with pytest.raises(ValueError, match="at least one route"):
        compute_state(SCENARIO, 1, 11, NETWORK, routes=[])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(500.0, 3500.0), min_size=1, max_size=6))
def test_the_bands_needed_interpolate_exactly_like_all_bands(elevations: list[float]) -> None:
    bands = np.arange(800.0, 3001.0, 100.0)
    depth = np.random.default_rng(len(elevations)).random((2, 3, len(bands))) * 100
    z = np.array(elevations)
    keep = bands_needed(bands, z)
    np.testing.assert_array_equal(route_depth_from_bands(depth[..., keep], bands[keep], z),
                                  route_depth_from_bands(depth, bands, z))
