"""Forward splatting: push every source pixel along its flow onto the target grid.

Both engines synthesise by forward warping, because a flow from frame 1 to frame 2 scaled by
``t`` tells where each pixel of frame 1 *goes* at time ``t``; backward warping would need the
flow from time ``t`` back to the frames, which nobody has. A pixel landing between grid points
is shared among its four neighbours with bilinear weights ("summation" splatting in the
softmax-splatting paper, ``ForwardWarp`` in AnimeInterp). The caller divides the accumulated
values by the accumulated weights where those are positive.
"""

from __future__ import annotations

import math

import torch

from .flow import pixel_grid


def splat(
    values: torch.Tensor, flow: torch.Tensor, weight: torch.Tensor | None = None,
    origin: tuple[int, int] = (0, 0), target_origin: tuple[int, int] = (0, 0),
    out_size: tuple[int, int] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinear forward splatting of ``values`` along ``flow``.

    Args:
        values: N×C×H×W source values (any float dtype).
        flow: N×2×H×W displacement in pixels of the same grid; channel 0 is x (right),
            channel 1 is y (down). Non-finite displacements are dropped.
        weight: optional N×1×H×W non-negative per-pixel importance (e.g. ``exp(metric)`` for
            softmax splatting); 1 where absent.
        origin, target_origin: (x, y) of the source and target grids' first pixels in a
            common frame (for splatting a crop of a frame into a tile of it); positions are
            computed in that frame, so a crop gives bit-identical weights to the whole frame.
        out_size: (h, w) of the target grid; the source grid's by default.

    Returns:
        ``(acc, norm)``: N×C×h×w sum of ``weight·bilinear·values`` landing on each target pixel
        and N×1×h×w sum of ``weight·bilinear``. Targets outside the grid are discarded.
    """
    n, c, h, w = values.shape
    if flow.shape != (n, 2, h, w):
        raise ValueError(f"splat: flow must be {n}×2×{h}×{w}, got {tuple(flow.shape)}")
    # Accumulate in float32 at least: half-precision sums of many contributions drift.
    acc_dtype = torch.promote_types(values.dtype, torch.float32)
    grid = pixel_grid(1, h, w, values.device, acc_dtype, origin)[0]
    tx = grid[0] + flow[:, 0].to(acc_dtype)
    ty = grid[1] + flow[:, 1].to(acc_dtype)
    if out_size is not None:
        h, w = out_size
    return _scatter(values.reshape(n, c, -1), tx.reshape(n, -1), ty.reshape(n, -1),
                    None if weight is None else weight.reshape(n, -1), (h, w), target_origin)


def splat_points(
    values: torch.Tensor, x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None,
    out_size: tuple[int, int], target_origin: tuple[int, int] = (0, 0),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinear splatting of scattered points: :func:`splat` for a few pixels of a frame.

    Args:
        values: N×C×P values of P points.
        x, y: N×P target positions in pixels (x right, y down); non-finite positions are
            dropped.
        weight: optional N×P non-negative importance, 1 where absent.
        out_size: (h, w) of the target grid.
        target_origin: (x, y) position of the target grid's first pixel.

    Returns:
        ``(acc, norm)`` as :func:`splat` returns them.
    """
    acc_dtype = torch.promote_types(values.dtype, torch.float32)
    return _scatter(values, x.to(acc_dtype), y.to(acc_dtype), weight, out_size, target_origin)


def _scatter(
    values: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor, weight: torch.Tensor | None,
    out_size: tuple[int, int], target_origin: tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """The splatting of N×C×P ``values`` to N×P positions ``(tx, ty)`` (accumulation
    dtype) on an ``out_size`` grid whose first pixel is at ``target_origin``."""
    n, c, src_hw = values.shape
    h, w = out_size
    dtype = values.dtype
    acc_dtype = tx.dtype
    device = values.device
    x0 = torch.floor(tx)
    y0 = torch.floor(ty)
    fx = tx - x0
    fy = ty - y0

    base_w = torch.ones_like(tx) if weight is None else weight.to(acc_dtype)
    # The fractions are in [0, 1) where a position is finite and NaN where it is not, so
    # one sum tells whether any is not (usually none: the mask is then never built).
    if not math.isfinite(float(fx.sum() + fy.sum())):
        finite = torch.isfinite(fx) & torch.isfinite(fy)
        base_w = torch.where(finite, base_w, torch.zeros_like(base_w))
        x0 = torch.where(finite, x0, torch.full_like(x0, -2))
        y0 = torch.where(finite, y0, torch.full_like(y0, -2))
        fx = torch.where(finite, fx, torch.zeros_like(fx))
        fy = torch.where(finite, fy, torch.zeros_like(fy))

    # The weight rides along as an extra channel so each corner is a single scatter.
    vals = torch.cat([values.to(acc_dtype), torch.ones_like(values[:, :1], dtype=acc_dtype)], 1)
    acc = torch.zeros(n, c + 1, h * w, device=device, dtype=acc_dtype)
    # Index arithmetic in int32 (half the memory traffic of int64; exact for any frame that
    # fits in memory), widened once per corner for the sums.
    x0i = x0.int() - target_origin[0]
    y0i = y0.int() - target_origin[1]
    # A corner lands inside when its column and its row do: each axis's weight is zeroed
    # where its column (row) is outside, and indices outside are clamped to any pixel.
    wx = ((1 - fx).masked_fill_((x0i < 0) | (x0i >= w), 0),
          fx.masked_fill((x0i < -1) | (x0i >= w - 1), 0))
    wy = ((1 - fy).masked_fill_((y0i < 0) | (y0i >= h), 0),
          fy.masked_fill((y0i < -1) | (y0i >= h - 1), 0))
    col = (x0i.clamp(0, w - 1), (x0i + 1).clamp_(0, w - 1))
    row = (y0i.clamp(0, h - 1).mul_(w), (y0i + 1).clamp_(0, h - 1).mul_(w))
    # One buffer for the four corners' contributions: a fresh one per corner costs more in
    # page faults than the product itself.
    contrib = torch.empty_like(vals)
    wgt = torch.empty_like(base_w)
    idx = torch.empty(base_w.shape, dtype=torch.int64, device=device)
    for dy in (0, 1):
        for dx in (0, 1):
            torch.mul(wx[dx], wy[dy], out=wgt).mul_(base_w)
            torch.mul(vals, wgt.reshape(n, 1, src_hw), out=contrib)
            torch.add(row[dy], col[dx], out=idx)
            # index_add_ along the pixels of a C×HW item is about twice as fast on the CPU
            # as scatter_add_ with the index expanded over channels, and sums in the same
            # order (bit-identical).
            for k in range(n):
                acc[k].index_add_(1, idx[k], contrib[k])
    acc = acc.reshape(n, c + 1, h, w)
    return acc[:, :c].to(dtype), acc[:, c:].to(dtype)


def splat_normalized(
    values: torch.Tensor, flow: torch.Tensor, weight: torch.Tensor | None = None,
    origin: tuple[int, int] = (0, 0), target_origin: tuple[int, int] = (0, 0),
    out_size: tuple[int, int] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward-splat and normalise: ``acc / norm`` where ``norm > 0``, 0 elsewhere.

    Arguments and shapes as in :func:`splat`. Returns ``(warped N×C×h×w, norm N×1×h×w)``;
    ``norm == 0`` marks holes that nothing landed on.
    """
    acc, norm = splat(values, flow, weight, origin, target_origin, out_size)
    safe = torch.where(norm > 0, norm, torch.ones_like(norm))
    return torch.where(norm > 0, acc / safe, torch.zeros_like(acc)), norm
