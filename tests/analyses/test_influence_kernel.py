"""The pass-1 and pass-2 kernels' sums equal dense numpy computations on small random designs."""

from __future__ import annotations

import numpy as np
import pytest

from arbeidsindikator.analyses import influence


def _case(rng, P=300, p=40, nbk=6, T=24, U=(1, 5, 60, 3)):
    npp = rng.integers(1, 10, P)
    n = int(npp.sum())
    starts = np.r_[0, np.cumsum(npp)].astype(np.int64)
    person = np.repeat(np.arange(P), npp)
    base = rng.integers(1, p, (P, nbk))  # mostly constant per person, some blocks vary by row
    codes = base[person].copy()
    vary = rng.random((n, nbk)) < 0.3
    codes[vary] = rng.integers(-2, p, vary.sum())
    codes[codes == 0] = -1
    month = np.concatenate([rng.choice(T, k, replace=False) for k in npp]).astype(np.int64)
    uoff = np.r_[0, np.cumsum(U)[:-1]]
    unit = np.stack([np.where(rng.random(n) < 0.8, uoff[q] + rng.integers(0, U[q], P)[person], -1)
                     for q in range(len(U))], 1).astype(np.int64)
    move = rng.random(unit.shape) < 0.15  # some rows in another unit of the grouping than the person's others
    unit = np.where(move & (unit >= 0), uoff + rng.integers(0, np.array(U), unit.shape), unit).astype(np.int64)
    cell = np.where(unit >= 0, unit * T + month[:, None], -1)
    s, d = rng.normal(size=n), rng.random(n)
    a = np.where(cell >= 0, rng.normal(size=cell.shape), 0.0)
    return codes, s, d, a, cell, unit, month, starts, person, sum(U), T, p


def _dense(codes, s, d, a, cell, unit, month, person, U, T, p):
    n = codes.shape[0]
    C = U * T
    X = np.zeros((n, p))
    X[:, 0] = 1
    for b in range(codes.shape[1]):
        ok = codes[:, b] >= 0
        np.add.at(X, (np.flatnonzero(ok), codes[ok, b]), 1.0)
    P = person.max() + 1
    S = np.zeros((P, p))
    np.add.at(S, person, X * s[:, None])
    D, AS, ASo = np.zeros((C, p)), np.zeros((C, p)), np.zeros((C, p))
    blocks = np.zeros((U, T, T))
    for q in range(cell.shape[1]):
        ok = cell[:, q] >= 0
        c, aq = cell[ok, q], a[ok, q]
        np.add.at(D, c, X[ok] * d[ok, None])
        np.add.at(ASo, c, X[ok] * (aq * s[ok])[:, None])
        np.add.at(AS, c, S[person[ok]] * aq[:, None])
        A = np.zeros((P, U, T))  # a_cp per person, unit, month
        np.add.at(A, (person[ok], unit[ok, q], month[ok]), aq)
        blocks += np.einsum("put,pus->uts", A, A)
    M = S.T @ S
    Mo = (X * s[:, None]**2).T @ X
    return D, AS, ASo, blocks, M, Mo


