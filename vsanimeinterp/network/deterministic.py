"""Layers whose CPU results do not depend on the number of torch threads.

With torch 2.14 on the CPU, two kernels round differently depending on how the work is split
among threads: oneDNN's 1×1 convolution (it blocks the reduction by thread count) and the
NCHW bilinear ``F.interpolate`` (its vectorised and scalar paths meet where the split falls).
Elsewhere the split only decides who computes an element, not how. A change of one ulp is
harmless almost everywhere, but the network's splatting divides by the splatted weight, and
where that weight is ~1e-6 the same pixel is a full value in one run and a hole in the other
(measured: conformance case 1 lost 0.16 % of its values at 2 threads). Replacing those two
kernels with formulations that compute each output element in one fixed order makes the
flows, and so the holes, bit-identical for any thread count.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Pointwise(nn.Conv2d):
    """A 1×1 convolution (``nn.Conv2d`` with the same parameters and checkpoint keys).

    N×C_in×H×W -> N×C_out×⌈H/s⌉×⌈W/s⌉ for stride s. On the CPU it runs as one matrix
    product per sample, which BLAS splits among threads by output blocks only, so every
    output element is summed in the same order whatever the thread count; elsewhere it is
    the ordinary convolution (cuDNN is deterministic enough here and faster).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__(in_channels, out_channels, 1, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu":
            return super().forward(x)
        if self.stride != (1, 1):
            x = x[..., :: self.stride[0], :: self.stride[1]]
        n, c, h, w = x.shape
        weight = self.weight.reshape(self.out_channels, c)
        y = torch.matmul(weight, x.reshape(n, c, h * w))
        if self.bias is not None:
            y = y + self.bias.reshape(-1, 1)
        return y.reshape(n, self.out_channels, h, w)


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
    rounding, computed separably by gathers and element-wise products so that no result
    depends on the thread count. The same size is returned as is."""
    height, width = x.shape[-2:]
    if (height, width) == tuple(size):
        return x
    if x.device.type != "cpu":
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    c0, c1, cw0, cw1 = _axis_taps(width, size[1], x.dtype, x.device)
    rows = x[..., c0] * cw0 + x[..., c1] * cw1
    r0, r1, rw0, rw1 = _axis_taps(height, size[0], x.dtype, x.device)
    return rows[..., r0, :] * rw0[:, None] + rows[..., r1, :] * rw1[:, None]
