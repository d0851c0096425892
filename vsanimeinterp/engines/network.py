"""The neural engine: SGM flows → RFR refinement → warping + GridNet, with work done once.

Per frame: the image is padded to a size the network handles and encoded once (flow-net
features and, for whole-frame synthesis, the feature pyramid), next to its SGM preparation.
Per pair: SGM flows in both directions (or zero flow with ``init_flow="none"``), refined by
RFR. Per in-between: only warping and GridNet, which are all that depend on ``t``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..network import FrameFeatures, crop_to, load_model, pad_to, padded_size
from ..network.tiling import synthesize_tiled
from ..ops.flow import resize_flow
from ..options import NetworkOptions
from ..sgm import SGMFrame
from ..stages import NO_RECORDER, Recorder
from .base import EngineStats
from .sgm import SGMEngine

#: Peak working memory of synthesis per pixel of a tile: GridNet measured about 1.7 KiB in
#: float32 (960×544 and 256×256), plus the tile's feature pyramids and warped inputs.
TILE_BYTES_PER_PIXEL = 3072


def available_memory(device: torch.device) -> int:
    """Bytes free for new allocations: CUDA's free memory, else Linux's MemAvailable (8 GiB
    where neither can be read)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30


def auto_tile_size(height: int, width: int, free_bytes: int, overlap: int) -> int:
    """Core tile side (pixels, multiple of 64, at least 128) so that synthesising one tile
    with its ``overlap`` margins uses at most a quarter of ``free_bytes`` (several frames may
    be in flight); 0 when the whole frame fits."""
    if height * width * TILE_BYTES_PER_PIXEL <= free_bytes // 4:
        return 0
    side = int(((free_bytes // 4) / TILE_BYTES_PER_PIXEL) ** 0.5) - 2 * overlap
    return max(128, side // 64 * 64)


@dataclass
class NetworkFrame:
    """A source frame as the network engine keeps it.

    Attributes:
        image: 1×3×H'×W' padded RGB in [0, 1] on the engine's device.
        sgm: its SGM preparation (None with ``init_flow="none"``).
        features: the network's per-frame features.
        size: original (H, W) in pixels.
    """

    image: torch.Tensor
    sgm: SGMFrame | None
    features: FrameFeatures
    size: tuple[int, int]


@dataclass
class NetworkPair:
    """Two frames and their refined 1×2×H'×W' flows in pixels (padded size)."""

    a: NetworkFrame
    b: NetworkFrame
    flow12: torch.Tensor
    flow21: torch.Tensor


class AnimeInterpEngine:
    """The paper's network on the filter's frame/pair/render split.

    Args:
        checkpoint: path of the official checkpoint (or one in its format).
        device: torch device string.
        options: correlation look-up, ``flow_scale``, tiling, precision and initial flow
            (:class:`~vsanimeinterp.options.NetworkOptions`). With ``flow_scale`` < 1 SGM and
            RFR work on the frames scaled by it (at least 128 pixels per side after padding)
            and the flows are scaled back up; synthesis always runs at full size. With tiles
            (``tile_size``, or chosen from the free memory once per frame size by
            :func:`auto_tile_size`), the feature pyramid, warping and GridNet run per tile.
        recorder: receives the stages ``sgm`` (through the SGM engine: ``segmentation``,
            ``matching``, ``flow``), ``rfr`` (flow-net encoder, padding and resizing around
            it, refinement) and ``synthesis`` (feature pyramid, warping, GridNet, crop).
    """

    name = "animeinterp"

    def __init__(
        self, checkpoint: str | os.PathLike[str], device: str = "cpu",
        options: NetworkOptions | None = None, recorder: Recorder = NO_RECORDER,
    ) -> None:
        self.options = options = options or NetworkOptions()
        self.device = torch.device(device)
        half = self.device.type == "cuda" if options.fp16 is None else options.fp16
        self.net = load_model(checkpoint, device=self.device, half=half)
        self.net.corr_mode = options.corr
        self.recorder = recorder
        self._tiles: dict[tuple[int, int], int] = {}
        self._sgm = (SGMEngine(device, flow_scale=options.flow_scale, recorder=recorder)
                     if options.init_flow == "sgm" else None)
        self.stats = EngineStats()

    @property
    def flow_scale(self) -> float:
        return self.options.flow_scale

    def tile_for(self, height: int, width: int) -> int:
        """Synthesis tile side for padded frames of this size (0: whole frames)."""
        tile_size = self.options.tile_size
        if tile_size is not None:
            return 0 if max(height, width) <= tile_size else tile_size
        if (height, width) not in self._tiles:
            self._tiles[(height, width)] = auto_tile_size(
                height, width, available_memory(self.device), self.options.tile_overlap)
        return self._tiles[(height, width)]

    def flow_size(self, height: int, width: int) -> tuple[int, int]:
        """Size (h, w) the flows are estimated at for frames of height × width."""
        scale = self.flow_scale
        return max(1, round(height * scale)), max(1, round(width * scale))

    @torch.inference_mode()
    def prepare_frame(self, img: np.ndarray) -> NetworkFrame:
        self.stats.frames += 1
        rec = self.recorder
        sgm_frame = None
        if self._sgm is not None:
            with rec.stage("sgm"):
                sgm_frame = self._sgm.prepare_sgm(img)
        with rec.stage("rfr"):
            tensor = torch.from_numpy(np.ascontiguousarray(img))[None].to(self.device)
            h, w = tensor.shape[-2:]
            padded = pad_to(tensor, *padded_size(h, w))
            flow_in = padded
            if self.flow_scale != 1.0:
                # The flow net sees the reduced frame; synthesis keeps the full-size features.
                sh, sw = self.flow_size(h, w)
                small = F.interpolate(tensor, size=(sh, sw), mode="bilinear",
                                      align_corners=False, antialias=True)
                flow_in = pad_to(small, *padded_size(sh, sw))
            fmap = self.net.encode_flow(flow_in)
        levels = None
        if not self.tile_for(*padded.shape[-2:]):
            with rec.stage("synthesis"):
                levels = self.net.encode_pyramid(padded)
        features = FrameFeatures((padded.float() - 0.5) / 0.5, fmap, levels)
        return NetworkFrame(padded, sgm_frame, features, (h, w))

    def _initial_flows(self, a: NetworkFrame, b: NetworkFrame) -> tuple[torch.Tensor, ...]:
        """1×2×h×w initial flows at the flow net's (padded) input size."""
        h, w = a.size
        sh, sw = self.flow_size(h, w)
        fh, fw = padded_size(sh, sw)
        if self._sgm is None or a.sgm is None or b.sgm is None:
            zero = torch.zeros(1, 2, fh, fw, device=self.device)
            return zero, zero
        with self.recorder.stage("sgm"):
            f12, f21 = self._sgm.flows(a.sgm, b.sgm)
        with self.recorder.stage("rfr"):
            return tuple(pad_to(resize_flow(f, (sh, sw)), fh, fw) for f in (f12, f21))

    @torch.inference_mode()
    def prepare_pair(self, a: NetworkFrame, b: NetworkFrame) -> NetworkPair:
        self.stats.pairs += 1
        init12, init21 = self._initial_flows(a, b)
        with self.recorder.stage("rfr"):
            flow12, flow21 = self.net.refine_flows(a.features, b.features, init12, init21)
            if self.flow_scale != 1.0:
                h, w = a.size
                sh, sw = self.flow_size(h, w)
                ph, pw = a.image.shape[-2:]
                flow12, flow21 = (pad_to(resize_flow(crop_to(f, sh, sw), (h, w)), ph, pw)
                                  for f in (flow12, flow21))
        return NetworkPair(a, b, flow12, flow21)

    @torch.inference_mode()
    def render(self, pair: NetworkPair, t: float) -> np.ndarray:
        self.stats.renders += 1
        a, b = pair.a, pair.b
        with self.recorder.stage("synthesis"):
            tile = self.tile_for(*a.image.shape[-2:])
            if tile:
                out = synthesize_tiled(self.net, a.image, b.image, pair.flow12, pair.flow21, t,
                                       tile, self.options.tile_overlap)
            else:
                out = self.net.synthesize(a.image, b.image, a.features, b.features,
                                          pair.flow12, pair.flow21, t)
            out = crop_to(out, *a.size).clamp(0, 1)
            return out[0].float().cpu().numpy()
