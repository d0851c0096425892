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

With ``--from-video FILE`` the triplets are cut from real footage instead (a video file or a
folder of numbered PNG/JPEG frames): frames ``i``, ``i + gap``, ``i + 2·gap`` every
``--stride`` frames, held drawings and scene cuts left out, the RoI and level estimated from
the frames (:mod:`vsanimeinterp.evaluation.footage`), and the source file and frame numbers
recorded under ``source`` in the annotation.

Importing this module is cheap; the generator and the annotation rules are imported when a
set is made.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from .common import CommandError, frame_size, positive_int


def _gap(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of frames, got {text!r}") from None
    if not 0 < value <= 8:
        raise argparse.ArgumentTypeError(f"must be in (0, 8] frames, got {value}")
    return value


#: Defaults of the options whose default depends on the kind of set.
GENERATED_COUNT = 24
GENERATED_SIZE = (960, 540)
FOOTAGE_STRIDE = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``make-testset``."""
    parser.add_argument("dir", metavar="DIR", type=Path, help="folder to write the set into")
    parser.add_argument(
        "--from-video", type=Path, metavar="FILE",
        help="cut the triplets from real footage instead of generating them: a video file "
        "(read with BestSource) or a folder of numbered PNG/JPEG frames; held drawings and "
        "scene cuts are skipped, RoI and level are estimated from the frames",
    )
    parser.add_argument(
        "--count", type=positive_int,
        help=f"number of triplets (default: {GENERATED_COUNT}; with --from-video the most "
        "to keep, default all)",
    )
    parser.add_argument(
        "--size", type=frame_size, metavar="WxH",
        help="frame size in pixels of a generated set (default: 960x540, as ATD-12K's "
        "test_2k_540p); footage keeps its own size",
    )
    parser.add_argument("--seed", type=int, help="generator seed (default: 0)")
    parser.add_argument(
        "--gap", type=_gap, default=1.0, metavar="FRAMES",
        help="time from frame1 to frame3 in source frames; 2 is a pair of drawings on twos "
        "(twice the motion); with --from-video a whole number: the triplets are frames i, "
        "i+gap, i+2*gap (default: %(default)g)",
    )
    parser.add_argument(
        "--stride", type=positive_int, metavar="FRAMES",
        help=f"with --from-video: frames from one triplet's start to the next "
        f"(default: {FOOTAGE_STRIDE})",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace triplets that already exist in DIR"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _check_free(root: Path, names: list[str], overwrite: bool) -> None:
    if overwrite:
        return
    for name in names:
        for path in (root / name, root / f"{name}.json"):
            if path.exists():
                raise FileExistsError(f"{path} exists (use --overwrite to replace it)")


def _write_frames(folder: Path, frames: list[Any]) -> None:
    """Save H×W×3 RGB frames (uint8, or float in [0, 1]) as ``folder/frame{1,2,3}.png``."""
    import cv2

    from ..metrics import to_uint8

    folder.mkdir(parents=True, exist_ok=True)
    for k, frame in enumerate(frames, start=1):
        bgr = cv2.cvtColor(to_uint8(frame), cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(folder / f"frame{k}.png"), bgr):
            raise OSError(f"could not write {folder / f'frame{k}.png'}")


def _record(width: int, height: int, ann: Any, **extra: Any) -> str:
    """The annotation JSON text of a triplet: the fields ``evaluate`` reads, then ``extra``."""
    from ..evaluation.annotation import LEVELS

    x, y, w, h = ann.roi
    record = {
        "image_size": [width, height],
        "motion_RoI": {"x": x, "y": y, "width": w, "height": h},
        "level": ann.level,
        "level_name": LEVELS[ann.level],
        **extra,
    }
    return json.dumps(record, indent=2) + "\n"


def write_testset(
    root: Path, count: int, width: int, height: int, seed: int = 0, gap: float = 1.0,
    overwrite: bool = False, progress: bool = False,
) -> list[str]:
    """Write ``count`` generated triplets under ``root`` (see the module docstring); return
    their names. Frames are 8-bit RGB PNGs of ``width``×``height`` pixels; equal arguments give
    identical files. Raises ``FileExistsError`` if a triplet exists and not ``overwrite``."""
    from tqdm import tqdm

    from ..evaluation.annotation import annotate
    from ..synthetic import make_triplets

    names = [f"gen{seed}_{i:04d}" for i in range(count)]
    _check_free(root, names, overwrite)
    root.mkdir(parents=True, exist_ok=True)
    # One triplet at a time so that memory stays flat for large sets.
    bar = tqdm(names, desc="make-testset", unit="triplet", disable=not progress)
    for i, name in enumerate(bar):
        # Each triplet is its own scene, seeded so that set `seed` never repeats set `seed+1`.
        triplet_seed = seed * 1_000_003 + i
        (triplet,) = make_triplets(1, width, height, seed=triplet_seed, gap=gap)
        ann = annotate(triplet)
        _write_frames(root / name, [triplet.frame0, triplet.frame_mid, triplet.frame1])
        generator = {
            "module": "vsanimeinterp.synthetic.make_triplets",
            "seed": triplet_seed,
            "time0": triplet.time0,
            "gap": gap,
            "motion_fraction_of_width": round(ann.motion, 5),
        }
        (root / f"{name}.json").write_text(_record(width, height, ann, generator=generator))
    return names


def write_footage_set(
    root: Path, source_path: Path, gap: int = 1, stride: int = FOOTAGE_STRIDE,
    count: int | None = None, overwrite: bool = False, progress: bool = False,
    hold_mean: float | None = None,
) -> tuple[list[str], Any]:
    """Cut triplets from the video file or frame folder ``source_path`` into ``root`` (see
    :mod:`vsanimeinterp.evaluation.footage`): frames ``i, i+gap, i+2·gap`` (source frame
    numbers) every ``stride`` frames, at most ``count`` of them. Returns the names written
    (``<source stem>_<frame1 number>``) and the
    :class:`~vsanimeinterp.evaluation.footage.Selection`. Raises :class:`CommandError` when
    the source cannot be read or yields no triplet, ``FileExistsError`` as
    :func:`write_testset`. ``hold_mean``: see :func:`~vsanimeinterp.evaluation.footage.
    select_triplets` (None: its default)."""
    from tqdm import tqdm

    from ..evaluation import footage

    if hold_mean is None:
        hold_mean = footage.HOLD_MEAN

    source = footage.open_source(source_path)
    candidates = len(range(0, max(0, source.num_frames - 2 * gap), stride))
    with tqdm(total=candidates, desc="make-testset", unit="candidate",
              disable=not progress) as bar:
        chosen = footage.select_triplets(source, gap, stride, count, progress=bar.update,
                                         hold_mean=hold_mean)
    if not chosen.kept:
        raise CommandError(
            f"no usable triplet in {source_path}: of {chosen.held + chosen.cuts} candidate(s), "
            f"{chosen.held} are held drawings and {chosen.cuts} span a scene cut"
            # Footage on twos repeats every drawing: one frame apart, every triplet holds one.
            + ("; for animation on twos try --gap 2" if chosen.held and gap == 1 else "")
        )
    # Folder and file names should be plain whatever the source is called.
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", source.path.stem if source.files is None
                  else source.path.name) or "footage"
    digits = max(4, len(str(source.num_frames - 1)))
    names = [f"{stem}_{t.frames[0]:0{digits}d}" for t in chosen.kept]
    _check_free(root, names, overwrite)
    for name, triplet in zip(names, chosen.kept, strict=True):
        _write_frames(root / name, [source.read(i) for i in triplet.frames])
        origin: dict[str, Any] = {"file": source.path.name, "frames": list(triplet.frames)}
        if source.files is not None:
            origin["frame_files"] = [source.files[i].name for i in triplet.frames]
        estimate = {
            "method": "DIS optical flow frame1 -> frame3, median over the changing pixels",
            "motion_fraction_of_width": round(triplet.annotation.motion, 5),
        }
        (root / f"{name}.json").write_text(
            _record(source.width, source.height, triplet.annotation, source=origin,
                    estimate=estimate)
        )
    return names, chosen


def run(args: argparse.Namespace) -> int:
    """``make-testset``: write the set and print where and what."""
    from ..evaluation.annotation import LEVELS

    root: Path = args.dir
    if root.exists() and not root.is_dir():
        raise CommandError(f"{root} exists and is not a directory")
    try:
        if args.from_video is not None:
            for option, value in (("--size", args.size), ("--seed", args.seed)):
                if value is not None:
                    raise CommandError(f"{option} applies to generated sets, not --from-video")
            if args.gap != int(args.gap):
                raise CommandError(
                    f"--gap must be whole frames with --from-video, got {args.gap:g}"
                )
            names, chosen = write_footage_set(
                root, args.from_video, int(args.gap), args.stride or FOOTAGE_STRIDE, args.count,
                args.overwrite, progress=not args.quiet,
            )
            what = (f" from {args.from_video} (skipped {chosen.held} held, "
                    f"{chosen.cuts} across a cut)")
        else:
            if args.stride is not None:
                raise CommandError("--stride applies only with --from-video")
            width, height = args.size or GENERATED_SIZE
            names = write_testset(
                root, args.count or GENERATED_COUNT, width, height, args.seed or 0, args.gap,
                args.overwrite, progress=not args.quiet,
            )
            what = ""
    except FileExistsError as exc:
        raise CommandError(str(exc)) from None
    levels = [0, 0, 0]
    for name in names:
        record = json.loads((root / f"{name}.json").read_text())
        levels[record["level"]] += 1
    width, height = record["image_size"]
    spread = ", ".join(f"{n} {LEVELS[i]}" for i, n in enumerate(levels))
    print(f"wrote {len(names)} triplets ({width}x{height}; {spread}){what} to {root}")
    return 0
