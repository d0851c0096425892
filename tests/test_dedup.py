"""Held-drawing retiming (``dedup=True``): anime on twos and threes moves evenly."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import vapoursynth as vs
from conftest import request_counter

import vsanimeinterp
from vsanimeinterp.vsfilter.frames import clip_from_arrays, clip_to_arrays
from vsanimeinterp.vsfilter.planning import Plan, plan_frame

SPEED = 4.0  # pixels per source frame of the drawn motion
W, H = 128, 64


def disc_frames(times: list[float], scenes: list[int] | None = None) -> np.ndarray:
    """A dark-outlined orange disc moving right at SPEED px per frame of scene time, over a
    flat background; frames with equal times are bit-identical (held drawings)."""
    scenes = scenes or [0] * len(times)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    frames = np.empty((len(times), H, W, 3), np.float32)
    for i, (t, s) in enumerate(zip(times, scenes, strict=True)):
        bg = (0.55, 0.65, 0.8) if s == 0 else (0.25, 0.5, 0.2)
        frames[i] = bg
        r = np.hypot(xx - (16 + SPEED * t), yy - 32)
        frames[i][r < 12] = (0.1, 0.08, 0.08)
        frames[i][r < 10] = (0.95, 0.6, 0.2)
    return frames


def disc_x(frame: np.ndarray) -> float:
    """Column centroid of the disc's orange fill (pixels)."""
    mask = (frame[..., 0] > 0.8) & (frame[..., 2] < 0.4)
    return float(np.nonzero(mask)[1].mean())


