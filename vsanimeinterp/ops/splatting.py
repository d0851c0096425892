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

from .flow import pixel_grid, sample_at


def splat(
    values: torch.Tensor, flow: torch.Tensor, weight: torch.Tensor | None = None,
    origin: tuple[int, int] = (0, 0), target_origin: tuple[int, int] = (0, 0),
    out_size: tuple[int, int] | None = None, ones_last: bool = False,
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
        ones_last: the last channel of ``values`` is all ones (in the accumulation dtype)
            and is summed as the weights; without it a copy of ``values`` with such a
            channel is made (the same sums).

    Returns:
        ``(acc, norm)``: N×C×h×w sum of ``weight·bilinear·values`` landing on each target pixel
        and N×1×h×w sum of ``weight·bilinear`` (C is one less with ``ones_last``). Targets
        outside the grid are discarded.
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
                    None if weight is None else weight.reshape(n, -1), (h, w), target_origin,
                    ones_last)


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
    out_size: tuple[int, int], target_origin: tuple[int, int], ones_last: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The splatting of N×C×P ``values`` to N×P positions ``(tx, ty)`` (accumulation
    dtype) on an ``out_size`` grid whose first pixel is at ``target_origin``; with
    ``ones_last`` the last channel of ``values`` is the ones that sum to the weights."""
    n, c, src_hw = values.shape
    if ones_last:
        c -= 1
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
    if ones_last:
        vals = values.to(acc_dtype)
    else:
        vals = torch.cat([values.to(acc_dtype), torch.ones_like(values[:, :1], dtype=acc_dtype)],
                         1)
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


#: Strength ``k`` of :func:`cubic_prefilter`: each axis's correction is ``k·f·(1-f)`` times
#: the second difference, for a displacement whose fractional part is ``f``. 0.75 gives the
#: outer taps of Keys' cubic with ``a = -0.75`` (OpenCV's and PyTorch's bicubic).
CUBIC_STRENGTH = 0.75
def cubic_prefilter(values: torch.Tensor, flow: torch.Tensor,
                    strength: float = CUBIC_STRENGTH, out: torch.Tensor | None = None
                    ) -> torch.Tensor:
    """Pre-filter ``values`` so that bilinear splatting along ``flow`` resamples them with a
    4-tap cubic kernel where the flow is locally uniform.

    A bilinear splat of a uniformly moving picture is its bilinear interpolation at the
    fractional offset ``f``: at ``f = 0.5`` a line is spread over two pixels at half its
    contrast. Subtracting ``k·f·(1-f)`` times each axis's second difference from every source
    pixel first turns those weights into ``(-k·f(1-f)², ..., -k·f²(1-f))`` outer taps, a cubic
    interpolation that keeps constants and ramps and is exact at whole pixels (``f = 0``).
    Where neighbours move apart (an outline between two motions) the correction reads the
    other side's colour; at the strengths :func:`fit_cubic_strength` picks (0 to 0.4 on the
    development set) that is a rim of a few per cent of the edge's contrast, and testing for
    it costs as much as the filter (measured: no better on the development set).

    Args:
        values: N×C×H×W source values (a frame, 0..1).
        flow: N×2×H×W displacement in pixels that they will be splatted along; non-finite
            displacements leave their pixel as it is.
        strength: ``k`` above (0 gives ``values`` unchanged).
        out: optional N×C×H×W copy of ``values`` to correct in place (the splat's input
            buffer, saving a full-frame copy).

    Returns:
        N×C×H×W pre-filtered values (may leave 0..1 next to edges, as cubic resampling does):
        ``out`` if given, otherwise a new tensor.
    """
    out = values.clone() if out is None else out
    n, c, h, w = values.shape
    if strength == 0 or h < 3 or w < 3:
        return out
    # Every full-frame temporary costs more in page faults than the arithmetic on it, and
    # strided views are slow on the CPU: the work is done in place, on contiguous runs of
    # the flattened rows 1..h-2, where a pixel's neighbours are 1 and w elements away. The
    # first and last columns (whose flat neighbours wrap to other rows) and rows keep their
    # values: a replicated edge gives them one-sided differences at best.
    hw, run = h * w, h * w - 2 * w
    v = values.reshape(n, c, hw)

    def at(x: torch.Tensor, offset: int) -> torch.Tensor:
        return x.narrow(2, w + offset, run)

    # k·f·(1-f) per axis.
    fc = at(flow.reshape(n, 2, hw), 0)
    corr = torch.floor(fc)
    torch.sub(fc, corr, out=corr)
    corr.addcmul_(corr, corr, value=-1.0).mul_(strength).nan_to_num_(0.0, 0.0, 0.0)
    rows = corr.view(n, 2, h - 2, w)
    rows[..., 0] = 0.0
    rows[..., w - 1] = 0.0
    lap = torch.empty((n, c, run), dtype=values.dtype, device=values.device)
    dst = out.view(n, c, hw).narrow(2, w, run)
    for axis, (a, b) in enumerate(((-1, 1), (-w, w))):
        torch.add(at(v, a), at(v, b), out=lap)
        lap.sub_(at(v, 0), alpha=2.0)
        dst.addcmul_(corr[:, axis:axis + 1], lap, value=-1.0)
    return out


#: Strengths :func:`fit_cubic_strength` chooses from (0 is plain bilinear splatting).
CUBIC_STRENGTHS = tuple(i / 10 for i in range(11))
#: Pixels of a frame :func:`fit_cubic_strength` looks at (on a regular grid, at most), and
#: the fewest informative ones it needs.
FIT_POINTS = 8192
FIT_MIN_SAMPLES = 256


def fit_cubic_strength(img1: torch.Tensor, img2: torch.Tensor, flow12: torch.Tensor,
                       flow21: torch.Tensor, min_motion: float = 1.0) -> float:
    """The strength of :func:`cubic_prefilter` that best explains each frame by the other.

    How much sharper than bilinear the resampling should be depends on the pictures and the
    flows: band-limited, smoothly shaded art moved by accurate flows gains from a cubic
    kernel, while hard-edged art (pixel sprites, area-sampled outlines) or flows a fraction
    of a pixel off are better served by bilinear weights. The pair itself tells which: each
    frame is predicted from the other by sampling it along the flow with the pre-filtered
    bilinear kernel (the backward form of what the splat does), at up to :data:`FIT_POINTS`
    grid pixels that move at least ``min_motion`` pixels and land between grid points, and
    the strength in :data:`CUBIC_STRENGTHS` with the least mean absolute error wins. Occlusions
    and wrong flows add errors that hardly depend on the strength; the L1 norm keeps them
    from deciding.

    Args:
        img1, img2: N×3×H×W frames, 0..1.
        flow12, flow21: N×2×H×W flows in pixels.
        min_motion: pixels.

    Returns:
        The strength (0 where too few pixels move for a fit).
    """
    residual, change = [], []
    height, width = img1.shape[-2:]
    step = max(1, math.ceil(math.sqrt(height * width / FIT_POINTS)))
    ys = torch.arange(0, height, step, device=flow12.device, dtype=flow12.dtype)
    xs = torch.arange(0, width, step, device=flow12.device, dtype=flow12.dtype)
    # Five bilinear samples give the bilinear sample of each axis's second difference
    # (both are linear in the picture).
    offsets = ((0.0, 0.0), (-1.0, 0.0), (1.0, 0.0), (0.0, -1.0), (0.0, 1.0))
    for src, dst, flow in ((img1, img2, flow12), (img2, img1, flow21)):
        for k in range(flow.shape[0]):
            f = flow[k, :, ::step, ::step]
            px = xs.view(1, -1) + f[0]
            py = ys.view(-1, 1) + f[1]
            fx, fy = px - torch.floor(px), py - torch.floor(py)
            cx, cy = fx * (1 - fx), fy * (1 - fy)
            keep = ((f[0].square() + f[1].square() >= min_motion**2) & (cx + cy > 0.05)
                    & (px >= 1) & (px <= width - 2) & (py >= 1) & (py <= height - 2))
            yi, xi = torch.nonzero(keep).unbind(1)
            if yi.numel() == 0:
                continue
            sx, sy = px[yi, xi], py[yi, xi]
            at_x = torch.cat([sx + ox for ox, _ in offsets]).view(1, 1, -1)
            at_y = torch.cat([sy + oy for _, oy in offsets]).view(1, 1, -1)
            s = sample_at(dst[k:k + 1], at_x, at_y)[0, :, 0].view(dst.shape[1], len(offsets), -1)
            lap_x = s[:, 1] + s[:, 2] - 2 * s[:, 0]
            lap_y = s[:, 3] + s[:, 4] - 2 * s[:, 0]
            truth = src[k, :, yi * step, xi * step]  # C×P
            residual.append((truth - s[:, 0]).flatten())
            change.append((cx[yi, xi] * lap_x + cy[yi, xi] * lap_y).flatten())
    if not residual or sum(r.numel() for r in residual) < 3 * FIT_MIN_SAMPLES:
        return 0.0
    r, c = torch.cat(residual), torch.cat(change)
    ks = torch.tensor(CUBIC_STRENGTHS, dtype=r.dtype, device=r.device)
    # The pre-filtered sample is ``bilinear - k·change``: its error is |residual + k·change|.
    err = torch.addcmul(r[None], ks[:, None], c[None]).abs_().sum(1)
    return CUBIC_STRENGTHS[int(torch.argmin(err))]
