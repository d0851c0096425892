"""``python -m vsanimeinterp bench``: speed and memory of the engines next to the baselines.

A generated cartoon clip (:func:`vsanimeinterp.synthetic.make_sequence`: one shot, four
characters, a pan; no cut, so that every pair is interpolated) is delivered as 8-bit
YUV 4:2:0 at 24000/1001 fps and interpolated by ``--factor`` (2) through VapourSynth, at each
size of ``--sizes``, by every method in one process, side by side:

* ``blend``: frame blending, ``std.Merge`` of the two neighbours with weight *t*
  (:func:`~vsanimeinterp.cli.baselines.blend_clip`);
* ``mvtools``: MVTools' motion-compensated FlowFPS as encoders use it: ``mv.Super(pel=2)``,
  backward and forward ``mv.Analyse(blksize=16, overlap=8, search=3)``, ``mv.FlowFPS``
  (:func:`~vsanimeinterp.cli.baselines.mvtools_clip`; the optional ``mvtools`` extra:
  ``pip install vapoursynth-mvtools``; skipped with a note when the plugin is absent);
* ``interpolate()`` with each engine (``sgm``; ``animeinterp`` when a checkpoint is found:
  weights do not change its speed, so the conformance checkpoint can stand in) on each device
  (``cpu``; ``cuda`` when PyTorch sees one), scene-cut detection off.

Each method first renders one in-between of the first two frames (warm-up, not timed);
then every output frame is requested through ``clip.frames()`` (VapourSynth's parallel prefetch,
as vspipe does, without the Python garbage collection per frame that vspipe does not do either)
and dropped. Times cover rendering only; building the graph (loading the
network) is reported apart as ``setup_s``. Reported per method: output frames per second,
wall and process-CPU seconds per output frame (CPU time counts every thread, so it is what
stays comparable on a shared machine), the process's peak resident memory during the run
(Linux: ``VmHWM`` after resetting it through ``/proc/self/clear_refs``; elsewhere the
process-lifetime ``ru_maxrss``), the peak CUDA memory PyTorch allocated, and the ratio of
seconds per frame to each baseline (``> 1``: slower than the baseline).

``--source FILE`` replaces the generated clip by the first ``--frames`` frames of the user's
own footage (a video file read with BestSource, or a folder of numbered PNG/JPEG frames, as
``make-testset --from-video`` reads them), at its own size (cropped to even width and height
for 4:2:0) and delivered the same way: how fast the engines are on the material at hand,
which may be cut into far more colour pieces than the generated cartoon.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..options import CONCRETE_ENGINES, DEVICES, INIT_FLOWS
from .baselines import blend_clip, has_mvtools, mvtools_clip
from .common import CommandError, add_threads_argument, apply_threads, frame_size, positive_int
from .resources import peak_rss_mib, reset_peak_rss, rss_mib

BASELINES = ("blend", "mvtools")
#: ``--devices`` choices: interpolate()'s devices but "auto" (the default runs all available).
_DEVICES = tuple(d for d in DEVICES if d != "auto")


@dataclass
class Run:
    """One method at one size.

    Attributes:
        method: ``blend``, ``mvtools`` or ``vsanimeinterp``; engine, device: for the latter.
        width, height: pixels; source_frames, output_frames: clip lengths;
        interpolated_frames: output frames made by the engine (``AnimeInterpMethod`` prop);
        setup_s: building the graph (e.g. loading the network), seconds;
        wall_s, cpu_s: rendering every output frame, seconds (CPU: all threads);
        fps: output frames per wall second; wall_s_per_frame, cpu_s_per_frame: per output frame;
        peak_rss_mib: peak resident memory of the process during the run; rss_before_mib: at
        its start; cuda_peak_mib: peak CUDA memory PyTorch allocated (None off CUDA);
        ratios: ``{baseline: {"cpu": x, "wall": y}}``, this run's seconds per frame divided by
        the baseline's at the same size.
    """

    method: str
    engine: str | None
    device: str | None
    width: int
    height: int
    source_frames: int
    output_frames: int
    interpolated_frames: int | None
    setup_s: float
    wall_s: float
    cpu_s: float
    fps: float
    wall_s_per_frame: float
    cpu_s_per_frame: float
    peak_rss_mib: float
    rss_before_mib: float
    cuda_peak_mib: float | None = None
    ratios: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.method if self.engine is None else f"{self.engine} ({self.device})"


# ---- the source --------------------------------------------------------------------------


def _yuv_planes(rgb: Any) -> list[Any]:
    """N×H×W×3 RGB frames converted once to YUV420P8 (BT.601 for SD, BT.709 for HD, limited
    range), kept as per-frame lists of the three planes."""
    import numpy as np
    import vapoursynth as vs

    from ..vsfilter.frames import clip_from_arrays

    clip = clip_from_arrays(rgb, fps_num=24000, fps_den=1001, format=vs.YUV420P8)
    return [[np.asarray(f[p]).copy() for p in range(3)] for f in clip.frames(close=True)]


def source_frames(width: int, height: int, frames: int, seed: int = 0) -> list[Any]:
    """The benchmark's frames: one generated shot, as :func:`_yuv_planes`."""
    from ..synthetic import make_sequence

    return _yuv_planes(make_sequence(width, height, frames, seed, n_objects=4).frames)


