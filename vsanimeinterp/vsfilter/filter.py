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
import threading
from fractions import Fraction
from typing import Any

import numpy as np
import vapoursynth as vs

from ..checkpoints.validate import CheckpointError
from .cache import OnceCache
from .colour import from_working, to_working
from .frames import array_to_frame, frame_to_array
from .planning import INTERPOLATED, plan_frame
from .timing import Retiming, rate_factor

FUNC = "interpolate"
ENGINES = ("auto", "sgm", "animeinterp")
DEVICES = ("auto", "cpu", "cuda")
CORR_MODES = ("auto", "all-pairs", "bounded")

#: Default for ``sc_threshold``: see :func:`interpolate`.
DEFAULT_SC_THRESHOLD = 0.12
#: Default for ``dedup_threshold``: see :func:`interpolate`.
DEFAULT_DEDUP_THRESHOLD = 0.04
#: Width of the thumbnails compared for scene cuts and held drawings, in pixels.
THUMB_WIDTH = 128

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


def _shift(clip: vs.VideoNode, d: int) -> vs.VideoNode:
    """Frame ``k`` of the result is ``clip[k + d]``, clamped to the clip's ends."""
    if d == 0:
        return clip
    n = clip.num_frames
    d = max(-(n - 1), min(n - 1, d))
    if d > 0:
        return clip[d:] + clip[-1] * d
    return clip[0] * -d + clip[: n + d]


def _pair_stats(clip: vs.VideoNode, work: vs.VideoNode) -> vs.VideoNode:
    """A thumbnail-sized clip whose frame k carries, as props, facts about the pair (k, k+1),
    all computed natively:

    * ``AnimeInterpSc{p}Diff``: mean absolute difference of plane p of the thumbnails (0..1);
    * ``AnimeInterpHold{p}Max``: largest absolute difference of plane p of the thumbnails;
    * ``AnimeInterpSame{p}Diff``: PlaneStats difference of the full-size source planes, 0
      exactly when they are identical;
    * ``_SceneChangeNext`` of frame k and ``_SceneChangePrev`` of frame k+1 (user props).
    """
    core = vs.core
    thumb_h = max(2, round(THUMB_WIDTH * clip.height / clip.width / 2) * 2)
    small = core.resize.Bilinear(work, THUMB_WIDTH, thumb_h)
    small_next = _shift(small, 1)
    absdiff = core.std.Expr([small, small_next], "x y - abs")
    stats = small
    for p in range(work.format.num_planes):
        stats = core.std.PlaneStats(stats, small_next, plane=p, prop=f"AnimeInterpSc{p}")
        hold = core.std.PlaneStats(absdiff, plane=p, prop=f"AnimeInterpHold{p}")
        stats = core.std.CopyFrameProps(stats, hold, props=[f"AnimeInterpHold{p}Max"])
    exact = clip
    for p in range(clip.format.num_planes):
        exact = core.std.PlaneStats(exact, _shift(clip, 1), plane=p, prop=f"AnimeInterpSame{p}")
    names = [f"AnimeInterpSame{p}Diff" for p in range(clip.format.num_planes)]
    stats = core.std.CopyFrameProps(stats, exact, props=[*names, "_SceneChangeNext"])
    return core.std.CopyFrameProps(stats, _shift(clip, 1), props=["_SceneChangePrev"])


