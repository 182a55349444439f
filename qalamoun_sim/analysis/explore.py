"""Where the 70 percent holds: global sensitivity of the claim and the boxes where it holds or fails.

:func:`run_explore` samples the estimated parameters (:mod:`.explore_ranges`) with SALib -- a
Saltelli/Sobol' sequence (``sobol``), Morris trajectories (``morris``) or a Latin hypercube
(``lhs``) -- evaluates the claim at every sample, and reads the sample three ways:

* **indices** from SALib: Sobol' ``S1``, ``ST`` with their bootstrap intervals, Morris ``mu_star``
  (with its interval), ``mu`` and ``sigma``; for ``lhs`` a binned ``S1`` and the moment-independent
  ``delta`` (Plischke et al. 2013), which ``delta=True`` adds to the other two (:func:`sensitivity`);
* **boxes** by PRIM (:mod:`.prim`): where the outcome reaches a threshold (the claim holds in most
  winters) and where it does not (the claim fails), over every parameter and over the two leading
  ones, each with coverage, density and mass;
* **rows**: the sample itself, one row per sample with every outcome.

Every sample uses the same replication seeds (common random numbers: replication k of every sample
draws from the k-th child of the one ``SeedSequence``), so differences between samples come from the
parameters, not from the dice. Samples run in chunks on the ensemble backends (serial, processes,
dask) through their ``task`` hook; a row depends only on the scenario, its parameter values, the
replications and the seed, so rows are identical on every backend and worker count. With ``out``
the rows are written as they come (:mod:`.explore_folder`), and ``resume`` finishes an interrupted
exploration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ScenarioError
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from .claim import claim_shares, claim_verdict, window_mask
from .explore_ranges import Parameter
from .prim import threshold_boxes
from .sweep import DERIVED, apply_param

__all__ = ["METHODS", "OUTCOMES", "DEFAULT_SAMPLES", "Exploration", "SampleTask", "design", "values", "with_values", "evaluate_sample",
           "check_samples", "n_evaluations", "index_convergence",
           "sensitivity", "rank_parameters", "run_explore"]

METHODS: tuple[str, ...] = ("sobol", "morris", "lhs")
#: ``--samples`` by method: base points (Sobol', a power of two), trajectories (Morris), points (LHS).
DEFAULT_SAMPLES: dict[str, int] = {"sobol": 64, "morris": 20, "lhs": 256}
#: The outcomes every row carries, and what each is (``outcome`` chooses the one indices and boxes read).
OUTCOMES: dict[str, str] = {
    "claim_probability": "P(claim): snow alone cuts the threshold on enough window days (the primary reading)",
    "total_claim_probability": "P(claim) for snow and interdiction together",
    "snow_share_p50": "median over winters of the window's mean share cut by snow (primary metric)",
    "snow_share_p05": "5th percentile of the same",
    "snow_share_p95": "95th percentile of the same",
    "total_share_p50": "median window mean share cut by snow and interdiction",
    "days_at_threshold_p50": "median share of the window's days on which snow alone reaches the threshold",
}
_CI = ("claim_probability_ci95_low", "claim_probability_ci95_high")
_MORRIS_LEVELS = 4


def _problem(parameters: Sequence[Parameter]) -> dict[str, Any]:
    """SALib's problem: integer parameters sampled on [low - 0.5, high + 0.5) so each value is equally likely."""
    bounds = [[p.low - 0.5, p.high + 0.5 - 1e-9] if p.integer else [p.low, p.high] for p in parameters]
    return {"num_vars": len(parameters), "names": [p.path for p in parameters], "bounds": bounds}


def _subseed(seed: int, stream: int) -> int:
    """A derived, never-zero seed (SALib treats a seed of 0 as none)."""
    return int(np.random.SeedSequence([int(seed), stream]).generate_state(1)[0]) | 1


def check_samples(method: str, samples: int) -> None:
    """Refuse an unknown method or a sample size it cannot use (``--samples``), as a ScenarioError."""
    if method not in METHODS:
        raise ScenarioError("--method", None, f"must be one of {', '.join(METHODS)}, got '{method}'")
    least = {"sobol": 2, "morris": 2, "lhs": 4}[method]
    if samples < least:
        raise ScenarioError("--samples", None, f"{method} needs at least {least}, got {samples}")
    if method == "sobol" and samples & (samples - 1):
        raise ScenarioError("--samples", None, f"sobol needs a power of two (Sobol' sequence balance), got "
                                               f"{samples}; try {1 << (samples - 1).bit_length()}")


