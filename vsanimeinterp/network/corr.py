"""All-pairs correlation volume and its windowed look-up, as in RAFT."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def sample_pixels(image: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """Bilinear sampling at pixel coordinates, zero outside.

    Args:
        image: B×C×H×W.
        coords: B×h×w×2 positions in pixels of ``image`` (last dim x, y; 0 is the first
            pixel centre).

    Returns:
        B×C×h×w. A side of length 1 gives NaN, as in the reference (it divides by H-1).
    """
    height, width = image.shape[-2:]
    x, y = coords.unbind(-1)
    grid = torch.stack((2 * x / (width - 1) - 1, 2 * y / (height - 1) - 1), dim=-1)
    return F.grid_sample(image, grid, mode="bilinear", align_corners=True)


class CorrPyramid:
    """Correlation of every pixel of ``fmap1`` with every pixel of ``fmap2``, pooled 2×
    ``levels - 1`` times over the ``fmap2`` axes.

    Built from N×D×h×w feature maps (float32); each level ``i`` is stored as
    (N·h·w)×1×(h/2^i)×(w/2^i), scaled by 1/sqrt(D).
    """

    def __init__(
        self, fmap1: torch.Tensor, fmap2: torch.Tensor, levels: int = 4, radius: int = 4
    ) -> None:
        self.radius = radius
        n, dim, h, w = fmap1.shape
        corr = torch.matmul(
            fmap1.reshape(n, dim, h * w).transpose(1, 2), fmap2.reshape(n, dim, h * w)
        )
        corr = corr.reshape(n * h * w, 1, h, w) / torch.sqrt(torch.tensor(float(dim)))
        self.pyramid = [corr]
        for _ in range(levels - 1):
            corr = F.avg_pool2d(corr, 2, stride=2)
            self.pyramid.append(corr)

    def __call__(self, coords: torch.Tensor) -> torch.Tensor:
        """Look up (2r+1)² correlations around ``coords`` on every level.

        Args:
            coords: N×2×h×w positions in ``fmap2`` pixels (channel 0 = x).

        Returns:
            N×(levels·(2r+1)²)×h×w float32. Within a level the channel index is
            ``(dx + r)·(2r+1) + (dy + r)``: the x offset varies slowest. That transposed order
            is what RAFT (and so the trained weights) uses.
        """
        r = self.radius
        n, _, h, w = coords.shape
        centres = coords.permute(0, 2, 3, 1).reshape(n * h * w, 1, 1, 2)
        offsets = torch.arange(-r, r + 1, device=coords.device, dtype=coords.dtype)
        # window[i, j] = (offsets[i], offsets[j]) as (x, y): rows of the sampled window step x.
        window = torch.stack(torch.meshgrid(offsets, offsets, indexing="ij"), dim=-1)
        window = window.reshape(1, 2 * r + 1, 2 * r + 1, 2)
        out = []
        for level, corr in enumerate(self.pyramid):
            sampled = sample_pixels(corr, centres / 2**level + window)
            out.append(sampled.reshape(n, h, w, -1))
        return torch.cat(out, dim=-1).permute(0, 3, 1, 2).contiguous().float()
