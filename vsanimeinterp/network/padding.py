"""Padding frames to a size the network handles, and cropping results back.

The published network needs both sides to be:

- at least 128 pixels: the flow net works at 1/8 of (H//8·8) and pools its correlation
  volume three more times; a side of 1 at the deepest level makes its pixel-coordinate
  normalisation divide by zero (NaN everywhere);
- a multiple of 4: GridNet adds 2×-upsampled rows to the rows above, so H/4 → H/2 → H must
  round-trip exactly (the feature pyramid then also has exact 1/2 and 1/4 levels).

Sides that are not multiples of 8 are fine: the flow net resizes them to H//8·8 itself, and
padding them further would change the result relative to the reference. Padding replicates
the last row/column at the bottom and the right, so frames are not rescaled and cropping is a
slice.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

MIN_SIDE = 128
SIDE_MULTIPLE = 4


def padded_size(height: int, width: int) -> tuple[int, int]:
    """Smallest (H', W') ≥ (height, width) that the network handles."""

    def side(n: int) -> int:
        return max(MIN_SIDE, -(-n // SIDE_MULTIPLE) * SIDE_MULTIPLE)

    return side(height), side(width)


def pad_to(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Replicate-pad N×C×h×w at the bottom and right to N×C×height×width (no-op if equal).

    Works for images and for flows alike: a flow padded so keeps its values in pixels,
    because nothing is rescaled.
    """
    h, w = x.shape[-2:]
    if height < h or width < w:
        raise ValueError(f"pad_to: cannot pad {h}×{w} down to {height}×{width}")
    if (h, w) == (height, width):
        return x
    return F.pad(x, (0, width - w, 0, height - h), mode="replicate")


def crop_to(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Top-left height×width window of N×C×H×W: undoes :func:`pad_to`."""
    return x[..., :height, :width]
