"""AnimeInterp: flow refinement, forward warping of frames and features, GridNet synthesis.

The computation is split so that a video filter does each piece of work once:
:meth:`AnimeInterp.encode_frame` per frame, :meth:`AnimeInterp.refine_flows` per pair of
neighbouring frames, :meth:`AnimeInterp.synthesize` per output time ``t``. ``forward`` chains
them and is what the conformance data checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..ops.splatting import splat_normalized
from .feature import FeaturePyramid
from .gridnet import GridNet
from .padding import crop_to, pad_to, padded_size
from .rfr import ITERATIONS, RFR


@dataclass(frozen=True)
class FrameFeatures:
    """Per-frame results reused by every pair and every ``t`` the frame takes part in.

    Attributes:
        image: N×3×H×W frame normalised to [-1, 1] (float32).
        fmap: N×256×(H8/8)×(W8/8) flow-net features, H8 = H//8·8 (float32).
        levels: synthesis features N×32×H×W, N×64×⌈H/2⌉×⌈W/2⌉, N×96×⌈H/4⌉×⌈W/4⌉ (None
            when tiled synthesis computes them per tile), in the
            model's compute dtype (float16 with half precision on).
    """

    image: torch.Tensor
    fmap: torch.Tensor
    levels: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None


def _time_factor(t: float | torch.Tensor, like: torch.Tensor) -> float | torch.Tensor:
    # A per-sample t (shape N or N×1×1×1) has to broadcast over C×H×W.
    if isinstance(t, torch.Tensor) and t.dim() > 0:
        return t.to(like).reshape(-1, 1, 1, 1)
    return t


def resize_flow_nearest(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour resize of an N×2×H×W flow in pixels to N×2×h×w, in pixels of h×w.

    Components are scaled as the reference does: ``x · w / W`` and ``y · h / H``.
    """
    height, width = flow.shape[-2:]
    small = F.interpolate(flow, size=size, mode="nearest")
    return torch.cat((small[:, :1] * size[1] / width, small[:, 1:] * size[0] / height), 1)


def _warp_pair(
    a: torch.Tensor, b: torch.Tensor, flow_a: torch.Tensor, flow_b: torch.Tensor
) -> torch.Tensor:
    """Forward-warp ``a`` along ``flow_a`` and ``b`` along ``flow_b`` (both N×C×h×w, flows in
    pixels), normalise by the splatted weight in float32 and concatenate: N×2C×h×w float32."""
    # One splat per frame: batching them would double the transient memory for no speed.
    warped_a, _ = splat_normalized(a.float(), flow_a.float())
    warped_b, _ = splat_normalized(b.float(), flow_b.float())
    return torch.cat((warped_a, warped_b), 1)


