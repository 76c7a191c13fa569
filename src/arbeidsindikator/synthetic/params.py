"""The generator's calibrated parameters: a data file (``calibrated.json``) and its schema.

:func:`~arbeidsindikator.synthetic.calibrate.calibrate` and
:func:`~arbeidsindikator.synthetic.calibrate.fit_tilt` fit the parameters;
:func:`write_calibrated` stores them (atomically) in ``calibrated.json`` next to this module,
and :func:`load_calibrated` reads and validates them when the package is imported
(:data:`CALIBRATED`). The schema (:class:`CalibratedParams`) names every parameter, its type
and its shape; unknown or missing keys and wrong shapes raise :class:`CalibrationFileError`
naming the file and the offending keys. Types: J job seeker, N reduced work capacity, A others
(index 0, 1, 2 of the per-type lists); offsets are in μ units (≈ hours/week of the next month);
see ``data/README.md`` for how they were fitted.

The loaded parameters are returned as the plain JSON dictionary (after validation), so that
floats are exactly those of the file and the generator reads them as ``prm["…"]``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Annotated, Any

from annotated_types import Len
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arbeidsindikator.data.contract import FYLKER, HOVEDGRUPPER, INNSATSGRUPPER
from arbeidsindikator.io import atomic_write

__all__ = ["CALIBRATED", "CALIBRATED_PATH", "CalibratedParams", "CalibrationFileError", "load_calibrated",
           "write_calibrated"]

CALIBRATED_PATH = Path(__file__).resolve().parent / "calibrated.json"

_N_TYPES = 3  # J, N, A
_N_MAIN, _N_SERV, _N_COUNTY = len(HOVEDGRUPPER), len(INNSATSGRUPPER), len(FYLKER)


def _vec(n: int) -> Any:
    return Annotated[list[float], Len(n, n)]


PerType = _vec(_N_TYPES)
Share = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _TiltFit(_Strict):
    n_persons: int
    seed: int
    largest_gap: float


class _Tilt(_Strict):
    """The tilt (:mod:`arbeidsindikator.synthetic.tilt`): figure keys, λ (total first), bounds."""

    keys: list[str]
    lambda_: list[float] = Field(alias="lambda")
    bounds: _vec(2)  # type: ignore[valid-type]
    acceptance: Annotated[float, Field(gt=0.0, le=1.0)]
    ridge: float
    fit: _TiltFit

    def model_post_init(self, __context: Any) -> None:
        if len(self.lambda_) != len(self.keys) + 1:
            raise ValueError(f"tilt: {len(self.lambda_)} lambda values for {len(self.keys)} keys (need keys + 1)")
        if not 0 < self.bounds[0] < 1 < self.bounds[1]:
            raise ValueError(f"tilt: bounds {self.bounds} must satisfy 0 < lower < 1 < upper")


class _ServPlan(_Strict):
    """Service-group mix of each type's focal spell (shares, by service-group code)."""

    J: dict[str, Share]
    N: dict[str, Share]
    A: dict[str, Share]

    def model_post_init(self, __context: Any) -> None:
        for typ in ("J", "N", "A"):
            unknown = set(getattr(self, typ)) - set(INNSATSGRUPPER)
            if unknown:
                raise ValueError(f"serv_plan.{typ}: unknown service group(s) {sorted(unknown)}")


class _Benefits(_Strict):
    """Per type, probabilities of AAP, sickness benefit, unemployment benefit, transitional
    benefit, disability benefit during a spell."""

    J: _vec(5)  # type: ignore[valid-type]
    N: _vec(5)  # type: ignore[valid-type]
    A: _vec(5)  # type: ignore[valid-type]


