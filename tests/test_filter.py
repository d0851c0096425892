"""The VapourSynth filter as users see it: counts, times, formats, cuts, laziness, errors."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import vapoursynth as vs
from conftest import moving_square_frames, request_counter

import vsanimeinterp
from vsanimeinterp.vsfilter.frames import clip_from_arrays, clip_to_arrays
from vsanimeinterp.vsfilter.timing import Retiming


def planes_equal(a: vs.VideoFrame, b: vs.VideoFrame) -> bool:
    return all(
        np.array_equal(np.asarray(a[p]), np.asarray(b[p])) for p in range(a.format.num_planes)
    )


@pytest.mark.parametrize(
    ("kwargs", "factor"),
    [
        ({}, Fraction(2)),
        ({"factor_num": 3}, Fraction(3)),
        ({"factor_num": 5, "factor_den": 2}, Fraction(5, 2)),
        ({"factor_num": 2, "factor_den": 3}, Fraction(2, 3)),
        ({"fps_num": 60000, "fps_den": 1001}, Fraction(5, 2)),
        ({"fps_num": 30}, Fraction(30) / Fraction(24000, 1001)),
    ],
)
def test_frame_count_rate_and_timestamps(square_clip, kwargs, factor):
    out = vsanimeinterp.interpolate(square_clip, engine="sgm", **kwargs)
    n_src = square_clip.num_frames
    assert out.num_frames == math.ceil(n_src * factor)
    out_fps = Fraction(24000, 1001) * factor
    assert Fraction(out.fps.numerator, out.fps.denominator) == out_fps
    src_frames = [square_clip.get_frame(k) for k in range(n_src)]
    for n in range(out.num_frames):
        f = out.get_frame(n)
        pos = Fraction(n) / factor
        k = math.floor(pos)
        t = pos - k
        assert Fraction(f.props["_DurationNum"], f.props["_DurationDen"]) == 1 / out_fps
        assert f.props["AnimeInterpT"] == float(t)
        assert list(f.props["AnimeInterpPair"]) == [k, min(k + 1, n_src - 1)]
        if t == 0 or k == n_src - 1:
            assert f.props["AnimeInterpMethod"] == "source"
            assert planes_equal(f, src_frames[k])
        else:
            assert f.props["AnimeInterpMethod"] == "interpolated"


def test_retiming_is_exact_over_long_clips():
    r = Retiming(3_000_000, Fraction(60000, 1001) / Fraction(24000, 1001))
    assert r.num_frames == 7_500_000
    # Every 5th output frame falls exactly on every 2nd source frame, however far in.
    for n in (0, 5, 5 * 999_999, r.num_frames - 5):
        k, t = r.position(n)
        assert t == 0 and k == n * 2 // 5
    assert r.position(r.num_frames - 1) == (2_999_999, Fraction(3, 5))
    with pytest.raises(IndexError):
        r.position(r.num_frames)


def test_moving_square_lands_in_between(square_clip):
    """The interpolated square sits half-way: its mean column is between the two sources'."""
    out = vsanimeinterp.interpolate(square_clip, engine="sgm")
    f = clip_to_arrays(out)[3]  # between source 1 (square at x=18..41) and 2 (x=24..47)
    red = f[22:42, :, 0] - f[22:42, :, 2]
    cols = np.nonzero(red.mean(axis=0) > 0.3)[0]
    assert abs(cols.min() - 21) <= 1 and abs(cols.max() - 44) <= 1


