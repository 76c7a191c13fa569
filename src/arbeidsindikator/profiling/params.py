"""Parameters of the profiling evaluation (seed 003; digest Parts 2 and 3) and the outcome names.

:class:`ProfilingParams` holds every threshold of the outcome definition, the coded rule tree,
the population and the model comparison, with the sources' values as defaults;
:func:`params_from_config` reads the run configuration's ``profiling`` section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

import numpy as np
import pandas as pd

OUTCOMES: tuple[str, ...] = ("stable", "in_and_out", "without_work")
OUTCOME_LABEL: dict[str, str] = {
    "stable": "stable work", "in_and_out": "in and out of work", "without_work": "without work"}
PROFILERT_TIL: tuple[str, ...] = ("ANTATT_GODE_MULIGHETER", "ANTATT_BEHOV_FOR_VEILEDNING", "OPPGITT_HINDRINGER")
WorkRule = Literal["merged_spells", "veilarb_first_of_month"]

# --- parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfilingParams:
    """Every choice of the evaluation, with the report's / NAV's code's value as default."""

    # population (seed 003 §1.2, §3.1)
    periods: tuple[tuple[str, str], ...] = (("2018-09", "2019-03"), ("2023-03", "2023-07"))
    age_min: int = 30
    age_max: int = 59
    # outcome sequences (table 3); wages in G per month
    horizon: int = 12
    stable_above_g: float = 3.0
    stable_min_months: int = 10
    stable_late_first: int = 6
    stable_late_last: int = 12
    stable_late_min: int = 5
    without_below_g: float = 1.0
    without_min_months: int = 10
    # model inputs from the wage history
    history_months: int = 24
    history_above_g: float = 3.0
    wages_observed_from: str | None = None  # first month the wage extract covers ('YYYY-MM'); None: first in data
    wages_observed_until: str | None = None  # last month it covers; None: last month in the data
    # rule tree as coded (navikt/paw-arbeidssoekerregisteret-monorepo-ekstern, app profilering)
    work_rule: WorkRule = "merged_spells"  # or "veilarb_first_of_month" (the older veilarbregistrering rule)
    merge_margin_days: int = 3  # spells merge when next start − previous end < margin (NAV's code)
    min_work_months: int = 6
    age_tag_min: int = 18
    age_tag_max: int = 59
    age_tag_max_later: int = 66
    age_tag_change: str = "2026-04-01"
    nus2_tag_from: str | None = "2024-03-01"  # None: NUS 2 tags at any date (table 2's "at least primary school")
    # routing to NOE (table 2; digest Part 3)
    noe_age_min: int = 30
    noe_age_max: int = 59
    noe_age_max_later: int = 66
    noe_age_change: str = "2025-10-01"
    missing_decision_is_standard: bool = False
    # proposed model and variants (seed 003 §4.4)
    months_since_bands: tuple[int, ...] = (1, 2, 3, 4, 7, 13)  # lower edges; > history = 'none'
    n24_bands: tuple[int, ...] = (0, 7, 13, 19, 24)  # lower edges; 0–6 holds 'no month above 3 G'
    volume_b: float = 0.48  # variant B's volume under variant_b_rule = "fixed_volume" (table 8 prints 48 %)
    # the report's rule (§4.4): the largest volume that sends no more persons without work to NOE
    # than today; "fixed_volume" sends volume_b instead
    variant_b_rule: Literal["same_without_as_today", "fixed_volume"] = "same_without_as_today"
    typical_month: int = 9000
    # uncertainty and audit
    bootstrap_replicates: int = 2000
    bootstrap_seed: int = 20250302
    calibration_bins: int = 10
    volume_grid: tuple[float, ...] = tuple(np.round(np.arange(0.05, 0.951, 0.01), 2))

    def period_bounds(self) -> list[tuple[pd.Period, pd.Period]]:
        return [(pd.Period(a, freq="M"), pd.Period(b, freq="M")) for a, b in self.periods]

    def period_labels(self) -> list[str]:
        return [f"{a}–{b}" for a, b in self.periods]


def params_from_config(cfg: Any) -> ProfilingParams:
    """Parameters from the run configuration's validated ``profiling`` section (defaults where absent).

    ``cfg.profiling`` is a :class:`arbeidsindikator.config.ProfilingConfig` (validated when the
    configuration is loaded); an object with only ``raw`` is validated here. Unknown keys raise
    :class:`~arbeidsindikator.config.ConfigError` (a ``ValueError``) naming the key.
    """
    from arbeidsindikator.config import ProfilingConfig, profiling_section

    section = getattr(cfg, "profiling", None)
    if not isinstance(section, ProfilingConfig):
        section = profiling_section((getattr(cfg, "raw", None) or {}).get("profiling"))
    return ProfilingParams(**section.overrides())
