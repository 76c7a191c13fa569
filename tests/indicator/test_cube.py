"""The chunked paths (store, cube, recipes) equal the in-memory computations on the whole panel.

The chunk size is forced small (a few hundred person-months, so the tiny panel is split into
many chunks of whole persons) through ``output.chunk_rows``; every table the chapters show is
compared with the in-memory function it replaces, at 1e-12 (floating-point summation order
differs between a one-pass groupby and chunk sums).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbeidsindikator import pipeline
from arbeidsindikator.book import recipes, tables
from arbeidsindikator.indicator import cube as cb
from arbeidsindikator.indicator import export, indicator
from arbeidsindikator.panel import outcomes, population

TOL = dict(rtol=1e-12, atol=1e-12)


def test_store_has_many_chunks_of_whole_persons(chunked_cfg):
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(pipeline.store_panel_path(chunked_cfg))
    assert pf.num_row_groups > 5
    seen: set[int] = set()
    for chunk in pipeline.iter_chunks(chunked_cfg, ["person_id"]):
        ids = set(chunk["person_id"].unique())
        assert not ids & seen, "a person is split across chunks"
        seen |= ids


@given(st.lists(st.integers(1, 30), min_size=0, max_size=60), st.integers(1, 50))
@settings(max_examples=200, deadline=None)
def test_person_cuts_cover_rows_and_never_split_a_person(rows_per_person, size):
    person = np.repeat(np.arange(len(rows_per_person)), rows_per_person)
    cuts = pipeline.store._person_cuts(person, size)
    assert [a for a, _ in cuts[1:]] == [b for _, b in cuts[:-1]]
    assert (cuts[0][0] if cuts else 0) == 0 and (cuts[-1][1] if cuts else 0) == len(person)
    for a, b in cuts:
        assert b > a
        assert a == 0 or person[a] != person[a - 1]
        # a chunk exceeds the size only if it holds a single person
        assert b - a <= size or person[a] == person[b - 1]


def test_store_equals_panel_with_expected(chunked_cfg, tiny_cfg):
    ref = pipeline.load_panel(tiny_cfg).panel
    mm = pipeline.fit_main_models(ref, pipeline.covariate_options(tiny_cfg))
    ref = indicator.add_derived_groups(ref.assign(**{f"exp_{o}": mm.expected[o].to_numpy() for o in mm.expected.columns}))
    stored = pd.concat(list(pipeline.iter_chunks(chunked_cfg)), ignore_index=True)
    pd.testing.assert_frame_equal(ref.reset_index(drop=True), stored, check_exact=False, **TOL)


SERIES = [(None, None), ("fylke", None), ("innsatsgruppe", None), ("tiltak", None), (["tiltak", "fylke"], None),
          ("fylke", "ungdomsgaranti"), ("fylke", "landgruppe3"), ("nav_kontor", None)]


@pytest.mark.parametrize("outcome", ["atid3", "jobb12"])
@pytest.mark.parametrize("by,subset", SERIES)
def test_indicator_series_from_cube_equals_in_memory(chunked_cfg, outcome, by, subset):
    a = pipeline.indicator_series_in_memory(chunked_cfg, outcome, by, subset=subset)
    b = pipeline.indicator_series(chunked_cfg, outcome, by, subset=subset)
    pd.testing.assert_frame_equal(a, b, **TOL)


def test_recipes_equal_the_in_memory_functions(chunked_cfg):
    cfg = chunked_cfg
    df = pipeline.panel_with_expected(cfg)
    panel = df.drop(columns=[c for c in df.columns if c.startswith("exp_")] + ["ungdomsgaranti", "landgruppe3"])
    a, b = population.summary(panel), recipes.population_summary(cfg)
    assert a.keys() == b.keys() and all(a[k] == b[k] if isinstance(a[k], str) else np.isclose(a[k], b[k], rtol=1e-12) for k in a)
    pd.testing.assert_frame_equal(population.main_group_table(panel), recipes.main_group_table(cfg), **TOL)
    pd.testing.assert_series_equal(population.seasonal_profile(panel), recipes.seasonal_profile(cfg), **TOL)
    pd.testing.assert_frame_equal(population.counts_by_month(panel), recipes.counts_by_month(cfg))
    pd.testing.assert_frame_equal(population.counts_by_month(df, "innsatsgruppe"), recipes.counts_by_month(cfg, "innsatsgruppe"))
    pd.testing.assert_frame_equal(outcomes.monthly_means(panel), recipes.outcome_monthly_means(cfg), **TOL)
    a, b = outcomes.overall_means(panel), recipes.outcome_overall_means(cfg)
    assert all(np.isclose(a[k], b[k], rtol=1e-12) for k in a)
    pd.testing.assert_frame_equal(outcomes.observability_summary(panel), recipes.observability_summary(cfg))
    pd.testing.assert_frame_equal(tables.regressor_table(panel, pipeline.covariate_options(cfg)), recipes.regressor_table(cfg))
    assert np.isclose(indicator.sums_to_zero(df, "atid3"), recipes.mean_residual(cfg, "atid3"), rtol=1e-6, atol=1e-12)
    for t in (1, 2):
        pd.testing.assert_frame_equal(tables.descriptive_vs_published(df, t), recipes.descriptive_vs_published(cfg, t), **TOL)
    pd.testing.assert_frame_equal(tables.table3_vs_published(df), recipes.table3_vs_published(cfg), **TOL)


def test_export_from_cube_equals_in_memory(chunked_cfg):
    a = export.long_format(pipeline.panel_with_expected(chunked_cfg), chunked_cfg)
    b = recipes.long_format(chunked_cfg)
    pd.testing.assert_frame_equal(a, b, **TOL)


def test_cube_of_disjoint_chunks_adds_up(chunked_cfg):
    """Combining partial sums in any grouping gives the same cube (the law of total variance)."""
    c = pipeline.cube(chunked_cfg)
    chunks = list(pipeline.iter_chunks(chunked_cfg))
    one = cb.label_cube(cb.combine_partials([cb.chunk_partials(pd.concat(chunks, ignore_index=True), c.levels)], c.levels), c.levels)
    pd.testing.assert_frame_equal(one, c.cells, check_exact=False, check_dtype=False, check_categorical=False, **TOL)


def test_add_chunk_equals_partials_bit_for_bit(chunked_cfg):
    """The build's one-kernel chunk sums equal Accumulator.add(chunk_partials(...)) exactly."""
    c = pipeline.cube(chunked_cfg)
    chunks = list(pipeline.iter_chunks(chunked_cfg))[:6]
    a, b = cb.Accumulator(cb.n_cells(c.levels)), cb.Accumulator(cb.n_cells(c.levels))
    for chunk in chunks:
        a.add(cb.chunk_partials(chunk, c.levels))
        cb.add_chunk(b, chunk, c.levels)
    pd.testing.assert_frame_equal(a.result(), b.result(), check_exact=True)


