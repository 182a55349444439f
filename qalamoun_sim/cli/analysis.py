"""``plot``, ``animate``, ``export``, ``sweep`` and ``critical``: figures, an animation and labelled arrays of a
results folder, the claim over a grid, route criticality."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import ScenarioError
from .common import (
    SCENARIO_HELP,
    Command,
    int_at_least,
    json_default,
    load,
    out_folder,
    positive,
    progress_bar,
    replications_value,
    seed_value,
)

__all__ = ["register", "cmd_plot", "cmd_animate", "cmd_export", "cmd_sweep", "cmd_critical", "format_sweep", "format_critical"]


def register(sub: Any) -> dict[str, Command]:
    """Add ``plot``, ``animate``, ``export``, ``sweep`` and ``critical``."""
    plot = sub.add_parser("plot", help="write every figure of a results folder as PNG")
    plot.add_argument("results", metavar="RESULTS_DIR", help="folder written by 'run --out'")
    plot.add_argument("--out", help="folder for the figures (default: RESULTS_DIR/figures)")
    plot.add_argument("--dem", metavar="RASTER", help="a DEM in longitude and latitude (GeoTIFF or any raster "
                                                      "rasterio reads: the [geo] extra), hillshaded under the map")
    plot.add_argument("--border", metavar="GEOJSON", help="a GeoJSON file of lines or polygons in longitude and "
                                                          "latitude (a border), drawn on the map")

    anim = sub.add_parser("animate", help="an animated GIF of one winter: route states and snow by elevation",
                          description="Draw one replication of a results folder day by day: the network with "
                                      "each route coloured by its state (open, snow, interdicted, both) and the "
                                      "snow depth by elevation band beside it; write an animated GIF.")
    anim.add_argument("results", metavar="RESULTS_DIR", help="folder written by 'run --out'")
    anim.add_argument("--out", help="the GIF to write (default: RESULTS_DIR/figures/winter.gif)")
    anim.add_argument("--replication", type=int_at_least(0), help="which replication (default: the first)")
    anim.add_argument("--every", type=positive, default=1, help="one frame every N days (default 1)")
    anim.add_argument("--fps", type=positive, default=8, help="frames a second (default 8)")

    exp = sub.add_parser("export", help="a results folder's tables as labelled arrays: netCDF or zarr",
                         description="Write the gridded tables of a results folder (routes, towns, weather) as "
                                     "one xarray Dataset over realization, time, route, town and elevation, with "
                                     "CF units: netCDF (h5netcdf with the [netcdf] extra, else netCDF3) or zarr.")
    exp.add_argument("results", metavar="RESULTS_DIR", help="folder written by 'run --out'")
    exp.add_argument("--out", required=True, help="the file to write: .nc for netCDF, .zarr for a zarr store")
    exp.add_argument("--format", choices=("netcdf", "zarr"), help="default: from the suffix of --out")
    exp.add_argument("--table", choices=("routes", "towns", "weather"), action="append",
                     help="a table to export (repeat for more; default all three)")

    sweep = sub.add_parser("sweep", help="the claim over a grid of one or two scenario parameters")
    sweep.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    sweep.add_argument("--param", action="append", required=True, metavar="PATH=V1,V2,...",
                       help="a dotted scenario path (or climate.warming_c, corridor.elevation_shift_m) and its "
                            "values; give it once or twice")
    sweep.add_argument("--replications", type=replications_value, help="default: the scenario's")
    sweep.add_argument("--seed", type=seed_value, help="default: the scenario's")
    sweep.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sweep.add_argument("--out", help="folder for sweep.csv and sweep.png")

    crit = sub.add_parser("critical", help="rank routes by what losing each one costs")
    crit.add_argument("scenario", nargs="?", help="scenario TOML (default: the bundled Qalamoun winter 2013-14)")
    crit.add_argument("--replications", type=replications_value, default=None,
                      help="engine replications per route (default 3)")
    crit.add_argument("--seed", type=seed_value, help="default: the scenario's")
    crit.add_argument("--corridor", help="corridor of the max-flow figure (default: the claim corridor)")
    crit.add_argument("--workers", type=positive, default=1, help="processes (default 1)")
    crit.add_argument("--top", type=positive, default=15, help="routes in the table and figure")
    crit.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    crit.add_argument("--out", help="folder for critical.csv and critical.png")
    return {"plot": cmd_plot, "animate": cmd_animate, "export": cmd_export, "sweep": cmd_sweep, "critical": cmd_critical}


def cmd_plot(args: argparse.Namespace) -> int:
    """``plot``: every figure of a results folder as PNG."""
    from pathlib import Path

    from ..plotting import load_results, plot_all

    res = load_results(args.results)
    status = res.source.meta.get("status", "complete")
    if status != "complete":
        sys.stderr.write(f"warning: {args.results}: run status is '{status}'; plotting the replications on disk\n")
    dem, border = _map_layers(args)  # read first: a bad file writes no figure
    out = out_folder(args.out or str(Path(args.results) / "figures"))
    for path in plot_all(res, out, dem=dem, border=border):
        print(path)
    return 0


def _map_layers(args: argparse.Namespace) -> tuple[Any, Any]:
    """The DEM and the border lines of ``plot --dem/--border``, read and checked (one-line errors)."""
    from ..plotting._geo import read_border, read_dem

    dem = border = None
    try:
        if args.dem:
            dem = read_dem(args.dem)
    except (ValueError, ImportError) as exc:
        raise ScenarioError("--dem", None, str(exc)) from None
    try:
        if args.border:
            border = read_border(args.border)
    except ValueError as exc:
        raise ScenarioError("--border", None, str(exc)) from None
    return dem, border


def cmd_animate(args: argparse.Namespace) -> int:
    """``animate``: an animated GIF of one winter of a results folder."""
    import logging
    from pathlib import Path

    from ..plotting import load_results
    from ..plotting.animation import animate_winter
    from .common import LOGGER

    res = load_results(args.results)
    out = Path(args.out) if args.out else Path(args.results) / "figures" / "winter.gif"
    if out.suffix.lower() != ".gif":
        raise ScenarioError("--out", None, f"the animation is a GIF: give a path ending in .gif, got '{out}'")
    out_folder(str(out.parent))
    logging.getLogger(LOGGER).info("drawing replication %s of %s, one frame every %d days",
                                   "the first" if args.replication is None else args.replication,
                                   args.results, args.every)
    try:
        path = animate_winter(res, out, replication=args.replication, every=args.every, fps=args.fps)
    except ValueError as exc:
        raise ScenarioError("--replication", None, str(exc)) from None
    print(path)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``export``: the gridded tables of a results folder as netCDF or zarr."""
    from ..ensemble.reader import Ensemble
    from ..environment.labelled import GRIDDED_TABLES, tables_dataset, write_dataset

    ens = Ensemble(args.results)
    names = args.table or list(GRIDDED_TABLES)
    scn = ens.scenario
    ds = tables_dataset({n: ens.table(n) for n in dict.fromkeys(names)}, scn.dates, scenario=scn.scenario.name,
                        seed=ens.seed, attrs={"replications": ens.replications})
    print(write_dataset(ds, args.out, args.format))
    return 0


