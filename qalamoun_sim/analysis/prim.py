"""PRIM, the patient rule induction method (Friedman & Fisher 1999): a box where the cases of interest crowd.

Given a sample ``x`` (n points, d parameters) and a boolean ``y`` (the cases of interest: the
claim holds in most winters, say), :func:`find_box` looks for a box ``low <= x <= high`` whose
*density* (share of its points that are cases) is high while its *coverage* (share of all cases
inside it) stays large:

1. **peeling** (F&F s.5.1): from the box holding every point, try removing the ``alpha`` share of
   the box's points at the low or the high end of each parameter, keep the peel that leaves the
   densest box, and go on while the box holds at least ``min_mass`` of the sample. Each step is a
   box on the *peeling trajectory*;
2. **choosing** (Bryant & Lempert 2010 do this by eye on the coverage-density trade-off; here a
   rule): of the boxes of the trajectory whose density reaches ``min_density``, the one of the
   largest coverage x density (the first on a tie); when none reaches it, the densest box whose
   coverage is at least ``min_coverage``;
3. **pasting** (F&F s.5.2): widen the box along any parameter by ``alpha`` of the box's points while
   that raises its density;
4. **pruning** (as ema_workbench's ``drop_restriction``, automated, and end by end): drop each
   cut whose removal costs at most ``tolerance`` of density, the cheapest first, so the box names
   only the parameters, and the ends of their ranges, that matter.

Why not a package: ``ema_workbench`` (BSD) is a 28 MB wheel that pulls scikit-learn, statsmodels,
seaborn and platypus-opt; the standalone ``prim`` package (1.0.0, Sep 2024) is light but licensed
GPL-3.0, which an MIT package cannot take as a dependency, and it imports ``matplotlib.pyplot`` and
``mplcursors`` when imported. The algorithm is a hundred lines of numpy, written here from the paper
and tested on a planted box (``tests/test_prim.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Box", "find_box", "peel_trajectory", "box_record", "threshold_boxes"]


@dataclass(frozen=True)
class Box:
    """A box of a PRIM search: bounds per parameter and how well it isolates the cases of interest.

    ``restricted`` names the parameters whose bounds are narrower than the sample's range;
    ``trajectory`` is the peeling trajectory it was chosen from (coverage, density, mass per step).
    """

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    coverage: float
    density: float
    mass: float
    restricted: tuple[str, ...]
    trajectory: list[dict[str, float]] = field(default_factory=list)

    def bounds(self, restricted_only: bool = True) -> dict[str, list[float]]:
        """``{name: [low, high]}``, for the restricted parameters only unless told otherwise."""
        return {n: [float(lo), float(hi)] for n, lo, hi in zip(self.names, self.low, self.high, strict=True)
                if not restricted_only or n in self.restricted}


def _inside(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.all((x >= low) & (x <= high), axis=1)


def _stats(inside: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Coverage, density and mass of the points ``inside``."""
    n_in = int(inside.sum())
    cases = int(y.sum())
    hits = int((y & inside).sum())
    coverage = hits / cases if cases else 0.0
    density = hits / n_in if n_in else 0.0
    return coverage, density, n_in / len(y)


