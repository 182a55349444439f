"""``climate``: the climate a scenario produces, beside what it was given, and against the sourced figures."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import Command, json_default, load, progress_bar, replications_value, seed_value

__all__ = ["register", "cmd_climate", "format_climate", "elevation_list"]


def elevation_list(text: str) -> list[float]:
    """An argparse type: comma-separated elevations in metres, each between -500 and 9000.

    >>> elevation_list("700, 1500,2000")
    [700.0, 1500.0, 2000.0]
    """
    values = []
    for part in text.split(","):
        try:
            z = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an elevation in metres: '{part.strip()}'") from None
        if not -500.0 <= z <= 9000.0:
            raise argparse.ArgumentTypeError(f"elevation {z:g} m: must be between -500 and 9000")
        values.append(z)
    if not values:
        raise argparse.ArgumentTypeError("give at least one elevation")
    return values


def register(sub: Any) -> dict[str, Command]:
    """Add ``climate``."""
    climate = sub.add_parser("climate", help="the climate a scenario produces, beside its inputs and its sources")
    climate.add_argument("scenario", nargs="?", help="scenario TOML (default: the bundled Qalamoun winter 2013-14)")
    climate.add_argument("--replications", type=replications_value, help="default: the scenario's")
    climate.add_argument("--seed", type=seed_value, help="default: the scenario's")
    climate.add_argument("--elevations", type=elevation_list, default=[700.0, 1500.0, 2000.0, 2500.0],
                         metavar="Z1,Z2,...", help="elevations (m) to report the snow at (default 700,1500,2000,2500)")
    climate.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return {"climate": cmd_climate}


def _q(q: dict[str, Any]) -> str:
    if q.get("p50") is None:
        return "-"
    return f"{q['p50']:.0f} ({q['p05']:.0f}-{q['p95']:.0f})"


def format_climate(s: dict[str, Any]) -> str:
    """The climate summary as readable tables."""
    from ..analysis.calibration import format_calibration

    m = s["monthly"]
    lines = [f"Climate of '{s['scenario']}': {s['replications']} replications, seed {s['seed']}",
             "", f"  at the reference elevation, {s['reference_elevation_m']:g} m",
             f"  {'month':<10}{'mean degC given':>16}{'simulated':>11}{'precip mm given':>17}{'simulated':>11}"]
    for i, month in enumerate(m["month"]):
        lines.append(f"  {month:<10}{m['mean_c_input'][i]:>16.2f}{m['mean_c_simulated'][i]:>11.2f}"
                     f"{m['precip_mm_input'][i]:>17.1f}{m['precip_mm_simulated'][i]:>11.1f}")
    lines += ["", "  snow by elevation over the horizon, p50 (p05-p95)",
              f"  {'elevation':<11}{'snowfall days':>16}{'snow-cover days':>18}{'peak SWE mm':>16}{'peak depth cm':>16}"]
    for z, e in s["elevations"].items():
        lines.append(f"  {z + ' m':<11}{_q(e['snowfall_days']):>16}{_q(e['snow_cover_days']):>18}"
                     f"{_q(e['peak_swe_mm']):>16}{_q(e['peak_depth_cm']):>16}")
    st = s["storms"]
    line = st["snow_line_m"]
    lines += ["", f"  storms a season: {_q(st['per_season'])}; snow line on storm days p05 {line['p05']:.0f}, "
                  f"p50 {line['p50']:.0f}, p95 {line['p95']:.0f} m; Alexa-size storm in "
                  f"{st['alexa_size_fraction']:.1%} of winters ({st['alexa_size_definition']})",
              "  days a track stays closed after the season's largest snowfall, p50 (p05-p95): "
              + ", ".join(f"{z} m {_q(q)}" for z, q in s["track_reopen_days"].items()),
              f"  ... after a major one (at least {s['major_snowfall_cm']:g} cm): "
              + ", ".join(f"{z} m {_q(q)}" for z, q in s["track_reopen_days_after_major"].items())]
    if "calibration" in s:
        lines += ["", "  against the sources (docs/background.md s.12)", format_calibration(s["calibration"])]
    return "\n".join(lines)


def cmd_climate(args: argparse.Namespace) -> int:
    """``climate``: the climate summary, as a table or one JSON object."""
    from ..analysis.climate import climate_summary

    scn = load(args.scenario)
    n = args.replications or scn.scenario.replications
    with progress_bar(n, not args.json) as bar:
        summary = climate_summary(scn, n, args.seed, args.elevations, progress=bar.update)
    print(json.dumps(summary, default=json_default) if args.json else format_climate(summary))
    return 0