def n_evaluations(method: str, samples: int, n_parameters: int) -> int:
    """How many samples (scenarios to evaluate) a design has.

    >>> n_evaluations("sobol", 64, 16), n_evaluations("morris", 20, 16), n_evaluations("lhs", 256, 16)
    (1152, 340, 256)
    """
    return samples * {"sobol": n_parameters + 2, "morris": n_parameters + 1}.get(method, 1)


def design(method: str, parameters: Sequence[Parameter], samples: int, seed: int) -> np.ndarray:
    """The sample matrix (n, d) in SALib's order: ``samples x (d + 2)`` rows for Sobol', ``x (d + 1)``
    for Morris, ``samples`` for LHS. Integer parameters are still continuous here (see :func:`values`)."""
    from SALib.sample import latin, morris, sobol

    check_samples(method, samples)
    problem = _problem(parameters)
    if method == "sobol":
        return np.asarray(sobol.sample(problem, samples, calc_second_order=False, scramble=True,
                                       seed=_subseed(seed, 1)))
    if method == "morris":
        return np.asarray(morris.sample(problem, samples, num_levels=_MORRIS_LEVELS, seed=_subseed(seed, 2)))
    return np.asarray(latin.sample(problem, samples, seed=_subseed(seed, 3)))


def values(parameters: Sequence[Parameter], x: np.ndarray) -> np.ndarray:
    """The values applied to the scenario: ``x`` with integer parameters rounded (object array of Python numbers)."""
    out = np.empty(x.shape, dtype=object)
    for j, p in enumerate(parameters):
        out[:, j] = [int(np.clip(round(v), p.low, p.high)) if p.integer else float(v) for v in x[:, j]]
    return out


def with_values(scenario: Scenario, paths: Sequence[str], point: Sequence[Any]) -> Scenario:
    """The scenario with every parameter set, validated once (one by one when two parameters share a field)."""
    updates: dict[str, Any] = {}
    for path, value in zip(paths, point, strict=True):
        more = DERIVED[path](scenario, value) if path in DERIVED else {path: value}
        if updates.keys() & more.keys():
            break
        updates.update(more)
    else:
        return scenario.with_updates(updates)
    scn = scenario
    for path, value in zip(paths, point, strict=True):
        scn = apply_param(scn, path, value)
    return scn


def evaluate_sample(scenario: Scenario, paths: Sequence[str], point: Sequence[Any], replications: int,
                    seed: int, memos: RouteNetwork | None = None) -> dict[str, float]:
    """Every outcome of :data:`OUTCOMES` (and P(claim)'s Wilson interval) for one sample of parameter values.

    ``memos``: a network whose max-flow memos and corridor cuts the sample's network may share
    (:meth:`~qalamoun_sim.network.routes.RouteNetwork.share_flow_memos`; the figures are the same).
    """
    scn = with_values(scenario, paths, point)
    net = RouteNetwork.from_scenario(scn)
    if memos is not None:
        net.share_flow_memos(memos)
    v = claim_verdict(claim_shares(scn, replications, seed, network=net))
    m = scn.claim.metric
    snow, total = v["snow_cut_share"][m], v["total_cut_share"][m]
    return {"claim_probability": v["claim_probability"],
            _CI[0]: v["claim_probability_ci95"][0], _CI[1]: v["claim_probability_ci95"][1],
            "total_claim_probability": v["total_claim_probability"],
            "snow_share_p05": snow["p05"], "snow_share_p50": snow["p50"], "snow_share_p95": snow["p95"],
            "total_share_p50": total["p50"],
            "days_at_threshold_p50": v["fraction_of_window_days_at_threshold"]["p50"]}


@dataclass(frozen=True)
class SampleTask:
    """A backend task: evaluate samples ``start .. stop - 1`` of a design (picklable, for workers)."""

    paths: tuple[str, ...]
    points: tuple[tuple[Any, ...], ...]
    replications: int

    def __call__(self, scenario: Scenario, seed: int, start: int, stop: int) -> dict[str, Any]:
        rows = []
        memos = RouteNetwork.from_scenario(scenario)  # shared by the chunk's samples of the same arcs
        for i in range(start, stop):
            try:
                rows.append({"sample": i, **evaluate_sample(scenario, self.paths, self.points[i],
                                                            self.replications, seed, memos)})
            except ScenarioError as exc:
                raise ScenarioError(f"explore sample {i}", exc.field, exc.message) from None
        return {"rows": rows}


def _clean(value: Any) -> Any:
    """Rounded to 6 digits; NaN and infinities (an index of a constant outcome) as None."""
    f = float(value)
    return round(f, 6) if math.isfinite(f) else None


