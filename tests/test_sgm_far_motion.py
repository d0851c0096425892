"""Far motion: a piece jumping further than the dense flow can follow, and repeated pieces
that must not be mistaken for one another."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from vsanimeinterp.engines.sgm import SGMEngine
from vsanimeinterp.sgm import flows as sgm_flows_module
from vsanimeinterp.sgm import pair_flows, prepare_frame
from vsanimeinterp.synthesis import fusion, softsplat

W, H = 640, 360
DISC = (0.85, 0.15, 0.15)
INK = (0.05, 0.05, 0.08)


def _scene(disc_x: float, disc_y: float, tiles: bool = False) -> np.ndarray:
    """Hills and clouds (or a checkerboard), still, with a red outlined disc at (x, y)."""
    img = np.empty((H, W, 3), np.float32)
    if tiles:
        yy, xx = np.mgrid[0:H, 0:W]
        img[:] = np.where((((xx // 24) + (yy // 24)) % 2 == 0)[..., None], 0.8, 0.6)
    else:
        img[:] = (0.65, 0.9, 0.7)
        cv2.ellipse(img, (150, 80), (50, 18), 0, 0, 360, (0.97, 0.97, 0.99), -1, cv2.LINE_AA)
        cv2.ellipse(img, (470, 60), (40, 14), 0, 0, 360, (0.97, 0.97, 0.99), -1, cv2.LINE_AA)
        pts = np.array([[0, 250], [160, 215], [330, 240], [500, 205], [640, 230],
                        [640, 360], [0, 360]], np.int32)
        cv2.fillPoly(img, [pts], (0.45, 0.4, 0.7), cv2.LINE_AA)
        cv2.rectangle(img, (60, 280), (110, 330), (0.3, 0.6, 0.3), -1)
        cv2.rectangle(img, (60, 280), (110, 330), INK, 2)
    c = (round(disc_x * 16), round(disc_y * 16))
    cv2.circle(img, c, 28 * 16, DISC, -1, cv2.LINE_AA, 4)
    cv2.circle(img, c, 28 * 16, INK, 3, cv2.LINE_AA, 4)
    cv2.circle(img, (c[0] + 8 * 16, c[1] - 6 * 16), 7 * 16, (1.0, 1.0, 1.0), -1, cv2.LINE_AA, 4)
    return img


def _middle(f1: np.ndarray, f3: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The engine's frame at t = 0.5 (H×W×3) and its flows F12, F21 (H×W×2 pixels)."""
    engine = SGMEngine()
    a, b = (engine.prepare_frame(np.ascontiguousarray(f.transpose(2, 0, 1))) for f in (f1, f3))
    pair = engine.prepare_pair(a, b)
    mid = engine.render(pair, 0.5).transpose(1, 2, 0)
    return mid, pair.flow12[0].permute(1, 2, 0).numpy(), pair.flow21[0].permute(1, 2, 0).numpy()


JUMP = (150.0, -40.0)  # pixels between the two frames: beyond what DIS follows


def test_a_unique_piece_jumping_far_is_followed() -> None:
    start = (200.0, 200.0)
    f1 = _scene(*start)
    f3 = _scene(start[0] + JUMP[0], start[1] + JUMP[1])
    mid, f12, f21 = _middle(f1, f3)
    sx, sy = int(start[0]), int(start[1])
    ex, ey = int(start[0] + JUMP[0]), int(start[1] + JUMP[1])
    np.testing.assert_allclose(f12[sy - 10:sy + 10, sx - 10:sx + 10].mean((0, 1)), JUMP, atol=3)
    np.testing.assert_allclose(f21[ey - 10:ey + 10, ex - 10:ex + 10].mean((0, 1)),
                               (-JUMP[0], -JUMP[1]), atol=3)
    # At t = 0.5 the disc is solid half-way, not a ghost at both ends.
    truth = _scene(start[0] + JUMP[0] / 2, start[1] + JUMP[1] / 2)
    mx, my = int(start[0] + JUMP[0] / 2), int(start[1] + JUMP[1] / 2)
    body = np.s_[my + 5:my + 20, mx - 20:mx + 5]
    assert np.abs(mid[body] - truth[body]).max() < 0.03
    # Background again where the disc was and will be: one side covers it, and the frame
    # blend, which holds the disc there, must not leak in.
    for x, y in ((sx, sy), (ex, ey)):
        np.testing.assert_allclose(mid[y + 5:y + 15, x - 15:x], truth[y + 5:y + 15, x - 15:x],
                                   atol=0.01)


