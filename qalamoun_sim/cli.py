"""The ``qalamoun-sim`` command line: the only module that parses arguments, prints or exits.

Bad input of any kind prints one line on stderr (``file: field: message``) and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .errors import QalamounError, ScenarioError

__all__ = ["main", "build_parser"]

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse with our error contract: one line, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"qalamoun-sim: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer no smaller than ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


_positive = _int_at_least(1)
_seed = _int_at_least(0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from ._version import __version__

    p = _Parser(prog="qalamoun-sim", description="Simulate supply routes under siege by snow and army.")
    p.add_argument("--version", action="version", version=f"qalamoun-sim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="network report, then simulate replications of a scenario")
    run.add_argument("scenario", nargs="?", help="scenario TOML (default: the bundled Qalamoun winter 2013-14)")
    run.add_argument("--replications", type=_positive, help="default: the scenario's")
    run.add_argument("--seed", type=_seed, help="default: the scenario's")
    run.add_argument("--backend", choices=("serial", "processes", "dask"), default="serial")
    run.add_argument("--workers", type=_positive, default=None)
    run.add_argument("--scheduler", help="address of an existing dask scheduler (tcp://host:port)")
    run.add_argument("--out", help="folder for Parquet tables and summary.json")
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    run.add_argument("--resume", action="store_true", help="finish only the missing chunks in --out")
    run.add_argument("--report-only", action="store_true", help="print the network report and stop")

    claim = sub.add_parser("claim", help="the 70 percent verdict: share of a corridor cut by snow")
    claim.add_argument("scenario", nargs="?")
    claim.add_argument("--replications", type=_positive)
    claim.add_argument("--seed", type=_seed)
    claim.add_argument("--json", action="store_true")

    val = sub.add_parser("validate", help="check a scenario file and print a one-line summary")
    val.add_argument("scenario")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    _add_analysis_parsers(sub)
    return p


def _add_analysis_parsers(sub: Any) -> None:
    """Sub-commands ``plot``, ``sweep`` and ``critical``."""
    plot = sub.add_parser("plot", help="write every figure of a results folder as PNG")
    plot.add_argument("results", metavar="RESULTS_DIR", help="folder written by 'run --out'")
    plot.add_argument("--out", help="folder for the figures (default: RESULTS_DIR/figures)")

    sweep = sub.add_parser("sweep", help="the claim over a grid of one or two scenario parameters")
    sweep.add_argument("scenario", help="scenario TOML")
    sweep.add_argument("--param", action="append", required=True, metavar="PATH=V1,V2,...",
                       help="a dotted scenario path (or climate.warming_c, corridor.elevation_shift_m) and its "
                            "values; give it once or twice")
    sweep.add_argument("--replications", type=_positive, help="default: the scenario's")
    sweep.add_argument("--seed", type=_seed, help="default: the scenario's")
    sweep.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sweep.add_argument("--out", help="folder for sweep.csv and sweep.png")

    crit = sub.add_parser("critical", help="rank routes by what losing each one costs")
    crit.add_argument("scenario", nargs="?", help="scenario TOML (default: the bundled Qalamoun winter 2013-14)")
    crit.add_argument("--replications", type=_positive, default=None,
                      help="engine replications per route (default 3)")
    crit.add_argument("--seed", type=_seed, help="default: the scenario's")
    crit.add_argument("--corridor", help="corridor of the max-flow figure (default: the claim corridor)")
    crit.add_argument("--workers", type=_positive, default=1, help="processes (default 1)")
    crit.add_argument("--top", type=_positive, default=15, help="routes in the table and figure")
    crit.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    crit.add_argument("--out", help="folder for critical.csv and critical.png")


# ---------------------------------------------------------------------------- commands
def _load(path: str | None):
    from .scenario import load_scenario

    return load_scenario(path)


def cmd_validate(args: argparse.Namespace) -> int:
    """``validate``: one line summary of a good scenario."""
    from .network.routes import RouteNetwork

    scn = _load(args.scenario)
    net = RouteNetwork.from_scenario(scn)
    corr = ", ".join(net.corridors()) or "none"
    print(f"{scn.source_path}: ok: '{scn.scenario.name}', {len(scn.nodes)} nodes, {len(scn.routes)} routes, "
          f"corridors {corr}, {scn.scenario.days} days from {scn.scenario.start}, "
          f"interdiction {'on' if scn.interdiction else 'off'}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """``schema``: the JSON Schema of scenario files."""
    from .scenario import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return 0


def format_network_report(scn: Any, report: dict[str, Any]) -> str:
    """The network report as text (the header of ``run``)."""
    lines = [f"Scenario: {scn.scenario.name}  ({scn.source_path})",
             f"  {scn.scenario.days} days from {scn.scenario.start}; seed {scn.scenario.seed}",
             "Nodes by kind:  " + ", ".join(f"{k} {v}" for k, v in sorted(report["nodes_by_kind"].items())),
             "Routes by surface:  " + ", ".join(f"{k} {v}" for k, v in sorted(report["routes_by_surface"].items())),
             "Routes by corridor:  " + ", ".join(f"{k} {v}" for k, v in sorted(report["routes_by_corridor"].items())),
             "Highest passes:  " + ", ".join(f"{p['id']} {p['elevation_m']:.0f} m" for p in report["highest_passes"]),
             "Nominal maximum flow to militant towns (t/day):  "
             + ", ".join(f"{c} {v:.0f}" for c, v in report["nominal_max_flow_tpd"].items())]
    return "\n".join(lines)


def format_town_report(report: Any) -> str:
    """The per-town summary of an ensemble as a table."""
    lines = [f"{'town':<16}{'delivered t':>12}{'shortfall t':>12}{'days w/o stock':>15}"
             f"{'P(captured)':>12}{'day':>6}{'P(settled)':>11}{'day':>6}"]
    for town, r in report.iterrows():
        cap = "" if r["captured_day_p50"] != r["captured_day_p50"] else f"{r['captured_day_p50']:.0f}"
        setl = "" if r["settled_day_p50"] != r["settled_day_p50"] else f"{r['settled_day_p50']:.0f}"
        lines.append(f"{town:<16}{r['delivered_t']:>12.0f}{r['shortfall_t']:>12.0f}{r['days_without_stock']:>15.1f}"
                     f"{r['p_captured']:>12.2f}{cap:>6}{r['p_settled']:>11.2f}{setl:>6}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    """``run``: the network report, then replications of the SimPy engine and a summary per town."""
    from .ensemble import json_records, run_ensemble
    from .network.routes import RouteNetwork

    scn = _load(args.scenario)
    report = RouteNetwork.from_scenario(scn).report()
    if args.report_only:
        print(json.dumps({"scenario": scn.scenario.name, "network": report}) if args.json
              else format_network_report(scn, report))
        return 0
    if not args.json:
        print(format_network_report(scn, report), flush=True)
    n = args.replications or scn.scenario.replications
    seed = scn.scenario.seed if args.seed is None else args.seed
    try:
        with progress_bar(n, not args.json) as bar:
            ens = run_ensemble(scn, n, seed, backend=args.backend, workers=args.workers, scheduler=args.scheduler,
                               out=args.out, resume=args.resume, progress=bar.update)
    except KeyboardInterrupt:
        kept = f"; finished chunks kept in {args.out}, rerun with --resume" if args.out else ""
        sys.stderr.write(f"qalamoun-sim: interrupted{kept}\n")
        return 130
    towns = ens.town_report()
    if args.json:
        print(json.dumps({"scenario": scn.scenario.name, "seed": seed, "replications": n,
                          "backend": args.backend, "out": args.out, "event_count": ens.event_count,
                          "network": report, "towns": json_records(towns)}))
        return 0
    print(f"\n{n} replications, seed {seed}, backend {args.backend}: mean over replications per town"
          " (days are simulation days from the start)")
    print(format_town_report(towns))
    if args.out:
        print(f"\nTables written to {args.out} (Parquet per chunk, summary.json, scenario.json)")
    return 0


def _json_default(value: Any) -> Any:
    """NaN and numpy numbers for json.dumps."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return None if f != f else f


