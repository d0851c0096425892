"""``python -m vsanimeinterp profile``: where the time and the memory of one in-between go.

For each engine, device, precision and frame size asked for, a fresh worker process takes a
generated cartoon pair through the engine's stages and reports seconds per interpolated frame
the way a 2× stream pays them: each source frame is prepared once (shared by its two pairs),
flows are made once per pair, and one frame is synthesised per pair at t = 0.5.

- ``sgm``: segmentation (with piece description), matching, flow, synthesis.
- ``animeinterp``: the filter's own engine (:class:`~vsanimeinterp.engines.network.
  AnimeInterpEngine`, with ``corr``, ``flow_scale`` and ``tile_size`` as given) with its
  parts charged to SGM (the initial flows: frame preparation, matching and flow), RFR (the
  flow net's feature encoder per frame and 12 refinement iterations per pair, both
  directions) and synthesis (feature pyramid per frame or per tile, splatting and GridNet).

Peak memory is the worker's peak resident set minus its resident set after imports, model
loading and a tiny warm-up pass (and ``torch.cuda.max_memory_allocated`` on CUDA); one
process per configuration so that peaks do not hide each other.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..options import CORR_MODES, INIT_FLOWS
from .common import CommandError, add_threads_argument, apply_threads, frame_size
from .resources import lifetime_peak_rss_mib, rss_mib

STAGES = {
    "sgm": ("segmentation", "matching", "flow", "synthesis"),
    "animeinterp": ("sgm", "rfr", "synthesis"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``profile``."""
    parser.add_argument("--sizes", default="540p", metavar="LIST",
                        help="comma-separated sizes: names (540p, 1080p, 2160p) or WxH "
                        "(default: %(default)s)")
    parser.add_argument("--engines", default="sgm,animeinterp", metavar="LIST",
                        help="comma-separated: sgm, animeinterp (needs a checkpoint) "
                        "(default: %(default)s)")
    parser.add_argument("--checkpoint", type=Path, default=None, metavar="PATH",
                        help="checkpoint for animeinterp (default: the one interpolate() finds)")
    parser.add_argument("--devices", default="auto", metavar="LIST",
                        help="comma-separated: cpu, cuda, cuda-fp16; auto (default): cpu, and "
                        "cuda and cuda-fp16 when PyTorch sees a GPU")
    parser.add_argument("--corr", default="all-pairs,bounded", metavar="LIST",
                        help="comma-separated correlation look-ups for animeinterp: auto, "
                        "all-pairs, bounded (default: %(default)s; all-pairs is skipped "
                        "where its volume would not fit in the free memory)")
    parser.add_argument("--flow-scale", type=float, default=1.0, metavar="S",
                        help="interpolate()'s flow_scale (default: %(default)s)")
    parser.add_argument("--tile-size", type=int, default=None, metavar="PIXELS",
                        help="interpolate()'s tile_size (default: chosen from the free memory "
                        "as the filter does; 0: whole frames)")
    parser.add_argument("--tile-overlap", type=int, default=64, metavar="PIXELS",
                        help="interpolate()'s tile_overlap (default: %(default)s)")
    parser.add_argument("--init-flow", choices=INIT_FLOWS, default="sgm", metavar="MODE",
                        help="interpolate()'s init_flow for animeinterp: sgm (the paper) or "
                        "none (zero initial flow, no SGM work) (default: %(default)s)")
    add_threads_argument(parser)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write the rows as JSON")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no per-configuration progress lines on stderr")
    parser.add_argument("--worker", help=argparse.SUPPRESS)


def _pair(width: int, height: int) -> tuple[Any, Any]:
    """A generated cartoon pair as two 3×H×W float32 arrays."""
    from ..synthetic import make_triplets

    tr = make_triplets(1, width=width, height=height, seed=4)[0]
    return tuple(x.transpose(2, 0, 1).copy() for x in (tr.frame0, tr.frame1))


def _one_inbetween(engine: Any, img1: Any, img2: Any, clock: Any) -> None:
    """One in-between as a 2× stream pays it: one frame prepared (the other frame's
    preparation is paid by the next pair), one pair, one render at t = 0.5."""
    clock.enabled = False
    fb = engine.prepare_frame(img2)
    clock.enabled = True
    fa = engine.prepare_frame(img1)
    engine.render(engine.prepare_pair(fa, fb), 0.5)


