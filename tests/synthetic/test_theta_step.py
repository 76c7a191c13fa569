"""The table-4 θ step of the generator's calibration (synthetic.calibrate.theta_step, issue 13).

The step's arithmetic on a crafted fitted-vs-published table (the generated panel is replaced by
monkeypatched helpers, so this runs in milliseconds): each coefficient's θ moves by gain × gap,
the duration block's common gap goes to ``entry_pen`` (share ``pen_gain``), a gap within
``tol_se`` standard errors is left alone, and the returned count is the wrong signs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arbeidsindikator.synthetic import calibrate as cal


@pytest.fixture
def crafted(monkeypatch):
    fv = pd.DataFrame(
        {"published": [1.0, 2.0, -0.8, 0.3, 5.0], "fitted": [0.4, 1.0, 0.2, 0.1, 4.9], "se": [0.1, 0.1, 0.5, 0.1, 0.1]},
        index=["nav_varighet[2]", "nav_varighet[3]", "landgruppe[3]", "alder[30]", "const"])
    monkeypatch.setattr(cal, "fitted_vs_published", lambda panel, outcome: fv)
    monkeypatch.setattr(cal, "_row_sum_of", lambda panel, step: pd.Series(np.zeros(3)))
    return fv


def test_theta_step_moves_by_gain_and_skips_within_tolerance(crafted):
    prm = {"theta_delta": {"alder[30]": 0.05}, "entry_pen": 1.0}
    wrong = cal.theta_step(prm, pd.DataFrame(), gain=0.5, tol_se=1.0, pen_gain=0.25, verbose=False)
    dur_gap = ((1.0 - 0.4) + (2.0 - 1.0)) / 2  # 0.8
    assert prm["entry_pen"] == pytest.approx(1.0 + 0.25 * dur_gap)
    d = prm["theta_delta"]
    # duration: only the deviation from the common gap, and only where it exceeds 1 se
    assert d["nav_varighet[2]"] == pytest.approx(0.5 * ((1.0 - 0.4) - dur_gap))
    assert d["nav_varighet[3]"] == pytest.approx(0.5 * ((2.0 - 1.0) - dur_gap))
    # landgruppe[3]: gap -1.0 beyond 1 se (0.5): moves; alder[30]: gap 0.2 beyond 1 se (0.1): moves
    assert d["landgruppe[3]"] == pytest.approx(0.5 * -1.0)
    assert d["alder[30]"] == pytest.approx(0.05 + 0.5 * 0.2)
    assert d["const"] == pytest.approx(0.0)  # mean of μ unchanged (row sums patched to zero)
    assert wrong == 1  # landgruppe[3]: published −0.8, fitted +0.2 (|β| > 0.5); const excluded


def test_theta_step_leaves_coefficients_within_tol_se(crafted):
    prm = {"theta_delta": {}, "entry_pen": 0.0}
    cal.theta_step(prm, pd.DataFrame(), gain=1.0, tol_se=3.0, pen_gain=0.0, verbose=False)
    d = prm["theta_delta"]
    assert "landgruppe[3]" not in d and "alder[30]" not in d  # |gap| 1.0 ≤ 3 × 0.5, 0.2 ≤ 3 × 0.1
    assert prm["entry_pen"] == 0.0
