"""How tables, warnings and figures are presented (book.chapter, book.figures), and the
profiling readings chapter 07 shows (variant B's rule, aggregated sequences)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.book import chapter as book
from arbeidsindikator.book import figures as plots
from arbeidsindikator.profiling import evaluation as profiling


def test_cells_are_formatted_for_their_unit():
    df = pd.DataFrame({"sorting": ["a|b", "x"], "share_to_noe": [0.37, 0.481], "n": [12000, 5],
                       "coefficient": [-0.1234, 0.5], "p_value": [0.0001, 0.2], "fnr_gap": [0.05, -0.02],
                       "ok": [True, False], "value": [np.nan, 1.5]})
    shown, numeric = book.display_frame(df)
    assert list(shown.columns) == list(df.columns)  # no index column
    assert shown["share_to_noe"].tolist() == ["37.0\u202f%", "48.1\u202f%"]
    assert shown["n"].tolist() == ["12\u202f000", "5"]
    assert shown["coefficient"].tolist() == ["\u22120.123", "0.500"]
    assert shown["p_value"].tolist() == ["< 0.001", "0.200"]
    assert shown["fnr_gap"].tolist() == ["5.0\u202fpp", "\u22122.0\u202fpp"]
    assert shown["ok"].tolist() == ["yes", "no"]
    assert shown["value"].iloc[0] == "–"
    assert numeric == [False, True, True, True, True, True, False, True]
    md = book.markdown_table(shown, numeric)
    assert md.splitlines()[1].startswith("|:---|---:|")
    assert "a\\|b" in md and len(md.splitlines()) == 4  # every row, nothing truncated


def test_meaningful_index_becomes_a_column_and_formats_override():
    df = pd.DataFrame({"x": [0.5, 0.25]}, index=pd.Index(["a", "b"], name="group"))
    shown, _ = book.display_frame(df, {"x": "pct0"})
    assert list(shown.columns) == ["group", "x"] and shown["x"].tolist() == ["50\u202f%", "25\u202f%"]


def test_table_renders_once_writes_csv_and_excel(tmp_path, tiny_cfg, monkeypatch):
    from dataclasses import replace

    monkeypatch.setenv(book.BOOK_DIR_ENV, str(tmp_path / "_build" / "book"))
    (tmp_path / "_build" / "book" / "chapters").mkdir(parents=True)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    ch = book.Chapter(name="99_test", cfg=replace(tiny_cfg, cache_dir=tmp_path / "cache"))
    df = pd.DataFrame({"group": [f"g{i}" for i in range(40)], "n": range(40), "share": np.linspace(0, 1, 40)})
    out = ch.table(df, "long", count_col="n", caption="A long table.")
    assert len(shown) == 1
    md = shown[0]._repr_markdown_()
    assert ":::{table} A long table." in md and "book-table-scroll" in md
    assert len(re.findall(r"\n\| g\d", md)) == 40
    assert "{download}`CSV <../../../tables/" in md and ".xlsx>`" in md
    assert (ch.tables_dir / "long.csv").exists() and (ch.tables_dir / "long.xlsx").exists()
    assert out.round(3) is out and len(out.frame) == 40  # rows kept
    kept = ~out.frame["suppressed"].astype(bool)
    assert out.frame["suppressed"].sum() >= 9  # 0 < n < 10 suppressed (counts too: a count is a cell)
    assert out.frame.loc[kept, "n"].tolist() == [0] + list(range(10, 40))  # an empty cell discloses nothing
    assert out.frame.loc[~kept & (out.frame.index > 0), "n"].isna().all()
    assert pd.read_excel(ch.tables_dir / "long.xlsx").shape == (40, 4)


def test_warnings_are_described_in_the_books_words():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("probit MLE does not exist (perfect separation): every used row at these levels has "
                      "the same outcome: a[1], b[x]", UserWarning)
        warnings.warn("could not read /tmp/xyz/file.parquet quickly", UserWarning)
    text = book.describe_warnings(caught)
    assert text is not None and "`a[1]`" not in text  # not a SeparationWarning class: generic wording
    assert "/tmp/xyz" not in text and text.startswith(":::{admonition}")

    class SeparationWarning(UserWarning):
        pass

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("probit ... same outcome: a[1], b[x]", SeparationWarning)
        warnings.warn("probit ... same outcome: a[1]", SeparationWarning)
    text = book.describe_warnings(caught)
    assert "Separated levels" in text and text.count("`a[1]`") == 1 and "`b[x]`" in text
    assert book.describe_warnings([]) is None


def test_collector_keeps_warnings_off_stderr(capsys):
    c = book.WarningCollector()
    old = warnings.showwarning
    try:
        c.install()
        warnings.warn("quiet please", RuntimeWarning)
    finally:
        warnings.showwarning = old
    assert "quiet please" not in capsys.readouterr().err
    assert [str(w.message) for w in c.caught] == ["quiet please"]


def test_figure_gets_source_line_and_alt_text():
    fig = plots.actual_expected(pd.DataFrame({"actual": [1.0, 2.0], "expected": [1.5, 1.5]},
                                             index=pd.to_datetime(["2020-01-01", "2020-02-01"])), "atid3")
    plots.add_source(fig, "Source: test")
    plots.add_source(fig, "Source: test")
    assert [t.get_text() for t in fig.texts].count("Source: test") == 1
    alt = plots.alt_text(fig)
    assert "hours per week" in alt and "measurement month" in alt and "actual" in alt
    assert not hasattr(plots, "SOURCE_LINE")


def test_variant_b_rule_sends_no_more_without_work_than_today():
    rng = np.random.default_rng(3)
    n = 2000
    p_without = rng.uniform(size=n)
    without = rng.uniform(size=n) < p_without
    eligible = rng.uniform(size=n) < 0.8
    today = eligible & (rng.uniform(size=n) < 0.4)
    limit = int((today & without).sum())
    b = profiling.variant_b_same_without(p_without, eligible, without, limit)
    assert (b & without).sum() <= limit and not (b & ~eligible).any()
    # the largest such volume: one more registration down the ranking would exceed the limit
    order = np.flatnonzero(eligible)[np.argsort(p_without[eligible], kind="stable")]
    k = int(b.sum())
    assert k == len(order) or (without[order[: k + 1]].sum() > limit)
    assert b[order[:k]].all()


def test_sequences_are_shown_as_percentiles_not_persons():
    frame = pd.DataFrame({"outcome": ["stable"] * 30 + ["without_work"] * 5})
    post = np.tile(np.arange(12, dtype=float), (35, 1))
    pct = profiling.sequence_percentiles(frame, post, min_count=10)
    assert set(pct["outcome"]) == {"stable"}  # the small group is left out
    assert len(pct) == 12 and pct["p50"].tolist() == list(np.arange(12.0))
    assert "reg_id" not in pct.columns and (pct["n"] == 30).all()
