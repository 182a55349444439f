"""Figures a reader prefers (issue 19): supply in small multiples with lost towns drawn as lost, the
replication count on every figure that summarises replications, a map whose labels do not collide,
a hillshade when a DEM is given and border lines when a GeoJSON file is."""

from __future__ import annotations

import datetime as dt
import json
from itertools import combinations
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from conftest import run_main
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.text import Annotation

from qalamoun_sim import load_scenario, run_ensemble, simulate_replication
from qalamoun_sim.analysis.claim import claim_shares
from qalamoun_sim.analysis.critical import route_criticality
from qalamoun_sim.plotting import (
    plot_claim_distribution,
    plot_criticality,
    plot_network_map,
    plot_share_cut,
    plot_snow_depth,
    plot_supply,
    plot_sweep,
)
from qalamoun_sim.plotting._geo import read_border
from qalamoun_sim.plotting._labels import place_labels, renderer_of

TINY = Path(__file__).parent / "data" / "tiny.toml"
SEED = 11
REPS = 3
CAPTURE = dt.date(2013, 12, 20)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("tiny") / "tiny_c.toml"
    path.write_text(TINY.read_text().replace("days = 10", "days = 40", 1) + '\n[claim]\ncorridor = "c"\n')
    scn = load_scenario(path)
    return scn.with_updates({"interdiction.captures": [{"town": "town_b", "date": CAPTURE.isoformat()}]})


@pytest.fixture(scope="module")
def ens(tiny):
    return run_ensemble(tiny, REPS, SEED)


def texts_of(fig: Figure) -> str:
    """Every title, suptitle and text of a figure, joined."""
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [ax.get_title(loc=w) for w in ("left", "center", "right")] + [t.get_text() for t in ax.texts]
    return "\n".join(out)


def as_date(x: float | np.datetime64) -> dt.date:
    if isinstance(x, np.datetime64):
        return x.astype("datetime64[D]").item()
    return mdates.num2date(x).date()


# ---------------------------------------------------------------------------- supply
def test_supply_panels_one_pair_of_axes_per_town(ens) -> None:
    fig = plot_supply(ens)
    assert len(fig.axes) == 4  # two towns: flow above, stock beneath
    titles = [a.get_title(loc="left") for a in fig.axes[::2]]
    assert {t.split(":")[0].split(" (")[0] for t in titles} == {"town_a", "town_b"}
    one = plot_supply(ens, names=["town_a"])
    assert len(one.axes) == 2
    with pytest.raises(ValueError, match="layout"):
        plot_supply(ens, "corridor", layout="panels")


def test_captured_town_stops_at_its_capture_and_is_hatched(ens) -> None:
    fig = plot_supply(ens, names=["town_b"], smooth_days=1)
    flow, stock = fig.axes
    assert flow.get_title(loc="left") == f"town_b: captured {CAPTURE:%d %b %Y}"
    for ax in (flow, stock):
        line = ax.get_lines()[0]
        x = [as_date(v) for v in line.get_xdata()]
        y = np.asarray(line.get_ydata(), dtype=float)
        before = np.array([d < CAPTURE for d in x])
        assert np.isfinite(y[before]).all() and np.isnan(y[~before]).all()
        hatch = [p for p in ax.patches if p.get_gid() == "lost"]
        assert len(hatch) == 1 and hatch[0].get_hatch() == "///"
        assert as_date(hatch[0].get_x()) == CAPTURE
    assert "captured" in [t.get_text() for t in stock.texts]


def test_town_never_lost_is_drawn_to_the_end(ens) -> None:
    flow, stock = plot_supply(ens, names=["town_a"]).axes
    assert np.isfinite(np.asarray(stock.get_lines()[0].get_ydata(), dtype=float)).all()
    assert not [p for p in stock.patches if p.get_gid() == "lost"]


