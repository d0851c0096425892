"""``python -m vsanimeinterp evaluate DIR``: the AnimeInterp paper's protocol on a triplet set.

The set is in ATD-12K layout: one folder per triplet, ``DIR/<name>/frame1.*``, ``frame2.*``,
``frame3.*``, with optional annotations (:mod:`vsanimeinterp.evaluation.dataset`). Frame2 is
predicted from frames 1 and 3 through the public filter, as users get it
(:class:`vsanimeinterp.evaluation.predictors.InterpolatePredictor`): one ``interpolate()``
call serves all triplets of a frame size, so the network is loaded once. PSNR, SSIM and IE
(:mod:`vsanimeinterp.metrics`) are reported on the whole frame and on the motion RoI,
overall and per level, in ``OUT/results.csv``, ``results.json``, ``summary.md`` and as
pictures of the worst cases in ``OUT/worst`` (:mod:`vsanimeinterp.evaluation.report`).

The evaluation code is imported when the command runs, so that building the command line
stays cheap.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..metrics import SSIM_VARIANTS
from .common import (
    CommandError,
    add_engine_arguments,
    engine_kwargs,
    positive_int,
    resolved_engine,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``evaluate``."""
    parser.add_argument("dir", metavar="DIR", type=Path,
                        help="triplet set: DIR/<name>/frame1.*, frame2.*, frame3.*")
    parser.add_argument("--annotations", metavar="ANN", type=Path,
                        help="annotation folder (ATD-12K's test_2k_annotations); "
                        "default: look beside the triplets")
    parser.add_argument("--out", "-o", metavar="OUT", type=Path, default=Path("evaluation"),
                        help="folder for results.csv, results.json, summary.md and worst/ "
                        "(default: %(default)s)")
    parser.add_argument("--worst", type=int, default=5, metavar="N",
                        help="draw the N lowest-PSNR triplets into OUT/worst (default: 5)")
    parser.add_argument("--baseline", action="append", choices=("blend",), default=[],
                        help="also score this baseline on every triplet (blend: mean of "
                        "frames 1 and 3)")
    parser.add_argument("--ssim", choices=SSIM_VARIANTS, default="paper",
                        help="paper: Gaussian SSIM as in the paper (default); authors-script: "
                        "what the authors' test script computed (see the README)")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="only the first N triplets (by name)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add_engine_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """``evaluate``: find the triplets, predict, score, write the reports, print the table."""
    from ..evaluation.dataset import find_triplets
    from ..evaluation.predictors import InterpolatePredictor, blend_predictor
    from ..evaluation.protocol import evaluate
    from ..evaluation.report import markdown_summary, write_reports

    if args.worst < 0:
        raise CommandError(f"--worst must be 0 or more, got {args.worst}")
    triplets = find_triplets(args.dir, args.annotations)
    if args.limit is not None:
        triplets = triplets[: args.limit]
    import vapoursynth as vs

    engine = resolved_engine(args.engine, args.checkpoint)
    predictor = InterpolatePredictor(len(triplets), **engine_kwargs(args))
    baselines = {"blend": blend_predictor} if "blend" in args.baseline else {}
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} exists and is not a directory")
    try:
        result = evaluate(
            triplets, predictor, method=f"vsanimeinterp ({engine})", baselines=baselines,
            ssim_variant=args.ssim, worst=args.worst, worst_dir=out / "worst",
            progress=not args.quiet,
        )
    except vs.Error as exc:
        raise CommandError(str(exc)) from None
    write_reports(result, out, args.dir)
    print(markdown_summary(result, args.dir), end="")
    print(f"\nwrote {out / 'results.csv'}, {out / 'results.json'}, {out / 'summary.md'}"
          + (f" and {min(args.worst, len(triplets))} pictures in {out / 'worst'}"
             if args.worst else ""))
    return 0
