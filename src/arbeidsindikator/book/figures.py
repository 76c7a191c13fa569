"""All figures of the book: one style, axis labels with units, a source line on every figure.

Functions take tidy frames computed elsewhere and return a matplotlib Figure; they compute
nothing statistical themselves. The source line and the alt text are added when a chapter glues
the figure (:meth:`arbeidsindikator.book.chapter.Chapter.glue_figure` calls :func:`add_source`
and :func:`alt_text` with the chapter's :class:`FigureStyle`), so no module state is involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from arbeidsindikator.profiling.params import OUTCOME_LABEL as PROFILING_OUTCOME_LABEL  # noqa: E402
from arbeidsindikator.profiling.params import OUTCOMES as PROFILING_OUTCOMES  # noqa: E402

#: Okabe & Ito's colour-blind-safe palette (distinguishable with the common colour-vision
#: deficiencies; black last). Lines also differ by style where two series share an axis.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
OUTCOME_LABEL = {
    "atid3": "atid3: hours/week, months t+1..t+3",
    "atid12": "atid12: hours/week, months t+1..t+12",
    "jobb3": "jobb3: share working >19 h/week in t+3 (%)",
    "jobb12": "jobb12: share working >19 h/week in t+12 (%)",
}
OUTCOME_UNIT = {"atid3": "hours per week", "atid12": "hours per week", "jobb3": "percent", "jobb12": "percent"}
INDICATOR_UNIT = {"atid3": "hours per week", "atid12": "hours per week", "jobb3": "percentage points", "jobb12": "percentage points"}


def source_line(synthetic: bool) -> str:
    """The line printed under every figure: where the numbers come from."""
    if synthetic:
        return "Source: synthetic register data (arbeidsindikator generator); not NAV's results."
    return "Source: register extracts named in the run stamp; computed with arbeidsindikator."


@dataclass(frozen=True)
class FigureStyle:
    """What a chapter's figures share: the source line (depends on the data source)."""

    source: str

    @classmethod
    def for_data(cls, synthetic: bool) -> "FigureStyle":
        return cls(source=source_line(synthetic))


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
    """Lay out (leaving room at the bottom for the source line) and close the figure."""
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    plt.close(fig)
    return fig


def add_source(fig: Figure, source: str) -> Figure:
    """Print ``source`` in the bottom-left corner (once, however often it is called)."""
    if not any(getattr(t, "_is_source_line", False) for t in fig.texts):
        t = fig.text(0.01, 0.005, source, fontsize=7, color="#555555", ha="left", va="bottom")
        t._is_source_line = True  # type: ignore[attr-defined]
    return fig


def alt_text(fig: Figure) -> str:
    """A description of the figure for screen readers, from its titles, axis labels and legends."""
    parts = []
    for ax in fig.axes:
        if not ax.get_visible() or (not ax.has_data() and not ax.get_title()):
            continue
        bits = []
        if ax.get_title():
            bits.append(ax.get_title())
        if ax.get_xlabel():
            bits.append(f"horizontal axis: {ax.get_xlabel()}")
        if ax.get_ylabel():
            bits.append(f"vertical axis: {ax.get_ylabel()}")
        leg = ax.get_legend()
        if leg is not None:
            labels = [t.get_text() for t in leg.get_texts() if t.get_text()]
            if labels:
                bits.append("series: " + ", ".join(labels[:12]) + (" and more" if len(labels) > 12 else ""))
        if bits:
            parts.append("; ".join(bits).replace("\n", " "))
    kind = "Chart" if len(parts) <= 1 else f"{len(parts)} charts"
    return f"{kind}. " + " | ".join(parts) if parts else "Chart."


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


def indicator_bands(iv: pd.DataFrame, outcome: str, title: str | None = None) -> Figure:
    """Indicator with nested 50 %, 80 % and 95 % intervals (appendix C suggests 50/80 %)."""
    s = _scale(outcome)
    fig, ax = plt.subplots()
    idx = pd.DatetimeIndex(iv.index)
    for lv, alpha in ((95, 0.15), (80, 0.25), (50, 0.4)):
        ax.fill_between(idx, iv[f"lower_{lv}"] * s, iv[f"upper_{lv}"] * s, alpha=alpha, color=PALETTE[0], lw=0, label=f"{lv} % interval")
    ax.plot(idx, iv["indicator"] * s, color=PALETTE[0], label="indicator")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(INDICATOR_UNIT[outcome])
    ax.set_xlabel("measurement month")
    ax.set_title(title or f"Indicator {outcome} with bootstrap intervals", fontsize=10)
    ax.legend(fontsize=8)
    return _finish(fig)