# ---------------------------------------------------------------------------- n on every summary
def test_replication_count_on_every_figure_that_summarises_replications(tiny, ens) -> None:
    want = f"n = {REPS} replications"
    figs = {"supply": plot_supply(ens), "corridors": plot_supply(ens, "corridor"), "share": plot_share_cut(ens),
            "snow": plot_snow_depth(ens), "map": plot_network_map(ens), "claim": plot_claim_distribution(ens),
            "claim_shares": plot_claim_distribution(claim_shares(tiny, REPS, SEED))}
    crit = route_criticality(tiny.with_updates({"scenario.days": 10}), replications=REPS, seed=SEED)
    figs["critical"] = plot_criticality(crit, top=3)
    sweep = pd.DataFrame({"climate.warming_c": [0.0, 1.0], "replications": [REPS, REPS],
                          "claim_probability": [0.5, 0.4]})
    figs["sweep"] = plot_sweep(sweep)
    for name, fig in figs.items():
        assert want in texts_of(fig), name


def test_one_replication_says_which(tiny) -> None:
    run = simulate_replication(tiny, 2, SEED)
    assert "replication 2" in texts_of(plot_supply(run, scenario=tiny))


# ---------------------------------------------------------------------------- map labels
def label_boxes(fig: Figure) -> list:
    fig.draw_without_rendering()
    r = renderer_of(fig.axes[0])
    return [a.get_window_extent(r) for a in fig.axes[0].texts if isinstance(a, Annotation)]


def test_default_map_labels_do_not_overlap() -> None:
    scn = load_scenario()
    run = simulate_replication(scn, 0, 1)
    fig = plot_network_map(run)
    boxes = label_boxes(fig)
    labelled = [n for n in scn.nodes if n.kind != "junction"]
    assert len(boxes) == len(labelled)
    overlaps = [(i, j) for (i, a), (j, b) in combinations(enumerate(boxes), 2) if a.overlaps(b)]
    assert overlaps == []
    frame = fig.axes[0].get_window_extent()
    assert all(frame.x0 - 1 <= b.x0 and b.x1 <= frame.x1 + 1 for b in boxes)  # kept inside the map


def test_place_labels_moves_a_label_off_its_neighbour() -> None:
    fig = Figure(figsize=(3, 3))
    ax = fig.add_subplot()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    xy = [(0.5, 0.5), (0.52, 0.5), (0.5, 0.52)]  # three places closer than a label's width
    anns = place_labels(ax, xy, ["Yabroud", "Qara", "Flita"])
    r = renderer_of(ax)
    boxes = [a.get_window_extent(r) for a in anns]
    assert not any(a.overlaps(b) for a, b in combinations(boxes, 2))
    assert all(not a.get_in_layout() for a in anns)


# ---------------------------------------------------------------------------- border and hillshade
BORDER = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"name": "line"},
     "geometry": {"type": "LineString", "coordinates": [[36.40, 33.90], [36.55, 34.10], [36.60, 34.30]]}},
    {"type": "Feature", "properties": {},
     "geometry": {"type": "Polygon", "coordinates": [[[36.6, 34.0], [36.7, 34.0], [36.7, 34.1], [36.6, 34.0]]]}},
    {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [36.5, 34.0]}}]}


