"""The methods the engines are compared with: frame blending and MVTools FlowFPS.

One recipe each, shared by ``bench``, ``tools/measure_sgm.py`` and the tests, so that every
comparison is against the same baseline:

* :func:`blend_clip`: ``std.Merge`` of the two neighbours with weight *t*;
* :func:`mvtools_clip`: MVTools' motion-compensated FlowFPS as encoders use it,
  ``mv.Super(pel=2)``, backward and forward ``mv.Analyse(blksize=16, overlap=8, search=3)``,
  ``mv.FlowFPS``. MVTools is the optional ``mvtools`` extra
  (``pip install vapoursynth-mvtools``); :func:`has_mvtools` says whether it is loaded.

VapourSynth is imported by the functions, so that importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["blend_clip", "has_mvtools", "mvtools_clip", "mvtools_midpoint"]

# Analyse settings encoders use for FlowFPS: 16-pixel blocks overlapping by half, and
# exhaustive search (3) in the default radius.
_ANALYSE = {"blksize": 16, "overlap": 8, "search": 3}


def has_mvtools() -> bool:
    """Whether VapourSynth has the MVTools plugin (``core.mv``)."""
    import vapoursynth as vs

    return hasattr(vs.core, "mv")


def blend_clip(clip: Any, factor: int) -> Any:
    """Frame blending to ``factor`` × the frame count: between source frames k and k+1,
    ``Merge(k, k+1, weight=i/factor)`` for i = 1..factor-1; the last frame's in-betweens
    repeat it. Any format ``std.Merge`` takes; the frame rate is left as it is."""
    import vapoursynth as vs

    core = vs.core
    following = clip[1:] + clip[-1]
    merged = [core.std.Merge(clip, following, weight=i / factor) for i in range(1, factor)]
    return core.std.Interleave([clip, *merged])


def mvtools_clip(clip: Any, factor: int) -> Any:
    """MVTools FlowFPS to ``factor`` × the frame rate (see the module docstring).

    YUV and GRAY clips are analysed as they are. RGB clips, which MVTools does not take,
    go through YUV 4:4:4 at their own sample type and depth (BT.709, limited range; 4:4:4
    so that chroma subsampling does not blur the comparison) and come back in their format.
    """
    import vapoursynth as vs

    core = vs.core
    rgb = clip.format.color_family == vs.RGB
    if rgb:
        yuv = core.query_video_format(vs.YUV, clip.format.sample_type,
                                      clip.format.bits_per_sample, 0, 0)
        work = core.resize.Bicubic(clip, format=yuv.id, matrix_s="709")
    else:
        work = clip
    sup = core.mv.Super(work, pel=2)
    backward = core.mv.Analyse(sup, isb=True, **_ANALYSE)
    forward = core.mv.Analyse(sup, isb=False, **_ANALYSE)
    out = core.mv.FlowFPS(work, sup, backward, forward,
                          num=clip.fps.numerator * factor, den=clip.fps.denominator)
    return core.resize.Bicubic(out, format=clip.format.id, matrix_in_s="709") if rgb else out


def mvtools_midpoint(frame1: Any, frame2: Any) -> Any:
    """MVTools' in-between at t = 0.5 of two H×W×3 uint8 RGB frames, as H×W×3 uint8 RGB:
    the 2-frame clip through :func:`mvtools_clip` (factor 2), output frame 1."""
    import numpy as np
    import vapoursynth as vs

    from ..vsfilter.frames import clip_from_arrays

    pair = clip_from_arrays([frame1, frame2], fps_num=24, fps_den=1, format=vs.RGB24)
    frame = mvtools_clip(pair, 2).get_frame(1)
    return np.stack([np.asarray(frame[p]) for p in range(3)], axis=2).copy()
