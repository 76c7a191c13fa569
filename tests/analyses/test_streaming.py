"""The store's streamed influence sums equal the in-memory path (tiny chunks of whole persons)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.analyses import influence, streaming
from arbeidsindikator.analyses import uncertainty as unc
from arbeidsindikator.indicator import seasonal

OUTCOMES = ("atid3", "jobb12")


def _tables(infs, cfg, o):
    w = seasonal.windows_for(cfg, o)
    return pd.concat([unc.summarise(infs["person"], w, ["printed", "analytic_person", "multiplier_person"]),
                      unc.summarise(infs["observation"], w, ["analytic_observation", "multiplier_observation"])],
                     ignore_index=True)


def test_streamed_intervals_equal_in_memory_with_tiny_chunks(tiny_cfg, monkeypatch):
    from arbeidsindikator import pipeline

    monkeypatch.setenv(pipeline.CHUNK_ENV, "997")  # many chunks, none splitting a person
    assert pipeline.chunk_rows(tiny_cfg) == 997
    seeds = {o: 7 + k for k, o in enumerate(OUTCOMES)}
    streamed, seconds = streaming.store_influences(tiny_cfg, OUTCOMES, replicates=40, obs_replicates=15, seeds=seeds)
    assert seconds["pass2_design_kernels"] > 0
    n_chunks = sum(1 for _ in pipeline.iter_chunks(tiny_cfg, ["person_id"]))
    assert n_chunks > 20
    opts = pipeline.covariate_options(tiny_cfg)
    for o in OUTCOMES:
        df, f = unc.read_panel(tiny_cfg, o)
        layout, res, chunks = unc.panel_chunks(df, o, opts, f)
        mem = influence.accumulate_levels(layout, res, chunks, replicates=40, obs_replicates=15, seed=seeds[o])
        a, b = _tables(streamed[o], tiny_cfg, o), _tables(mem, tiny_cfg, o)
        assert len(a) == len(b) > 100
        pd.testing.assert_frame_equal(a[list(unc._Collector.KEYS) + ["period"]].reset_index(drop=True),
                                      b[list(unc._Collector.KEYS) + ["period"]].reset_index(drop=True))
        num = [c for c in a.columns if c not in unc._Collector.KEYS + ("period",)]
        np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=1e-10, atol=1e-12)
        assert (a["method"] == "multiplier_person").any() and a["se"].notna().mean() > 0.5


def test_chunk_design_must_reproduce_the_stored_expected_values():
    codes = np.array([[1, -1], [2, 1]])
    class R:
        params = pd.Series([1.0, 0.5, 0.25], index=["const", "a[x]", "b[y]"])
        outcome = "atid3"
    streaming._check_prediction(codes, R, np.array([1.5, 1.75]), "ols", 0)
    with pytest.raises(ValueError, match="does not reproduce"):
        streaming._check_prediction(codes, R, np.array([1.5, 1.80]), "ols", 3)


def test_unit_positions_equal_the_label_lookup():
    from arbeidsindikator.analyses.influence import unit_labels

    rng = np.random.default_rng(0)
    for vals in (pd.Categorical(rng.choice(["a", "b", "c", None], 1000), categories=["c", "a", "b", "z"]),
                 pd.Categorical([None] * 5, categories=["a"]), rng.choice(["x", "a"], 50), rng.integers(0, 5, 40)):
        s = pd.Series(vals)
        for idx in (pd.Index(sorted(set(unit_labels(s)))), pd.Index(["a", "b"])):
            assert np.array_equal(streaming._unit_positions(s, idx), idx.get_indexer(unit_labels(s)))


def test_a_chunk_without_observed_rows_adds_nothing(tiny_cfg):
    """A store chunk where nobody's outcome is observable yet (e.g. everyone entered in the last 12
    months) yields an empty PanelChunk: both passes skip it, and the sums equal those without it."""
    import dataclasses

    from arbeidsindikator import pipeline

    opts = pipeline.covariate_options(tiny_cfg)
    df, f = unc.read_panel(tiny_cfg, "atid12")
    layout, res, chunks = unc.panel_chunks(df, "atid12", opts, f)
    first = next(iter(chunks()))
    empty = dataclasses.replace(first, codes=None if first.codes is None else first.codes[:0], y=first.y[:0],
                                expected=first.expected[:0], person=first.person[:0], month=first.month[:0],
                                units={g: u[:0] for g, u in first.units.items()},
                                person_ordinal=first.person_ordinal[:0], row_ordinal=first.row_ordinal[:0])

    def with_empty():
        yield empty
        yield from chunks()
        yield empty

    a = influence.accumulate_levels(layout, res, chunks, replicates=5, seed=3)
    b = influence.accumulate_levels(layout, res, with_empty, replicates=5, seed=3)
    for lv in a:
        for name, va in vars(a[lv]).items():
            vb = getattr(b[lv], name)
            if isinstance(va, np.ndarray):
                np.testing.assert_array_equal(va, vb, err_msg=f"{lv}.{name}")
