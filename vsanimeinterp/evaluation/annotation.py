"""ATD-12K annotations: difficulty levels, and the motion RoI and level of a generated triplet.

ATD-12K codes ``level`` as 0 easy, 1 medium, 2 hard (:data:`LEVELS`); annotations written by
hand may spell it out, which :func:`level_name` accepts too.

For a generated triplet (:class:`vsanimeinterp.synthetic.CartoonTriplet`), :func:`annotate`
derives what an annotator would have drawn:

* ``motion_RoI`` is the bounding box of every pixel that shows a moving character in any of
  the three frames (the pan of the background alone does not count), padded by
  :data:`ROI_PAD` pixels and at least :data:`ROI_MIN` × :data:`ROI_MIN`; the whole frame when
  no character is in view;
* ``level`` comes from the motion magnitude: the mean length of the true motion from frame1
  to frame3 over the character pixels of frame1 (over all pixels when there are none), as a
  fraction of the frame width: below 4.5 % easy, below 6.5 % medium, else hard
  (:data:`LEVEL_BOUNDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..synthetic import CartoonTriplet

#: Level names by ATD-12K's code (0, 1, 2), as the authors' test script reads ``level``.
LEVELS = ("easy", "medium", "hard")
_LEVEL_ALIASES = {"0": "easy", "easy": "easy", "1": "medium", "mid": "medium",
                  "medium": "medium", "2": "hard", "hard": "hard"}
#: Motion (fraction of the frame width, frame1 → frame3) where medium and hard begin.
LEVEL_BOUNDS = (0.045, 0.065)
#: Padding (pixels) around the characters' box, and the smallest RoI side: SSIM's 11-pixel
#: Gaussian window must fit inside the RoI.
ROI_PAD = 4
ROI_MIN = 16


@dataclass(frozen=True)
class Annotation:
    """What ``make-testset`` records about one triplet.

    Attributes:
        roi: motion RoI ``(x, y, width, height)`` in pixels.
        level: 0 easy, 1 medium, 2 hard.
        motion: mean motion frame1 → frame3 of the character pixels, fraction of the width.
    """

    roi: tuple[int, int, int, int]
    level: int
    motion: float


def level_name(value: object) -> str | None:
    """The name in :data:`LEVELS` of an annotation's ``level`` (0/1/2, ``"easy"``,
    ``"mid"``/``"medium"``, ``"hard"``, any case, as number or string); None if it is none
    of these."""
    return _LEVEL_ALIASES.get(str(value).strip().lower())


def level_of(motion: float) -> int:
    """Difficulty level (0 easy, 1 medium, 2 hard) of a motion given as a fraction of the
    frame width (see the module docstring)."""
    return 0 if motion < LEVEL_BOUNDS[0] else 1 if motion < LEVEL_BOUNDS[1] else 2


def motion_roi(mask: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """Padded bounding box ``(x, y, w, h)`` in pixels of a boolean H×W mask, at least
    :data:`ROI_MIN` on each side (where the frame allows) and kept inside the frame; the
    whole frame if the mask is empty."""
    if not mask.any():
        return (0, 0, width, height)
    ys, xs = np.nonzero(mask)
    x0, x1 = int(xs.min()) - ROI_PAD, int(xs.max()) + 1 + ROI_PAD
    y0, y1 = int(ys.min()) - ROI_PAD, int(ys.max()) + 1 + ROI_PAD

    def grow(lo: int, hi: int, size: int) -> tuple[int, int]:
        # Grow a short side evenly to ROI_MIN, then slide it back inside [0, size).
        short = max(0, min(ROI_MIN, size) - (hi - lo))
        lo, hi = lo - short // 2, hi + short - short // 2
        shift = max(0, -lo) - max(0, hi - size)
        return max(0, lo + shift), min(size, hi + shift)

    x0, x1 = grow(x0, x1, width)
    y0, y1 = grow(y0, y1, height)
    return (x0, y0, x1 - x0, y1 - y0)


def annotate(triplet: CartoonTriplet) -> Annotation:
    """Motion RoI and difficulty of a generated triplet (see the module docstring)."""
    scene = triplet.scene
    times = (triplet.time0, triplet.time0 + triplet.gap / 2, triplet.time0 + triplet.gap)
    ids = [scene.layer_ids(t) for t in times]
    moving = (ids[0] > 0) | (ids[1] > 0) | (ids[2] > 0)
    h, w = moving.shape
    magnitude = np.linalg.norm(triplet.flow01, axis=2)
    chars = ids[0] > 0
    mean = float(magnitude[chars].mean() if chars.any() else magnitude.mean())
    motion = mean / w
    return Annotation(motion_roi(moving, w, h), level_of(motion), motion)
