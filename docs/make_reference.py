"""Generate docs/reference.md: every scenario field (from the JSON Schema) and every command.

    python docs/make_reference.py            # rewrite docs/reference.md
    python docs/make_reference.py --check    # exit 1 when docs/reference.md is out of date

The scenario part walks ``qalamoun_sim.scenario.scenario_json_schema()`` from the top-level sections
down, so a field added to the schema appears here on the next run; defaults set by a factory come
from the pydantic models themselves. The command part reads ``qalamoun_sim.cli.build_parser()``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qalamoun_sim import scenario as scenario_module
from qalamoun_sim.analysis.critical import DEFAULT_REPLICATIONS
from qalamoun_sim.analysis.sweep import DERIVED
from qalamoun_sim.cli import build_parser
from qalamoun_sim.plotting import FIGURES
from qalamoun_sim.scenario import scenario_json_schema

TARGET = Path(__file__).parent / "reference.md"

# Meanings of fields whose schema carries no description (the schema's own text wins when present).
FIELD_NOTES: dict[tuple[str, str], str] = {
    ("ScenarioMeta", "description"): "Free text.",
    ("Node", "id"): "Unique id; routes, assets, checkpoints and captures refer to it.",
    ("Node", "kind"): "Sources dispatch supply, towns consume it, passes and junctions only connect, bases host "
                      "strike assets.",
    ("Node", "side"): "Who holds the place; the militants' convoys never enter army-held nodes.",
    ("Node", "elevation_m"): "Elevation of the place.",
    ("Node", "lat"): "Latitude (degrees north), for maps, strike ranges and GeoJSON.",
    ("Node", "lon"): "Longitude (degrees east).",
    ("Node", "name"): "Display name (maps).",
    ("Route", "id"): "Unique id (siege lines and outputs refer to it).",
    ("Route", "from"): "Node id at one end.",
    ("Route", "to"): "Node id at the other end.",
    ("Route", "length_km"): "Length along the route.",
    ("Route", "surface"): "Decides the snow depths that slow and close the route and its default speed.",
    ("Route", "bidirectional"): "Usable both ways (false: only from `from` to `to`).",
    ("WeatherConfig", "reference_elevation_m"): "Elevation the temperature and precipitation refer to.",
    ("SnowConfig", "melt_base_c"): "Temperature above which snow melts.",
    ("SnowConfig", "limits"): "Depth limits per surface (a table per surface, below).",
    ("SurfaceLimits", "slowed_cm"): "Depth from which the route is slowed.",
    ("SurfaceLimits", "closed_cm"): "Depth from which the route is closed.",
    ("SurfaceLimits", "slowed_capacity_factor"): "Share of capacity left while slowed.",
    ("SurfaceLimits", "slowed_speed_factor"): "Share of speed left while slowed.",
    ("InterdictionConfig", "assets"): "Strike assets (tables below).",
    ("InterdictionConfig", "checkpoints"): "Army checkpoints at town entrances.",
    ("InterdictionConfig", "captures"): "Scripted captures of towns by date.",
    ("InterdictionConfig", "settlement"): "When a town short of supply settles.",
    ("Asset", "id"): "Unique id.",
    ("Asset", "kind"): "Air force, artillery or rocket battery; the air force is grounded by weather.",
    ("Asset", "range_km"): "Routes whose midpoint lies within this distance of the base can be struck.",
    ("Asset", "strikes_per_day"): "Strikes a day, targets drawn in proportion to route capacity.",
    ("Asset", "hit_probability"): "Chance a strike closes its route.",
    ("Asset", "repair_days"): "Days a hit route stays closed, the day of the strike included.",
    ("Asset", "start"): "First day the asset operates (default: from the start).",
    ("Asset", "end"): "Last day the asset operates (default: to the end).",
    ("Checkpoint", "town"): "Town whose single entrance the checkpoint holds.",
    ("Checkpoint", "stop_probability"): "Chance a convoy entering the town is stopped (intercepted).",
    ("Capture", "town"): "Town taken by the army.",
    ("Capture", "date"): "Date it falls (background.md s.13).",
    ("SettlementPolicy", "shortage_days"): "Days running short of supply before a town may settle.",
    ("SettlementPolicy", "daily_probability"): "Chance a day that such a town settles.",
    ("EngineConfig", "closed_route_policy"): "What a convoy does at a closed route: find another path, wait for "
                                             "it to reopen, or turn back.",
    ("EngineConfig", "max_wait_days"): "Days a convoy waits before it is stranded.",
    ("ClaimConfig", "threshold"): "Share of the corridor that snow must cut (0.70 in the article).",
    ("ClaimConfig", "corridor"): "Corridor label of the claim (routes with `corridor = ...`).",
    ("ClaimConfig", "metric"): "Share by route count, by capacity, or by connectivity (max flow).",
    ("ClaimConfig", "min_fraction_of_days"): "The claim holds in a replication when snow reaches the threshold on "
                                             "at least this share of the window's days.",
}

# Help for positional arguments and options that the parser leaves without one.
ARG_NOTES: dict[str, str] = {
    "scenario": "scenario TOML (default: the bundled Qalamoun winter 2013-14, where optional)",
    "--replications": "replications (default: the scenario's)",
    "--seed": "root seed (default: the scenario's)",
    "--json": "print one JSON object on stdout",
    "--workers": "worker processes",
    "--backend": "where replications run",
}

HEADER = """# Reference

