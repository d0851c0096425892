"""The weight-free engine: segment-guided matching flows + softmax-splatting synthesis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..ops.flow import hwc_to_tensor
from ..sgm import SGMFrame, pair_flows, prepare_frame
from ..sgm.params import WORK_PIXELS
from ..stages import NO_RECORDER, Recorder
from ..synthesis import softsplat
from .base import EngineStats


@dataclass
class SGMPrepared:
    """A source frame as the SGM engine keeps it.

    Attributes:
        image: 1×3×H×W float32 RGB in [0, 1] on the engine's device.
        sgm: the frame prepared for matching (working resolution, pieces, descriptors).
    """

    image: torch.Tensor
    sgm: SGMFrame


class SGMEngine:
    """Segment-guided matching flows + softmax splatting. Needs no weights.

    Args:
        device: torch device for synthesis (matching and flows run on the CPU with OpenCV).
        max_pixels: working-resolution area of SGM, see :func:`~vsanimeinterp.sgm.work_size_for`.
        flow_scale: flows are estimated at most at this fraction of the frame's width and
            height (and never above ``max_pixels``), then scaled up.
        recorder: receives the stages ``segmentation``, ``matching``, ``flow`` and
            ``synthesis``.
    """

    name = "sgm"

    def __init__(
        self, device: str = "cpu", max_pixels: int = WORK_PIXELS, flow_scale: float = 1.0,
        recorder: Recorder = NO_RECORDER,
    ) -> None:
        self.device = torch.device(device)
        self.max_pixels = max_pixels
        self.flow_scale = flow_scale
        self.recorder = recorder
        self.stats = EngineStats()

    def prepare_sgm(self, img: np.ndarray) -> SGMFrame:
        """SGM's per-frame work on a 3×H×W float32 RGB image in [0, 1]."""
        hwc = np.ascontiguousarray(img.transpose(1, 2, 0))
        area = round(hwc.shape[0] * hwc.shape[1] * self.flow_scale**2)
        return prepare_frame(hwc, min(self.max_pixels, area), self.recorder)

    def flows(self, a: SGMFrame, b: SGMFrame, details: dict[str, np.ndarray] | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """SGM flows of two prepared frames: 1×2×H×W float32 pixels on the engine's device.
        ``details`` receives the intermediate results (see :func:`~vsanimeinterp.sgm.
        pair_flows`)."""
        f12, f21 = pair_flows(a, b, self.recorder, details)
        return hwc_to_tensor(f12, self.device), hwc_to_tensor(f21, self.device)

    def prepare_frame(self, img: np.ndarray) -> SGMPrepared:
        self.stats.frames += 1
        sgm = self.prepare_sgm(img)
        tensor = torch.from_numpy(np.ascontiguousarray(img))[None].to(self.device)
        return SGMPrepared(tensor, sgm)

    @torch.inference_mode()
    def prepare_pair(self, a: SGMPrepared, b: SGMPrepared) -> softsplat.PairState:
        self.stats.pairs += 1
        details: dict[str, np.ndarray] = {}
        flow12, flow21 = self.flows(a.sgm, b.sgm, details)
        return self.pair_from_flows(a, b, flow12, flow21, details)

    def pair_from_flows(
        self, a: SGMPrepared, b: SGMPrepared, flow12: torch.Tensor, flow21: torch.Tensor,
        details: dict[str, np.ndarray] | None = None,
    ) -> softsplat.PairState:
        """The synthesis state of a pair from given 1×2×H×W flows (pixels); ``details`` of
        :meth:`flows` add which pixels go in front where pieces cross (far jumps and
        movers)."""
        return self.pair_from_images(a.image, b.image, flow12, flow21, details)

    @torch.inference_mode()
    def pair_from_images(
        self, img1: torch.Tensor, img2: torch.Tensor, flow12: torch.Tensor,
        flow21: torch.Tensor, details: dict[str, np.ndarray] | None = None,
    ) -> softsplat.PairState:
        """:meth:`pair_from_flows` for two 1×3×H×W RGB images in [0, 1] (the fusion
        network's training tool keeps images and flows, not prepared frames)."""
        with self.recorder.stage("synthesis"):
            details = details or {}
            return softsplat.prepare_pair(
                img1, img2, flow12, flow21,
                front1=self._frame_mask(details.get("front12"), img1.shape[-2:]),
                front2=self._frame_mask(details.get("front21"), img2.shape[-2:]),
                mover1=self._frame_mask(details.get("movers12"), img1.shape[-2:]),
                mover2=self._frame_mask(details.get("movers21"), img2.shape[-2:]))

    def _frame_mask(self, mask: np.ndarray | None, size: torch.Size) -> torch.Tensor | None:
        """A working-resolution h×w bool mask as a 1×1×H×W float tensor at frame size."""
        if mask is None or not mask.any():
            return None
        m = torch.from_numpy(mask)[None, None].to(self.device, torch.float32)
        if tuple(m.shape[-2:]) == tuple(size):
            return m
        return F.interpolate(m, size=tuple(size), mode="nearest")

    @torch.inference_mode()
    def render(self, pair: softsplat.PairState, t: float) -> np.ndarray:
        self.stats.renders += 1
        with self.recorder.stage("synthesis"):
            return softsplat.render(pair, t)[0].float().cpu().numpy()
