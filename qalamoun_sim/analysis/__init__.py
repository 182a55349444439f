"""Layer 6, analyses: the shares cut, the claim and its readings, sweeps, explorations, route criticality,
optimal interdiction.

They read the exogenous state and runs; none computes snow or moves a convoy itself. Names are
imported on first use, so ``analysis.claim`` does not load SimPy or pandas through ``analysis.critical``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    from .claim import (
        QUANTILES,
        ClaimShares,
        claim_holds,
        claim_shares,
        claim_verdict,
        evaluate_claim,
        window_mask,
    )
    from .critical import DEFAULT_REPLICATIONS, close_route, route_criticality
    from .explore import Exploration, run_explore
    from .explore_ranges import Parameter, default_parameters, load_ranges
    from .interdiction import InterdictionReport, optimal_interdiction
    from .metrics import METRICS, capacity_cut_share, connectivity_cut_share, corridor_shares, count_cut_share
    from .sweep import DERIVED, apply_param, parse_param, run_sweep

__all__ = ["ClaimShares", "claim_shares", "claim_verdict", "evaluate_claim", "window_mask", "claim_holds", "QUANTILES",
           "route_criticality", "close_route", "DEFAULT_REPLICATIONS", "METRICS", "count_cut_share",
           "capacity_cut_share", "connectivity_cut_share", "corridor_shares", "DERIVED", "parse_param", "apply_param",
           "run_sweep", "Exploration", "run_explore", "Parameter", "default_parameters", "load_ranges",
           "InterdictionReport", "optimal_interdiction"]

_MODULES = {"claim": ["ClaimShares", "claim_shares", "claim_verdict", "evaluate_claim", "window_mask", "claim_holds",
                      "QUANTILES"],
            "critical": ["route_criticality", "close_route", "DEFAULT_REPLICATIONS"],
            "metrics": ["METRICS", "count_cut_share", "capacity_cut_share", "connectivity_cut_share", "corridor_shares"],
            "sweep": ["DERIVED", "parse_param", "apply_param", "run_sweep"],
            "explore": ["Exploration", "run_explore"],
            "explore_ranges": ["Parameter", "default_parameters", "load_ranges"],
            "interdiction": ["InterdictionReport", "optimal_interdiction"]}
__getattr__, __dir__ = lazy_exports(__name__, {n: m for m, ns in _MODULES.items() for n in ns}, globals())