*Generated by `python docs/make_reference.py` from the scenario schema and the command-line parser;
do not edit by hand.* The tutorial is in [tutorial.md](tutorial.md), how-to guides in
[guides.md](guides.md), the model's equations and sources in [background.md](background.md).

Units are in the field names: `_m` metres, `_km` kilometres, `_c` degrees Celsius, `_mm` millimetres
(water equivalent for precipitation), `_cm` centimetres of snow, `_tpd` tonnes per day, `_t` tonnes,
`_kph` km/h, `_kg_m3` kg/m³. Dates are TOML dates (`2013-12-01`). "required" marks fields without a default.
"""


# ---------------------------------------------------------------------------- scenario fields
def _ref(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _inner(node: dict[str, Any]) -> dict[str, Any]:
    """The non-null alternative of an optional field."""
    alts = [a for a in node.get("anyOf", []) if a.get("type") != "null"]
    return alts[0] if len(alts) == 1 else node


def _sections(schema: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(definition, [TOML table headers]) in the order a scenario file reads."""
    order: list[str] = []
    headers: dict[str, list[str]] = {}

    def visit(def_name: str, header: str) -> None:
        if def_name not in headers:
            order.append(def_name)
            headers[def_name] = []
        if header not in headers[def_name]:
            headers[def_name].append(header)
        path = header.strip("[]")
        for name, prop in schema["$defs"][def_name].get("properties", {}).items():
            node = _inner(prop)
            if (child := _ref(node)) is not None:
                visit(child, f"[{path}.{name}]")
            elif node.get("type") == "array" and (child := _ref(node.get("items", {}))) is not None:
                visit(child, f"[[{path}.{name}]]")
            elif node.get("type") == "object" and (child := _ref(node.get("additionalProperties", {}))):
                keys = node.get("propertyNames", {}).get("enum")
                visit(child, f"[{path}.{name}.<{'|'.join(keys) if keys else 'key'}>]")

    for name, prop in schema["properties"].items():
        node = _inner(prop)
        if (child := _ref(node)) is not None:
            visit(child, f"[{name}]")
        elif node.get("type") == "array" and (child := _ref(node.get("items", {}))) is not None:
            visit(child, f"[[{name}]]")
    return [(d, headers[d]) for d in order]


def _type(node: dict[str, Any]) -> str:
    node = _inner(node)
    optional = any(a.get("type") == "null" for a in node.get("anyOf", []))
    if "anyOf" in node:
        text = " or ".join(_type(a) for a in node["anyOf"] if a.get("type") != "null")
    elif (ref := _ref(node)) is not None:
        text = f"table ({ref})"
    elif "enum" in node:
        text = " | ".join(f"`{v}`" for v in node["enum"])
    elif node.get("type") == "array":
        text = f"list of {_type(node.get('items', {}))}"
    elif node.get("type") == "object":
        text = "table"
    else:
        text = {"number": "number", "integer": "integer", "string": "text", "boolean": "true/false"}.get(
            str(node.get("type")), str(node.get("type", "any")))
        if node.get("format") == "date":
            text = "date"
    return text + (" (optional)" if optional and "optional" not in text else "")


def _range(node: dict[str, Any]) -> str:
    node = _inner(node)
    parts = []
    for key, sym in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"),
                     ("minLength", "length ≥"), ("minItems", "items ≥"), ("maxItems", "items ≤")):
        if key in node:
            parts.append(f"{sym} {node[key]}")
    if node.get("type") == "array":
        inner = _range(node.get("items", {}))
        if inner:
            parts.append(f"each {inner}")
    return ", ".join(parts)