def sensitivity(method: str, parameters: Sequence[Parameter], x: np.ndarray, y: np.ndarray, seed: int,
                delta: bool | None = None) -> dict[str, dict[str, Any]]:
    """Indices per parameter from SALib: Sobol' or Morris by ``method``; ``delta`` from any sample.

    ``sobol``: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (Saltelli 2010, Jansen); ``morris``: ``mu_star``,
    ``mu_star_conf``, ``mu``, ``sigma``; ``lhs``: ``S1``, ``S1_conf`` (binned, from the given data) and
    the moment-independent ``delta``, ``delta_conf`` (Plischke et al. 2013). ``delta`` adds the latter
    to a Sobol' or Morris sample too (None: for ``lhs`` only; it costs about 10 s per 400 x 16 sample).
    A constant outcome has no variance to share out: its variance-based indices are None (Morris
    gives zeros, the truth of a flat response). SALib's notices are kept off stdout.
    """
    import contextlib
    import io
    import warnings

    from SALib.analyze import delta as delta_mod
    from SALib.analyze import morris, sobol

    problem = _problem(parameters)
    out: dict[str, dict[str, Any]] = {p.path: {} for p in parameters}
    flat = bool(np.ptp(y) == 0)
    want_delta = (method == "lhs") if delta is None else delta
    fmt = warnings.formatwarning  # SALib's delta replaces it
    sink = io.StringIO()
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        try:
            if method == "sobol" and not flat:
                res = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=_subseed(seed, 4))
                _merge(out, parameters, {k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")})
            elif method == "morris":
                res = morris.analyze(problem, x, y, num_levels=_MORRIS_LEVELS, conf_level=0.95,
                                     seed=_subseed(seed, 5))
                _merge(out, parameters, {k: res[k] for k in ("mu_star", "mu_star_conf", "mu", "sigma")})
            elif method == "lhs" and not flat:
                res = delta_mod.analyze(problem, x, y, conf_level=0.95, seed=_subseed(seed, 6), method="sobol")
                _merge(out, parameters, {"S1": res["S1"], "S1_conf": res["S1_conf"]})
            if want_delta and not flat and len(y) >= 20:
                res = delta_mod.analyze(problem, x, y, conf_level=0.95, num_resamples=20, seed=_subseed(seed, 7),
                                        method="delta")
                _merge(out, parameters, {"delta": res["delta_raw"], "delta_conf": res["delta_raw_conf"]})
        finally:
            warnings.formatwarning = fmt
    return out


def index_convergence(result: Exploration, smallest: int = 4) -> Any:
    """Sobol' indices of the leading prefixes of a Sobol' design: N = smallest, 2 x smallest, ... up to its N.

    A Saltelli design of N base points is N blocks of (parameters + 2) rows, and the first n blocks of
    a Sobol' sequence are the design of n points, so one exploration shows how its indices settle.
    Returns a DataFrame: ``samples``, ``path``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    import pandas as pd

    if result.meta["method"] != "sobol":
        raise ValueError("index convergence needs a sobol exploration")
    d = len(result.parameters)
    y = result.rows[result.meta["outcome"]].to_numpy(dtype=float)
    x = np.zeros((len(y), d))  # Sobol' analysis reads y alone
    records = []
    n = smallest
    while n <= result.meta["samples"]:
        part = n * (d + 2)
        sens = sensitivity("sobol", result.parameters, x[:part], y[:part], result.meta["seed"], delta=False)
        records += [{"samples": n, "path": p, **sens[p]} for p in sens]
        n *= 2
    return pd.DataFrame.from_records(records)


def _merge(out: dict[str, dict[str, Any]], parameters: Sequence[Parameter], res: dict[str, Any]) -> None:
    for k, arr in res.items():
        for p, v in zip(parameters, np.asarray(arr, dtype=float), strict=True):
            out[p.path][k] = _clean(v)


def rank_parameters(parameters: Sequence[Parameter], sens: dict[str, dict[str, Any]]) -> list[str]:
    """Parameter paths, most influential first (by ``ST``, else ``mu_star``, else ``delta``; ties by name)."""
    def score(path: str) -> float:
        s = sens.get(path, {})
        for k in ("ST", "mu_star", "delta"):
            if s.get(k) is not None:
                return float(s[k])
        return -1.0
    return sorted((p.path for p in parameters), key=lambda p: (-score(p), p))


@dataclass
class Exploration:
    """The result of :func:`run_explore`: settings, parameters, the row table, indices and boxes."""

    meta: dict[str, Any]
    parameters: list[Parameter]
    rows: Any  # a pandas DataFrame: sample, one column per parameter (applied values), every outcome
    sensitivity: dict[str, dict[str, Any]]
    boxes: list[dict[str, Any]]

    def ranking(self) -> list[str]:
        """Parameter paths, most influential first (:func:`rank_parameters`)."""
        return rank_parameters(self.parameters, self.sensitivity)

    def to_json(self, rows: Any = None) -> dict[str, Any]:
        """The JSON document of ``explore --json``; ``rows`` replaces the row table (a path, with ``--out``)."""
        from ..ensemble.folder import json_records

        table = json_records(self.rows.set_index("sample")) if rows is None else rows
        return {**self.meta, "parameters": [p.record() for p in self.parameters],
                "ranking": self.ranking(), "sensitivity": self.sensitivity, "boxes": self.boxes, "rows": table}


def _chunk_size(n: int, workers: int) -> int:
    return max(1, min(8, math.ceil(n / (8 * max(1, workers)))))


def _check_claim(scenario: Scenario) -> None:
    """The claim must be computable on the scenario: its corridor has routes, its window simulated days."""
    net = RouteNetwork.from_scenario(scenario)
    corridor = scenario.claim.corridor
    if not net.corridor_mask(corridor).any():
        have = ", ".join(net.corridors()) or "none"
        raise ScenarioError(scenario.source_path or "<dict>", "claim.corridor",
                            f"no route is labelled '{corridor}' (corridors: {have})")
    if not window_mask(scenario, scenario.dates).any():
        ws, we = scenario.claim_window()
        raise ScenarioError(scenario.source_path or "<dict>", "claim.window_start",
                            f"the window {ws} .. {we} holds no simulated day")


def run_explore(scenario: Scenario, parameters: Sequence[Parameter], *, method: str = "sobol",
                samples: int | None = None, replications: int | None = None, seed: int | None = None,
                outcome: str = "claim_probability", threshold: float = 0.5, delta: bool | None = None,
                backend: str = "serial",
                workers: int | None = None, scheduler: str | None = None, out: str | None = None,
                resume: bool = False, progress: Callable[[int], None] | None = None) -> Exploration:
    """Sample ``parameters``, evaluate the claim at every sample, and read indices and boxes from the rows.

    ``progress(k)`` is called as ``k`` more samples finish. With ``out`` each row is written to the
    folder as it arrives and ``resume`` finishes an interrupted run of the same settings.

    Raises
    ------
    ScenarioError
        An unknown method or outcome, a sample size the method cannot use, fewer than two parameters.
    ResultsError
        An ``out`` folder in use, not empty (without ``resume``), or made with other settings.
    """
    from .explore_folder import ExploreFolder, evaluate_rows

    if outcome not in OUTCOMES:
        raise ScenarioError("--outcome", None, f"must be one of {', '.join(OUTCOMES)}, got '{outcome}'")
    if len(parameters) < 2:
        raise ScenarioError("--ranges", None, f"explore needs at least two parameters, got {len(parameters)}")
    if resume and not out:
        raise ScenarioError("--resume", None, "needs --out (the folder to resume)")
    samples = DEFAULT_SAMPLES.get(method, 0) if samples is None else samples
    check_samples(method, samples)
    _check_claim(scenario)
    reps = replications or scenario.scenario.replications
    seed = scenario.scenario.seed if seed is None else int(seed)
    params = list(parameters)
    x = design(method, params, samples, seed)
    applied = values(params, x)
    meta = {"scenario": scenario.scenario.name, "seed": seed, "method": method, "samples": samples,
            "evaluations": len(x), "replications": reps, "outcome": outcome, "threshold": threshold,
            "metric": scenario.claim.metric, "claim_threshold": scenario.claim.threshold, "outcomes": OUTCOMES}
    task = SampleTask(tuple(p.path for p in params), tuple(tuple(r) for r in applied), reps)
    w = workers or (1 if backend == "serial" else 2)
    size = _chunk_size(len(x), w)
    folder = ExploreFolder(out, scenario, meta, params, task.points, size, resume) if out else None
    try:
        rows = evaluate_rows(scenario, seed, task, size, backend=backend, workers=w, scheduler=scheduler,
                             folder=folder, progress=progress)
        y = rows[outcome].to_numpy(dtype=float)
        sens = sensitivity(method, params, x, y, seed, delta)
        nominal = {p.path: (float(p.low), float(p.high)) for p in params}
        boxes = threshold_boxes(np.asarray(applied, dtype=float), y, [p.path for p in params], threshold,
                                nominal, leading=rank_parameters(params, sens)[:2], outcome=outcome)
        result = Exploration(meta, params, rows, sens, boxes)
        if folder is not None:
            folder.finish(rows, result.to_json(rows="rows.csv"))
    finally:
        if folder is not None:
            folder.release()
    return result