class _PairFacts:
    """Reads the props of :func:`_pair_stats` frames into the facts the planner asks for."""

    def __init__(
        self, frames: list[vs.VideoFrame], first: int, planes: int, src_planes: int,
        sc: bool, sc_threshold: float, dedup_threshold: float,
    ) -> None:
        self.frames, self.first = frames, first
        self.planes, self.src_planes = planes, src_planes
        self.sc, self.sc_threshold, self.dedup_threshold = sc, sc_threshold, dedup_threshold

    def _props(self, i: int) -> vs.FrameProps:
        return self.frames[i - self.first].props

    def cut(self, i: int) -> bool:
        if not self.sc:
            return False
        p = self._props(i)
        if p.get("_SceneChangeNext") or p.get("_SceneChangePrev"):
            return True
        if self.sc_threshold <= 0:
            return False
        diff = sum(float(p[f"AnimeInterpSc{c}Diff"]) for c in range(self.planes)) / self.planes
        return diff > self.sc_threshold

    def identical(self, i: int) -> bool:
        p = self._props(i)
        return all(float(p[f"AnimeInterpSame{c}Diff"]) == 0.0 for c in range(self.src_planes))

    def similar(self, i: int) -> bool:
        p = self._props(i)
        return max(float(p[f"AnimeInterpHold{c}Max"]) for c in range(self.planes)) <= (
            self.dedup_threshold
        )


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

    Returns:
        The interpolated clip. Every frame carries ``AnimeInterpMethod`` (``"source"``,
        ``"interpolated"``, ``"scene_cut"`` or ``"held"``), ``AnimeInterpPair`` (the source
        frames ``[a, b]`` it is made from) and ``AnimeInterpT`` (0..1 between them).
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
    sc = _check_bool("sc", sc)
    dedup = _check_bool("dedup", dedup)
    sc_threshold = _check_unit("sc_threshold", sc_threshold)
    dedup_threshold = _check_unit("dedup_threshold", dedup_threshold)
    dedup_max_hold = _check_int("dedup_max_hold", dedup_max_hold, 2)
    if fp16 is not None and not isinstance(fp16, bool):
        raise _error(f"fp16 must be True, False or None, got {fp16!r}")
    if (isinstance(flow_scale, bool) or not isinstance(flow_scale, int | float)
            or not 0 < flow_scale <= 1):
        raise _error(f"flow_scale must be a number in (0, 1], got {flow_scale!r}")
    if tile_size is not None and (
        isinstance(tile_size, bool) or not isinstance(tile_size, int) or tile_size < 0
        or tile_size % 4 or 0 < tile_size < 64
    ):
        raise _error(f"tile_size must be None, 0 or a multiple of 4 of at least 64, "
                     f"got {tile_size!r}")
    if (isinstance(tile_overlap, bool) or not isinstance(tile_overlap, int) or tile_overlap < 0
            or tile_overlap % 4):
        raise _error(f"tile_overlap must be a multiple of 4, at least 0, got {tile_overlap!r}")
    if not isinstance(corr, str) or corr not in CORR_MODES:
        raise _error(f"corr must be one of {', '.join(CORR_MODES)}; got {corr!r}")
    dev = _resolve_device(device, device_index)

    from ..engines import sgm as engine_mod

    try:
        eng = engine_mod.make_engine(
            engine, checkpoint=checkpoint, device=dev, fp16=fp16, corr=corr,
            flow_scale=float(flow_scale), tile_size=tile_size, tile_overlap=tile_overlap,
        )
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
    return _Graph(
        clip, retime, eng, sc=sc, sc_threshold=sc_threshold,
        dedup_threshold=dedup_threshold if dedup else None, max_hold=dedup_max_hold,
    ).output()