def on_n(n: int, length: int) -> list[float]:
    return [float(n * (i // n)) for i in range(length)]


def positions(times: list[float], **kwargs) -> tuple[list[float], vs.VideoNode]:
    clip = clip_from_arrays(disc_frames(times), format=vs.RGB24)
    out = vsanimeinterp.interpolate(clip, engine="sgm", **kwargs)
    return [disc_x(f) for f in clip_to_arrays(out)], out


@pytest.mark.parametrize("on", [2, 3])
def test_on_twos_and_threes_advance_evenly(on):
    xs, out = positions(on_n(on, 4 * on + 1), factor_num=2, dedup=True)
    # Output frames before the last full drawing interval: steps of SPEED/2 px each.
    usable = 2 * on * 4 - 1
    steps = np.diff(xs[: usable + 1])
    assert np.all(np.abs(steps - SPEED / 2) < 0.35), steps
    # The debug props say which drawings and t each frame came from.
    p = out.get_frame(1).props
    assert list(p["AnimeInterpPair"]) == [0, on] and p["AnimeInterpT"] == pytest.approx(0.5 / on)


def test_without_dedup_motion_comes_in_bursts():
    xs, _ = positions(on_n(2, 9), factor_num=2)
    steps = np.diff(xs[:15])
    assert np.sum(np.abs(steps) < 0.1) >= 6  # held halves: no motion
    assert np.max(steps) > 1.5  # then the whole drawing step at once (in two halves)


def test_frame_count_and_timestamps_unchanged_by_dedup():
    clip = clip_from_arrays(disc_frames(on_n(2, 9)), format=vs.RGB24)
    for kwargs in ({"factor_num": 2}, {"fps_num": 60000, "fps_den": 1001}):
        a = vsanimeinterp.interpolate(clip, engine="sgm", **kwargs)
        b = vsanimeinterp.interpolate(clip, engine="sgm", dedup=True, **kwargs)
        assert (a.num_frames, a.fps) == (b.num_frames, b.fps)
        for n in range(a.num_frames):
            pa, pb = a.get_frame(n).props, b.get_frame(n).props
            assert (pa["_DurationNum"], pa["_DurationDen"]) == (
                pb["_DurationNum"], pb["_DurationDen"]
            )


def test_mixed_clip_pause_stays_still_and_nothing_crosses_the_cut():
    # on twos, then a 5-frame pause (longer than dedup_max_hold), then twos, then a cut.
    times = [0, 0, 2, 2, 4, 4, 4, 4, 4, 6, 6, 8, 8, 0, 0, 2, 2]
    scenes = [0] * 13 + [1] * 4
    clip = clip_from_arrays(disc_frames(times, scenes), format=vs.RGB24)
    out = vsanimeinterp.interpolate(clip, engine="sgm", factor_num=2, dedup=True)
    frames = clip_to_arrays(out)
    xs = [disc_x(f) for f in frames]
    # The pause (source frames 4..8 → output 8..16) stays still.
    assert np.ptp(xs[8:17]) < 0.1
    for n in range(9, 17):
        assert out.get_frame(n).props["AnimeInterpMethod"] in ("source", "held")
    # Across the cut (source 12 → 13, output 24..26) frames are copies, never blends.
    src = clip_to_arrays(clip)
    for n in (24, 25, 26):
        assert any(np.array_equal(frames[n], src[k]) for k in (12, 13))
    assert out.get_frame(25).props["AnimeInterpMethod"] == "scene_cut"
    # The hold right before the cut (frames 11, 12) stays still up to the cut.
    assert np.array_equal(frames[23], src[12])


def test_dedup_requests_a_bounded_window():
    clip, seen = request_counter(clip_from_arrays(disc_frames(on_n(2, 16)), format=vs.RGB24))
    out = vsanimeinterp.interpolate(clip, engine="sgm", dedup=True, dedup_max_hold=3)
    for n in (1, 10, 17):
        seen.clear()
        out.get_frame(n)
        k = n // 2
        assert seen and min(seen) >= k - 3 and max(seen) <= k + 4, (n, sorted(set(seen)))


# The planner on its own: facts are per pair (i, i+1).


def facts(similar_pairs=(), cut_pairs=(), identical_pairs=()):
    return (
        lambda i: i in cut_pairs,
        lambda i: i in identical_pairs,
        lambda i: i in similar_pairs,
    )


def test_planner_retimes_a_hold_between_drawings():
    cut, ident, sim = facts(similar_pairs={0, 2, 3})  # drawings: 0-1, 2-4, 5
    assert plan_frame(1, Fraction(0), 5, cut, ident, sim) == Plan(
        "interpolated", 0, 2, Fraction(1, 2)
    )
    assert plan_frame(3, Fraction(1, 2), 5, cut, ident, sim) == Plan(
        "interpolated", 2, 5, Fraction(1, 2)
    )
    assert plan_frame(2, Fraction(0), 5, cut, ident, sim) == Plan.passthrough("source", 2)


def test_planner_pause_and_cut():
    cut, ident, sim = facts(similar_pairs={0, 1, 2, 3}, cut_pairs={6}, identical_pairs={0})
    # A hold of 5 frames with max_hold 3 is a pause: still, no retiming.
    assert plan_frame(2, Fraction(1, 2), 9, cut, ident, sim, 3).method == "held"
    # Leaving the pause behaves as a normal pair.
    assert plan_frame(4, Fraction(1, 2), 9, cut, ident, sim, 3).method == "interpolated"
    cut, ident, sim = facts(similar_pairs={5}, cut_pairs={6})  # hold 5-6, then a cut
    assert plan_frame(5, Fraction(1, 2), 9, cut, ident, sim) == Plan.passthrough("held", 5)
    assert plan_frame(6, Fraction(3, 4), 9, cut, ident, sim) == Plan.passthrough("scene_cut", 7)


def test_dedup_bad_arguments():
    clip = vs.core.std.BlankClip(length=3)
    with pytest.raises(vs.Error, match="interpolate: dedup must be"):
        vsanimeinterp.interpolate(clip, dedup=1)
    with pytest.raises(vs.Error, match="interpolate: dedup_threshold"):
        vsanimeinterp.interpolate(clip, dedup=True, dedup_threshold=-0.1)
    with pytest.raises(vs.Error, match="interpolate: dedup_max_hold"):
        vsanimeinterp.interpolate(clip, dedup=True, dedup_max_hold=1)