def _pass2(codes, s, d, a, unit, month, starts, U, T, p, obs=True):
    """The accumulator's pass-2 kernels, outputs as cells × columns (as ``Accumulator.finish``)."""
    M, Mo = np.zeros((p, p)), np.zeros((p, p))
    D3, AS3, ASo3 = np.zeros((U, p, T)), np.zeros((U, p, T)), np.zeros((U, p, T))
    blocks = np.zeros((U, T, T))
    ptr, col, val = influence._k_scores(codes, s, starts, M)
    if obs:
        influence._k_obs_m(codes, s, Mo)
    influence._k_pass2(codes, s, d, a, unit, month, starts, ptr, col, val, D3, AS3, ASo3, blocks)
    cp = [x.transpose(0, 2, 1).reshape(U * T, p) for x in (D3, AS3, ASo3)]
    return (*cp, blocks, M, Mo), (ptr, col, val)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_pass2_kernel_equals_dense_reference(dtype):
    rng = np.random.default_rng(3)
    codes, s, d, a, cell, unit, month, starts, person, U, T, p = _case(rng)
    out, (ptr, col, val) = _pass2(codes.astype(dtype), s, d, a, unit, month, starts, U, T, p)
    ref = _dense(codes, s, d, a, cell, unit, month, person, U, T, p)
    for name, x, y in zip(["D", "AS", "ASo", "blocks", "M", "Mo"], out, ref):
        assert np.abs(x - y).max() <= 1e-12 * max(1.0, np.abs(y).max()), name
    # the persons' sparse scores S_p
    S = np.zeros((starts.size - 1, p))
    for k in range(starts.size - 1):
        S[k, col[ptr[k]:ptr[k + 1]]] = val[ptr[k]:ptr[k + 1]]
    X = np.zeros((codes.shape[0], p))
    X[:, 0] = 1
    for b in range(codes.shape[1]):
        ok = codes[:, b] >= 0
        np.add.at(X, (np.flatnonzero(ok), codes[ok, b]), 1.0)
    Sref = np.zeros_like(S)
    np.add.at(Sref, person, X * s[:, None])
    assert np.abs(S - Sref).max() <= 1e-12 * max(1.0, np.abs(Sref).max())


def test_pass2_does_not_depend_on_the_row_order_within_persons_and_units():
    """The unit-by-unit visit adds the same terms in the same order as a visit in row order:
    the sums equal (to the bit) a run on one grouping at a time and on every unit alone."""
    rng = np.random.default_rng(11)
    codes, s, d, a, cell, unit, month, starts, person, U, T, p = _case(rng)
    full, _ = _pass2(codes, s, d, a, unit, month, starts, U, T, p)
    parts = [np.zeros_like(x) for x in full]
    for q in range(unit.shape[1]):
        for u in np.unique(unit[:, q][unit[:, q] >= 0]):
            uq = np.where(unit[:, q:q + 1] == u, unit[:, q:q + 1], -1)
            out, _ = _pass2(codes, s, d, np.ascontiguousarray(a[:, q:q + 1]), uq, month, starts, U, T, p, obs=False)
            for k in range(4):
                parts[k] += out[k]
    for k, name in enumerate(["D", "AS", "ASo", "blocks"]):
        assert np.array_equal(parts[k], full[k]), name


def _a_reference(r, unit, month, T, I, inv_n):
    cell = np.where(unit >= 0, unit * T + month[:, None], -1)
    a = np.zeros(cell.shape)
    ok = cell >= 0
    cc = cell[ok]
    a[ok] = (np.broadcast_to(r[:, None], cell.shape)[ok] - I[cc]) * inv_n[cc]
    return a


def test_a_kernel_equals_numpy():
    rng = np.random.default_rng(5)
    codes, s, d, a, cell, unit, month, starts, person, U, T, p = _case(rng)
    r = rng.normal(size=s.size)
    I, inv_n = rng.normal(size=U * T), rng.random(U * T)
    out = np.empty(unit.shape)
    influence._k_a(r, unit, month, T, I, inv_n, out)
    assert np.array_equal(out, _a_reference(r, unit, month, T, I, inv_n))


def test_count_kernel_equals_dense_reference():
    """Distinct persons G and Σ_p n_p² per key, with repeated keys within a person and key −1."""
    rng = np.random.default_rng(7)
    npp = rng.integers(1, 30, 2000)
    starts = np.r_[0, np.cumsum(npp)].astype(np.int64)
    person = np.repeat(np.arange(npp.size), npp)
    keys = rng.integers(-3, 50, starts[-1]).astype(np.int64)
    G, S = np.zeros(50), np.zeros(50)
    influence._k_count(keys, starts, G, S)
    ok = keys >= 0
    tab = np.zeros((npp.size, 50))
    np.add.at(tab, (person[ok], keys[ok]), 1.0)
    assert np.array_equal(G, (tab > 0).sum(axis=0)) and np.array_equal(S, (tab**2).sum(axis=0))