def format_sweep(frame: Any) -> str:
    """A sweep table as text."""
    params = list(frame.columns[:list(frame.columns).index("replications")])
    widths = [max(len(p), 8) + 2 for p in params]
    head = "".join(f"{p:<{w}}" for p, w in zip(params, widths, strict=True))
    lines = [head + f"{'P(claim)':>9}{'95 % CI':>13}{'snow p05':>10}{'snow p50':>10}{'snow p95':>10}{'total p50':>11}"
             "  first day p50"]
    for _, r in frame.iterrows():
        cells = "".join(f"{str(r[p]):<{w}}" for p, w in zip(params, widths, strict=True))
        ci = f"{r['claim_probability_ci95_low']:.2f}-{r['claim_probability_ci95_high']:.2f}"
        lines.append(cells + f"{r['claim_probability']:>9.2f}{ci:>13}{r['snow_share_p05']:>10.2f}"
                     f"{r['snow_share_p50']:>10.2f}{r['snow_share_p95']:>10.2f}{r['total_share_p50']:>11.2f}"
                     f"  {r['first_day_p50'] or 'never'}")
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    """``sweep``: the claim for every combination of one or two parameters."""
    from ..analysis.sweep import parse_param, run_sweep
    from ..errors import ScenarioError

    scn = load(args.scenario)
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
        from ..io import atomic_write
        from ..plotting import plot_sweep

        out = out_folder(args.out)
        written.append(atomic_write(out / "sweep.csv", lambda tmp: frame.to_csv(tmp, index=False)))
        fig = plot_sweep(frame)
        written.append(atomic_write(out / "sweep.png", lambda tmp: fig.savefig(tmp, dpi=150, format="png")))
    if args.json:
        print(json.dumps({"scenario": scn.scenario.name, "seed": seed, "replications": n,
                          "params": {p: v for p, v in params}, "rows": frame.to_dict(orient="records"),
                          "files": [str(p) for p in written]}, default=json_default))
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
    few = " (few: the supply lost is a mean of these; --replications for more)" if a["replications"] < 10 else ""
    lines = [f"Route criticality: '{a['scenario']}', {a['replications']} replications, seed {a['seed']}{few}",
             f"  baseline: {a['baseline_delivered_t']:.0f} t delivered to the towns (mean); nominal max flow of "
             f"corridor '{a['corridor']}' {a['nominal_max_flow_tpd']:.0f} t/day",
             "",
             f"{'rank':>4}  {'route':<32}{'corridor':<10}{'surface':<8}{'max flow lost':>14}{'supply lost':>13}"
             f"{'p05-p95':>14}{'share':>7}{'snow-closed':>12}",
             f"{'':>4}  {'':<32}{'':<10}{'':<8}{'t/day':>14}{'t':>13}{'t':>14}{'':>7}{'winter days':>12}"]
    for _, r in table.head(top).iterrows():
        band = f"{r['delivered_loss_p05_t']:.0f} - {r['delivered_loss_p95_t']:.0f}"
        lines.append(f"{r['rank']:>4}  {r['route']:<32}{r['corridor']:<10}{r['surface']:<8}"
                     f"{r['max_flow_loss_tpd']:>14.1f}{r['delivered_loss_t']:>13.0f}{band:>14}"
                     f"{r['delivered_loss_share']:>7.1%}{r['snow_closed_share']:>12.0%}")
    if len(table) > top:
        lines.append(f"  ... {len(table) - top} more routes (--top, --json or --out for all)")
    return "\n".join(lines)


def cmd_critical(args: argparse.Namespace) -> int:
    """``critical``: rank routes by the max flow and supply lost without them, and their snow closure."""
    from ..analysis.critical import DEFAULT_REPLICATIONS, route_criticality

    scn = load(args.scenario)
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
        from ..io import atomic_write
        from ..plotting import plot_criticality

        out = out_folder(args.out)
        written.append(atomic_write(out / "critical.csv", lambda tmp: table.to_csv(tmp, index=False)))
        fig = plot_criticality(table, top=args.top)
        written.append(atomic_write(out / "critical.png", lambda tmp: fig.savefig(tmp, dpi=150, format="png")))
    if args.json:
        print(json.dumps({**table.attrs, "routes": table.to_dict(orient="records"),
                          "files": [str(p) for p in written]}, default=json_default))
        return 0
    print(format_critical(table, args.top))
    for path in written:
        print(f"wrote {path}")
    return 0
