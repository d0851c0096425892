"""Every GPU check of the network in one run: conformance, stage times, end-to-end speed, errors.

``python tools/gpu_check.py [--out DIR]`` runs, on the first CUDA device:

1. **conformance** of the network on CUDA in float32 against the authors' reference outputs
   (must pass the shared tolerances), and the float16 deviation (from the reference and from
   this project's float32 output);
2. **stages**: seconds per interpolated frame split into SGM (host CPU), RFR and synthesis,
   and peak GPU memory, at 960×540, 1920×1080 and 3840×2160, with the default settings and
   with ``flow_scale`` (0.5, and 0.25 at 4K), float16 and float32
   (``python -m vsanimeinterp profile``);
3. **end to end**: output frames per second of ``interpolate()`` through VapourSynth at 1080p
   2× on a generated clip, with ``init_flow="sgm"`` and ``"none"``, next to frame blending and
   MVTools timed in the same run (``python -m vsanimeinterp bench``); the conformance
   checkpoint has the official one's layers, so it times the same;
4. **errors**: out of GPU memory inside a frame must be the filter's ``vs.Error`` with advice,
   and ``device_index`` out of range must be refused when ``interpolate()`` is called.

It prints one table and writes ``gpu_check.json`` into ``--out``. Each step runs under its
own time limit; the whole takes about 5 minutes on one H100/H200 (budget: 8). A step that
fails is reported as failed and the others still run; the exit status is 1 if any failed.

``--smoke`` runs the same code on the CPU at tiny sizes (under 3 minutes on two cores; the
test suite runs it): float32 conformance, one small profile and bench per setting; the
float16 and out-of-memory checks need CUDA and are reported as skipped.

On a machine without network (a bare CUDA image that has torch, OpenCV, scikit-image and
numpy): carry the wheels VapourSynth needs, built for that machine's Python (cp312,
manylinux x86_64): ``vapoursynth`` (R74 or newer: core and Python module in one wheel),
``vapoursynth-mvtools`` (the baseline; skipped with a note without it) and ``tqdm``, in an
ignored folder of the repository such as ``.whl/``, then::

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    PYTHONPATH=/tmp/site:. python3 tools/gpu_check.py --conformance .gpu/conformance --out out

The conformance data (``anime_interp_conformance.ckpt`` and ``cases.npz`` from
``../shared/conformance``, about 25 MB) must travel too: copy it into an ignored folder of the
repository (``.gpu/conformance`` above) or point ``--conformance`` /
``$VSANIMEINTERP_CONFORMANCE_DIR`` at it. No ``vapoursynth config`` is needed: nothing here
runs ``vspipe``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = {"flow_max_px": 1e-2, "frame_mean": 1e-3, "frame_within_1e-2": 0.999}


def _default_conformance() -> Path:
    env = os.environ.get("VSANIMEINTERP_CONFORMANCE_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "conformance"


def _deviation(got: tuple[Any, ...], want: tuple[Any, ...]) -> dict[str, float]:
    frame, f12, f21 = (x.float().cpu() for x in got)
    want_frame, w12, w21 = (x.float().cpu() for x in want)
    err = (frame - want_frame).abs()
    return {
        "flow_max_px": max((f12 - w12).abs().max().item(), (f21 - w21).abs().max().item()),
        "frame_mean": err.mean().item(),
        "frame_within_1e-2": (err <= 1e-2).float().mean().item(),
    }


def _passes(dev: dict[str, float]) -> bool:
    return (dev["flow_max_px"] <= TOLERANCE["flow_max_px"]
            and dev["frame_mean"] <= TOLERANCE["frame_mean"]
            and dev["frame_within_1e-2"] >= TOLERANCE["frame_within_1e-2"])


def conformance(folder: Path, device: str, half: bool) -> dict[str, Any]:
    """The network on the shared cases, float32 (and float16 when ``half``)."""
    import numpy as np
    import torch

    from vsanimeinterp.network import load_model

    ckpt, cases_file = folder / "anime_interp_conformance.ckpt", folder / "cases.npz"
    if not (ckpt.is_file() and cases_file.is_file()):
        return {"status": "skipped", "why": f"no conformance data in {folder}"}
    with np.load(cases_file) as data:
        cases = {k: data[k] for k in data.files}
    nets = {"fp32": load_model(ckpt, device=device)}
    if half:
        nets["fp16"] = load_model(ckpt, device=device, half=True)
    rows, ok = [], True
    for index in range(3):
        def tensor(name: str, i: int = index) -> torch.Tensor:
            return torch.from_numpy(cases[f"case{i}_{name}"])[None].to(device)

        inputs = [tensor(n) for n in ("I1", "I2", "F12i", "F21i")]
        t = float(cases[f"case{index}_t"])
        want = tuple(torch.from_numpy(cases[f"case{index}_{n}"])[None]
                     for n in ("It", "F12", "F21"))
        outputs = {}
        for precision, net in nets.items():
            with torch.inference_mode():
                outputs[precision] = net(*inputs, t)
            dev = _deviation(outputs[precision], want)
            row = {"case": index, "precision": precision, **dev}
            if precision == "fp32":
                row["passes"] = _passes(dev)
                ok &= row["passes"]
            else:
                row["vs_fp32"] = _deviation(outputs[precision], outputs["fp32"])
            rows.append(row)
    return {"status": "passed" if ok else "failed", "device": device, "rows": rows}


def _command(args: list[str], timeout: float) -> dict[str, Any]:
    """``python -m vsanimeinterp ARGS --json FILE``: its JSON, or why there is none."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "vsanimeinterp", *args, "--json", str(out)]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  cwd=ROOT)
        except subprocess.TimeoutExpired:
            return {"status": "failed", "why": f"timed out after {timeout:.0f} s",
                    "command": " ".join(args)}
        result: dict[str, Any] = {"command": " ".join(args),
                                  "seconds": round(time.perf_counter() - start, 1)}
        if proc.returncode != 0 or not out.is_file():
            lines = (proc.stderr or proc.stdout).strip().splitlines() or ["no output"]
            return {**result, "status": "failed", "why": lines[-1]}
        result.update(status="passed", result=json.loads(out.read_text()))
        return result


