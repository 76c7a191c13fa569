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

from arbeidsindikator.config import REPO_ROOT
from arbeidsindikator.spec import OUTCOMES  # the four outcome measures, also the column order of table 4

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
    "TABLE4_NAMES",
    "table4_rows",
    "published_coefficients",
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
    return REPO_ROOT / "data" / "reference"


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


# --- published coefficients in the model's naming -------------------------------------------
# The one map from table 4's printed rows to the model's coefficient names (``block[level]``):
# the book's comparison table and the synthetic generator's planted coefficients both use it.

_BOOL_BLOCKS = {
    "gift": "gift", "kvinne": "kvinne", "hoyere_utd": "hoyere_utdanning", "ufor": "ufor",
    "permittert": "permittert", "helse_ytelse": "helse_ytelse", "arbeid_ytelse": "arbeid_ytelse",
}
_HOURS = {"0-8": "0-8 timer", "8-16": "8-16 timer", "16-24": "16-24 timer", "24-32": "24-32 timer",
          "32-38": "32-38 timer", ">38": "Mer enn 38 timer"}
_HISTORY = {"1-6": "1-6 måneder", "7-12": "7-12 måneder", "13-18": "13-18 måneder", "19-24": "19-24 måneder",
            "25-36": "25-36 måneder", "37-60": "37-60 måneder", ">60": "over 60 måneder"}
_BOTID = {"<=12": "Botid inntil 12 mnd.", "13-24": "Botid 13-24 mnd.", "25-36": "Botid 25-36 mnd.",
          "37-48": "Botid 37-48 mnd.", "49-120": "Botid 49-120 mnd."}
_LG = {"1": "landgruppe 1", "2": "landgruppe 2", "3": "landgruppe 3", "-1": "ukjent"}


def table4_rows(name: str) -> list[tuple[str, str]]:
    """Table-4 (block, category) rows whose sum corresponds to the coefficient ``name``.

    Reading judgements (data/reference/README.md): our design codes country group × residence
    time as one interaction block with Norway-born and >120 months as reference, which spans the
    same space as table 4's botid main effect plus interaction; so ``landgruppe_botid[g:b]``
    corresponds to botid[b] + (g × botid)[b]. "Har pensjonsgivende inntekt" is the indicator of
    the pensionable-income source (used "through an interaction term", footnote 10), so
    ``inntekt[pgi_ingen]`` (that source, no income) is that row and ``inntekt[pgi_dk]`` that row
    + decile k. Duration has the report's 61 categories (1..59, 60+). Names without a
    counterpart (reference levels, the expected-employment-growth block's absence) give ``[]``.
    """
    if name == "const":
        return [("konstant", "Konstant")]
    block, _, level = name.partition("[")
    level = level.rstrip("]")
    if block == "alder":
        return [("alder", "67" if level == "67+" else level)]
    if block == "barn":
        return [("barn", "4" if level == "4+" else level)]
    if block in _BOOL_BLOCKS and level == "yes":
        return [(_BOOL_BLOCKS[block], "ja")]
    if block == "timer_t" and level in _HOURS:
        return [("arbeidstid_t", _HOURS[level])]
    if block == "nav_historikk" and level in _HISTORY:
        return [("nav_historikk", _HISTORY[level])]
    if block == "landgruppe" and level in _LG:
        return [("landgruppe", _LG[level])]
    if block == "landgruppe_botid":
        g, _, b = level.partition(":")
        if g == "0" and b in _BOTID:
            return [("botid", _BOTID[b])]
        if g in _LG and b in _BOTID:
            return [("botid", _BOTID[b]), ("landgruppe_x_botid", f"{_LG[g]}: {_BOTID[b]}")]
    if block == "inntekt":
        if level.startswith("lonn_d"):
            return [("lonnsinntekt_desil", f"desil {level[6:]}")]
        if level == "pgi_ingen":
            return [("pensjonsgivende_inntekt", "Har pensjonsgivende inntekt")]
        if level.startswith("pgi_d"):
            return [("pensjonsgivende_inntekt", "Har pensjonsgivende inntekt"), ("pensjonsgivende_inntekt", f"desil {level[5:]}")]
    if block == "nav_varighet" and level == "60+":
        return [("nav_varighet", "60 måneder og over")]
    if block == "nav_varighet" and level.isdigit():
        n = int(level)
        return [("nav_varighet", "1 måned" if n == 1 else f"{n} måneder")]
    if block == "innstromming" and level.startswith("q"):
        return [("innstromming", f"kategori {int(level[1:])}")]
    return []


def _table4_names() -> tuple[str, ...]:
    names = ["const"] + [f"alder[{a}]" for a in range(18, 67)] + ["alder[67+]"]
    names += [f"barn[{b}]" for b in ("1", "2", "3", "4+")]
    names += [f"landgruppe[{g}]" for g in ("1", "2", "3", "-1")]
    names += [f"landgruppe_botid[{g}:{b}]" for g in ("-1", "1", "2", "3") for b in _BOTID]
    names += [f"{b}[yes]" for b in _BOOL_BLOCKS]
    names += [f"inntekt[lonn_d{k}]" for k in range(1, 11)] + ["inntekt[pgi_ingen]"]
    names += [f"inntekt[pgi_d{k}]" for k in range(1, 11)]
    names += [f"nav_historikk[{h}]" for h in _HISTORY]
    names += [f"nav_varighet[{d}]" for d in range(1, 60)] + ["nav_varighet[60+]"]
    names += [f"timer_t[{h}]" for h in _HOURS]
    names += [f"innstromming[q{q:02d}]" for q in range(2, 21)]
    return tuple(names)


#: The main model's coefficient names (61 duration categories) that have a table-4 counterpart,
#: in table order; Norway-born × residence time (``landgruppe_botid[0:…]``) is left out: the
#: born in Norway have no residence time.
TABLE4_NAMES: tuple[str, ...] = _table4_names()


def published_coefficients(names: list[str] | pd.Index | tuple[str, ...]) -> pd.DataFrame:
    """Table-4 coefficients (atid3, atid12, jobb3, jobb12) for our coefficient names.

    Rows whose name has no published counterpart are empty (NaN); ``published_rows`` says
    which table-4 rows were used (joined with ' + ').
    """
    t4 = load_table4().set_index(["block", "category"])
    out = []
    for name in names:
        rows = [r for r in table4_rows(str(name)) if r in t4.index]
        rec: dict[str, object] = {"name": name, "published_rows": " + ".join(f"{b}: {c}" for b, c in rows)}
        for o in OUTCOMES:
            rec[o] = float(sum(t4.loc[r, o] for r in rows)) if rows else float("nan")
        out.append(rec)
    return pd.DataFrame(out).set_index("name")
