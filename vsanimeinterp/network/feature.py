"""Image feature pyramid that GridNet consumes alongside the warped frames."""

from __future__ import annotations

import torch
from torch import nn


class FeaturePyramid(nn.Module):
    """Six 3×3 convolutions with PReLU, giving features at scales 1, 1/2 and 1/4.

    Input: N×3×H×W image normalised to [-1, 1]. Output: a tuple of
    N×32×H×W, N×64×⌈H/2⌉×⌈W/2⌉ and N×96×⌈H/4⌉×⌈W/4⌉ (ceil of the ceil for the last level).
    """

    def __init__(self) -> None:
        super().__init__()
        # Attribute names follow the published checkpoint (feat_ext.convK / feat_ext.preluK).
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.prelu1 = nn.PReLU()
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.prelu2 = nn.PReLU()
        self.conv3 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.prelu3 = nn.PReLU()
        self.conv4 = nn.Conv2d(64, 64, 3, padding=1)
        self.prelu4 = nn.PReLU()
        self.conv5 = nn.Conv2d(64, 96, 3, stride=2, padding=1)
        self.prelu5 = nn.PReLU()
        self.conv6 = nn.Conv2d(96, 96, 3, padding=1)
        self.prelu6 = nn.PReLU()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        level1 = self.prelu2(self.conv2(self.prelu1(self.conv1(x))))
        level2 = self.prelu4(self.conv4(self.prelu3(self.conv3(level1))))
        level3 = self.prelu6(self.conv6(self.prelu5(self.conv5(level2))))
        return level1, level2, level3
