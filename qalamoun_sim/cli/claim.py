"""``claim``: the 70 percent verdict from the vectorized exogenous state."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import (
    JSON_HELP,
    SCENARIO_HELP,
    SEED_HELP,
    Command,
    load,
    progress_bar,
    replications_value,
    seed_value,
)

__all__ = ["register", "cmd_claim", "format_claim", "verdict_lines"]


def register(sub: Any) -> dict[str, Command]:
    """Add ``claim``."""
    claim = sub.add_parser("claim", help="the 70 percent verdict: share of a corridor cut by snow",
                           description="The claim's verdict from the exogenous state alone (weather, snow, "
                                       "closures, strikes; no convoys): the share of the claim corridor cut by "
                                       "snow and by interdiction, P(claim) with its 95 %% interval, every reading.")
    claim.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    claim.add_argument("--replications", type=replications_value, help="winters to draw (default: the scenario's)")
    claim.add_argument("--seed", type=seed_value, help=SEED_HELP)
    claim.add_argument("--json", action="store_true", help=JSON_HELP)
    return {"claim": cmd_claim}


def format_claim(v: dict[str, Any]) -> str:
    """The claim verdict as a readable table: the primary reading, the shares, then every reading."""
    p = v["first_day_at_threshold"]
    lo, hi = v["claim_probability_ci95"]
    lines = [f"Claim: snow cuts at least {v['threshold']:.0%} of the '{v['corridor']}' corridor "
             f"({v['metric']} share) on at least half the days of {v['window_start']} .. {v['window_end']}",
             f"  {v['replications']} replications, seed {v['seed']}, scenario '{v['scenario']}'",
             "",
             f"  {'share of corridor cut (window mean)':<50}{'p05':>8}{'p50':>8}{'p95':>8}"]
    for key, label in (("snow_cut_share", "by snow"), ("interdiction_cut_share", "by interdiction (snow left open)"),
                       ("total_cut_share", "by snow and interdiction")):
        for metric, q in v[key].items():
            lines.append(f"  {label + ', ' + metric:<50}{q['p05']:>8.2f}{q['p50']:>8.2f}{q['p95']:>8.2f}")
    tlo, thi = v["total_claim_probability_ci95"]
    need = v["replications_for_ci_halfwidth"]
    lines += ["",
              f"  {'P(claim holds)':<50}{v['claim_probability']:.2f}  (95 % CI {lo:.2f} - {hi:.2f}; "
              f"+-{need['halfwidth']:.2f} needs {need['replications']} replications)",
              f"  {'P(snow and army together reach it)':<50}{v['total_claim_probability']:.2f}  "
              f"(95 % CI {tlo:.2f} - {thi:.2f})",
              f"  {'first day snow reaches the threshold':<50}p05 {p['p05'] or 'never'}, p50 {p['p50'] or 'never'}, "
              f"p95 {p['p95'] or 'never'}",
              "",
              "  Every reading (P(claim) by snow alone, 95 % Wilson interval; * the primary reading):",
              f"  {'metric':<14}{'rule':<13}{'P':>6}{'95 % CI':>15}  rule"]
    for r in v["readings"]:
        mark = "*" if r["primary"] else " "
        lines.append(f" {mark}{r['metric']:<14}{r['rule']:<13}{r['claim_probability']:>6.2f}"
                     f"{r['ci95'][0]:>9.2f} - {r['ci95'][1]:.2f}  {r['description']}")
    return "\n".join(lines)


def verdict_lines(v: dict[str, Any]) -> str:
    """The verdict in two lines (what ``run`` prints after the network report)."""
    lo, hi = v["claim_probability_ci95"]
    first = v["first_day_at_threshold"]["p50"] or "never (median winter)"
    return (f"Verdict: snow alone cuts at least {v['threshold']:.0%} of the '{v['corridor']}' supply "
            f"({v['metric']}, {v['rule']}) in {v['claim_probability']:.0%} of {v['replications']} winters "
            f"(95 % CI {lo:.0%} - {hi:.0%}) over {v['window_start']} .. {v['window_end']};\n"
            f"  median first day at the threshold: {first}; with the army's strikes: "
            f"{v['total_claim_probability']:.0%}. Every reading: qalamoun-sim claim")


def cmd_claim(args: argparse.Namespace) -> int:
    """``claim``: the 70 percent verdict from the vectorized exogenous state."""
    from ..analysis.claim import claim_summary, claim_verdict

    scn = load(args.scenario)
    n = args.replications or scn.scenario.replications
    with progress_bar(n, not args.json) as bar:
        summary = claim_summary(scn, n, args.seed, progress=bar.update)
    verdict = claim_verdict(summary)
    print(json.dumps(verdict) if args.json else format_claim(verdict))
    return 0