def stages(checkpoint: Path, smoke: bool, timeout: float) -> list[dict[str, Any]]:
    """Seconds per stage and peak memory of the network engine per size and setting."""
    if smoke:
        plans = [(["--sizes", "192x128", "--devices", "cpu"], "default"),
                 (["--sizes", "192x128", "--devices", "cpu", "--flow-scale", "0.5"],
                  "flow_scale 0.5"),
                 (["--sizes", "192x128", "--devices", "cpu", "--init-flow", "none"],
                  "init_flow none")]
    else:
        gpu = ["--devices", "cuda-fp16,cuda"]
        plans = [(["--sizes", "540p,1080p,2160p", *gpu], "default"),
                 (["--sizes", "1080p", *gpu, "--flow-scale", "0.5"], "flow_scale 0.5"),
                 (["--sizes", "2160p", *gpu, "--flow-scale", "0.25"], "flow_scale 0.25"),
                 (["--sizes", "1080p", *gpu, "--init-flow", "none"], "init_flow none")]
    common = ["profile", "--engines", "animeinterp", "--corr", "auto", "--checkpoint",
              str(checkpoint), "-q"]
    return [{"setting": name, **_command([*common, *extra], timeout)} for extra, name in plans]


def end_to_end(checkpoint: Path, smoke: bool, timeout: float) -> dict[str, Any]:
    """Output frames per second through VapourSynth, with blending and MVTools beside."""
    size, frames, device = ("192x128", "4", "cpu") if smoke else ("1080p", "24", "cuda")
    return _command(["bench", "--sizes", size, "--frames", frames, "--engines", "animeinterp",
                     "--devices", device, "--init-flows", "sgm,none", "--checkpoint",
                     str(checkpoint), "-q"], timeout)


def errors(checkpoint: Path, device: str) -> dict[str, Any]:
    """Out of memory inside a frame, and a device index out of range."""
    import numpy as np
    import torch
    import vapoursynth as vs

    import vsanimeinterp
    from vsanimeinterp.vsfilter.frames import clip_from_arrays

    found: dict[str, Any] = {}
    small = clip_from_arrays(np.zeros((2, 64, 64, 3), np.float32), format=vs.RGBS)
    try:
        vsanimeinterp.interpolate(small, engine="animeinterp", checkpoint=checkpoint,
                                  device="cuda", device_index=99)
        found["device_index"] = {"status": "failed", "why": "device_index=99 was accepted"}
    except vs.Error as exc:
        found["device_index"] = {"status": "passed", "message": str(exc)}
    if device != "cuda":
        found["out_of_memory"] = {"status": "skipped", "why": "needs CUDA"}
        return found
    # Leave the network too little memory for a 4K frame drawn whole, then ask for one.
    clip = clip_from_arrays(np.random.default_rng(0).random((2, 2160, 3840, 3), np.float32),
                            format=vs.RGBS)
    out = vsanimeinterp.interpolate(clip, engine="animeinterp", checkpoint=checkpoint,
                                    device="cuda", tile_size=0, corr="all-pairs", fp16=False)
    free, _ = torch.cuda.mem_get_info()
    hog = torch.empty(max(0, free - (1 << 30)), dtype=torch.uint8, device="cuda")
    try:
        out.get_frame(1)
        found["out_of_memory"] = {"status": "failed", "why": "the frame was made"}
    except vs.Error as exc:
        message = str(exc)
        advice = "out of memory" in message and "tile_size" in message
        found["out_of_memory"] = {"status": "passed" if advice else "failed",
                                  "message": message[:400]}
    finally:
        del hog
        torch.cuda.empty_cache()
    return found


