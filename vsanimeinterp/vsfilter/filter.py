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

import vapoursynth as vs

from ..checkpoints.validate import CheckpointError
from ..options import (
    DEVICES,
    ENGINES,
    NetworkOptions,
    OptionError,
    check_bool,
    check_choice,
    check_int,
    check_unit,
)
from .graph import FUNC, Graph
from .timing import Retiming, rate_factor

#: Default for ``sc_threshold``: see :func:`interpolate`.
DEFAULT_SC_THRESHOLD = 0.12
#: Default for ``dedup_threshold``: see :func:`interpolate`.
DEFAULT_DEDUP_THRESHOLD = 0.04


def _error(msg: str) -> vs.Error:
    return vs.Error(f"{FUNC}: {msg}")


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

    check_choice("device", device, DEVICES)
    index = check_int("device_index", device_index, 0)
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
    dedup: bool = False,
    dedup_threshold: float = DEFAULT_DEDUP_THRESHOLD,
    dedup_max_hold: int = 3,
    corr: str = "auto",
    flow_scale: float = 1.0,
    tile_size: int | None = None,
    tile_overlap: int = 64,
    init_flow: str = "sgm",
    lookahead: int | None = None,
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
            of the two frames, shrunk to 128 pixels wide, in RGB 0..1 averaged over the
            channels, exceeds it. 0.12 separates cuts from fast cartoon motion; raise it if
            fast motion is taken for cuts, lower it if cuts blend. ``0`` turns detection off
            while props are still honoured.
        dedup: retime anime drawn on twos and threes: a drawing held for up to
            ``dedup_max_hold`` frames counts as one drawing, and output frames are
            synthesised at their true time between consecutive drawings, so motion advances
            evenly. Frame count and timestamps are the same as without it.
        dedup_threshold: two neighbouring frames show the same drawing when no pixel of their
            128-pixel-wide thumbnails differs by more than this (RGB 0..1). The thumbnail
            averages away compression noise; any moving part of the picture exceeds it.
        dedup_max_hold: longest hold (in frames) that is retimed; longer ones are deliberate
            pauses and stay still.
        corr: the network's correlation look-up: ``"all-pairs"`` (the reference's volume,
            (H/8·W/8)² values: 0.34 GB at 540p, 5.6 GB at 1080p, 89 GB at 4K),
            ``"bounded"`` (the same numbers from pooled features, memory growing only with
            the frame area; as fast on the CPU at 540p, faster at 1080p) or ``"auto"``
            (all-pairs up to 1 GB).
        flow_scale: estimate flows (SGM and RFR) on frames scaled by this factor in
            (0, 1] and scale them up, as vs-rife's ``scale``: 0.5 for 1080p, 0.25 for 4K
            trade flow detail for speed and memory. Synthesis stays at full size. 1.0 is the
            reference behaviour (SGM itself never works above about 960×540).
        tile_size: the network synthesises the frame in tiles of this side (pixels, a
            multiple of 4, at least 64): feature pyramid, warping and GridNet per tile, so
            memory follows the tile, not the frame; 0 never tiles; None (default) picks a
            size from the free memory. Tiling does not change the output (to 1e-5).
        tile_overlap: context pixels around each tile (a multiple of 4); 64 (default)
            makes tiled and whole-frame output identical, smaller values save a little time.
        init_flow: where the network's flow refinement starts: ``"sgm"`` (the paper: SGM's
            flows) or ``"none"`` (zero flow, no SGM work at all: the authors' "w/o SGM"
            variant, faster on a GPU where SGM's CPU time would dominate; large motion
            is then found by RFR alone). Ignored by the ``sgm`` engine.
        lookahead: how many following source pairs are prepared (frames encoded, flows
            made) in background threads while an in-between is rendered. VapourSynth calls
            the filter's Python code for one frame at a time, so this is what keeps several
            pairs in flight (a GPU busy while SGM runs on the CPU). Each in-between then also
            reads the next ``lookahead`` source frames. None (default): ``num_threads // 4``,
            at most 4 (0 on machines with under 8 threads).

    Returns:
        The interpolated clip. Every frame carries ``AnimeInterpMethod`` (``"source"``,
        ``"interpolated"``, ``"scene_cut"`` or ``"held"``), ``AnimeInterpPair`` (the source
        frames ``[a, b]`` it is made from) and ``AnimeInterpT`` (0..1 between them).
    """
    clip = _validate_clip(clip)
    try:
        factor_num = check_int("factor_num", factor_num, 1)
        factor_den = check_int("factor_den", factor_den, 1)
        if fps_num is not None:
            fps_num = check_int("fps_num", fps_num, 1)
            fps_den = 1 if fps_den is None else check_int("fps_den", fps_den, 1)
        elif fps_den is not None:
            raise OptionError("fps_den was given without fps_num")
        check_choice("engine", engine, ENGINES)
        sc = check_bool("sc", sc)
        dedup = check_bool("dedup", dedup)
        sc_threshold = check_unit("sc_threshold", sc_threshold)
        dedup_threshold = check_unit("dedup_threshold", dedup_threshold)
        dedup_max_hold = check_int("dedup_max_hold", dedup_max_hold, 2)
        options = NetworkOptions(corr=corr, flow_scale=flow_scale, tile_size=tile_size,
                                 tile_overlap=tile_overlap, fp16=fp16, init_flow=init_flow)
        dev = _resolve_device(device, device_index)
        if lookahead is not None:
            lookahead = check_int("lookahead", lookahead, 0)
    except OptionError as exc:
        raise _error(str(exc)) from exc
    if fps_num is not None and clip.fps == 0:
        raise _error(
            "fps_num/fps_den need a clip with a known frame rate; this clip is variable "
            "frame rate (fps 0/1): use factor_num/factor_den or AssumeFPS first"
        )

    # Through the module, so that tests can count what the filter asks of its engine.
    from ..engines import factory as engines

    try:
        eng = engines.make_engine(engine, checkpoint=checkpoint, device=dev, options=options)
    except vs.Error:
        raise
    except CheckpointError as exc:
        # The file may have come from $VSANIMEINTERP_CHECKPOINT or the cache, but what is
        # wrong is the checkpoint either way; its message names the file.
        raise _error(f"checkpoint: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise _error(str(exc)) from exc

    src_fps = Fraction(clip.fps.numerator, clip.fps.denominator)
    factor = rate_factor(src_fps, factor_num, factor_den, fps_num, fps_den)
    retime = Retiming(clip.num_frames, factor)
    return Graph(
        clip, retime, eng, sc=sc, sc_threshold=sc_threshold,
        dedup_threshold=dedup_threshold if dedup else None, max_hold=dedup_max_hold,
        lookahead=lookahead,
    ).output()