def progress_bar(total: int, enabled: bool, unit: str = "rep"):
    """A tqdm bar on stderr when ``enabled`` and stderr is a terminal; otherwise a silent stand-in."""
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, disable=not (enabled and sys.stderr.isatty()),
                dynamic_ncols=True, leave=False)


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
    from .analysis.claim import claim_shares, claim_verdict

    scn = _load(args.scenario)
    n = args.replications or scn.scenario.replications
    with progress_bar(n, not args.json) as bar:
        shares = claim_shares(scn, n, args.seed, progress=bar.update)
    verdict = claim_verdict(shares)
    print(json.dumps(verdict) if args.json else format_claim(verdict))
    return 0


COMMANDS = {"run": cmd_run, "claim": cmd_claim, "validate": cmd_validate, "schema": cmd_schema}


# ---------------------------------------------------------------------------- plot, sweep, critical
def _out_folder(path: str) -> Any:
    """An output folder, created; an unusable path is a one-line error."""
    from pathlib import Path

    from .errors import ResultsError

    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"--out {path}: cannot create folder: {exc.strerror or exc}") from None
    return folder


def cmd_plot(args: argparse.Namespace) -> int:
    """``plot``: every figure of a results folder as PNG."""
    from pathlib import Path

    from .plotting import load_results, plot_all

    res = load_results(args.results)
    status = res.source.meta.get("status", "complete")
    if status != "complete":
        sys.stderr.write(f"warning: {args.results}: run status is '{status}'; plotting the replications on disk\n")
    out = _out_folder(args.out or str(Path(args.results) / "figures"))
    for path in plot_all(res, out):
        print(path)
    return 0


