"""What the command-line tools share: the user-error type, argument types, engine options.

Kept free of heavy imports (VapourSynth, torch) so that building the parser stays instant.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path
from typing import Any

# The choice lists of interpolate(); options.py imports neither VapourSynth nor torch, so
# --help stays instant.
from ..options import DEVICES, ENGINES


class CommandError(Exception):
    """A failure to report to the user as one line on stderr, without a traceback."""


def positive_int(text: str) -> int:
    """argparse type: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_fraction(text: str) -> Fraction:
    """argparse type: a positive rational such as ``2``, ``5/2``, ``60000/1001`` or ``59.94``."""
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"expected a number or a fraction such as 60000/1001, got {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


#: Named frame sizes: 16:9 at the usual heights.
NAMED_SIZES = {"360p": (640, 360), "540p": (960, 540), "720p": (1280, 720),
               "1080p": (1920, 1080), "2160p": (3840, 2160)}


def frame_size(text: str) -> tuple[int, int]:
    """argparse type: ``WIDTHxHEIGHT`` (even, at least 32×32) or a name of
    :data:`NAMED_SIZES` such as ``540p``; returns ``(width, height)`` in pixels."""
    key = text.strip().lower()
    if key in NAMED_SIZES:
        return NAMED_SIZES[key]
    try:
        w, h = (int(p) for p in key.split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 960x540, or one of {', '.join(NAMED_SIZES)}; "
            f"got {text!r}"
        ) from None
    if w < 32 or h < 32 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"size must be even and at least 32x32; got {text!r}")
    return w, h


#: Help of ``--threads``, the same for every command that has it.
THREADS_HELP = ("threads for PyTorch, OpenCV and VapourSynth (default: theirs, one per CPU "
                "core)")


def add_threads_argument(parser: argparse.ArgumentParser | Any) -> None:
    """``--threads N``: how many threads the libraries doing the work may use (see
    :func:`apply_threads`). ``parser`` may also be an argument group."""
    parser.add_argument("--threads", type=positive_int, metavar="N", help=THREADS_HELP)


def apply_threads(threads: int | None, *, vapoursynth: bool = True) -> None:
    """Give PyTorch, OpenCV and (with ``vapoursynth``) VapourSynth ``threads`` threads in
    this process; ``None`` leaves their defaults. Imports them, so call it only where they
    are used anyway (``profile``'s workers run the engines without VapourSynth)."""
    if threads is None:
        return
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    if vapoursynth:
        import vapoursynth as vs

        vs.core.num_threads = threads


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """``--engine``, ``--checkpoint``, ``--device``, ``--device-index``, ``--fp16``: the
    engine options of ``interpolate()``."""
    group = parser.add_argument_group("engine (as vsanimeinterp.interpolate)")
    group.add_argument(
        "--engine", choices=ENGINES, default="auto",
        help="sgm (no weights), animeinterp (the paper's network, needs its checkpoint) or "
        "auto: the network when a checkpoint is found (default: %(default)s)",
    )
    group.add_argument(
        "--checkpoint", metavar="PATH",
        help="anime_interp_full.ckpt (default: $VSANIMEINTERP_CHECKPOINT, else the downloaded "
        "file)",
    )
    group.add_argument(
        "--device", choices=DEVICES, default="auto",
        help="cpu, cuda, or auto: CUDA when PyTorch sees a GPU (default: %(default)s)",
    )
    group.add_argument(
        "--device-index", type=int, default=0, metavar="N", help="which CUDA device (default: 0)"
    )
    group.add_argument(
        "--fp16", action=argparse.BooleanOptionalAction, default=None,
        help="half precision for the network (default: on for CUDA, off for the CPU)",
    )


def engine_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``interpolate()`` keyword arguments of the options added by
    :func:`add_engine_arguments`."""
    return {
        "engine": args.engine,
        "checkpoint": args.checkpoint,
        "device": args.device,
        "device_index": args.device_index,
        "fp16": args.fp16,
    }


def resolved_engine(engine: str, checkpoint: str | None) -> str:
    """The engine ``interpolate(engine=engine, checkpoint=checkpoint)`` runs: ``"auto"``
    becomes ``"animeinterp"`` when a checkpoint is found, else ``"sgm"`` (for labels).
    Raises :class:`CommandError` up front when the network is asked for and no checkpoint
    is found, or a checkpoint path names no file."""
    if engine == "sgm":
        return engine
    from ..checkpoints import find_checkpoint, missing_checkpoint_message

    try:
        found = find_checkpoint(checkpoint)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    if found is None and engine == "animeinterp":
        raise CommandError(f"--engine animeinterp: {missing_checkpoint_message()}")
    return "animeinterp" if found is not None else "sgm"


def open_video(path: Path) -> Any:
    """A video file as a VapourSynth clip through BestSource, with one-line errors for a
    missing plugin or an unreadable file."""
    import vapoursynth as vs

    core = vs.core
    if not hasattr(core, "bs"):
        raise CommandError(
            "reading video needs the BestSource plugin: pip install vapoursynth-bestsource"
        )
    try:
        return core.bs.VideoSource(str(path))
    except vs.Error as exc:
        raise CommandError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
