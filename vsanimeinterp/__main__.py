"""Command line of vsanimeinterp: ``python -m vsanimeinterp <command> ...``.

Each subcommand is a :class:`Subcommand` (a function adding its arguments and a function
running it) listed once in :data:`SUBCOMMANDS`. Run functions import what they need
themselves, so that ``--help`` or ``download`` never pay for loading torch or VapourSynth.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vsanimeinterp import checkpoints
from vsanimeinterp.cli.common import CommandError

__all__ = ["SUBCOMMANDS", "CommandError", "Subcommand", "build_parser", "main"]


@dataclass(frozen=True)
class Subcommand:
    """A ``python -m vsanimeinterp`` subcommand."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _module_command(name: str, module: str, help: str) -> Subcommand:
    """A subcommand whose ``add_arguments(parser)`` and ``run(args)`` live in
    ``vsanimeinterp.<module>``; those modules import VapourSynth and torch only in ``run``."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        importlib.import_module(f"vsanimeinterp.{module}").add_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(f"vsanimeinterp.{module}").run(args)

    return Subcommand(name, help, add_arguments, run)


SUBCOMMANDS: tuple[Subcommand, ...] = (
    _module_command(
        "download", "cli.download",
        "download the official pre-trained checkpoint (anime_interp_full.ckpt)",
    ),
    _module_command(
        "video", "cli.video",
        "interpolate a video file and encode it with ffmpeg, keeping its audio",
    ),
    _module_command(
        "bench", "cli.bench",
        "speed and memory of the engines next to frame blending and MVTools",
    ),
    _module_command(
        "evaluate", "cli.evaluate",
        "the paper's PSNR/SSIM/IE protocol on a triplet set in ATD-12K layout",
    ),
    _module_command(
        "profile", "cli.profile",
        "seconds per stage and peak memory of one in-between, per engine, device and size",
    ),
    _module_command(
        "inspect", "cli.inspect",
        "pictures of SGM's segmentation, piece matches and flows for one frame pair",
    ),
    _module_command(
        "make-testset", "cli.make_testset",
        "write a generated triplet set, or one cut from footage, in ATD-12K layout (for evaluate)",
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with one sub-parser per entry of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="vsanimeinterp",
        description="AnimeInterp (CVPR 2021) frame interpolation for VapourSynth.",
        epilog=(
            f"Checkpoint lookup: ${checkpoints.CHECKPOINT_ENV} names a checkpoint file; "
            f"downloads go to ${checkpoints.HOME_ENV} if set, else the per-user cache "
            f"({checkpoints.cache_dir()})."
        ),
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True
    for command in SUBCOMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args._run(args)
    except (CommandError, OSError) as exc:
        print(f"vsanimeinterp {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"vsanimeinterp {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
