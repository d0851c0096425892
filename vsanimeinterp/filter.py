"""The VapourSynth filter: ``interpolate(clip, ...)``.

How an output frame is made (all lazy, per frame):

1. ``timing.Retiming`` maps output frame ``n`` to source frame ``k`` and fraction ``t``.
2. ``t == 0`` (or past the last source frame): source frame ``k`` passes through untouched.
3. Otherwise the pair's props decide: a scene cut between ``k`` and ``k+1`` repeats the nearer
   source frame; identical neighbours (a held drawing) repeat frame ``k``; every other frame
   is synthesised by the engine from the two source frames, converted to float RGB and back.

Per-frame and per-pair work of the engine is cached (``cache.OnceCache``) so that every
in-between of a pair reuses one set of flows and each source frame is prepared once.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

import numpy as np
import vapoursynth as vs

from .cache import OnceCache
from .colour import from_working, to_working
from .frames import array_to_frame, frame_to_array
from .timing import Retiming, rate_factor

FUNC = "interpolate"
ENGINES = ("auto", "sgm", "animeinterp")
DEVICES = ("auto", "cpu", "cuda")

#: Default for ``sc_threshold``: see :func:`interpolate`.
DEFAULT_SC_THRESHOLD = 0.12
#: Width of the thumbnails compared for scene-change detection, in pixels.
SC_THUMB_WIDTH = 64

PROP_METHOD = "AnimeInterpMethod"
PROP_T = "AnimeInterpT"
PROP_PAIR = "AnimeInterpPair"
PROP_SC_DIFF = "AnimeInterpSceneDiff"


def _error(msg: str) -> vs.Error:
    return vs.Error(f"{FUNC}: {msg}")


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise _error(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise _error(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _validate_clip(clip: Any) -> vs.VideoNode:
    if not isinstance(clip, vs.VideoNode):
        raise _error(f"clip must be a vapoursynth.VideoNode, got {type(clip).__name__}")
    fmt = clip.format
    if fmt is None or fmt.id == vs.PresetVideoFormat.NONE:
        raise _error("clip must have a constant format (variable-format clips are not supported)")
    if clip.width == 0 or clip.height == 0:
        raise _error("clip must have a constant size (variable-size clips are not supported)")
    if fmt.color_family not in (vs.YUV, vs.RGB, vs.GRAY):
        raise _error(f"clip format {fmt.name} is not YUV, RGB or GRAY")
    if fmt.sample_type == vs.INTEGER and fmt.bits_per_sample > 16:
        raise _error(f"clip format {fmt.name}: integer samples above 16 bits are not supported")
    if fmt.sample_type == vs.FLOAT and fmt.bits_per_sample not in (16, 32):
        raise _error(f"clip format {fmt.name}: only half and single float are supported")
    if clip.num_frames < 2:
        raise _error(f"clip must have at least 2 frames, got {clip.num_frames}")
    return clip


def _resolve_device(device: Any, device_index: Any) -> str:
    import torch

    if not isinstance(device, str) or device not in DEVICES:
        raise _error(f"device must be one of {', '.join(DEVICES)}; got {device!r}")
    index = _check_int("device_index", device_index, 0)
    has_cuda = torch.cuda.is_available()
    if device == "auto":
        device = "cuda" if has_cuda else "cpu"
    if device == "cuda":
        if not has_cuda:
            raise _error("device='cuda' was asked for, but torch sees no CUDA device")
        if index >= torch.cuda.device_count():
            raise _error(
                f"device_index {index} is out of range: "
                f"{torch.cuda.device_count()} CUDA device(s) present"
            )
        return f"cuda:{index}"
    return "cpu"


def _spread(clip: vs.VideoNode, num: int, den: int) -> vs.VideoNode:
    """Frame ``n`` of the result is ``clip[n·den // num]``: source frames aligned with output
    frames, built natively so it costs nothing per frame."""
    core = vs.core
    out = core.std.Interleave([clip] * num) if num > 1 else clip
    return core.std.SelectEvery(out, cycle=den, offsets=0) if den > 1 else out


def _shift_next(clip: vs.VideoNode) -> vs.VideoNode:
    """Frame ``k`` of the result is ``clip[k+1]``; the last frame is repeated."""
    return clip[1:] + clip[-1]


def _pair_stats(clip: vs.VideoNode, work: vs.VideoNode) -> tuple[vs.VideoNode, vs.VideoNode]:
    """Per source pair (k, k+1), as props on frame k, computed natively:

    * ``thumbs``: ``AnimeInterpSceneDiff{p}``, mean absolute difference of plane p of small
      RGB thumbnails (0..1), and the ``_SceneChangePrev`` prop of frame k+1 (copied over).
    * ``exact``: ``AnimeInterpSame{p}``, the PlaneStats difference of the full source planes
      (0 exactly when the planes are identical).
    """
    core = vs.core
    thumb_h = max(2, round(SC_THUMB_WIDTH * clip.height / clip.width / 2) * 2)
    small = core.resize.Bilinear(work, SC_THUMB_WIDTH, thumb_h)
    small_next = _shift_next(small)
    thumbs = small
    for p in range(work.format.num_planes):
        thumbs = core.std.PlaneStats(thumbs, small_next, plane=p, prop=f"AnimeInterpSc{p}")
    thumbs = core.std.CopyFrameProps(thumbs, _shift_next(clip), props=["_SceneChangePrev"])
    exact = clip
    nxt = _shift_next(clip)
    for p in range(clip.format.num_planes):
        exact = core.std.PlaneStats(exact, nxt, plane=p, prop=f"AnimeInterpSame{p}")
    return thumbs, exact


def _scene_diff(props: vs.FrameProps, planes: int) -> float:
    return sum(float(props[f"AnimeInterpSc{p}Diff"]) for p in range(planes)) / planes


def interpolate(
    clip: vs.VideoNode,
    factor_num: int = 2,
    factor_den: int = 1,
    fps_num: int | None = None,
    fps_den: int | None = None,
    *,
    engine: str = "auto",
    checkpoint: str | os.PathLike[str] | None = None,
    device: str = "auto",
    device_index: int = 0,
    fp16: bool | None = None,
    sc: bool = True,
    sc_threshold: float = DEFAULT_SC_THRESHOLD,
) -> vs.VideoNode:
    """Interpolate frames of a cartoon clip with AnimeInterp.

    Args:
        clip: any constant-format YUV, RGB or GRAY clip (8-16 bit integer, half or single
            float), at least 2 frames. The result has the same format, size and frame props.
        factor_num, factor_den: multiply the frame rate by ``factor_num/factor_den`` (e.g.
            5/2 turns 24 fps into 60 fps). Output length: ``ceil(num_frames · factor)``.
        fps_num, fps_den: target frame rate; overrides the factor (e.g. 60000/1001).
            ``fps_den`` defaults to 1. Needs a clip with a known (non-zero) rate.
        engine: ``"sgm"`` (segment-guided matching and splatting, no weights needed),
            ``"animeinterp"`` (the paper's network; needs its checkpoint) or ``"auto"`` (the
            network when a checkpoint is found, else SGM).
        checkpoint: path of ``anime_interp_full.ckpt``; else ``$VSANIMEINTERP_CHECKPOINT``,
            else the file ``python -m vsanimeinterp download`` stores.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when torch sees a GPU).
        device_index: which CUDA device.
        fp16: half precision for the network on CUDA (default: True on CUDA, False on CPU).
        sc: handle scene cuts: in-betweens across a cut repeat the nearer source frame
            (``t < 0.5``: the frame before the cut, else the one after), never a blend.
            Cuts come from ``_SceneChangeNext`` on the frame before or ``_SceneChangePrev``
            on the frame after (e.g. set by ``misc.SCDetect``), and from detection.
        sc_threshold: detection threshold: a pair is a cut when the mean absolute difference
            of the two frames, shrunk to 64 pixels wide, in RGB 0..1 averaged over the
            channels, exceeds it. 0.12 separates cuts from fast cartoon motion; raise it if
            fast motion is taken for cuts, lower it if cuts blend. ``0`` turns detection off
            while props are still honoured.

    Returns:
        The interpolated clip. Every frame carries ``AnimeInterpMethod`` (``"source"``,
        ``"interpolated"``, ``"scene_cut"`` or ``"held"``), ``AnimeInterpPair`` (the source
        frames ``[k, k+1]`` it comes from) and ``AnimeInterpT`` (0..1).
    """
    clip = _validate_clip(clip)
    factor_num = _check_int("factor_num", factor_num, 1)
    factor_den = _check_int("factor_den", factor_den, 1)
    if fps_num is not None:
        fps_num = _check_int("fps_num", fps_num, 1)
        fps_den = 1 if fps_den is None else _check_int("fps_den", fps_den, 1)
        if clip.fps == 0:
            raise _error(
                "fps_num/fps_den need a clip with a known frame rate; this clip is variable "
                "frame rate (fps 0/1): use factor_num/factor_den or AssumeFPS first"
            )
    elif fps_den is not None:
        raise _error("fps_den was given without fps_num")
    if not isinstance(engine, str) or engine not in ENGINES:
        raise _error(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if not isinstance(sc, bool):
        raise _error(f"sc must be True or False, got {sc!r}")
    if (
        isinstance(sc_threshold, bool)
        or not isinstance(sc_threshold, int | float)
        or not 0 <= sc_threshold <= 1
    ):
        raise _error(f"sc_threshold must be a number in 0..1, got {sc_threshold!r}")
    if fp16 is not None and not isinstance(fp16, bool):
        raise _error(f"fp16 must be True, False or None, got {fp16!r}")
    dev = _resolve_device(device, device_index)

    from .engine import make_engine

    try:
        eng = make_engine(engine, checkpoint=checkpoint, device=dev, fp16=fp16)
    except vs.Error:
        raise
    except (FileNotFoundError, ValueError) as exc:
        raise _error(str(exc)) from exc

    src_fps = Fraction(clip.fps.numerator, clip.fps.denominator)
    factor = rate_factor(src_fps, factor_num, factor_den, fps_num, fps_den)
    retime = Retiming(clip.num_frames, factor)
    return _build(clip, retime, eng, sc=sc, sc_threshold=float(sc_threshold))


def _build(
    clip: vs.VideoNode, retime: Retiming, eng: Any, *, sc: bool, sc_threshold: float
) -> vs.VideoNode:
    core = vs.core
    num, den = retime.factor.numerator, retime.factor.denominator
    last = clip.num_frames - 1

    work = to_working(clip)
    planes = work.format.num_planes
    clip0 = _spread(clip, num, den)
    clip1 = _spread(_shift_next(clip), num, den)
    work0 = _spread(work, num, den)
    work1 = _spread(_shift_next(work), num, den)
    thumbs, exact = _pair_stats(clip, work)
    thumbs0 = _spread(thumbs, num, den)
    exact0 = _spread(exact, num, den)

    threads = max(1, core.num_threads)
    frames: OnceCache[Any] = OnceCache(max(3, threads + 1))
    pairs: OnceCache[Any] = OnceCache(max(2, threads))

    def render(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
        k, t = retime.position(n)
        try:
            def prep(frame: vs.VideoFrame) -> Any:
                img = frame_to_array(frame)
                if planes == 1:
                    img = np.repeat(img, 3, axis=0)
                return eng.prepare_frame(img)

            a = frames.get(k, lambda: prep(f[0]))
            b = frames.get(k + 1, lambda: prep(f[1]))
            pair = pairs.get(k, lambda: eng.prepare_pair(a, b))
            out = eng.render(pair, float(t))
            if planes == 1:
                out = out.mean(axis=0, keepdims=True)
            return array_to_frame(out, f[0])
        except Exception as exc:
            raise vs.Error(
                f"{FUNC}: frame {n} (source frames {k}-{k + 1}, t={float(t):.4f}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    interp = core.std.ModifyFrame(work0, [work0, work1], render)
    interp = from_working(interp, clip0)

    def tag(node: vs.VideoNode, method: str) -> vs.VideoNode:
        return core.std.SetFrameProps(node, **{PROP_METHOD: method})

    as_source = tag(clip0, "source")
    as_interp = tag(interp, "interpolated")
    cut_before = tag(clip0, "scene_cut")
    cut_after = tag(clip1, "scene_cut")
    held = tag(clip0, "held")

    def decide(n: int, f: list[vs.VideoFrame]) -> vs.VideoNode:
        _, t = retime.position(n)
        sc_props, same_props = f[0].props, f[1].props
        if sc and (
            sc_props.get("_SceneChangeNext")
            or sc_props.get("_SceneChangePrev")
            or (sc_threshold > 0 and _scene_diff(sc_props, planes) > sc_threshold)
        ):
            return cut_before if t < Fraction(1, 2) else cut_after
        if all(float(same_props[f"AnimeInterpSame{p}Diff"]) == 0.0 for p in range(
            clip.format.num_planes
        )):
            return held
        return as_interp

    blank = core.std.BlankClip(clip0, keep=True)
    decided = core.std.FrameEval(
        blank, decide, prop_src=[thumbs0, exact0], clip_src=[as_interp, cut_before, cut_after]
    )

    def choose(n: int) -> vs.VideoNode:
        k, t = retime.position(n)
        return as_source if t == 0 or k == last else decided

    top = core.std.FrameEval(blank, choose, clip_src=[as_source, decided])

    src_fps = clip.fps
    out_duration = None
    if src_fps != 0:
        out_fps = Fraction(src_fps.numerator, src_fps.denominator) * retime.factor
        out_duration = 1 / out_fps

    def annotate(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        k, t = retime.position(n)
        out = f.copy()
        props = out.props
        props[PROP_T] = float(t)
        props[PROP_PAIR] = [k, min(k + 1, last)]
        if out_duration is not None:
            props["_DurationNum"] = out_duration.numerator
            props["_DurationDen"] = out_duration.denominator
        elif "_DurationNum" in props and "_DurationDen" in props:
            # Variable frame rate: each output frame lasts its source frame's duration
            # divided by the factor, which keeps the total length.
            d = Fraction(int(props["_DurationNum"]), int(props["_DurationDen"])) / retime.factor
            props["_DurationNum"] = d.numerator
            props["_DurationDen"] = d.denominator
        return out

    out = core.std.ModifyFrame(top, top, annotate)
    if out_duration is not None:
        fps = 1 / out_duration
        out = core.std.AssumeFPS(out, fpsnum=fps.numerator, fpsden=fps.denominator)
        # AssumeFPS rewrites the durations with the same value; nothing else changes.
    assert out.num_frames == retime.num_frames
    return out

