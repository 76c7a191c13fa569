"""Published reference tables of the methodology report (seed 002, appendix A).

The CSVs under ``data/reference/`` are hand-checked transcriptions of tables 1-4 of
"Arbeidsindikatoren - metoderapport" (NAV, spring 2025); see ``data/reference/README.md``
for provenance and every reading judgement. They are the yardstick the re-implementation is
compared against (descriptive statistics, group means, published coefficients), so they are
loaded with explicit dtypes rather than whatever pandas guesses.

The directory is found relative to the repository (``<repo>/data/reference``) because ``data/``
lives at the repository root, outside the package. Set ``ARBEIDSINDIKATOR_REFERENCE_DIR`` to
point somewhere else (e.g. an installed copy).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = [
    "ENV_VAR",
    "MAIN_GROUPS",
    "OUTCOMES",
    "TABLE3_PANELS",
    "reference_dir",
    "load_table1",
    "load_table2",
    "load_table3",
    "load_table4",
]

ENV_VAR = "ARBEIDSINDIKATOR_REFERENCE_DIR"

#: Column order of appendix A tables 1 and 2 (I alt, nedsatt arbeidsevne, helt ledige,
#: delvis ledige, arbeidssøkere på tiltak, andre i populasjonen).
MAIN_GROUPS: tuple[str, ...] = (
    "all",
    "nedsatt_arbeidsevne",
    "helt_ledige",
    "delvis_ledige",
    "arbeidssokere_tiltak",
    "andre",
)
#: The four outcome measures, in the column order of table 4.
OUTCOMES: tuple[str, ...] = ("atid3", "atid12", "jobb3", "jobb12")
#: Panels of table 3: whole population, young, country group 3 (all by county), service group.
TABLE3_PANELS: tuple[str, ...] = ("all", "young", "landgruppe3", "innsatsgruppe")

_UNITS = ("share", "hours_per_week", "count", "nok", "months", "years", "persons")


def reference_dir() -> Path:
    """Directory holding the reference CSVs.

    ``$ARBEIDSINDIKATOR_REFERENCE_DIR`` if set, else ``<repo root>/data/reference`` where the
    repo root is two levels above the package directory (src layout).
    """
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "data" / "reference"


def _read(name: str, dtype: dict[str, object], numeric: tuple[str, ...]) -> pd.DataFrame:
    path = reference_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"reference table {name!r} not found in {path.parent} (set {ENV_VAR} to override)"
        )
    # Only empty numeric cells are missing; text such as "NA" must never become NaN.
    df = pd.read_csv(
        path,
        dtype=dtype,
        keep_default_na=False,
        na_values={col: [""] for col in numeric},
        encoding="utf-8",
    )
    return df


def _desc_table(name: str) -> pd.DataFrame:
    df = _read(
        name,
        dtype={
            "measure": "string",
            "measure_no": "string",
            "main_group": "string",
            "value": "float64",
            "unit": "string",
            "source_line": "int64",
        },
        numeric=("value",),
    )
    df["main_group"] = pd.Categorical(df["main_group"], categories=list(MAIN_GROUPS), ordered=True)
    df["unit"] = pd.Categorical(df["unit"], categories=list(_UNITS))
    return df


def load_table1() -> pd.DataFrame:
    """Appendix A table 1: outcome means, observation counts and shares by main group.

    Long format: one row per (measure, main_group); shares are fractions (20 % -> 0.20).
    """
    return _desc_table("table1_outcomes_by_main_group.csv")


def load_table2() -> pd.DataFrame:
    """Appendix A table 2: description of the data set (covariate means/shares) by main group.

    Same layout as :func:`load_table1`; used to check simulated or real covariate distributions.
    """
    return _desc_table("table2_description_by_main_group.csv")


def load_table3() -> pd.DataFrame:
    """Appendix A table 3: mean outcomes by county (all / young / country group 3) and by
    service group (innsatsgruppe).

    Long format: one row per (panel, group, outcome); jobb values are fractions as printed.
    """
    df = _read(
        "table3_outcomes_by_group.csv",
        dtype={
            "panel": "string",
            "group": "string",
            "outcome": "string",
            "value": "float64",
            "source_line": "int64",
        },
        numeric=("value",),
    )
    df["panel"] = pd.Categorical(df["panel"], categories=list(TABLE3_PANELS), ordered=True)
    df["outcome"] = pd.Categorical(df["outcome"], categories=list(OUTCOMES), ordered=True)
    return df


def load_table4() -> pd.DataFrame:
    """Appendix A table 4: published regression coefficients for atid3, atid12 (OLS) and
    jobb3, jobb12 (probit), one row per (block, category), plus the constant and the
    ``fit_statistics`` row (mean of the dependent variable).

    Coefficient columns are float64 with NaN for blank/unreadable cells; ``is_reference`` marks
    the categories the report uses as reference (printed as zero).
    """
    df = _read(
        "table4_coefficients.csv",
        dtype={
            "block": "string",
            "category": "string",
            "label_no": "string",
            **{o: "float64" for o in OUTCOMES},
            "is_reference": "string",
            "source_line": "int64",
        },
        numeric=OUTCOMES,
    )
    flags = df["is_reference"].str.lower()
    if not flags.isin(["true", "false"]).all():
        raise ValueError("table4 column is_reference must be True/False")
    df["is_reference"] = (flags == "true").astype(bool)
    return df
