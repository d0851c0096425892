"""``python -m vsanimeinterp make-testset DIR``: a generated triplet set in ATD-12K layout.

ATD-12K (the AnimeInterp paper's data set) stores each test triplet as a folder of three
frames, ``<name>/frame1.png``, ``frame2.png``, ``frame3.png`` (frame2 is the true middle), and
its annotation in a separate tree as ``<name>/<name>.json``. The fields the authors' test
script reads are ``image_size`` (``[width, height]`` of the frames the annotation was drawn
on), ``motion_RoI`` (``{"x", "y", "width", "height"}`` in pixels of that size) and ``level``
(0 easy, 1 medium, 2 hard).

The generated set has the same frames and fields, from :func:`vsanimeinterp.synthetic.
make_triplets` (so the motion is exactly known), with the annotation next to its folder as
``DIR/<name>.json``; ``evaluate`` finds annotations in either place. How a generated
triplet's ``motion_RoI`` and ``level`` are derived is described in
:mod:`vsanimeinterp.evaluation.annotation`.

Importing this module is cheap; the generator and the annotation rules are imported when a
set is made.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import CommandError, frame_size, positive_int


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

    from ..evaluation.annotation import LEVELS, annotate
    from ..metrics import to_uint8
    from ..synthetic import make_triplets

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
            "level_name": LEVELS[ann.level],
            "generator": {
                "module": "vsanimeinterp.synthetic.make_triplets",
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
    from ..evaluation.annotation import LEVELS

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
    spread = ", ".join(f"{n} {LEVELS[i]}" for i, n in enumerate(levels))
    print(f"wrote {len(names)} triplets ({width}x{height}; {spread}) to {root}")
    return 0
