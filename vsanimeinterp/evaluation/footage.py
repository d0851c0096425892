"""Triplets cut from real footage for ``make-testset --from-video``: reading, choosing, annotating.

A source is a video file (read with BestSource, ``core.bs.VideoSource``, converted to RGB with
the frames' own matrix and range by :func:`vsanimeinterp.vsfilter.colour.to_working`, then
rounded to 8 bits) or a folder of numbered PNG/JPEG frames, in the order of the last number
in their names. A candidate triplet is frames ``i``, ``i + gap``, ``i + 2·gap``; candidates
start every ``stride`` frames. The comparisons that pick candidates are made on thumbnails
:data:`~vsanimeinterp.vsfilter.graph.THUMB_WIDTH` pixels wide in RGB 0..1, like the filter's:

* a **scene cut** anywhere from frame ``i`` to ``i + 2·gap``: some pair of consecutive frames
  differs on average by more than the filter's ``DEFAULT_SC_THRESHOLD``; the middle frame
  would not be an in-between of the other two;
* a **held drawing**: frames 1 and 2, 2 and 3, or 1 and 3 look the same: the
  largest thumbnail difference is at most the filter's ``DEFAULT_DEDUP_THRESHOLD`` (how the
  filter spots repeats), or the mean difference is below :data:`HOLD_MEAN` (repeats under
  grain or compression noise, which lifts the largest difference but hardly the mean).
  Anime on twos holds every drawing for two frames, so ``--gap 2`` keeps its motion.

No true motion exists for footage, so :func:`annotate_frames` estimates what the generated
sets record exactly (same :data:`~.annotation.ROI_PAD`, :data:`~.annotation.ROI_MIN` and
:data:`~.annotation.LEVEL_BOUNDS`, so the levels mean the same motion):

* ``motion_RoI``: the padded bounding box of the pixels that change: some channel differs by
  more than :data:`CHANGE_THRESHOLD` between any two of the three frames, after a 3×3
  opening removes isolated specks of compression noise; the whole frame when none change;
* ``level``: the median length of OpenCV's DIS optical flow from frame 1 to frame 3 over
  those changing pixels (over the RoI when there are none), as a fraction of the width.

Problems the user can fix raise :class:`vsanimeinterp.cli.common.CommandError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..cli.common import CommandError, open_video
from .annotation import Annotation, level_of, motion_roi

#: Extensions of the frames a folder source may hold (any case).
FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg")
#: Mean thumbnail difference (RGB 0..1) below which two frames count as one held drawing.
HOLD_MEAN = 0.002
#: Per-pixel difference (largest of R, G, B; 0..1) above which a pixel counts as changing;
#: about 25 of 255, well above what x264 at usual quality leaves on still areas.
CHANGE_THRESHOLD = 0.1

_NUMBER = re.compile(r"(\d+)(?!.*\d)")


@dataclass
class FrameSource:
    """Frames of a video file or an image folder, read one at a time.

    Attributes:
        path: the file or folder.
        num_frames: how many frames.
        width, height: frame size in pixels.
        read: frame ``i`` as H×W×3 uint8 RGB.
        files: for a folder, the frame files in order; None for a video.
    """

    path: Path
    num_frames: int
    width: int
    height: int
    read: Callable[[int], np.ndarray]
    files: list[Path] | None = None


def _video_source(path: Path) -> FrameSource:
    import vapoursynth as vs

    from ..metrics import to_uint8
    from ..vsfilter.colour import to_working

    clip = open_video(path)
    if clip.format is None or clip.width == 0 or clip.height == 0:
        raise CommandError(f"cannot read {path}: its frame size or format changes")
    work = to_working(clip)

    def read(i: int) -> np.ndarray:
        try:
            frame = work.get_frame(i)
        except vs.Error as exc:
            raise CommandError(f"cannot read frame {i} of {path}: {exc}") from None
        planes = [np.asarray(frame[p]) for p in range(frame.format.num_planes)]
        rgb = np.stack(planes * 3 if len(planes) == 1 else planes, axis=-1)
        return to_uint8(rgb)

    return FrameSource(path, clip.num_frames, clip.width, clip.height, read)


def _folder_source(path: Path) -> FrameSource:
    numbered = []
    for p in path.iterdir():
        match = _NUMBER.search(p.stem)
        if p.is_file() and p.suffix.lower() in FRAME_EXTENSIONS and match:
            numbered.append((int(match.group(1)), p.name, p))
    if not numbered:
        raise CommandError(f"no numbered PNG or JPEG frames in {path}")
    files = [p for _, _, p in sorted(numbered)]

    def load(i: int) -> np.ndarray:
        bgr = cv2.imread(str(files[i]), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CommandError(f"cannot read image {files[i]}")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    first = load(0)
    height, width = first.shape[:2]

    def read(i: int) -> np.ndarray:
        rgb = first if i == 0 else load(i)
        if rgb.shape[:2] != (height, width):
            raise CommandError(
                f"{files[i]} is {rgb.shape[1]}x{rgb.shape[0]}, the first frame {width}x{height}"
            )
        return rgb

    return FrameSource(path, len(files), width, height, read, files)


def open_source(path: Path) -> FrameSource:
    """The video file or numbered-frame folder at ``path`` (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise CommandError(f"{path} does not exist")
    return _folder_source(path) if path.is_dir() else _video_source(path)


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 → float32 thumbnail THUMB_WIDTH wide (even height, as the filter's)."""
    from ..vsfilter.graph import THUMB_WIDTH

    h, w = rgb.shape[:2]
    th = max(2, round(THUMB_WIDTH * h / w / 2) * 2)
    return cv2.resize(rgb, (THUMB_WIDTH, th), interpolation=cv2.INTER_AREA).astype(
        np.float32
    ) / 255


def _held(a: np.ndarray, b: np.ndarray, hold_mean: float) -> bool:
    from ..vsfilter.filter import DEFAULT_DEDUP_THRESHOLD

    diff = np.abs(a - b)
    return float(diff.max()) <= DEFAULT_DEDUP_THRESHOLD or float(diff.mean()) < hold_mean


def _cut(a: np.ndarray, b: np.ndarray) -> bool:
    from ..vsfilter.filter import DEFAULT_SC_THRESHOLD

    return float(np.abs(a - b).mean()) > DEFAULT_SC_THRESHOLD


def annotate_frames(f1: np.ndarray, f2: np.ndarray, f3: np.ndarray) -> Annotation:
    """Estimated motion RoI and level of a footage triplet (H×W×3 uint8 RGB frames; see the
    module docstring); ``motion`` is the median flow length, fraction of the width."""
    h, w = f1.shape[:2]
    limit = CHANGE_THRESHOLD * 255
    frames = [f.astype(np.int16) for f in (f1, f2, f3)]
    changed = np.zeros((h, w), bool)
    for a, b in ((0, 2), (0, 1), (1, 2)):
        changed |= np.abs(frames[a] - frames[b]).max(axis=2) > limit
    changed = cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3))) > 0
    x, y, rw, rh = roi = motion_roi(changed, w, h)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (f1, f3)]
    flow = dis.calc(grey[0], grey[1], None)
    length = np.linalg.norm(flow, axis=2)
    inside = length[changed] if changed.any() else length[y : y + rh, x : x + rw]
    motion = float(np.median(inside)) / w
    return Annotation(roi, level_of(motion), motion)


