"""``python -m vsanimeinterp make-testset DIR``: a generated triplet set in ATD-12K layout.

ATD-12K (the AnimeInterp paper's data set) stores each test triplet as a folder of three
frames, ``<name>/frame1.png``, ``frame2.png``, ``frame3.png`` (frame2 is the true middle), and
its annotation in a separate tree as ``<name>/<name>.json``. The fields the authors' test
script reads are ``image_size`` (``[width, height]`` of the frames the annotation was drawn
on), ``motion_RoI`` (``{"x", "y", "width", "height"}`` in pixels of that size) and ``level``
(0 easy, 1 medium, 2 hard).

The generated set has the same frames and fields, from :func:`vsanimeinterp.synthetic.cartoon.
make_triplets` (so the motion is exactly known), with the annotation next to its folder as
``DIR/<name>.json``; ``evaluate`` finds annotations in either place. For a generated triplet:

* ``motion_RoI`` is the bounding box of every pixel that shows a moving character in any of
  the three frames (the pan of the background alone does not count), padded by 4 pixels and at
  least 16×16; the whole frame when no character is in view;
* ``level`` comes from the motion magnitude: the mean length of the true motion from frame1
  to frame3 over the character pixels of frame1 (over all pixels when there are none), as a
  fraction of the frame width: below 4.5 % easy, below 6.5 % medium, else hard.

Importing this module is cheap; the generator is imported when a set is made.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import CommandError, frame_size, positive_int

#: ATD-12K's coding of ``level``, as the authors' test script reads it.
LEVEL_NAMES = ("easy", "medium", "hard")
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


def level_of(motion: float) -> int:
    """Difficulty level (0 easy, 1 medium, 2 hard) of a motion given as a fraction of the
    frame width (see the module docstring)."""
    return 0 if motion < LEVEL_BOUNDS[0] else 1 if motion < LEVEL_BOUNDS[1] else 2


def _roi(mask: Any, width: int, height: int) -> tuple[int, int, int, int]:
    """Padded bounding box ``(x, y, w, h)`` of a boolean H×W mask, whole frame if empty."""
    import numpy as np

    if not mask.any():
        return (0, 0, width, height)
    ys, xs = np.nonzero(mask)
    x0, x1 = int(xs.min()) - ROI_PAD, int(xs.max()) + 1 + ROI_PAD
    y0, y1 = int(ys.min()) - ROI_PAD, int(ys.max()) + 1 + ROI_PAD

    def grow(lo: int, hi: int, size: int) -> tuple[int, int]:
        short = max(0, min(ROI_MIN, size) - (hi - lo))
        lo, hi = lo - short // 2, hi + short - short // 2
        shift = max(0, -lo) - max(0, hi - size)
        return max(0, lo + shift), min(size, hi + shift)

    x0, x1 = grow(x0, x1, width)
    y0, y1 = grow(y0, y1, height)
    return (x0, y0, x1 - x0, y1 - y0)


def annotate(triplet: Any) -> Annotation:
    """Motion RoI and difficulty of a :class:`vsanimeinterp.synthetic.cartoon.Triplet`."""
    import numpy as np

    scene = triplet.scene
    times = (triplet.time0, triplet.time0 + triplet.gap / 2, triplet.time0 + triplet.gap)
    ids = [scene.layer_ids(t) for t in times]
    moving = (ids[0] > 0) | (ids[1] > 0) | (ids[2] > 0)
    h, w = moving.shape
    magnitude = np.linalg.norm(triplet.flow01, axis=2)
    chars = ids[0] > 0
    mean = float(magnitude[chars].mean() if chars.any() else magnitude.mean())
    motion = mean / w
    return Annotation(_roi(moving, w, h), level_of(motion), motion)


def _gap(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of frames, got {text!r}") from None
    if not 0 < value <= 8:
        raise argparse.ArgumentTypeError(f"must be in (0, 8] frames, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``make-testset``."""
    parser.add_argument("dir", metavar="DIR", type=Path, help="folder to write the set into")
    parser.add_argument(
        "--count", type=positive_int, default=24, help="number of triplets (default: %(default)s)"
    )
    parser.add_argument(
        "--size", type=frame_size, default=(960, 540), metavar="WxH",
        help="frame size in pixels (default: 960x540, as ATD-12K's test_2k_540p)",
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default: 0)")
    parser.add_argument(
        "--gap", type=_gap, default=1.0, metavar="FRAMES",
        help="time from frame1 to frame3 in source frames; 2 is a pair of drawings on twos "
        "(twice the motion) (default: %(default)g)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace triplets that already exist in DIR"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def write_testset(
    root: Path, count: int, width: int, height: int, seed: int = 0, gap: float = 1.0,
    overwrite: bool = False, progress: bool = False,
) -> list[str]:
    """Write ``count`` generated triplets under ``root`` (see the module docstring); return
    their names. Frames are 8-bit RGB PNGs of ``width``×``height`` pixels; equal arguments give
    identical files. Raises ``FileExistsError`` if a triplet exists and not ``overwrite``."""
    import cv2
    from tqdm import tqdm

    from ..synthetic.cartoon import make_triplets, to_uint8

    names = [f"gen{seed}_{i:04d}" for i in range(count)]
    if not overwrite:
        for name in names:
            for path in (root / name, root / f"{name}.json"):
                if path.exists():
                    raise FileExistsError(f"{path} exists (use --overwrite to replace it)")
    root.mkdir(parents=True, exist_ok=True)
    # One triplet at a time so that memory stays flat for large sets.
    bar = tqdm(names, desc="make-testset", unit="triplet", disable=not progress)
    for i, name in enumerate(bar):
        # Each triplet is its own scene, seeded so that set `seed` never repeats set `seed+1`.
        triplet_seed = seed * 1_000_003 + i
        (triplet,) = make_triplets(1, width, height, seed=triplet_seed, gap=gap)
        ann = annotate(triplet)
        folder = root / name
        folder.mkdir(exist_ok=True)
        for k, frame in enumerate((triplet.frame0, triplet.frame_mid, triplet.frame1), start=1):
            bgr = cv2.cvtColor(to_uint8(frame), cv2.COLOR_RGB2BGR)
            if not cv2.imwrite(str(folder / f"frame{k}.png"), bgr):
                raise OSError(f"could not write {folder / f'frame{k}.png'}")
        x, y, w, h = ann.roi
        record = {
            "image_size": [width, height],
            "motion_RoI": {"x": x, "y": y, "width": w, "height": h},
            "level": ann.level,
            "level_name": LEVEL_NAMES[ann.level],
            "generator": {
                "module": "vsanimeinterp.synthetic.cartoon.make_triplets",
                "seed": triplet_seed,
                "time0": triplet.time0,
                "gap": gap,
                "motion_fraction_of_width": round(ann.motion, 5),
            },
        }
        (root / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return names


def run(args: argparse.Namespace) -> int:
    """``make-testset``: write the set and print where and what."""
    root: Path = args.dir
    if root.exists() and not root.is_dir():
        raise CommandError(f"{root} exists and is not a directory")
    width, height = args.size
    try:
        names = write_testset(
            root, args.count, width, height, args.seed, args.gap, args.overwrite,
            progress=not args.quiet,
        )
    except FileExistsError as exc:
        raise CommandError(str(exc)) from None
    levels = [0, 0, 0]
    for name in names:
        levels[json.loads((root / f"{name}.json").read_text())["level"]] += 1
    spread = ", ".join(f"{n} {LEVEL_NAMES[i]}" for i, n in enumerate(levels))
    print(f"wrote {len(names)} triplets ({width}x{height}; {spread}) to {root}")
    return 0
