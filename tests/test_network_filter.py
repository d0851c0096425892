"""The filter with the neural engine (conformance weights stand in for the trained ones)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import vapoursynth as vs
from conftest import conformance_dir, moving_square_frames

import vsanimeinterp
from vsanimeinterp.vsfilter.frames import clip_from_arrays, clip_to_arrays

CKPT = conformance_dir() / "anime_interp_conformance.ckpt"
pytestmark = pytest.mark.skipif(
    not CKPT.is_file(), reason=f"conformance checkpoint not found at {CKPT}"
)


def test_filter_with_network_counts_formats_and_passthrough(counting_engine):
    frames = moving_square_frames(n=3, w=144, h=132)
    src = clip_from_arrays(frames, format=vs.YUV420P10)
    out = vsanimeinterp.interpolate(src, engine="animeinterp", checkpoint=CKPT, factor_num=3)
    assert out.format.id == vs.YUV420P10 and (out.width, out.height) == (144, 132)
    assert out.num_frames == 9
    got = list(out.frames(close=False))
    for n in (0, 3, 6, 7, 8):
        assert got[n].props["AnimeInterpMethod"] == "source"
        k = min(n // 3, 2)
        src_f = src.get_frame(k)
        assert all(
            np.array_equal(np.asarray(got[n][p]), np.asarray(src_f[p])) for p in range(3)
        )
    assert got[1].props["AnimeInterpMethod"] == "interpolated"
    eng = counting_engine[0]
    assert eng.inner.name == "animeinterp"
    assert eng.pairs == 2 and eng.frames == 3 and eng.renders == 4


def test_filter_output_equals_the_network_on_sgm_flows():
    """The cached frame/pair/render split computes what the network's public path does."""
    frames = moving_square_frames(n=2, w=160, h=128)
    src = clip_from_arrays(frames, format=vs.RGBS)
    out = vsanimeinterp.interpolate(src, engine="animeinterp", checkpoint=CKPT)
    mid = clip_to_arrays(out)[1]

    net = vsanimeinterp.load_model(CKPT)
    i1, i2 = (torch.from_numpy(clip_to_arrays(src)[k]).permute(2, 0, 1)[None] for k in (0, 1))
    f12, f21 = vsanimeinterp.sgm_flows(i1, i2)
    with torch.no_grad():
        ref = net.interpolate_padded(i1, i2, f12, f21, 0.5)[0].clamp(0, 1)
    assert np.abs(mid - ref[0].permute(1, 2, 0).numpy()).max() < 1e-5


def test_auto_engine_takes_the_network_when_a_checkpoint_is_found(
    counting_engine, monkeypatch
):
    monkeypatch.setenv("VSANIMEINTERP_CHECKPOINT", str(CKPT))
    src = clip_from_arrays(moving_square_frames(n=2), format=vs.RGB24)
    vsanimeinterp.interpolate(src)
    assert counting_engine[0].inner.name == "animeinterp"


def test_wrong_checkpoint_file_is_a_vs_error(tmp_path):
    bad = tmp_path / "bad.ckpt"
    torch.save({"model_state_dict": {"module.nothing": torch.zeros(1)}}, bad)
    with pytest.raises(vs.Error, match=r"interpolate: .*missing"):
        vsanimeinterp.interpolate(
            vs.core.std.BlankClip(length=3), engine="animeinterp", checkpoint=bad
        )


def test_bounded_correlation_through_the_filter():
    frames = moving_square_frames(n=2, w=160, h=128)
    src = clip_from_arrays(frames, format=vs.RGBS)
    mids = [
        clip_to_arrays(vsanimeinterp.interpolate(
            src, engine="animeinterp", checkpoint=CKPT, corr=mode))[1]
        for mode in ("all-pairs", "bounded")
    ]
    assert np.abs(mids[0] - mids[1]).max() < 1e-3


def test_flow_scale_runs_the_flow_net_on_reduced_frames(monkeypatch):
    from vsanimeinterp.network.rfr import RFR

    frames = moving_square_frames(n=2, w=288, h=256, step=8)
    src = clip_from_arrays(frames, format=vs.RGBS)
    sizes = []
    real_refine = RFR.refine

    def spy(self, fmap1, fmap2, flow_init, *args):
        sizes.append(tuple(fmap1.shape[-2:]))
        return real_refine(self, fmap1, fmap2, flow_init, *args)

    monkeypatch.setattr(RFR, "refine", spy)
    full, half = (
        clip_to_arrays(vsanimeinterp.interpolate(
            src, engine="animeinterp", checkpoint=CKPT, flow_scale=scale))[1]
        for scale in (1.0, 0.5)
    )
    assert full.shape == half.shape == (256, 288, 3)
    # 1/8 of the padded frame: 256×288 at 1.0; 128×144 at 0.5.
    assert sizes == [(32, 36), (32, 36), (16, 18), (16, 18)]
    # Untrained weights: the two flows differ, but both in-betweens stay near each other.
    assert np.abs(full - half).mean() < 0.05


@pytest.mark.parametrize(("width", "height"), [(1, 1), (11, 11), (3000, 2), (2, 300)])
def test_tiny_and_thin_frames_through_the_network(width, height):
    """The network pads to 128 pixels itself; its SGM flows used to fail below OpenCV DIS's
    sizes (the sizes where DIS crashed the process are tested in a child process, in
    test_sgm.py)."""
    frames = np.full((2, height, width, 3), 0.5, np.float32)
    frames[0, : max(1, height // 2), : max(1, width // 2)] = (0.9, 0.2, 0.1)
    frames[1, : max(1, 2 * height // 3), : max(1, 2 * width // 3)] = (0.7, 0.1, 0.1)
    src = clip_from_arrays(frames, format=vs.RGBS)
    out = vsanimeinterp.interpolate(src, engine="animeinterp", checkpoint=CKPT, device="cpu",
                                    sc=False)
    mid = clip_to_arrays(out)[1]
    assert mid.shape == (height, width, 3)
    assert np.isfinite(mid).all()
