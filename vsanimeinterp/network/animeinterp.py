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

from ..ops.flow import resize_flow
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
    """

    def __init__(self) -> None:
        super().__init__()
        self.flownet = RFR()
        self.feat_ext = FeaturePyramid()
        self.synnet = GridNet()
        self.batch_directions: bool | None = None
        self.corr_mode = "auto"
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
    def encode_flow(self, image: torch.Tensor) -> torch.Tensor:
        """Flow-net features of an N×3×H×W RGB frame in [0, 1]: N×256×(H8/8)×(W8/8)."""
        return self.flownet.encode((image.float() - 0.5) / 0.5)

    @torch.no_grad()
    def encode_pyramid(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                            torch.Tensor]:
        """Synthesis features of an N×3×H×W RGB frame in [0, 1] (see
        :attr:`FrameFeatures.levels`)."""
        return self.feat_ext(((image.float() - 0.5) / 0.5).to(self._compute_dtype))

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
                :func:`~vsanimeinterp.network.tiling.synthesize_tiled`, which computes it per tile).
        """
        fmap = self.encode_flow(image if flow_image is None else flow_image)
        levels = self.encode_pyramid(image) if pyramid else None
        return FrameFeatures((image.float() - 0.5) / 0.5, fmap, levels)

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
                    resize_flow(flow1t, size, mode="nearest"),
                    resize_flow(flow2t, size, mode="nearest"),
                )
            )
        return self.fuse(warped)

    def fuse(self, warped: list[torch.Tensor]) -> torch.Tensor:
        """GridNet on the warped inputs (at full, full, 1/2 and 1/4 size): N×3×H×W float32."""
        dtype = self._compute_dtype
        return self.synnet(*(w.to(dtype) for w in warped)).float()

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
