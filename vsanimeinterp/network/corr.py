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


#: Largest all-pairs pyramid (bytes, all levels, one direction) that ``corr="auto"`` builds;
#: above it the memory-bounded look-up is used. 540p needs 0.34 GB, 1080p 5.6 GB.
ALL_PAIRS_BUDGET = 1 << 30
#: Largest total (bytes) of coarse levels that the memory-bounded look-up builds as dense
#: correlation volumes instead of gathering features. Gathering costs the same at every level
#: (the (2r+2)² features around each query), while a coarse level's volume is 4^-level of the
#: finest: at 1080p levels 2 and 3 hold 0.33 GB and looking them up is far cheaper.
DENSE_LEVELS_BYTES = 384 << 20
#: Working memory of one chunk of the memory-bounded look-up (bytes), per device type. On
#: the CPU chunks that stay in cache measured 6× faster than 128 MB ones (540p, 2 cores); on
#: a GPU large chunks keep kernel launches few.
BOUNDED_CHUNK_BYTES = {"cpu": 4 << 20, "cuda": 256 << 20}


def all_pairs_bytes(n: int, h: int, w: int, levels: int = 4) -> int:
    """Bytes of the float32 all-pairs pyramid of N feature maps of h×w (about 4/3 of the
    finest level)."""
    total, th, tw = 0, h, w
    for _ in range(levels):
        total += n * h * w * th * tw * 4
        th, tw = th // 2, tw // 2
    return total


