"""``interdict``: what the army would need -- optimal strikes on the claim corridor under snow (Wood's MILP)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import (
    JSON_HELP,
    SCENARIO_HELP,
    SEED_HELP,
    Command,
    json_default,
    load,
    out_folder,
    replications_value,
    seed_value,
)

__all__ = ["register", "cmd_interdict", "format_interdict", "parse_target"]


def register(sub: Any) -> dict[str, Command]:
    """Add ``interdict``."""
    p = sub.add_parser("interdict", help="optimal strikes on the claim corridor under snow: the budget curve")
    p.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    p.add_argument("--budget", default="0,1,2,3,4", metavar="K1,K2,...",
                   help="strikes per day (daily) or in all (plan): a list or a range like 0-4 (default 0,1,2,3,4)")
    p.add_argument("--mode", default="daily", choices=("daily", "plan"),
                   help="daily: the best routes each day; plan: one set of routes for the whole window")
    p.add_argument("--replications", type=replications_value, help="winters to solve (default: the scenario's)")
    p.add_argument("--seed", type=seed_value, help=SEED_HELP)
    p.add_argument("--target", default="1.0", metavar="SHARE",
                   help="cut share that strikes_to_cut_rest asks for, in (0, 1] (default 1.0: the whole corridor)")
    p.add_argument("--assets", action="store_true",
                   help="strikes come from the scenario's assets: each reaches only routes within its range and "
                        "makes at most its strikes_per_day")
    p.add_argument("--routes", metavar="R1,R2,...", help="routes strikes may close (default: the corridor's)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.add_argument("--out", help="folder for interdict.json, budget_curve.png and interdiction_map.png")
    return {"interdict": cmd_interdict}


def parse_target(text: str) -> float:
    """``--target``: a share in (0, 1] (a ScenarioError naming ``--target`` otherwise).

    >>> parse_target("0.9")
    0.9
    """
    from ..errors import ScenarioError

    try:
        value = float(text)
    except ValueError:
        raise ScenarioError("--target", None, f"must be a number in (0, 1], got '{text}'") from None
    if not 0.0 < value <= 1.0:
        raise ScenarioError("--target", None, f"must be in (0, 1], got {text}")
    return value


def format_interdict(r: dict[str, Any]) -> str:
    """The budget curve as a table, then the scenario's own strikes and the fewest strikes to cut the rest."""
    mode = {"daily": "the best routes each day", "plan": "one set of routes for the whole window"}[r["mode"]]
    rnd = r["random_policy"]
    lines = [f"Optimal interdiction of corridor '{r['corridor']}' ({mode}), {r['window_start']} .. {r['window_end']}",
             f"  {r['replications']} replications, seed {r['seed']}, scenario '{r['scenario']}'"
             + ("; strikes from the scenario's assets" if r["assets"] else ""),
             f"  nominal max flow {r['nominal_flow_tpd']:.1f} t/day; the scenario's own strikes leave "
             f"{rnd['residual_flow_tpd']['p50']:.1f} t/day (p50, cut share {rnd['cut_share']['p50']:.2f}), "
             f"closing {rnd['routes_closed_per_day']['p50']:.1f} open routes a day",
             "",
             f"  {'strikes':>7}{'residual t/day':>16}{'p05':>8}{'p95':>8}{'cut share':>11}{'no snow':>9}  routes"]
    open_weather = {c["strikes"]: c["residual_flow_tpd"] for c in r["no_snow_curve"]}  # the same days, no snow
    for c in r["budget_curve"]:
        q, s = c["residual_flow_tpd"], c["cut_share"]
        routes = c["routes"]
        text = (", ".join(routes) if isinstance(routes, list)
                else ", ".join(f"{k} {v:.0%}" for k, v in list(routes.items())[:4]))
        lines.append(f"  {c['strikes']:>7}{q['p50']:>16.1f}{q['p05']:>8.1f}{q['p95']:>8.1f}{s['p50']:>11.2f}"
                     f"{open_weather[c['strikes']]:>9.1f}  {text or '-'}")
    need = r["strikes_to_cut_rest"]
    fmt = {k: ("never" if v is None else str(v)) for k, v in need.items()}
    free = r["no_snow_strikes_to_cut_rest"]
    lines += ["",
              f"  fewest strikes to bring the cut share to {r['target']:.2f}: p05 {fmt['p05']}, p50 {fmt['p50']}, "
              f"p95 {fmt['p95']} (open weather: {'never' if free is None else free}; "
              f"{r['milp_solves']} MILP solves over {r['patterns']} distinct corridor states)"]
    if r["mode"] == "daily":
        lines.append("  routes: share of replication-days each is struck (the four most)")
    return "\n".join(lines)


def cmd_interdict(args: argparse.Namespace) -> int:
    """``interdict``: the budget curve of the claim corridor, targeted strikes against the scenario's own."""
    from ..analysis.interdiction import optimal_interdiction, parse_budgets

    budgets = parse_budgets(args.budget)
    target = parse_target(args.target)
    routes = [x.strip() for x in args.routes.split(",") if x.strip()] if args.routes is not None else None
    scn = load(args.scenario)
    report = optimal_interdiction(scn, budgets, args.mode, args.replications, args.seed, target=target,
                                  assets=args.assets, routes=routes)
    result = report.as_dict()
    written = []
    if args.out:
        written = _write(result, scn, out_folder(args.out))
    if args.json:
        print(json.dumps({**result, "files": [str(p) for p in written]}, default=json_default))
        return 0
    print(format_interdict(result))
    for path in written:
        print(f"wrote {path}")
    return 0


def _write(result: dict[str, Any], scenario: Any, out: Any) -> list[Any]:
    """interdict.json and the two figures into ``out``."""
    from ..io import atomic_write, write_text
    from ..plotting import plot_budget_curve, plot_interdiction_map

    written = [write_text(json.dumps(result, indent=1, default=json_default) + "\n", out / "interdict.json")]
    for name, fig in (("budget_curve.png", plot_budget_curve(result)),
                      ("interdiction_map.png", plot_interdiction_map(result, scenario))):
        def save(tmp: Any, fig: Any = fig) -> None:
            fig.savefig(tmp, dpi=150, format="png")

        written.append(atomic_write(out / name, save))
    return written
