"""Pixel grids, backward warping and flow resizing: the flow maths both engines share.

Flows are in pixels, channel 0 = x (right), channel 1 = y (down). Torch tensors are laid out
N×2×H×W; the SGM engine's numpy/OpenCV arrays H×W×2 (OpenCV's remap and resize want that
layout and are the fastest way to do this on the CPU).

Bilinear resizing is computed separably by gathers and element-wise products: torch 2.14's
NCHW ``F.interpolate`` on the CPU rounds differently depending on how the work is split among
threads, and the network's splatting turns a one-ulp change into a full pixel or a hole (see
``network/layers.py``).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.nn import functional as F


def pixel_grid(n: int, height: int, width: int, device: torch.device | str,
               dtype: torch.dtype = torch.float32, origin: tuple[int, int] = (0, 0)
               ) -> torch.Tensor:
    """N×2×H×W pixel coordinates, channel 0 = x (column), channel 1 = y (row), starting at
    ``origin`` = (x, y). The N copies share memory (an expanded view)."""
    ys = torch.arange(origin[1], origin[1] + height, device=device, dtype=dtype)
    xs = torch.arange(origin[0], origin[0] + width, device=device, dtype=dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy))[None].expand(n, 2, height, width)


def backwarp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``img`` at ``x + flow`` (bilinear, border-clamped).

    Args:
        img: N×C×H×W.
        flow: N×2×H×W pixels.

    Returns:
        N×C×H×W in ``img``'s dtype.
    """
    n, _, h, w = img.shape
    coords = pixel_grid(n, h, w, img.device, flow.dtype) + flow
    return sample_at(img, coords[:, 0], coords[:, 1])


