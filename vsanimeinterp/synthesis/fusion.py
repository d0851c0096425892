"""Learned per-pixel fusion of the SGM engine's synthesis candidates.

Forward splatting gives several estimates of a pixel at time ``t`` that are each right in
some places: the coverage-weighted mean of both warped frames (the classical softmax-splatting
output), each warped frame on its own (where the other side is occluded), the frame blend
(where the flows are unreliable or the drawing changes shape, the least-squares guess).
Which one to trust is decided per pixel by a tiny network,
:class:`FusionNet`, from cues the splatting already produces: how much and how consistently
each side covers the pixel, the photometric error and motion of what landed there, how
much the candidates disagree, and the same over the area around the pixel (a drawing that
changes shape tears whole areas, where single pixels can still look consistent).

The network has 1 156 weights (``fusion_weights.pt``, 7 KB, in the package) and was
trained on the CPU by ``tools/train_fusion.py`` on generated cartoons and the project's
development set of real animation (README, "Learned fusion"). It sees pixels and the mean
cues of their surroundings, not images, so it cannot memorise pictures; it only learns how
much to trust each cue.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import torch
from torch import nn

#: What each candidate is, in the order of the network's outputs.
CANDIDATES = ("fused", "warp1", "warp2", "blend")
#: The per-pixel cues, in the order of the network's inputs (side 1 = the frame at t = 0).
FEATURES = (
    "log coverage 1", "log coverage 2", "covered 1", "covered 2",
    "landed error 1", "landed error 2", "log1p landed motion 1", "log1p landed motion 2",
    "|warp1 - warp2|", "|warp1 - blend|", "|warp2 - blend|", "|frame1 - frame2|",
    "|fused - mean of warps|", "covered", "still",
    "area |warp1 - warp2|", "area landed error", "area uncovered",
)
_BLEND = torch.tensor([c == "blend" for c in CANDIDATES])
WEIGHTS_FILE = Path(__file__).with_name("fusion_weights.pt")
HIDDEN = 24


class FusionNet(nn.Module):
    """Per-pixel MLP: P×F cues (:data:`FEATURES`) → P×K logits over :data:`CANDIDATES`.

    Applied to the pixels of an image flattened into rows, so its cost is a few hundred
    multiply-adds per moving pixel.
    """

    def __init__(self, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.inp = nn.Linear(len(FEATURES), hidden)
        self.mid = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, len(CANDIDATES))

    def forward(self, cues: torch.Tensor) -> torch.Tensor:
        """cues: P×F float32; returns P×K logits."""
        return self.out(torch.relu(self.mid(torch.relu(self.inp(cues)))))


def prior_logits(t: float, device: torch.device | None = None) -> torch.Tensor:
    """K log-weights added to the network's logits: the side-specific candidates are weighted
    by the time distance to their frame (``1-t`` for frame 1, ``t`` for frame 2), so at
    ``t = 0.5`` (where the network was trained) they are even and towards either end the
    near frame takes over."""
    a, b = math.log(max(1.0 - t, 1e-6)), math.log(max(t, 1e-6))
    return torch.tensor([0.0, a, b, 0.0], device=device)


def exclude_blend(logits: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """P×K logits with the frame blend ruled out at the P-bool ``where``."""
    return logits.masked_fill(where[:, None] & _BLEND.to(logits.device), float("-inf"))


def candidate_weights(logits: torch.Tensor) -> torch.Tensor:
    """Softmax of P×K logits over the candidates, returned K×P (the layout the candidates
    are in); about twice as fast on the CPU as ``torch.softmax(logits, 1)``."""
    k_by_p = logits.T.contiguous()
    e = (k_by_p - k_by_p.amax(0)).exp_()
    return e.div_(e.sum(0))


def cues(
    cover1: torch.Tensor, cover2: torch.Tensor, err1: torch.Tensor, err2: torch.Tensor,
    motion1: torch.Tensor, motion2: torch.Tensor, cands: torch.Tensor, frame1: torch.Tensor,
    frame2: torch.Tensor, still: torch.Tensor, area: torch.Tensor,
) -> torch.Tensor:
    """The network's input for P pixels.

    Args:
        cover1, cover2: P splat coverages (sums of softmax weights; 0 = hole).
        err1, err2: P mean absolute RGB errors (0..1) of what landed, per side.
        motion1, motion2: P flow lengths (pixels) of what landed, per side.
        cands: K×3×P candidates in :data:`CANDIDATES` order, RGB 0..1.
        frame1, frame2: 3×P source pixels at the same place.
        still: P weight of the frame blend (0..1) from the stillness rule.
        area: 3×P context around each pixel (:func:`~.softsplat.context_maps`).

    Returns:
        F×P float32 in :data:`FEATURES` order, scaled to about unit range (pass ``cues.T``
        to the network: that layout is the fastest to build and to multiply).
    """
    def mad(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a - b).abs().mean(dim=0) * 10.0

    fused, warp1, warp2, blend = cands.unbind(0)
    has1 = (cover1 > 1e-10).float()
    has2 = (cover2 > 1e-10).float()
    return torch.stack([
        torch.log(cover1 + 1e-4) / 5, torch.log(cover2 + 1e-4) / 5, has1, has2,
        err1 * 10 * has1, err2 * 10 * has2,
        torch.log1p(motion1 * has1), torch.log1p(motion2 * has2),
        mad(warp1, warp2), mad(warp1, blend), mad(warp2, blend), mad(frame1, frame2),
        mad(fused, 0.5 * (warp1 + warp2)), torch.maximum(has1, has2), still,
        area[0] * 10.0, area[1] * 10.0, area[2],
    ])


@functools.cache
def _load(device: str) -> FusionNet:
    # Normal tensors even when first asked for under inference_mode (as the engine renders),
    # so later calls outside it work; no gradients, the weights are fixed.
    with torch.inference_mode(False):
        net = FusionNet()
        net.load_state_dict(torch.load(WEIGHTS_FILE, map_location="cpu", weights_only=True))
        return net.eval().requires_grad_(False).to(device)


def default_net(device: torch.device) -> FusionNet:
    """The shipped network on ``device`` (loaded once per device)."""
    return _load(str(device))
