"""PRIM (analysis.prim): a box planted in synthetic data is found, with its statistics right."""

from __future__ import annotations

import numpy as np
import pytest

from qalamoun_sim.analysis.prim import box_record, find_box, peel_trajectory


def planted(seed: int, noise: float = 0.0, n: int = 1000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Six uniform parameters; cases of interest in 0.3 < a < 0.8 and d > 0.5, labels flipped with ``noise``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 6))
    inside = (x[:, 0] > 0.3) & (x[:, 0] < 0.8) & (x[:, 3] > 0.5)
    y = np.where(rng.uniform(size=n) < noise, ~inside, inside)
    return x, y, inside


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_finds_the_planted_box(seed: int) -> None:
    x, y, _ = planted(seed)
    box = find_box(x, y, list("abcdef"))
    assert box.restricted == ("a", "d")
    b = box.bounds()
    assert b["a"][0] == pytest.approx(0.3, abs=0.03) and b["a"][1] == pytest.approx(0.8, abs=0.03)
    assert b["d"][0] == pytest.approx(0.5, abs=0.03)
    assert box.density >= 0.95 and box.coverage >= 0.9


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_finds_it_through_noise(seed: int) -> None:
    """One label in ten flipped: the box still names a and d, its bounds within 0.07."""
    x, y, _ = planted(seed, noise=0.1)
    box = find_box(x, y, list("abcdef"))
    assert box.restricted == ("a", "d")
    b = box.bounds()
    assert abs(b["a"][0] - 0.3) < 0.07 and abs(b["a"][1] - 0.8) < 0.07 and abs(b["d"][0] - 0.5) < 0.07
    assert box.density > 0.75 and box.coverage > 0.7


def test_statistics_are_counts() -> None:
    x, y, _ = planted(7, noise=0.05)
    box = find_box(x, y, list("abcdef"))
    inside = np.all((x >= box.low) & (x <= box.high), axis=1)
    assert box.mass == pytest.approx(inside.mean())
    assert box.density == pytest.approx(y[inside].mean())
    assert box.coverage == pytest.approx((y & inside).sum() / y.sum())
    rec = box_record(box, claim="holds")
    assert rec["claim"] == "holds" and set(rec["bounds"]) == {"a", "d"} and rec["restricted"] == ["a", "d"]


def test_trajectory_peels_down_to_min_mass() -> None:
    x, y, _ = planted(8)
    boxes = peel_trajectory(x, y, alpha=0.1, min_mass=0.2)
    masses = [np.all((x >= lo) & (x <= hi), axis=1).mean() for lo, hi in boxes]
    assert masses[0] == 1.0 and all(b < a for a, b in zip(masses, masses[1:], strict=False))
    assert min(masses) >= 0.2


def test_no_structure_gives_the_whole_sample_or_little() -> None:
    """Cases at random: no restriction survives the pruning at its default tolerance, or the box is weak."""
    rng = np.random.default_rng(9)
    x = rng.uniform(size=(600, 4))
    y = rng.uniform(size=600) < 0.5
    box = find_box(x, y, list("abcd"))
    assert box.density < 0.8 or box.mass < 0.2


def test_shapes_checked() -> None:
    with pytest.raises(ValueError):
        find_box(np.zeros((5, 2)), np.zeros(4, bool), ["a", "b"])
