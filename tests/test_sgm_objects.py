"""Pieces that move together: touching pieces, objects and their joint motion, and pieces
taking the motion of a mover they touch."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vsanimeinterp.sgm import flows as sgm_flows_module
from vsanimeinterp.sgm import pair_flows, prepare_frame
from vsanimeinterp.sgm.motion import affine_at, fit_piece_affine
from vsanimeinterp.sgm.objects import PieceSamples, adopt_neighbour_motions, object_motions
from vsanimeinterp.sgm.pieces import adjacency


def test_adjacency_lists_each_touching_pair_once_with_its_border() -> None:
    labels = np.array([[0, 0, 1],
                       [2, 2, 1],
                       [2, 2, 1]], np.int32)
    pairs, length = adjacency(labels, 3)
    assert pairs.tolist() == [[0, 1], [0, 2], [1, 2]]
    assert length.tolist() == [1, 2, 2]


H, W, CENTRE = 300, 400, (200.0, 150.0)


def _turn(step: float, zoom: float = 1.0) -> np.ndarray:
    """True H×W×2 motion of a turn by ``step`` degrees (and a zoom) about CENTRE."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    th = np.radians(step)
    dx, dy = xx - CENTRE[0], yy - CENTRE[1]
    return np.dstack([CENTRE[0] + zoom * (np.cos(th) * dx - np.sin(th) * dy) - xx,
                      CENTRE[1] + zoom * (np.sin(th) * dx + np.cos(th) * dy) - yy])


def _wedges(n: int = 12, radius: float = 90.0) -> np.ndarray:
    """H×W int32 labels: 0 outside a disc at CENTRE, 1..n its wedges."""
    yy, xx = np.mgrid[0:H, 0:W]
    ang = np.degrees(np.arctan2(yy - CENTRE[1], xx - CENTRE[0])) % 360
    labels = (1 + ang // (360 / n)).astype(np.int32)
    labels[np.hypot(xx - CENTRE[0], yy - CENTRE[1]) > radius] = 0
    return labels


def _boxes(labels: np.ndarray, n: int) -> np.ndarray:
    """n×4 inclusive (x0, y0, x1, y1) boxes of the pieces."""
    out = np.zeros((n, 4), np.int64)
    for p in range(n):
        ys, xs = np.nonzero(labels == p)
        out[p] = xs.min(), ys.min(), xs.max(), ys.max()
    return out


def test_an_object_fit_recovers_a_turning_wheel_from_noisy_samples() -> None:
    labels = _wedges()
    n = 13
    truth = _turn(6.0, 1.03)
    rng = np.random.default_rng(0)
    noisy = (truth + rng.normal(0, 2.0, truth.shape)).astype(np.float32)
    # Few reliable samples per piece, as on flat cel pieces: a sparse random sixth.
    weight = ((rng.random((H, W)) < 0.15) & (labels > 0)).astype(np.float32)
    area = np.bincount(labels.ravel(), minlength=n).astype(np.float64)
    yy, xx = np.mgrid[0:H, 0:W]
    centroid = np.stack([np.bincount(labels.ravel(), xx.ravel(), n),
                         np.bincount(labels.ravel(), yy.ravel(), n)], 1) / area[:, None]
    moving = np.arange(n) > 0
    member, rows = object_motions(labels, centroid, area, _boxes(labels, n),
                                  adjacency(labels, n), moving, noisy, weight)
    assert member.tolist() == [False] + [True] * 12
    inside = labels > 0
    p = labels[inside]
    joint = affine_at(rows[p], centroid[p], xx[inside].astype(np.float32),
                      yy[inside].astype(np.float32))
    err_joint = np.hypot(*(joint - truth[inside]).T)
    own, _ = fit_piece_affine(labels, n, centroid, noisy, weight)
    alone = affine_at(own[p], centroid[p], xx[inside].astype(np.float32),
                      yy[inside].astype(np.float32))
    err_alone = np.hypot(*(alone - truth[inside]).T)
    assert err_joint.max() < 0.3
    assert err_alone.mean() > 3 * err_joint.mean()


def test_still_pieces_are_no_object_and_a_lone_mover_is_none_either() -> None:
    labels = _wedges(4)
    n = 5
    area = np.bincount(labels.ravel(), minlength=n).astype(np.float64)
    centroid = np.zeros((n, 2))
    flow = np.zeros((H, W, 2), np.float32)
    weight = np.ones((H, W), np.float32)
    touching, boxes = adjacency(labels, n), _boxes(labels, n)
    member, _ = object_motions(labels, centroid, area, boxes, touching, np.zeros(n, bool),
                               flow, weight)
    assert not member.any()
    lone = np.zeros(n, bool)
    lone[2] = True
    member, _ = object_motions(labels, centroid, area, boxes, touching, lone, flow, weight)
    assert not member.any()


def test_piece_samples_score_a_known_shift() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (64, 80), dtype=np.uint8)
    b = np.roll(a, (0, 3), axis=(0, 1))  # b(x + 3) = a(x)
    labels = np.zeros((64, 80), np.int32)
    labels[:, 40:70] = 1  # read 3 px to the right, it stays inside the frame
    samples = PieceSamples(labels, np.array([False, True]), a, np.ones((64, 80)), 2)
    assert len(samples) == 32 * 15 and (samples.piece == 1).all()
    right = samples.error(b, np.tile([3.0, 0.0], (len(samples), 1)).astype(np.float32))
    wrong = samples.error(b, np.zeros((len(samples), 2), np.float32))
    assert right[1] < 1.0 < 30 < wrong[1]
    assert np.isinf(right[0])  # no samples of piece 0


