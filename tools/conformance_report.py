"""How far this project's network is from the authors' code on the conformance cases.

For each case of ``cases.npz`` (see ``../shared/conformance/README.md``) and each precision
and device asked for, prints the largest flow deviation (pixels), the mean frame deviation
and the share of frame values within 1e-2, next to the README's tolerances, and for float16
also its deviation from this project's own float32 output (what switching fp16 on changes).

Usage: ``python tools/conformance_report.py [--device cpu|cuda] [--fp16] [--cases 0,1,2]``
(``VSANIMEINTERP_CONFORMANCE_DIR`` overrides the data folder). CPU float16 convolutions use
PyTorch's slow fallback: case 0 takes about half a minute.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

from vsanimeinterp.network import load_model


def _deviation(got: tuple[torch.Tensor, ...], want: tuple[torch.Tensor, ...]) -> str:
    frame, f12, f21 = (x.float().cpu() for x in got)
    want_frame, w12, w21 = want
    flow = max((f12 - w12).abs().max().item(), (f21 - w21).abs().max().item())
    err = (frame - want_frame).abs()
    return (f"flows max {flow:.2e} px | frame mean {err.mean().item():.2e}, "
            f"within 1e-2: {100 * (err <= 1e-2).float().mean().item():.3f} %")


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    default = Path(os.environ.get("VSANIMEINTERP_CONFORMANCE_DIR",
                                  root.parent / "shared" / "conformance"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=default)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--fp16", action="store_true", help="also run in half precision")
    ap.add_argument("--cases", default="0,1,2")
    args = ap.parse_args()

    ckpt = args.dir / "anime_interp_conformance.ckpt"
    with np.load(args.dir / "cases.npz") as data:
        cases = {k: data[k] for k in data.files}
    nets = {"fp32": load_model(ckpt, device=args.device)}
    if args.fp16:
        nets["fp16"] = load_model(ckpt, device=args.device, half=True)
    print("tolerances: flows max 1e-2 px | frame mean 1e-3, within 1e-2: 99.9 %")
    for index in (int(c) for c in args.cases.split(",")):
        def tensor(name: str, i: int = index) -> torch.Tensor:
            return torch.from_numpy(cases[f"case{i}_{name}"])[None].to(args.device)

        inputs = [tensor(n) for n in ("I1", "I2", "F12i", "F21i")]
        t = float(cases[f"case{index}_t"])
        want = tuple(torch.from_numpy(cases[f"case{index}_{n}"])[None]
                     for n in ("It", "F12", "F21"))
        h, w = inputs[0].shape[-2:]
        outs = {}
        with torch.inference_mode():
            for name, net in nets.items():
                outs[name] = tuple(net(*inputs, t)[:3])
                print(f"case {index} ({w}x{h}, t={t}) {args.device} {name} vs reference: "
                      f"{_deviation(outs[name], want)}")
        if "fp16" in outs:
            ref = tuple(x.float().cpu() for x in outs["fp32"])
            print(f"case {index} {args.device} fp16 vs fp32: {_deviation(outs['fp16'], ref)}")


if __name__ == "__main__":
    main()
