"""Layer 6, analyses: the shares cut, the claim and its readings, sweeps, route criticality.

They read the exogenous state and runs; none computes snow or moves a convoy itself.
"""

from __future__ import annotations

from .claim import QUANTILES, ClaimShares, claim_shares, claim_verdict, evaluate_claim
from .critical import DEFAULT_REPLICATIONS, close_route, route_criticality
from .metrics import METRICS, capacity_cut_share, connectivity_cut_share, corridor_shares, count_cut_share
from .sweep import DERIVED, apply_param, parse_param, run_sweep

__all__ = ["ClaimShares", "claim_shares", "claim_verdict", "evaluate_claim", "QUANTILES", "route_criticality",
           "close_route", "DEFAULT_REPLICATIONS", "METRICS", "count_cut_share", "capacity_cut_share",
           "connectivity_cut_share", "corridor_shares", "DERIVED", "parse_param", "apply_param", "run_sweep"]
