"""The design of the main model: categorical regressors as integer dummy column codes.

Seed 002 ch. 4 (digest §1.4): every regressor is a categorical variable entering as dummies with a
reference level, so a row of the design matrix has at most one active column per block plus the
constant. :func:`build_design` stores that matrix as integer column codes (:class:`Design`) and
never forms the dense ``n × p`` matrix; :mod:`arbeidsindikator.estimation.fitting` and the kernels
in :mod:`arbeidsindikator.estimation._kernels` work on the codes directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Design", "DesignError", "build_design", "compact_code_dtype", "rebuild_design"]

#: Reference level marker in :attr:`Design.codes`; levels dropped as empty get ``_UNSEEN``.
_REF = -1
from arbeidsindikator.estimation._kernels import _UNSEEN  # noqa: E402  (one definition, in the kernels)


class DesignError(ValueError):
    """The design cannot be estimated (e.g. rank deficient); the message names the columns."""


@dataclass(frozen=True, eq=False)
class Design:
    """Integer-coded all-dummy design matrix, built once and reused across outcomes and families.

    Attributes
    ----------
    codes : ndarray of int32 (or int16, see :func:`build_design`), shape (n_rows, n_blocks), C order
        Per row and block the column index of the active dummy in the full design (column 0 is
        the constant), ``-1`` for the reference level, ``-2`` for a level dropped as empty.
    names : list of str
        Coefficient names: ``"const"``, then ``f"{block}[{level}]"``.
    blocks : list of str
        Regressor (block) names in column order.
    categories : tuple of pandas.Index
        All categories of each block; ``categories[b][0]`` is the reference level.
    level_columns : tuple of ndarray of int32
        Per block, for every category the design column (``-1`` reference, ``-2`` dropped).
    col_block : ndarray of int64
        Block index of every column (``-1`` for the constant).
    dropped_levels : dict
        Block -> levels dropped because they had no (mask) rows.
    mask : ndarray of bool or None
        Rows eligible for estimation (levels were counted among these rows).
    """

    codes: np.ndarray
    names: list[str]
    blocks: list[str]
    categories: tuple[pd.Index, ...] = field(repr=False)
    level_columns: tuple[np.ndarray, ...] = field(repr=False)
    col_block: np.ndarray = field(repr=False)
    dropped_levels: dict[str, list[object]] = field(default_factory=dict)
    mask: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.codes.shape[0])

    @property
    def n_columns(self) -> int:
        """Number of design columns including the constant."""
        return len(self.names)


def _raw_codes(s: pd.Series, col: str) -> np.ndarray:
    """A categorical block's level codes, refused when it has no levels or missing values."""
    if len(s.cat.categories) == 0:
        raise ValueError(f"regressor column {col!r} has no categories")
    cc = np.asarray(s.array.codes)  # a read-only view; ``s.cat.codes`` copies (0.4 GB per design at 24.8 M rows)
    n_missing = int(np.count_nonzero(cc < 0))
    if n_missing:
        raise ValueError(f"regressor column {col!r} has {n_missing} missing values; recode them as a level")
    return cc


def _level_lut(col: str, cats: pd.Index, present: np.ndarray, b: int, names: list[str], col_block: list[int],
               dropped: dict[str, list[object]]) -> np.ndarray:
    """A block's level → design column table (the reference level 0 has none; a level not
    ``present`` has none and is recorded in ``dropped``); appends the new columns' names and block."""
    lut = np.full(len(cats), _UNSEEN, dtype=np.int32)
    lut[0] = _REF
    for j in range(1, len(cats)):
        if present[j]:
            lut[j] = len(names)
            names.append(f"{col}[{cats[j]}]")
            col_block.append(b)
        else:
            dropped.setdefault(str(col), []).append(cats[j])
    return lut


def compact_code_dtype(X: pd.DataFrame) -> type[np.integer]:
    """int16 codes when every level of ``X``'s categorical blocks fits (half the memory of int32)."""
    n_levels = sum(len(X[c].cat.categories) for c in X.columns)
    return np.int16 if n_levels < np.iinfo(np.int16).max else np.int32


