"""Several source pairs in flight (``lookahead``) and the network without SGM
(``init_flow="none"``)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import vapoursynth as vs
from conftest import conformance_dir, moving_square_frames

import vsanimeinterp
import vsanimeinterp.engines.factory as engines
from vsanimeinterp.vsfilter.frames import clip_from_arrays, clip_to_arrays
from vsanimeinterp.vsfilter.graph import default_lookahead

CKPT = conformance_dir() / "anime_interp_conformance.ckpt"
needs_ckpt = pytest.mark.skipif(not CKPT.is_file(), reason=f"no checkpoint at {CKPT}")


class SlowBlend:
    """An engine whose pair preparation takes a while; records how many run at once."""

    name = "slow"

    def __init__(self) -> None:
        self.active = self.peak = self.pairs = 0
        self.lock = threading.Lock()

    def prepare_frame(self, img):
        return img

    def prepare_pair(self, a, b):
        with self.lock:
            self.active += 1
            self.pairs += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.05)
        with self.lock:
            self.active -= 1
        return a, b

    def render(self, pair, t):
        return (1 - t) * pair[0] + t * pair[1]


@pytest.fixture
def slow_engine(monkeypatch):
    engine = SlowBlend()
    monkeypatch.setattr(engines, "make_engine", lambda *args, **kwargs: engine)
    return engine


def _render(clip: vs.VideoNode, **kwargs) -> np.ndarray:
    return clip_to_arrays(vsanimeinterp.interpolate(clip, engine="sgm", **kwargs))


def test_lookahead_keeps_several_pairs_in_flight(slow_engine):
    clip = clip_from_arrays(moving_square_frames(n=9), format=vs.RGBS)
    ahead = _render(clip, lookahead=3, sc=False)
    assert slow_engine.peak >= 2  # VapourSynth alone would run one callback at a time
    assert slow_engine.pairs == 8  # and each pair is still made once
    slow_engine.peak = slow_engine.pairs = 0
    plain = _render(clip, lookahead=0, sc=False)
    assert slow_engine.peak == 1
    np.testing.assert_array_equal(ahead, plain)


def test_lookahead_skips_held_pairs_and_cuts(slow_engine):
    frames = moving_square_frames(n=8)
    frames[4] = frames[3]  # a held drawing: pair (3, 4) is passed through
    frames[6:] = 1.0 - frames[6:]  # a cut between 5 and 6
    clip = clip_from_arrays(frames, format=vs.RGBS)
    _render(clip, lookahead=2)
    assert slow_engine.pairs == 5  # 7 pairs, minus the held one and the cut


def test_lookahead_default_and_bad_values(square_clip):
    assert default_lookahead(2) == 0 and default_lookahead(16) == 4
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(vs.Error, match="interpolate: lookahead"):
            vsanimeinterp.interpolate(square_clip, engine="sgm", lookahead=bad)


def test_bad_init_flow_names_the_parameter(square_clip):
    with pytest.raises(vs.Error, match="interpolate: init_flow must be one of sgm, none"):
        vsanimeinterp.interpolate(square_clip, engine="sgm", init_flow="zero")


@needs_ckpt
def test_init_flow_none_does_no_sgm_work(monkeypatch):
    import vsanimeinterp.engines.sgm as sgm_engine

    frames = moving_square_frames(n=3, w=160, h=128, step=8)
    clip = clip_from_arrays(frames, format=vs.RGBS)
    with_sgm = clip_to_arrays(vsanimeinterp.interpolate(
        clip, engine="animeinterp", checkpoint=CKPT, device="cpu"))

    def forbidden(*args, **kwargs):
        raise AssertionError("SGM ran with init_flow='none'")

    monkeypatch.setattr(sgm_engine, "prepare_frame", forbidden)
    monkeypatch.setattr(sgm_engine, "pair_flows", forbidden)
    without = clip_to_arrays(vsanimeinterp.interpolate(
        clip, engine="animeinterp", checkpoint=CKPT, device="cpu", init_flow="none"))
    assert without.shape == with_sgm.shape
    np.testing.assert_array_equal(without[0], with_sgm[0])  # source frames pass through
    assert np.isfinite(without).all() and 0 <= without.min() and without.max() <= 1
    assert np.abs(without[1] - with_sgm[1]).max() > 1e-3  # a different starting flow
