"""The evaluation loop: load each triplet, predict frame2, score it and its baselines, keep
the worst cases for pictures."""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..cli.common import CommandError
from ..metrics import SSIM_VARIANTS, score
from .dataset import TripletFiles, load_image
from .predictors import Predictor
from .report import Evaluation, WorstCase, mean_finite, metric_keys, summarize, write_worst


def evaluate(
    triplets: Sequence[TripletFiles],
    predictor: Predictor,
    *,
    method: str = "method",
    baselines: dict[str, Predictor] | None = None,
    ssim_variant: str = "paper",
    worst: int = 5,
    worst_dir: Path | None = None,
    progress: bool = True,
) -> Evaluation:
    """Predict frame2 of every triplet and score it (see :mod:`vsanimeinterp.evaluation`).

    Args:
        triplets: from :func:`vsanimeinterp.evaluation.dataset.find_triplets`.
        predictor: ``(index, frame1, frame3) -> frame2``, frames H×W×3 float32 RGB in [0, 1].
        method: label of ``predictor`` in the reports.
        baselines: more predictors scored the same way, by label (e.g. ``{"blend": ...}``).
        ssim_variant: ``"paper"`` or ``"authors-script"``.
        worst: how many of the lowest-PSNR triplets to draw into ``worst_dir`` as
            ``NN_<name>.png`` (frame1 | prediction | truth | error map, RoI boxed in green).
        progress: show a tqdm bar.
    """
    from tqdm import tqdm

    if ssim_variant not in SSIM_VARIANTS:
        raise ValueError(f"ssim_variant must be one of {', '.join(SSIM_VARIANTS)}")
    baselines = baselines or {}
    rows: list[dict[str, Any]] = []
    # Keep only the `worst` lowest-PSNR cases (their pictures) while going: a max-heap on
    # -psnr of bounded size, so memory does not grow with the set.
    kept: list[tuple[float, int, Any, Any, Any, Any]] = []
    # Updated by hand, not iterated: iterating closes the bar (drawing it once more, and
    # leaving it) as soon as an error leaves the loop, before the handler below runs.
    bar = tqdm(total=len(triplets), desc="evaluate", unit="triplet", disable=not progress)
    try:
        for i, t in enumerate(triplets):
            frame1, truth, frame3 = (load_image(p) for p in t.frames)
            if not frame1.shape == truth.shape == frame3.shape:
                raise CommandError(f"{t.name}: the three frames differ in size")
            h, w = truth.shape[:2]
            roi = t.roi_pixels(w, h)
            start = time.perf_counter()
            pred = predictor(i, frame1, frame3)
            seconds = time.perf_counter() - start
            row: dict[str, Any] = {"name": t.name, "level": t.level, "roi": roi,
                                   "seconds": seconds, **score(pred, truth, roi, ssim_variant)}
            for label, base in baselines.items():
                scores = score(base(i, frame1, frame3), truth, roi, ssim_variant)
                row.update({f"{k}_{label}": v for k, v in scores.items()})
            rows.append(row)
            if worst > 0:
                # -i: equal PSNRs keep the earlier triplet, and tuples never compare arrays.
                item = (-row["psnr"], -i, frame1, pred, truth, roi)
                if len(kept) < worst:
                    heapq.heappush(kept, item)
                elif item > kept[0]:
                    heapq.heapreplace(kept, item)
            bar.set_postfix(psnr=f"{mean_finite([r['psnr'] for r in rows]):.2f}", refresh=False)
            bar.update(1)
    except BaseException:
        # A failed run must not leave a stale bar behind: closing it normally would draw it
        # once more (its last state, kept on screen) right above the error message.
        bar.leave = False
        bar.close()
        raise
    bar.close()
    keys = metric_keys(list(baselines))
    result = Evaluation(rows, method, list(baselines), ssim_variant, summarize(rows, keys))
    if worst_dir is not None and kept:
        write_worst(worst_dir, [
            WorstCase(triplets[-neg_i].name, -neg_psnr, frame1, pred, truth, roi)
            for neg_psnr, neg_i, frame1, pred, truth, roi in sorted(kept, reverse=True)
        ])
    return result
