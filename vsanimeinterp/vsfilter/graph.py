"""The node graph of one ``interpolate()`` call: where source frames enter the engine and
in-betweens leave it.

How an output frame is made (all lazy, per frame):

1. ``timing.Retiming`` maps output frame ``n`` to source frame ``k`` and fraction ``t``.
2. ``t == 0`` (or past the last source frame): source frame ``k`` passes through untouched.
3. Otherwise the pair's props decide (``planning.plan_frame``): a scene cut between ``k``
   and ``k+1`` repeats the nearer source frame; identical neighbours (a held drawing) repeat
   frame ``k``; every other frame is synthesised by the engine from the two source frames,
   converted to float RGB and back.

Per-frame and per-pair work of the engine is cached (``cache.OnceCache``) so that every
in-between of a pair reuses one set of flows and each source frame is prepared once.
"""

from __future__ import annotations

import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any

import numpy as np
import vapoursynth as vs

from ..engines.base import Engine
from .cache import OnceCache
from .colour import from_working, to_working
from .frames import array_to_frame, frame_to_array
from .planning import INTERPOLATED, plan_frame
from .timing import Retiming

FUNC = "interpolate"
#: Width of the thumbnails compared for scene cuts and held drawings, in pixels.
THUMB_WIDTH = 128

PROP_METHOD = "AnimeInterpMethod"
PROP_T = "AnimeInterpT"
PROP_PAIR = "AnimeInterpPair"


def default_lookahead(threads: int) -> int:
    """Source pairs prepared ahead for ``core.num_threads`` = ``threads``: none on small
    machines (each in-between then reads only its two source frames), up to 4 where many
    threads can feed a GPU."""
    return min(4, threads // 4)


def _spread(clip: vs.VideoNode, num: int, den: int) -> vs.VideoNode:
    """Frame ``n`` of the result is ``clip[n·den // num]``: source frames aligned with output
    frames, built natively so it costs nothing per frame."""
    core = vs.core
    out = core.std.Interleave([clip] * num) if num > 1 else clip
    return core.std.SelectEvery(out, cycle=den, offsets=0) if den > 1 else out


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


def _memory_hint(exc: BaseException) -> str:
    """Advice appended to an out-of-memory error: what lowers the peak."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError | MemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    ):
        return (" -- out of memory: lower it with tile_size=512, flow_scale=0.5 (or 0.25 "
                "for 4K), corr='bounded', or fewer parallel frames (core.num_threads)")
    return ""


class Graph:
    """The node graph of one ``interpolate`` call. Nodes that only some frames need (the
    interpolation between source offsets ``da`` and ``db``, pass-through of offset ``d``)
    are made on first use and kept."""

    def __init__(
        self, clip: vs.VideoNode, retime: Retiming, eng: Engine, *, sc: bool,
        sc_threshold: float, dedup_threshold: float | None, max_hold: int,
        lookahead: int | None = None,
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

        self.pair_stats = stats
        threads = max(1, core.num_threads)
        self.lookahead = default_lookahead(threads) if lookahead is None else lookahead
        self.frame_cache: OnceCache[Any] = OnceCache(max(3, threads + 1) + self.lookahead)
        self.pair_cache: OnceCache[Any] = OnceCache(max(2, threads) + self.lookahead)
        self.pool = ThreadPoolExecutor(max(1, self.lookahead),
                                       thread_name_prefix="vsanimeinterp-ahead")
        weakref.finalize(self, self.pool.shutdown, wait=False, cancel_futures=True)
        self._nodes: dict[tuple, vs.VideoNode] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _quietly(fn: Any, *args: Any) -> None:
        # Work done ahead is a guess: if it fails, the frame that needs it computes it again
        # in the callback and reports the error there, with its frame number.
        try:
            fn(*args)
        except Exception:
            pass

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
        # Ahead-of-time work is for the ordinary pair (k, k+1) only: a retimed (dedup) pair's
        # successor is not known before its facts are read.
        ahead = self.lookahead if (da, db) == (0, 1) else 0
        extra = [self._spread(_shift(self.work, j + 1)) for j in range(1, ahead + 1)]
        facts_clips = [self._spread(_shift(self.pair_stats, j)) for j in range(1, ahead + 1)]

        def prep(frame: vs.VideoFrame) -> Any:
            img = frame_to_array(frame)
            if planes == 1:
                img = np.repeat(img, 3, axis=0)
            return eng.prepare_frame(img)

        def pair_of(a: int, b: int, frame_a: vs.VideoFrame, frame_b: vs.VideoFrame) -> Any:
            fa = self.frame_cache.get(a, lambda: prep(frame_a))
            fb = self.frame_cache.get(b, lambda: prep(frame_b))
            return self.pair_cache.get((a, b), lambda: eng.prepare_pair(fa, fb))

        def schedule_ahead(k: int, f: list[vs.VideoFrame]) -> None:
            # VapourSynth runs Python callbacks one at a time, so without this the engine
            # works on one pair at a time and a GPU waits while SGM runs on the CPU.
            frames = [f[1], *f[2:2 + ahead]]
            stats = f[2 + ahead:]
            for j in range(1, ahead + 1):
                a = k + j
                if a + 1 > self.last or self.pair_cache.has(key := (a, a + 1)):
                    continue
                facts = _PairFacts(stats[j - 1:j], a, self.planes, self.clip.format.num_planes,
                                   self.sc, self.sc_threshold, 0.0)
                if facts.cut(a) or facts.identical(a):
                    continue  # passed through, never interpolated
                self.pool.submit(self._quietly, pair_of, key[0], key[1], frames[j - 1],
                                 frames[j])

        def render(n: int, f: list[vs.VideoFrame]) -> vs.VideoFrame:
            k, t0 = retime.position(n)
            a, b = k + da, k + db
            t = (k + t0 - a) / (b - a)
            try:
                if ahead:
                    schedule_ahead(k, f)
                pair = pair_of(a, b, f[0], f[1])
                out = eng.render(pair, float(t))
                if planes == 1:
                    out = out.mean(axis=0, keepdims=True)
                return array_to_frame(out, f[0])
            except Exception as exc:
                raise vs.Error(
                    f"{FUNC}: frame {n} (source frames {a}-{b}, t={float(t):.4f}): "
                    f"{type(exc).__name__}: {exc}{_memory_hint(exc)}"
                ) from exc

        raw = core.std.ModifyFrame(work_a, [work_a, work_b, *extra, *facts_clips], render)
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