class AnimeInterp(nn.Module):
    """The AnimeInterp network with the published checkpoint's module names.

    Submodules: ``flownet`` (:class:`RFR`), ``feat_ext`` (:class:`FeaturePyramid`),
    ``synnet`` (:class:`GridNet`). All public methods run without autograd.

    Attributes:
        batch_directions: in :meth:`refine_flows`, run both flow directions as one batch of
            2N (True) or as two passes of N (False). None (default) batches on CUDA only: on
            the CPU two passes measured faster (4.7 s against 8.1 s at 960×540, 2 threads)
            and need half the memory for the correlation volumes.
        corr_mode: correlation look-up of the flow net: ``"auto"`` (default: the reference's
            all-pairs volume while it fits in ``network.corr.ALL_PAIRS_BUDGET``, else the
            memory-bounded look-up), ``"all-pairs"`` or ``"bounded"``; all give the same
            numbers within float rounding.
        tile_size, tile_overlap: GridNet on tiles of this core side with this context
            margin (pixels, multiples of 4), see :meth:`fuse`; 0 (default) runs it whole.
    """

    def __init__(self) -> None:
        super().__init__()
        self.flownet = RFR()
        self.feat_ext = FeaturePyramid()
        self.synnet = GridNet()
        self.batch_directions: bool | None = None
        self.corr_mode = "auto"
        self.tile_size = 0
        self.tile_overlap = 64
        self._half = False

    # -- precision ----------------------------------------------------------------------

    @property
    def half_precision(self) -> bool:
        """Whether the convolutional parts run in float16.

        Setting it converts the weights of the feature encoders, the update block and
        GridNet (float32 -> float16 rounds them; turning it off again does not undo that).
        The correlation volume, coordinates, flow accumulation, flow upsampling and splatting
        stay float32 either way.
        """
        return self._half

    @half_precision.setter
    def half_precision(self, enabled: bool) -> None:
        dtype = torch.float16 if enabled else torch.float32
        for module in (self.flownet.fnet, self.flownet.update_block, self.feat_ext, self.synnet):
            module.to(dtype)
        self._half = bool(enabled)

    @property
    def _compute_dtype(self) -> torch.dtype:
        return torch.float16 if self._half else torch.float32

    # -- the three stages ---------------------------------------------------------------

    @torch.no_grad()
    def encode_frame(
        self, image: torch.Tensor, flow_image: torch.Tensor | None = None, pyramid: bool = True
    ) -> FrameFeatures:
        """Everything that depends on one frame only.

        Args:
            image: N×3×H×W RGB in [0, 1].
            flow_image: the frame the flow net should see instead (e.g. reduced for
                ``flow_scale``), N×3×h×w RGB in [0, 1]; ``image`` by default.
            pyramid: also compute the synthesis feature pyramid (not needed by
                :meth:`synthesize_tiled`, which computes it per tile).
        """
        normalised = (image.float() - 0.5) / 0.5
        flow_in = normalised if flow_image is None else (flow_image.float() - 0.5) / 0.5
        fmap = self.flownet.encode(flow_in)
        levels = self.feat_ext(normalised.to(self._compute_dtype)) if pyramid else None
        return FrameFeatures(normalised, fmap, levels)

    @torch.no_grad()
    def refine_flows(
        self,
        f1: FrameFeatures,
        f2: FrameFeatures,
        flow12_init: torch.Tensor,
        flow21_init: torch.Tensor,
        iters: int = ITERATIONS,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Refine the initial flows in both directions.

        Args:
            f1, f2: :meth:`encode_frame` results for frames 1 and 2 (H×W each).
            flow12_init, flow21_init: N×2×H×W initial flows in pixels, channel 0 = x.
            iters: GRU iterations (the model was trained and evaluated with 12).

        Returns:
            ``(F12, F21)``, N×2×H×W float32 flows in pixels.
        """
        batch = self.batch_directions
        if batch is None:
            batch = f1.fmap.device.type == "cuda"
        if batch:
            n = f1.fmap.shape[0]
            flows, _ = self.flownet.refine(
                torch.cat((f1.fmap, f2.fmap)),
                torch.cat((f2.fmap, f1.fmap)),
                torch.cat((flow12_init, flow21_init)),
                iters,
                self.corr_mode,
            )
            return flows[:n], flows[n:]
        flow12, _ = self.flownet.refine(f1.fmap, f2.fmap, flow12_init, iters, self.corr_mode)
        flow21, _ = self.flownet.refine(f2.fmap, f1.fmap, flow21_init, iters, self.corr_mode)
        return flow12, flow21

    @torch.no_grad()
    def synthesize(
        self,
        image1: torch.Tensor,
        image2: torch.Tensor,
        f1: FrameFeatures,
        f2: FrameFeatures,
        flow12: torch.Tensor,
        flow21: torch.Tensor,
        t: float | torch.Tensor,
    ) -> torch.Tensor:
        """Warp both frames and their features to time ``t`` and fuse them with GridNet.

        Args:
            image1, image2: N×3×H×W frames in [0, 1] (these, not the normalised ones, are
                warped); H and W multiples of 4.
            f1, f2: their :meth:`encode_frame` results.
            flow12, flow21: N×2×H×W refined flows in pixels.
            t: time in 0..1 (0 = frame 1): a float, a 0-d tensor or one value per sample (N).

        Returns:
            N×3×H×W float32 frame, nominally 0..1 but not clamped.
        """
        tf = _time_factor(t, flow12)
        flow1t = tf * flow12
        flow2t = (1 - tf) * flow21

        if f1.levels is None or f2.levels is None:
            raise ValueError("synthesize needs encode_frame(..., pyramid=True) features")
        warped = [_warp_pair(image1, image2, flow1t, flow2t)]
        for level1, level2 in zip(f1.levels, f2.levels, strict=True):
            size = (level1.shape[-2], level1.shape[-1])
            warped.append(
                _warp_pair(
                    level1,
                    level2,
                    resize_flow_nearest(flow1t, size),
                    resize_flow_nearest(flow2t, size),
                )
            )
        return self.fuse(warped, self.tile_size, self.tile_overlap)

    def fuse(self, warped: list[torch.Tensor], tile: int = 0, overlap: int = 64) -> torch.Tensor:
        """GridNet on the warped inputs, whole or on overlapping tiles.

        Args:
            warped: the four GridNet inputs at full, full, 1/2 and 1/4 size (H, W multiples
                of 4).
            tile: core tile side in pixels (a multiple of 4); 0 or a tile covering the frame
                runs GridNet once. Each tile is computed with ``overlap`` extra pixels of
                context on every side (clipped at the frame border) and only its core is
                kept, so memory follows the tile, not the frame.
            overlap: context margin in pixels (a multiple of 4). GridNet's reach is below 64
                pixels (46 full-size pixels either way, from the extent of its response to
                one input pixel with all weights made positive): with 64 the tiled result
                equals the whole-frame one exactly (measured at 960×544 with 256-pixel
                tiles; 32 gave 2e-4 at most).

        Returns:
            N×3×H×W float32.
        """
        dtype = self._compute_dtype
        n, _, height, width = warped[0].shape
        if not tile or (height <= tile and width <= tile):
            return self.synnet(*(w.to(dtype) for w in warped)).float()
        if tile % 4 or overlap % 4 or height % 4 or width % 4:
            raise ValueError("tile, overlap and the frame size must be multiples of 4")
        out = warped[0].new_empty(n, 3, height, width, dtype=torch.float32)
        for y0 in range(0, height, tile):
            for x0 in range(0, width, tile):
                y1, x1 = min(y0 + tile, height), min(x0 + tile, width)
                ey0, ex0 = max(0, y0 - overlap), max(0, x0 - overlap)
                ey1, ex1 = min(height, y1 + overlap), min(width, x1 + overlap)
                # Multiples of 4 keep the 1/2 and 1/4 grids (and GridNet's strided
                # convolutions) aligned with the whole-frame computation.
                crops = [
                    w[..., ey0 // s:ey1 // s, ex0 // s:ex1 // s].to(dtype)
                    for w, s in zip(warped, (1, 1, 2, 4), strict=True)
                ]
                res = self.synnet(*crops).float()
                out[..., y0:y1, x0:x1] = res[..., y0 - ey0:y1 - ey0, x0 - ex0:x1 - ex0]
        return out

    @torch.no_grad()
    def synthesize_tiled(
        self,
        image1: torch.Tensor,
        image2: torch.Tensor,
        flow12: torch.Tensor,
        flow21: torch.Tensor,
        t: float,
        tile: int,
        overlap: int = 64,
    ) -> torch.Tensor:
        """:meth:`synthesize` with memory that follows the tile, not the frame.

        For each output tile (plus ``overlap`` pixels of context) only the source pixels of
        each frame whose motion lands in or near it are used: the feature pyramid is
        computed on their bounding box (plus a margin wider than the pyramid's 14-pixel
        reach), warped into the tile, and GridNet fuses the tile. Positions are computed in
        frame coordinates, so the result equals :meth:`synthesize` up to float summation
        order. A region that gathers sources from the whole frame (a zoom, a flash) needs
        the whole frame's features for that tile.

        Args:
            image1, image2: N×3×H×W frames in [0, 1], H and W multiples of 4.
            flow12, flow21: N×2×H×W refined flows in pixels.
            t: time in 0..1.
            tile, overlap: core tile side and context margin in pixels, multiples of 4.

        Returns:
            N×3×H×W float32, not clamped.
        """
        n, _, height, width = image1.shape
        if tile % 4 or overlap % 4 or height % 4 or width % 4:
            raise ValueError("tile, overlap and the frame size must be multiples of 4")
        dtype = self._compute_dtype
        flows = (t * flow12.float(), (1 - t) * flow21.float())
        images = (image1.float(), image2.float())
        gy, gx = torch.meshgrid(torch.arange(height, device=image1.device),
                                torch.arange(width, device=image1.device), indexing="ij")
        out = image1.new_empty(n, 3, height, width, dtype=torch.float32)
        for y0 in range(0, height, tile):
            for x0 in range(0, width, tile):
                y1, x1 = min(y0 + tile, height), min(x0 + tile, width)
                box = (max(0, y0 - overlap), min(height, y1 + overlap),
                       max(0, x0 - overlap), min(width, x1 + overlap))
                halves = [self._warp_into(img, flow, gx, gy, box)
                          for img, flow in zip(images, flows, strict=True)]
                warped = [torch.cat((a, b), 1).to(dtype) for a, b in zip(*halves, strict=True)]
                res = self.synnet(*warped).float()
                ey0, ex0 = box[0], box[2]
                out[..., y0:y1, x0:x1] = res[..., y0 - ey0:y1 - ey0, x0 - ex0:x1 - ex0]
        return out

    def _warp_into(
        self, image: torch.Tensor, flow: torch.Tensor, gx: torch.Tensor, gy: torch.Tensor,
        box: tuple[int, int, int, int],
    ) -> list[torch.Tensor]:
        """One frame's four GridNet inputs (image, then the three feature levels) warped
        into the target ``box`` = (y0, y1, x0, x1) of the frame (multiples of 4)."""
        ty0, ty1, tx0, tx1 = box
        height, width = image.shape[-2:]
        sizes = [(ty1 - ty0) // s for s in (1, 1, 2, 4)], [(tx1 - tx0) // s for s in (1, 1, 2, 4)]
        # Sources whose target lies within 8 px of the box at full size; the coarser levels
        # use the flow of a pixel of that set (nearest resizing), so 8 px covers them.
        tx = gx + flow[:, 0]
        ty = gy + flow[:, 1]
        near = ((tx > tx0 - 8) & (tx < tx1 + 8) & (ty > ty0 - 8) & (ty < ty1 + 8)).any(0)
        rows = torch.nonzero(near.any(1)).flatten()
        cols = torch.nonzero(near.any(0)).flatten()
        n = image.shape[0]
        if rows.numel() == 0:
            chans = (6 // 2, 64 // 2, 128 // 2, 192 // 2)
            return [image.new_zeros(n, c, h, w) for c, h, w in zip(chans, *sizes, strict=True)]
        margin = 32  # > the feature pyramid's reach (14 px), a multiple of 4
        sy0 = max(0, (int(rows[0]) - margin) // 4 * 4)
        sy1 = min(height, -(-(int(rows[-1]) + 1 + margin) // 4) * 4)
        sx0 = max(0, (int(cols[0]) - margin) // 4 * 4)
        sx1 = min(width, -(-(int(cols[-1]) + 1 + margin) // 4) * 4)
        crop = image[..., sy0:sy1, sx0:sx1]
        crop_flow = flow[..., sy0:sy1, sx0:sx1]
        normalised = (crop - 0.5) / 0.5
        levels = self.feat_ext(normalised.to(self._compute_dtype))
        out = []
        for values, s, h, w in zip((crop, *levels), (1, 1, 2, 4), *sizes, strict=True):
            size = (values.shape[-2], values.shape[-1])
            level_flow = crop_flow if s == 1 else resize_flow_nearest(crop_flow, size)
            warped, _ = splat_normalized(
                values.float(), level_flow, origin=(sx0 // s, sy0 // s),
                target_origin=(tx0 // s, ty0 // s), out_size=(h, w),
            )
            out.append(warped)
        return out

    def forward(
        self,
        image1: torch.Tensor,
        image2: torch.Tensor,
        flow12_init: torch.Tensor,
        flow21_init: torch.Tensor,
        t: float | torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The whole network, as the published ``AnimeInterp.forward``.

        Args:
            image1, image2: N×3×H×W RGB in [0, 1]; H, W ≥ 128 and multiples of 4 (see
                :meth:`interpolate_padded` for other sizes).
            flow12_init, flow21_init: N×2×H×W initial flows in pixels (channel 0 = x).
            t: time in 0..1, float or tensor (0-d or N).

        Returns:
            ``(It, F12, F21)``: the N×3×H×W unclamped frame at ``t`` and the two refined
            N×2×H×W flows in pixels.
        """
        f1 = self.encode_frame(image1)
        f2 = self.encode_frame(image2)
        flow12, flow21 = self.refine_flows(f1, f2, flow12_init, flow21_init)
        frame = self.synthesize(image1, image2, f1, f2, flow12, flow21, t)
        return frame, flow12, flow21

    @torch.no_grad()
    def interpolate_padded(
        self,
        image1: torch.Tensor,
        image2: torch.Tensor,
        flow12_init: torch.Tensor,
        flow21_init: torch.Tensor,
        t: float | torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`forward` for any frame size: replicate-pads frames and initial flows to
        :func:`~vsanimeinterp.network.padding.padded_size` and crops the results back.

        Shapes and units as in :meth:`forward`, with any H, W ≥ 1. Sizes the network already
        handles are passed through untouched.
        """
        height, width = image1.shape[-2:]
        ph, pw = padded_size(height, width)
        padded = (pad_to(x, ph, pw) for x in (image1, image2, flow12_init, flow21_init))
        outputs = self.forward(*padded, t)
        return tuple(crop_to(x, height, width) for x in outputs)  # type: ignore[return-value]
