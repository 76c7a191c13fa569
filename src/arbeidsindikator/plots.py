"""All figures of the book: one style, axis labels with units, a source line on every figure.

Functions take tidy frames computed elsewhere and return a matplotlib Figure; they compute
nothing statistical themselves.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

PALETTE = ["#3366aa", "#dd7733", "#339966", "#aa3377", "#777777", "#ccaa22", "#66ccee", "#882255"]
OUTCOME_LABEL = {
    "atid3": "atid3: hours/week, months t+1..t+3",
    "atid12": "atid12: hours/week, months t+1..t+12",
    "jobb3": "jobb3: share working >19 h/week in t+3 (%)",
    "jobb12": "jobb12: share working >19 h/week in t+12 (%)",
}
OUTCOME_UNIT = {"atid3": "hours per week", "atid12": "hours per week", "jobb3": "percent", "jobb12": "percent"}
INDICATOR_UNIT = {"atid3": "hours per week", "atid12": "hours per week", "jobb3": "percentage points", "jobb12": "percentage points"}
SOURCE_LINE = "Source: synthetic register data (arbeidsindikator generator); not NAV's results."


def source_line(synthetic: bool) -> str:
    if synthetic:
        return "Source: synthetic register data (arbeidsindikator generator); not NAV's results."
    return "Source: register extracts named in the run stamp; computed with arbeidsindikator."


def set_style() -> None:
    """One consistent look for every figure."""
    plt.rcParams.update(
        {
            "figure.figsize": (8.0, 4.2),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
            "font.size": 10,
            "legend.frameon": False,
            "svg.hashsalt": "arbeidsindikator",
        }
    )


def _finish(fig: Figure) -> Figure:
    fig.text(0.01, 0.005, SOURCE_LINE, fontsize=7, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    plt.close(fig)
    return fig


def _scale(outcome: str) -> float:
    return 100.0 if outcome.startswith("jobb") else 1.0


def outcomes_by_month(means: pd.DataFrame) -> Figure:
    """Figure 1: the four outcomes by measurement month (hours left axis, percent right axis)."""
    fig, ax = plt.subplots()
    ax2 = ax.twinx()
    ax2.spines["right"].set_visible(True)
    ax2.grid(False)
    idx = pd.DatetimeIndex(means.index)
    for i, o in enumerate(("atid3", "atid12")):
        ax.plot(idx, means[o], color=PALETTE[i], label=OUTCOME_LABEL[o])
    for i, o in enumerate(("jobb3", "jobb12")):
        ax2.plot(idx, means[o] * 100, color=PALETTE[i + 2], ls="--", label=OUTCOME_LABEL[o])
    ax.set_ylabel("hours per week")
    ax2.set_ylabel("percent")
    ax.set_xlabel("measurement month")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
    return _finish(fig)


def counts_by_month(counts: pd.DataFrame, ylabel: str = "persons") -> Figure:
    """Stacked area of counts by month and group (columns = groups)."""
    fig, ax = plt.subplots()
    idx = pd.DatetimeIndex(counts.index)
    ax.stackplot(idx, counts.T.to_numpy(), labels=[str(c) for c in counts.columns], colors=PALETTE[: counts.shape[1]], alpha=0.85)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("measurement month")
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    return _finish(fig)


def actual_expected(series: pd.DataFrame, outcome: str, title: str | None = None) -> Figure:
    """Actual vs expected by month (figures 6 and 8). ``series`` has columns actual, expected."""
    s = _scale(outcome)
    fig, ax = plt.subplots()
    idx = pd.DatetimeIndex(series.index)
    ax.plot(idx, series["actual"] * s, label="actual")
    ax.plot(idx, series["expected"] * s, label="expected", ls="--")
    ax.set_ylabel(OUTCOME_UNIT[outcome])
    ax.set_xlabel("measurement month")
    ax.set_title(title or OUTCOME_LABEL[outcome], fontsize=10)
    ax.legend()
    return _finish(fig)


def indicator_line(series: pd.DataFrame, outcome: str, title: str | None = None, band: bool = True) -> Figure:
    """The indicator by month with its 95 % interval (figures 7 and 9)."""
    s = _scale(outcome)
    fig, ax = plt.subplots()
    idx = pd.DatetimeIndex(series.index)
    if band and {"lower", "upper"} <= set(series.columns):
        ax.fill_between(idx, series["lower"] * s, series["upper"] * s, alpha=0.2, label="95 % interval")
    ax.plot(idx, series["indicator"] * s, label="indicator")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(INDICATOR_UNIT[outcome])
    ax.set_xlabel("measurement month")
    ax.set_title(title or f"Indicator, {outcome}", fontsize=10)
    ax.legend()
    return _finish(fig)


def lines_by_group(
    wide: pd.DataFrame,
    outcome: str,
    ylabel: str | None = None,
    title: str | None = None,
    highlight: Sequence[str] | None = None,
    zero_line: bool = False,
) -> Figure:
    """One line per group (columns) over months (index); optionally highlight a few groups."""
    s = _scale(outcome)
    fig, ax = plt.subplots(figsize=(8.0, 4.6))
    idx = pd.DatetimeIndex(wide.index)
    for i, col in enumerate(wide.columns):
        if highlight is not None and col not in highlight:
            ax.plot(idx, wide[col] * s, color="#bbbbbb", lw=0.8)
        else:
            ax.plot(idx, wide[col] * s, lw=1.6, label=str(col), color=PALETTE[i % len(PALETTE)] if highlight is None else None)
    if zero_line:
        ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(ylabel or OUTCOME_UNIT[outcome])
    ax.set_xlabel("measurement month")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=3, loc="best")
    return _finish(fig)


def multi_outcome(wide: pd.DataFrame, ylabel: str, title: str | None = None, zero_line: bool = True) -> Figure:
    """Several outcomes' series in one axis (columns = outcomes), e.g. figures 25–28."""
    fig, ax = plt.subplots()
    idx = pd.DatetimeIndex(wide.index)
    for col in wide.columns:
        ax.plot(idx, wide[col], label=str(col))
    if zero_line:
        ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("measurement month")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return _finish(fig)


def coefficient_comparison(df: pd.DataFrame, x: str, y: str, xlabel: str, ylabel: str, labels: Iterable[str] | None = None) -> Figure:
    """Scatter of our coefficients against published ones with the 45° line."""
    fig, ax = plt.subplots(figsize=(5.5, 5.0))
    ax.scatter(df[x], df[y], s=12, alpha=0.7)
    lo = float(min(df[x].min(), df[y].min()))
    hi = float(max(df[x].max(), df[y].max()))
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _finish(fig)