def test_piece_samples_score_shifted_flows_in_one_read() -> None:
    """The K shifted errors are each what a plain read of the shifted flow gives, for
    pieces whose samples interleave in raster order (two columns of stripes)."""
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (48, 64), dtype=np.uint8)
    b = np.roll(a, (1, 2), axis=(0, 1))
    labels = (np.arange(64)[None, :] // 4 % 3).repeat(48, 0).astype(np.int32)
    labels[-2:], labels[:, -4:] = 1, 1  # piece 1 (not sampled) takes the wrapped border
    samples = PieceSamples(labels, np.array([True, False, True]), a, rng.random((48, 64)), 1)
    flow = np.tile([1.0, 0.0], (len(samples), 1)).astype(np.float32)
    shifts = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.0]], np.float32)
    every = samples.error(b, flow, shifts=shifts)
    assert every.shape == (3, 3)
    for k, s in enumerate(shifts):
        np.testing.assert_array_equal(every[k], samples.error(b, flow + s))
    assert every[1, 0] < 1.0 < 20 < every[0, 0]  # (2, 1) is the true motion
    assert np.isinf(every[:, 1]).all()
    # A subset of the samples: the pieces it has no sample of are inf.
    at = np.flatnonzero(samples.piece == 2)
    sub = samples.error(b, flow[at], at, shifts)
    np.testing.assert_array_equal(sub[:, 2], every[:, 2])
    assert np.isinf(sub[:, 0]).all()


def _wheel(angle: float, n: int = 24, radius: float = 90.0) -> np.ndarray:
    """A blue wheel of ``n`` shaded wedges, every third edge inked, turned by ``angle``
    degrees, on grey: H×W×3 float32 RGB."""
    img = np.full((H, W, 3), 0.55, np.float32)
    cx, cy = CENTRE
    for k in range(n):
        a0 = angle + k * 360 / n
        rim = [(cx + radius * np.cos(np.radians(a0 + s)), cy + radius * np.sin(np.radians(a0 + s)))
               for s in np.linspace(0, 360 / n, 8)]
        mask = np.zeros((H, W), np.uint8)
        cv2.fillPoly(mask, [np.round(np.array([CENTRE, *rim]) * 16).astype(np.int32)], 255,
                     cv2.LINE_AA, 4)
        colour = np.array([0.2, 0.45, 0.85], np.float32) * (0.8 + 0.2 * (k % 2))
        alpha = mask[..., None].astype(np.float32) / 255
        img = img * (1 - alpha) + alpha * colour
    ink = (0.05, 0.05, 0.08)
    for k in range(0, n, 3):
        a0 = np.radians(angle + k * 360 / n)
        end = (round((cx + radius * np.cos(a0)) * 16), round((cy + radius * np.sin(a0)) * 16))
        cv2.line(img, (round(cx * 16), round(cy * 16)), end, ink, 3, cv2.LINE_AA, 4)
    cv2.circle(img, (round(cx * 16), round(cy * 16)), round(radius * 16), ink, 3, cv2.LINE_AA,
               4)
    return img.astype(np.float32)


def _wheel_error() -> float:
    """Mean end-point error (pixels) of F12 inside the wheel turning by 8 degrees (0.48 px
    with objects, 1.24 px without, when written)."""
    det: dict[str, np.ndarray] = {}
    pair_flows(prepare_frame(_wheel(0.0)), prepare_frame(_wheel(8.0)), details=det)
    yy, xx = np.mgrid[0:H, 0:W]
    inside = np.hypot(xx - CENTRE[0], yy - CENTRE[1]) < 80
    return float(np.hypot(*(det["flow12"] - _turn(8.0))[inside].T).mean())


def test_a_turning_wheel_of_many_pieces_moves_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    with_objects = _wheel_error()
    monkeypatch.setattr(sgm_flows_module, "OBJECT_GAIN", 0.0)
    alone = _wheel_error()
    assert with_objects < 0.8 and alone > 1.1


