"""What every chapter needs: configuration, the synthetic-data notice, glue, tables, the run stamp.

Chapters call :func:`setup` in their first code cell. Numbers quoted in prose go through
:meth:`Chapter.glue` (plain Python values or pre-formatted strings; NumPy scalars are
converted, see conventions.md) or, many at once, :meth:`Chapter.glue_all`. Every table shown in
the book goes through :meth:`Chapter.table`, which suppresses small cells, writes the CSV copy
(the determinism check compares it) and an Excel copy, and renders the table itself: all rows,
no index column, numbers formatted for their unit, a caption and download links. Warnings that
the computation raises are caught by :func:`setup` and reported after the cell in the book's
own words (:func:`describe_warnings`), never as stderr text.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arbeidsindikator.book import figures as plots
from arbeidsindikator.config import REPO_ROOT, RunConfig, load_config

SYNTHETIC_NOTICE = (
    "**Synthetic data.** Every number, table and figure on this page was computed from "
    "synthetic register data made by this project's generator. They illustrate the method; "
    "they are **not** NAV's results and say nothing about real persons, offices or counties."
)


def code_version() -> str:
    """Git commit of the code (with '+dirty' when uncommitted changes exist), else the package version."""
    from arbeidsindikator import __version__

    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=10", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no", "--", "src"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()
        return f"{__version__} ({rev}{'+dirty' if dirty else ''})"
    except (OSError, subprocess.SubprocessError):
        return __version__


def to_plain(value: Any) -> Any:
    """NumPy scalars to Python scalars (glue and JSON need plain values)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def fmt_number(value: float, decimals: int = 1, pct: bool = False) -> str:
    """Format a number for prose: thousands separated by a thin space, '%' if asked."""
    value = float(to_plain(value))
    if pct:  # no-break space: "48 %" never breaks between the number and its unit
        return f"{value * 100:.{decimals}f}\u00a0%"
    s = f"{value:,.{decimals}f}"
    return s.replace(",", "\u2009")


def tables_root(cfg: RunConfig) -> Path:
    """Where this build's tables go: the build's run folder while a book build runs
    (``ARBEIDSINDIKATOR_TABLES_ROOT``, set by :mod:`arbeidsindikator.book.build`), else
    ``<cache_dir>/../tables``."""
    import os

    root = os.environ.get("ARBEIDSINDIKATOR_TABLES_ROOT")
    return Path(root) if root else cfg.cache_dir.parent / "tables"


@dataclass(frozen=True)
class GlueValue:
    """A value to glue with its format (see :meth:`Chapter.glue`)."""

    value: Any
    decimals: int | None = None
    pct: bool = False


#: How a table column is shown: decimals (int), "int", "pct" (fraction shown as percent, one
#: decimal), "pct0", "pp" (fraction shown as percentage points), "p" (p-value), "text", or a callable.
ColumnFormat = int | str | Callable[[Any], str]

BOOK_DIR_ENV = "ARBEIDSINDIKATOR_BOOK_DIR"
_PCT_WORDS = ("share", "accuracy", "precision", "recall", "coverage", "rate")
_THIN = "\u202f"  # narrow no-break space: thousands separator that never breaks a number in two
_MINUS = "\u2212"
SCROLL_ROWS = 15


def _is_pct_column(name: str, values: pd.Series) -> bool:
    n = name.lower()
    if n.endswith("_pp") or " pp" in n or "percent" in n or n.endswith("%") or "(%)" in n:
        return False
    words = re.split(r"[^a-z]+", n)
    hit = any(w in _PCT_WORDS for w in words) or n in ("fpr", "fnr", "fpr_gap", "fnr_gap")
    v = pd.to_numeric(values, errors="coerce").dropna()
    return hit and len(v) > 0 and bool((v.abs() <= 1.0 + 1e-12).all())