class BoundedCorrPyramid:
    """The same look-up as :class:`CorrPyramid` without the all-pairs volume.

    Correlation is linear in the target features, and both average pooling and bilinear
    sampling are linear too, so pooling ``fmap2`` and correlating each query with the pooled
    features around its coordinate gives the numbers the pooled volume holds (RAFT's
    "alternate" correlation). All (2r+1)² window positions share the centre's fractional
    offset, so the query is correlated with the (2r+2)² whole-pixel features around it
    (gathered channels-last, one contiguous row each) and the window is interpolated from
    those. Memory is O(N·D·h·w) for the pooled maps plus one chunk of queries at a time,
    instead of O(N·(h·w)²).

    The coarsest levels, whose volumes are small (h·w × 4^-level · h·w values), are built as
    dense volumes while together they fit in ``dense_bytes`` (never the finest level): each is
    the pooled target correlated with every query, which is the reference's pooled volume
    (pooling and correlation commute), looked up as :class:`CorrPyramid` does. That makes
    the look-ups 3× faster at 960×540 and 2× at 1920×1080 on the CPU.

    Args:
        fmap1, fmap2: N×D×h×w float32 feature maps.
        levels, radius: as :class:`CorrPyramid`.
        chunk_bytes: working memory per chunk of query pixels (default: by device, see
            :data:`BOUNDED_CHUNK_BYTES`).
        dense_bytes: largest total size of the coarse levels built densely (default
            :data:`DENSE_LEVELS_BYTES`; 0 gathers on every level).
    """

    def __init__(
        self, fmap1: torch.Tensor, fmap2: torch.Tensor, levels: int = 4, radius: int = 4,
        chunk_bytes: int | None = None, dense_bytes: int | None = None,
    ) -> None:
        self.radius = radius
        if chunk_bytes is None:
            chunk_bytes = BOUNDED_CHUNK_BYTES.get(fmap1.device.type, 4 << 20)
        if dense_bytes is None:
            dense_bytes = DENSE_LEVELS_BYTES
        n, dim, h, w = fmap1.shape
        self.queries = fmap1.reshape(n, dim, h * w).transpose(1, 2).float()  # N×Q×D
        self.scale = 1.0 / float(torch.sqrt(torch.tensor(float(dim))))
        targets = [fmap2.float()]
        for _ in range(levels - 1):
            targets.append(F.avg_pool2d(targets[-1], 2, stride=2))
        # Dense from the coarsest level up while the running total fits; never the finest,
        # the (h·w)² volume this class exists to avoid.
        dense, total = set(), 0
        for level in reversed(range(1, levels)):
            total += n * h * w * targets[level].shape[-2] * targets[level].shape[-1] * 4
            if total > dense_bytes:
                break
            dense.add(level)
        self.levels: list[tuple[torch.Tensor, int, int, bool]] = []
        for level, target in enumerate(targets):
            th, tw = target.shape[-2:]
            if level in dense:
                volume = torch.bmm(self.queries, target.reshape(n, dim, th * tw))
                self.levels.append((volume.mul_(self.scale).reshape(n * h * w, 1, th, tw),
                                    th, tw, True))
                continue
            # Channels-last rows plus one zero row that out-of-frame positions point at.
            rows = torch.cat((target.reshape(n, dim, th * tw).transpose(1, 2),
                              target.new_zeros(n, 1, dim)), 1).contiguous()
            self.levels.append((rows, th, tw, False))
        side = 2 * radius + 2
        self.chunk = max(64, chunk_bytes // (4 * n * dim * side * side))

    def __call__(self, coords: torch.Tensor) -> torch.Tensor:
        """As :meth:`CorrPyramid.__call__`: N×2×h×w coordinates → N×(levels·(2r+1)²)×h×w."""
        r = self.radius
        n, _, h, w = coords.shape
        side = 2 * r + 2
        k = (2 * r + 1) ** 2
        steps = torch.arange(side, device=coords.device)
        centres = coords.float().reshape(n, 2, h * w)
        out = torch.empty(n, len(self.levels), 2 * r + 1, 2 * r + 1, h * w,
                          device=coords.device)
        window = None
        for level, (rows, th, tw, is_dense) in enumerate(self.levels):
            if is_dense:
                if window is None:
                    offsets = torch.arange(-r, r + 1, device=coords.device,
                                           dtype=torch.float32)
                    window = torch.stack(torch.meshgrid(offsets, offsets, indexing="ij"),
                                         dim=-1).reshape(1, 2 * r + 1, 2 * r + 1, 2)
                grid = centres.transpose(1, 2).reshape(n * h * w, 1, 1, 2) / 2**level + window
                # sampled[q, 0, i, j] has x offset i, y offset j: the channel order below.
                sampled = sample_pixels(rows, grid)
                out[:, level] = sampled.reshape(n, h * w, 2 * r + 1, 2 * r + 1).permute(
                    0, 2, 3, 1)
                continue
            c = centres / 2**level
            base = torch.floor(c)
            frac = c - base  # N×2×Q
            x0 = base[:, 0].long() - r
            y0 = base[:, 1].long() - r
            for start in range(0, h * w, self.chunk):
                sl = slice(start, min(start + self.chunk, h * w))
                xs = x0[:, sl, None] + steps  # N×q×side
                ys = y0[:, sl, None] + steps
                inside = ((xs >= 0) & (xs < tw))[:, :, None, :] & ((ys >= 0) & (ys < th))[
                    :, :, :, None]
                idx = ys[:, :, :, None] * tw + xs[:, :, None, :]  # N×q×side(y)×side(x)
                idx = torch.where(inside, idx, torch.full_like(idx, th * tw))
                q = idx.shape[1]
                # index_select copies whole contiguous rows; gather would index every float.
                flat = (idx + torch.arange(n, device=idx.device).reshape(n, 1, 1, 1)
                        * rows.shape[1]).reshape(-1)
                feats = rows.reshape(-1, rows.shape[2]).index_select(0, flat).reshape(
                    n * q, side * side, -1)
                dots = torch.bmm(feats, self.queries[:, sl].reshape(n * q, -1, 1))
                g = dots.reshape(n, q, side, side)  # [.., y, x]
                fx = frac[:, 0, sl, None, None]
                fy = frac[:, 1, sl, None, None]
                top = g[:, :, :-1, :-1] * (1 - fx) + g[:, :, :-1, 1:] * fx
                bottom = g[:, :, 1:, :-1] * (1 - fx) + g[:, :, 1:, 1:] * fx
                win = top * (1 - fy) + bottom * fy  # N×q×(2r+1)(y)×(2r+1)(x)
                # Channel order: x offset slowest, as the all-pairs look-up.
                out[:, level, :, :, sl] = win.permute(0, 3, 2, 1) * self.scale
        return out.reshape(n, len(self.levels) * k, h, w)


def resolve_corr_mode(mode: str, n: int, h: int, w: int, levels: int = 4) -> str:
    """The look-up ``mode`` stands for with N feature maps of h×w: ``"auto"`` is
    ``"all-pairs"`` while that pyramid fits in :data:`ALL_PAIRS_BUDGET`, else ``"bounded"``."""
    if mode == "auto":
        return "all-pairs" if all_pairs_bytes(n, h, w, levels) <= ALL_PAIRS_BUDGET else "bounded"
    return mode


def make_corr(
    fmap1: torch.Tensor, fmap2: torch.Tensor, mode: str = "auto", levels: int = 4,
    radius: int = 4,
) -> CorrPyramid | BoundedCorrPyramid:
    """The correlation look-up for ``mode``: ``"all-pairs"`` (the reference's),
    ``"bounded"`` (:class:`BoundedCorrPyramid`) or ``"auto"`` (all-pairs while its pyramid
    fits in :data:`ALL_PAIRS_BUDGET`)."""
    n, _, h, w = fmap1.shape
    mode = resolve_corr_mode(mode, n, h, w, levels)
    if mode == "all-pairs":
        return CorrPyramid(fmap1, fmap2, levels, radius)
    if mode == "bounded":
        return BoundedCorrPyramid(fmap1, fmap2, levels, radius)
    raise ValueError(f"corr mode must be 'auto', 'all-pairs' or 'bounded', got {mode!r}")
