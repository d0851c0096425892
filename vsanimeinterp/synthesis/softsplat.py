"""Frame synthesis at time t for the weight-free SGM engine.

Both frames are forward-splatted towards time ``t`` (frame 1 along ``t·F12``, frame 2 along
``(1-t)·F21``) with softmax-splatting weights ``exp(Z)``, where ``Z = -alpha·|I1 - I2(x+F12)|``
is the brightness-constancy error of the pixel's own flow: where several pixels land on the
same spot, the one whose motion is photometrically consistent (the visible one) wins, which
resolves occlusions without a depth network. The two warped frames are fused with weights
``(1-t)`` and ``t`` times their splat coverage, so at ``t=0`` the output is frame 1 and at
``t=1`` frame 2. Pixels nothing landed on are filled by a coarse-to-fine normalised blur of
the surrounding result (a cheap inpaint), falling back to the linear blend.

Where the motion at a pixel (its own flows and those of what lands on it) is under a pixel,
the output is the frame blend: resampling a picture that hardly moves costs more than it gains
(see :data:`STILL_MOTION`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..ops.flow import backwarp
from ..ops.splatting import splat

#: Motion (pixels, largest of the flows at and landing on a pixel, over 3×3) up to which the
#: output is the frame blend, and from which it is the motion-compensated estimate.
STILL_MOTION = (0.75, 1.5)
ALPHA = 10.0  # softmax-splatting sharpness per unit of mean absolute RGB error (0..1 scale)


@dataclass
class PairState:
    """Per-pair data independent of t.

    Attributes:
        img1, img2: N×3×H×W float32 frames in [0, 1].
        flow12, flow21: N×2×H×W float32 flows in pixels.
        weight1, weight2: N×1×H×W softmax-splatting weights ``exp(Z)`` in (0, 1].
    """

    img1: torch.Tensor
    img2: torch.Tensor
    flow12: torch.Tensor
    flow21: torch.Tensor
    weight1: torch.Tensor
    weight2: torch.Tensor


def prepare_pair(
    img1: torch.Tensor, img2: torch.Tensor, flow12: torch.Tensor, flow21: torch.Tensor,
    alpha: float = ALPHA,
) -> PairState:
    """Precompute the t-independent part of :func:`synthesize`.

    Args:
        img1, img2: N×3×H×W float RGB in [0, 1].
        flow12, flow21: N×2×H×W flows in pixels.
        alpha: sharpness of the occlusion weighting.
    """
    i1 = img1.float()
    i2 = img2.float()
    f12 = flow12.float()
    f21 = flow21.float()
    z1 = -alpha * (i1 - backwarp(i2, f12)).abs().mean(dim=1, keepdim=True)
    z2 = -alpha * (i2 - backwarp(i1, f21)).abs().mean(dim=1, keepdim=True)
    # Clamping Z keeps the weights of badly matched pixels representable, so a target only
    # they reach still counts as covered (softmax weights are relative per target anyway).
    return PairState(i1, i2, f12, f21, torch.exp(z1.clamp_min(-20.0)),
                     torch.exp(z2.clamp_min(-20.0)))


def _fill_holes(img: torch.Tensor, valid: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    """Fill pixels where ``valid`` is 0 from a coarse-to-fine normalised average of valid
    neighbours; pixels with no valid data at any scale take ``fallback``.

    Args:
        img: N×C×H×W values, meaningful where ``valid``; valid: N×1×H×W in {0, 1};
        fallback: N×C×H×W.
    """
    if bool(valid.all()):
        return img
    # Halving pyramid of the valid data (sum and weight); each level doubles the reach.
    levels = [(img * valid, valid)]
    while min(levels[-1][0].shape[-2:]) > 1 and len(levels) < 10:
        a, s = levels[-1]
        levels.append((F.avg_pool2d(a, 2, ceil_mode=True), F.avg_pool2d(s, 2, ceil_mode=True)))
        # Once a level has data everywhere, coarser ones would never be read.
        if bool((levels[-1][1] > 1e-6).all()):
            break
    a, s = levels[-1]
    est = F.interpolate(fallback, size=a.shape[-2:], mode="area")
    est = torch.where(s > 1e-6, a / s.clamp_min(1e-6), est)
    # Going up one level at a time keeps the cost at about two full-resolution passes: a
    # pixel with data at a level takes its average there, the others the coarser estimate.
    for a, s in reversed(levels[:-1]):
        up = F.interpolate(est, size=a.shape[-2:], mode="bilinear", align_corners=False)
        est = torch.where(s > 1e-6, a / s.clamp_min(1e-6), up)
    return torch.where(valid > 0, img, est)


def render(state: PairState, t: float) -> torch.Tensor:
    """Synthesise the frame at time ``t`` in [0, 1]: N×3×H×W float32 clamped to [0, 1]."""
    if t <= 0.0:
        return state.img1.clamp(0, 1)
    if t >= 1.0:
        return state.img2.clamp(0, 1)
    # Each pixel carries its motion length along, so every target knows how fast what
    # landed on it moves.
    len12 = _length2(state.flow12).sqrt_()
    len21 = _length2(state.flow21).sqrt_()
    acc1, n1 = splat(torch.cat([state.img1, len12], 1), state.flow12 * t, state.weight1)
    acc2, n2 = splat(torch.cat([state.img2, len21], 1), state.flow21 * (1.0 - t), state.weight2)
    blend = (1.0 - t) * state.img1 + t * state.img2
    num = (1.0 - t) * acc1[:, :3] + t * acc2[:, :3]
    den = (1.0 - t) * n1 + t * n2
    valid = (den > 1e-10).to(num.dtype)
    out = _fill_holes(num / den.clamp_min(1e-10), valid, blend)
    # Under a pixel of motion, resampling costs more than it gains: the blend of two frames a
    # fraction of a pixel apart is the in-between up to a fraction of their difference, and
    # no flow is that exact. Motion is judged both where a pixel is (its own flows) and by
    # what lands on it, so a thin line crossing a still area counts; holes are disocclusions,
    # next to motion by definition.
    landed = torch.maximum(acc1[:, 3:] / n1.clamp_min(1e-10), acc2[:, 3:] / n2.clamp_min(1e-10))
    motion = torch.maximum(torch.maximum(len12, len21), landed)
    motion = _max3(motion.masked_fill_(valid == 0, float("inf")))
    still = ((STILL_MOTION[1] - motion) / (STILL_MOTION[1] - STILL_MOTION[0])).clamp_(0, 1)
    return (still * blend + (1 - still) * out).clamp(0, 1)


def _max3(x: torch.Tensor) -> torch.Tensor:
    """3×3 maximum (edges replicated) of N×1×H×W values, from shifted views: several
    times faster than ``max_pool2d`` on the CPU."""
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")
    rows = torch.maximum(torch.maximum(p[..., :-2, :], p[..., 1:-1, :]), p[..., 2:, :])
    return torch.maximum(torch.maximum(rows[..., :-2], rows[..., 1:-1]), rows[..., 2:])


def _length2(flow: torch.Tensor) -> torch.Tensor:
    """Squared length of N×2×H×W vectors, N×1×H×W (``norm`` is several times slower)."""
    return torch.addcmul(flow[:, :1] * flow[:, :1], flow[:, 1:], flow[:, 1:])


def synthesize(
    img1: torch.Tensor, img2: torch.Tensor, flow12: torch.Tensor, flow21: torch.Tensor, t: float
) -> torch.Tensor:
    """Frame at time ``t`` between ``img1`` (t=0) and ``img2`` (t=1).

    Args:
        img1, img2: N×3×H×W float RGB in [0, 1].
        flow12, flow21: N×2×H×W flows in pixels (channel 0 = x).
        t: time in [0, 1].

    Returns:
        N×3×H×W float32 in [0, 1].
    """
    return render(prepare_pair(img1, img2, flow12, flow21), t)