def _corr_used(engine: Any, height: int, width: int) -> str:
    """Which correlation look-up the flow net runs for frames of this size."""
    from ..network import padded_size
    from ..network.corr import resolve_corr_mode
    from ..network.rfr import flow_net_size

    fh, fw = flow_net_size(*padded_size(*engine.flow_size(height, width)))
    batch = engine.net.batch_directions
    n = 2 if (batch if batch is not None else engine.device.type == "cuda") else 1
    return resolve_corr_mode(engine.options.corr, n, fh // 8, fw // 8)


def _work(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration in this process and return its row."""
    import torch

    from ..engines.factory import make_engine
    from ..options import NetworkOptions
    from ..stages import StageClock

    apply_threads(spec["threads"], vapoursynth=False)
    device = "cuda" if spec["device"].startswith("cuda") else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise CommandError("PyTorch sees no CUDA device")
    width, height = spec["size"]
    network = spec["engine"] == "animeinterp"
    options = NetworkOptions(
        corr=spec["corr"] if network else "auto", flow_scale=spec["flow_scale"],
        tile_size=spec["tile_size"], tile_overlap=spec["tile_overlap"],
        fp16=spec["device"] == "cuda-fp16", init_flow=spec.get("init_flow", "sgm"))
    # The network engine's SGM part is one stage of its profile.
    fold = {"segmentation": "sgm", "matching": "sgm", "flow": "sgm"} if network else None
    clock = StageClock(torch.cuda.synchronize if device == "cuda" else (lambda: None), fold)
    engine = make_engine(spec["engine"], checkpoint=spec["checkpoint"], device=device,
                         options=options, recorder=clock)
    img1, img2 = _pair(width, height)
    _one_inbetween(engine, *_pair(192, 128), clock)  # warm-up
    base = rss_mib()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    clock.totals.clear()
    cpu0 = time.process_time()
    _one_inbetween(engine, img1, img2, clock)
    cpu = time.process_time() - cpu0
    row: dict[str, Any] = {
        "engine": spec["engine"], "device": spec["device"], "width": width, "height": height,
        "flow_scale": options.flow_scale,
        "corr": options.corr if network else None,
        "stages_s": {k: round(clock.totals.get(k, 0.0), 4) for k in STAGES[spec["engine"]]},
        "total_s": round(sum(clock.totals.values()), 4),
        "cpu_s": round(cpu, 4),
        "threads": torch.get_num_threads(),
        # The worker is fresh and measures one configuration: its lifetime peak is the one.
        "peak_rss_mib": round(lifetime_peak_rss_mib(), 1),
        "peak_rss_growth_mib": round(lifetime_peak_rss_mib() - base, 1),
    }
    if network:
        from ..network import padded_size

        row["init_flow"] = options.init_flow
        row["tile_size"] = engine.tile_for(*padded_size(height, width))
        row["corr_used"] = _corr_used(engine, height, width)
    if device == "cuda":
        row["cuda_max_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return row


def _resolve_checkpoint(path: Path | None) -> str:
    from ..checkpoints import find_checkpoint

    found = find_checkpoint(path)
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
        name = r["engine"]
        if r.get("corr"):
            corr = r["corr"] if r["corr"] != "auto" else f"auto: {r['corr_used']}"
            name += f" ({corr})"
        setting = []
        if r.get("flow_scale", 1.0) != 1.0:
            setting.append(f"flow_scale {r['flow_scale']:g}")
        if r.get("tile_size"):
            setting.append(f"tiles {r['tile_size']}")
        if r.get("init_flow") == "none":
            setting.append("init_flow none")
        if setting:
            name += " [" + ", ".join(setting) + "]"
        lines.append(f"{name:<23} {r['device']:<9} {r['width']}x{r['height']}: "
                     f"{r['total_s']:.3f} s/frame ({stages}); CPU {r['cpu_s']:.3f} s; {mem}")
    return "\n".join(lines)


def _devices(text: str) -> list[str]:
    devices = [d.strip() for d in text.split(",") if d.strip()]
    for d in devices:
        if d not in ("auto", "cpu", "cuda", "cuda-fp16"):
            raise CommandError(f"unknown device {d!r} (choose from auto, cpu, cuda, cuda-fp16)")
    if "auto" in devices:
        import torch

        found = ["cpu", "cuda", "cuda-fp16"] if torch.cuda.is_available() else ["cpu"]
        devices = [d for d in devices if d != "auto"]
        devices += [d for d in found if d not in devices]
    return devices


def all_pairs_fits(device: str, width: int, height: int, flow_scale: float) -> tuple[bool, str]:
    """Whether the reference's all-pairs correlation of a pair of this size would fit in the
    device's free memory, and a note saying how big it is.

    The volume is counted twice (the matmul result and its scaled copy coexist while it is
    built) and for both directions at once on CUDA, where they run as one batch.
    """
    import torch

    from ..engines.network import available_memory
    from ..network import padded_size
    from ..network.corr import all_pairs_bytes

    fh, fw = padded_size(max(1, round(height * flow_scale)), max(1, round(width * flow_scale)))
    cuda = device.startswith("cuda")
    need = 2 * all_pairs_bytes(2 if cuda else 1, fh // 8, fw // 8)
    if cuda and not torch.cuda.is_available():
        return True, ""  # the worker reports the missing device
    free = available_memory(torch.device("cuda" if cuda else "cpu"))
    return need <= free, f"all-pairs needs about {need / 2**30:.1f} GiB, {free / 2**30:.1f} free"


def run(args: argparse.Namespace) -> int:
    if args.worker:
        print(json.dumps(_work(json.loads(args.worker))))
        return 0
    sizes = [frame_size(s) for s in args.sizes.split(",") if s.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in STAGES:
            raise CommandError(f"unknown engine {e!r} (choose from {', '.join(STAGES)})")
    devices = _devices(args.devices)
    corrs = [c.strip() for c in args.corr.split(",") if c.strip()]
    for c in corrs:
        if c not in CORR_MODES:
            raise CommandError(f"unknown --corr {c!r} (choose from {', '.join(CORR_MODES)})")
    if not 0 < args.flow_scale <= 1:
        raise CommandError(f"--flow-scale must be in (0, 1], got {args.flow_scale:g}")
    if args.tile_size is not None and (args.tile_size < 0 or args.tile_size % 4
                                       or 0 < args.tile_size < 64):
        raise CommandError(f"--tile-size must be 0 or a multiple of 4 of at least 64, "
                           f"got {args.tile_size}")
    if args.tile_overlap < 0 or args.tile_overlap % 4:
        raise CommandError(f"--tile-overlap must be a multiple of 4, got {args.tile_overlap}")
    checkpoint = _resolve_checkpoint(args.checkpoint) if "animeinterp" in engines else None
    configs = [(e, c) for e in engines for c in (corrs if e == "animeinterp" else ["-"])]
    rows = []
    for (w, h) in sizes:
        for engine, corr in configs:
            for device in devices:
                shown = f"{engine} ({corr})" if engine == "animeinterp" else engine
                label = f"{shown} {device} {w}x{h}"
                if corr == "all-pairs":
                    fits, note = all_pairs_fits(device, w, h, args.flow_scale)
                    if not fits:
                        print(f"{label}: skipped, {note}", file=sys.stderr)
                        continue
                spec = {"engine": engine, "device": device, "size": [w, h], "corr": corr,
                        "checkpoint": checkpoint, "threads": args.threads,
                        "flow_scale": args.flow_scale, "tile_size": args.tile_size,
                        "tile_overlap": args.tile_overlap, "init_flow": args.init_flow}
                if not args.quiet:
                    # A worker takes from seconds to minutes (4K on the CPU).
                    print(f"{label}: measuring ...", file=sys.stderr, flush=True)
                proc = subprocess.run(
                    [sys.executable, "-m", "vsanimeinterp", "profile", "--worker",
                     json.dumps(spec)], capture_output=True, text=True)
                if proc.returncode != 0:
                    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                    if proc.returncode < 0:
                        last = f"killed by signal {-proc.returncode} (out of memory?)"
                    print(f"{label}: failed: {last}", file=sys.stderr)
                    continue
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
                print(_table(rows[-1:]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if rows else 1