# --- profiling (seed 003) ---

PROFILING_OUTCOME_COLOR = {"stable": PALETTE[2], "in_and_out": PALETTE[5], "without_work": PALETTE[1]}


def profiling_sequences(pct: pd.DataFrame) -> Figure:
    """Figure 2 of seed 003 as aggregates: median wage in G per month after registration with the
    25–75 % and 10–90 % ranges, one panel per outcome group (no person-level data)."""
    groups = [g for g in PROFILING_OUTCOMES if g in set(pct["outcome"])]
    fig, axes = plt.subplots(1, len(groups), figsize=(8.0, 3.6), sharey=True, squeeze=False)
    for ax, oc in zip(axes[0], groups):
        d = pct[pct["outcome"] == oc].sort_values("month")
        c = PROFILING_OUTCOME_COLOR[oc]
        ax.fill_between(d["month"], d["p10"], d["p90"], color=c, alpha=0.18, lw=0, label="10–90 %")
        ax.fill_between(d["month"], d["p25"], d["p75"], color=c, alpha=0.4, lw=0, label="25–75 %")
        ax.plot(d["month"], d["p50"], color=c, lw=1.8, label="median")
        for g, ls in ((1.0, ":"), (3.0, "--")):
            ax.axhline(g, color="#444444", lw=0.8, ls=ls)
        n = int(d["n"].iloc[0])
        ax.set_title(f"{PROFILING_OUTCOME_LABEL[oc]} ({n:,} registrations)".replace(",", "\u202f"), fontsize=9)
        ax.set_xlabel("month after registration")
        ax.set_xticks([1, 3, 6, 9, 12])
    axes[0][0].set_ylabel("wage in G per month")
    axes[0][0].legend(fontsize=7, loc="upper left")
    return _finish(fig)


def profiling_crosstab(long: pd.DataFrame) -> Figure:
    """Figures 3–4 / table 5: share of all registrations by sorting group, stacked by outcome."""
    d = long[long["sorting"] != "all"].copy()
    d["bar"] = d["sorting"] + ": " + d["group"].str.replace("_", "-")
    wide = d.pivot_table(index="bar", columns="outcome", values="share", aggfunc="sum", observed=True)
    order = ["profiling: standard", "profiling: non-standard", "decision: standard", "decision: non-standard"]
    wide = wide.reindex(index=[b for b in order if b in wide.index], columns=list(PROFILING_OUTCOMES))
    fig, ax = plt.subplots(figsize=(8.0, 3.6))
    left = pd.Series(0.0, index=wide.index)
    for oc in PROFILING_OUTCOMES:
        ax.barh(wide.index, wide[oc] * 100, left=left * 100, color=PROFILING_OUTCOME_COLOR[oc],
                label=PROFILING_OUTCOME_LABEL[oc])
        left = left + wide[oc]
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("percent of all registrations aged 30–59")
    ax.legend(fontsize=8, loc="lower right")
    return _finish(fig)


def profiling_destinations(dest: pd.DataFrame, unit: str = "persons per typical month") -> Figure:
    """Figure 5 of seed 003: NOE vs local office by outcome for each sorting."""
    sortings = list(dict.fromkeys(dest["sorting"]))
    fig, axes = plt.subplots(1, len(sortings), figsize=(8.0, 3.8), sharey=True)
    for ax, name in zip(axes, sortings):
        d = dest[dest["sorting"] == name].pivot_table(index="destination", columns="outcome",
                                                       values="persons_per_month", aggfunc="sum")
        d = d.reindex(index=["NOE", "local office"], columns=list(PROFILING_OUTCOMES))
        bottom = pd.Series(0.0, index=d.index)
        for oc in PROFILING_OUTCOMES:
            ax.bar(d.index, d[oc], bottom=bottom, color=PROFILING_OUTCOME_COLOR[oc], label=PROFILING_OUTCOME_LABEL[oc])
            bottom = bottom + d[oc]
        ax.set_title(name, fontsize=9)
    axes[0].set_ylabel(unit)
    axes[-1].legend(fontsize=7, loc="upper right")
    return _finish(fig)


