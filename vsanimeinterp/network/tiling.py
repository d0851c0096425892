"""Tiled synthesis: the network's warping and GridNet with memory that follows the tile.

For each output tile (plus ``overlap`` pixels of context) only the source pixels of each frame
whose motion lands in or near it are used: the feature pyramid is computed on their bounding
box (plus a margin wider than the pyramid's 14-pixel reach), warped into the tile, and GridNet
fuses the tile; only the tile's core is kept. Positions are computed in frame coordinates, so
the result equals the whole-frame :meth:`AnimeInterp.synthesize` up to float summation order.
GridNet's reach is under 64 pixels (46 full-size pixels either way, from the extent of its
response to one input pixel with all weights made positive), so with ``overlap=64`` tiled and
whole-frame output agree to 1e-5. A region that gathers sources from the whole frame (a zoom,
a flash) needs the whole frame's features for that tile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch

from ..ops.flow import pixel_grid, resize_flow
from ..ops.splatting import splat_normalized

if TYPE_CHECKING:
    from .animeinterp import AnimeInterp

#: Channels of one frame's four GridNet inputs: the image, then the three feature levels.
INPUT_CHANNELS = (3, 32, 64, 96)
#: Scale of each GridNet input relative to the frame.
INPUT_STRIDES = (1, 1, 2, 4)
#: Source pixels landing within this distance of a tile (full-size pixels) are gathered; the
#: coarser levels use the flow of a pixel of that set (nearest resizing), so it covers them.
GATHER_MARGIN = 8
#: Context kept around the gathered sources for the feature pyramid (> its 14-pixel reach,
#: a multiple of 4 so the 1/2 and 1/4 grids stay aligned).
PYRAMID_MARGIN = 32


def tile_boxes(height: int, width: int, tile: int, overlap: int
               ) -> Iterator[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """``(core, context)`` boxes ``(y0, y1, x0, x1)`` covering an H×W frame in tiles of side
    ``tile`` with ``overlap`` pixels of context (clipped at the frame border)."""
    for y0 in range(0, height, tile):
        for x0 in range(0, width, tile):
            y1, x1 = min(y0 + tile, height), min(x0 + tile, width)
            yield (y0, y1, x0, x1), (max(0, y0 - overlap), min(height, y1 + overlap),
                                     max(0, x0 - overlap), min(width, x1 + overlap))


def _warp_into(net: AnimeInterp, image: torch.Tensor, flow: torch.Tensor,
               grid: torch.Tensor, box: tuple[int, int, int, int]) -> list[torch.Tensor]:
    """One frame's four GridNet inputs (image, then the three feature levels) warped into
    ``box`` = (y0, y1, x0, x1) of the frame (multiples of 4): N×C×h×w float32 each."""
    ty0, ty1, tx0, tx1 = box
    height, width = image.shape[-2:]
    n = image.shape[0]
    heights = [(ty1 - ty0) // s for s in INPUT_STRIDES]
    widths = [(tx1 - tx0) // s for s in INPUT_STRIDES]
    target = grid + flow
    m = GATHER_MARGIN
    near = ((target[:, 0] > tx0 - m) & (target[:, 0] < tx1 + m)
            & (target[:, 1] > ty0 - m) & (target[:, 1] < ty1 + m)).any(0)
    rows = torch.nonzero(near.any(1)).flatten()
    cols = torch.nonzero(near.any(0)).flatten()
    if rows.numel() == 0:
        # Nothing lands here: every input is a hole, as in the whole-frame pass.
        return [image.new_zeros(n, c, h, w)
                for c, h, w in zip(INPUT_CHANNELS, heights, widths, strict=True)]
    sy0 = max(0, (int(rows[0]) - PYRAMID_MARGIN) // 4 * 4)
    sy1 = min(height, -(-(int(rows[-1]) + 1 + PYRAMID_MARGIN) // 4) * 4)
    sx0 = max(0, (int(cols[0]) - PYRAMID_MARGIN) // 4 * 4)
    sx1 = min(width, -(-(int(cols[-1]) + 1 + PYRAMID_MARGIN) // 4) * 4)
    crop = image[..., sy0:sy1, sx0:sx1]
    crop_flow = flow[..., sy0:sy1, sx0:sx1]
    levels = net.feat_ext(((crop - 0.5) / 0.5).to(net._compute_dtype))
    out = []
    for values, s, h, w in zip((crop, *levels), INPUT_STRIDES, heights, widths, strict=True):
        size = (values.shape[-2], values.shape[-1])
        level_flow = crop_flow if s == 1 else resize_flow(crop_flow, size, mode="nearest")
        warped, _ = splat_normalized(
            values.float(), level_flow, origin=(sx0 // s, sy0 // s),
            target_origin=(tx0 // s, ty0 // s), out_size=(h, w),
        )
        out.append(warped)
    return out


@torch.no_grad()
def synthesize_tiled(
    net: AnimeInterp,
    image1: torch.Tensor,
    image2: torch.Tensor,
    flow12: torch.Tensor,
    flow21: torch.Tensor,
    t: float,
    tile: int,
    overlap: int = 64,
) -> torch.Tensor:
    """The frame at ``t``, synthesised tile by tile (see the module docstring).

    Args:
        net: the network (its feature pyramid and GridNet are used).
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
    flows = (t * flow12.float(), (1 - t) * flow21.float())
    images = (image1.float(), image2.float())
    grid = pixel_grid(n, height, width, image1.device)
    out = image1.new_empty(n, 3, height, width, dtype=torch.float32)
    for (y0, y1, x0, x1), box in tile_boxes(height, width, tile, overlap):
        halves = [_warp_into(net, img, flow, grid, box)
                  for img, flow in zip(images, flows, strict=True)]
        warped = [torch.cat((a, b), 1) for a, b in zip(*halves, strict=True)]
        res = net.fuse(warped)
        out[..., y0:y1, x0:x1] = res[..., y0 - box[0]:y1 - box[0], x0 - box[2]:x1 - box[2]]
    return out
