"""Chapter 05's recipes: the alternative estimations as the chapter shows them, with the numbers
its prose quotes.

The estimations are :mod:`arbeidsindikator.analyses.alternatives`'s; this module picks what
each figure draws (e.g. the probit-vs-LPM curves in percentage points) and turns the summaries
into :class:`~arbeidsindikator.book.chapter.GlueValue` mappings for ``ch.glue_all``, so the
chapter holds narrative, calls, glue and figures only. Each function returns ``(figure data,
glue)``; names of glue values as the chapter's prose uses them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from arbeidsindikator.analyses import alternatives
from arbeidsindikator.book.chapter import GlueValue
from arbeidsindikator.config import RunConfig

__all__ = ["covid_view", "calendar_view", "lpm_view", "gap_view"]


def covid_view(cfg: RunConfig, outcome: str = "atid3") -> tuple[pd.DataFrame, dict[str, Any]]:
    """Main model vs a fit without the COVID stocks (:func:`alternatives.covid_out_of_sample`):
    the two curves, the window, rows fitted and pooled, the mean shift of the indicator."""
    covid, fit = alternatives.covid_out_of_sample(cfg, outcome)
    glue = {"alt_covid_window": str(cfg.covid_window), "alt_covid_nfit": fit.n_fit, "alt_covid_pooled": fit.pooled_rows,
            "alt_covid_shift": GlueValue((covid.iloc[:, 1] - covid.iloc[:, 0]).mean(), 2)}
    return covid, glue


def calendar_view(cfg: RunConfig, outcome: str = "atid3") -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Counties under the main model and with a dummy per month (:func:`alternatives.calendar_time`),
    and the spread over months of their mean (standard deviation, hours a week)."""
    main_c, time_c = alternatives.calendar_time(cfg, outcome)
    glue = {"alt_cal_sd_main": GlueValue(main_c.mean(axis=1).std(), 3),
            "alt_cal_sd_time": GlueValue(time_c.mean(axis=1).std(), 3)}
    return main_c, time_c, glue


def lpm_view(cfg: RunConfig, outcome: str = "jobb3") -> tuple[pd.DataFrame, dict[str, Any]]:
    """Probit vs linear probability model (:func:`alternatives.lpm_vs_probit`): the curves in
    percentage points, the largest difference and the two fit times (s)."""
    lpm, info = alternatives.lpm_vs_probit(cfg, outcome)
    glue = {"alt_lpm_diff": GlueValue(info["max_abs_diff_pp"], 2), "alt_lpm_s": GlueValue(info["lpm_s"], 1),
            "alt_probit_s": GlueValue(info["probit_s"], 1)}
    return lpm * 100, glue


def gap_view(cfg: RunConfig, outcome: str = "atid3") -> tuple[pd.DataFrame, dict[str, Any]]:
    """The main spell gap vs the other (:func:`alternatives.spell_gap`): the curves, the other gap,
    the share of rows whose duration changed (%), the mean durations and the largest difference."""
    curves, gap = alternatives.spell_gap(cfg, outcome)
    glue = {"gap_other": int(gap["other_gap"]), "gap_share_changed": f"{100 * gap['share_rows_changed']:.1f}",
            "gap_dur_main": f"{gap['mean_duration_main']:.1f}", "gap_dur_other": f"{gap['mean_duration_other']:.1f}",
            "gap_max_diff": f"{gap['max_abs_diff']:.2f}"}
    return curves, glue