def _fmt(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def table(report: dict[str, Any]) -> str:
    """The report as text lines for a terminal."""
    lines = [f"machine: {report['machine']}"]
    conf = report["conformance"]
    lines.append(f"conformance ({conf.get('device', '-')}): {conf['status']}")
    for row in conf.get("rows", []):
        extra = ""
        if "vs_fp32" in row:
            extra = f" | vs fp32: flows {_fmt(row['vs_fp32']['flow_max_px'])} px"
        lines.append(f"  case {row['case']} {row['precision']}: flows max "
                     f"{_fmt(row['flow_max_px'])} px, frame mean {_fmt(row['frame_mean'])}, "
                     f"within 1e-2 {100 * row['frame_within_1e-2']:.3f} %{extra}")
    lines.append("stages (s per interpolated frame; memory: peak CUDA allocated or RSS growth):")
    for step in report["stages"]:
        if step["status"] != "passed":
            lines.append(f"  {step['setting']}: {step['status']}: {step.get('why', '')}")
            continue
        for r in step["result"]:
            mem = (f"{r['cuda_max_allocated_mib']:.0f} MiB CUDA" if "cuda_max_allocated_mib" in r
                   else f"+{r['peak_rss_growth_mib']:.0f} MiB RSS")
            parts = ", ".join(f"{k} {v:.3f}" for k, v in r["stages_s"].items())
            lines.append(f"  {step['setting']:<16} {r['device']:<9} {r['width']}x{r['height']}: "
                         f"{r['total_s']:.3f} ({parts}); {mem}; corr {r.get('corr_used')}")
    e2e = report["end_to_end"]
    lines.append(f"end to end ({e2e['status']}): output frames per second, 2x")
    if e2e["status"] == "passed":
        for r in e2e["result"]["runs"]:
            name = r["label"]
            lines.append(f"  {r['width']}x{r['height']} {name:<34} {r['fps']:9.2f} fps")
    else:
        lines.append(f"  {e2e.get('why', '')}")
    for name, check in report["errors"].items():
        lines.append(f"error check {name}: {check['status']} "
                     f"{check.get('why', check.get('message', ''))[:160]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true",
                    help="the same checks on the CPU at tiny sizes (for the test suite)")
    ap.add_argument("--conformance", type=Path, default=_default_conformance(), metavar="DIR",
                    help="folder with anime_interp_conformance.ckpt and cases.npz")
    ap.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                    help="where gpu_check.json goes (default: here)")
    ap.add_argument("--step-timeout", type=float, default=240.0, metavar="S",
                    help="time limit of each profile or bench step (default: %(default)s)")
    args = ap.parse_args(argv)

    import torch

    sys.path.insert(0, str(ROOT))
    if args.smoke:
        device = "cpu"
    elif torch.cuda.is_available():
        device = "cuda"
        torch.backends.cudnn.benchmark = True
    else:
        print("gpu_check: PyTorch sees no CUDA device (use --smoke on a CPU)", file=sys.stderr)
        return 2
    checkpoint = args.conformance / "anime_interp_conformance.ckpt"
    if not checkpoint.is_file():
        print(f"gpu_check: no {checkpoint} (see --conformance)", file=sys.stderr)
        return 2
    machine = (torch.cuda.get_device_name(0) if device == "cuda" else "CPU") + (
        f", torch {torch.__version__}, {os.cpu_count()} CPUs")
    report: dict[str, Any] = {"machine": machine, "smoke": args.smoke}
    started = time.perf_counter()
    report["conformance"] = conformance(args.conformance, device, half=device == "cuda")
    report["stages"] = stages(checkpoint, args.smoke, args.step_timeout)
    report["end_to_end"] = end_to_end(checkpoint, args.smoke, args.step_timeout)
    report["errors"] = errors(checkpoint, device)
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"{report['seconds']:.0f} s; wrote {args.out / 'gpu_check.json'}")
    statuses = [report["conformance"]["status"], report["end_to_end"]["status"],
                *(s["status"] for s in report["stages"]),
                *(c["status"] for c in report["errors"].values())]
    return 1 if "failed" in statuses else 0


if __name__ == "__main__":
    sys.exit(main())
