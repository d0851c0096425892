"""Piece affinities: the shared terms of :class:`PairAffinity` give the numbers of a direct
computation, in both directions, on subsets and whatever the blocking."""

from __future__ import annotations

import numpy as np
import pytest

from vsanimeinterp.sgm import matching
from vsanimeinterp.sgm.matching import PieceDescriptors, affinity, pair_affinity


def _descriptors(rng: np.random.Generator, n: int, extra: bool = False) -> PieceDescriptors:
    area = rng.uniform(1, 5000, n)
    shape = np.abs(rng.normal(0.08, 0.03, (n, 3)))
    shape[:, 2] = rng.normal(0, 0.02, n)
    return PieceDescriptors(
        area=area, centroid=rng.uniform(0, [960, 540], (n, 2)),
        bbox=np.zeros((n, 4), np.int64), lab_mean=rng.uniform(-60, 90, (n, 3)),
        lab_std=rng.uniform(0, 10, (n, 3)), shape=shape, diag=float(np.hypot(960, 540)),
        extra=rng.dirichlet(np.ones(4), n) if extra else None)


def _direct(d1: PieceDescriptors, d2: PieceDescriptors, offset: np.ndarray,
            position_scale: float) -> np.ndarray:
    """The affinity formula written out on n1×n2×k arrays."""
    dc = np.linalg.norm(d1.lab_mean[:, None] - d2.lab_mean[None], axis=2)
    ds = np.abs(d1.lab_std[:, None] - d2.lab_std[None]).sum(2)
    da = np.abs(np.log(d1.area)[:, None] - np.log(d2.area)[None])
    s1 = d1.shape / d1.shape[:, :2].sum(1, keepdims=True)
    s2 = d2.shape / d2.shape[:, :2].sum(1, keepdims=True)
    dsh = np.abs(s1[:, None] - s2[None]).sum(2)
    dp = np.linalg.norm((d1.centroid + offset)[:, None] - d2.centroid[None], axis=2) / d1.diag
    aff = np.exp(-(dc / 8 + ds / 8 + da / 0.35 + dsh / 0.6 + dp / position_scale))
    if d1.extra is not None:
        aff = aff * np.minimum(d1.extra[:, None], d2.extra[None]).sum(2)
    ratio = np.exp(da)
    raw = np.linalg.norm(d1.centroid[:, None] - d2.centroid[None], axis=2) / d1.diag
    return aff - np.where(ratio > 3, ratio / 20, 0) - np.where(raw > 0.14, raw / 5, 0)


@pytest.mark.parametrize("extra", [False, True])
def test_shared_terms_give_the_affinities_of_both_directions(
    extra: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(3)
    d1, d2 = _descriptors(rng, 57, extra), _descriptors(rng, 43, extra)
    off1, off2 = rng.normal(0, 30, (57, 2)), rng.normal(0, 30, (43, 2))
    for scale in (0.04, 0.5):
        np.testing.assert_allclose(affinity(d1, d2, off1, position_scale=scale),
                                   _direct(d1, d2, off1, scale), rtol=1e-12, atol=1e-15)
    terms = pair_affinity(d1, d2)
    # Backward is the swapped frames' affinity, transposed, to the last bit.
    assert np.array_equal(terms.forward(off1), affinity(d1, d2, off1))
    assert np.array_equal(terms.backward(off2, 0.5), affinity(d2, d1, off2, position_scale=0.5).T)
    rows, cols = np.array([40, 2, 7, 56]), np.array([0, 42, 5])
    full_f, full_b = terms.forward(off1, 0.5), terms.backward(off2, 0.5)
    assert np.array_equal(terms.forward(off1[rows], 0.5, rows, cols), full_f[np.ix_(rows, cols)])
    assert np.array_equal(terms.backward(off2[cols], 0.5, rows, cols), full_b[np.ix_(rows, cols)])
    assert np.array_equal(terms.forward(off1[rows], 0.5, rows=rows), full_f[rows])
    assert np.array_equal(terms.backward(off2[cols], 0.5, cols=cols), full_b[:, cols])
    # Blocks of a few rows (a blocked pass over a big frame) change no bit.
    monkeypatch.setattr(matching, "_BLOCK_ELEMENTS", 100)
    small = pair_affinity(d1, d2)
    assert np.array_equal(small.appearance, terms.appearance)
    assert np.array_equal(small.forward(off1, 0.5), full_f)
    assert np.array_equal(small.backward(off2[cols], 0.5, rows, cols), full_b[np.ix_(rows, cols)])


def test_affinity_of_no_pieces_is_empty() -> None:
    rng = np.random.default_rng(0)
    d1, d0 = _descriptors(rng, 5), _descriptors(rng, 0)
    assert affinity(d1, d0).shape == (5, 0)
    assert affinity(d0, d1).shape == (0, 5)