def format_sweep(frame: Any) -> str:
    """A sweep table as text."""
    params = list(frame.columns[:list(frame.columns).index("claim_probability")])
    widths = [max(len(p), 8) + 2 for p in params]
    head = "".join(f"{p:<{w}}" for p, w in zip(params, widths, strict=True))
    lines = [head + f"{'P(claim)':>9}{'snow p05':>10}{'snow p50':>10}{'snow p95':>10}{'total p50':>11}  first day p50"]
    for _, r in frame.iterrows():
        cells = "".join(f"{str(r[p]):<{w}}" for p, w in zip(params, widths, strict=True))
        lines.append(cells + f"{r['claim_probability']:>9.2f}{r['snow_share_p05']:>10.2f}{r['snow_share_p50']:>10.2f}"
                     f"{r['snow_share_p95']:>10.2f}{r['total_share_p50']:>11.2f}  {r['first_day_p50'] or 'never'}")
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    """``sweep``: the claim for every combination of one or two parameters."""
    from .analysis.sweep import parse_param, run_sweep
    from .errors import ScenarioError

    scn = _load(args.scenario)
    params = [parse_param(spec) for spec in args.param]
    if len(params) > 2:
        raise ScenarioError("--param", None, "give one or two parameters")
    n = args.replications or scn.scenario.replications
    seed = scn.scenario.seed if args.seed is None else args.seed
    combos = 1
    for _, values in params:
        combos *= len(values)
    with progress_bar(combos, not args.json, unit="combination") as bar:
        frame = run_sweep(scn, params, n, seed, progress=bar.update)
    written = []
    if args.out:
        from .io import atomic_write
        from .plotting import plot_sweep

        out = _out_folder(args.out)
        written.append(atomic_write(out / "sweep.csv", lambda tmp: frame.to_csv(tmp, index=False)))
        fig = plot_sweep(frame)
        written.append(atomic_write(out / "sweep.png", lambda tmp: fig.savefig(tmp, dpi=150, format="png")))
    if args.json:
        print(json.dumps({"scenario": scn.scenario.name, "seed": seed, "replications": n,
                          "params": {p: v for p, v in params}, "rows": frame.to_dict(orient="records"),
                          "files": [str(p) for p in written]}, default=_json_default))
        return 0
    print(f"Sweep of '{scn.scenario.name}': {n} replications per combination, seed {seed}; "
          f"claim metric {scn.claim.metric}, threshold {scn.claim.threshold:.0%}")
    print(format_sweep(frame))
    for path in written:
        print(f"wrote {path}")
    return 0


