"""GridNet synthesis network: three rows (scales 1, 1/2, 1/4) of pre-activation conv pairs.

The input pairs (warped frames, warped features of each level) enter at their scale; the
result is read at full scale. Row/column layout and attribute names follow the published
model (``synnet.residual_model_XY``, ``downsample_model_XY``, ``upsample_model_XY`` with X
the row and Y the column), which is what the checkpoint keys are.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvPair(nn.Sequential):
    """PReLU, 3×3 conv, PReLU, 3×3 conv, optionally after a 2× bilinear upsampling.

    N×C_in×H×W -> N×C_out×H'×W' with H' = ⌈H/2⌉ for ``stride=2`` (first conv strided) and
    H' = 2H for ``upsample=True``. A Sequential so that checkpoint keys keep their indices.
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int = 1, upsample: bool = False
    ) -> None:
        layers: list[nn.Module] = []
        if upsample:
            layers.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
        layers += [
            nn.PReLU(),
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1),
            nn.PReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
        ]
        super().__init__(*layers)


class GridNet(nn.Module):
    """Synthesis from warped inputs.

    Args of :meth:`forward`:
        x0: N×6×H×W, both warped frames (0..1).
        x1: N×64×H×W, both warped level-1 features.
        x2: N×128×H/2×W/2, both warped level-2 features.
        x3: N×192×H/4×W/4, both warped level-3 features.

    Returns N×3×H×W. H and W must be multiples of 4 so that the upsampled rows line up.
    """

    def __init__(self) -> None:
        super().__init__()
        self.residual_model_head = ConvPair(6, 32)
        self.residual_model_head1 = ConvPair(64, 32)
        self.residual_model_head2 = ConvPair(128, 64)
        self.residual_model_head3 = ConvPair(192, 96)

        self.residual_model_01 = ConvPair(32, 32)
        self.residual_model_04 = ConvPair(32, 32)
        self.residual_model_05 = ConvPair(32, 32)
        self.residual_model_tail = ConvPair(32, 3)

        self.residual_model_11 = ConvPair(64, 64)
        self.residual_model_14 = ConvPair(64, 64)
        self.residual_model_15 = ConvPair(64, 64)

        self.residual_model_21 = ConvPair(96, 96)
        self.residual_model_24 = ConvPair(96, 96)
        self.residual_model_25 = ConvPair(96, 96)

        self.downsample_model_10 = ConvPair(32, 64, stride=2)
        self.downsample_model_20 = ConvPair(64, 96, stride=2)
        self.downsample_model_11 = ConvPair(32, 64, stride=2)
        self.downsample_model_21 = ConvPair(64, 96, stride=2)

        self.upsample_model_04 = ConvPair(64, 32, upsample=True)
        self.upsample_model_14 = ConvPair(96, 64, upsample=True)
        self.upsample_model_05 = ConvPair(64, 32, upsample=True)
        self.upsample_model_15 = ConvPair(96, 64, upsample=True)

    def forward(
        self, x0: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor, x3: torch.Tensor
    ) -> torch.Tensor:
        # Column 0: inject the inputs, going down the rows.
        g00 = self.residual_model_head(x0) + self.residual_model_head1(x1)
        g10 = self.downsample_model_10(g00) + self.residual_model_head2(x2)
        g20 = self.downsample_model_20(g10) + self.residual_model_head3(x3)
        # Column 1: lateral residuals plus the row above, downsampled.
        g01 = self.residual_model_01(g00) + g00
        g11 = self.residual_model_11(g10) + g10 + self.downsample_model_11(g01)
        g21 = self.residual_model_21(g20) + g20 + self.downsample_model_21(g11)
        # Columns 4 and 5 (2 and 3 were removed in the published model): go back up.
        g24 = self.residual_model_24(g21) + g21
        g25 = self.residual_model_25(g24) + g24
        g14 = self.upsample_model_14(g24) + (self.residual_model_14(g11) + g11)
        g04 = self.upsample_model_04(g14) + (self.residual_model_04(g01) + g01)
        g15 = self.upsample_model_15(g25) + (self.residual_model_15(g14) + g14)
        g05 = self.upsample_model_05(g15) + (self.residual_model_05(g04) + g04)
        return self.residual_model_tail(g05)
