"""``claim``: the 70 percent verdict from the vectorized exogenous state."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import Command, load, positive, progress_bar, seed_value

__all__ = ["register", "cmd_claim", "format_claim"]


def register(sub: Any) -> dict[str, Command]:
    """Add ``claim``."""
    claim = sub.add_parser("claim", help="the 70 percent verdict: share of a corridor cut by snow")
    claim.add_argument("scenario", nargs="?")
    claim.add_argument("--replications", type=positive)
    claim.add_argument("--seed", type=seed_value)
    claim.add_argument("--json", action="store_true")
    return {"claim": cmd_claim}


def format_claim(v: dict[str, Any]) -> str:
    """The claim verdict as a readable table."""
    p = v["first_day_at_threshold"]
    lines = [f"Claim: snow cuts at least {v['threshold']:.0%} of the '{v['corridor']}' corridor "
             f"({v['metric']} share) on at least half the days of {v['window_start']} .. {v['window_end']}",
             f"  {v['replications']} replications, seed {v['seed']}, scenario '{v['scenario']}'",
             "",
             f"  {'share of corridor cut (window mean)':<50}{'p05':>8}{'p50':>8}{'p95':>8}"]
    for key, label in (("snow_cut_share", "by snow"), ("interdiction_cut_share", "by interdiction (snow left open)"),
                       ("total_cut_share", "by snow and interdiction")):
        for metric, q in v[key].items():
            lines.append(f"  {label + ', ' + metric:<50}{q['p05']:>8.2f}{q['p50']:>8.2f}{q['p95']:>8.2f}")
    lines += ["",
              f"  {'P(claim holds)':<50}{v['claim_probability']:.2f}",
              f"  {'P(snow and army together reach it)':<50}{v['total_claim_probability']:.2f}",
              f"  {'first day snow reaches the threshold':<50}p05 {p['p05'] or 'never'}, p50 {p['p50'] or 'never'}, "
              f"p95 {p['p95'] or 'never'}"]
    return "\n".join(lines)


def cmd_claim(args: argparse.Namespace) -> int:
    """``claim``: the 70 percent verdict from the vectorized exogenous state."""
    from ..analysis.claim import claim_shares, claim_verdict

    scn = load(args.scenario)
    n = args.replications or scn.scenario.replications
    with progress_bar(n, not args.json) as bar:
        shares = claim_shares(scn, n, args.seed, progress=bar.update)
    verdict = claim_verdict(shares)
    print(json.dumps(verdict) if args.json else format_claim(verdict))
    return 0