def test_far_matching_is_what_follows_the_jump(monkeypatch: pytest.MonkeyPatch) -> None:
    start = (200.0, 200.0)
    f1 = _scene(*start)
    f3 = _scene(start[0] + JUMP[0], start[1] + JUMP[1])
    monkeypatch.setattr(sgm_flows_module, "_far_matches",
                        lambda *args: np.zeros((0, 2), np.int64))
    f12, _ = pair_flows(prepare_frame(f1), prepare_frame(f3))
    sx, sy = int(start[0]), int(start[1])
    assert np.abs(f12[sy - 10:sy + 10, sx - 10:sx + 10].mean((0, 1)) - JUMP).max() > 20


def test_repeated_tiles_are_not_matched_far() -> None:
    # A still checkerboard: every square looks like every other; none may be sent to a
    # look-alike. The disc moves a little.
    a = prepare_frame(_scene(300.0, 180.0, tiles=True))
    b = prepare_frame(_scene(306.0, 182.0, tiles=True))
    f12, f21 = pair_flows(a, b)
    yy, xx = np.mgrid[0:H, 0:W]
    far_from_disc = np.hypot(xx - 303, yy - 181) > 45
    assert np.percentile(np.hypot(*np.moveaxis(f12[far_from_disc], -1, 0)), 99) < 1.0
    assert np.percentile(np.hypot(*np.moveaxis(f21[far_from_disc], -1, 0)), 99) < 1.0


@pytest.mark.parametrize("rule", ["neither", "front only", "movers only"])
def test_without_the_front_rules_the_jumping_piece_is_a_ghost(
        monkeypatch: pytest.MonkeyPatch, rule: str) -> None:
    # Half-way, the disc and the still background behind it both land consistently; only
    # the front rules say which is visible, and either one is enough.
    if rule != "front only":
        monkeypatch.setattr(softsplat, "FRONT_Z", 0.0)
    if rule != "movers only":
        monkeypatch.setattr(softsplat, "MOVER_COVER", float("inf"))
    start = (200.0, 200.0)
    mid, _, _ = _middle(_scene(*start), _scene(start[0] + JUMP[0], start[1] + JUMP[1]))
    truth = _scene(start[0] + JUMP[0] / 2, start[1] + JUMP[1] / 2)
    mx, my = int(start[0] + JUMP[0] / 2), int(start[1] + JUMP[1] / 2)
    body = np.s_[my + 5:my + 20, mx - 20:mx + 5]
    error = np.abs(mid[body] - truth[body]).max()
    assert error > 0.2 if rule == "neither" else error < 0.03


STEP = (80.0, -20.0)  # pixels: a fast move the first matching follows, not a far jump


def _disc_halfway(step: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, float, float]:
    """For the disc moving ``step`` from (200, 200): the largest error of the engine's frame
    at t = 0.5 inside the disc half-way, and the mean error on rings around where it was
    and will be (its outline's place at either end), away from the disc half-way."""
    start = (200.0, 200.0)
    end = (start[0] + step[0], start[1] + step[1])
    mid, _, _ = _middle(_scene(*start), _scene(*end))
    mx, my = start[0] + step[0] / 2, start[1] + step[1] / 2
    error = np.abs(mid - _scene(mx, my)).max(-1)
    yy, xx = np.mgrid[0:H, 0:W]
    inside = np.hypot(xx - mx, yy - my) < 20
    rings = [(np.abs(np.hypot(xx - x, yy - y) - 29) < 5) & (np.hypot(xx - mx, yy - my) > 36)
             for x, y in (start, end)]
    return error[inside].max(), max(error[r].mean() for r in rings)


