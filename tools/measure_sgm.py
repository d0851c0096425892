"""Side-by-side quality and speed of the SGM engine, frame blending and MVTools FlowFPS.

Generates cartoon triplets (``vsanimeinterp.synthetic.make_triplets``),
interpolates the middle frame three ways and reports mean PSNR on 8-bit RGB against the true
middle frame, seconds per interpolated frame (wall and process CPU), split by stage for SGM,
and the end-point error of the SGM flow and of plain DIS against the generator's true flow.

MVTools is set up as encoders use it: a 2-frame clip [frame0, frame1] in RGB24 is converted
to YUV444P8 (BT.709; 4:4:4 so chroma subsampling does not blur the comparison), then
``Super(pel=2)``, backward/forward ``Analyse(blksize=16, overlap=8, search=3)`` and
``FlowFPS(num=2·fpsnum)``; output frame 1 is the midpoint, converted back to RGB24.

Usage: ``python tools/measure_sgm.py [--count 12] [--width 960] [--height 540] [--seed 7]``.
Everything runs single-threaded (torch, OpenCV, VapourSynth) so CPU seconds compare
directly; timings are noisy on a shared machine, treat them as rough.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import torch
import vapoursynth as vs

from vsanimeinterp.cli.baselines import mvtools_clip
from vsanimeinterp.engines.sgm import SGMEngine
from vsanimeinterp.metrics import psnr8, to_uint8
from vsanimeinterp.stages import StageClock
from vsanimeinterp.synthetic import make_triplets
from vsanimeinterp.vsfilter.frames import clip_from_arrays


def epe(flow: np.ndarray, truth: np.ndarray) -> float:
    """Mean end-point error in pixels (H×W×2 each)."""
    return float(np.linalg.norm(flow - truth, axis=2).mean())


def mvtools_mid(core: vs.Core, f0: np.ndarray, f1: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Midpoint by MVTools FlowFPS. Returns (uint8 H×W×3, wall s, CPU s)."""
    rgb = clip_from_arrays([to_uint8(f0), to_uint8(f1)], fps_num=24, fps_den=1, format=vs.RGB24)
    back = mvtools_clip(rgb, 2)
    t0, c0 = time.perf_counter(), time.process_time()
    fr = back.get_frame(1)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return np.stack([np.asarray(fr[p]) for p in range(3)], axis=2).copy(), wall, cpu


def dis_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plain DIS (medium preset) flow a->b on luma, H×W×2 pixels."""
    ga = cv2.cvtColor(to_uint8(a), cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(to_uint8(b), cv2.COLOR_RGB2GRAY)
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(ga, gb, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--width", type=int, default=960)
    ap.add_argument("--height", type=int, default=540)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--gap", type=float, default=1.0)
    args = ap.parse_args()

    # Single-threaded everywhere: on a shared machine oversubscribed thread pools distort
    # wall time, and one thread makes CPU seconds of both engines directly comparable.
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    core = vs.core
    core.num_threads = 1
    trips = make_triplets(args.count, args.width, args.height, seed=args.seed, gap=args.gap)
    rows = []
    stages: dict[str, float] = {}
    sgm_cpu = 0.0
    for k, tr in enumerate(trips):
        gt = to_uint8(tr.frame_mid)
        blend = to_uint8(0.5 * (tr.frame0 + tr.frame1))

        c0 = time.process_time()
        # The filter's own engine, timed by stage. Per interpolated frame in a stream each
        # frame is prepared once (shared by two pairs): count half of both preparations.
        clock = StageClock()
        engine = SGMEngine(recorder=clock)
        pa, pb = (engine.prepare_frame(np.ascontiguousarray(x.transpose(2, 0, 1), np.float32))
                  for x in (tr.frame0, tr.frame1))
        clock.totals["segmentation"] *= 0.5
        details: dict[str, np.ndarray] = {}
        flow12, flow21 = engine.flows(pa.sgm, pb.sgm, details)
        mid = engine.render(engine.pair_from_flows(pa, pb, flow12, flow21, details), 0.5)
        mid = mid.transpose(1, 2, 0)
        sgm_cpu += time.process_time() - c0
        for stage, seconds in clock.totals.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
        f12 = flow12[0].permute(1, 2, 0).numpy()
        fa = pa.sgm

        mv, mv_wall, mv_cpu = mvtools_mid(core, tr.frame0, tr.frame1)
        row = {
            "sgm": psnr8(to_uint8(mid), gt),
            "blend": psnr8(blend, gt),
            "mvtools": psnr8(mv, gt),
            "epe_sgm": epe(f12, tr.flow01),
            "epe_dis": epe(dis_flow(tr.frame0, tr.frame1), tr.flow01),
            "mv_wall": mv_wall,
            "mv_cpu": mv_cpu,
            "pieces": fa.seg.n_pieces,
        }
        rows.append(row)
        print(f"[{k:2d}] PSNR sgm {row['sgm']:.2f}  blend {row['blend']:.2f}  "
              f"mvtools {row['mvtools']:.2f} | EPE sgm {row['epe_sgm']:.2f}  "
              f"dis {row['epe_dis']:.2f} | pieces {row['pieces']}", flush=True)

    n = len(rows)
    mean = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
    per_frame = {key: v / n for key, v in stages.items()}
    total = sum(per_frame.values())
    print(f"\n{n} triplets {args.width}x{args.height}, gap {args.gap}")
    print(f"PSNR (8-bit RGB) SGM {mean['sgm']:.2f} dB | blend {mean['blend']:.2f} dB | "
          f"MVTools FlowFPS {mean['mvtools']:.2f} dB")
    print(f"EPE vs true flow01: SGM {mean['epe_sgm']:.3f} px | DIS alone {mean['epe_dis']:.3f} px")
    print("SGM s/frame (stream-amortised, wall): " + ", ".join(
        f"{k} {v:.3f}" for k, v in per_frame.items()) + f" | total {total:.3f}")
    print(f"SGM CPU s per pair (both frames prepared): {sgm_cpu / n:.3f}")
    print(f"MVTools s/frame: wall {mean['mv_wall']:.3f}, CPU {mean['mv_cpu']:.3f} | "
          f"ratio SGM/MVTools (wall) {total / max(mean['mv_wall'], 1e-9):.1f}x")


if __name__ == "__main__":
    main()
