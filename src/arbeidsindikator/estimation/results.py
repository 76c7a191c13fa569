"""Results of a fit: coefficients, covariance, inference and prediction (seed 002 ch. 4; digest §1.3).

:class:`FitResult` follows the linearmodels results objects: ``params``, ``bse`` (std errors),
``tvalues``, ``pvalues``, ``conf_int(alpha)``, ``summary_frame()``; p values and intervals use a
Student t with :attr:`FitResult.df_inference` degrees of freedom for the classical OLS/LPM
covariance and the standard normal otherwise, as statsmodels' defaults. Prediction maps new data
(a DataFrame of categoricals or a :class:`~arbeidsindikator.estimation.design.Design`) onto the
fitted coefficients; this is the one prediction path of the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from arbeidsindikator.estimation._kernels import _k_linpred, _kernel_codes, _map_parts, _parts, _ro
from arbeidsindikator.estimation.design import _UNSEEN, Design
from arbeidsindikator.spec import Family

__all__ = ["CovType", "Family", "FitResult", "WeightKind"]

CovType = Literal["classical", "HC1", "cluster"]
WeightKind = Literal["frequency", "analytic"]


@dataclass(frozen=True, eq=False)
class _Predictor:
    """What is needed to map new data onto the fitted coefficients."""

    blocks: list[str]
    categories: tuple[pd.Index, ...]
    level_columns: tuple[np.ndarray, ...]
    design_names: list[str]
    beta_design: np.ndarray  # per design column; NaN for columns dropped in the fit


@dataclass(frozen=True, eq=False)
class FitResult:
    """Estimates of one outcome (seed 002 ch. 4; digest §1.3).

    ``nobs`` is the number of rows used; ``n_excluded`` the rows of the design not used
    (missing outcome, zero weight or outside the design mask). ``rsquared`` (centred, weighted)
    is None for probit; ``llf`` is the Gaussian log-likelihood for OLS/LPM (as statsmodels OLS /
    WLS) and the probit log-likelihood. ``n_iter`` is 1 for OLS/LPM.

    Besides the interface fields: ``weight_kind``; ``sum_weights`` (Σw over used rows);
    ``df_resid`` (N − p, N = Σw for frequency weights, rows otherwise); ``df_inference``
    (degrees of freedom of the t distribution for p-values, None = normal); ``n_groups``
    (clusters); ``scale`` (σ² for OLS/LPM, 1 for probit); ``dropped`` (design columns with no
    used rows, left out of the fit).
    """

    family: Family
    outcome: str
    params: pd.Series
    bse: pd.Series
    cov: pd.DataFrame
    cov_type: str
    nobs: int
    n_excluded: int
    rsquared: float | None
    llf: float | None
    converged: bool
    n_iter: int
    weight_kind: str = "frequency"
    sum_weights: float = float("nan")
    df_resid: float = float("nan")
    df_inference: float | None = None
    n_groups: int | None = None
    scale: float = 1.0
    dropped: tuple[str, ...] = ()
    _predictor: _Predictor | None = field(default=None, repr=False)

    def linear_predictor(
        self, X: pd.DataFrame | Design, *, chunk_rows: int = 1_000_000, unseen: Literal["raise", "nan"] = "raise"
    ) -> np.ndarray:
        """Linear predictor ``α̂ + Xβ̂`` for every row of ``X`` (float64 array).

        ``X`` is a DataFrame of categoricals with the fitted blocks (matched by level label;
        extra columns are ignored) or a :class:`Design`. A row at a level not estimated in the
        fit (absent from the estimation rows) raises ``ValueError`` naming the levels, or gets
        NaN with ``unseen="nan"``.
        """
        if unseen not in ("raise", "nan"):
            raise ValueError(f'unseen must be "raise" or "nan", got {unseen!r}')
        pr = self._predictor
        if pr is None:
            raise ValueError("this FitResult carries no predictor")
        if isinstance(X, Design):
            beta = self._beta_for_design(X)
            out = np.empty(X.n_rows)
            codes = _ro(_kernel_codes(X.codes))
            parts = _parts(X.n_rows, chunk_rows)
            for _ in _map_parts(lambda se: _k_linpred(codes, beta, se[0], se[1], out), parts, X.n_rows):
                pass
            if unseen == "raise" and np.isnan(out).any():
                self._raise_unseen_design(X, beta)
            return out
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a DataFrame or a Design, got {type(X).__name__}")
        missing = [b for b in pr.blocks if b not in X.columns]
        if missing:
            raise ValueError(f"X lacks regressor columns used in the fit: {missing}")
        luts = []
        for b, block in enumerate(pr.blocks):
            s = X[block]
            if not isinstance(s.dtype, pd.CategoricalDtype):
                raise TypeError(f"regressor column {block!r} has dtype {s.dtype}, expected a pandas Categorical")
            fitted = dict(zip(pr.categories[b], pr.level_columns[b], strict=True))
            lut = np.array([fitted.get(c, _UNSEEN) for c in s.cat.categories], dtype=np.int32)
            lut_cols = np.where(lut >= 0, lut, 0)
            not_fitted = (lut == _UNSEEN) | ((lut >= 0) & np.isnan(pr.beta_design[lut_cols]))
            cc = s.cat.codes.to_numpy()
            if (cc < 0).any():
                raise ValueError(f"regressor column {block!r} has missing values")
            if not_fitted.any():
                counts = np.bincount(cc, minlength=len(lut))
                cats = s.cat.categories
                bad = [(c, int(k)) for c, k, u in zip(cats, counts, not_fitted, strict=True) if u and k > 0]
                if bad and unseen == "raise":
                    raise ValueError(
                        f"levels of {block!r} not seen in the fit (no estimation rows), cannot predict: "
                        + ", ".join(f"{c!r} ({k} rows)" for c, k in bad)
                    )
            luts.append((cc, lut))
        n = len(X)
        out = np.empty(n)
        step = max(int(chunk_rows), 1)
        codes = np.empty((min(step, n), len(luts)), dtype=np.int32)
        for s0 in range(0, n, step):
            e0 = min(s0 + step, n)
            ch = codes[: e0 - s0]
            for b, (cc, lut) in enumerate(luts):
                ch[:, b] = lut[cc[s0:e0]]
            _k_linpred(_ro(ch), pr.beta_design, 0, e0 - s0, out[s0:e0])
        return out

    def predict(
        self, X: pd.DataFrame | Design, *, chunk_rows: int = 1_000_000, unseen: Literal["raise", "nan"] = "raise"
    ) -> np.ndarray:
        """Expected outcome per row: ``xb`` for ols/lpm, ``Φ(xb)`` for probit (digest §1.3).

        Computed for all rows of ``X``, including rows with a missing outcome; ``unseen`` as in
        :meth:`linear_predictor`.
        """
        xb = self.linear_predictor(X, chunk_rows=chunk_rows, unseen=unseen)
        if self.family == "probit":
            special.ndtr(xb, out=xb)
        return xb

    @property
    def tvalues(self) -> pd.Series:
        """t (z) statistics ``params / bse``, indexed like :attr:`params`."""
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p values of ``params = 0``: Student t with :attr:`df_inference` degrees of
        freedom (classical OLS/LPM), standard normal otherwise, as statsmodels' defaults."""
        t = self.tvalues
        if self.df_inference is None:
            p = 2.0 * stats.norm.sf(np.abs(t))
        else:
            p = 2.0 * stats.t.sf(np.abs(t), self.df_inference)
        return pd.Series(p, index=t.index, name=self.outcome)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """``1 − alpha`` confidence intervals, columns ``lower`` and ``upper`` (linearmodels style).

        Same reference distribution as :attr:`pvalues`; equals statsmodels ``conf_int(alpha)``.
        """
        if not (isinstance(alpha, (int, float)) and 0.0 < alpha < 1.0):
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
        q = 1.0 - alpha / 2.0
        crit = stats.norm.ppf(q) if self.df_inference is None else stats.t.ppf(q, self.df_inference)
        half = crit * self.bse
        return pd.DataFrame({"lower": self.params - half, "upper": self.params + half}, index=self.params.index)

    def summary_frame(self) -> pd.DataFrame:
        """Coefficient table as NAV publishes it: coefficient, std_err, t_value, p_value.

        t and p values are :attr:`tvalues` and :attr:`pvalues`.
        """
        return pd.DataFrame(
            {"coefficient": self.params, "std_err": self.bse, "t_value": self.tvalues, "p_value": self.pvalues},
            index=self.params.index,
        )

    # -- helpers -------------------------------------------------------------------------------
    def _beta_for_design(self, d: Design) -> np.ndarray:
        pr = self._predictor
        assert pr is not None
        if (
            d.names == pr.design_names
            and d.blocks == pr.blocks
            and all(a.equals(b) for a, b in zip(d.categories, pr.categories, strict=True))
            and all(np.array_equal(a, b) for a, b in zip(d.level_columns, pr.level_columns, strict=True))
        ):
            return pr.beta_design
        if d.blocks != pr.blocks:
            raise ValueError(f"design blocks {d.blocks} differ from the fitted blocks {pr.blocks}")
        for b, block in enumerate(pr.blocks):
            if d.categories[b][0] != pr.categories[b][0]:
                raise ValueError(
                    f"block {block!r}: reference level {d.categories[b][0]!r} differs from the fitted "
                    f"reference {pr.categories[b][0]!r}; predict from the DataFrame instead"
                )
        pos = {name: j for j, name in enumerate(pr.design_names)}
        beta = np.array([pr.beta_design[pos[nm]] if nm in pos else np.nan for nm in d.names])
        return beta

    def _raise_unseen_design(self, d: Design, beta: np.ndarray) -> None:
        bad = []
        for b, block in enumerate(d.blocks):
            lut = d.level_columns[b]
            for j, c in enumerate(d.categories[b]):
                col = lut[j]
                if col == _UNSEEN or (col >= 0 and np.isnan(beta[col])):
                    target = _UNSEEN if col == _UNSEEN else col
                    k = int(np.count_nonzero(d.codes[:, b] == target))
                    if k:
                        bad.append(f"{block}[{c}] ({k} rows)")
        raise ValueError("levels not seen in the fit (no estimation rows), cannot predict: " + ", ".join(bad))
