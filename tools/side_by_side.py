"""A picture of one in-between: the true middle frame next to SGM, MVTools and blending.

Reads a triplet folder (``frame1``, ``frame2`` = truth, ``frame3``, as ``make-testset``
writes them), predicts the middle frame with the SGM engine of the ``vsanimeinterp`` that is
imported (run it once per checkout to compare code before and after a change), MVTools
FlowFPS (``cli/baselines``) and blending, and writes the panels side by side with their PSNR
in the corner, optionally cropped and enlarged.

Usage: ``python tools/side_by_side.py TRIPLET OUT.png [--crop X,Y,W,H] [--zoom 2]
[--label TEXT]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from vsanimeinterp.cli.baselines import mvtools_midpoint
from vsanimeinterp.engines.sgm import SGMEngine
from vsanimeinterp.evaluation.dataset import find_triplets, load_image
from vsanimeinterp.metrics import psnr8, to_uint8
from vsanimeinterp.visualize import save_png, side_by_side


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("triplet", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--crop", help="X,Y,W,H in pixels of the frame")
    ap.add_argument("--zoom", type=int, default=1)
    ap.add_argument("--label", default="SGM", help="name of the SGM panel")
    args = ap.parse_args()
    (tr,) = [t for t in find_triplets(args.triplet.parent) if t.name == args.triplet.name]
    f1, f2, f3 = (load_image(p) for p in tr.frames)
    engine = SGMEngine()
    a, b = (engine.prepare_frame(np.ascontiguousarray(f.transpose(2, 0, 1))) for f in (f1, f3))
    sgm = to_uint8(engine.render(engine.prepare_pair(a, b), 0.5).transpose(1, 2, 0))
    mv = mvtools_midpoint(to_uint8(f1), to_uint8(f3))
    truth = to_uint8(f2)
    panels = [truth, sgm, mv, to_uint8(0.5 * (f1 + f3))]
    names = (args.label, "MVTools", "blend")
    labels = ["truth"] + [f"{name} {psnr8(img, truth):.2f} dB"
                          for name, img in zip(names, panels[1:], strict=True)]
    if args.crop:
        x, y, w, h = map(int, args.crop.split(","))
        panels = [img[y:y + h, x:x + w] for img in panels]
    panels = [cv2.resize(img, None, fx=args.zoom, fy=args.zoom,
                         interpolation=cv2.INTER_NEAREST) for img in panels]
    save_png(args.out, side_by_side(panels, labels))


if __name__ == "__main__":
    main()
