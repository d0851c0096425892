"""Recurrent flow refinement (RFR): RAFT iterations started from an initial flow.

The network works at 1/8 of the input resized to H8×W8 = (H//8·8)×(W//8·8). Behaviour kept
from the published implementation because the trained weights depend on it:

- the initial flow is brought to 1/8 scale with nearest-neighbour resampling and is added to
  the coordinates *twice* (before the loop and again at the first iteration);
- the feature encoder ``fnet`` doubles as the context encoder (there is no ``cnet``);
- ``attention2`` (ErrorAttention) exists in the checkpoint but its output never reaches the
  flow, so it is not evaluated here.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..ops.flow import pixel_grid, resize_bilinear, resize_flow
from .corr import make_corr
from .encoder import FeatureEncoder
from .update import UpdateBlock

HIDDEN_DIM = 128
CONTEXT_DIM = 128
CORR_LEVELS = 4
CORR_RADIUS = 4
ITERATIONS = 12


class ErrorAttention(nn.Module):
    """Confidence map from a frame, its warping error and a flow (unused by the reference).

    N×6×h×w -> N×1×h×w. Kept so that the checkpoint loads strictly.
    """

    def __init__(self, in_channels: int = 6, out_channels: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32 + in_channels, out_channels, 3, padding=1)
        self.prelu1 = nn.PReLU()
        self.prelu2 = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.prelu1(self.conv1(x))
        y = self.prelu2(torch.cat([self.conv2(y), x], dim=1))
        return self.conv3(y)


def flow_net_size(height: int, width: int) -> tuple[int, int]:
    """Size (H8, W8) the flow net resizes an H×W frame to: both sides floored to a multiple of 8."""
    return height // 8 * 8, width // 8 * 8


def convex_upsample(flow: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """8× upsampling of a flow as convex combinations of each 3×3 neighbourhood.

    Args:
        flow: N×2×h×w in 1/8-scale pixels.
        logits: N×576×h×w, read as 9 neighbours × 8×8 sub-pixels, softmaxed over neighbours.

    Returns:
        N×2×8h×8w in full-scale pixels (float32).
    """
    n, _, h, w = flow.shape
    weights = torch.softmax(logits.float().reshape(n, 1, 9, 8, 8, h, w), dim=2)
    neighbours = F.unfold(8 * flow, [3, 3], padding=1).reshape(n, 2, 9, 1, 1, h, w)
    up = torch.sum(weights * neighbours, dim=2)  # N×2×8×8×h×w
    return up.permute(0, 1, 4, 2, 5, 3).reshape(n, 2, 8 * h, 8 * w)


class RFR(nn.Module):
    """Flow refinement network (``flownet`` in the checkpoint).

    Use :meth:`encode` once per frame, then :meth:`refine` per ordered pair.
    """

    def __init__(self) -> None:
        super().__init__()
        self.attention2 = ErrorAttention(6, 1)
        self.fnet = FeatureEncoder(output_dim=HIDDEN_DIM + CONTEXT_DIM)
        corr_planes = CORR_LEVELS * (2 * CORR_RADIUS + 1) ** 2
        self.update_block = UpdateBlock(corr_planes, hidden_dim=HIDDEN_DIM)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """Features of one frame for matching and context.

        Args:
            image: N×3×H×W normalised to [-1, 1]; H, W ≥ 8.

        Returns:
            N×256×(H8/8)×(W8/8) float32, computed in the encoder's dtype.
        """
        h8, w8 = flow_net_size(*image.shape[-2:])
        dtype = self.fnet.conv1.weight.dtype
        return self.fnet(resize_bilinear(image, (h8, w8)).to(dtype)).float()

    def refine(
        self,
        fmap1: torch.Tensor,
        fmap2: torch.Tensor,
        flow_init: torch.Tensor,
        iters: int = ITERATIONS,
        corr: str = "auto",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Refine the flow from frame 1 to frame 2.

        Args:
            fmap1, fmap2: N×256×h×w outputs of :meth:`encode` for frames 1 and 2.
            flow_init: N×2×H×W initial flow 1→2 in pixels (channel 0 = x) at the frames' size.
            iters: number of GRU iterations.
            corr: correlation look-up, ``"auto"``, ``"all-pairs"`` or ``"bounded"`` (same
                numbers, bounded memory; see :func:`~vsanimeinterp.network.corr.make_corr`).

        Returns:
            ``(flow, flow_init_small)``: the refined N×2×H×W flow in pixels (float32), and the
            N×2×h×w initial flow as the network saw it (1/8-scale pixels).
        """
        n, _, h, w = fmap1.shape
        height, width = flow_init.shape[-2:]
        h8, w8 = 8 * h, 8 * w

        # The reference rescales by (1/8 size) / (full size), not by 1/8: with H % 8 != 0 that
        # is slightly less than 1/8, and the weights saw exactly that.
        init = resize_flow(flow_init.float(), (h, w), mode="nearest")

        corr_fn = make_corr(fmap1, fmap2, corr, levels=CORR_LEVELS, radius=CORR_RADIUS)
        block_dtype = self.update_block.flow_head.conv1.weight.dtype
        context = fmap1.to(block_dtype)
        net = torch.tanh(context[:, :HIDDEN_DIM])
        inp = torch.relu(context[:, HIDDEN_DIM:])

        coords0 = pixel_grid(n, h, w, fmap1.device)
        coords1 = coords0 + init + init
        for _ in range(iters):
            corr = corr_fn(coords1)
            flow = coords1 - coords0
            net, delta = self.update_block(net, inp, corr.to(block_dtype), flow.to(block_dtype))
            coords1 = coords1 + delta.float()

        flow_up = convex_upsample(coords1 - coords0, self.update_block.upsampling_logits(net))
        flow_up = torch.cat(
            (flow_up[:, :1] / float(w8) * width, flow_up[:, 1:] / float(h8) * height), 1
        )
        return resize_bilinear(flow_up, (height, width)), init
