"""A 1×1 convolution whose CPU results do not depend on the number of torch threads.

With torch 2.14 on the CPU, two kernels round differently depending on how the work is split
among threads: oneDNN's 1×1 convolution (it blocks the reduction by thread count) and the
NCHW bilinear ``F.interpolate`` (its vectorised and scalar paths meet where the split falls).
Elsewhere the split only decides who computes an element, not how. A change of one ulp is
harmless almost everywhere, but the network's splatting divides by the splatted weight, and
where that weight is ~1e-6 the same pixel is a full value in one run and a hole in the other
(measured: conformance case 1 lost 0.16 % of its values at 2 threads). Replacing those two
kernels with formulations that compute each output element in one fixed order makes the
flows, and so the holes, bit-identical for any thread count. The resize is
:func:`vsanimeinterp.ops.flow.resize_bilinear`.
"""

from __future__ import annotations

import torch
from torch import nn


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
