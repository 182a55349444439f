"""``explore``: global sensitivity of the claim to the estimated parameters, and where it holds (PRIM boxes)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import Terminated
from .common import (
    BACKEND_HELP,
    EXIT_TERMINATED,
    WORKERS_HELP,
    Command,
    LazyChoices,
    json_default,
    load,
    positive,
    progress_bar,
    replications_value,
    seed_value,
    workers_value,
)

__all__ = ["register", "cmd_explore", "format_explore", "box_words"]


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got '{text}'") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value:g}")
    return value


def register(sub: Any) -> dict[str, Command]:
    """Add ``explore``."""
    ex = sub.add_parser("explore", help="global sensitivity of the claim and where it holds (Sobol', Morris, "
                                        "LHS; PRIM boxes)")
    ex.add_argument("scenario", nargs="?", help="scenario TOML (default: the bundled Qalamoun winter 2013-14)")
    ex.add_argument("--ranges", metavar="FILE", help="TOML with an [explore] section: parameters and ranges "
                                                     "overriding the defaults (docs/guides.md)")
    # the choices are analysis.explore's, read when explore parses (registering imports no analysis)
    ex.add_argument("--method", default="sobol", help="sampling and indices (default sobol)").choices = \
        LazyChoices("qalamoun_sim.analysis.explore", "METHODS")
    ex.add_argument("--samples", type=positive, help="sobol: base points, a power of two (default 64); morris: "
                                                     "trajectories (20); lhs: points (256)")
    ex.add_argument("--replications", type=replications_value, help="winters per sample, the same seeds for every sample "
                                                          "(default: the scenario's)")
    ex.add_argument("--seed", type=seed_value, help="default: the scenario's")
    ex.add_argument("--outcome", default="claim_probability",
                    help="the figure the indices and boxes read (default claim_probability)").choices = \
        LazyChoices("qalamoun_sim.analysis.explore", "OUTCOMES")
    ex.add_argument("--threshold", type=_fraction, default=0.5,
                    help="PRIM: the claim holds in a sample when the outcome reaches this (default 0.5)")
    ex.add_argument("--delta", action="store_true", help="add the delta indices to a sobol or morris sample "
                                                         "(always computed for lhs)")
    ex.add_argument("--backend", choices=("serial", "processes", "dask"), default="serial", help=BACKEND_HELP)
    ex.add_argument("--workers", type=workers_value, default=None, help=WORKERS_HELP)
    ex.add_argument("--scheduler", help="address of an existing dask scheduler")
    ex.add_argument("--out", help="folder: one row per sample as it finishes, rows.csv, result.json, figures")
    ex.add_argument("--resume", action="store_true", help="finish the exploration in --out")
    ex.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return {"explore": cmd_explore}


def _at(value: float) -> str:
    return f"{value:.3g}"


def box_words(box: dict[str, Any], parameters: list[dict[str, Any]]) -> str:
    """A PRIM box in words: ``climate.warming_c <= 0.31 and corridor.elevation_shift_m >= -42``."""
    full = {p["path"]: (p["low"], p["high"]) for p in parameters}
    parts = []
    for path, (lo, hi) in box["bounds"].items():
        flo, fhi = full.get(path, (lo, hi))
        low_cut, high_cut = lo > flo + 1e-9, hi < fhi - 1e-9
        if low_cut and high_cut:
            parts.append(f"{_at(lo)} <= {path} <= {_at(hi)}")
        elif low_cut:
            parts.append(f"{path} >= {_at(lo)}")
        elif high_cut:
            parts.append(f"{path} <= {_at(hi)}")
    return " and ".join(parts) or "anywhere in the ranges"


def _index_columns(method: str, sens: dict[str, dict[str, Any]]) -> list[tuple[str, str | None]]:
    keys = {k for s in sens.values() for k in s}
    by_method: dict[str, list[tuple[str, str | None]]] = {
        "sobol": [("S1", "S1_conf"), ("ST", "ST_conf")], "morris": [("mu_star", "mu_star_conf"), ("sigma", None)],
        "lhs": [("S1", "S1_conf")]}
    cols = by_method[method]
    return [c for c in [*cols, ("delta", "delta_conf")] if c[0] in keys]


def _cell(value: Any, conf: Any) -> str:
    if value is None:
        return f"{'-':>16}"
    return f"{value:>8.3f} +-{conf:<5.3f}" if conf is not None else f"{value:>8.3f}{'':>8}"


def format_explore(doc: dict[str, Any]) -> str:
    """The exploration as text: settings, indices (most influential first) and the boxes in words."""
    cols = _index_columns(doc["method"], doc["sensitivity"])
    lines = [f"Explore '{doc['scenario']}': {doc['method']}, {doc['samples']} samples ({doc['evaluations']} "
             f"evaluations) x {doc['replications']} replications, seed {doc['seed']} (the same seeds for every sample)",
             f"  outcome: {doc['outcome']} ({doc['outcomes'][doc['outcome']]})", "",
             f"  {'parameter':<38}{'range':>18}" + "".join(f"{c[0]:>16}" for c in cols)]
    for path in doc["ranking"]:
        p = next(q for q in doc["parameters"] if q["path"] == path)
        s = doc["sensitivity"].get(path, {})
        lines.append(f"  {path:<38}{_at(p['low']) + ' .. ' + _at(p['high']):>18}"
                     + "".join(_cell(s.get(v), s.get(c) if c else None) for v, c in cols))
    lines.append("")
    for box in doc["boxes"]:
        over = "every parameter" if box["searched"] == "all parameters" else " and ".join(box["searched"])
        lines.append(f"  The claim {box['claim']} ({box['where']}, {box['samples_in_class']} of {doc['evaluations']} "
                     f"samples) in the box over {over}: {box_words(box, doc['parameters'])}")
        lines.append(f"    density {box['density']:.2f} (share of the box's samples where it {box['claim']}), "
                     f"coverage {box['coverage']:.2f} (share of those samples inside), mass {box['mass']:.2f}")
    if not doc["boxes"]:
        lines.append(f"  No PRIM box: every sample is on one side of {doc['outcome']} = {doc['threshold']:g}")
    return "\n".join(lines)


def _figures(result: Any, out: Any) -> list[Any]:
    from ..io import atomic_write
    from ..plotting import plot_explore_pairs, plot_sensitivity

    written = []
    for name, fig in (("sensitivity.png", plot_sensitivity(result)), ("explore_pairs.png", plot_explore_pairs(result))):
        def save(tmp: Any, f: Any = fig) -> None:
            f.savefig(tmp, dpi=150, format="png")

        written.append(atomic_write(out / name, save))
    return written


def cmd_explore(args: argparse.Namespace) -> int:
    """``explore``: sample the parameters, evaluate the claim at each, print indices and boxes."""
    from pathlib import Path

    from ..analysis.explore import DEFAULT_SAMPLES, n_evaluations, run_explore
    from ..analysis.explore_ranges import load_ranges

    scn = load(args.scenario)
    params = load_ranges(args.ranges, scn)
    samples = args.samples or DEFAULT_SAMPLES[args.method]
    total = n_evaluations(args.method, samples, len(params))
    try:
        with progress_bar(total, not args.json, unit="sample") as bar:
            result = run_explore(scn, params, method=args.method, samples=samples, replications=args.replications,
                                 seed=args.seed, outcome=args.outcome, threshold=args.threshold,
                                 delta=True if args.delta else None, backend=args.backend, workers=args.workers,
                                 scheduler=args.scheduler, out=args.out, resume=args.resume, progress=bar.update)
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        kept = f"; finished samples kept in {args.out}, rerun with --resume" if args.out else ""
        sys.stderr.write(f"qalamoun-sim: {how}{kept}\n")
        return EXIT_TERMINATED if isinstance(exc, Terminated) else 130
    written = _figures(result, Path(args.out)) if args.out else []
    doc = result.to_json(rows=str(Path(args.out) / "rows.csv") if args.out else None)
    if args.json:
        print(json.dumps({**doc, "files": [str(p) for p in written]}, default=json_default))
        return 0
    print(format_explore(doc))
    if args.out:
        print(f"\nRows in {Path(args.out) / 'rows.csv'} (one file per sample in {Path(args.out) / 'rows'}), "
              f"result.json")
    for path in written:
        print(f"wrote {path}")
    return 0
