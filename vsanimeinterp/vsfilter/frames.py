"""Where frames enter and leave: VapourSynth frames ↔ numpy arrays, numpy ↔ clips.

:func:`clip_from_planes` is the one place numpy arrays become a clip's frames; everything that
makes a clip from arrays (:func:`clip_from_arrays`, ``bench``, ``evaluate``, the tools) goes
through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import vapoursynth as vs

from ..metrics import to_uint8
from .colour import RANGE_LIMITED, default_matrix, to_working


def frame_to_array(frame: vs.VideoFrame) -> np.ndarray:
    """A GRAYS/RGBS frame as a C×H×W float32 array (a copy; C = 1 or 3, values 0..1)."""
    return np.stack([np.asarray(frame[p]) for p in range(frame.format.num_planes)]).astype(
        np.float32, copy=False
    )


def array_to_frame(array: np.ndarray, template: vs.VideoFrame) -> vs.VideoFrame:
    """Write a C×H×W float array into a copy of ``template`` (a GRAYS/RGBS frame)."""
    out = template.copy()
    for p in range(out.format.num_planes):
        np.copyto(np.asarray(out[p]), array[p], casting="same_kind")
    return out


def clip_from_planes(
    planes: Callable[[int], Sequence[np.ndarray]],
    *,
    width: int,
    height: int,
    length: int,
    format: int,  # the VapourSynth keyword
    fps_num: int = 24000,
    fps_den: int = 1001,
    props: Mapping[str, Any] | None = None,
) -> vs.VideoNode:
    """A clip whose frame n is copied from the arrays ``planes(n)`` when it is requested.

    Args:
        planes: frame number → that frame's planes in ``format``'s order and sample type,
            each H×W at its plane's size (chroma planes subsampled as ``format`` says). It is
            called from VapourSynth's threads, as late as the frame is requested, so it may
            hand out frames that did not exist when the clip was made.
        width, height: frame size in pixels; length: number of frames.
        format: a VapourSynth format id (``vs.YUV420P8``, ``vs.RGBS``, ...).
        fps_num, fps_den: frame rate.
        props: frame props every frame carries (``_Matrix``, ``_Range``, ...).

    The arrays are copied with numpy's ``same_kind`` casting (float64 into a float plane
    is fine, float into an integer plane is an error).
    """
    core = vs.core
    blank = core.std.BlankClip(
        width=width, height=height, format=format, length=length, fpsnum=fps_num,
        fpsden=fps_den,
    )
    if props:
        blank = core.std.SetFrameProps(blank, **props)

    def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        for p, plane in enumerate(planes(n)):
            np.copyto(np.asarray(out[p]), plane)
        return out

    return core.std.ModifyFrame(blank, blank, fill)


def clip_from_arrays(
    frames: Sequence[np.ndarray] | np.ndarray,
    fps_num: int = 24000,
    fps_den: int = 1001,
    format: int = vs.RGB24,  # the VapourSynth keyword
    matrix: int | None = None,
) -> vs.VideoNode:
    """A clip from N×H×W×3 RGB frames in [0, 1] (float) or 0..255 (uint8).

    The frames are stored as RGB24 (8-bit, as delivered video would be), then converted to
    ``format``; YUV and GRAY targets use ``matrix`` (default:
    :func:`~vsanimeinterp.vsfilter.colour.default_matrix`, BT.709 for HD, BT.601 for SD) in
    limited range, and the frames carry ``_Matrix`` (YUV) and ``_Range`` so the conversion is
    recorded. Frames already in a clip's format go through :func:`clip_from_planes`.
    """
    core = vs.core
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"clip_from_arrays: expected N×H×W×3 frames, got {arr.shape}")
    if arr.dtype != np.uint8:
        # Scaled in float32 whatever the input precision, so float64 frames keep the 8-bit
        # values they have always had.
        arr = to_uint8(np.asarray(arr, np.float32))
    n, h, w, _ = arr.shape
    rgb = clip_from_planes(
        lambda i: [arr[i, :, :, p] for p in range(3)], width=w, height=h, length=n,
        format=vs.RGB24, fps_num=fps_num, fps_den=fps_den,
    )
    target = core.get_video_format(format)
    if target.id == vs.RGB24:
        return rgb
    if target.color_family in (vs.YUV, vs.GRAY):
        m = default_matrix(w, h) if matrix is None else matrix
        out = core.resize.Bicubic(rgb, format=target.id, matrix=m, range=RANGE_LIMITED)
        if target.color_family == vs.GRAY:
            return core.std.SetFrameProps(out, _Range=RANGE_LIMITED)
        return core.std.SetFrameProps(out, _Matrix=m, _Range=RANGE_LIMITED)
    return core.resize.Bicubic(rgb, format=target.id)


def clip_to_arrays(clip: vs.VideoNode) -> np.ndarray:
    """All frames of a clip as N×H×W×C float32 in [0, 1], converted as the filter converts
    (C = 3, or 1 for GRAY)."""
    work = to_working(clip)
    planes = work.format.num_planes
    out = np.empty((clip.num_frames, clip.height, clip.width, planes), np.float32)
    for i, f in enumerate(work.frames(close=True)):
        out[i] = np.stack([np.asarray(f[p]) for p in range(planes)], axis=-1)
    return out
