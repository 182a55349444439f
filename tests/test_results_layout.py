"""The results folder as tools read it (issue 19): a Parquet folder per table, one schema per table,
dates in every table, the weather long; folders of 0.1.0 still read and converted; figures from a
folder (scanned chunk by chunk) equal to the figures of the same tables in memory.
"""

from __future__ import annotations

import io
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from qalamoun_sim.engine.columns import COLUMNS, arrow_schema
from qalamoun_sim.ensemble import TABLES, Ensemble, ResultsWarning, run_ensemble, upgrade_folder
from qalamoun_sim.ensemble.folder import CHUNK_TABLES, chunk_rel
from qalamoun_sim.ensemble.legacy import legacy_rel
from qalamoun_sim.ensemble.manifest import Manifest, file_entry
from qalamoun_sim.errors import ResultsError
from qalamoun_sim.plotting import FIGURES, as_results, plot_all
from qalamoun_sim.plotting._style import replication_grid
from qalamoun_sim.scenario import load_scenario

TINY = Path(__file__).parent / "data" / "tiny.toml"
N, SEED, SIZE = 5, 4, 2  # chunks of 2, 2 and 1


@pytest.fixture(scope="module")
def scn(tmp_path_factory):
    path = tmp_path_factory.mktemp("scn") / "tiny_c.toml"  # 40 days of December: snow on the pass, a claim window
    path.write_text(TINY.read_text().replace("days = 10", "days = 40", 1) + '\n[claim]\ncorridor = "c"\n')
    return load_scenario(path)


