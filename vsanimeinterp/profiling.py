"""``python -m vsanimeinterp profile``: where the time and the memory of one in-between go.

For each engine, device, precision and frame size asked for, a fresh worker process takes a
generated cartoon pair through the engine's stages and reports seconds per interpolated frame
the way a 2× stream pays them: each source frame is prepared once (shared by its two pairs),
flows are made once per pair, and one frame is synthesised per pair at t = 0.5.

- ``sgm``: segmentation (with piece description), matching, flow, synthesis.
- ``animeinterp``: SGM (the initial flows: frame preparation, matching and flow), RFR (the
  flow net's feature encoder per frame and 12 refinement iterations per pair, both
  directions), synthesis (feature pyramid per frame, splatting and GridNet per frame).

Peak memory is the worker's peak resident set minus its resident set after imports and
model loading (and ``torch.cuda.max_memory_allocated`` on CUDA); one process per
configuration so that peaks do not hide each other. A tiny warm-up pass runs first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cli_common import CommandError, frame_size

STAGES = {
    "sgm": ("segmentation", "matching", "flow", "synthesis"),
    "animeinterp": ("sgm", "rfr", "synthesis"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default="540p",
                        help="comma-separated sizes: names (540p, 1080p, 2160p) or WxH")
    parser.add_argument("--engines", default="sgm,animeinterp",
                        help="comma-separated: sgm, animeinterp (needs a checkpoint)")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="checkpoint for animeinterp (default: the one interpolate() finds)")
    parser.add_argument("--devices", default="cpu",
                        help="comma-separated: cpu, cuda, cuda-fp16")
    parser.add_argument("--corr", default="auto",
                        help="comma-separated correlation look-ups for animeinterp: auto, "
                        "all-pairs, bounded")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch/OpenCV threads (default: all cores)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class _Clock:
    """Accumulates seconds per stage; ``sync`` waits for the GPU so stages are not blurred."""

    def __init__(self, sync: Callable[[], None]) -> None:
        self.totals: dict[str, float] = {}
        self.sync = sync

    def run(self, stage: str, fn: Callable[[], Any]) -> Any:
        self.sync()
        t0 = time.perf_counter()
        out = fn()
        self.sync()
        self.totals[stage] = self.totals.get(stage, 0.0) + time.perf_counter() - t0
        return out


def _pair(width: int, height: int) -> tuple[Any, Any]:
    from .cartoon import make_triplets

    tr = make_triplets(1, width=width, height=height, seed=4)[0]
    return tr.frame0, tr.frame1


def _sgm_stages(img1: Any, img2: Any, device: str, clock: _Clock) -> None:
    import numpy as np
    import torch

    from . import sgm, synthesis

    a = clock.run("segmentation", lambda: sgm.prepare_frame(img1))
    # The second frame's preparation is paid by the next pair in a stream.
    b = sgm.prepare_frame(img2)
    timings: dict[str, float] = {}
    f12, f21 = sgm.pair_flows(a, b, timings)
    clock.totals["matching"] = clock.totals.get("matching", 0.0) + timings["matching"]
    clock.totals["flow"] = clock.totals.get("flow", 0.0) + timings["flow"]

    def tensor(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].to(device)

    clock.run("synthesis", lambda: synthesis.synthesize(
        tensor(img1), tensor(img2), tensor(f12), tensor(f21), 0.5).cpu())


def _network_stages(
    net: Any, img1: Any, img2: Any, device: str, clock: _Clock, tile: int = 0
) -> None:
    import numpy as np
    import torch

    from . import sgm
    from .network import crop_to, pad_to, padded_size

    def tensor(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].float().to(device)

    h, w = img1.shape[:2]
    ph, pw = padded_size(h, w)

    def sgm_part() -> tuple[torch.Tensor, torch.Tensor]:
        a = sgm.prepare_frame(img1)  # one frame per in-between in a stream
        f12, f21 = sgm.pair_flows(a, b_sgm)
        return tensor(f12), tensor(f21)

    b_sgm = sgm.prepare_frame(img2)
    f12i, f21i = clock.run("sgm", sgm_part)
    i1, i2 = pad_to(tensor(img1), ph, pw), pad_to(tensor(img2), ph, pw)
    with torch.inference_mode():
        norm1, norm2 = (i1 - 0.5) / 0.5, (i2 - 0.5) / 0.5
        fmap1 = clock.run("rfr", lambda: net.flownet.encode(norm1))
        fmap2 = net.flownet.encode(norm2)
        from .network import FrameFeatures

        if tile:  # the pyramid is computed per tile inside synthesize_tiled
            levels1 = levels2 = None
        else:
            levels1 = clock.run("synthesis",
                                lambda: net.feat_ext(norm1.to(net._compute_dtype)))
            levels2 = net.feat_ext(norm2.to(net._compute_dtype))
        fa = FrameFeatures(norm1, fmap1, levels1)
        fb = FrameFeatures(norm2, fmap2, levels2)
        flow12, flow21 = clock.run("rfr", lambda: net.refine_flows(
            fa, fb, pad_to(f12i, ph, pw), pad_to(f21i, ph, pw)))
        if tile:
            clock.run("synthesis", lambda: crop_to(net.synthesize_tiled(
                i1, i2, flow12, flow21, 0.5, tile), h, w).clamp(0, 1).cpu())
        else:
            clock.run("synthesis", lambda: crop_to(net.synthesize(
                i1, i2, fa, fb, flow12, flow21, 0.5), h, w).clamp(0, 1).cpu())


def _work(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration in this process and return its row."""
    import cv2
    import torch

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
        cv2.setNumThreads(spec["threads"])
    device = "cuda" if spec["device"].startswith("cuda") else "cpu"
    half = spec["device"] == "cuda-fp16"
    if device == "cuda" and not torch.cuda.is_available():
        raise CommandError("PyTorch sees no CUDA device")
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    width, height = spec["size"]
    net = None
    if spec["engine"] == "animeinterp":
        from .network import load_model

        net = load_model(spec["checkpoint"], device=device, half=half)
        net.corr_mode = spec["corr"]
    img1, img2 = _pair(width, height)
    warm1, warm2 = _pair(192, 128)

    tile = 0
    if net is not None:
        from .network import padded_size
        from .network_engine import auto_tile_size, available_memory

        # Synthesis tiles as the filter chooses them.
        tile = auto_tile_size(*padded_size(height, width),
                              available_memory(torch.device(device)), 64)

    def once(a: Any, b: Any, clock: _Clock) -> None:
        if net is None:
            _sgm_stages(a, b, device, clock)
        else:
            _network_stages(net, a, b, device, clock, tile)

    once(warm1, warm2, _Clock(sync))
    base = _rss_mib()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    clock = _Clock(sync)
    cpu0 = time.process_time()
    once(img1, img2, clock)
    cpu = time.process_time() - cpu0
    row: dict[str, Any] = {
        "engine": spec["engine"], "device": spec["device"], "width": width, "height": height,
        "corr": spec["corr"] if net is not None else None,
        "tile_size": tile if net is not None else None,
        "stages_s": {k: round(clock.totals.get(k, 0.0), 4) for k in STAGES[spec["engine"]]},
        "total_s": round(sum(clock.totals.values()), 4),
        "cpu_s": round(cpu, 4),
        "threads": torch.get_num_threads(),
        "peak_rss_mib": round(_peak_mib(), 1),
        "peak_rss_growth_mib": round(_peak_mib() - base, 1),
    }
    if device == "cuda":
        row["cuda_max_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return row


def _resolve_checkpoint(path: Path | None) -> str:
    from . import weights

    found = weights.find_checkpoint(path)
    if found is None:
        raise CommandError("animeinterp needs a checkpoint: --checkpoint PATH, "
                           "$VSANIMEINTERP_CHECKPOINT, or python -m vsanimeinterp download")
    return str(found)


def _table(rows: list[dict[str, Any]]) -> str:
    lines = []
    for r in rows:
        stages = ", ".join(f"{k} {v:.3f}" for k, v in r["stages_s"].items())
        mem = f"peak RSS {r['peak_rss_mib']:.0f} MiB (+{r['peak_rss_growth_mib']:.0f})"
        if "cuda_max_allocated_mib" in r:
            mem += f", CUDA {r['cuda_max_allocated_mib']:.0f} MiB"
        name = r["engine"] + (f" ({r['corr']})" if r.get("corr") else "")
        lines.append(f"{name:<23} {r['device']:<9} {r['width']}x{r['height']}: "
                     f"{r['total_s']:.3f} s/frame ({stages}); CPU {r['cpu_s']:.3f} s; {mem}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.worker:
        print(json.dumps(_work(json.loads(args.worker))))
        return 0
    sizes = [frame_size(s) for s in args.sizes.split(",") if s.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    for e in engines:
        if e not in STAGES:
            raise CommandError(f"unknown engine {e!r} (choose from {', '.join(STAGES)})")
    for d in devices:
        if d not in ("cpu", "cuda", "cuda-fp16"):
            raise CommandError(f"unknown device {d!r} (choose from cpu, cuda, cuda-fp16)")
    corrs = [c.strip() for c in args.corr.split(",") if c.strip()]
    for c in corrs:
        if c not in ("auto", "all-pairs", "bounded"):
            raise CommandError(f"unknown --corr {c!r} (choose from auto, all-pairs, bounded)")
    checkpoint = _resolve_checkpoint(args.checkpoint) if "animeinterp" in engines else None
    configs = [(e, c) for e in engines for c in (corrs if e == "animeinterp" else ["-"])]
    rows = []
    for (w, h) in sizes:
        for engine, corr in configs:
            for device in devices:
                spec = {"engine": engine, "device": device, "size": [w, h], "corr": corr,
                        "checkpoint": checkpoint, "threads": args.threads}
                proc = subprocess.run(
                    [sys.executable, "-m", "vsanimeinterp", "profile", "--worker",
                     json.dumps(spec)], capture_output=True, text=True)
                if proc.returncode != 0:
                    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                    print(f"{engine} {device} {w}x{h}: failed: {last}", file=sys.stderr)
                    continue
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
                print(_table(rows[-1:]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if rows else 1