def format_critical(table: Any, top: int) -> str:
    """The criticality ranking as text."""
    a = table.attrs
    lines = [f"Route criticality: '{a['scenario']}', {a['replications']} replications, seed {a['seed']}",
             f"  baseline: {a['baseline_delivered_t']:.0f} t delivered to the towns (mean); nominal max flow of "
             f"corridor '{a['corridor']}' {a['nominal_max_flow_tpd']:.0f} t/day",
             "",
             f"{'rank':>4}  {'route':<32}{'corridor':<10}{'surface':<8}{'max flow lost':>14}{'supply lost':>13}"
             f"{'share':>7}{'snow-closed':>12}",
             f"{'':>4}  {'':<32}{'':<10}{'':<8}{'t/day':>14}{'t':>13}{'':>7}{'winter days':>12}"]
    for _, r in table.head(top).iterrows():
        lines.append(f"{r['rank']:>4}  {r['route']:<32}{r['corridor']:<10}{r['surface']:<8}"
                     f"{r['max_flow_loss_tpd']:>14.1f}{r['delivered_loss_t']:>13.0f}{r['delivered_loss_share']:>7.1%}"
                     f"{r['snow_closed_share']:>12.0%}")
    if len(table) > top:
        lines.append(f"  ... {len(table) - top} more routes (--top, --json or --out for all)")
    return "\n".join(lines)


def cmd_critical(args: argparse.Namespace) -> int:
    """``critical``: rank routes by the max flow and supply lost without them, and their snow closure."""
    from .analysis.critical import DEFAULT_REPLICATIONS, route_criticality

    scn = _load(args.scenario)
    n = args.replications or DEFAULT_REPLICATIONS
    try:
        with progress_bar(len(scn.routes), not args.json, unit="route") as bar:
            table = route_criticality(scn, n, args.seed, corridor=args.corridor, workers=args.workers,
                                      progress=bar.update)
    except ScenarioError as exc:
        if not args.corridor:
            raise
        raise ScenarioError("--corridor", None, exc.message) from None
    written = []
    if args.out:
        from .io import atomic_write
        from .plotting import plot_criticality

        out = _out_folder(args.out)
        written.append(atomic_write(out / "critical.csv", lambda tmp: table.to_csv(tmp, index=False)))
        fig = plot_criticality(table, top=args.top)
        written.append(atomic_write(out / "critical.png", lambda tmp: fig.savefig(tmp, dpi=150, format="png")))
    if args.json:
        print(json.dumps({**table.attrs, "routes": table.to_dict(orient="records"),
                          "files": [str(p) for p in written]}, default=_json_default))
        return 0
    print(format_critical(table, args.top))
    for path in written:
        print(f"wrote {path}")
    return 0


COMMANDS.update({"plot": cmd_plot, "sweep": cmd_sweep, "critical": cmd_critical})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qalamoun-sim`` console script."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return COMMANDS[args.command](args)
        except ScenarioError as exc:
            sys.stderr.write(f"{exc}\n")
            return EXIT_BAD_INPUT
        except QalamounError as exc:
            sys.stderr.write(f"qalamoun-sim: {exc}\n")
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            sys.stderr.write("qalamoun-sim: interrupted\n")
            return 130
        except BrokenPipeError:  # e.g. piped into head
            return 0


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Warnings as one line on stderr, without the source line."""
    sys.stderr.write(f"warning: {message}\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