def sample_at(img: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sample ``img`` at pixel positions (bilinear, border-clamped).

    Args:
        img: N×C×H×W.
        x, y: N×h×w positions in pixels of ``img`` (x right, y down), any h×w.

    Returns:
        N×C×h×w in ``img``'s dtype.
    """
    h, w = img.shape[-2:]
    gx = x * (2.0 / max(w - 1, 1)) - 1.0
    gy = y * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=3).to(img.dtype)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)


def _axis_taps(size_in: int, size_out: int, dtype: torch.dtype, device: torch.device):
    """Source indices and weights of a half-pixel-centred linear resize along one axis, as
    ``F.interpolate(..., align_corners=False)`` computes them: in float32 (its index
    arithmetic for float inputs; exact float64 positions would move the weights by up to
    1e-5 at a few hundred pixels), sources clamped at 0."""
    scale = torch.tensor(size_in / size_out, dtype=torch.float32)
    src = (torch.arange(size_out, dtype=torch.float32, device=device) + 0.5) * scale - 0.5
    src = src.clamp(min=0)
    i0 = src.floor().long().clamp(max=size_in - 1)
    i1 = (i0 + 1).clamp(max=size_in - 1)
    frac = (src - i0).to(dtype)
    return i0, i1, 1 - frac, frac


def resize_bilinear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of N×C×H×W to N×C×h×w, half-pixel centres, no antialiasing: the
    values of ``F.interpolate(x, size, mode="bilinear", align_corners=False)`` within float
    rounding, and on the CPU the same bits at any thread count. The same size is returned
    as is."""
    height, width = x.shape[-2:]
    if (height, width) == tuple(size):
        return x
    if x.device.type != "cpu":
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    c0, c1, cw0, cw1 = _axis_taps(width, size[1], x.dtype, x.device)
    rows = x[..., c0] * cw0 + x[..., c1] * cw1
    r0, r1, rw0, rw1 = _axis_taps(height, size[0], x.dtype, x.device)
    return rows[..., r0, :] * rw0[:, None] + rows[..., r1, :] * rw1[:, None]


def resize_bilinear_at(x: torch.Tensor, size: tuple[int, int], points: torch.Tensor
                       ) -> torch.Tensor:
    """Values of ``resize_bilinear(x, size)`` at a few points only, without the full image.

    Args:
        x: N×C×H×W.
        size: (h, w) of the resized image.
        points: P×3 long (batch item, row, column) in the resized image.

    Returns:
        P×C in ``x``'s dtype.
    """
    height, width = x.shape[-2:]
    c0, c1, cw0, cw1 = _axis_taps(width, size[1], x.dtype, x.device)
    r0, r1, rw0, rw1 = _axis_taps(height, size[0], x.dtype, x.device)
    k, r, c = points.unbind(1)
    flat = x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
    base = k * (height * width)

    def tap(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        return flat[base + rows * width + cols]

    top = tap(r0[r], c0[c]) * cw0[c, None] + tap(r0[r], c1[c]) * cw1[c, None]
    bottom = tap(r1[r], c0[c]) * cw0[c, None] + tap(r1[r], c1[c]) * cw1[c, None]
    return top * rw0[r, None] + bottom * rw1[r, None]


def resize_flow(flow: torch.Tensor, size: tuple[int, int], mode: str = "bilinear"
                ) -> torch.Tensor:
    """Resize an N×2×H×W flow in pixels to N×2×h×w in pixels of the new size.

    ``mode`` is ``"bilinear"`` (:func:`resize_bilinear`) or ``"nearest"`` (as the reference
    brings flows to its feature levels and to the flow net's 1/8 scale). Components are
    scaled as the reference scales them, ``x · w / W`` and ``y · h / H`` (in that order: the
    rounding differs from ``x · (w / W)``).
    """
    height, width = flow.shape[-2:]
    if (height, width) == tuple(size):
        return flow
    if mode == "nearest":
        out = F.interpolate(flow, size=size, mode="nearest")
    elif mode == "bilinear":
        out = resize_bilinear(flow, size)
    else:
        raise ValueError(f"resize_flow: mode must be 'bilinear' or 'nearest', got {mode!r}")
    return torch.cat((out[:, :1] * float(size[1]) / width, out[:, 1:] * float(size[0]) / height), 1)


# -- H×W×2 numpy flows (the SGM engine) ---------------------------------------------------

_GRIDS: dict[tuple[int, int], np.ndarray] = {}


def pixel_grid_hw2(height: int, width: int) -> np.ndarray:
    """H×W×2 float32 pixel coordinates (x, y), cached per size: read it, never write it."""
    g = _GRIDS.get((height, width))
    if g is None:
        gx, gy = np.meshgrid(np.arange(width, dtype=np.float32),
                             np.arange(height, dtype=np.float32))
        g = _GRIDS.setdefault((height, width), np.dstack([gx, gy]))
    return g


def backwarp_hw2(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample an H×W(×C) image at ``x + flow`` (H×W×2 pixels), bilinear, edges replicated."""
    h, w = flow.shape[:2]
    if flow.strides[0] == 0 and flow.strides[1] == 0:
        # A broadcast flow (the camera pan) is one translation: warpAffine samples the same
        # fixed-point positions as remap about 4× faster. Up to OpenCV 5.0 it gave the same
        # bits; 5.1 rounds differently on about 0.5 % of pixels, by one 8-bit level at most
        # (tests/test_sgm.py).
        dx, dy = (float(v) for v in np.asarray(flow[0, 0], np.float32))
        return cv2.warpAffine(img, np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]), (w, h),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
    coords = cv2.add(np.ascontiguousarray(flow, np.float32), pixel_grid_hw2(h, w))
    return cv2.remap(img, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def sample_points(img: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """An h×w(×C) image read at P float points (``xs``, ``ys`` pixels), bilinear, edges
    replicated: P(×C), the image's dtype."""
    p = xs.size
    # remap takes maps under 32767 wide: the points go in rows of 1024.
    rows = -(-p // 1024)
    maps = np.zeros((2, rows * 1024), np.float32)
    maps[0, :p], maps[1, :p] = xs, ys
    out = cv2.remap(img, maps[0].reshape(rows, 1024), maps[1].reshape(rows, 1024),
                    cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape((rows * 1024, *img.shape[2:]))[:p]


def resize_flow_hw2(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an H×W×2 float32 flow in pixels to ``size`` = (h, w), in pixels of
    the new size."""
    new_h, new_w = size
    h, w = flow.shape[:2]
    if (h, w) == (new_h, new_w):
        return np.ascontiguousarray(flow, np.float32)
    up = cv2.resize(flow, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    up[..., 0] *= new_w / w
    up[..., 1] *= new_h / h
    return up.astype(np.float32)


def hwc_to_tensor(array: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """An H×W×C numpy array (an image, or a flow with C = 2) -> 1×C×H×W float32 tensor on
    ``device``."""
    arr = np.ascontiguousarray(array, np.float32)
    return torch.from_numpy(arr).permute(2, 0, 1)[None].to(device)


def tensor_to_hwc(tensor: torch.Tensor) -> np.ndarray:
    """A C×H×W tensor (any device and float dtype) -> H×W×C float32 numpy array."""
    return tensor.detach().to("cpu", torch.float32).permute(1, 2, 0).contiguous().numpy()