def _best_peel(x: np.ndarray, y: np.ndarray, inside: np.ndarray, low: np.ndarray, high: np.ndarray,
               alpha: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The peel (of ``alpha`` of the box's points, at one end of one parameter) leaving the densest box.

    Ties go to the larger box, then to the first parameter.
    """
    best: tuple[float, int, int, np.ndarray, np.ndarray] | None = None
    n_in = int(inside.sum())
    k = max(1, int(alpha * n_in))
    for j in range(x.shape[1]):
        values = np.sort(x[inside, j])
        for end in ("low", "high"):
            lo, hi = low.copy(), high.copy()
            if end == "low":
                lo[j] = values[k]
            else:
                hi[j] = values[n_in - 1 - k]
            new = inside & (x[:, j] >= lo[j]) & (x[:, j] <= hi[j])
            n_new = int(new.sum())
            if n_new == 0 or n_new == n_in:
                continue
            key = (float(y[new].mean()), n_new, -j)
            if best is None or key > best[:3]:
                best = (*key, lo, hi)
    return None if best is None else (best[3], best[4])


def peel_trajectory(x: np.ndarray, y: np.ndarray, alpha: float = 0.05,
                    min_mass: float = 0.05) -> list[tuple[np.ndarray, np.ndarray]]:
    """Boxes ``(low, high)`` from the whole sample down, one peel at a time (F&F s.5.1)."""
    low, high = x.min(axis=0).astype(float), x.max(axis=0).astype(float)
    inside = np.ones(len(x), dtype=bool)
    boxes = [(low, high)]
    while True:
        peel = _best_peel(x, y, inside, low, high, alpha)
        if peel is None:
            break
        new = _inside(x, *peel)
        if new.mean() < min_mass:
            break
        low, high = peel
        inside = new
        boxes.append((low, high))
    return boxes


def _paste(x: np.ndarray, y: np.ndarray, low: np.ndarray, high: np.ndarray,
           alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Widen the box while some paste of ``alpha`` of its points raises its density (F&F s.5.2)."""
    full_lo, full_hi = x.min(axis=0), x.max(axis=0)
    while True:
        inside = _inside(x, low, high)
        density = float(y[inside].mean()) if inside.any() else 0.0
        step = max(1, int(round(alpha * inside.sum())))
        best: tuple[float, np.ndarray, np.ndarray] | None = None
        for j in range(x.shape[1]):
            others = _inside(np.delete(x, j, axis=1), np.delete(low, j), np.delete(high, j))
            below = np.sort(x[others & (x[:, j] < low[j]), j])[::-1]
            above = np.sort(x[others & (x[:, j] > high[j]), j])
            for end, values in (("low", below), ("high", above)):
                if not len(values):
                    continue
                lo, hi = low.copy(), high.copy()
                edge = values[min(step, len(values)) - 1]
                if end == "low":
                    lo[j] = full_lo[j] if edge <= full_lo[j] else edge
                else:
                    hi[j] = full_hi[j] if edge >= full_hi[j] else edge
                d = float(y[_inside(x, lo, hi)].mean())
                if d > density + 1e-12 and (best is None or d > best[0]):
                    best = (d, lo, hi)
        if best is None:
            return low, high
        low, high = best[1], best[2]


def _prune(x: np.ndarray, y: np.ndarray, low: np.ndarray, high: np.ndarray,
           tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Drop each cut (one end of one parameter) that costs at most ``tolerance`` of density, the cheapest first."""
    full_lo, full_hi = x.min(axis=0), x.max(axis=0)
    while True:
        density = float(y[_inside(x, low, high)].mean())
        options = []
        for j in range(x.shape[1]):
            for end in ("low", "high"):
                lo, hi = low.copy(), high.copy()
                if end == "low" and low[j] > full_lo[j]:
                    lo[j] = full_lo[j]
                elif end == "high" and high[j] < full_hi[j]:
                    hi[j] = full_hi[j]
                else:
                    continue
                options.append((density - float(y[_inside(x, lo, hi)].mean()), j, end == "high", lo, hi))
        options = [o for o in options if o[0] <= tolerance]
        if not options:
            return low, high
        _, _, _, low, high = min(options, key=lambda o: o[:3])


def find_box(x: np.ndarray, y: np.ndarray, names: Sequence[str], *, alpha: float = 0.05,
             min_mass: float = 0.05, min_density: float = 0.8, min_coverage: float = 0.5,
             tolerance: float = 0.02) -> Box:
    """The PRIM box of the cases ``y`` in the sample ``x`` (see the module's steps 1-4).

    Parameters
    ----------
    x
        (n, d) the sampled parameter values.
    y
        (n,) bool, the cases of interest.
    names
        The d parameter names.
    alpha
        Share of the box's points one peel or paste moves (F&F: 0.05-0.10).
    min_mass
        Peeling stops before the box holds less than this share of the sample.
    min_density
        The chosen box is, of those at least this dense, the one of largest coverage x density ...
    min_coverage
        ... or, when none is, the densest whose coverage is at least this.
    tolerance
        A restriction whose removal lowers the density by at most this is dropped.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.uniform(size=(400, 3))
    >>> box = find_box(x, (x[:, 0] > 0.6) & (x[:, 2] < 0.5), ["a", "b", "c"])
    >>> box.restricted, round(box.density, 1), round(box.coverage, 1)
    (('a', 'c'), 1.0, 1.0)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=bool)
    if x.ndim != 2 or len(x) != len(y) or x.shape[1] != len(names):
        raise ValueError("x must be (n, d) with n = len(y) and d = len(names)")
    trajectory = peel_trajectory(x, y, alpha, min_mass)
    steps = [dict(zip(("coverage", "density", "mass"), _stats(_inside(x, lo, hi), y), strict=True))
             for lo, hi in trajectory]
    dense = [i for i, s in enumerate(steps) if s["density"] >= min_density]
    if dense:
        chosen = max(dense, key=lambda i: (steps[i]["coverage"] * steps[i]["density"], -i))
    else:
        eligible = [i for i, s in enumerate(steps) if s["coverage"] >= min_coverage] or [0]
        chosen = max(eligible, key=lambda i: (steps[i]["density"], -i))
    low, high = _paste(x, y, *trajectory[chosen], alpha)
    low, high = _prune(x, y, low, high, tolerance)
    coverage, density, mass = _stats(_inside(x, low, high), y)
    full_lo, full_hi = x.min(axis=0), x.max(axis=0)
    restricted = tuple(n for j, n in enumerate(names) if low[j] > full_lo[j] or high[j] < full_hi[j])
    rounded = [{k: round(v, 6) for k, v in s.items()} for s in steps]
    return Box(tuple(names), low, high, coverage, density, mass, restricted, rounded)


def box_record(box: Box, **extra: Any) -> dict[str, Any]:
    """A box as a JSON-ready dict: ``bounds`` of its restricted parameters, coverage, density, mass."""
    return {**extra, "bounds": {k: [round(v[0], 6), round(v[1], 6)] for k, v in box.bounds().items()},
            "coverage": round(box.coverage, 6), "density": round(box.density, 6), "mass": round(box.mass, 6),
            "restricted": list(box.restricted), "trajectory_steps": len(box.trajectory)}



def _nominal_ends(record: dict[str, Any], x: np.ndarray, names: Sequence[str],
                  nominal: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    """A box's ends that are only the sample's extremes become the parameter's nominal bounds (no cut there)."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    for path, (a, b) in record["bounds"].items():
        j = list(names).index(path)
        na, nb = nominal.get(path, (a, b))
        eps = 1e-6 * max(1.0, abs(float(hi[j] - lo[j])))  # the record is rounded to 6 digits
        record["bounds"][path] = [round(float(na), 6) if a <= lo[j] + eps else a,
                                  round(float(nb), 6) if b >= hi[j] - eps else b]
    return record


def threshold_boxes(x: np.ndarray, y: np.ndarray, names: Sequence[str], threshold: float,
                    nominal: Mapping[str, tuple[float, float]] | None = None, *, leading: Sequence[str] = (),
                    outcome: str = "outcome", **kw: Any) -> list[dict[str, Any]]:
    """PRIM boxes (JSON-ready) where ``y >= threshold`` ("holds") and where ``y < threshold`` ("fails").

    Searched over every parameter, then, when ``leading`` names some, over those alone: a box of the
    two leading parameters reads as a sentence and draws exactly on their plane. ``nominal`` gives
    each parameter's range, so an end that cuts nothing is reported as the range's end. A side with
    no sample (or every sample) has no box and is left out. ``kw`` goes to :func:`find_box`.
    """
    x = np.asarray(x, dtype=float)
    nominal = nominal or {}
    out = []
    spaces = [list(names)] + ([list(leading)] if leading and list(leading) != list(names) else [])
    for space in spaces:
        idx = [list(names).index(n) for n in space]
        for label, cases, op in (("holds", y >= threshold - 1e-12, ">="), ("fails", y < threshold - 1e-12, "<")):
            if not cases.any() or cases.all() or len(y) < 10:
                continue
            box = find_box(x[:, idx], cases, space, **kw)
            rec = box_record(box, outcome=outcome, threshold=threshold, where=f"{outcome} {op} {threshold:g}",
                             claim=label, samples_in_class=int(cases.sum()),
                             searched="all parameters" if space == list(names) else list(space))
            out.append(_nominal_ends(rec, x[:, idx], space, nominal))
    return out
