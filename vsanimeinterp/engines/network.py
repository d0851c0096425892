"""The neural engine: SGM flows → RFR refinement → warping + GridNet, with work done once.

Per frame: the image is padded to a size the network handles and encoded once (flow-net
features and the synthesis feature pyramid), next to its SGM preparation. Per pair: SGM
flows in both directions, refined by RFR (batched where that is faster). Per in-between: only
warping and GridNet, which are all that depend on ``t``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..network import FrameFeatures, crop_to, load_model, pad_to, padded_size
from ..sgm import flows as sgm
from .sgm import EngineStats, SGMEngine

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


def resize_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of an N×2×H×W flow in pixels to N×2×h×w in pixels of the new size."""
    height, width = flow.shape[-2:]
    if (height, width) == tuple(size):
        return flow
    out = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
    return torch.cat((out[:, :1] * (size[1] / width), out[:, 1:] * (size[0] / height)), 1)


@dataclass
class _Frame:
    image: torch.Tensor  # 1×3×H'×W' padded RGB in [0, 1]
    sgm: sgm.SGMFrame
    features: FrameFeatures
    size: tuple[int, int]  # original H, W


@dataclass
class _Pair:
    a: _Frame
    b: _Frame
    flow12: torch.Tensor  # 1×2×H'×W' refined, pixels
    flow21: torch.Tensor


class AnimeInterpEngine:
    """The paper's network on the filter's frame/pair/render split.

    Args:
        checkpoint: path of the official checkpoint (or one in its format).
        device: torch device string.
        fp16: half precision for the convolutional parts (default: on CUDA only); the
            correlation and flow coordinates stay float32.
        corr: correlation look-up, see :attr:`AnimeInterp.corr_mode`.
        flow_scale: SGM and RFR work on the frames scaled by this factor (at least 128
            pixels per side after padding); the flows are scaled back up. 1.0 is the
            reference behaviour. Synthesis always runs at full size.
        tile_size: synthesis tile side in pixels (multiple of 4), 0 for whole frames, None
            to choose from the free memory once per frame size (:func:`auto_tile_size`).
            Tiled, the feature pyramid, warping and GridNet all run per tile
            (:meth:`AnimeInterp.synthesize_tiled`).
        tile_overlap: context margin of each tile in pixels (multiple of 4).
    """

    name = "animeinterp"

    def __init__(
        self, checkpoint: str | os.PathLike[str], device: str = "cpu",
        fp16: bool | None = None, corr: str = "auto", flow_scale: float = 1.0,
        tile_size: int | None = None, tile_overlap: int = 64,
    ) -> None:
        self.device = torch.device(device)
        half = self.device.type == "cuda" if fp16 is None else fp16
        self.net = load_model(checkpoint, device=self.device, half=half)
        self.net.corr_mode = corr
        self.tile_overlap = tile_overlap
        self.tile_size = tile_size
        self._tiles: dict[tuple[int, int], int] = {}
        self.flow_scale = flow_scale
        self._sgm = SGMEngine(device, flow_scale=flow_scale)
        self.stats = EngineStats()

    @torch.inference_mode()
    def prepare_frame(self, img: np.ndarray) -> _Frame:
        self.stats.frames += 1
        tensor, sgm_frame = self._sgm.prepare_frame(img)
        h, w = tensor.shape[-2:]
        padded = pad_to(tensor, *padded_size(h, w))
        small = None
        if self.flow_scale != 1.0:
            # The flow net sees the reduced frame; synthesis keeps the full-size features.
            sh, sw = self._flow_size(h, w)
            small = F.interpolate(tensor, size=(sh, sw), mode="bilinear", align_corners=False,
                                  antialias=True)
            small = pad_to(small, *padded_size(sh, sw))
        features = self.net.encode_frame(padded, small, pyramid=not self._tile(*padded.shape[-2:]))
        return _Frame(padded, sgm_frame, features, (h, w))

    def _tile(self, height: int, width: int) -> int:
        """Synthesis tile side for padded frames of this size (0: whole frames)."""
        if self.tile_size is not None:
            return 0 if max(height, width) <= self.tile_size else self.tile_size
        if (height, width) not in self._tiles:
            self._tiles[(height, width)] = auto_tile_size(
                height, width, available_memory(self.device), self.tile_overlap)
        return self._tiles[(height, width)]

    def _flow_size(self, h: int, w: int) -> tuple[int, int]:
        return max(1, round(h * self.flow_scale)), max(1, round(w * self.flow_scale))

    @torch.inference_mode()
    def prepare_pair(self, a: _Frame, b: _Frame) -> _Pair:
        self.stats.pairs += 1
        f12, f21 = self._sgm.flows((None, a.sgm), (None, b.sgm))
        ph, pw = a.image.shape[-2:]
        if self.flow_scale == 1.0:
            flow12, flow21 = self.net.refine_flows(
                a.features, b.features, pad_to(f12, ph, pw), pad_to(f21, ph, pw)
            )
            return _Pair(a, b, flow12, flow21)
        h, w = a.size
        sh, sw = self._flow_size(h, w)
        sph, spw = padded_size(sh, sw)
        small12, small21 = (pad_to(resize_flow(f, (sh, sw)), sph, spw) for f in (f12, f21))
        flow12, flow21 = self.net.refine_flows(a.features, b.features, small12, small21)
        flow12, flow21 = (
            pad_to(resize_flow(crop_to(f, sh, sw), (h, w)), ph, pw) for f in (flow12, flow21)
        )
        return _Pair(a, b, flow12, flow21)

    @torch.inference_mode()
    def render(self, pair: _Pair, t: float) -> np.ndarray:
        self.stats.renders += 1
        a, b = pair.a, pair.b
        tile = self._tile(*a.image.shape[-2:])
        if tile:
            out = self.net.synthesize_tiled(
                a.image, b.image, pair.flow12, pair.flow21, t, tile, self.tile_overlap
            )
        else:
            out = self.net.synthesize(
                a.image, b.image, a.features, b.features, pair.flow12, pair.flow21, t
            )
        out = crop_to(out, *a.size).clamp(0, 1)
        return out[0].float().cpu().numpy()