def footage_frames(path: Path, frames: int) -> list[Any]:
    """:func:`source_frames` from the first ``frames`` frames of a video file or numbered
    frame folder, cropped to even width and height."""
    import numpy as np

    from ..evaluation.footage import open_source

    src = open_source(path)
    if src.num_frames < 2:
        raise CommandError(f"--source {path} has {src.num_frames} frame(s); bench needs 2")
    if src.width < 2 or src.height < 2:
        raise CommandError(f"--source {path} is {src.width}x{src.height}; bench needs 2x2")
    w, h = src.width // 2 * 2, src.height // 2 * 2
    return _yuv_planes(np.stack([src.read(i)[:h, :w]
                                 for i in range(min(frames, src.num_frames))]))


def source_clip(planes: list[Any]) -> Any:
    """The benchmark clip of :func:`source_frames`: YUV420P8 at 24000/1001 fps whose frames
    are copied from memory, so that producing the input costs next to nothing next to any
    interpolation. Each run gets its own node, so that no run profits from frames another
    one left in a cache."""
    import vapoursynth as vs

    from ..vsfilter.colour import RANGE_LIMITED, default_matrix
    from ..vsfilter.frames import clip_from_planes

    h, w = planes[0][0].shape
    return clip_from_planes(
        planes.__getitem__, width=w, height=h, length=len(planes), format=vs.YUV420P8,
        fps_num=24000, fps_den=1001,
        props={"_Matrix": default_matrix(w, h), "_Range": RANGE_LIMITED},
    )


def measure(
    build: Callable[[], Any], *, method: str, engine: str | None = None,
    device: str | None = None, width: int, height: int, source_frames: int,
) -> Run:
    """Build a clip with ``build()`` (timed as setup) and render all its frames (timed)."""
    cuda = device == "cuda"
    if cuda:
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    gc.collect()
    reset_peak_rss()
    before = rss_mib()
    t0 = time.perf_counter()
    clip = build()
    setup = time.perf_counter() - t0
    methods: Counter[str] = Counter()
    c0, t0 = time.process_time(), time.perf_counter()
    # collect_garbage=False: frames() otherwise runs Python's garbage collector per frame,
    # which vspipe does not do and which costs milliseconds per frame once torch is loaded
    # (more than blending a 540p frame takes).
    for frame in clip.frames(close=True, collect_garbage=False):
        kind = frame.props.get("AnimeInterpMethod")
        if kind is not None:
            methods[kind.decode() if isinstance(kind, bytes) else str(kind)] += 1
    if cuda:
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = clip.num_frames
    run = Run(
        method=method, engine=engine, device=device, width=width, height=height,
        source_frames=source_frames, output_frames=n,
        interpolated_frames=methods["interpolated"] if engine is not None else None,
        setup_s=setup, wall_s=wall, cpu_s=cpu, fps=n / wall if wall > 0 else float("inf"),
        wall_s_per_frame=wall / n, cpu_s_per_frame=cpu / n,
        peak_rss_mib=peak_rss_mib(), rss_before_mib=before,
        cuda_peak_mib=torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
    )
    del clip
    gc.collect()
    return run


