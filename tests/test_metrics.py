"""The shared float → 8-bit conversion and the PSNRs of vsanimeinterp.metrics (SSIM and IE are
checked against scikit-image in test_cli_tools)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vsanimeinterp.metrics import PSNR_CAP, psnr, psnr8, to_uint8


def test_to_uint8_rounds_and_clips() -> None:
    out = to_uint8(np.array([[-0.2, 0.0, 0.5, 1.0, 1.7]], np.float32))
    assert out.dtype == np.uint8
    # 0.5 · 255 = 127.5: halves round to even.
    assert out.tolist() == [[0, 0, 128, 255, 255]]
    assert to_uint8(np.array([True, False])).tolist() == [255, 0]


def test_to_uint8_matches_rounding_before_clipping() -> None:
    """Clipping first and rounding first agree, in float32 and float64 alike, so the
    conversions it replaced keep their results."""
    rng = np.random.default_rng(1)
    ties = (np.arange(-3, 260) + 0.5) / 255
    for dtype in (np.float32, np.float64):
        x = np.concatenate([rng.uniform(-0.5, 1.5, 10_000), ties]).astype(dtype)
        rounded_first = np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(to_uint8(x), rounded_first)


def test_to_uint8_is_clip_scale_rint_for_every_shape_and_dtype() -> None:
    """The OpenCV conversion gives the bits of ``rint(clip(x, 0, 1) · 255)`` in the input's
    precision: every channel of an RGB frame (not only the first), next to the ties, and for
    views, batches, float16, integers and empty arrays."""
    rng = np.random.default_rng(3)

    def reference(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        x = x if x.dtype == np.float64 else x.astype(np.float32)
        return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)

    ties = ((np.arange(256) + 0.5) / 255).astype(np.float32)
    near = [ties]
    lo, hi = ties, ties
    for _ in range(4):
        lo, hi = np.nextafter(lo, np.float32(-1)), np.nextafter(hi, np.float32(2))
        near += [lo, hi]
    cases = [
        rng.uniform(-0.2, 1.2, (54, 96, 3)).astype(np.float32),
        rng.uniform(-0.2, 1.2, (2, 3, 17, 9)),
        rng.random((40, 60, 3), dtype=np.float32)[::2, 1::3],
        rng.random((7, 5, 4)).astype(np.float16),
        np.concatenate(near),
        np.tile(np.array([-np.inf, np.inf, -0.0, 1.0000001, 2.0], np.float32), 30),
        np.tile(np.arange(-2, 3, dtype=np.int16), 30).reshape(-1, 1),
        np.full((1, 1), 0.5, np.float32),
        np.float32(0.25),
        np.zeros((0, 3), np.float32),
    ]
    for x in cases:
        out = to_uint8(x)
        assert out.dtype == np.uint8 and out.shape == np.shape(x)
        np.testing.assert_array_equal(out, reference(x))


def test_to_uint8_leaves_uint8_alone() -> None:
    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert to_uint8(img) is img


def test_psnr8_quantises_float_images() -> None:
    rng = np.random.default_rng(2)
    a = rng.random((30, 40, 3), dtype=np.float32)
    b = np.clip(a + rng.normal(0, 0.03, a.shape), 0, 1).astype(np.float32)
    qa, qb = to_uint8(a), to_uint8(b)
    assert psnr8(a, b) == psnr8(qa, qb) == psnr8(qa, b)
    mse = np.mean((qa.astype(np.float64) - qb) ** 2)
    assert psnr8(a, b) == pytest.approx(10 * math.log10(255.0**2 / mse), abs=1e-9)
    # Equal on 8 bits although the floats differ: the MSE floor.
    levels = qa.astype(np.float32) / 255
    assert psnr8(levels + np.float32(0.1 / 255), qa) == pytest.approx(
        10 * math.log10(255.0**2 / 1e-10)
    )


def test_psnr_float_and_8bit() -> None:
    truth = np.full((8, 8, 3), 0.5, np.float32)
    assert psnr(truth + 0.1, truth) == pytest.approx(20.0, abs=1e-4)
    assert psnr(truth, truth) == PSNR_CAP
    # One 8-bit step everywhere: 20·log10(255).
    step = np.full((8, 8, 3), 101 / 255, np.float32)
    assert psnr8(step, np.full_like(step, 100 / 255)) == pytest.approx(20 * math.log10(255))


def _stroke_image(x: int, size: tuple[int, int] = (64, 96)) -> np.ndarray:
    """White H×W×3 float image with a 2-px dark vertical stroke at column ``x``."""
    img = np.ones((*size, 3), np.float32)
    img[8:56, x:x + 2] = 0.05
    return img


def test_line_mask_finds_dark_strokes_only():
    from vsanimeinterp.metrics import line_mask

    mask = line_mask(_stroke_image(30))
    assert mask[30, 30] and mask[30, 31]
    assert not mask[30, 60] and not mask[2, 30]  # paper and above the stroke
    assert not line_mask(np.full((32, 32, 3), 0.4, np.float32)).any()  # flat colour


def test_chamfer_distance_grows_with_line_displacement():
    from scipy import ndimage

    from vsanimeinterp.metrics import chamfer_distance, line_mask

    truth = _stroke_image(30)
    assert chamfer_distance(truth, truth) == 0.0
    near, far = chamfer_distance(_stroke_image(33), truth), chamfer_distance(_stroke_image(40),
                                                                               truth)
    assert 0 < near < far
    assert chamfer_distance(truth, _stroke_image(40)) == pytest.approx(far)  # symmetric
    # Against an independent distance transform: mean of each mask times the distance to the
    # other, averaged, over the diagonal.
    lp, lt = line_mask(_stroke_image(40)), line_mask(truth)
    dist = [ndimage.distance_transform_edt(~m) for m in (lp, lt)]
    want = ((lt * dist[0]).mean() + (lp * dist[1]).mean()) / 2 / np.hypot(*lt.shape)
    assert far == pytest.approx(want, rel=1e-4)
    # No lines at all on one side: every line pixel is a diagonal away.
    blank = np.ones_like(truth)
    assert chamfer_distance(blank, truth) == pytest.approx(lt.mean() / 2, rel=1e-6)