@pytest.fixture(scope="module")
def folder(scn, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("layout") / "out"
    run_ensemble(scn, N, SEED, chunk_size=SIZE, out=out)
    return out


# --------------------------------------------------------------------------- one table per folder
@pytest.mark.parametrize("table", CHUNK_TABLES)
def test_each_table_is_a_parquet_dataset_of_one_schema(folder, table):
    files = sorted((folder / table).glob("*.parquet"))
    assert [f.name for f in files] == [Path(chunk_rel(i, table)).name for i in range(3)]
    schemas = {pq.read_schema(f) for f in files}
    assert len(schemas) == 1, "every file of a table has the same schema, metadata included"
    schema = schemas.pop()
    assert schema.names == [c for c, *_ in COLUMNS[table]]
    assert schema.equals(arrow_schema(table), check_metadata=True)
    for name, _, units, text in COLUMNS[table]:
        meta = schema.field(name).metadata
        assert meta[b"units"].decode() == units and meta[b"description"].decode() == text


@pytest.mark.parametrize("table", CHUNK_TABLES)
def test_pandas_and_pyarrow_read_one_table_and_it_is_what_the_reader_gives(folder, table):
    ens = Ensemble(folder)
    want = ens.summary() if table == "summary" else ens.table(table)
    got = pd.read_parquet(folder / table)
    pd.testing.assert_frame_equal(got.sort_values([c for c in got.columns if c in ("replication", "day", "id",
                                                                                  "elevation_m", "town")])
                                  .reset_index(drop=True), want.reset_index(drop=True), check_categorical=False)
    assert pads.dataset(folder / table).to_table().num_rows == len(want)
    assert sorted(got["replication"].unique()) == (list(range(N)) if table != "events" or len(got) else [])


def test_polars_and_duckdb_read_one_table(folder):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    towns = pl.read_parquet(str(folder / "towns" / "*.parquet"))
    assert towns.height == len(pd.read_parquet(folder / "towns"))
    assert set(towns["replication"].unique().to_list()) == set(range(N))
    n = duckdb.sql(f"select count(distinct replication) from '{folder}/towns/*.parquet'").fetchall()[0][0]
    assert n == N


def test_an_empty_chunk_keeps_the_types_of_a_full_one(folder):
    """A chunk with no event (or a null-only column) writes the same types: no int/float or null drift."""
    ev = pd.read_parquet(folder / "events" / "chunk-00000.parquet").iloc[:0]
    from qalamoun_sim.engine.columns import to_arrow

    empty = to_arrow(ev.assign(cause=pd.Series([], dtype=object), day=pd.Series([], dtype=float)), "events")
    assert empty.schema.equals(arrow_schema("events"), check_metadata=True)
    conv = pd.read_parquet(folder / "convoys")
    assert str(conv["arrived_day"].dtype) == "Int64" and str(conv["end_day"].dtype) == "Int64"
    nulls = to_arrow(conv.assign(arrived_day=pd.array([None] * len(conv), dtype="Int64"),
                                 arrived_date=pd.Series([pd.NaT] * len(conv), dtype="datetime64[ms]")), "convoys")
    assert nulls.schema.equals(arrow_schema("convoys"), check_metadata=True)


# --------------------------------------------------------------------------- dates and the long weather
def test_every_table_has_dates_and_the_weather_is_long(folder, scn):
    ens = Ensemble(folder)
    start = pd.Timestamp(scn.scenario.start)
    for t in TABLES:
        assert "date" in ens.table(t).columns, t
    c = ens.table("convoys")
    assert (c["date"] == start + pd.to_timedelta(c["dispatched_day"], unit="D")).all()
    done = c["arrived_day"].notna()
    assert (c.loc[done, "arrived_date"] == start + pd.to_timedelta(c.loc[done, "arrived_day"].astype(int),
                                                                     unit="D")).all()
    assert c.loc[~done, "arrived_date"].isna().all()
    w = ens.table("weather")
    bands = np.sort(w["elevation_m"].unique())
    assert len(w) == N * scn.scenario.days * len(bands)
    assert not w.duplicated(["replication", "day", "elevation_m"]).any()
    assert (w.groupby(["replication", "day"])["temperature_c"].nunique() == 1).all(), "the day's, on every band"
    s = ens.summary()
    assert {"captured_date", "settled_date"} <= set(s.columns)


def test_weather_to_xarray_has_elevation_and_day_variables(folder):
    ds = Ensemble(folder).to_xarray("weather")
    assert ds["snow_depth_cm"].dims == ("realization", "time", "elevation")
    assert ds["temperature_c"].dims == ("realization", "time")
    w = Ensemble(folder).table("weather")
    one = w[(w["replication"] == 1) & (w["day"] == 7)].sort_values("elevation_m")
    assert np.array_equal(ds["snow_depth_cm"].sel(realization=1).isel(time=7).values, one["snow_depth_cm"])


# --------------------------------------------------------------------------- folders of 0.1.0
def make_legacy(new: Path, out: Path, manifest: bool = True) -> None:
    """``new`` rewritten as 0.1.0 wrote it: ``chunks/chunk-NNNNN-TABLE.parquet``, the weather wide, no dates
    in the convoys and the summary, a manifest of format 1 (or none)."""
    out.mkdir()
    ens = Ensemble(new)
    m = Manifest.read(new)
    old = Manifest(dict(m.header), list(m.chunks), format=1)
    for i in range(len(m.chunks)):
        for t in CHUNK_TABLES:
            df = pd.read_parquet(new / chunk_rel(i, t))
            if t == "weather":
                wide = df.pivot(index=["replication", "day"], columns="elevation_m", values="snow_depth_cm")
                wide.columns = [f"depth_{z:g}m_cm" for z in wide.columns]
                day = df.drop_duplicates(["replication", "day"]).set_index(["replication", "day"])
                df = day[["date", "temperature_c", "precipitation_mm", "storm"]].join(wide).reset_index()
            elif t == "convoys":
                df = df.drop(columns=["date", "arrived_date", "end_date"])
            elif t == "summary":
                df = df.drop(columns=["captured_date", "settled_date"])
            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            (out / legacy_rel(i, t)).parent.mkdir(exist_ok=True)
            (out / legacy_rel(i, t)).write_bytes(buf.getvalue())
            old.record(legacy_rel(i, t), buf.getvalue())
    for name in ("scenario.json", "summary.json"):
        shutil.copy(new / name, out / name)
        old.record(name, (out / name).read_bytes())
    if manifest:
        old.write(out)
    assert ens.replications == N


@pytest.mark.filterwarnings("ignore:.*no manifest.json")
@pytest.mark.parametrize("manifest", [True, False])
def test_a_folder_of_0_1_0_reads_as_the_same_tables(folder, tmp_path, manifest):
    legacy = tmp_path / "old"
    make_legacy(folder, legacy, manifest)
    with pytest.warns(ResultsWarning, match="upgrade_folder"):
        old = Ensemble(legacy)
    assert old.layout == "chunks"
    new = Ensemble(folder)
    for t in TABLES:
        o, n = old.table(t), new.table(t)
        if not len(n):  # no event in these winters: an empty column's dtype is not kept by every writer
            assert list(o.columns) == list(n.columns) and not len(o)
            continue
        pd.testing.assert_frame_equal(o, n, check_categorical=False, obj=t)
    pd.testing.assert_frame_equal(old.summary(), new.summary(), check_categorical=False)


def test_a_folder_of_0_1_0_is_not_resumed_and_converts(scn, folder, tmp_path):
    legacy = tmp_path / "old"
    make_legacy(folder, legacy)
    with pytest.raises(ResultsError, match="0.1.0.*upgrade_folder") as info:
        run_ensemble(scn, N, SEED, out=legacy, resume=True)
    assert "\n" not in str(info.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResultsWarning)
        upgrade_folder(legacy, tmp_path / "new")
    for t in CHUNK_TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "new" / t), pd.read_parquet(folder / t), obj=t)
    doc = json.loads((tmp_path / "new" / "manifest.json").read_text())
    assert doc["format"] == 2 and all(file_entry((tmp_path / "new" / r).read_bytes()) == e
                                      for r, e in doc["files"].items())
    assert json.loads((tmp_path / "new" / "summary.json").read_text())["upgraded_from"] == str(legacy)
    with pytest.raises(ResultsError, match="already in this version's layout"):
        upgrade_folder(folder, tmp_path / "again")
    run_ensemble(scn, 2, SEED, out=legacy, overwrite=True)  # --overwrite clears 0.1.0's chunks/ too
    assert not (legacy / "chunks").exists() and Ensemble(legacy).layout == "tables"