def build_design(
    X: pd.DataFrame, *, mask: np.ndarray | None = None, code_dtype: str | type[np.integer] = np.int32
) -> Design:
    """Encode categorical regressors as dummy column codes (digest §1.4: every regressor a dummy).

    Parameters
    ----------
    X : DataFrame
        One pandas ``Categorical`` column per regressor; the **first category is the reference
        level** (see :mod:`arbeidsindikator.panel.covariates`). Missing values are not allowed.
    mask : bool array, optional
        Rows eligible for estimation. Levels with no rows among these are dropped (a level with
        no rows at all is always dropped).
    code_dtype : {int32, int16}
        dtype of :attr:`Design.codes`. ``int16`` (up to 32,767 columns) halves the memory of the
        largest array (23 M rows × 18 blocks: 0.8 GB instead of 1.7 GB); results are identical.

    Returns
    -------
    Design

    Raises
    ------
    TypeError
        A column is not categorical (the message names it).
    ValueError
        A column has missing values or no categories, or ``mask`` has the wrong length.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame of categoricals, got {type(X).__name__}")
    n = len(X)
    if mask is not None:
        mask = np.array(mask, dtype=bool, copy=True)  # the design keeps its own copy
        if mask.shape != (n,):
            raise ValueError(f"mask must have shape ({n},), got {mask.shape}")
    blocks = [str(c) for c in X.columns]
    if len(set(blocks)) != len(blocks):
        raise ValueError(f"duplicate column names in X: {blocks}")
    for col in X.columns:
        if not isinstance(X[col].dtype, pd.CategoricalDtype):
            raise TypeError(
                f"regressor column {col!r} has dtype {X[col].dtype}, expected a pandas Categorical "
                "(first category = reference level; see arbeidsindikator.panel.covariates)"
            )
    dtype = np.dtype(code_dtype)
    if dtype not in (np.dtype(np.int16), np.dtype(np.int32)):
        raise ValueError(f"code_dtype must be int16 or int32, got {dtype}")
    n_levels = sum(len(X[c].cat.categories) for c in X.columns)
    if n_levels > np.iinfo(dtype).max:
        raise ValueError(f"{n_levels} levels do not fit code_dtype {dtype}; use int32")
    codes = np.empty((n, len(blocks)), dtype=dtype)
    block_codes: list[tuple[np.ndarray, np.ndarray]] = []
    names = ["const"]
    col_block = [-1]
    categories: list[pd.Index] = []
    level_columns: list[np.ndarray] = []
    dropped: dict[str, list[object]] = {}
    from arbeidsindikator.estimation._kernels import fill_codes, level_counts  # noqa: PLC0415

    raw_codes = []
    for col in X.columns:
        raw_codes.append(_raw_codes(X[col], col))
    # rows per level of every block in one numba pass (np.bincount per block cast each int8 column to intp)
    all_counts = level_counts(raw_codes, max((len(X[c].cat.categories) for c in X.columns), default=1), mask)
    for b, col in enumerate(X.columns):
        cats = X[col].cat.categories
        cc = raw_codes[b]
        lut = _level_lut(col, cats, all_counts[b, : len(cats)] > 0, b, names, col_block, dropped)
        block_codes.append((cc, lut.astype(dtype)))
        categories.append(cats)
        level_columns.append(lut)
    # Fill the row-major code matrix in one numba pass over cache-sized row blocks, on the
    # engine's threads (a Python loop over row chunks and blocks was ~3.5 s per 5 M rows).
    lut_all = np.zeros((len(block_codes), max((len(l) for _, l in block_codes), default=1)), dtype=dtype)
    for b, (_, lut) in enumerate(block_codes):
        lut_all[b, : len(lut)] = lut
    fill_codes([cc for cc, _ in block_codes], lut_all, codes)
    return Design(
        codes=codes,
        names=names,
        blocks=blocks,
        categories=tuple(categories),
        level_columns=tuple(level_columns),
        col_block=np.asarray(col_block, dtype=np.int64),
        dropped_levels=dropped,
        mask=mask,
    )


def rebuild_design(prev: Design, X: pd.DataFrame, same: set[str] | frozenset[str]) -> Design:
    """``build_design(X, code_dtype=prev.codes.dtype)``, reusing ``prev``'s codes for the blocks in ``same``.

    ``prev`` was built (without a mask) from a frame with the same blocks in the same order;
    ``same`` names blocks whose categorical codes are identical to those ``prev`` was built from
    (the caller checks). They may be absent from ``X`` (their categories are ``prev``'s); their
    columns keep their levels and move only if earlier blocks gained or lost columns. The other
    blocks are counted and filled from ``X``. **Takes over** ``prev.codes`` (overwritten in place, so the
    new design costs no second code matrix); ``prev`` must not be used afterwards.

    The result equals ``build_design(X, code_dtype=prev.codes.dtype)`` (a test checks it): for
    the 12-month design of the models stage only the inflow block is refilled.
    """
    from arbeidsindikator.estimation._kernels import fill_block, level_counts, shift_block  # noqa: PLC0415

    blocks = list(prev.blocks)
    given = [str(c) for c in X.columns]
    if given != [b for b in blocks if b in given] or not set(blocks) - set(same) <= set(given):
        raise ValueError(f"blocks of X {given} do not match the previous design's {blocks} (reused: {sorted(same)})")
    if prev.mask is not None:
        raise ValueError("rebuild_design needs a design built without a mask")
    if len(X) != prev.n_rows:
        raise ValueError(f"X has {len(X)} rows, the previous design {prev.n_rows}")
    same = {b for b in same if b in blocks and (b not in given
                                                 or X[b].cat.categories.equals(prev.categories[blocks.index(b)]))}
    codes = prev.codes
    dtype = codes.dtype
    todo = [b for b in blocks if b not in same]
    raw: dict[str, np.ndarray] = {}
    for col in todo:
        s = X[col]
        if not isinstance(s.dtype, pd.CategoricalDtype):
            raise TypeError(f"regressor column {col!r} has dtype {s.dtype}, expected a pandas Categorical")
        raw[col] = _raw_codes(s, col)
    cats_of = {b: (prev.categories[i] if b in same else X[b].cat.categories) for i, b in enumerate(blocks)}
    n_levels = sum(len(c) for c in cats_of.values())
    if n_levels > np.iinfo(dtype).max:
        raise ValueError(f"{n_levels} levels do not fit code_dtype {dtype}; use int32")
    counts = (level_counts([raw[c] for c in todo], max(len(X[c].cat.categories) for c in todo), None)
              if todo else None)
    names = ["const"]
    col_block = [-1]
    categories: list[pd.Index] = []
    level_columns: list[np.ndarray] = []
    dropped: dict[str, list[object]] = {}
    for b, col in enumerate(blocks):
        cats = cats_of[col]
        if col in same:
            old = prev.level_columns[b]
            kept = old >= 0
            kept[0] = False
            start = len(names)
            first_old = int(old[kept].min()) if kept.any() else start
            lut = _level_lut(col, cats, kept, b, names, col_block, dropped)
            shift = start - first_old
            if shift and kept.any():
                shift_block(codes, b, shift)
        else:
            cnt = counts[todo.index(col), : len(cats)]  # type: ignore[index]
            lut = _level_lut(col, cats, cnt > 0, b, names, col_block, dropped)
            fill_block(raw[col], lut.astype(dtype), codes, b)
        categories.append(cats)
        level_columns.append(lut)
    return Design(
        codes=codes,
        names=names,
        blocks=blocks,
        categories=tuple(categories),
        level_columns=tuple(level_columns),
        col_block=np.asarray(col_block, dtype=np.int64),
        dropped_levels=dropped,
        mask=None,
    )