def plan(args: argparse.Namespace) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The (engine, device, init_flow) runs to make and notes on what is skipped."""
    import torch

    from ..checkpoints import find_checkpoint

    notes = []
    devices = args.devices or (list(_DEVICES) if torch.cuda.is_available() else ["cpu"])
    if "cuda" in devices and not torch.cuda.is_available():
        raise CommandError("--devices cuda: PyTorch sees no CUDA device")
    if args.devices is None and not torch.cuda.is_available():
        notes.append("cuda: skipped, PyTorch sees no CUDA device")
    engines = args.engines or list(CONCRETE_ENGINES)
    try:
        checkpoint = find_checkpoint(args.checkpoint)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    if "animeinterp" in engines and checkpoint is None:
        if args.engines:
            raise CommandError("--engines animeinterp: no checkpoint found (give --checkpoint)")
        notes.append("animeinterp: skipped, no checkpoint found (python -m vsanimeinterp "
                     "download, or --checkpoint PATH)")
        engines = [e for e in engines if e != "animeinterp"]
    args.checkpoint_path = checkpoint
    return [(e, d, i) for e in engines for d in devices
            for i in (args.init_flows if e == "animeinterp" else ["sgm"])], notes


def benchmark(args: argparse.Namespace) -> tuple[list[Run], list[str]]:
    """Run every method at every size (see the module docstring); returns runs and notes."""
    from ..vsfilter.filter import interpolate

    pairs, notes = plan(args)
    baselines = [b for b in BASELINES if b not in args.skip]
    if "mvtools" in baselines and not has_mvtools():
        notes.append("mvtools: skipped, the mv plugin is absent "
                     "(pip install vapoursynth-mvtools)")
        baselines.remove("mvtools")
    runs: list[Run] = []
    factor = args.factor
    footage = footage_frames(args.source, args.frames) if args.source is not None else None
    sizes = args.sizes if footage is None else [footage[0][0].shape[::-1]]
    for width, height in sizes:
        frames = footage or source_frames(width, height, args.frames, args.seed)
        common = {"width": width, "height": height, "source_frames": len(frames)}
        size_runs: list[Run] = []
        for name in baselines:
            make = blend_clip if name == "blend" else mvtools_clip
            build = functools.partial(_built, make, frames, factor)
            _warm_up(make, frames, factor)
            size_runs.append(measure(build, method=name, **common))
            _progress(size_runs[-1], args)
        for engine, device, init_flow in pairs:
            options = {"engine": engine, "device": device, "sc": False,
                       "checkpoint": args.checkpoint_path if engine == "animeinterp" else None}
            label = engine
            if engine == "animeinterp":
                options["init_flow"] = init_flow
                label += "" if init_flow == "sgm" else f" init_flow={init_flow}"
            build = functools.partial(_built, interpolate, frames, factor, **options)
            _warm_up(interpolate, frames, factor, **options)
            size_runs.append(measure(build, method="vsanimeinterp", engine=label,
                                     device=device, **common))
            _progress(size_runs[-1], args)
        for r in size_runs:
            for b in size_runs:
                if b.method in baselines:
                    r.ratios[b.method] = {
                        "cpu": r.cpu_s_per_frame / b.cpu_s_per_frame,
                        "wall": r.wall_s_per_frame / b.wall_s_per_frame,
                    }
        runs += size_runs
    return runs, notes


def _built(make: Callable[..., Any], frames: Any, factor: int, **kwargs: Any) -> Any:
    return make(source_clip(frames), factor, **kwargs)


def _warm_up(make: Callable[..., Any], frames: Any, factor: int, **kwargs: Any) -> None:
    # The first frames a method renders in a process pay for one-time work (memory first
    # touched, plugin and library initialisation, torch kernels chosen): MVTools' first run at
    # 540p is three times slower than its second. One in-between on the first two frames
    # takes that out of the measured run.
    for _ in _built(make, frames[:2], factor, **kwargs).frames(close=True, collect_garbage=False):
        pass


def _progress(run: Run, args: argparse.Namespace) -> None:
    if not args.quiet:
        print(f"  {run.width}x{run.height} {run.label}: {run.output_frames} frames in "
              f"{run.wall_s:.2f} s", file=sys.stderr, flush=True)


# ---- report -------------------------------------------------------------------------------


def _ratio(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}" if x >= 1 else f"{x:.3f}"


def table(runs: list[Run]) -> str:
    """The terminal table: one line per run. ``+RSS``: peak minus the resident memory at the
    run's start; ``CPU xB`` / ``wall xB``: seconds per frame over baseline B's."""
    bases = [b for b in BASELINES if any(b in r.ratios for r in runs)]
    head = ["size", "method", "out fps", "wall s/fr", "CPU s/fr", "peak RSS MiB", "+RSS MiB",
            "setup s"]
    head += [f"CPU x{b}" for b in bases] + [f"wall x{b}" for b in bases]
    rows = []
    for r in runs:
        row = [f"{r.width}x{r.height}", r.label, f"{r.fps:.2f}", f"{r.wall_s_per_frame:#.3g}",
               f"{r.cpu_s_per_frame:#.3g}", f"{r.peak_rss_mib:.0f}",
               f"{r.peak_rss_mib - r.rss_before_mib:.0f}", f"{r.setup_s:.2f}"]
        row += [_ratio(r.ratios[b]["cpu"]) if b in r.ratios else "-" for b in bases]
        row += [_ratio(r.ratios[b]["wall"]) if b in r.ratios else "-" for b in bases]
        if r.cuda_peak_mib is not None:
            row[5] += f" (+{r.cuda_peak_mib:.0f} CUDA)"
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


def machine() -> dict[str, Any]:
    """What the numbers depend on: CPU, thread counts, library versions."""
    import numpy as np
    import torch
    import vapoursynth as vs

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "vapoursynth": str(vs.__version__),
        "vs_threads": vs.core.num_threads,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": np.__version__,
    }
    if torch.cuda.is_available():
        info["cuda_device"] = torch.cuda.get_device_name(0)
    return info


# ---- command line -------------------------------------------------------------------------


def _sizes(text: str) -> list[tuple[int, int]]:
    return [frame_size(part) for part in text.split(",") if part.strip()] or [frame_size(text)]


def _factor(text: str) -> int:
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, got {value}")
    return value


def _frames(text: str) -> int:
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"needs at least 2 frames, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``bench``."""
    parser.add_argument("--sizes", type=_sizes, metavar="LIST",
                        help="comma-separated sizes: 540p, 1080p (any of 360p..2160p) or WxH "
                        "(default: 540p)")
    parser.add_argument("--source", type=Path, metavar="FILE",
                        help="bench on the first --frames frames of this video file or folder "
                        "of numbered PNG/JPEG frames, at its own size, instead of a generated "
                        "cartoon")
    parser.add_argument("--frames", type=_frames, default=12, metavar="N",
                        help="source frames per run (default: %(default)s; output: N x factor)")
    parser.add_argument("--factor", type=_factor, default=2,
                        help="frame-rate multiplier (default: %(default)s)")
    parser.add_argument("--engines", type=lambda s: _choices(s, CONCRETE_ENGINES), metavar="LIST",
                        help="engines to run, comma-separated (default: sgm, and animeinterp "
                        "when a checkpoint is found)")
    parser.add_argument("--devices", type=lambda s: _choices(s, _DEVICES),
                        metavar="LIST", help="cpu,cuda (default: cpu, and cuda when available)")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="checkpoint for the animeinterp engine (default: as interpolate)")
    parser.add_argument("--skip", type=lambda s: _choices(s, BASELINES), default=[],
                        metavar="LIST", help="baselines to leave out: blend, mvtools")
    add_threads_argument(parser)
    parser.add_argument("--init-flows", type=lambda s: _choices(s, INIT_FLOWS), default=["sgm"],
                        metavar="LIST", help="interpolate()'s init_flow values to run the "
                        "animeinterp engine with: sgm, none (default: sgm)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="clip generator seed (default: 0)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--quiet", "-q", action="store_true", help="no per-run lines on stderr")


def _choices(text: str, allowed: tuple[str, ...]) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in items if s not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(allowed)}; got {text!r}"
        )
    return list(dict.fromkeys(items))