def _auto_format(name: str, values: pd.Series) -> ColumnFormat:
    """Pick a format for a numeric column from its name and magnitude."""
    if values.dtype == bool:
        return "text"
    n = name.lower()
    if n in ("p", "p_value", "p-value", "p value") or n.endswith("p_value"):
        return "p"
    if _is_pct_column(name, values):
        return "pp" if ("gap" in n or "diff" in n or "change" in n) else "pct"
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return 1
    if np.all(v == np.round(v)) and np.abs(v).max() >= 1:
        return "int"
    nz = np.abs(v[v != 0])
    m = float(np.median(nz)) if len(nz) else 0.0
    if m >= 1000:
        return 0
    if m >= 10:
        return 1
    if m >= 0.1:
        return 3
    return 4


def _num(x: float, decimals: int) -> str:
    s = f"{abs(x):,.{decimals}f}".replace(",", _THIN)
    return (_MINUS + s) if x < 0 and s.strip("0.\u202f") else s


def format_cell(x: Any, fmt: ColumnFormat) -> str:
    """One table cell as text: '–' for missing, numbers by ``fmt``."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or (x is pd.NA) or (x is pd.NaT):
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if callable(fmt):
        return str(fmt(x))
    if isinstance(x, (int, float, np.integer, np.floating)) and fmt != "text":
        x = float(x)
        if not math.isfinite(x):
            return "∞" if x > 0 else (_MINUS + "∞" if x < 0 else "–")
        if fmt == "int":
            return _num(x, 0)
        if fmt == "pct":
            return _num(x * 100, 1) + _THIN + "%"
        if fmt == "pct0":
            return _num(x * 100, 0) + _THIN + "%"
        if fmt == "pp":
            return _num(x * 100, 1) + _THIN + "pp"
        if fmt == "p":
            return "< 0.001" if x < 0.001 else f"{x:.3f}"
        return _num(x, int(fmt))
    return str(x)


def _md_escape(text: str) -> str:
    text = " ".join(str(text).split())
    return re.sub(r"([\\`*_\[\]{}<>|$#])", r"\\\1", text)


def display_frame(df: pd.DataFrame, formats: Mapping[str, ColumnFormat] | None = None,
                  index: bool = False) -> tuple[pd.DataFrame, list[bool]]:
    """The table as reader-facing strings, and which columns are numeric (right-aligned).

    A meaningful index (named, or not the default 0…n-1) becomes the first column(s); the default
    index is never shown.
    """
    d = df
    if index or not isinstance(d.index, pd.RangeIndex) or d.index.name is not None or any(d.index.names):
        d = d.reset_index()
    if isinstance(d.columns, pd.MultiIndex):
        d = d.set_axis([" ".join(str(c) for c in col if str(c) != "") for col in d.columns], axis=1)
    formats = dict(formats or {})
    out, numeric = {}, []
    for col in d.columns:
        s = d[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            t = s.dropna()
            monthly = len(t) > 0 and bool((t.dt.normalize() == t).all() and (t.dt.day == 1).all())
            s = s.dt.strftime("%Y-%m" if monthly else "%Y-%m-%d")
        is_num = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        fmt = formats.get(str(col), _auto_format(str(col), s) if is_num else "text")
        out[str(col)] = [format_cell(x, fmt) for x in s.tolist()]
        numeric.append(is_num)
    return pd.DataFrame(out, columns=[str(c) for c in d.columns]), numeric


def markdown_table(shown: pd.DataFrame, numeric: list[bool]) -> str:
    """A MyST/CommonMark pipe table (numbers right-aligned)."""
    head = "| " + " | ".join(_md_escape(str(c).replace("_", " ")) for c in shown.columns) + " |"
    rule = "|" + "|".join("---:" if n else ":---" for n in numeric) + "|"
    rows = ["| " + " | ".join(_md_escape(v) for v in r) + " |" for r in shown.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


class ShownTable:
    """What :meth:`Chapter.table` returns: the (suppressed) frame, already rendered on the page.

    Displaying it again shows nothing, and ``round`` is accepted and ignored, so older chapter
    code ``display(ch.table(...).round(3))`` renders the table once; attribute access is passed to
    the frame.
    """

    def __init__(self, frame: pd.DataFrame, paths: dict[str, Path]):
        self.frame = frame
        self.paths = paths

    def _ipython_display_(self) -> None:  # already on the page
        return None

    def round(self, *args: Any, **kwargs: Any) -> "ShownTable":
        return self

    def __getattr__(self, name: str) -> Any:
        if name in ("frame", "paths") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.frame, name)

    def __getitem__(self, key: Any) -> Any:
        return self.frame[key]

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return f"<table shown in the book: {', '.join(str(p.name) for p in self.paths.values())}>"


def book_dir() -> Path:
    """Folder of the executed notebooks that jupyter-book renders (set by the build)."""
    env = os.environ.get(BOOK_DIR_ENV)
    return Path(env) if env else REPO_ROOT / "_build" / "book"


def _download_path(target: Path, chapter: str) -> str:
    """``target`` relative to the executed notebook of ``chapter`` (for Sphinx's {download} role)."""
    bd = book_dir()
    nb_dir = bd / "chapters" if (bd / "chapters").is_dir() or not (bd / f"{chapter}.ipynb").exists() else bd
    return Path(os.path.relpath(target.resolve(), nb_dir.resolve())).as_posix()


_SEPARATION = re.compile(r"same outcome: (.*)$")


def describe_warnings(caught: list[warnings.WarningMessage]) -> str | None:
    """The warnings of one cell in the book's words (MyST admonition), or None if there were none.

    Separation warnings of the probit become a list of the separated levels; other warnings are
    named by their kind with file paths left out (they say nothing to a reader).
    """
    if not caught:
        return None
    separated: dict[str, None] = {}
    other: dict[str, None] = {}
    for w in caught:
        msg = str(w.message)
        name = type(w.message).__name__ if isinstance(w.message, Warning) else w.category.__name__
        m = _SEPARATION.search(msg)
        if name == "SeparationWarning" and m:
            for level in m.group(1).split(", "):
                separated[level.strip()] = None
            continue
        msg = re.sub(r"(/[^\s'\"]+)+", "…", msg)
        other[f"{msg} ({name})"] = None
    parts = []
    if separated:
        levels = ", ".join(f"`{lv}`" for lv in separated)
        parts.append(
            "**Separated levels.** At these levels of the regressors every person-month used has the "
            "same 0/1 outcome, so the probit has no finite coefficient for them (perfect separation); "
            f"their coefficients are not meaningful and should not be read: {levels}. "
            "With more persons (production data) such levels are rare."
        )
    if other:
        parts.append("The computation reported:\n" + "\n".join(f"- {_md_escape(t)}" for t in other))
    body = "\n\n".join(parts)
    return f":::{{admonition}} Notes from the computation\n:class: note\n{body}\n:::\n"


class WarningCollector:
    """Routes warnings to a list instead of stderr; reports them after each cell (IPython hook)."""

    def __init__(self) -> None:
        self.caught: list[warnings.WarningMessage] = []
        self.reported: list[str] = []
        self._orig_show = warnings.showwarning

    def _show(self, message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        self.caught.append(warnings.WarningMessage(message, category, filename, lineno, file, line))

    def install(self) -> "WarningCollector":
        warnings.showwarning = self._show
        warnings.simplefilter("default")
        return self

    def flush(self, *_: Any) -> None:
        """Display what the last cell raised (called by IPython after every cell)."""
        text = describe_warnings(self.caught)
        self.caught = []
        if text:
            from IPython.display import Markdown, display

            self.reported.append(text)
            display(Markdown(text))


_COLLECTOR: WarningCollector | None = None


def capture_warnings() -> WarningCollector | None:
    """Install the collector once per kernel and register its IPython post-cell hook."""
    global _COLLECTOR
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    ip = get_ipython()
    if ip is None:
        return None
    if _COLLECTOR is None:
        _COLLECTOR = WarningCollector().install()
        ip.events.register("post_run_cell", _COLLECTOR.flush)
    return _COLLECTOR


@dataclass
class Chapter:
    """Handle a chapter works through: configuration, glue, figures and table output."""

    name: str
    cfg: RunConfig
    glued: dict[str, Any] = field(default_factory=dict)
    style: plots.FigureStyle = field(default_factory=lambda: plots.FigureStyle.for_data(True))

    @property
    def tables_dir(self) -> Path:
        """Tables of this build: ``<cache_dir>/../tables/<config name>/<chapter>/``.

        During a book build they go to the build's own folder (``ARBEIDSINDIKATOR_TABLES_ROOT``,
        set by :mod:`arbeidsindikator.book.build`), which is published when the build completes.
        """
        return tables_root(self.cfg) / self.cfg.name / self.name

    def glue(self, name: str, value: Any, *, decimals: int | None = None, pct: bool = False) -> None:
        """Glue a number (formatted) or a string for use as {glue:text}`name` in prose.

        Returns nothing, so a cell ending with a glue call prints nothing on the page.
        """
        from myst_nb import glue as _glue

        value = to_plain(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (decimals is not None or pct):
            text = fmt_number(value, decimals if decimals is not None else 1, pct=pct)
        elif isinstance(value, int) and not isinstance(value, bool):
            text = fmt_number(value, 0)
        else:
            text = str(value)
        self.glued[name] = text
        _glue(name, text, display=False)

    def glue_all(self, values: Mapping[str, Any]) -> None:
        """Glue many values; each is a :class:`GlueValue` (value and format) or a plain value."""
        for name, v in values.items():
            if isinstance(v, GlueValue):
                self.glue(name, v.value, decimals=v.decimals, pct=v.pct)
            else:
                self.glue(name, v)

    def glue_figure(self, name: str, fig: Any, *, alt: str | None = None) -> None:
        """Glue a figure as a PNG image with the source line and alt text.

        The alt text (``alt``, else one made from the figure's titles, axis labels and legend) is
        stored in the PNG's ``Description``; the book's Sphinx extension copies it to the image.
        Bytes are deterministic (no software/date metadata).
        """
        import io

        from IPython.display import Image
        from myst_nb import glue as _glue

        plots.add_source(fig, self.style.source)
        text = alt or plots.alt_text(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None, "Description": text})
        _glue(name, Image(data=buf.getvalue(), format="png"), display=False)

    def table(self, df: pd.DataFrame, name: str, *, count_col: str | None = None, index: bool = False,
              caption: str | None = None, formats: Mapping[str, ColumnFormat] | None = None,
              show: bool = True) -> ShownTable:
        """Show a table in the book and save it as CSV and Excel after small-cell suppression.

        The page gets every row (long tables scroll), no index column, numbers formatted for their
        unit (``formats`` overrides the automatic choice per column, see :data:`ColumnFormat`),
        ``caption`` (else one made from ``name``) and download links to the CSV and Excel files.
        If ``count_col`` is given, rows whose count is below ``cfg.min_cell_count``, and the
        complementary rows that keep them from being recovered by differencing
        (:func:`arbeidsindikator.indicator.disclosure.suppress_table`), have every numeric value,
        the count included, replaced by empty and are marked in a ``suppressed`` column.
        The CSV is written as before (``index`` as given) for the determinism check.
        """
        from arbeidsindikator.indicator.disclosure import suppress_table
        from arbeidsindikator.io import atomic_write

        frame = df.frame if isinstance(df, ShownTable) else df
        # primary + complementary suppression: no blanked row can be recovered by differencing
        out = suppress_table(frame, count_col, self.cfg.min_cell_count) if count_col else frame
        csv = self.tables_dir / f"{name}.csv"
        xlsx = self.tables_dir / f"{name}.xlsx"
        atomic_write(csv, lambda p: out.to_csv(p, index=index, float_format="%.10g", lineterminator="\n"))
        shown, numeric = display_frame(out, formats, index=index)
        excel = out.reset_index() if (index or not isinstance(out.index, pd.RangeIndex)) else out
        excel = excel.set_axis([str(c) for c in excel.columns], axis=1)
        atomic_write(xlsx, lambda p: excel.to_excel(p, index=False, sheet_name=name[:31], engine="openpyxl"))
        if show:
            from IPython.display import display

            display(TableView(self._table_markdown(shown, numeric, name, caption, csv, xlsx), shown))
        return ShownTable(out, {"csv": csv, "xlsx": xlsx})

    def downloads(self, files: Mapping[str, Path], intro: str = "Download") -> None:
        """Show download links to files the chapter wrote (label → path), e.g. the export."""
        from IPython.display import Markdown, display

        links = " · ".join(f"{{download}}`{re.sub(r'[`<>]', '', label)} <{_download_path(Path(path), self.name)}>`"
                           for label, path in files.items())
        display(Markdown(f"{intro}: {links}"))

    def _table_markdown(self, shown: pd.DataFrame, numeric: list[bool], name: str, caption: str | None,
                        csv: Path, xlsx: Path) -> str:
        cap = " ".join((caption or name.replace("_", " ").capitalize()).split())
        label = re.sub(r"[^a-z0-9]+", "-", f"tbl-{self.name}-{name}".lower()).strip("-")
        cls = "book-table book-table-scroll" if len(shown) > SCROLL_ROWS else "book-table"
        n = len(shown)
        rows = f"{n:,} row{'s' if n != 1 else ''}".replace(",", _THIN)
        links = (f"Download ({rows}): {{download}}`CSV <{_download_path(csv, self.name)}>` · "
                 f"{{download}}`Excel <{_download_path(xlsx, self.name)}>`")
        return (f"::::{{container}} {cls}\n:::{{table}} {cap}\n:name: {label}\n:align: left\n\n"
                f"{markdown_table(shown, numeric)}\n:::\n::::\n\n{links}\n")


class TableView:
    """Rich display of a rendered table: MyST markdown for the book, plain text elsewhere."""

    def __init__(self, markdown: str, shown: pd.DataFrame):
        self.markdown = markdown
        self.shown = shown

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return self.shown.to_string(index=False)


def synthetic_data(cfg: RunConfig) -> bool:
    """Whether the book's data are synthetic: generated in the build, or extracts whose manifest
    names the synthetic generator (:func:`data.manifest.declared_generator`). Decides the notice on
    every page, the banner and the figures' source line; what the pipeline reads is decided by
    ``cfg.source`` alone."""
    from arbeidsindikator.data.manifest import declared_generator

    return cfg.is_synthetic or declared_generator(cfg.data_path) is not None


def notice_markdown(cfg: RunConfig) -> str:
    if synthetic_data(cfg):
        return f":::{{warning}}\n{SYNTHETIC_NOTICE}\n:::\n"
    return f":::{{note}}\nComputed from the data in `{cfg.data_path}` ({cfg.start}–{cfg.end}).\n:::\n"


def setup(config_path: str | Path | None, name: str) -> Chapter:
    """First call of every chapter: validate the configuration, set the figure style, catch
    warnings for reporting in the book's words, show the notice."""
    from IPython.display import Markdown, display

    cfg = load_config(config_path)
    plots.set_style()
    capture_warnings()
    synthetic = synthetic_data(cfg)
    if synthetic:
        display(Markdown(f"```{{warning}}\n{SYNTHETIC_NOTICE}\n```"))
    return Chapter(name=name, cfg=cfg, style=plots.FigureStyle.for_data(synthetic))


def run_stamp(cfg: RunConfig, data_fp: str) -> pd.DataFrame:
    """Code version, data fingerprint and parameters of this build (shown in the introduction)."""
    stamp = pd.DataFrame(
        {
            "parameter": ["code version", "data fingerprint", "configuration fingerprint"],
            "value": [code_version(), data_fp, cfg.fingerprint()],
        }
    )
    return pd.concat([stamp, cfg.as_table()], ignore_index=True)
