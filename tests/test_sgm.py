"""Tests of the weight-free SGM engine: segmentation, matching, flows and synthesis."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO

from vsanimeinterp.metrics import psnr8
from vsanimeinterp.ops.flow import backwarp_hw2
from vsanimeinterp.sgm import pair_flows, prepare_frame, sgm_flows, work_size_for
from vsanimeinterp.sgm.matching import affinity, describe, mutual_match, rank_sum
from vsanimeinterp.sgm.motion import local_error, refine_by_candidates
from vsanimeinterp.sgm.segmentation import segment
from vsanimeinterp.synthesis.softsplat import prepare_pair, render, synthesize

W, H = 320, 180
BG = (0.92, 0.90, 0.80)
# (colour, centre, axes) of the ellipses of the test cel.
BLOBS = [
    ((0.85, 0.25, 0.20), (80, 60), (40, 25)),
    ((0.20, 0.55, 0.85), (220, 70), (50, 30)),
    ((0.30, 0.75, 0.30), (150, 135), (45, 22)),
    ((0.95, 0.80, 0.20), (270, 145), (25, 18)),
]


def cel(shift: tuple[float, float] = (0.0, 0.0), moving: tuple[int, ...] = (0, 2)) -> np.ndarray:
    """Flat-colour ellipses with dark outlines; blobs listed in ``moving`` are shifted (px)."""
    img = np.empty((H, W, 3), np.float32)
    img[:] = BG
    for k, (col, (cx, cy), ax) in enumerate(BLOBS):
        dx, dy = shift if k in moving else (0.0, 0.0)
        # Shift with 4 fractional bits so sub-pixel motion is drawn faithfully.
        c = (round((cx + dx) * 16), round((cy + dy) * 16))
        a = (ax[0] * 16, ax[1] * 16)
        cv2.ellipse(img, c, a, 0, 0, 360, col, -1, cv2.LINE_AA, 4)
        cv2.ellipse(img, c, a, 0, 0, 360, (0.05, 0.05, 0.08), 2, cv2.LINE_AA, 4)
    return img


def to_t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].float()


def test_segmentation_finds_pieces() -> None:
    img = cel()
    seg = segment(img)
    assert seg.labels.shape == (H, W) and seg.labels.dtype == np.int32
    assert seg.labels.min() == 0 and seg.labels.max() == seg.n_pieces - 1
    # Background + 4 blobs; a few slivers at outline junctions are tolerated.
    assert 5 <= seg.n_pieces <= 9
    for _, (cx, cy), (ax, ay) in BLOBS:
        yy, xx = np.mgrid[0:H, 0:W]
        inner = ((xx - cx) / (ax - 4)) ** 2 + ((yy - cy) / (ay - 4)) ** 2 < 1
        vals = np.bincount(seg.labels[inner])
        assert vals.max() / inner.sum() > 0.97  # one label covers the blob's interior
    bg = np.all(np.abs(img - np.array(BG, np.float32)) < 1e-3, axis=2)
    assert np.bincount(seg.labels[bg]).max() / bg.sum() > 0.97
    # Outlines are detected as lines.
    assert seg.line_mask[60, 80 - 40] or seg.line_mask[60, 80 - 41] or seg.line_mask[60, 80 - 39]


def test_matching_pairs_translated_piece() -> None:
    a, b = cel(), cel(shift=(7.0, -4.0))
    sa, sb = segment(a), segment(b)
    da, db = describe(a, sa.labels, sa.n_pieces), describe(b, sb.labels, sb.n_pieces)
    m = mutual_match(affinity(da, db))
    assert m.pairs.shape[1] == 2 and m.pairs.shape[0] == m.confidence.shape[0]
    assert np.all((m.confidence >= 0) & (m.confidence <= 1))
    for k in (0, 2):
        _, (cx, cy), _ = BLOBS[k]
        pa = sa.labels[cy, cx]
        pb = sb.labels[cy - 4, cx + 7]
        row = m.pairs[m.pairs[:, 0] == pa]
        assert row.shape[0] == 1 and row[0, 1] == pb
        disp = db.centroid[pb] - da.centroid[pa]
        assert np.allclose(disp, (7.0, -4.0), atol=0.6)


def test_piece_descriptors_are_the_statistics_of_each_piece() -> None:
    # describe() sums per piece in one sparse product and takes the boxes from
    # find_objects; each piece's figures must be those of its own pixels, computed
    # directly, and a label with no pixels (label 3) keeps an empty box and zero area.
    rng = np.random.default_rng(5)
    h, w = 30, 44
    labels = np.zeros((h, w), np.int32)
    labels[5:20, 8:30] = 1
    labels[22:, :] = 2
    labels[0, 43] = 4
    img = rng.random((h, w, 3), dtype=np.float32)
    d = describe(img, labels, 5)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2Lab).astype(np.float64)
    ys, xs = np.mgrid[:h, :w]
    for k in (0, 1, 2, 4):
        m = labels == k
        x, y = xs[m].astype(np.float64), ys[m].astype(np.float64)
        assert d.area[k] == m.sum()
        np.testing.assert_allclose(d.centroid[k], (x.mean(), y.mean()), rtol=0, atol=1e-9)
        assert tuple(d.bbox[k]) == (x.min(), y.min(), x.max(), y.max())
        central = [((x - x.mean()) ** 2).mean(), ((y - y.mean()) ** 2).mean(),
                   ((x - x.mean()) * (y - y.mean())).mean()]
        np.testing.assert_allclose(d.shape[k], np.array(central) / m.sum(), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(d.lab_mean[k], lab[m].mean(0), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(d.lab_std[k], lab[m].std(0), rtol=1e-6, atol=1e-6)
    assert d.area[3] == 0 and tuple(d.bbox[3]) == (w, h, -1, -1)


def test_rank_sum_is_zero_exactly_for_mutual_best() -> None:
    aff = np.array([[0.9, 0.1, 0.2], [0.8, 0.7, 0.1], [0.0, 0.3, 0.6]])
    rs = rank_sum(aff)
    # Row 1 prefers column 0, which prefers row 0: piece 1 finds no mutual partner.
    assert rs[0, 0] == 0 and rs[2, 2] == 0
    assert rs[1, 1] == 1 + 0 and rs[1, 0] == 0 + 1 and rs[2, 0] == 2 + 2
    m = mutual_match(aff)
    assert sorted(map(tuple, m.pairs.tolist())) == [(0, 0), (2, 2)]
    assert np.array_equal(m.rank_sum, [0, 0])


def test_match_margin_is_zero_for_a_tie_and_one_without_rivals() -> None:
    # Piece 0 of frame 1 has two equal candidates (a tile among tiles); piece 1 has one.
    aff = np.array([[0.5, 0.5, -0.2], [-0.1, -0.3, 0.4]])
    m = mutual_match(aff)
    by_piece = {int(i): float(g) for (i, _), g in zip(m.pairs, m.margin, strict=True)}
    assert by_piece[1] == 1.0
    assert by_piece[0] == 0.0


def test_work_size_for() -> None:
    assert work_size_for(180, 320) == (180, 320)
    h, w = work_size_for(1080, 1920)
    assert h * w <= 960 * 540 and abs(w / h - 16 / 9) < 0.01


def test_sgm_flows_shapes_and_motion() -> None:
    a, b = cel(), cel(shift=(6.0, 3.0))
    f12, f21 = sgm_flows(to_t(a), to_t(b))
    assert f12.shape == (1, 2, H, W) and f21.shape == (1, 2, H, W)
    assert f12.dtype == torch.float32 and f21.dtype == torch.float32
    for k, moved in ((0, True), (1, False), (2, True)):
        _, (cx, cy), _ = BLOBS[k]
        true = np.array([6.0, 3.0]) if moved else np.zeros(2)
        win = (slice(cy - 8, cy + 8), slice(cx - 8, cx + 8))
        est12 = f12[0, :, win[0], win[1]].mean(dim=(1, 2)).numpy()
        assert np.linalg.norm(est12 - true) < 0.5, (k, est12)
        # Backward flow is sampled where the blob is in frame 2.
        win2 = (slice(cy + int(true[1]) - 8, cy + int(true[1]) + 8),
                slice(cx + int(true[0]) - 8, cx + int(true[0]) + 8))
        est21 = f21[0, :, win2[0], win2[1]].mean(dim=(1, 2)).numpy()
        assert np.linalg.norm(est21 + true) < 0.5, (k, est21)


def test_pair_flows_at_reduced_working_size_returns_input_units() -> None:
    a, b = cel(), cel(shift=(8.0, 0.0))
    fa = prepare_frame(a, max_pixels=160 * 90)
    fb = prepare_frame(b, max_pixels=160 * 90)
    assert fa.work_size == (90, 160)
    f12, _ = pair_flows(fa, fb)
    assert f12.shape == (H, W, 2)
    _, (cx, cy), _ = BLOBS[0]
    assert abs(f12[cy - 5:cy + 5, cx - 5:cx + 5, 0].mean() - 8.0) < 1.0


def test_synthesis_endpoints_and_midpoint() -> None:
    a, m, b = cel(), cel(shift=(5.0, 2.0)), cel(shift=(10.0, 4.0))
    ta, tb = to_t(a), to_t(b)
    f12, f21 = sgm_flows(ta, tb)
    st = prepare_pair(ta, tb, f12, f21)
    assert torch.allclose(render(st, 0.0), ta, atol=1e-5)
    assert torch.allclose(render(st, 1.0), tb, atol=1e-5)
    # Near-endpoint times stay close to the endpoint frames, not only the special cases.
    assert (synthesize(ta, tb, f12, f21, 1e-4) - ta).abs().mean() < 2e-3
    assert (synthesize(ta, tb, f12, f21, 1 - 1e-4) - tb).abs().mean() < 2e-3
    mid = render(st, 0.5)[0].permute(1, 2, 0).numpy()
    assert mid.min() >= 0 and mid.max() <= 1
    p_sgm = psnr8(mid, m)
    p_blend = psnr8(0.5 * (a + b), m)
    assert p_sgm > p_blend + 8.0, (p_sgm, p_blend)


@pytest.mark.parametrize("n", [2])
def test_sgm_flows_batch(n: int) -> None:
    a, b = cel(), cel(shift=(3.0, 0.0))
    x1 = torch.stack([to_t(a)[0], to_t(b)[0]])[:n]
    x2 = torch.stack([to_t(b)[0], to_t(a)[0]])[:n]
    f12, f21 = sgm_flows(x1, x2)
    assert f12.shape == (n, 2, H, W)
    # Swapping the pair swaps the flows.
    assert torch.allclose(f12[1], f21[0], atol=1e-4)


def test_dense_flow_pads_only_below_the_dis_limit() -> None:
    from vsanimeinterp.sgm.guided import dis_flow
    from vsanimeinterp.sgm.params import DIS_MIN_SIDE

    def dis() -> cv2.DISOpticalFlow:
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)

    rng = np.random.default_rng(5)
    side = DIS_MIN_SIDE
    a = (rng.random((side, side + 8)) * 255).astype(np.uint8)
    b = np.roll(a, 1, axis=1)
    # At the limit nothing changes: the flow is DIS's own (from a fresh DIS object each
    # time; one object's second result differs in the last bits).
    assert np.array_equal(dis_flow(dis(), a, b), dis().calc(a, b, None))
    for h, w in ((side - 1, side), (side, side - 1), (1, 1), (2, 3000), (3000, 2)):
        small_a = (rng.random((h, w)) * 255).astype(np.uint8)
        flow = dis_flow(dis(), small_a, small_a)
        assert flow.shape == (h, w, 2) and flow.dtype == np.float32
        assert np.isfinite(flow).all()


def test_wide_short_frames_do_not_crash_the_process() -> None:
    """OpenCV's DIS crashed the whole process (segmentation fault) on frames such as 64×12
    and raised on 1000×16; run in a child so that a crash fails this test only."""
    code = (
        "import numpy as np\n"
        "from vsanimeinterp import sgm\n"
        "rng = np.random.default_rng(0)\n"
        "for w, h in ((64, 12), (64, 8), (100, 31), (1000, 16), (3000, 12)):\n"
        "    a = rng.random((h, w, 3), dtype=np.float32)\n"
        "    b = np.roll(a, 2, axis=1)\n"
        "    f12, f21 = sgm.pair_flows(sgm.prepare_frame(a), sgm.prepare_frame(b))\n"
        "    assert f12.shape == (h, w, 2) and np.isfinite(f12).all(), (w, h)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, check=False, cwd=REPO)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.strip() == "ok"


def test_backwarp_of_a_broadcast_flow_is_the_remap_of_the_full_flow() -> None:
    """The camera-pan candidate takes warpAffine; it must give remap's result: the same
    bits up to OpenCV 5.0, and since 5.1 (which rounds its own way) within one 8-bit level
    on under 2 % of the pixels (about 0.5 % of a frame; more at half-way positions)."""
    rng = np.random.default_rng(4)
    for h, w in ((540, 960), (37, 61)):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        for _ in range(60):
            pan = rng.uniform(-70, 70, 2).astype(np.float32)
            pan[0] = np.float32(round(pan[0] * 32) / 32 + 1 / 64)  # half-way cases too
            full = np.ascontiguousarray(np.broadcast_to(pan, (h, w, 2)))
            fast = backwarp_hw2(img, np.broadcast_to(pan, (h, w, 2))).astype(np.int16)
            diff = np.abs(fast - backwarp_hw2(img, full))
            assert diff.max() <= 1 and np.mean(diff > 0) < 0.02


def test_refinement_takes_a_whole_field_only_where_it_explains_better() -> None:
    rng = np.random.default_rng(3)
    a = cv2.GaussianBlur(rng.integers(0, 256, (90, 120), dtype=np.uint8), (0, 0), 1.5)
    a = cv2.normalize(a, None, 0, 255, cv2.NORM_MINMAX)
    b = a.copy()
    b[:, 63:] = a[:, 60:-3]  # the right half moves 3 px to the right: a(x) = b(x + 3)
    start = np.zeros((90, 120, 2), np.float32)
    right = start.copy()
    right[..., 0] = 3.0
    everywhere = np.ones((90, 120), bool)
    out = refine_by_candidates(a, b, start, steps=(), fields=((right, everywhere),))
    # Taken on the right half, where it is the motion; kept on the left, where zero is.
    assert np.all(out[10:-10, 70:-10, 0] == 3.0)
    assert np.all(out[10:-10, 10:50, 0] == 0.0)
    assert local_error(a, b, out, 2).mean() < 0.5 * local_error(a, b, start, 2).mean()
    # Nowhere it is not allowed.
    top = everywhere.copy()
    top[45:] = False
    out = refine_by_candidates(a, b, start, steps=(), fields=((right, top),))
    assert np.all(out[10:40, 70:-10, 0] == 3.0) and np.all(out[45:] == 0.0)