def _demo_face_error() -> float:
    """Median end-point error (pixels) of F12 on the README demo's tan face between source
    frames 26 and 27 (8-bit YUV 4:2:0 as in ``make demo``). The face moves about 50 px and
    its eyes and mouth cut its skin into two look-alike halves that matching swaps; only the
    mouth is matched without a rival."""
    import vapoursynth as vs

    from vsanimeinterp.synthetic import demo_sequence
    from vsanimeinterp.vsfilter.frames import clip_from_arrays, clip_to_arrays

    seq = demo_sequence(640, 360, 48, seed=0)
    frames = clip_to_arrays(clip_from_arrays(seq.frames[26:28], fps_num=24000, fps_den=1001,
                                             format=vs.YUV420P8))
    det: dict[str, np.ndarray] = {}
    pair_flows(prepare_frame(frames[0]), prepare_frame(frames[1]), details=det)
    scene = seq.scenes[seq.scene_ids[26]]
    t0, t1 = seq.times[26], seq.times[27]
    truth, ids = scene.flow(t0, t1), scene.layer_ids(t0)
    face = ids == 4
    assert np.median(np.hypot(*truth[face].T)) > 40  # the scene is still the one described
    return float(np.median(np.hypot(*(det["flow12"] - truth)[face].T)))


def test_a_face_takes_the_motion_of_its_mouth(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _demo_face_error() < 4.0
    monkeypatch.setattr(sgm_flows_module, "ADOPT_ROUNDS", 0)
    assert _demo_face_error() > 20.0


def test_a_motion_travels_through_a_piece_that_already_has_it() -> None:
    """A mouth (the mover) inside a rim that already moves with it, inside the face half that
    does not: the face takes the motion through the rim, which gives it on without a change
    of its own (a double outline in 4:2:0 video cuts such rims off)."""
    rng = np.random.default_rng(3)
    a = cv2.GaussianBlur(rng.integers(0, 256, (64, 64)).astype(np.uint8), (3, 3), 0)
    b = np.roll(a, 6, axis=1)  # every piece moves 6 px to the right
    labels = np.zeros((64, 64), np.int32)  # 0: the background, kept as it is
    labels[10:50, 10:50] = 3  # the face half
    labels[18:42, 18:42] = 2  # the rim
    labels[22:38, 22:38] = 1  # the mouth
    n = 4
    centroid = np.array([[32.0, 32.0]] * n)
    rows = np.zeros((n, 2, 3))
    rows[1, :, 2] = (6.0, 0.0)  # the mouth is right
    rows[2, :, 2] = (6.4, 0.3)  # the rim is within a pixel of it
    flow = np.zeros((64, 64, 2), np.float32)
    for p in range(n):
        flow[labels == p] = rows[p, :, 2]
    givers = np.array([False, True, False, False])
    frozen = np.array([True, False, False, False])
    out, source = adopt_neighbour_motions(
        a, b, flow, labels, centroid, rows, np.ones((64, 64)), frozen, givers,
        adjacency(labels, n), rounds=4, tries=5, gain=0.9, step=1)
    assert source[3] == 2 and source[2] == 2  # the rim kept its own motion and gave it on
    face = labels == 3
    assert np.abs(out[face] - (6.4, 0.3)).max() < 1e-5
    assert (out[labels == 2] == flow[labels == 2]).all()


def test_a_motion_a_pixel_off_is_taken_with_the_shift_that_fits() -> None:
    """The mouth moves 6 px, the face around it 7 px (it turns about the mouth): the face's
    current motion (none) is wrong, and the mouth's, a pixel short, errs about as much on
    noise-like texture. Tried with a one-pixel search, the face takes 7 px."""
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (64, 64)).astype(np.uint8)
    labels = np.zeros((64, 64), np.int32)
    labels[10:50, 10:50] = 2  # the face
    labels[24:36, 24:36] = 1  # the mouth
    b = a.copy()
    face, mouth = labels == 2, labels == 1
    b[:, 7:][face[:, :-7]] = a[face]  # the face lands 7 px to the right
    b[:, 6:][mouth[:, :-6]] = a[mouth]
    n = 3
    centroid = np.array([[32.0, 32.0]] * n)
    rows = np.zeros((n, 2, 3))
    rows[1, :, 2] = (6.0, 0.0)
    flow = np.zeros((64, 64, 2), np.float32)
    flow[mouth] = (6.0, 0.0)
    givers = np.array([False, True, False])
    frozen = np.array([True, False, False])
    args = (a, b, flow, labels, centroid, rows, np.ones((64, 64)), frozen, givers,
            adjacency(labels, n))
    out, source = adopt_neighbour_motions(*args, rounds=1, tries=5, gain=0.9, step=1)
    assert source[2] == 2 and (out[face] == 0).all()  # nothing fits better unshifted
    out, source = adopt_neighbour_motions(*args, rounds=1, tries=5, gain=0.9, step=1,
                                          search=1.0)
    assert source[2] == 1
    assert np.abs(out[face] - (7.0, 0.0)).max() < 1e-5
    assert (out[mouth] == flow[mouth]).all()
