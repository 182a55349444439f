"""Sensitivity sweeps: the claim over a grid of one or two scenario parameters.

A parameter is a dotted scenario path (``weather.lapse_rate_c_per_km``, ``snow.melt_factor_mm_per_c_day``,
``routes[3].max_elevation_m``) or one of the derived knobs in :data:`DERIVED`:

``climate.warming_c``
    added to every monthly mean temperature (a warmer or colder winter);
``corridor.elevation_shift_m``
    added to the highest point of every route of the claim corridor (higher or lower passes);
``climate.precip_scale``
    multiplies every monthly precipitation total (a wetter or drier climate; storms keep their share);
``climate.storm_rate_scale``
    multiplies every monthly storm onset rate (more or fewer storms).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ScenarioError
from ..network.routes import RouteNetwork
from ..scenario import Scenario
from .claim import evaluate_claim

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["DERIVED", "parse_param", "apply_param", "run_sweep"]


def _warming(scn: Scenario, value: float) -> dict[str, Any]:
    return {"weather.monthly_mean_c": [t + float(value) for t in scn.weather.monthly_mean_c]}


def _precip_scale(scn: Scenario, value: float) -> dict[str, Any]:
    return {"weather.monthly_precip_mm": [p * float(value) for p in scn.weather.monthly_precip_mm]}


def _storm_rate_scale(scn: Scenario, value: float) -> dict[str, Any]:
    return {"weather.storms_per_month": [s * float(value) for s in scn.weather.storms_per_month]}


def _corridor_shift(scn: Scenario, value: float) -> dict[str, Any]:
    net = RouteNetwork.from_scenario(scn)
    mask = net.corridor_mask(scn.claim.corridor)
    return {f"routes[{i}].max_elevation_m": float(net.max_elevation_m[i]) + float(value)
            for i in range(net.n_routes) if mask[i]}


DERIVED: dict[str, Callable[[Scenario, float], dict[str, Any]]] = {
    "climate.warming_c": _warming,
    "corridor.elevation_shift_m": _corridor_shift,
    "climate.precip_scale": _precip_scale,
    "climate.storm_rate_scale": _storm_rate_scale,
}


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_param(spec: str) -> tuple[str, list[Any]]:
    """Parse ``PATH=V1,V2,...`` into the path and its values.

    Examples
    --------
    >>> parse_param("weather.lapse_rate_c_per_km=4.5,5.5,6.5")
    ('weather.lapse_rate_c_per_km', [4.5, 5.5, 6.5])
    """
    path, sep, values = spec.partition("=")
    path = path.strip()
    if not sep or not path or not values.strip():
        raise ScenarioError("--param", None, f"expected PATH=V1,V2,..., got '{spec}'")
    return path, [_value(v.strip()) for v in values.split(",") if v.strip()]


def apply_param(scn: Scenario, path: str, value: Any) -> Scenario:
    """A copy of the scenario with one parameter set (re-validated: bad values raise ScenarioError)."""
    if path in DERIVED:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ScenarioError("--param", path, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ScenarioError("--param", path, f"must be a finite number, got {value!r}")
        return scn.with_updates(DERIVED[path](scn, value))
    try:
        return scn.with_updates({path: value})
    except (KeyError, IndexError, TypeError):
        raise ScenarioError("--param", path, "no such scenario field") from None


def run_sweep(scenario: Scenario, params: Sequence[tuple[str, list[Any]]], replications: int | None = None,
              seed: int | None = None, progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """The claim for every combination of one or two parameters.

    Returns a DataFrame with one column per parameter, then ``claim_probability``,
    ``replications``, ``claim_probability`` with its 95 % Wilson interval (``claim_probability_ci95_low`` /
    ``_high``), ``snow_share_p50`` / ``p05`` / ``p95`` (claim metric), ``total_share_p50`` and ``first_day_p50``.
    """
    import pandas as pd

    if not 1 <= len(params) <= 2:
        raise ScenarioError("--param", None, "give one or two parameters")
    rows = []
    for combo in itertools.product(*[values for _, values in params]):
        scn = scenario
        for (path, _), value in zip(params, combo, strict=True):
            scn = apply_param(scn, path, value)
        v = evaluate_claim(scn, replications, seed)
        m = scn.claim.metric
        rows.append({**{path: value for (path, _), value in zip(params, combo, strict=True)},
                     "replications": v["replications"],
                     "claim_probability": v["claim_probability"],
                     "claim_probability_ci95_low": v["claim_probability_ci95"][0],
                     "claim_probability_ci95_high": v["claim_probability_ci95"][1],
                     "snow_share_p05": v["snow_cut_share"][m]["p05"],
                     "snow_share_p50": v["snow_cut_share"][m]["p50"],
                     "snow_share_p95": v["snow_cut_share"][m]["p95"],
                     "total_share_p50": v["total_cut_share"][m]["p50"],
                     "first_day_p50": v["first_day_at_threshold"]["p50"]})
        if progress is not None:
            progress(1)
    return pd.DataFrame(rows)
