"""Tests of the procedural cartoon generator: determinism, looks, exact flows, clip timing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vsanimeinterp.metrics import to_uint8
from vsanimeinterp.synthetic import (
    CartoonClip,
    CartoonScene,
    CartoonTriplet,
    demo_sequence,
    make_sequence,
    make_triplets,
)

W, H = 320, 180


def _warp_agreement(
    scene: CartoonScene, t0: float, t1: float, flow: np.ndarray, actors_only: bool = False
) -> float:
    """Share of flat, still-visible pixels of frame t0 (optionally only those showing a moving
    character) that frame t1, sampled at p + flow(p), reproduces within 0.05."""
    f0, f1 = scene.render(t0), scene.render(t1)
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    warped = cv2.remap(
        f1, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    # Flat 7×7 neighbourhoods only: outlines and anti-aliased edges do not move as material
    # points when the shape squashes.
    k = np.ones((7, 7), np.uint8)
    flat = (cv2.dilate(f0, k) - cv2.erode(f0, k)).max(axis=2) < 1e-6
    mask = flat & scene.visible(t0, t1)
    if actors_only:
        mask &= scene.layer_ids(t0) > 0
    assert mask.mean() > (0.004 if actors_only else 0.5)
    return float((np.abs(warped - f0).max(axis=2)[mask] < 0.05).mean())


def test_render_deterministic_and_seed_dependent() -> None:
    a = CartoonScene(W, H, seed=3).render(4.5)
    b = CartoonScene(W, H, seed=3).render(4.5)
    c = CartoonScene(W, H, seed=4).render(4.5)
    assert np.array_equal(a, b)
    assert np.abs(a - c).mean() > 0.02


def test_render_shape_range_and_ink() -> None:
    scene = CartoonScene(640, 360, seed=1)
    frame = scene.render(0.0)
    assert frame.shape == (360, 640, 3) and frame.dtype == np.float32
    assert frame.min() >= 0.0 and frame.max() <= 1.0
    dark = frame.max(axis=2) < 0.15
    assert 0.01 < dark.mean() < 0.2  # outlines exist but do not dominate
    # A flat-colour picture: few distinct colours carry most of the pixels.
    colours, counts = np.unique(to_uint8(frame).reshape(-1, 3), axis=0, return_counts=True)
    top = np.sort(counts)[::-1][:12].sum() / counts.sum()
    assert top > 0.85 and len(colours) > 12
    # Several characters on top of the background.
    assert len(np.unique(scene.layer_ids(0.0))) >= 3


def test_line_width_scales_with_resolution() -> None:
    small = CartoonScene(480, 270, seed=0, n_objects=1)
    mid = CartoonScene(960, 540, seed=0, n_objects=1)
    big = CartoonScene(1920, 1080, seed=0, n_objects=1)
    assert small.line_width < mid.line_width < big.line_width
    assert 2 <= mid.line_width <= 3


@pytest.mark.parametrize(("seed", "t0", "t1"), [(0, 0.0, 1.0), (1, 7.5, 8.5), (2, 3.0, 1.0)])
def test_flow_moves_frame0_onto_frame1(seed: int, t0: float, t1: float) -> None:
    scene = CartoonScene(W, H, seed=seed)
    flow = scene.flow(t0, t1)
    assert flow.shape == (H, W, 2) and flow.dtype == np.float32
    assert _warp_agreement(scene, t0, t1, flow) > 0.97
    assert _warp_agreement(scene, t0, t1, flow, actors_only=True) > 0.95
    # The check can fail: with the motion reversed, far fewer character pixels agree.
    assert _warp_agreement(scene, t0, t1, -flow, actors_only=True) < 0.6


def test_flow_forward_backward_consistent() -> None:
    scene = CartoonScene(W, H, seed=5)
    f01, f10 = scene.flow(2.0, 3.0), scene.flow(3.0, 2.0)
    vis = scene.visible(2.0, 3.0)
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    back = cv2.remap(f10, xs + f01[..., 0], ys + f01[..., 1], cv2.INTER_NEAREST)
    err = np.linalg.norm(f01 + back, axis=2)[vis]
    assert np.median(err) < 0.5


def test_motion_is_large_and_non_linear() -> None:
    peaks = []
    for seed in range(4):
        scene = CartoonScene(W, H, seed=seed)
        for t in (0.0, 3.0, 6.0):
            peaks.append(np.abs(scene.flow(t, t + 1)[scene.layer_ids(t) > 0]).max())
    assert 0.06 * W < max(peaks) < 0.2 * W
    # Acceleration: two frames of motion are not twice one frame of motion.
    scene = CartoonScene(W, H, seed=0)
    actors = scene.layer_ids(0.0) > 0
    one, two = scene.flow(0.0, 1.0)[actors], scene.flow(0.0, 2.0)[actors]
    assert np.abs(two - 2 * one).max() > 2.0


def test_background_flow_is_the_pan() -> None:
    panned = CartoonScene(W, H, seed=2, pan=True)
    bg = panned.layer_ids(1.0) == 0
    flow = panned.flow(1.0, 2.0)[bg]
    (x1, y1), (x2, y2) = panned.pan_offset(1.0), panned.pan_offset(2.0)
    np.testing.assert_allclose(flow, np.broadcast_to([x1 - x2, y1 - y2], flow.shape), atol=1e-3)
    assert abs(x2 - x1) > 0.5
    still = CartoonScene(W, H, seed=2, pan=False)
    assert np.abs(still.flow(1.0, 2.0)[still.layer_ids(1.0) == 0]).max() == 0.0


def test_triplets() -> None:
    trips = make_triplets(3, W, H, seed=7, gap=2.0)
    assert len(trips) == 3 and all(isinstance(t, CartoonTriplet) for t in trips)
    assert len({t.scene.seed for t in trips}) == 3
    for t in trips:
        for f in (t.frame0, t.frame_mid, t.frame1):
            assert f.shape == (H, W, 3) and f.dtype == np.float32
        for f in (t.flow01, t.flow10):
            assert f.shape == (H, W, 2) and f.dtype == np.float32
        assert np.array_equal(t.frame_mid, t.scene.render(t.time0 + 1.0))
        assert np.abs(t.frame_mid - t.frame0).mean() > 1e-3
        assert np.abs(t.frame_mid - t.frame1).mean() > 1e-3
        np.testing.assert_array_equal(t.flow01, t.scene.flow(t.time0, t.time0 + 2.0))
    again = make_triplets(3, W, H, seed=7, gap=2.0)
    assert all(np.array_equal(a.frame1, b.frame1) for a, b in zip(trips, again, strict=True))


def test_sequence_on_twos_and_holds() -> None:
    seq = make_sequence(W, H, 10, seed=1, on=2, holds={4: 3})
    assert isinstance(seq, CartoonClip) and len(seq) == 10
    assert seq.frames.shape == (10, H, W, 3)
    # On twos: drawings at 0, 2, ...; frame 4 paused for 3 frames, then the clock resumes.
    np.testing.assert_array_equal(seq.times, [0, 0, 2, 2, 4, 4, 4, 4, 6, 6])
    assert seq.held.tolist() == [False, True, False, True, False, True, True, True, False, True]
    for i in range(1, 10):
        same = np.array_equal(seq.frames[i], seq.frames[i - 1])
        assert same == seq.held[i]
    assert seq.cuts == []
    np.testing.assert_array_equal(seq.true_flow(0, 2), seq.scenes[0].flow(0.0, 2.0))


def test_sequence_cut() -> None:
    seq = make_sequence(W, H, 8, seed=2, cut_at=5)
    assert seq.scene_ids.tolist() == [0] * 5 + [1] * 3
    assert seq.cuts == [5]
    np.testing.assert_array_equal(seq.times, [0, 1, 2, 3, 4, 0, 1, 2])
    within = np.abs(seq.frames[4] - seq.frames[3]).mean()
    across = np.abs(seq.frames[5] - seq.frames[4]).mean()
    assert across > 0.1 and across > 3 * within
    with pytest.raises(ValueError):
        seq.true_flow(4, 5)


def test_demo_sequence() -> None:
    seq = demo_sequence()
    assert seq.frames.shape == (48, 360, 640, 3) and seq.frames.dtype == np.float32
    assert seq.cuts == [24]
    assert np.flatnonzero(seq.held).tolist() == [13]
    assert np.array_equal(seq.frames[12], seq.frames[13])
    diffs = [np.abs(seq.frames[i] - seq.frames[i - 1]).mean() for i in range(1, 48)]
    assert sum(d == 0 for d in diffs) == 1