def _default(def_name: str, field: str) -> str:
    cls = getattr(scenario_module, def_name, None)
    if cls is None:
        return ""
    for name, info in cls.model_fields.items():
        if field in (name, info.alias):
            if info.is_required():
                return "required"
            value = info.get_default(call_default_factory=True)
            if hasattr(value, "model_dump"):
                return "see below"
            if isinstance(value, dict):
                return "see below" if any(hasattr(v, "model_dump") for v in value.values()) else f"`{value}`"
            if value is None:
                return "none"
            if value == "":
                return '`""`'
            if isinstance(value, bool):
                return f"`{str(value).lower()}`"
            if isinstance(value, list):
                return "`[" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) + "]`"
            return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"
    return ""


def _cell(text: str) -> str:
    return str(text).replace("``", "`").replace("|", "\\|").replace("\n", " ")


def scenario_reference() -> str:
    schema = scenario_json_schema()
    lines = ["## Scenario files", "",
             "Only `[scenario]`, `[[nodes]]` and `[[routes]]` are required (or `[network] graphml` instead of "
             "nodes and routes); every other section has defaults. Unknown keys are errors, with the closest "
             "valid name suggested.", ""]
    for def_name, headers in _sections(schema):
        d = schema["$defs"][def_name]
        lines += [f"### {', '.join(f'`{h}`' for h in headers)}", "", _cell(d.get("description", "")), "",
                  "| field | type | default | range | meaning |", "|---|---|---|---|---|"]
        for name, prop in d.get("properties", {}).items():
            desc = prop.get("description") or _inner(prop).get("description", "") or FIELD_NOTES.get((def_name, name), "")
            lines.append(f"| `{name}` | {_cell(_type(prop))} | {_cell(_default(def_name, name))} | "
                         f"{_cell(_range(prop))} | {_cell(desc)} |")
        if def_name == "SnowConfig":
            lines += ["", "Default passability limits (background.md s.5):", "",
                      "| surface | slowed_cm | closed_cm | slowed_capacity_factor | slowed_speed_factor |",
                      "|---|---|---|---|---|"]
            snow = scenario_module.SnowConfig()
            for surface, lim in [*snow.limits.items(), ("ploughed road", snow.ploughed_road)]:
                lines.append(f"| {surface} | {lim.slowed_cm:g} | {lim.closed_cm:g} | {lim.slowed_capacity_factor:g} "
                             f"| {lim.slowed_speed_factor:g} |")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- commands
def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return [(name, helps.get(name, ""), p) for name, p in action.choices.items()]
    return []