class CalibratedParams(_Strict):
    """Schema of ``calibrated.json`` (every key required, no others)."""

    type_share: PerType
    covid_share: Share
    len_median: PerType
    len_sigma: PerType
    prev_rate: PerType
    next_rate: PerType
    short_gap_share: Share
    p_A_to_N: Share
    p_J_to_N: Share
    p_varig: Share
    age_mean: PerType
    age_sd: PerType
    female: PerType
    lg_probs: Annotated[list[_vec(5)], Len(_N_TYPES, _N_TYPES)]  # type: ignore[valid-type]
    p_marry: PerType
    children_mean: PerType
    he_share: Share
    hourly_wage: PerType
    pre_emp: PerType
    pre_mu: PerType
    kappa_big: float
    kappa_small: float
    lambda0: float
    softplus_scale: Annotated[float, Field(gt=0.0)]
    u_sd: Annotated[float, Field(ge=0.0)]
    entry_job_loss: PerType
    delvis_small: Share
    delvis_big: Share
    exit_hours: float
    exit_prob: PerType
    entry_pen: float
    uplift: PerType
    prog_hazard: _vec(2)  # type: ignore[valid-type]
    perm_share: Share
    iv_mean: float
    serv_plan: _ServPlan
    benefits: _Benefits
    alpha_main: _vec(_N_MAIN)  # type: ignore[valid-type]
    alpha_serv: _vec(_N_SERV)  # type: ignore[valid-type]
    alpha_county: _vec(_N_COUNTY)  # type: ignore[valid-type]
    lam_main: _vec(_N_MAIN)  # type: ignore[valid-type]
    lam_serv: _vec(_N_SERV)  # type: ignore[valid-type]
    lam_county: _vec(_N_COUNTY)  # type: ignore[valid-type]
    theta_delta: dict[str, float]
    lonn_edges: _vec(9)  # type: ignore[valid-type]
    pgi_edges: _vec(9)  # type: ignore[valid-type]
    pgi_scale: PerType
    prog_job_loss: Share
    keep_main: _vec(_N_MAIN)  # type: ignore[valid-type]
    keep_serv: _vec(_N_SERV)  # type: ignore[valid-type]
    keep_county: _vec(_N_COUNTY)  # type: ignore[valid-type]
    delvis_ramp: float
    prog_ramp: float
    partial_big_share: Share
    covid_fulltime: Share
    #: Residual noise of the outcome (hours) process, μ units: ε_it = noise_sd (√ρ z_i + √(1−ρ) η_it)
    #: added to the job-finding index and (× ``noise_keep`` / softplus_scale) to the job-keeping
    #: logit; ρ = ``noise_person_share`` is the persistent person part (see data/README.md).
    noise_sd: Annotated[float, Field(ge=0.0)]
    noise_person_share: Share
    noise_keep: float
    #: Month-to-month variation of the *recorded* hours around the job's hours: a factor
    #: exp(σ e − σ²/2) (mean one, at most 4) with e = √ρ z_i + √(1−ρ) η_it, σ = ``hours_noise_sd``,
    #: ρ = ``hours_noise_person_share``; the job process itself is unchanged.
    hours_noise_sd: Annotated[float, Field(ge=0.0)]
    hours_noise_person_share: Share
    #: Recording errors of the hours of jobs over 19 h: an episode starts with probability
    #: ``record_error_rate`` per job-month, lasts ``record_error_months`` on average (geometric)
    #: and while it lasts the month's record is ``record_error_factor`` × the agreed hours
    #: (4.33: a month's hours reported as weekly hours); wages and the job process are unchanged.
    record_error_rate: Share
    record_error_months: Annotated[float, Field(ge=1.0)]
    record_error_factor: Annotated[float, Field(ge=1.0)]
    #: Mean-one recording errors: outside an episode the record of a job over 19 h is
    #: c = (1 − p f)/(1 − p) × the agreed hours, p = the stationary episode share
    #: (``simulate.record_error_share``), f the error's factor after the cap, so the recorded hours
    #: keep their mean while their variance grows (``simulate.apply_record_errors``). Needs p f < 1.
    record_error_mean_one: bool = False
    #: Depth (μ units) of the weaker labour market before 2018 (world.MARKET_KNOTS; 0: none).
    market_dip: Annotated[float, Field(ge=0.0)]
    #: Focal spells that start before the period may end before it (no start-up transient);
    #: persons without a row in the period are then not candidates.
    burn_in: bool
    tilt: _Tilt | None

    def model_post_init(self, __context: Any) -> None:
        from arbeidsindikator.data.reference import TABLE4_NAMES

        if self.record_error_mean_one and self.record_error_rate > 0:
            p = self.record_error_rate * self.record_error_months / (1.0 + self.record_error_rate * self.record_error_months)
            if p * self.record_error_factor >= 1.0:
                raise ValueError(f"record_error_mean_one: episode share {p:.3f} × factor {self.record_error_factor} "
                                 "must be below 1 (the other months' records would be zero or negative)")
        unknown = sorted(set(self.theta_delta) - set(TABLE4_NAMES))
        if unknown:
            raise ValueError(f"theta_delta: {len(unknown)} name(s) without a table-4 coefficient, e.g. {unknown[:3]}")


class CalibrationFileError(ValueError):
    """The calibrated parameters do not match :class:`CalibratedParams`."""


def validate_calibrated(params: dict[str, Any], source: str = "parameters") -> dict[str, Any]:
    """Check ``params`` against :class:`CalibratedParams`; return them unchanged.

    An empty ``tilt`` (``{}``, as :func:`calibrate` uses while fitting the untilted model) counts
    as none. Raises :class:`CalibrationFileError` listing every violation (key path and reason).
    """
    data = dict(params)
    if data.get("tilt") == {}:
        data["tilt"] = None
    try:
        CalibratedParams.model_validate(data)
    except ValidationError as e:
        lines = [f"- {'.'.join(str(x) for x in err['loc']) or '(top level)'}: {err['msg']}"
                 + (f" (got {err['input']!r})" if err["type"] not in ("missing",) and not isinstance(err["input"], (dict, list)) else "")
                 for err in e.errors()]
        raise CalibrationFileError(f"{source}: {len(lines)} problem(s) with the generator's calibrated parameters:\n"
                                   + "\n".join(lines)) from None
    return params


def load_calibrated(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate ``calibrated.json`` (default :data:`CALIBRATED_PATH`)."""
    path = Path(path) if path is not None else CALIBRATED_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CalibrationFileError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise CalibrationFileError(f"{path}: the top level must be an object, not {type(data).__name__}")
    return validate_calibrated(data, str(path))


def _round(x: Any) -> Any:
    if isinstance(x, float):
        return float(f"{x:.7g}")
    if isinstance(x, list):
        return [_round(v) for v in x]
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    return x


def write_calibrated(params: dict[str, Any], path: str | Path | None = None) -> None:
    """Validate ``params``, round floats to 7 significant digits and write them (atomically) as JSON.

    Default target: the package's ``calibrated.json`` (:data:`CALIBRATED_PATH`); the running
    process keeps its loaded :data:`CALIBRATED` (re-import to use the new file).
    """
    path = Path(path) if path is not None else CALIBRATED_PATH
    data = _round(copy.deepcopy(params))
    validate_calibrated(data, "write_calibrated")
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


#: The committed parameters (validated when the package is imported).
CALIBRATED: dict[str, Any] = load_calibrated()
