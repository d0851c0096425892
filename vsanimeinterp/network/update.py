"""RAFT's recurrent update operator: motion encoder, separable ConvGRU, flow and mask heads."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .layers import Pointwise


class MotionEncoder(nn.Module):
    """Encodes correlation features and the current flow.

    corr: N×(levels·(2r+1)²)×h×w, flow: N×2×h×w (1/8-scale pixels) -> N×128×h×w, whose last
    two channels are the flow itself.
    """

    def __init__(self, corr_planes: int) -> None:
        super().__init__()
        self.convc1 = Pointwise(corr_planes, 256)
        self.convc2 = nn.Conv2d(256, 192, 3, padding=1)
        self.convf1 = nn.Conv2d(2, 128, 7, padding=3)
        self.convf2 = nn.Conv2d(128, 64, 3, padding=1)
        self.conv = nn.Conv2d(64 + 192, 128 - 2, 3, padding=1)

    def forward(self, flow: torch.Tensor, corr: torch.Tensor) -> torch.Tensor:
        cor = F.relu(self.convc2(F.relu(self.convc1(corr))))
        flo = F.relu(self.convf2(F.relu(self.convf1(flow))))
        out = F.relu(self.conv(torch.cat([cor, flo], dim=1)))
        return torch.cat([out, flow], dim=1)


class SepConvGRU(nn.Module):
    """GRU cell applied twice: with 1×5 then with 5×1 convolutions.

    h: N×hidden×h×w, x: N×input×h×w -> new h, N×hidden×h×w.
    """

    def __init__(self, hidden_dim: int = 128, input_dim: int = 256) -> None:
        super().__init__()
        planes = hidden_dim + input_dim
        self.convz1 = nn.Conv2d(planes, hidden_dim, (1, 5), padding=(0, 2))
        self.convr1 = nn.Conv2d(planes, hidden_dim, (1, 5), padding=(0, 2))
        self.convq1 = nn.Conv2d(planes, hidden_dim, (1, 5), padding=(0, 2))
        self.convz2 = nn.Conv2d(planes, hidden_dim, (5, 1), padding=(2, 0))
        self.convr2 = nn.Conv2d(planes, hidden_dim, (5, 1), padding=(2, 0))
        self.convq2 = nn.Conv2d(planes, hidden_dim, (5, 1), padding=(2, 0))

    @staticmethod
    def _step(
        h: torch.Tensor, x: torch.Tensor, convz: nn.Conv2d, convr: nn.Conv2d, convq: nn.Conv2d
    ) -> torch.Tensor:
        hx = torch.cat([h, x], dim=1)
        z = torch.sigmoid(convz(hx))
        r = torch.sigmoid(convr(hx))
        q = torch.tanh(convq(torch.cat([r * h, x], dim=1)))
        return (1 - z) * h + z * q

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        h = self._step(h, x, self.convz1, self.convr1, self.convq1)
        return self._step(h, x, self.convz2, self.convr2, self.convq2)


class FlowHead(nn.Module):
    """N×128×h×w hidden state -> N×2×h×w flow increment (1/8-scale pixels)."""

    def __init__(self, input_dim: int = 128, hidden_dim: int = 256) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(input_dim, hidden_dim, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden_dim, 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.conv1(x)))


class UpdateBlock(nn.Module):
    """One refinement step.

    Takes the hidden state N×128×h×w, the context N×128×h×w, correlation features and the
    current flow N×2×h×w; returns (new hidden state, flow increment N×2×h×w). The convex
    upsampling weights come from :meth:`upsampling_logits`, separately, because only the last
    iteration's are ever used.
    """

    def __init__(self, corr_planes: int, hidden_dim: int = 128) -> None:
        super().__init__()
        self.encoder = MotionEncoder(corr_planes)
        self.gru = SepConvGRU(hidden_dim=hidden_dim, input_dim=128 + hidden_dim)
        self.flow_head = FlowHead(hidden_dim, hidden_dim=256)
        self.mask = nn.Sequential(
            nn.Conv2d(hidden_dim, 256, 3, padding=1),
            nn.ReLU(inplace=True),
            Pointwise(256, 64 * 9),
        )

    def forward(
        self, net: torch.Tensor, inp: torch.Tensor, corr: torch.Tensor, flow: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        motion = self.encoder(flow, corr)
        net = self.gru(net, torch.cat([inp, motion], dim=1))
        return net, self.flow_head(net)

    def upsampling_logits(self, net: torch.Tensor) -> torch.Tensor:
        """Mask head: hidden state N×128×h×w -> N×576×h×w logits (9 neighbours × 8×8)."""
        # RAFT scales the logits by 0.25 (for its gradients); the weights were trained so.
        return 0.25 * self.mask(net)