def test_a_matched_piece_moving_fast_is_solid_halfway_and_gone_at_both_ends() -> None:
    # Half-way, the disc covers sky that both frames show; the movers of both frames agree
    # there, so the sky does not show through. Where the disc was and will be, its outline
    # must not linger from the frame blend.
    body, rings = _disc_halfway(STEP)
    assert body < 0.05
    assert rings < 0.008


def test_without_the_agreement_the_fast_piece_is_a_ghost(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(softsplat, "MOVER_COVER", float("inf"))
    body, _ = _disc_halfway(STEP)
    assert body > 0.2


class _BlendFirst(torch.nn.Module):
    """A fusion network that leans on the frame blend wherever it may."""

    def forward(self, cues: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(cues.shape[0], len(fusion.CANDIDATES))
        out[:, fusion.CANDIDATES.index("blend")] = 10.0
        return out


def test_without_the_rim_the_outline_lingers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shipped network alone keeps this outline away (its area cues see the spot the
    # disc left: rings 0.004 without the rim, 0.003 with it). The rim is the guarantee for
    # any network: one that leans on the frame blend keeps the outline only without it
    # (measured 0.107 without, 0.009 with).
    monkeypatch.setattr(fusion, "default_net", lambda device: _BlendFirst())
    _, with_rim = _disc_halfway(STEP)
    monkeypatch.setattr(softsplat, "MOVER_RIM", 0)
    _, without = _disc_halfway(STEP)
    assert with_rim < 0.02 and without > 0.05


def _demo_ball_solid_share() -> float:
    """Of the README demo's red ball half-way between source frames 20 and 21 (it jumps about
    70 px while the camera pans), the share of its inner pixels the engine draws in the ball's
    colour (within 0.1), the clip going through 8-bit YUV 4:2:0 as in ``make demo``."""
    import vapoursynth as vs

    from vsanimeinterp.synthetic import demo_sequence
    from vsanimeinterp.vsfilter.frames import clip_from_arrays, clip_to_arrays

    seq = demo_sequence(W, H, 48, seed=0)
    frames = clip_to_arrays(clip_from_arrays(seq.frames[20:22], fps_num=24000, fps_den=1001,
                                             format=vs.YUV420P8))
    engine = SGMEngine()
    a, b = (engine.prepare_frame(np.ascontiguousarray(f.transpose(2, 0, 1))) for f in frames)
    mid = engine.render(engine.prepare_pair(a, b), 0.5).transpose(1, 2, 0)
    scene = seq.scenes[seq.scene_ids[20]]
    t0, t1 = seq.times[20], seq.times[21]
    motion = np.hypot(*np.moveaxis(scene.flow(t0, t1), -1, 0))
    ids = scene.layer_ids(t0)
    ball = max(np.unique(ids), key=lambda k: np.median(motion[ids == k]))
    assert np.median(motion[ids == ball]) > 60  # the scene is still the one described
    t = 0.5 * (t0 + t1)
    inner = cv2.erode((scene.layer_ids(t) == ball).astype(np.uint8), np.ones((9, 9), np.uint8))
    truth = scene.render(t)[inner > 0]
    colour = np.median(truth, axis=0)
    return float((np.abs(mid[inner > 0] - colour).max(-1) < 0.1).mean())


def test_the_demos_fast_ball_is_drawn_solid_halfway() -> None:
    # Its flows come back within 4 px, not 2: right to a pixel or two over a 70 px jump,
    # which is what the forward-backward test relative to the motion accepts.
    assert _demo_ball_solid_share() > 0.6


def test_with_a_fixed_loop_tolerance_the_demos_ball_is_a_ghost(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sgm_flows_module, "MOVER_LOOP_REL", 0.0)
    assert _demo_ball_solid_share() < 0.5