# --------------------------------------------------------------------------- plots: scanned == in memory
def test_grid_scanned_chunk_by_chunk_equals_the_grid_of_the_whole_table(folder):
    res = as_results(Ensemble(folder))
    towns = Ensemble(folder).table("towns")
    for value in ("delivered_t", "stock_t"):
        got, keys, reps = res.grid("towns", value, "town")
        want, wkeys, wreps = replication_grid(towns, "day", "town", value, days=res.days())
        assert keys == wkeys and np.array_equal(reps, wreps)
        np.testing.assert_array_equal(got, want)
    one, _, reps = res.grid("towns", "stock_t", "town", replications=[3])
    assert list(reps) == [3] and np.array_equal(one[0], got[3])


def test_plot_from_a_folder_equals_plot_of_the_same_tables_in_memory(folder, tmp_path):
    """The streaming path (a folder read one chunk file at a time) and the in-memory path (one chunk of
    every replication) draw the same figures, byte for byte."""
    disk = Ensemble(folder)
    memory = Ensemble.from_tables(disk.scenario, disk.seed, {t: disk.table(t) for t in TABLES}, disk.summary())
    a = plot_all(disk, tmp_path / "disk", dpi=60)
    b = plot_all(memory, tmp_path / "memory", dpi=60)
    assert [p.name for p in a] == [p.name for p in b] and {p.name for p in a} <= set(FIGURES) and len(a) >= 5
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