def run(args: argparse.Namespace) -> int:
    """``bench``: run, print the table, write the JSON."""
    import vapoursynth as vs

    if args.json is not None and args.json.is_dir():
        raise CommandError(f"--json {args.json} is a directory")
    if args.source is not None and args.sizes is not None:
        raise CommandError("--sizes and --source: footage is benched at its own size")
    if args.sizes is None:
        args.sizes = [(960, 540)]
    apply_threads(args.threads)
    try:
        runs, notes = benchmark(args)
    except vs.Error as exc:
        raise CommandError(str(exc)) from None
    info = machine()
    what = "generated cartoon" if args.source is None else str(args.source)
    frames = runs[0].source_frames if runs else args.frames
    print(f"{frames} source frames x{args.factor}, {what} (YUV420P8); "
          f"{info['cpu_count']} CPUs, VapourSynth threads {info['vs_threads']}, "
          f"torch threads {info['torch_threads']}")
    print(table(runs))
    for note in notes:
        print(f"note: {note}")
    if args.json is not None:
        doc = {
            "machine": info,
            "settings": {"frames": frames, "factor": args.factor, "seed": args.seed,
                         "source": None if args.source is None else str(args.source),
                         "sizes": [list(wh) for wh in dict.fromkeys(
                             (r.width, r.height) for r in runs)],
                         "source_format": "YUV420P8",
                         "source_fps": "24000/1001"},
            "notes": notes,
            "runs": [asdict(r) | {"label": r.label} for r in runs],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
