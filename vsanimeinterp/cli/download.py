"""``python -m vsanimeinterp download``: fetch the official checkpoint into the per-user cache.

What happens to the bytes (a ``.part`` file that is resumed, checked and renamed) is
:func:`vsanimeinterp.checkpoints.download_checkpoint`'s; this module is its command line.
Neither imports torch or VapourSynth until a file is verified.
"""

from __future__ import annotations

import argparse

from .. import checkpoints
from .common import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``download``."""
    parser.add_argument(
        "--url",
        default=checkpoints.OFFICIAL_CHECKPOINT_URL,
        help="where to download from (default: the authors' link, %(default)s)",
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="file (or directory) to store it in (default: "
        f"{checkpoints.default_checkpoint_path()})",
    )
    parser.add_argument(
        "--force", action="store_true", help="download again even if the file exists"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="give up when the server is silent this long (default: %(default)g)",
    )
    parser.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="keep the file even if it does not load as a PyTorch state dict",
    )


def run(args: argparse.Namespace) -> int:
    """``download``: fetch the checkpoint (unless present) and say where it is."""
    dest = checkpoints.resolve_destination(args.output)
    # download_checkpoint leaves an existing file alone unless forced; say so, since the
    # user may have expected a fresh copy.
    present = dest.is_file() and not args.force
    try:
        path = checkpoints.download_checkpoint(
            args.url,
            dest,
            progress=not args.quiet,
            force=args.force,
            timeout=args.timeout,
            verify=args.verify,
        )
    except checkpoints.DownloadError as exc:
        # Its message already says what failed and what to do next: one line, no traceback.
        raise CommandError(str(exc)) from None
    if present:
        print(f"checkpoint already present: {path} (use --force to download it again)")
    else:
        print(f"checkpoint saved to {path}")
    return 0
