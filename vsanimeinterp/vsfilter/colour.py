"""Conversion between the user's clip format and the planar float RGB the engines work in.

The engines see RGB in [0, 1] (the network was trained on sRGB-encoded images, so no
linearisation happens). YUV is converted with the matrix and range the frames declare in
``_Matrix`` / ``_Range``; where a frame leaves them out (or says "unspecified"), the defaults
VapourSynth users expect apply:

* matrix: BT.709 for HD (wider than 1024 or taller than 576 pixels), BT.601 (SMPTE 170M)
  for SD;
* range: limited for YUV and GRAY, full for RGB.

The conversion back uses the same matrix and range frame by frame, so props survive a round
trip. Transfer and primaries are not touched: neither changes in the conversion.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import vapoursynth as vs

MATRIX_RGB = 0
MATRIX_BT709 = 1
MATRIX_UNSPECIFIED = 2
MATRIX_BT601 = 6
RANGE_LIMITED = 0
RANGE_FULL = 1


def default_matrix(width: int, height: int) -> int:
    """BT.709 for HD sizes, BT.601 for SD, as most VapourSynth tools assume."""
    return MATRIX_BT709 if width > 1024 or height > 576 else MATRIX_BT601


def _frame_range(props: vs.FrameProps, family: vs.ColorFamily) -> int:
    if "_Range" in props:
        return int(props["_Range"])
    if "_ColorRange" in props:
        # The deprecated prop counts the other way round: 0 full, 1 limited.
        return RANGE_FULL if int(props["_ColorRange"]) == 0 else RANGE_LIMITED
    return RANGE_FULL if family == vs.RGB else RANGE_LIMITED


def frame_conversion(props: vs.FrameProps, fmt: vs.VideoFormat, width: int, height: int):
    """``(matrix, range)`` the frame with these props is converted with."""
    family = fmt.color_family
    rng = _frame_range(props, family)
    if family != vs.YUV:
        return MATRIX_RGB, rng
    matrix = int(props.get("_Matrix", MATRIX_UNSPECIFIED))
    if matrix in (MATRIX_RGB, MATRIX_UNSPECIFIED, 3):  # 3 is reserved in H.273
        matrix = default_matrix(width, height)
    return matrix, rng


def working_format(clip: vs.VideoNode) -> vs.VideoFormat:
    """GRAYS for GRAY clips, RGBS for everything else."""
    family = vs.GRAY if clip.format.color_family == vs.GRAY else vs.RGB
    return vs.core.query_video_format(family, vs.FLOAT, 32, 0, 0)


def to_working(clip: vs.VideoNode) -> vs.VideoNode:
    """Convert ``clip`` to GRAYS/RGBS in [0, 1] with its frames' matrix and range."""
    core = vs.core
    target = working_format(clip)
    if clip.format.id == target.id:
        return clip
    fmt = clip.format
    if fmt.color_family != vs.YUV and fmt.sample_type == vs.FLOAT:
        # Float RGB/GRAY is already full range; only the precision may change.
        return core.resize.Point(clip, format=target.id)

    def kwargs(matrix: int, rng: int) -> dict[str, int]:
        return {"range_in": rng, "range": RANGE_FULL} | (
            {"matrix_in": matrix} if fmt.color_family == vs.YUV else {})

    blank = core.std.BlankClip(clip, format=target.id, keep=True)
    return _per_frame(clip, target, fmt, clip, kwargs, blank, clip_src=clip)


def from_working(work: vs.VideoNode, like: vs.VideoNode) -> vs.VideoNode:
    """Convert a GRAYS/RGBS clip back to the format of ``like``, frame n with the matrix and
    range of ``like``'s frame n. The result carries ``like``'s frame props."""
    core = vs.core
    fmt = like.format
    if work.format.id == fmt.id:
        return core.std.CopyFrameProps(work, like)
    if fmt.color_family != vs.YUV and fmt.sample_type == vs.FLOAT:
        return core.std.CopyFrameProps(core.resize.Point(work, format=fmt.id), like)

    def kwargs(matrix: int, rng: int) -> dict[str, int]:
        return {"range_in": RANGE_FULL, "range": rng} | (
            {"matrix": matrix} if fmt.color_family == vs.YUV else {})

    blank = core.std.BlankClip(like, keep=True)
    converted = _per_frame(work, fmt, fmt, like, kwargs, blank, clip_src=[work, like])
    return core.std.CopyFrameProps(converted, like)


def _per_frame(
    source: vs.VideoNode, target: vs.VideoFormat, yuv_format: vs.VideoFormat,
    props_clip: vs.VideoNode, kwargs: Callable[[int, int], dict[str, int]],
    blank: vs.VideoNode, clip_src: vs.VideoNode | list[vs.VideoNode],
) -> vs.VideoNode:
    """``source`` resized to ``target`` frame by frame with the matrix and range that
    ``props_clip``'s frame n carries (read as :func:`frame_conversion` reads them for
    ``yuv_format``); one resize node per distinct (matrix, range), made on first use."""
    core = vs.core
    conv: dict[tuple[int, int], vs.VideoNode] = {}
    lock = threading.Lock()

    def select(n: int, f: vs.VideoFrame) -> vs.VideoNode:
        key = frame_conversion(f.props, yuv_format, props_clip.width, props_clip.height)
        with lock:
            node = conv.get(key)
            if node is None:
                node = conv[key] = core.resize.Bicubic(source, format=target.id, **kwargs(*key))
        return node

    return core.std.FrameEval(blank, select, prop_src=props_clip, clip_src=clip_src)