def profiling_calibration(cal: dict[str, pd.DataFrame]) -> Figure:
    """Observed share vs mean predicted probability by bin, with 95 % intervals and the diagonal."""
    fig, axes = plt.subplots(1, len(cal), figsize=(8.0, 4.0), sharex=True, sharey=True)
    for ax, (target, c) in zip(axes, cal.items()):
        yerr = [(c["observed"] - c["observed_lower"]) * 100, (c["observed_upper"] - c["observed"]) * 100]
        ax.errorbar(c["mean_predicted"] * 100, c["observed"] * 100, yerr=yerr, fmt="o", ms=4,
                    color=PROFILING_OUTCOME_COLOR.get(target, PALETTE[0]))
        ax.plot([0, 100], [0, 100], color="black", lw=0.8)
        ax.set_title(f"P({PROFILING_OUTCOME_LABEL.get(target, target)})", fontsize=9)
        ax.set_xlabel("mean predicted probability (%)")
    axes[0].set_ylabel("observed share (%)")
    return _finish(fig)


def profiling_volume_curves(curve: pd.DataFrame, points: pd.DataFrame) -> Figure:
    """Accuracy and persons without work sent to NOE as the volume to NOE grows (both rankings);
    markers: today's rule tree and the two variants."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.0, 4.0))
    spec = {"P(stable)": ("accuracy_stable", "-"), "1 − P(without work)": ("accuracy_not_without", "--")}
    for i, (ranking, (acc_col, ls)) in enumerate(spec.items()):
        c = curve[curve["ranking"] == ranking]
        ax1.plot(c["volume"] * 100, c[acc_col] * 100, ls=ls, color=PALETTE[i], label=f"ranked by {ranking}")
        ax2.plot(c["volume"] * 100, c["without_to_noe_per_month"], ls=ls, color=PALETTE[i], label=f"ranked by {ranking}")
    markers = {"today (rule tree)": "s", "variant A": "o", "variant B": "^"}
    for _, r in points.iterrows():
        acc = r["accuracy_not_without"] if r["sorting"] == "variant B" else r["accuracy_stable"]
        m = markers.get(r["sorting"], "x")
        ax1.plot(r["share_to_noe"] * 100, acc * 100, m, color="black", ms=6, label=r["sorting"])
        ax2.plot(r["share_to_noe"] * 100, r["without_to_noe_per_month"], m, color="black", ms=6)
    ax1.set_xlabel("percent of registrations sent to NOE")
    ax1.set_ylabel("accuracy (%)")
    ax2.set_xlabel("percent of registrations sent to NOE")
    ax2.set_ylabel("without work sent to NOE\n(persons per typical month)")
    ax1.legend(fontsize=7, loc="lower center")
    return _finish(fig)


def profiling_fairness(fair: pd.DataFrame) -> Figure:
    """False-positive and false-negative rates (target: stable work) by group and sorting."""
    fair = fair.assign(label=fair["attribute"].map({"kvinne": "sex", "landgruppe": "country"}) + ": " + fair["group"])
    labels = list(dict.fromkeys(fair["label"]))
    sortings = list(dict.fromkeys(fair["sorting"]))
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 4.2), sharey=True)
    for ax, (col, title) in zip(axes, (("fpr", "FPR: sent to NOE, not stable"), ("fnr", "FNR: local office, stable"))):
        for i, name in enumerate(sortings):
            d = fair[fair["sorting"] == name].set_index("label").reindex(labels)
            ax.plot(d[col] * 100, range(len(labels)), "o", color=PALETTE[i], label=name)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("percent")
    axes[0].set_yticks(range(len(labels)))
    axes[0].set_yticklabels(labels, fontsize=8)
    axes[0].invert_yaxis()
    axes[1].legend(fontsize=7, loc="lower right")
    return _finish(fig)


def profiling_explanation(expl: pd.DataFrame) -> Figure:
    """Per person: each input's contribution to the log-odds of stable work vs the average registration."""
    people = list(dict.fromkeys(expl["reg_id"]))
    fig, axes = plt.subplots(len(people), 1, figsize=(8.0, 1.5 * len(people) + 0.8), sharex=True)
    axes = [axes] if len(people) == 1 else list(axes)
    for ax, rid in zip(axes, people):
        d = expl[(expl["reg_id"] == rid) & (expl["input_short"] != "average")]
        lab = [f"{i}: {v}" for i, v in zip(d["input_short"], d["value"])]
        ax.barh(lab, d["contribution"], color=[PALETTE[2] if c > 0 else PALETTE[1] for c in d["contribution"]])
        ax.axvline(0, color="black", lw=0.8)
        ax.invert_yaxis()
        ax.tick_params(axis="y", labelsize=8)
        ax.set_title(f"{d['case'].iloc[0]}: P(stable work) = {d['probability'].iloc[0] * 100:.0f} %", fontsize=9)
    axes[-1].set_xlabel("contribution to the log-odds of stable work (vs the average registration)")
    return _finish(fig)
