"""The claim's fast paths give the same bits as the slow ones (issue 20): the Wilson interval without
``scipy.stats``, the verdict reduced block by block."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qalamoun_sim.analysis import claim as claim_mod
from qalamoun_sim.analysis.claim import linear_quantiles, replications_for_halfwidth, wilson_interval


def test_the_kept_normal_quantile_is_scipys() -> None:
    from scipy.special import ndtri

    assert claim_mod._Z_975 == float(ndtri(0.975))


@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_wilson_interval_is_scipys_bit_for_bit(confidence: float) -> None:
    from scipy.stats import binomtest

    for n in (1, 2, 7, 100, 1000, 9999):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
            assert wilson_interval(k, n, confidence) == (float(ci.low), float(ci.high))


def test_replications_for_halfwidth_reads_the_same_quantile() -> None:
    from scipy.stats import norm

    assert claim_mod._z(0.95) == float(norm.ppf(0.975))
    assert replications_for_halfwidth(0.24) == 1750


def test_the_nominal_flow_of_the_cuts_is_the_solvers_on_every_phase() -> None:
    from qalamoun_sim import RouteNetwork, load_scenario
    from qalamoun_sim.analysis.metrics import held_by_day

    scn = load_scenario()
    net = RouteNetwork.from_scenario(scn)
    for taken in sorted(set(held_by_day(scn)), key=len):
        cuts = net.corridor_cuts(scn.claim.corridor, held=taken)
        assert cuts is not None and cuts.integral
        assert cuts.nominal_flow() == net.max_flow(scn.claim.corridor, held=taken)


def test_a_fractional_capacity_is_not_integral() -> None:
    import numpy as np

    from qalamoun_sim.network.cuts import CorridorCuts

    arcs = [("s", "x", 0, 1.5), ("x", "t", 1, 2.0)]
    assert not CorridorCuts(arcs, np.array([0]), ["s"], ["t"]).integral
    assert CorridorCuts([(u, v, i, 2.0) for u, v, i, _ in arcs], np.array([0]), ["s"], ["t"]).nominal_flow() == 2.0


def test_the_summary_reduced_block_by_block_is_that_of_the_daily_shares() -> None:
    import numpy as np

    from qalamoun_sim import load_scenario
    from qalamoun_sim.analysis.claim import claim_shares, claim_summary, claim_verdict

    scn = load_scenario()
    whole = claim_shares(scn, 23, 5, block=23)
    streamed = claim_summary(scn, 23, 5, block=4)
    a, b = whole.summary(), streamed
    assert a.n_replications == b.n_replications == 23
    for kind in a.window_mean:
        for metric in a.window_mean[kind]:
            assert a.window_mean[kind][metric].tobytes() == b.window_mean[kind][metric].tobytes()
            for rule in a.holds[kind][metric]:
                np.testing.assert_array_equal(a.holds[kind][metric][rule], b.holds[kind][metric][rule])
    assert a.days_at.tobytes() == b.days_at.tobytes() and (a.first_day == b.first_day).all()
    assert claim_verdict(whole) == claim_verdict(streamed)


@settings(max_examples=200, deadline=None)
@given(arrays(float, st.integers(1, 60), elements=st.one_of(
           st.sampled_from([0.0, -0.0, 1.0, 0.5, 0.7, np.nan, np.inf, -np.inf]), st.floats(-1e6, 1e6))),
       st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5))
def test_linear_quantiles_are_numpys_bit_for_bit(values: np.ndarray, q: list[float]) -> None:
    with np.errstate(invalid="ignore"):  # inf - inf in numpy's interpolation, as in ours
        want = np.quantile(values, q)
        got = linear_quantiles(values, np.array(q))
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


def test_the_claims_quantiles_leave_values_as_they_were() -> None:
    values = np.array([0.3, 0.1, 0.2])
    linear_quantiles(values, np.array([0.5]))
    assert values.tolist() == [0.3, 0.1, 0.2]
