"""Engines: what the filter calls to turn two source frames into in-betweens.

An engine splits its work by what it depends on, so that the filter can cache each part:

* ``prepare_frame(img)``: work on one source frame (segmentation, features), shared by the two
  pairs the frame belongs to;
* ``prepare_pair(a, b)``: work on a pair (matching, flows), shared by all its in-betweens;
* ``render(pair, t)``: the part that depends on ``t`` (warping and synthesis).

Images cross this boundary as 3×H×W float32 numpy arrays, RGB in [0, 1].
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..sgm import flows as sgm
from ..synthesis import softsplat as synthesis


@dataclass
class EngineStats:
    """How much work an engine did; the filter's tests count flows with it."""

    frames: int = 0
    pairs: int = 0
    renders: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


class SGMEngine:
    """Segment-guided matching flows + softmax splatting. Needs no weights.

    Args:
        device: torch device for synthesis (matching and flows run on the CPU with OpenCV).
        max_pixels: working-resolution area of SGM, see :func:`sgm.working_size`.
        flow_scale: flows are estimated at most at this fraction of the frame's width and
            height (and never above ``max_pixels``), then scaled up.
    """

    name = "sgm"

    def __init__(
        self, device: str = "cpu", max_pixels: int = sgm.WORK_PIXELS, flow_scale: float = 1.0
    ) -> None:
        self.device = torch.device(device)
        self.max_pixels = max_pixels
        self.flow_scale = flow_scale
        self.stats = EngineStats()

    def prepare_frame(self, img: np.ndarray) -> tuple[torch.Tensor, sgm.SGMFrame]:
        self.stats.frames += 1
        hwc = np.ascontiguousarray(img.transpose(1, 2, 0))
        tensor = torch.from_numpy(np.ascontiguousarray(img))[None].to(self.device)
        area = round(hwc.shape[0] * hwc.shape[1] * self.flow_scale**2)
        return tensor, sgm.prepare_frame(hwc, min(self.max_pixels, area))

    def flows(self, a: Any, b: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """SGM flows of a prepared pair as 1×2×H×W tensors on the engine's device."""
        f12, f21 = sgm.pair_flows(a[1], b[1])
        return (
            torch.from_numpy(f12).permute(2, 0, 1)[None].to(self.device),
            torch.from_numpy(f21).permute(2, 0, 1)[None].to(self.device),
        )

    @torch.inference_mode()
    def prepare_pair(self, a: Any, b: Any) -> synthesis.PairState:
        self.stats.pairs += 1
        f12, f21 = self.flows(a, b)
        return synthesis.prepare_pair(a[0], b[0], f12, f21)

    @torch.inference_mode()
    def render(self, pair: synthesis.PairState, t: float) -> np.ndarray:
        self.stats.renders += 1
        return synthesis.render(pair, t)[0].float().cpu().numpy()


def make_engine(
    engine: str,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    fp16: bool | None = None,
    corr: str = "auto",
    flow_scale: float = 1.0,
    tile_size: int | None = None,
    tile_overlap: int = 64,
) -> Any:
    """The engine the filter asked for. ``"auto"`` takes the network when a checkpoint is
    found (argument, ``$VSANIMEINTERP_CHECKPOINT``, downloaded file), else SGM."""
    if engine == "sgm":
        return SGMEngine(device, flow_scale=flow_scale)
    from ..checkpoints.store import find_checkpoint, missing_checkpoint_message

    path = find_checkpoint(checkpoint)
    if path is None:
        if engine == "animeinterp":
            raise ValueError(f"engine='animeinterp': {missing_checkpoint_message()}")
        return SGMEngine(device, flow_scale=flow_scale)
    from .network import AnimeInterpEngine

    return AnimeInterpEngine(path, device=device, fp16=fp16, corr=corr, flow_scale=flow_scale,
                             tile_size=tile_size, tile_overlap=tile_overlap)
