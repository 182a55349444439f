"""``profile`` and ``layers``: elevation profiles from a DEM, and GIS layers of a network with its results.

Both need the ``geo`` extra for rasters and GeoPackages (``pip install 'qalamoun-sim[geo]'``);
GeoJSON layers need nothing more.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path
from typing import Any

from .common import JSON_HELP, SCENARIO_HELP, Command, load, positive

__all__ = ["register", "cmd_profile", "cmd_layers", "format_profiles"]


def _step(text: str) -> float:
    """An argparse type: a sampling step in metres, 1 to 10,000."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of metres, got '{text}'") from None
    if not (math.isfinite(value) and 1 <= value <= 10_000):
        raise argparse.ArgumentTypeError(f"must be from 1 to 10000 m, got {text}")
    return value


def register(sub: Any) -> dict[str, Command]:
    """Add ``profile`` and ``layers``."""
    prof = sub.add_parser("profile", help="sample a DEM along every route: elevation profiles and the highest points",
                          description="Sample a digital elevation model (a GeoTIFF or any raster GDAL reads, in "
                                      "metres, any CRS) every --step-m metres along each route (its geometry, else "
                                      "the straight line between its end nodes); print the routes whose typed "
                                      "highest point differs most from the terrain's; with --out, write the "
                                      "scenario with elevation_profile_m and max_elevation_m from the DEM. "
                                      "Needs the geo extra (rasterio).")
    prof.add_argument("scenario", nargs="?", help=SCENARIO_HELP)
    prof.add_argument("--dem", required=True, help="the DEM raster (GeoTIFF ...)")
    prof.add_argument("--step-m", type=_step, default=30.0, help="spacing of the samples along a route, m "
                                                                   "(default 30: SRTM's and GLO-30's cell)")
    prof.add_argument("--method", choices=("bilinear", "nearest"), default="bilinear",
                      help="interpolation between cells (default bilinear)")
    prof.add_argument("--top", type=positive, default=10, help="routes in the table (default 10)")
    prof.add_argument("--out", help="write the scenario with the profiles filled here (TOML, atomically)")
    prof.add_argument("--json", action="store_true", help=JSON_HELP)

    lay = sub.add_parser("layers", help="GIS layers of a network with its results: GeoPackage or GeoJSON",
                         description="Write the network's nodes (points) and routes (lines along their geometry) "
                                     "as two layers with every attribute, and, where given, a results folder's "
                                     "share of days each route is closed by snow and by interdiction, its mean "
                                     "flow and the towns' supply, and a criticality ranking's losses. --out "
                                     "FILE.gpkg writes one GeoPackage (geo extra); any other --out is a folder "
                                     "for nodes.geojson and routes.geojson.")
    lay.add_argument("scenario", nargs="?", help="scenario TOML (default: the results folder's scenario, else "
                                                 "the bundled one)")
    lay.add_argument("--results", metavar="RESULTS_DIR", help="folder written by 'run --out'")
    lay.add_argument("--critical", metavar="CSV", help="critical.csv written by 'critical --out DIR' (or DIR)")
    lay.add_argument("--out", required=True, help="FILE.gpkg, or a folder for GeoJSON files")
    lay.add_argument("--json", action="store_true", help=JSON_HELP)
    return {"profile": cmd_profile, "layers": cmd_layers}


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def format_profiles(rows: list[dict[str, Any]], top: int) -> str:
    """The profile table as text, the largest disagreement first."""
    lines = [f"{'route':<32}{'typed max':>10}  {'typed as':<20}{'sampled':>9}{'difference':>12}{'crest at':>10}"
             f"{'skipped':>9}"]
    for r in rows[:top]:
        sampled = "no data" if math.isnan(r["sampled_max_m"]) else f"{r['sampled_max_m']:.0f} m"
        diff = "" if math.isnan(r["difference_m"]) else f"{r['difference_m']:+.0f} m" if round(r["difference_m"]) \
            else "0 m"
        crest = "" if math.isnan(r["crest_km"]) else f"{r['crest_km']:.1f} km"
        lines.append(f"{r['route']:<32}{r['typed_max_m']:>8.0f} m  {r['typed_from']:<20}{sampled:>9}{diff:>12}"
                     f"{crest:>10}{r['skipped']:>9}")
    if len(rows) > top:
        lines.append(f"  ... {len(rows) - top} more routes (--top or --json for all)")
    return "\n".join(lines)