@dataclass(frozen=True)
class FootageTriplet:
    """A kept triplet: the source frame numbers of frames 1, 2, 3 and their annotation."""

    frames: tuple[int, int, int]
    annotation: Annotation


@dataclass
class Selection:
    """What :func:`select_triplets` found: the kept triplets and how many candidates were
    dropped for each reason."""

    kept: list[FootageTriplet]
    held: int = 0
    cuts: int = 0


def select_triplets(
    source: FrameSource, gap: int = 1, stride: int = 8, count: int | None = None,
    progress: Callable[[], object] | None = None, hold_mean: float = HOLD_MEAN,
) -> Selection:
    """Candidates ``i, i+gap, i+2·gap`` for ``i = 0, stride, 2·stride, ...``, held drawings and
    scene cuts dropped, the first ``count`` (all when None) others annotated. ``progress``,
    if given, is called once per candidate looked at. ``hold_mean`` is the mean-difference
    test of held drawings (see the module docstring); 0 keeps only the largest-difference
    test, for lossless sources where nearly static shots are wanted. Raises
    :class:`CommandError` when the source has fewer than ``2·gap + 1`` frames."""
    span = 2 * gap
    if source.num_frames < span + 1:
        raise CommandError(
            f"{source.path} has {source.num_frames} frame(s); a triplet with --gap {gap} "
            f"needs {span + 1}"
        )
    thumbs: dict[int, np.ndarray] = {}
    full: dict[int, np.ndarray] = {}

    def frame(i: int) -> np.ndarray:
        if i not in full:
            full[i] = source.read(i)
        return full[i]

    def thumb(i: int) -> np.ndarray:
        if i not in thumbs:
            thumbs[i] = _thumbnail(frame(i))
        return thumbs[i]

    result = Selection([])
    for start in range(0, source.num_frames - span, stride):
        if count is not None and len(result.kept) >= count:
            break
        if progress is not None:
            progress()
        # Forget frames behind this candidate: memory stays at about one span of frames.
        for cache in (full, thumbs):
            for old in [k for k in cache if k < start]:
                del cache[old]
        idx = (start, start + gap, start + span)
        if any(_cut(thumb(k), thumb(k + 1)) for k in range(start, start + span)):
            result.cuts += 1
        elif any(_held(thumb(idx[a]), thumb(idx[b]), hold_mean)
                 for a, b in ((0, 1), (1, 2), (0, 2))):
            result.held += 1
        else:
            ann = annotate_frames(*(frame(k) for k in idx))
            result.kept.append(FootageTriplet(idx, ann))
    return result