def commands_reference() -> str:
    parser = build_parser()
    lines = ["## Commands", "",
             "`qalamoun-sim COMMAND ...`. Bad input of any kind prints one line on stderr (`file: field: message`) "
             "and exits with status 2; `--json` prints exactly one JSON object on stdout; progress bars go to "
             "stderr and only when it is a terminal. Every command runs numpy's BLAS on one thread "
             "(`OPENBLAS_NUM_THREADS=1`, inherited by worker processes): its matrix products are small, where "
             "BLAS threads cost more CPU than they save; set `OPENBLAS_NUM_THREADS` or `OMP_NUM_THREADS` "
             "yourself to choose otherwise.", ""]
    for name, help_text, sub in _subparsers(parser):
        usage = " ".join(sub.format_usage().split())
        usage = usage[len("usage: "):] if usage.startswith("usage: ") else usage
        lines += [f"### `{name}`", "", help_text[:1].upper() + help_text[1:] + ".", "", "```", usage, "```", ""]
        rows = []
        for a in sub._actions:
            if isinstance(a, argparse._HelpAction):
                continue
            flag = ", ".join(a.option_strings) if a.option_strings else (a.metavar or a.dest).upper()
            meta = "" if a.nargs == 0 or not a.option_strings else f" {a.metavar or a.dest.upper()}"
            key = a.option_strings[0] if a.option_strings else a.dest
            text = a.help or ARG_NOTES.get(key, "")
            if a.choices:
                text += f" (one of {', '.join(map(str, a.choices))})"
            if a.default not in (None, False, argparse.SUPPRESS) and "default" not in text.lower():
                text += f" (default: {a.default})"
            rows.append(f"| `{flag}{meta}` | {_cell(text.strip())} |")
        if rows:
            lines += ["| argument | meaning |", "|---|---|", *rows, ""]
    lines += ["### Sweep parameters", "",
              "`--param PATH=V1,V2,...` takes any dotted scenario path (`weather.lapse_rate_c_per_km`, "
              "`snow.melt_factor_mm_per_c_day`, `routes[3].max_elevation_m`, `claim.threshold`), values as JSON "
              "(numbers, `true`, quoted text), or one of these derived knobs:", ""]
    for key, fn in DERIVED.items():
        what = {"climate.warming_c": "added to every monthly mean temperature (degC): a warmer or colder winter",
                "corridor.elevation_shift_m": "added to the highest point of every route of the claim corridor (m)"
                }.get(key, (fn.__doc__ or "").strip())
        lines.append(f"- `{key}`: {what}")
    lines += ["", "### Outputs", "",
              f"- `plot` writes {', '.join(f'`{f}`' for f in FIGURES)} (the claim distribution only when the "
              "horizon overlaps the claim window).",
              "- `sweep --out` writes `sweep.csv` (one row per combination: the parameters, `claim_probability`, "
              "`snow_share_p05`/`p50`/`p95`, `total_share_p50`, `first_day_p50`) and `sweep.png` (a line plot for "
              "one parameter, a heatmap for two).",
              f"- `critical --out` writes `critical.csv` and `critical.png`; by default {DEFAULT_REPLICATIONS} engine "
              "replications per route. Columns: `rank`, `route`, `from`, `to`, `corridor`, `surface`, "
              "`capacity_tpd`, `max_elevation_m`, `max_flow_loss_tpd`, `max_flow_loss_share`, `delivered_loss_t` "
              "(mean), `delivered_loss_p05_t`, `delivered_loss_p95_t`, `delivered_loss_share`, `captures_added`, "
              "`snow_closed_share`.",
              "- `interdict --out` writes `interdict.json` (the `--json` object), `budget_curve.png` (residual max flow "
              "against strikes: targeted with and without snow, and the scenario's own strikes) and "
              "`interdiction_map.png` (the routes struck at the largest budget).",
              "- `run --out` writes the tables `routes`, `towns`, `convoys`, `weather`, `events` and the "
              "per-replication `summary`, a folder of Parquet chunks each (their columns: "
              "[the results tables](#the-results-tables)), `summary.json`, `scenario.json` and `manifest.json` (every file "
              "with its size and SHA-256, the scenario hash, the seed and the chunk plan). The folder "
              "is locked while a run writes it; `--resume` redoes the chunks that are missing or fail the manifest's "
              "check, `--overwrite` replaces a previous run's files.", ""]
    return "\n".join(lines)


def results_reference() -> str:
    """Every column of the tables of a results folder: its type, units and meaning (engine/columns.py)."""
    from qalamoun_sim.engine.columns import COLUMNS

    lines = ["## The results tables", "",
             "`run --out DIR` writes each table as a folder of Parquet files, `DIR/TABLE/chunk-NNNNN.parquet`, "
             "every file with the table's schema: a Parquet dataset that `pd.read_parquet(\"DIR/towns\")`, "
             "`pyarrow.dataset.dataset(\"DIR/towns\")`, `polars.read_parquet(\"DIR/towns/*.parquet\")` and "
             "duckdb (`SELECT * FROM 'DIR/towns/*.parquet'`) read as one table. Each field carries its `units` "
             "and `description` as Parquet field metadata. Units as in UDUNITS: `1` dimensionless, `d` a day "
             "number, `t d-1` tonnes per day; ids and states are dictionary-encoded (pandas reads them as "
             "categories). A run in memory (`Run`) holds the same tables without the `replication` column; "
             "it makes each one the first time it is read (a replication whose tables nobody reads never "
             "imports pandas).", ""]
    for table, cols in COLUMNS.items():
        lines += [f"### `{table}`", "", "| column | type | units | meaning |", "|---|---|---|---|"]
        for name, typ, units, text in cols:
            kind = "id (dictionary)" if str(typ).startswith("dictionary") else str(typ)
            lines.append(f"| `{name}` | {kind} | {units or ''} | {_cell(text)} |")
        lines.append("")
    return "\n".join(lines)


def render() -> str:
    return HEADER + "\n" + scenario_reference() + "\n" + commands_reference() + "\n" + results_reference()


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--check", action="store_true", help="exit 1 if docs/reference.md is out of date")
    opts = args.parse_args(argv)
    text = render()
    if opts.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            sys.stderr.write(f"{TARGET} is out of date: run python docs/make_reference.py\n")
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
