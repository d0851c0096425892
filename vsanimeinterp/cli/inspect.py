"""``python -m vsanimeinterp inspect``: pictures of what SGM did with one frame pair.

Writes, for two frames (image files, or a generated cartoon pair with ``--demo``):

- ``segmentation.png``: both frames' colour pieces (random colours, lines in black);
- ``matches.png``: the mutual piece matches, centroid to centroid;
- ``flows.png``: F12 and F21 in the Middlebury colour coding, next to the dense DIS fallback
  and a colour-wheel legend;
- ``middle.png``: frame 1 | the synthesised frame at t = 0.5 | frame 2;
- ``summary.txt``: sizes, piece and match counts, seconds per stage.

Everything is shown at SGM's working resolution (at most about 960×540).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .common import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("frame1", nargs="?", type=Path, help="first frame (PNG, JPEG, ...)")
    parser.add_argument("frame2", nargs="?", type=Path, help="second frame, same size")
    parser.add_argument("--demo", action="store_true",
                        help="use a generated cartoon pair instead of image files")
    parser.add_argument("--out", type=Path, default=Path("sgm-inspect"),
                        help="directory for the pictures (default: ./sgm-inspect)")


def _read(path: Path) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise CommandError(f"cannot read an image from {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def inspect_pair(img1: np.ndarray, img2: np.ndarray, out_dir: Path) -> list[Path]:
    """Run SGM on one pair and save the pictures listed in the module docstring.

    Args:
        img1, img2: H×W×3 float32 RGB in [0, 1], same size.
        out_dir: created if missing.

    Returns:
        The paths written.
    """
    from ..engines.sgm import SGMEngine
    from ..sgm import SGMFrame
    from ..stages import StageClock
    from ..visualize import (
        draw_matches,
        flow_to_rgb,
        flow_wheel,
        labels_to_rgb,
        save_png,
        side_by_side,
    )

    if img1.shape != img2.shape:
        raise CommandError(f"frame sizes differ: {img1.shape[:2]} vs {img2.shape[:2]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = StageClock()
    engine = SGMEngine(recorder=clock)
    pa, pb = (engine.prepare_frame(np.ascontiguousarray(x.transpose(2, 0, 1), np.float32))
              for x in (img1, img2))
    a, b = pa.sgm, pb.sgm
    details: dict[str, np.ndarray] = {}
    f12, f21 = engine.flows(a, b, details)
    mid_img = engine.render(engine.pair_from_flows(pa, pb, f12, f21, details), 0.5)
    mid_img = mid_img.transpose(1, 2, 0)
    seconds = clock.totals

    def seg_picture(frame: SGMFrame) -> np.ndarray:
        pic = labels_to_rgb(frame.seg.labels)
        pic[frame.seg.line_mask] = 0
        return pic

    # One magnitude scale for all flows so their colours compare.
    scale = max(float(np.linalg.norm(f, axis=2).max()) for f in
                (details["flow12"], details["flow21"], details["dense12"], details["dense21"]))
    scale = max(scale, 1.0)
    written = [
        save_png(out_dir / "segmentation.png", side_by_side(
            [a.image, seg_picture(a), b.image, seg_picture(b)],
            [f"frame 1 ({a.seg.n_pieces} pieces)", "pieces 1",
             f"frame 2 ({b.seg.n_pieces} pieces)", "pieces 2"], columns=2)),
        save_png(out_dir / "matches.png", draw_matches(
            a.image, b.image, a.seg.labels, b.seg.labels, details["matches"])),
        save_png(out_dir / "flows.png", side_by_side(
            [flow_to_rgb(details["flow12"], scale), flow_to_rgb(details["flow21"], scale),
             flow_to_rgb(details["dense12"], scale), flow_to_rgb(details["dense21"], scale),
             flow_wheel(min(a.work_size))],
            ["SGM F12", "SGM F21", "dense DIS 1->2", "dense DIS 2->1",
             f"legend (rim = {scale:.0f} px)"], columns=2)),
        save_png(out_dir / "middle.png", side_by_side(
            [img1, mid_img, img2], ["frame 1", "SGM t=0.5", "frame 2"])),
    ]
    summary = out_dir / "summary.txt"
    h, w = img1.shape[:2]
    wh, ww = a.work_size
    summary.write_text(
        f"input {w}x{h}, working resolution {ww}x{wh}\n"
        f"pieces: frame 1 {a.seg.n_pieces}, frame 2 {b.seg.n_pieces}\n"
        f"mutual matches {len(details['matches'])}; trusted for guided flow: "
        f"{len(details['guided12'])} (1->2), {len(details['guided21'])} (2->1)\n"
        f"largest flow {scale:.1f} px (working resolution)\n"
        f"seconds: prepare both frames {seconds['segmentation']:.3f}, "
        f"matching {seconds['matching']:.3f}, flow {seconds['flow']:.3f}, "
        f"synthesis {seconds['synthesis']:.3f}\n"
    )
    written.append(summary)
    return written


def run(args: argparse.Namespace) -> int:
    if args.demo:
        if args.frame1 or args.frame2:
            raise CommandError("give either two frames or --demo, not both")
        from ..synthetic import make_triplets

        tr = make_triplets(1, width=960, height=540, seed=5)[0]
        img1, img2 = tr.frame0.astype(np.float32), tr.frame1.astype(np.float32)
    else:
        if args.frame1 is None or args.frame2 is None:
            raise CommandError("give two frame images (or --demo)")
        img1, img2 = _read(args.frame1), _read(args.frame2)
    for path in inspect_pair(img1, img2, args.out):
        print(path)
    return 0
