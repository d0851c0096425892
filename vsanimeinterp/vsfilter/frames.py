"""Where frames enter and leave: VapourSynth frames ↔ numpy arrays, numpy ↔ clips."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import vapoursynth as vs


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


def clip_from_arrays(
    frames: Sequence[np.ndarray] | np.ndarray,
    fps_num: int = 24000,
    fps_den: int = 1001,
    format: int = vs.RGB24,  # the VapourSynth keyword
    matrix: int | None = None,
) -> vs.VideoNode:
    """A clip from N×H×W×3 RGB frames in [0, 1] (float) or 0..255 (uint8).

    The frames are stored as RGB24 (8-bit, as delivered video would be), then converted to
    ``format``; YUV targets use ``matrix`` (default: BT.709 for HD, BT.601 for SD) in limited
    range, and the frames carry ``_Matrix``/``_Range`` so the conversion is recorded.
    """
    core = vs.core
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"clip_from_arrays: expected N×H×W×3 frames, got {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(np.rint(np.asarray(arr, np.float32) * 255.0), 0, 255).astype(np.uint8)
    n, h, w, _ = arr.shape
    blank = core.std.BlankClip(
        width=w, height=h, format=vs.RGB24, length=n, fpsnum=fps_num, fpsden=fps_den
    )

    def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        for p in range(3):
            np.copyto(np.asarray(out[p]), arr[n, :, :, p])
        return out

    rgb = core.std.ModifyFrame(blank, blank, fill)
    target = core.get_video_format(format)
    if target.id == vs.RGB24:
        return rgb
    if target.color_family == vs.YUV:
        from .colour import default_matrix

        m = default_matrix(w, h) if matrix is None else matrix
        yuv = core.resize.Bicubic(rgb, format=target.id, matrix=m, range=0)
        return core.std.SetFrameProps(yuv, _Matrix=m, _Range=0)
    if target.color_family == vs.GRAY:
        from .colour import default_matrix

        m = default_matrix(w, h) if matrix is None else matrix
        gray = core.resize.Bicubic(rgb, format=target.id, matrix=m, range=0)
        return core.std.SetFrameProps(gray, _Range=0)
    return core.resize.Bicubic(rgb, format=target.id)


def clip_to_arrays(clip: vs.VideoNode) -> np.ndarray:
    """All frames of a clip as N×H×W×C float32 in [0, 1], converted as the filter converts
    (C = 3, or 1 for GRAY)."""
    from .colour import to_working

    work = to_working(clip)
    planes = work.format.num_planes
    out = np.empty((clip.num_frames, clip.height, clip.width, planes), np.float32)
    for i, f in enumerate(work.frames(close=True)):
        out[i] = np.stack([np.asarray(f[p]) for p in range(planes)], axis=-1)
    return out