FORMATS = [vs.YUV420P8, vs.YUV420P10, vs.YUV444PS, vs.RGB24, vs.RGBS, vs.GRAY8, vs.YUV422P16]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: vs.core.get_video_format(f).name)
def test_format_round_trip(fmt):
    src = clip_from_arrays(moving_square_frames(n=3), format=fmt)
    src = vs.core.std.SetFrameProps(src, UserProp=7)
    out = vsanimeinterp.interpolate(src, engine="sgm")
    assert out.format.id == src.format.id
    assert (out.width, out.height) == (src.width, src.height)
    for n in range(out.num_frames):
        f = out.get_frame(n)
        assert f.props["UserProp"] == 7
        for key in ("_Matrix", "_Range"):
            assert f.props.get(key) == src.get_frame(0).props.get(key)
        if n % 2 == 0:
            assert planes_equal(f, src.get_frame(n // 2))
    # The in-between is a picture between its neighbours, not garbage: close to both in
    # the static background.
    mid = clip_to_arrays(out)[1, 52:]
    ref = clip_to_arrays(src)[0, 52:]
    assert np.abs(mid - ref).max() < 0.02


def test_rgbs_is_not_converted():
    from vsanimeinterp.vsfilter.colour import to_working

    src = clip_from_arrays(moving_square_frames(n=2), format=vs.RGBS)
    assert to_working(src) is src


def test_missing_matrix_gets_resolution_default():
    """A YUV clip without _Matrix converts as BT.601 at SD size (the documented default)."""
    from vsanimeinterp.vsfilter.colour import to_working

    rgb = clip_from_arrays(moving_square_frames(n=2), format=vs.RGB24)
    yuv601 = vs.core.resize.Bicubic(rgb, format=vs.YUV444P16, matrix=6)
    bare = vs.core.std.RemoveFrameProps(yuv601, props=["_Matrix"])
    a = np.asarray(to_working(bare).get_frame(0)[0])
    b = np.asarray(rgb.resize.Point(format=vs.RGBS).get_frame(0)[0])
    assert np.abs(a - b).max() < 2e-3


def cut_clip() -> vs.VideoNode:
    frames = moving_square_frames(n=4)
    frames[2:] = 1.0 - frames[2:]  # a different scene from frame 2 on
    frames[2:, :, :, 1] *= 0.3
    return clip_from_arrays(frames, format=vs.YUV420P8)


def test_scene_cut_repeats_nearer_frame_and_never_blends():
    src = cut_clip()
    out = vsanimeinterp.interpolate(src, engine="sgm", factor_num=4)
    for n, k in ((5, 1), (6, 2), (7, 2)):  # t = 1/4 → before the cut; 1/2, 3/4 → after
        f = out.get_frame(n)
        assert f.props["AnimeInterpMethod"] == "scene_cut"
        assert planes_equal(f, src.get_frame(k))
    assert out.get_frame(1).props["AnimeInterpMethod"] == "interpolated"
    off = vsanimeinterp.interpolate(src, engine="sgm", factor_num=4, sc=False)
    assert off.get_frame(6).props["AnimeInterpMethod"] == "interpolated"


@pytest.mark.parametrize("which", ["_SceneChangeNext", "_SceneChangePrev"])
def test_preset_scene_change_props_are_honoured(which):
    src = clip_from_arrays(moving_square_frames(n=4), format=vs.YUV420P8)
    marked = 1 if which == "_SceneChangeNext" else 2  # the frame before / after the cut

    def mark(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        out.props[which] = int(n == marked)
        return out

    src = vs.core.std.ModifyFrame(src, src, mark)
    out = vsanimeinterp.interpolate(src, engine="sgm", sc_threshold=0)
    assert out.get_frame(3).props["AnimeInterpMethod"] == "scene_cut"
    assert out.get_frame(1).props["AnimeInterpMethod"] == "interpolated"
    assert out.get_frame(5).props["AnimeInterpMethod"] == "interpolated"


def test_held_drawing_gives_identical_inbetweens_without_engine(counting_engine):
    frames = moving_square_frames(n=4)
    frames[2] = frames[1]
    src = clip_from_arrays(frames, format=vs.YUV420P10)
    out = vsanimeinterp.interpolate(src, engine="sgm", factor_num=3)
    for n in (4, 5):
        f = out.get_frame(n)
        assert f.props["AnimeInterpMethod"] == "held"
        assert planes_equal(f, src.get_frame(1))
    assert counting_engine[0].renders == 0


def test_lazy_requests_only_the_needed_source_frames():
    src, seen = request_counter(clip_from_arrays(moving_square_frames(n=6), format=vs.RGB24))
    out = vsanimeinterp.interpolate(src, engine="sgm", factor_num=3)
    out.get_frame(9)  # t == 0 on source 3
    assert set(seen) == {3}
    seen.clear()
    out.get_frame(7)  # between 2 and 3
    assert set(seen) <= {2, 3}


def test_flows_once_per_pair_and_frames_once(counting_engine):
    src = clip_from_arrays(moving_square_frames(n=4), format=vs.RGB24)
    out = vsanimeinterp.interpolate(src, engine="sgm", factor_num=4)
    for _ in out.frames(close=True):
        pass
    eng = counting_engine[0]
    assert eng.pairs == 3  # pairs (0,1), (1,2), (2,3); the last frame only repeats
    assert eng.frames == 4
    assert eng.renders == 9


def test_parallel_requests_match_single_thread(counting_engine):
    src = clip_from_arrays(moving_square_frames(n=5), format=vs.YUV420P8)
    core = vs.core
    saved = core.num_threads
    try:
        core.num_threads = 1
        one = vsanimeinterp.interpolate(src, engine="sgm", factor_num=3)
        ref = [np.asarray(f[0]).copy() for f in one.frames(close=True)]
        core.num_threads = 4
        many = vsanimeinterp.interpolate(src, engine="sgm", factor_num=3)
        futures = [many.get_frame_async(n) for n in range(many.num_frames)]
        got = [np.asarray(fut.result()[0]).copy() for fut in futures]
    finally:
        core.num_threads = saved
    assert all(np.array_equal(a, b) for a, b in zip(ref, got, strict=True))
    assert counting_engine[1].pairs == 4  # no pair computed twice under parallel requests
    assert counting_engine[1].frames == 5


def test_error_inside_processing_names_the_frame(monkeypatch, counting_engine):
    src = clip_from_arrays(moving_square_frames(n=3), format=vs.RGB24)
    out = vsanimeinterp.interpolate(src, engine="sgm")

    def boom(pair, t):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(counting_engine[0], "render", boom)
    with pytest.raises(vs.Error, match=r"interpolate: frame 1 .*engine exploded"):
        out.get_frame(1)
    assert out.get_frame(2).props["AnimeInterpMethod"] == "source"  # the host goes on


def _variable_format_clip():
    a = vs.core.std.BlankClip(format=vs.YUV420P8, length=2)
    b = vs.core.std.BlankClip(format=vs.RGB24, length=2)
    return vs.core.std.Splice([a, b], mismatch=True)


def _variable_size_clip():
    a = vs.core.std.BlankClip(width=64, height=48, length=2)
    b = vs.core.std.BlankClip(width=96, height=48, length=2)
    return vs.core.std.Splice([a, b], mismatch=True)


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        (lambda: np.zeros((2, 8, 8)), {}, "clip must be a vapoursynth.VideoNode"),
        (_variable_format_clip, {}, "constant format"),
        (_variable_size_clip, {}, "constant size"),
        (lambda: vs.core.std.BlankClip(length=1), {}, "at least 2 frames"),
        (lambda: vs.core.std.BlankClip(length=3), {"factor_num": 0}, "factor_num"),
        (lambda: vs.core.std.BlankClip(length=3), {"factor_den": -1}, "factor_den"),
        (lambda: vs.core.std.BlankClip(length=3), {"factor_num": 2.5}, "factor_num"),
        (lambda: vs.core.std.BlankClip(length=3), {"factor_num": True}, "factor_num"),
        (lambda: vs.core.std.BlankClip(length=3), {"fps_num": 0}, "fps_num"),
        (lambda: vs.core.std.BlankClip(length=3), {"fps_num": 60, "fps_den": 0}, "fps_den"),
        (lambda: vs.core.std.BlankClip(length=3), {"fps_den": 1001}, "fps_den"),
        (
            lambda: vs.core.std.BlankClip(length=3, fpsnum=0, fpsden=1),
            {"fps_num": 60},
            "variable frame rate",
        ),
        (lambda: vs.core.std.BlankClip(length=3), {"engine": "rife"}, "engine must be one of"),
        (lambda: vs.core.std.BlankClip(length=3), {"device": "tpu"}, "device must be one of"),
        (lambda: vs.core.std.BlankClip(length=3), {"device_index": -1}, "device_index"),
        (lambda: vs.core.std.BlankClip(length=3), {"sc_threshold": 2}, "sc_threshold"),
        (lambda: vs.core.std.BlankClip(length=3), {"sc": "yes"}, "sc must be"),
        (
            lambda: vs.core.std.BlankClip(length=3, format=vs.GRAY32),
            {},
            "integer samples above 16 bits",
        ),
    ],
)
def test_bad_input_gets_vs_error(make, kwargs, match):
    with pytest.raises(vs.Error, match=rf"^interpolate: .*{match}"):
        vsanimeinterp.interpolate(make(), **kwargs)


def test_cuda_requested_but_absent(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(vs.Error, match=r"interpolate: device='cuda'.*no CUDA device"):
        vsanimeinterp.interpolate(vs.core.std.BlankClip(length=3), device="cuda")


def test_animeinterp_engine_without_checkpoint_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.delenv("VSANIMEINTERP_CHECKPOINT", raising=False)
    monkeypatch.setenv("VSANIMEINTERP_HOME", str(tmp_path))
    with pytest.raises(vs.Error, match=r"interpolate: .*python -m vsanimeinterp download"):
        vsanimeinterp.interpolate(vs.core.std.BlankClip(length=3), engine="animeinterp")


def test_checkpoint_path_that_does_not_exist(tmp_path):
    with pytest.raises(vs.Error, match=r"interpolate: .*nope.ckpt"):
        vsanimeinterp.interpolate(
            vs.core.std.BlankClip(length=3), engine="animeinterp", checkpoint=tmp_path / "nope.ckpt"
        )


@pytest.mark.parametrize(
    ("content", "what"),
    [(b"<!DOCTYPE html>\n<html><head><title>Dropbox</title></head></html>", "an HTML page"),
     (b"\x00\x00\x00\x18ftypmp42" + bytes(100), "a video file")],
    ids=["html", "mp4"],
)
def test_checkpoint_that_is_another_kind_of_file(tmp_path, content, what):
    path = tmp_path / "anime_interp_full.ckpt"
    path.write_bytes(content)
    with pytest.raises(vs.Error, match=rf"^interpolate: checkpoint: .*is {what}") as info:
        vsanimeinterp.interpolate(
            vs.core.std.BlankClip(length=3), engine="animeinterp", checkpoint=path
        )
    assert "weights_only" not in str(info.value)


@pytest.mark.parametrize("bad", [0, -0.5, 1.5, "half", True, None])
def test_bad_flow_scale(bad):
    with pytest.raises(vs.Error, match=r"interpolate: flow_scale must be a number in \(0, 1\]"):
        vsanimeinterp.interpolate(vs.core.std.BlankClip(length=3), flow_scale=bad)


def test_flow_scale_reduces_sgm_working_size():
    from vsanimeinterp.engines.sgm import SGMEngine

    img = moving_square_frames(n=1, w=320, h=180)[0].transpose(2, 0, 1).copy()
    assert SGMEngine(flow_scale=0.5).prepare_frame(img).sgm.work_size == (90, 160)
    assert SGMEngine().prepare_frame(img).sgm.work_size == (180, 320)
    src = clip_from_arrays(moving_square_frames(n=3, w=320, h=180), format=vs.YUV420P8)
    out = vsanimeinterp.interpolate(src, engine="sgm", flow_scale=0.5)
    assert out.num_frames == 6 and out.format.id == vs.YUV420P8
    out.get_frame(1)


def tiny_pair(width: int, height: int) -> vs.VideoNode:
    """Two RGBS frames of any size (even 1×1) that differ: a corner that grows and darkens."""
    frames = np.full((2, height, width, 3), 0.5, np.float32)
    frames[0, : max(1, height // 2), : max(1, width // 2)] = (0.9, 0.2, 0.1)
    frames[1, : max(1, 2 * height // 3), : max(1, 2 * width // 3)] = (0.7, 0.1, 0.1)
    return clip_from_arrays(frames, format=vs.RGBS)


# OpenCV's DIS flow refused these (under 12 pixels on both sides; 3000×2 and 12×2: under 32
# tall and wide); the SGM engine pads what it gives DIS, so every size works. Sizes on
# both sides of the old limit (12) and of the padding (32).
@pytest.mark.parametrize(
    ("width", "height"),
    [(1, 1), (2, 2), (11, 11), (12, 12), (12, 2), (2, 12), (3000, 2), (2, 3000), (31, 31),
     (32, 32), (33, 20)],
)
def test_tiny_and_thin_frames_interpolate(width, height):
    out = vsanimeinterp.interpolate(tiny_pair(width, height), engine="sgm", device="cpu",
                                    sc=False)
    frame = out.get_frame(1)
    assert frame.props["AnimeInterpMethod"] == "interpolated"
    assert (frame.width, frame.height) == (width, height)
    mid = np.stack([np.asarray(frame[p]) for p in range(3)])
    assert np.isfinite(mid).all() and mid.min() >= 0 and mid.max() <= 1


def test_smallest_subsampled_clip_interpolates():
    src = vs.core.resize.Bicubic(tiny_pair(2, 2), format=vs.YUV420P8, matrix_s="709")
    out = vsanimeinterp.interpolate(src, engine="sgm", device="cpu", sc=False)
    assert out.get_frame(1).props["AnimeInterpMethod"] == "interpolated"


def test_out_of_memory_becomes_vs_error_with_advice(counting_engine, monkeypatch):
    import torch

    src = clip_from_arrays(moving_square_frames(n=3), format=vs.RGBS)
    out = vsanimeinterp.interpolate(src, engine="sgm")
    out.get_frame(0)  # builds the engine
    eng = counting_engine[0]

    def boom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")

    monkeypatch.setattr(eng.inner, "prepare_pair", boom)
    with pytest.raises(vs.Error, match=r"interpolate: frame 1 .*out of memory.*flow_scale"):
        out.get_frame(1)
