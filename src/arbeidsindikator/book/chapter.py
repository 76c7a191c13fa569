"""What every chapter needs: configuration, the synthetic-data notice, glue, the run stamp.

Chapters call :func:`setup` in their first code cell. Numbers quoted in prose go through
:meth:`Chapter.glue` (plain Python values or pre-formatted strings; NumPy scalars are
converted, see conventions.md). Tables shown in the book pass :meth:`Chapter.table`, which
suppresses small cells and writes a CSV copy for the determinism check.
"""

from __future__ import annotations

import subprocess
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
    if pct:
        return f"{value * 100:.{decimals}f} %"
    s = f"{value:,.{decimals}f}"
    return s.replace(",", "\u2009")


def tables_root(cfg: RunConfig) -> Path:
    """Where this build's tables go: the build's run folder while a book build runs
    (``ARBEIDSINDIKATOR_TABLES_ROOT``, set by :mod:`arbeidsindikator.book.build`), else
    ``<cache_dir>/../tables``."""
    import os

    root = os.environ.get("ARBEIDSINDIKATOR_TABLES_ROOT")
    return Path(root) if root else cfg.cache_dir.parent / "tables"


@dataclass
class Chapter:
    """Handle a chapter works through: configuration, glue and table output."""

    name: str
    cfg: RunConfig
    glued: dict[str, Any] = field(default_factory=dict)

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

    def glue_figure(self, name: str, fig: Any) -> None:
        """Glue a figure as a PNG image (deterministic bytes: no software/date metadata)."""
        import io

        from IPython.display import Image
        from myst_nb import glue as _glue

        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        _glue(name, Image(data=buf.getvalue(), format="png"), display=False)

    def table(self, df: pd.DataFrame, name: str, *, count_col: str | None = None, index: bool = False,
              caption: str | None = None) -> pd.DataFrame:
        """Save a shown table as CSV (deterministic output) after small-cell suppression.

        ``caption`` says what the table shows (rendered with the table).

        If ``count_col`` is given, rows whose count is below ``cfg.min_cell_count``, and the
        complementary rows that keep them from being recovered by differencing
        (:func:`arbeidsindikator.indicator.disclosure.suppress_table`), have every numeric value,
        the count included, replaced by empty and are marked in a ``suppressed`` column.
        """
        from arbeidsindikator.indicator.disclosure import suppress_table
        from arbeidsindikator.io import atomic_write

        # primary + complementary suppression: no blanked row can be recovered by differencing
        out = suppress_table(df, count_col, self.cfg.min_cell_count) if count_col else df
        path = self.tables_dir / f"{name}.csv"
        atomic_write(path, lambda p: out.to_csv(p, index=index, float_format="%.10g", lineterminator="\n"))
        return out


def notice_markdown(cfg: RunConfig) -> str:
    if cfg.is_synthetic:
        return f":::{{warning}}\n{SYNTHETIC_NOTICE}\n:::\n"
    return f":::{{note}}\nComputed from the data in `{cfg.data_path}` ({cfg.start}–{cfg.end}).\n:::\n"


def setup(config_path: str | Path | None, name: str) -> Chapter:
    """First call of every chapter: validate the configuration, set figure style, show the notice."""
    from IPython.display import Markdown, display

    cfg = load_config(config_path)
    plots.set_style()
    plots.SOURCE_LINE = plots.source_line(cfg.is_synthetic)
    if cfg.is_synthetic:
        display(Markdown(f"```{{warning}}\n{SYNTHETIC_NOTICE}\n```"))
    return Chapter(name=name, cfg=cfg)


def run_stamp(cfg: RunConfig, data_fp: str) -> pd.DataFrame:
    """Code version, data fingerprint and parameters of this build (shown in the introduction)."""
    stamp = pd.DataFrame(
        {
            "parameter": ["code version", "data fingerprint", "configuration fingerprint"],
            "value": [code_version(), data_fp, cfg.fingerprint()],
        }
    )
    return pd.concat([stamp, cfg.as_table()], ignore_index=True)