def test_monthly_from_arrays_equals_indicator_monthly(tiny_cfg):
    df = pipeline.panel_with_expected(tiny_cfg)
    e = df["exp_atid3"].to_numpy() + 0.1
    for by in (None, "fylke"):
        a = indicator.monthly(df.assign(exp_atid3=e), "atid3", by)
        b = cb.monthly_from_arrays(df["month"], df["atid3"].to_numpy(), e, "atid3", None if by is None else df[by], by)
        pd.testing.assert_frame_equal(a, b, **TOL)


@pytest.mark.slow
def test_book_tables_through_small_chunks_equal_one_chunk(tmp_path):
    """Chapters 00-05 executed with chunks of 997 rows write the same tables as with one chunk."""
    import os
    import subprocess
    import sys

    from conftest import REPO, write_config

    outs = {}
    for name, chunk in (("small", 997), ("one", 10**9)):
        d = tmp_path / name
        d.mkdir()
        cfg_path = write_config(d, **{"output.cache_dir": str(d / "cache"), "output.chunk_rows": chunk})
        env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
        env.pop(pipeline.CHUNK_ENV, None)
        res = subprocess.run([sys.executable, "-m", "arbeidsindikator.book.build", "--config", str(cfg_path), "--only",
                              "00_introduction", "01_population", "02_outcomes", "03_regression", "04_results", "05_alternatives"],
                             cwd=REPO, env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        # a partial build (--only) publishes nothing: its tables stay in its run folder
        run = re.search(r"into (\S+) \(nothing published", res.stdout)
        assert run, res.stdout[-2000:]
        # both configurations share a run fingerprint (output settings are not part of it): copy now
        import shutil

        shutil.copytree(Path(run.group(1)) / "tables", d / "tables")
        outs[name] = d / "tables"
    files = sorted(p.relative_to(outs["one"]) for p in outs["one"].rglob("*.csv"))
    assert files and files == sorted(p.relative_to(outs["small"]) for p in outs["small"].rglob("*.csv"))
    for f in files:
        a, b = pd.read_csv(outs["one"] / f), pd.read_csv(outs["small"] / f)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12, obj=str(f))