def _dem_info(path: str) -> dict[str, Any]:
    from ..network.terrain import open_dem

    with open_dem(path) as ds:
        return {"path": path, "crs": ds.crs.to_string(), "width": ds.width, "height": ds.height,
                "cell": [abs(ds.res[0]), abs(ds.res[1])], "cell_units": "degrees" if ds.crs.is_geographic else "m",
                "bounds": list(ds.bounds), "nodata": _finite(ds.nodata)}


def cmd_profile(args: argparse.Namespace) -> int:
    """``profile``: sample a DEM along every route; report, and write the profiled scenario with ``--out``."""
    from ..network.terrain import profile_table, profiled_scenario, sample_profiles
    from ..scenario.writer import write_scenario

    scn = load(args.scenario)
    dem = _dem_info(args.dem)
    profiles = sample_profiles(scn, args.dem, args.step_m, args.method)
    rows = profile_table(profiles)
    partial = [r for r in rows if r["skipped"]]
    if partial:
        some = f"{len(partial)} routes have" if len(partial) > 1 else "1 route has"
        warnings.warn(f"{args.dem}: {some} samples outside the DEM or on nodata, skipped: "
                      + ", ".join(f"{r['route']} ({r['skipped']} of {r['samples']})" for r in partial[:5])
                      + (" ..." if len(partial) > 5 else ""), stacklevel=1)
    written = None
    if args.out:
        written = write_scenario(profiled_scenario(scn, profiles), args.out)
    if args.json:
        print(json.dumps({"scenario": scn.scenario.name, "dem": dem, "step_m": args.step_m, "method": args.method,
                          "routes": [{k: _finite(v) for k, v in r.items()} for r in rows],
                          "out": str(written) if written else None}))
        return 0
    samples = sum(r["samples"] for r in rows)
    skipped = sum(r["skipped"] for r in rows)
    print(f"Elevation profiles of '{scn.scenario.name}' from {args.dem} ({dem['crs']}, {dem['width']} x "
          f"{dem['height']} cells of {dem['cell'][0]:.6g} x {dem['cell'][1]:.6g} {dem['cell_units']}):\n"
          f"  {len(rows)} routes, one sample every {args.step_m:g} m, {samples:,} samples ({skipped:,} skipped)")
    print(format_profiles(rows, args.top))
    if written:
        print(f"\nwrote {written}: elevation_profile_m and max_elevation_m from the DEM")
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    """``layers``: the network's nodes and routes with results, as a GeoPackage or GeoJSON files."""
    from ..analysis.layers import network_layers, read_criticality, write_layers

    ens = None
    if args.results:
        from ..ensemble.reader import Ensemble

        ens = Ensemble(args.results)
    scn = load(args.scenario) if args.scenario or ens is None else ens.scenario
    crit = read_criticality(args.critical) if args.critical else None
    layers = network_layers(scn, ens, crit)
    paths = write_layers(layers, Path(args.out))
    counts = {name: len(fc["features"]) for name, fc in layers.items()}
    columns = sorted({k for f in layers["routes"]["features"][:1] for k in f["properties"]})
    if args.json:
        print(json.dumps({"scenario": scn.scenario.name, "layers": counts, "route_columns": columns,
                          "results": args.results, "critical": args.critical, "files": [str(p) for p in paths]}))
        return 0
    print(f"'{scn.scenario.name}': {counts['nodes']} nodes and {counts['routes']} routes"
          + (f", with the results of {args.results}" if args.results else "")
          + (f" and the criticality of {args.critical}" if args.critical else ""))
    for p in paths:
        print(f"wrote {p}")
    return 0