def test_border_adds_a_line_artist_without_moving_the_map(ens, tmp_path: Path) -> None:
    path = tmp_path / "border.geojson"
    path.write_text(json.dumps(BORDER))
    plain = plot_network_map(ens).axes[0]
    ax = plot_network_map(ens, border=path).axes[0]
    border = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_gid() == "border"]
    assert len(border) == 1 and len(border[0].get_segments()) == 2  # the line and the ring; the point ignored
    assert ax.get_xlim() == plain.get_xlim() and ax.get_ylim() == plain.get_ylim()
    assert "border" in [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("doc, match", [("not json", "not GeoJSON"), ("[1, 2]", "JSON object"),
                                        ('{"type": "Point", "coordinates": [1, 2]}', "no LineString")])
def test_bad_border_files_say_what_is_wrong(tmp_path: Path, doc: str, match: str) -> None:
    path = tmp_path / "b.geojson"
    path.write_text(doc)
    with pytest.raises(ValueError, match=match) as exc:
        read_border(path)
    assert str(path) in str(exc.value)
    with pytest.raises(ValueError, match="cannot read"):
        read_border(tmp_path / "missing.geojson")


def synthetic_dem() -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A ridge running north-south over the tiny network: 40 x 50 cells, 1000-2500 m."""
    lon = np.linspace(36.3, 36.9, 50)
    lat = np.linspace(34.3, 33.8, 40)
    z = 1000.0 + 1500.0 * np.exp(-((lon[None, :] - 36.55) / 0.08) ** 2) + 0.0 * lat[:, None]
    return z, (36.3, 36.9, 33.8, 34.3)


def test_hillshade_adds_an_image_under_the_routes(ens) -> None:
    plain = plot_network_map(ens).axes[0]
    ax = plot_network_map(ens, dem=synthetic_dem()).axes[0]
    img = [i for i in ax.get_images() if isinstance(i, AxesImage) and i.get_gid() == "hillshade"]
    assert len(img) == 1 and img[0].get_zorder() < min(c.get_zorder() for c in ax.collections)
    shade = np.ma.asarray(img[0].get_array())
    assert shade.shape == (40, 50) and 0.0 <= shade.min() < shade.max() <= 1.0
    assert ax.get_xlim() == plain.get_xlim()  # the DEM is wider than the map: the map keeps its extent


def test_hillshade_from_a_geotiff(ens, tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_bounds

    z, (w, e, s, n) = synthetic_dem()
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", height=z.shape[0], width=z.shape[1], count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_bounds(w, s, e, n, z.shape[1], z.shape[0])) as dst:
        dst.write(z.astype("float32"), 1)
    ax = plot_network_map(ens, dem=path).axes[0]
    img = [i for i in ax.get_images() if i.get_gid() == "hillshade"]
    assert len(img) == 1
    x0, x1, y0, y1 = img[0].get_extent()
    assert w <= x0 < x1 <= e and s <= y0 < y1 <= n  # read cropped to the map
    with pytest.raises(ValueError, match="cannot read the DEM"):
        plot_network_map(ens, dem=tmp_path / "border.geojson")


def test_plot_command_border_and_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "res"
    run_ensemble(load_scenario(TINY), 1, SEED, out=folder)
    bad = tmp_path / "bad.geojson"
    bad.write_text("{")
    for flag in ("--border", "--dem"):
        rc, _, err = run_main(capsys, "plot", str(folder), "--out", str(tmp_path / "f1"), flag, str(bad))
        assert rc == 2 and flag in err and str(bad) in err and len(err.strip().splitlines()) == 1, err
        assert not list((tmp_path / "f1").glob("*.png"))  # checked before any figure is written
    good = tmp_path / "b.geojson"
    good.write_text(json.dumps(BORDER))
    rc, out, err = run_main(capsys, "plot", str(folder), "--out", str(tmp_path / "f2"), "--border", str(good))
    assert rc == 0, err
    assert (tmp_path / "f2" / "network_map.png").exists()


def test_interdiction_map_and_animation_name_the_places(tiny, ens) -> None:
    from qalamoun_sim.analysis.interdiction import optimal_interdiction
    from qalamoun_sim.plotting import plot_budget_curve, plot_interdiction_map
    from qalamoun_sim.plotting.animation import winter_frames

    result = optimal_interdiction(tiny, [0, 1], replications=2, seed=1).as_dict()
    fig = plot_interdiction_map(result, tiny)
    names = sorted(t.get_text() for t in fig.axes[0].texts if isinstance(t, Annotation))
    assert names == sorted(n.id for n in tiny.nodes if n.kind != "junction")
    assert "n = 2 replications" in texts_of(fig) and "n = 2 replications" in texts_of(plot_budget_curve(result))
    frames, _ = winter_frames(ens, every=20)
    assert len(frames) == 2
