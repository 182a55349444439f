"""The claim's fast paths give the same bits as the slow ones (issue 20): the Wilson interval without
``scipy.stats``, the verdict reduced block by block."""

from __future__ import annotations

import pytest

from qalamoun_sim.analysis import claim as claim_mod
from qalamoun_sim.analysis.claim import replications_for_halfwidth, wilson_interval


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