def _memory_hint(exc: BaseException) -> str:
    """Advice appended to an out-of-memory error: what lowers the peak."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError | MemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    ):
        return (" -- out of memory: lower it with tile_size=512, flow_scale=0.5 (or 0.25 "
                "for 4K), corr='bounded', or fewer parallel frames (core.num_threads)")
    return ""


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _error(f"{name} must be True or False, got {value!r}")
    return value


def _check_unit(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _error(f"{name} must be a number in 0..1, got {value!r}")
    return float(value)


class _Graph:
    """The node graph of one ``interpolate`` call. Nodes that only some frames need (the
    interpolation between source offsets ``da`` and ``db``, pass-through of offset ``d``)
    are made on first use and kept."""

    def __init__(
        self, clip: vs.VideoNode, retime: Retiming, eng: Any, *, sc: bool,
        sc_threshold: float, dedup_threshold: float | None, max_hold: int,
    ) -> None:
        core = vs.core
        self.clip, self.retime, self.eng = clip, retime, eng
        self.num, self.den = retime.factor.numerator, retime.factor.denominator
        self.last = clip.num_frames - 1
        self.work = to_working(clip)
        self.planes = self.work.format.num_planes
        self.sc, self.sc_threshold = sc, sc_threshold
        self.dedup_threshold, self.max_hold = dedup_threshold, max_hold
        self.clip0 = self._spread(clip)
        self.blank = core.std.BlankClip(self.clip0, keep=True)
        stats = _pair_stats(clip, self.work)
        window = range(-max_hold, max_hold) if dedup_threshold is not None else range(0, 1)
        self.window_first = window.start
        self.stats = [self._spread(_shift(stats, d)) for d in window]

        threads = max(1, core.num_threads)
        self.frame_cache: OnceCache[Any] = OnceCache(max(3, threads + 1))
        self.pair_cache: OnceCache[Any] = OnceCache(max(2, threads))
        self._nodes: dict[tuple, vs.VideoNode] = {}
        self._lock = threading.Lock()

    def _spread(self, clip: vs.VideoNode) -> vs.VideoNode:
        return _spread(clip, self.num, self.den)

    def _node(self, key: tuple, make: Any) -> vs.VideoNode:
        with self._lock:
            node = self._nodes.get(key)
            if node is None:
                node = self._nodes[key] = make()
            return node

    def passthrough(self, d: int, method: str) -> vs.VideoNode:
        """Output frame n = source frame k + d, tagged with ``method``."""
        return self._node(
            ("pass", d, method),
            lambda: vs.core.std.SetFrameProps(
                self._spread(_shift(self.clip, d)), **{PROP_METHOD: method}
            ),
        )

    def interpolated(self, da: int, db: int) -> vs.VideoNode:
        """Output frame n synthesised between source frames k + da and k + db."""
        return self._node(("interp", da, db), lambda: self._make_interpolated(da, db))

    def _make_interpolated(self, da: int, db: int) -> vs.VideoNode:
        core = vs.core
        work_a = self._spread(_shift(self.work, da))
        work_b = self._spread(_shift(self.work, db))
        retime, eng, planes = self.retime, self.eng, self.planes

        def prep(frame: vs.VideoFrame) -> Any:
            img = frame_to_array(frame)
            if planes == 1:
                img = np.repeat(img, 3, axis=0)
            return eng.prepare_frame(img)

        def render(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
            k, t0 = retime.position(n)
            a, b = k + da, k + db
            t = (k + t0 - a) / (b - a)
            try:
                fa = self.frame_cache.get(a, lambda: prep(f[0]))
                fb = self.frame_cache.get(b, lambda: prep(f[1]))
                pair = self.pair_cache.get((a, b), lambda: eng.prepare_pair(fa, fb))
                out = eng.render(pair, float(t))
                if planes == 1:
                    out = out.mean(axis=0, keepdims=True)
                return array_to_frame(out, f[0])
            except Exception as exc:
                raise vs.Error(
                    f"{FUNC}: frame {n} (source frames {a}-{b}, t={float(t):.4f}): "
                    f"{type(exc).__name__}: {exc}{_memory_hint(exc)}"
                ) from exc

        raw = core.std.ModifyFrame(work_a, [work_a, work_b], render)
        converted = from_working(raw, self.clip0)

        def tag(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
            k, t0 = retime.position(n)
            out = f.copy()
            out.props[PROP_METHOD] = "interpolated"
            out.props[PROP_PAIR] = [k + da, k + db]
            out.props[PROP_T] = float((k + t0 - (k + da)) / (db - da))
            return out

        return core.std.ModifyFrame(converted, converted, tag)

    def _decide(self, n: int, f: vs.VideoFrame | list[vs.VideoFrame]) -> vs.VideoNode:
        k, t0 = self.retime.position(n)
        if isinstance(f, vs.VideoFrame):  # FrameEval passes a lone prop source unlisted
            f = [f]
        facts = _PairFacts(
            f, k + self.window_first, self.planes, self.clip.format.num_planes,
            self.sc, self.sc_threshold, self.dedup_threshold or 0.0,
        )
        plan = plan_frame(
            k, t0, self.last, facts.cut, facts.identical,
            facts.similar if self.dedup_threshold is not None else None, self.max_hold,
        )
        if plan.method == INTERPOLATED:
            return self.interpolated(plan.a - k, plan.b - k)
        return self.passthrough(plan.a - k, plan.method)

    def output(self) -> vs.VideoNode:
        core = vs.core
        retime, last = self.retime, self.last
        decided = core.std.FrameEval(self.blank, self._decide, prop_src=self.stats)
        if self.dedup_threshold is None:
            # Frames on source times need no facts, so they request no neighbours.
            as_source = self.passthrough(0, "source")

            def choose(n: int) -> vs.VideoNode:
                k, t0 = retime.position(n)
                return as_source if t0 == 0 or k == last else decided

            top = core.std.FrameEval(self.blank, choose)
        else:
            top = decided

        src_fps = self.clip.fps
        out_duration = None
        if src_fps != 0:
            out_duration = 1 / (Fraction(src_fps.numerator, src_fps.denominator) * retime.factor)

        def annotate(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
            k, t0 = retime.position(n)
            out = f.copy()
            props = out.props
            if PROP_PAIR not in props:
                props[PROP_T] = float(t0)
                props[PROP_PAIR] = [k, min(k + 1, last)]
            if out_duration is not None:
                props["_DurationNum"] = out_duration.numerator
                props["_DurationDen"] = out_duration.denominator
            elif "_DurationNum" in props and "_DurationDen" in props:
                # Variable frame rate: each output frame lasts its source frame's duration
                # divided by the factor, which keeps the total length.
                d = Fraction(int(props["_DurationNum"]), int(props["_DurationDen"]))
                d /= retime.factor
                props["_DurationNum"] = d.numerator
                props["_DurationDen"] = d.denominator
            return out

        out = core.std.ModifyFrame(top, top, annotate)
        if out_duration is not None:
            fps = 1 / out_duration
            out = core.std.AssumeFPS(out, fpsnum=fps.numerator, fpsden=fps.denominator)
        return out
