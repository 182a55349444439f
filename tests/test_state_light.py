"""``snow_and_strikes``: the claim's part of the exogenous state, the same values as ``compute_state``."""

from __future__ import annotations

import numpy as np
import pytest

from qalamoun_sim import RouteNetwork, load_scenario
from qalamoun_sim.analysis.metrics import corridor_shares, factor_shares, held_by_day
from qalamoun_sim.environment.state import compute_state, snow_and_strikes


@pytest.mark.parametrize("path", [None, "qalamoun_sim/scenarios/qalamoun_2013_14_observed.toml",
                                  "qalamoun_sim/scenarios/snow_only.toml"])
@pytest.mark.parametrize("corridor_only", [False, True])
def test_the_light_state_is_the_state(path: str | None, corridor_only: bool) -> None:
    scn = load_scenario(path)
    net = RouteNetwork.from_scenario(scn)
    routes = net.corridor_routes(scn.claim.corridor) if corridor_only else None
    state = compute_state(scn, [0, 4, 9], 11, net, routes=routes)
    ids, snow, interdicted = snow_and_strikes(scn, [0, 4, 9], 11, net, routes=routes)
    assert ids == state.route_ids
    np.testing.assert_array_equal(snow, state.snow_capacity_factor)
    np.testing.assert_array_equal(interdicted, state.interdicted)
    held = held_by_day(scn)
    a = corridor_shares(state, net, scn.claim.corridor, held=held)
    b = factor_shares(ids, snow, interdicted, net, scn.claim.corridor, held=held)
    for kind in a:
        for metric in a[kind]:
            np.testing.assert_array_equal(a[kind][metric], b[kind][metric])
