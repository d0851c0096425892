"""Predictors of the middle frame of a triplet: frame blending, and ``interpolate()``.

A :data:`Predictor` maps ``(triplet index, frame1, frame3)``, frames H×W×3 float32 RGB in
[0, 1], to the predicted frame2 of the same shape and range.

:class:`InterpolatePredictor` goes through the public filter, as users get it: the two frames
become a 2-frame RGBS clip, ``interpolate(clip, factor_num=2, sc=False, <engine options>)``,
and its output frame 1 (t = 0.5) is the prediction (float RGB, clamped to [0, 1]; scene-cut
detection is off because every triplet is one shot). VapourSynth is imported when its clip
is first built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Predictor = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


def blend_predictor(index: int, frame1: np.ndarray, frame3: np.ndarray) -> np.ndarray:
    """Frame blending, the baseline every interpolator must beat: the mean of the two frames
    (H×W×3 float32 RGB in [0, 1])."""
    return (frame1 + frame3) * 0.5


class InterpolatePredictor:
    """Predicts frame2 through ``vsanimeinterp.interpolate`` (see the module docstring).

    Call it as a :data:`Predictor`, once per triplet, with a running ``index``; one clip per
    frame size serves all triplets of that size, so the engine is set up (and a network
    loaded) once.

    Args:
        count: number of triplets (the clip holds frames 1 and 3 of each, in order).
        **kwargs: engine options of ``interpolate()`` (engine, checkpoint, device, ...).
    """

    def __init__(self, count: int, **kwargs: Any) -> None:
        self.count = count
        self.kwargs = kwargs
        self._clips: dict[tuple[int, int], Any] = {}
        self._frames: dict[int, Any] = {}

    def _clip(self, width: int, height: int) -> Any:
        import vapoursynth as vs

        from ..vsfilter.filter import interpolate
        from ..vsfilter.frames import clip_from_planes

        def planes(n: int) -> list[np.ndarray]:
            # Only frames handed to __call__ are requested: frames 2i and 2i+1 of triplet i.
            img = self._frames[n]
            return [img[..., p] for p in range(3)]

        src = clip_from_planes(planes, width=width, height=height, length=2 * self.count,
                               format=vs.RGBS, fps_num=24, fps_den=1)
        return interpolate(src, factor_num=2, sc=False, **self.kwargs)

    def __call__(self, index: int, frame1: np.ndarray, frame3: np.ndarray) -> np.ndarray:
        h, w = frame1.shape[:2]
        clip = self._clips.get((w, h))
        if clip is None:
            clip = self._clips[(w, h)] = self._clip(w, h)
        self._frames = {2 * index: frame1, 2 * index + 1: frame3}
        try:
            # Output frame 4i+1 lies halfway between source frames 2i and 2i+1.
            f = clip.get_frame(4 * index + 1)
        finally:
            self._frames = {}
        return np.stack([np.asarray(f[p]) for p in range(3)], axis=-1).clip(0.0, 1.0)
