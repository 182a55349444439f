"""Figures: each plot function draws the expected artists on a tiny run and ensemble (issue 7)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection, QuadMesh
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from qalamoun_sim import ResultsError, load_scenario, run_ensemble, simulate_replication
from qalamoun_sim.analysis.claim import claim_shares, claim_verdict
from qalamoun_sim.analysis.critical import route_criticality
from qalamoun_sim.analysis.metrics import METRICS
from qalamoun_sim.plotting import (
    FIGURES,
    as_results,
    corridor_share_frame,
    load_results,
    plot_all,
    plot_claim_distribution,
    plot_criticality,
    plot_network_map,
    plot_share_cut,
    plot_snow_depth,
    plot_supply,
    plot_sweep,
)

TINY = Path(__file__).parent / "data" / "tiny.toml"
SEED = 11
REPS = 3


def tiny_text(days: int = 10) -> str:
    """tiny.toml with its claim on corridor "c" (its own corridor) and an optional horizon."""
    return TINY.read_text().replace("days = 10", f"days = {days}", 1) + '\n[claim]\ncorridor = "c"\n'


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("tiny") / "tiny_c.toml"
    # 40 days from 1 Dec: some snow on the pass trail, inside the claim window
    path.write_text(tiny_text(40))
    return load_scenario(path)


@pytest.fixture(scope="module")
def ens(tiny):
    return run_ensemble(tiny, REPS, SEED)


@pytest.fixture(scope="module")
def run(tiny):
    return simulate_replication(tiny, 1, SEED)


def lines_labelled(ax: Axes) -> list[str]:
    return [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def as_date(x: float | np.datetime64) -> dt.date:
    if isinstance(x, np.datetime64):
        return x.astype("datetime64[D]").item()
    return mdates.num2date(x).date()


# ---------------------------------------------------------------------------- shares from results
@pytest.mark.parametrize("metric", METRICS)
def test_share_frame_equals_the_claim_metrics(tiny, ens, metric: str) -> None:
    """The shares read back from the routes table equal those of the vectorized state, exactly."""
    df = corridor_share_frame(ens, metric)
    shares = claim_shares(tiny, REPS, SEED)
    for kind in ("snow", "interdiction", "total"):
        got = df[kind].to_numpy().reshape(REPS, -1)
        np.testing.assert_allclose(got, shares.daily[kind][metric], atol=1e-12)
    assert list(df.columns) == ["replication", "day", "date", "snow", "interdiction", "total"]
    assert df["date"].iloc[0] == np.datetime64("2013-12-01")


def test_share_frame_of_one_run(tiny, run) -> None:
    df = corridor_share_frame(run, scenario=tiny)
    assert set(df["replication"]) == {1}
    full = claim_shares(tiny, 2, SEED)
    np.testing.assert_allclose(df["snow"], full.daily["snow"][tiny.claim.metric][1], atol=1e-12)


def test_a_run_of_another_scenario_needs_the_scenario(run) -> None:
    with pytest.raises(ValueError, match="needs the scenario"):
        plot_share_cut(run)


def test_adapter_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="cannot plot"):
        as_results(42)


# ---------------------------------------------------------------------------- supply
def test_supply_by_town_bands_and_stocks(ens) -> None:
    fig = plot_supply(ens, layout="overlay")
    assert isinstance(fig, Figure)
    flow, stock = fig.axes[:2]
    assert sorted(lines_labelled(flow)) == ["town_a", "town_b"]
    assert sum(isinstance(c, PolyCollection) for c in flow.collections) == 2  # one band per town
    assert len(stock.get_lines()) == 2 and sum(isinstance(c, PolyCollection) for c in stock.collections) == 2
    assert "t/day" in flow.get_ylabel() and "(t" in stock.get_ylabel()
    assert stock.get_xlabel() == "date"
    assert as_date(flow.get_lines()[0].get_xdata()[0]) == dt.date(2013, 12, 1)
    legend = flow.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().x0 >= flow.get_window_extent().x1 - 1  # outside


def test_supply_median_is_the_median_of_replications(ens) -> None:
    fig = plot_supply(ens, names=["town_a"], smooth_days=1, layout="overlay")
    line = fig.axes[0].get_lines()[0]
    towns = ens.table("towns")
    want = towns[towns["town"] == "town_a"].groupby("day")["delivered_t"].median().to_numpy()
    np.testing.assert_allclose(line.get_ydata(), want)


def test_supply_by_corridor_and_on_given_axes(ens, tiny) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_supply(ens, "corridor", ax=ax) is fig
    assert lines_labelled(ax) == ["c"]
    assert len(fig.axes) == 1  # one axes: flows only
    conv = ens.table("convoys")
    total = conv.loc[conv["fate"] == "delivered", "tonnes"].sum() / REPS
    assert total > 0


def test_supply_of_one_run_has_no_band(run, tiny) -> None:
    fig = plot_supply(run, scenario=tiny, layout="overlay")
    assert sum(isinstance(c, PolyCollection) for c in fig.axes[0].collections) == 0
    assert len(fig.axes[0].get_lines()) == 2


def test_supply_unknown_name(ens) -> None:
    with pytest.raises(ValueError, match="unknown town"):
        plot_supply(ens, names=["atlantis"])


# ---------------------------------------------------------------------------- share cut
def test_share_cut_draws_stack_threshold_and_storm_strip(ens, tiny) -> None:
    fig = plot_share_cut(ens)
    ax = fig.axes[0]
    thr = [ln for ln in ax.get_lines() if ln.get_gid() == "threshold"]
    assert len(thr) == 1 and list(thr[0].get_ydata()) == [0.7, 0.7]
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2  # snow and interdiction stacked
    assert "share" in ax.get_ylabel() and "'c'" in ax.get_ylabel()
    assert ax.get_ylim() == (0.0, 1.0)
    assert as_date(ax.get_xlim()[0]) == dt.date(2013, 12, 1)
    storms = ens.table("weather").groupby("day")["storm"].mean().to_numpy()
    bars = [p for p in ax.patches if p.get_gid() == "storm"]
    assert len(bars) == (storms > 0).sum() > 0
    np.testing.assert_allclose([p.get_height() for p in bars], 0.06 * storms[storms > 0])
    assert [as_date(p.get_x()) for p in bars] == [dt.date(2013, 12, 1) + dt.timedelta(days=int(d))
                                                  for d in np.flatnonzero(storms)]
    labels = ax.get_legend().get_texts()
    assert any("claim threshold 70%" in t.get_text() for t in labels)


def test_share_cut_stack_is_mean_snow_then_interdiction(ens) -> None:
    fig = plot_share_cut(ens)
    df = corridor_share_frame(ens)
    snow_mean = df.groupby("day")["snow"].mean().to_numpy()
    top = df.groupby("day")["total"].mean().to_numpy()
    polys = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    ys_snow = polys[0].get_paths()[0].vertices[:, 1]
    ys_total = polys[1].get_paths()[0].vertices[:, 1]
    assert np.isclose(ys_snow.max(), snow_mean.max()) and np.isclose(ys_total.max(), top.max())


def test_share_cut_from_claim_shares(tiny) -> None:
    shares = claim_shares(tiny, 50, SEED)
    fig = plot_share_cut(shares)
    ax = fig.axes[0]
    assert any(ln.get_gid() == "threshold" for ln in ax.get_lines())
    assert "50 replications" in ax.get_title(loc="left")


def test_share_cut_of_one_run_marks_storm_days(tiny) -> None:
    # a run whose weather has a storm on day 2: replay a CSV
    csv = Path(tiny.source_path).parent / "storm.csv"
    dates = pd.date_range("2013-12-01", periods=40)
    storm = np.zeros(40, dtype=int)
    storm[2:4] = 1
    pd.DataFrame({"date": dates.date, "temperature_c": -5.0, "precipitation_mm": 10.0 * storm,
                  "storm": storm}).to_csv(csv, index=False)
    scn = tiny.with_updates({"weather.replay_csv": str(csv)})
    fig = plot_share_cut(simulate_replication(scn, 0, SEED), scenario=scn)
    ax = fig.axes[0]
    spans = [p for p in ax.patches if p.get_gid() == "storm_span"]
    assert len(spans) == 1, "the two storm days are shaded as one span on a single run"
    assert [p.get_height() for p in ax.patches if p.get_gid() == "storm"] == [0.06, 0.06]


# ---------------------------------------------------------------------------- snow depth
def test_snow_depth_heatmap_with_passes(ens, tiny) -> None:
    fig = plot_snow_depth(ens)
    ax = fig.axes[0]
    mesh = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(mesh) == 1
    w = ens.table("weather")  # long: a row per replication, day and band
    want = w.groupby(["elevation_m", "day"])["snow_depth_cm"].median().unstack("day").sort_index()
    assert mesh[0].get_array().shape == (w["elevation_m"].nunique(), tiny.scenario.days)
    np.testing.assert_allclose(np.asarray(mesh[0].get_array()), want.to_numpy(), rtol=1e-6, atol=1e-9)  # float32
    hlines = [ln for ln in ax.get_lines() if list(ln.get_ydata()) == [2100.0, 2100.0]]
    assert len(hlines) == 1  # the high_pass of tiny.toml
    assert any("high_pass 2100 m" in t.get_text() for t in ax.texts)
    assert ax.get_ylabel() == "elevation (m)"
    assert any(a.get_xlabel() == "snow depth (cm)" for a in fig.axes)  # the colorbar


def test_snow_depth_of_one_replication(ens) -> None:
    fig = plot_snow_depth(ens, replication=2)
    assert "replication 2" in fig.axes[0].get_title(loc="left")
    with pytest.raises(ValueError, match="replication 9"):
        plot_snow_depth(ens, replication=9)


# ---------------------------------------------------------------------------- network map
def test_network_map_colours_routes_by_closure(ens, tiny) -> None:
    fig = plot_network_map(ens)
    ax = fig.axes[0]
    lc = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lc) == 1 and len(lc[0].get_segments()) == len(tiny.routes)
    rt = ens.table("routes")
    want = (rt["capacity_factor"] <= 0).groupby(rt["route"].astype(str)).mean()
    np.testing.assert_allclose(lc[0].get_array(), want.reindex([r.id for r in tiny.routes]).to_numpy())
    assert "longitude" in ax.get_xlabel() and "latitude" in ax.get_ylabel()
    # route r0 starts at the source's position
    src = tiny.node("src")
    assert tuple(lc[0].get_segments()[0][0]) == pytest.approx((src.lon, src.lat))
    with pytest.raises(ValueError, match="cause"):
        plot_network_map(ens, cause="weather")


# ---------------------------------------------------------------------------- claim
def test_claim_distribution_threshold_and_probability(ens, tiny) -> None:
    fig = plot_claim_distribution(ens)
    ax = fig.axes[0]
    thr = [ln for ln in ax.get_lines() if ln.get_gid() == "threshold"]
    assert len(thr) == 1 and list(thr[0].get_xdata()) == [tiny.claim.min_fraction_of_days] * 2
    verdict = claim_verdict(claim_shares(tiny, REPS, SEED))
    text = [t for t in ax.texts if t.get_gid() == "claim_probability"][0].get_text()
    assert f"P(claim holds) = {verdict['claim_probability']:.2f}" in text
    lo, hi = verdict["claim_probability_ci95"]
    assert f"95 % CI {lo:.2f} - {hi:.2f}" in text
    assert sum(p.get_height() for p in ax.patches if p.get_facecolor()[3] > 0 and p.get_width() < 0.5) == REPS
    assert ax.get_ylabel() == "replications"


def test_claim_distribution_from_claim_shares(tiny) -> None:
    fig = plot_claim_distribution(claim_shares(tiny, 40, SEED))
    assert "n = 40 replications" in [t for t in fig.axes[0].texts if t.get_gid() == "claim_probability"][0].get_text()


# ---------------------------------------------------------------------------- sweep and criticality
def sweep_frame(two: bool) -> pd.DataFrame:
    rows = []
    for a in (-2.0, 0.0, 2.0):
        for b in ((-100, 100) if two else (None,)):
            row = {"climate.warming_c": a}
            if two:
                row["corridor.elevation_shift_m"] = b
            p = 0.5 - 0.1 * a + (0.001 * b if two else 0.0)
            row.update(claim_probability=p, snow_share_p05=p - 0.2, snow_share_p50=p, snow_share_p95=p + 0.2,
                       total_share_p50=p + 0.1, first_day_p50=None)
            rows.append(row)
    return pd.DataFrame(rows)


def test_sweep_line_plot() -> None:
    fig = plot_sweep(sweep_frame(False))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "climate.warming_c"
    assert len(ax.get_lines()) >= 3
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.7, 0.5, 0.3])


def test_sweep_heatmap() -> None:
    fig = plot_sweep(sweep_frame(True))
    ax = fig.axes[0]
    im = [a for a in ax.get_images() if isinstance(a, AxesImage)]
    assert len(im) == 1 and im[0].get_array().shape == (2, 3)
    assert ax.get_ylabel() == "corridor.elevation_shift_m"
    assert len(ax.texts) == 6


def test_sweep_rejects_other_tables() -> None:
    with pytest.raises(ValueError, match="not a sweep"):
        plot_sweep(pd.DataFrame({"x": [1]}))


def test_criticality_bars(tiny) -> None:
    table = route_criticality(tiny.with_updates({"scenario.days": 10}), replications=1, seed=SEED)
    fig = plot_criticality(table, top=3)
    assert len(fig.axes) == 3
    assert len(fig.axes[0].patches) == 3 and len(fig.axes[1].patches) == 3
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][-1] == table.iloc[0]["route"]
    assert "t/day" in fig.axes[1].get_xlabel()


# ---------------------------------------------------------------------------- all, and results folders
@pytest.mark.slow
def test_plot_all_writes_every_png(tiny, tmp_path: Path) -> None:
    ens = run_ensemble(tiny, 2, SEED, out=tmp_path / "res")
    paths = plot_all(tmp_path / "res", tmp_path / "figs")
    assert [p.name for p in paths] == list(FIGURES)
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
    assert ens.replications == 2


@pytest.mark.slow
def test_plot_all_skips_the_claim_outside_its_window(tiny, tmp_path: Path) -> None:
    scn = tiny.with_updates({"claim.window_start": dt.date(2014, 2, 1), "claim.window_end": dt.date(2014, 2, 28)})
    paths = plot_all(simulate_replication(scn, 0, SEED), tmp_path, scenario=scn)
    assert "claim_distribution.png" not in [p.name for p in paths] and len(paths) == len(FIGURES) - 1


def test_load_results_errors(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no such results folder"):
        load_results(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ResultsError, match="not a folder"):
        load_results(tmp_path / "file")
    with pytest.raises(ResultsError, match="summary.json"):
        load_results(tmp_path)
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(ResultsError, match="summary.json: damaged"):
        load_results(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"seed": 1, "replications": 1}))
    with pytest.raises(ResultsError, match="no 'weather' tables"):
        load_results(tmp_path)


def test_corridor_stocks_count_only_towns_still_held(tiny) -> None:
    scn = tiny.with_updates({"interdiction.captures": [{"town": "town_b", "date": "2013-12-05"}]})
    ens = run_ensemble(scn, REPS, SEED)
    fig = plot_supply(ens, "corridor")
    stock_line = fig.axes[1].get_lines()[0]
    towns = ens.table("towns")
    a = towns[towns["town"] == "town_a"].pivot(index="day", columns="replication", values="stock_t")
    both = towns.groupby(["day", "replication"])["stock_t"].sum().unstack()
    y = np.asarray(stock_line.get_ydata())
    np.testing.assert_allclose(y[:4], both.median(axis=1).to_numpy()[:4])    # before the capture: both towns
    np.testing.assert_allclose(y[4:], a.median(axis=1).to_numpy()[4:])       # from 5 Dec: town_a alone


def test_claim_distribution_counts_right_of_the_line_as_the_claim_probability(tiny) -> None:
    """The figure shows the statistic that decides: the bars right of the line are P(claim) x replications."""
    shares = claim_shares(tiny, 40, SEED)
    fig = plot_claim_distribution(shares)
    ax = fig.axes[0]
    line = tiny.claim.min_fraction_of_days
    filled = [p for p in ax.patches if p.get_facecolor()[3] > 0 and p.get_width() < 0.5]
    right = sum(p.get_height() for p in filled if p.get_x() >= line - 1e-9)
    assert right == round(claim_verdict(shares)["claim_probability"] * 40)


def test_supply_stock_ends_when_most_winters_lose_the_town() -> None:
    from qalamoun_sim.plotting.supply import _held_band

    fig = Figure()
    ax = fig.add_subplot()
    x = np.datetime64("2013-12-01") + np.arange(10).astype("timedelta64[D]")
    stock = np.full((3, 10), 50.0)
    held = np.ones((3, 10))
    held[0, 4:] = held[1, 6:] = 0.0  # two of three winters lose it, on days 4 and 6
    _held_band(ax, x, stock, held, "#1f77b4", "Yabroud")
    line, cross = ax.get_lines()
    y = np.asarray(line.get_ydata(), dtype=float)
    assert line.get_label() == "Yabroud"
    assert np.isfinite(y[:6]).all() and np.isnan(y[6:]).all()  # drawn while at least half hold it
    assert as_date(cross.get_xdata()[0]) == dt.date(2013, 12, 6) and cross.get_marker() == "x"


def test_supply_labels_towns_by_name(ens, tiny) -> None:
    i = next(k for k, n in enumerate(tiny.nodes) if n.id == "town_a")
    named = tiny.with_updates({f"nodes[{i}].name": "Town A (east), the first"})
    fig = plot_supply(ens, scenario=named, layout="overlay")
    assert sorted(lines_labelled(fig.axes[0])) == ["Town A", "town_b"]
    panels = plot_supply(ens, scenario=named)
    assert sorted(a.get_title(loc="left").split(":")[0].split(" (")[0] for a in panels.axes[::2]) == ["Town A", "town_b"]


def test_plot_all_skips_the_shares_of_a_corridor_no_route_carries(tmp_path) -> None:
    from pathlib import Path as _P

    scn = load_scenario(_P(__file__).parent / "data" / "tiny.toml")      # its claim corridor 'arsal' has no route
    run = simulate_replication(scn, replication=0, seed=1)
    names = [p.name for p in plot_all(run, tmp_path, scenario=scn)]
    assert "share_cut.png" not in names and "supply_towns.png" in names
