"""RAFT's residual feature encoder, in the normalisation-free variant RFR uses."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .layers import Pointwise


class ResidualBlock(nn.Module):
    """Two 3×3 convolutions with ReLU and a skip connection (1×1 projection when strided).

    N×C_in×H×W -> N×C_out×⌈H/s⌉×⌈W/s⌉ for stride s.
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1)
        # A Sequential, so that the checkpoint key stays ``downsample.0`` (RAFT put its
        # normalisation layer at index 1; with norm 'none' that layer has no weights).
        self.downsample = (
            nn.Sequential(Pointwise(in_planes, planes, stride=stride)) if stride != 1 else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.conv1(x))
        y = F.relu(self.conv2(y))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(skip + y)


class FeatureEncoder(nn.Module):
    """Encoder to 1/8 resolution: N×3×H×W in [-1, 1] -> N×``output_dim``×H/8×W/8.

    H and W are expected to be multiples of 8 (the flow net resizes its input so).
    """

    def __init__(self, output_dim: int = 256) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3)
        self.layer1 = nn.Sequential(ResidualBlock(64, 64), ResidualBlock(64, 64))
        self.layer2 = nn.Sequential(ResidualBlock(64, 96, stride=2), ResidualBlock(96, 96))
        self.layer3 = nn.Sequential(ResidualBlock(96, 128, stride=2), ResidualBlock(128, 128))
        self.conv2 = Pointwise(128, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.conv2(x)
