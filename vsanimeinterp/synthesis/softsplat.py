"""Frame synthesis at time t for the weight-free SGM engine.

Both frames are forward-splatted towards time ``t`` (frame 1 along ``t·F12``, frame 2 along
``(1-t)·F21``) with softmax-splatting weights ``exp(Z)``, where ``Z = -alpha·|I1 - I2(x+F12)|``
is the brightness-constancy error of the pixel's own flow: where several pixels land on the
same spot, the one whose motion is photometrically consistent (the visible one) wins, which
resolves occlusions without a depth network. Pixels known to be in front (pieces SGM
followed on a far jump) get a bonus on ``Z``: against the background they pass, colour alone
cannot decide. Pieces SGM matched without a rival and that move against the camera ("movers")
are in front where they agree: where movers of both frames land on a spot with the same
motion, only they are splatted there, so a ball crossing the sky is not averaged with the sky
it covers; and where a mover or a far-jumping piece has left a spot, the frame blend (which
still holds it there) is not a candidate. The two warped frames are fused with weights
``(1-t)`` and ``t`` times their splat coverage, so at ``t=0`` the output is frame 1 and at
``t=1`` frame 2. Pixels nothing landed on are filled by a coarse-to-fine normalised blur of
the surrounding result (a cheap inpaint), falling back to the linear blend.

That coverage-weighted mean is one of four candidates per pixel; the others are each warped
frame alone and the frame blend. Where they differ, a tiny per-pixel network
(:mod:`.fusion`) weighs them from the splatting's own cues (coverage, photometric error and
motion of what landed, disagreement); ``render(..., learned=False)`` gives the classical
output.

Where the motion at a pixel (its own flows and those of what lands on it) is under a pixel,
the output is the frame blend: resampling a picture that hardly moves costs more than it gains
(see :data:`STILL_MOTION`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..ops.flow import backwarp, resize_bilinear_at
from ..ops.splatting import cubic_prefilter, fit_cubic_strength, splat, splat_points
from . import fusion

#: Motion (pixels, largest of the flows at and landing on a pixel, over 3×3) up to which the
#: output is the frame blend, and from which it is the motion-compensated estimate.
STILL_MOTION = (0.75, 1.5)
ALPHA = 10.0  # softmax-splatting sharpness per unit of mean absolute RGB error (0..1 scale)
#: Softmax-splatting bonus of pixels marked in front: e^5, about 150 to 1 against the rest.
FRONT_Z = 5.0
#: Splat coverage (sum of weights) of movers needed from each frame for a spot to be theirs,
#: and how far apart (pixels) the two frames' mover motions may be there: movers of one frame
#: landing where the other's do not, or with another motion, are a flow error at an edge or
#: two different pieces, where the hedge of the plain mean costs less.
MOVER_COVER = 0.25
MOVER_AGREE = 2.0
#: Pixels around a mover that count as its own where it left: a piece's outline is half in
#: the piece and half in whatever surrounds it.
MOVER_RIM = 3


@dataclass
class PairState:
    """Per-pair data independent of t.

    Attributes:
        img1, img2: N×3×H×W float32 frames in [0, 1].
        flow12, flow21: N×2×H×W float32 flows in pixels.
        err1, err2: N×1×H×W mean absolute RGB error (0..1) of each pixel's own flow.
        weight1, weight2: N×1×H×W softmax-splatting weights ``exp(Z)``.
        front1, front2: N×1×H×W pixels in front (see :func:`prepare_pair`), or None.
        mover1, mover2: N×1×H×W pixels of movers (see :func:`prepare_pair`), or None.
        sharpness: strength of the cubic pre-filter of the colours before splatting (see
            :func:`~vsanimeinterp.ops.splatting.fit_cubic_strength`), 0 = bilinear.
    """

    img1: torch.Tensor
    img2: torch.Tensor
    flow12: torch.Tensor
    flow21: torch.Tensor
    err1: torch.Tensor
    err2: torch.Tensor
    weight1: torch.Tensor
    weight2: torch.Tensor
    front1: torch.Tensor | None = None
    front2: torch.Tensor | None = None
    mover1: torch.Tensor | None = None
    mover2: torch.Tensor | None = None
    sharpness: float = 0.0


def prepare_pair(
    img1: torch.Tensor, img2: torch.Tensor, flow12: torch.Tensor, flow21: torch.Tensor,
    alpha: float = ALPHA, front1: torch.Tensor | None = None,
    front2: torch.Tensor | None = None, mover1: torch.Tensor | None = None,
    mover2: torch.Tensor | None = None,
) -> PairState:
    """Precompute the t-independent part of :func:`synthesize`.

    Args:
        img1, img2: N×3×H×W float RGB in [0, 1].
        flow12, flow21: N×2×H×W flows in pixels.
        alpha: sharpness of the occlusion weighting.
        front1, front2: optional N×1×H×W in [0, 1], pixels of each frame known to be in
            front of whatever they cross. Where a moving piece and the background it passes
            both land on one spot with consistent colours, photometric error cannot say
            which is visible and the two would blend into a ghost.
        mover1, mover2: optional N×1×H×W in {0, 1}, pixels of pieces moving against the
            background that may go in front where both frames' movers agree (see
            :func:`splat_layers`); used only when both are given.
    """
    i1 = img1.float()
    i2 = img2.float()
    f12 = flow12.float()
    f21 = flow21.float()
    e1 = (i1 - backwarp(i2, f12)).abs().mean(dim=1, keepdim=True)
    e2 = (i2 - backwarp(i1, f21)).abs().mean(dim=1, keepdim=True)
    # Clamping Z keeps the weights of badly matched pixels representable, so a target only
    # they reach still counts as covered (softmax weights are relative per target anyway).
    z1, z2 = -alpha * e1, -alpha * e2
    if front1 is not None:
        front1 = front1.float()
        z1 = z1 + FRONT_Z * front1
    if front2 is not None:
        front2 = front2.float()
        z2 = z2 + FRONT_Z * front2
    return PairState(i1, i2, f12, f21, e1, e2, z1.clamp_min_(-20.0).exp_(),
                     z2.clamp_min_(-20.0).exp_(), front1, front2,
                     None if mover1 is None else mover1.float(),
                     None if mover2 is None else mover2.float(),
                     fit_cubic_strength(i1, i2, f12, f21, STILL_MOTION[0]))


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
    levels = [(F.avg_pool2d(img * valid, 2, ceil_mode=True),
               F.avg_pool2d(valid, 2, ceil_mode=True))]
    while min(levels[-1][0].shape[-2:]) > 1 and len(levels) < 9:
        # Once a level has data everywhere, coarser ones would never be read.
        if bool((levels[-1][1] > 1e-6).all()):
            break
        a, s = levels[-1]
        levels.append((F.avg_pool2d(a, 2, ceil_mode=True), F.avg_pool2d(s, 2, ceil_mode=True)))
    a, s = levels[-1]
    est = F.interpolate(fallback, size=a.shape[-2:], mode="area")
    est = torch.where(s > 1e-6, a / s.clamp_min(1e-6), est)
    # Going up one level at a time keeps the cost at about half a full-resolution pass: a
    # pixel with data at a level takes its average there, the others the coarser estimate.
    for a, s in reversed(levels[:-1]):
        up = F.interpolate(est, size=a.shape[-2:], mode="bilinear", align_corners=False)
        est = torch.where(s > 1e-6, a / s.clamp_min(1e-6), up)
    # At full resolution only the holes need the upsampled estimate.
    holes = torch.nonzero(valid[:, 0] == 0)
    out = img.clone()
    out.permute(0, 2, 3, 1)[holes.unbind(1)] = resize_bilinear_at(est, img.shape[-2:], holes)
    return out


@dataclass
class Layers:
    """What splatting both frames to time ``t`` produces (N×C×H×W, before the stillness rule).

    Attributes:
        fused: coverage-weighted mean of both warped frames, holes inpainted (3 channels).
        blend: ``(1-t)·frame1 + t·frame2`` (3 channels).
        sums1, sums2: each side's splat sums before normalisation (5 channels: RGB, flow
            length in pixels, photometric error 0..1).
        cover1, cover2: splat coverage per side, 0 in holes (1 channel).
        motion1, motion2: flow length (pixels) of what landed, per side (1 channel).
        still: weight of the frame blend in the output, 0..1 (1 channel).
    """

    fused: torch.Tensor
    blend: torch.Tensor
    sums1: torch.Tensor
    sums2: torch.Tensor
    cover1: torch.Tensor
    cover2: torch.Tensor
    motion1: torch.Tensor
    motion2: torch.Tensor
    still: torch.Tensor


def splat_layers(state: PairState, t: float) -> Layers:
    """Splat both frames to time ``t`` in (0, 1) and derive the stillness weight."""
    # Each pixel carries its motion length and photometric error along, so every target
    # knows how fast and how reliably what landed on it moves.
    len12 = _length2(state.flow12).sqrt_()
    len21 = _length2(state.flow21).sqrt_()
    # The colours are pre-filtered so that a line landing between grid points keeps its
    # contrast (a cubic instead of a bilinear resampling where the motion is uniform), as
    # far as the pair says its pictures and flows bear it.
    disp1, disp2 = state.flow12 * t, state.flow21 * (1.0 - t)
    # The splat's input carries its ones (the weights' channel), saving it another copy.
    w1, w2 = (torch.cat([img, length, err, torch.ones_like(err)], 1) for img, length, err in (
        (state.img1, len12, state.err1), (state.img2, len21, state.err2)))
    v1, v2 = w1[:, :5], w2[:, :5]
    cubic_prefilter(state.img1, disp1, state.sharpness, out=v1[:, :3])
    cubic_prefilter(state.img2, disp2, state.sharpness, out=v2[:, :3])
    acc1, n1 = splat(w1, disp1, state.weight1, ones_last=True)
    acc2, n2 = splat(w2, disp2, state.weight2, ones_last=True)
    if state.mover1 is not None and state.mover2 is not None:
        _movers_in_front(state, t, v1, v2, acc1, n1, acc2, n2)
    d1, d2 = n1.clamp_min(1e-10), n2.clamp_min(1e-10)
    blend = (1.0 - t) * state.img1 + t * state.img2
    num = (1.0 - t) * acc1[:, :3] + t * acc2[:, :3]
    den = (1.0 - t) * n1 + t * n2
    valid = den > 1e-10
    fused = _fill_holes(num / den.clamp_min(1e-10), valid.to(num.dtype), blend)
    # Under a pixel of motion, resampling costs more than it gains: the blend of two frames a
    # fraction of a pixel apart is the in-between up to a fraction of their difference, and
    # no flow is that exact. Motion is judged both where a pixel is (its own flows) and by
    # what lands on it, so a thin line crossing a still area counts; holes are disocclusions,
    # next to motion by definition.
    motion1, motion2 = acc1[:, 3:4] / d1, acc2[:, 3:4] / d2
    motion = torch.maximum(torch.maximum(len12, len21), torch.maximum(motion1, motion2))
    motion = _grow(motion.masked_fill_(~valid, float("inf")), 1)
    still = ((STILL_MOTION[1] - motion) / (STILL_MOTION[1] - STILL_MOTION[0])).clamp_(0, 1)
    return Layers(fused, blend, acc1, acc2, n1, n2, motion1, motion2, still)


class _Movers:
    """The mover pixels of one frame, ready to splat: N×C×P values (the caller's 5 channels
    times the mover mask, then ``sign·flow``), N×P target positions and N×P weights."""

    def __init__(self, values: torch.Tensor, mover: torch.Tensor, flow: torch.Tensor,
                 t: float, weight: torch.Tensor, sign: float) -> None:
        w = values.shape[-1]
        anywhere = mover[0, 0] if mover.shape[0] == 1 else mover.amax(0)[0]
        at = torch.nonzero(anywhere.flatten()).squeeze(1)

        def pick(x: torch.Tensor) -> torch.Tensor:  # N×C×H×W → N×C×P
            # Indexing, not index_select: for a few pixels of N×C×HW several times faster.
            return x.flatten(2)[:, :, at]

        f = pick(flow)
        if mover.shape[0] == 1:  # every picked pixel is a mover
            self.values = torch.cat([pick(values), f * sign], 1)
            self.weight = pick(weight)[:, 0]
        else:
            m = pick(mover)
            self.values = torch.cat([pick(values) * m, f * (sign * m)], 1)
            self.weight = (pick(weight) * m)[:, 0]
        self.x = (at % w).to(f.dtype) + t * f[:, 0]
        self.y = torch.div(at, w, rounding_mode="floor").to(f.dtype) + t * f[:, 1]

    def box(self) -> tuple[float, float, float, float] | None:
        """(x0, y0, x1, y1) around the finite target positions, None without any."""
        if self.x.numel() == 0:
            return None
        (x0, x1), (y0, y1) = torch.aminmax(self.x), torch.aminmax(self.y)
        box = float(x0), float(y0), float(x1), float(y1)
        if all(math.isfinite(v) for v in box):
            return box
        ok = torch.isfinite(self.x) & torch.isfinite(self.y)
        if not bool(ok.any()):
            return None
        x, y = self.x[ok], self.y[ok]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def _movers_in_front(state: PairState, t: float, v1: torch.Tensor, v2: torch.Tensor,
                     acc1: torch.Tensor, n1: torch.Tensor, acc2: torch.Tensor,
                     n2: torch.Tensor) -> None:
    """Where the movers of both frames land at ``t`` with the same motion, replace each
    side's splat sums (``acc`` N×5×H×W, ``norm`` N×1×H×W, in place) by its movers' alone.

    Same motion from both ends means the same piece, seen where it is at t: the background
    it covers there must not dilute it into a ghost. Only the box where movers land is
    splatted (they are usually a small part of the frame); side 2's motion is summed
    reversed, so both read as the 1→2 motion.
    """
    h, w = v1.shape[-2:]
    m1 = _Movers(v1, state.mover1, state.flow12, t, state.weight1, 1.0)
    m2 = _Movers(v2, state.mover2, state.flow21, 1.0 - t, state.weight2, -1.0)
    b1, b2 = m1.box(), m2.box()
    if b1 is None or b2 is None:
        return
    # Only where both land can they agree; a bilinear footprint reaches one pixel further.
    x0 = max(math.floor(max(b1[0], b2[0])), 0)
    y0 = max(math.floor(max(b1[1], b2[1])), 0)
    x1 = min(math.floor(min(b1[2], b2[2])) + 2, w)
    y1 = min(math.floor(min(b1[3], b2[3])) + 2, h)
    if x1 <= x0 or y1 <= y0:
        return
    size, origin = (y1 - y0, x1 - x0), (x0, y0)
    a1, w1 = splat_points(m1.values, m1.x, m1.y, m1.weight, size, origin)
    a2, w2 = splat_points(m2.values, m2.x, m2.y, m2.weight, size, origin)
    gap = a1[:, 5:7] / w1.clamp_min(1e-6) - a2[:, 5:7] / w2.clamp_min(1e-6)
    agree = (w1 > MOVER_COVER) & (w2 > MOVER_COVER) & (_length2(gap) < MOVER_AGREE**2)
    box = (..., slice(y0, y1), slice(x0, x1))
    for acc, norm, a, wt in ((acc1, n1, a1, w1), (acc2, n2, a2, w2)):
        acc[box] = torch.where(agree, a[:, :5], acc[box])
        norm[box] = torch.where(agree, wt, norm[box])


#: Candidates closer than this (RGB 0..1) come out the same whatever the fusion weights, so
#: only pixels where they differ more are fused.
FUSE_SPREAD = 0.5 / 255
FUSE_BAND_PIXELS = 1 << 20


#: Cell size (pixels) and reach (cells each way) of the context maps: about 20 px around.
CONTEXT_CELL = 4
CONTEXT_REACH = 2


def context_maps(layers: Layers) -> torch.Tensor:
    """N×3×h×w (cells of :data:`CONTEXT_CELL` pixels) means over the surrounding area of: the
    disagreement of the two warps where both cover, the larger landed photometric error, and
    the share of pixels one side leaves uncovered. A drawing that changes shape between the
    frames tears whole areas, where single pixels still look consistent."""
    d1, d2 = layers.cover1.clamp_min(1e-10), layers.cover2.clamp_min(1e-10)
    has1, has2 = (layers.cover1 > 1e-10).float(), (layers.cover2 > 1e-10).float()
    both = has1 * has2
    gap = (layers.sums1[:, :3] / d1 - layers.sums2[:, :3] / d2).abs().mean(1, keepdim=True)
    err = torch.maximum(layers.sums1[:, 4:5] / d1 * has1, layers.sums2[:, 4:5] / d2 * has2)
    maps = torch.cat([gap * both, both, err, 1.0 - both], 1)
    c, r = CONTEXT_CELL, CONTEXT_REACH
    cells = F.avg_pool2d(maps, c, ceil_mode=True)
    area = F.avg_pool2d(F.pad(cells, (r, r, r, r), mode="replicate"), 2 * r + 1, stride=1)
    return torch.cat([area[:, :1] / area[:, 1:2].clamp_min(1e-6), area[:, 2:4]], 1)


def fusion_inputs(
    state: PairState, layers: Layers, k: int = 0, rows: tuple[int, int] | None = None,
    context: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Candidates and cues of the pixels of batch item ``k`` (in ``rows`` = (first, end) if
    given) where fusion matters: not pure blend, and the candidates differ by more than
    :data:`FUSE_SPREAD`.

    Returns:
        ``(index, cands, cues)``: P flat pixel indices into H×W, K×3×P candidates in
        :data:`~.fusion.CANDIDATES` order and F×P cues (:data:`~.fusion.FEATURES`).
    """
    h, w = layers.still.shape[-2:]
    first, end = rows if rows is not None else (0, h)
    index = torch.nonzero(layers.still[k, 0, first:end].flatten() < 1.0).squeeze(1) + first * w

    def at(x: torch.Tensor) -> torch.Tensor:  # C×H×W → C×P
        return x[k].flatten(1).index_select(1, index)

    fused, blend, cover1, cover2 = at(layers.fused), at(layers.blend), at(layers.cover1), at(
        layers.cover2)
    # Where only one side covers a pixel, the other side's estimate is the fused one; the
    # network knows which side covered what. lerp with a 0/1 weight picks exactly one of
    # its ends, several times faster than torch.where with a bool mask on the CPU.
    d1, d2 = cover1.clamp_min(1e-10), cover2.clamp_min(1e-10)
    cands = torch.stack([fused, fused, fused, blend])
    torch.lerp(fused, at(layers.sums1[:, :3]) / d1, (cover1 > 1e-10).float(), out=cands[1])
    torch.lerp(fused, at(layers.sums2[:, :3]) / d2, (cover2 > 1e-10).float(), out=cands[2])
    spread = (cands.amax(0) - cands.amin(0)).amax(0)
    keep = torch.nonzero(spread > FUSE_SPREAD).squeeze(1)
    index = index[keep]
    cands = cands.index_select(2, keep)
    cover1, cover2, d1, d2 = (x.index_select(1, keep) for x in (cover1, cover2, d1, d2))

    if context is None:
        context = context_maps(layers)
    ch = context.shape[-1]
    cell = (index // w // CONTEXT_CELL) * ch + (index % w) // CONTEXT_CELL
    cue = fusion.cues(
        cover1[0], cover2[0], (at(layers.sums1[:, 4:5]) / d1)[0],
        (at(layers.sums2[:, 4:5]) / d2)[0], at(layers.motion1)[0],
        at(layers.motion2)[0], cands, at(state.img1), at(state.img2), at(layers.still)[0],
        context[k].flatten(1).index_select(1, cell))
    return index, cands, cue


@torch.no_grad()
def render(state: PairState, t: float, net: fusion.FusionNet | None = None,
           learned: bool = True) -> torch.Tensor:
    """Synthesise the frame at time ``t`` in [0, 1]: N×3×H×W float32 clamped to [0, 1].

    Args:
        state: from :func:`prepare_pair`.
        t: time, 0 = frame 1.
        net: fusion network; the shipped one by default.
        learned: False gives the classical output (coverage-weighted mean of both warps)
            instead of the learned fusion of the candidates.
    """
    if t <= 0.0:
        return state.img1.clamp(0, 1)
    if t >= 1.0:
        return state.img2.clamp(0, 1)
    layers = splat_layers(state, t)
    out = layers.fused
    if learned:
        net = net if net is not None else fusion.default_net(out.device)
        out = out.clone()
        prior = fusion.prior_logits(t, out.device)
        h, w = out.shape[-2:]
        # Bands of about a million pixels bound the per-pixel buffers (4K: 8 bands).
        band = max(1, FUSE_BAND_PIXELS // w)
        leavers = _leavers(state)
        # A pair where nothing moves fuses no pixel and needs no context.
        context = context_maps(layers) if bool((layers.still < 1.0).any()) else None
        for k in range(out.shape[0]):
            for first in range(0, h, band):
                index, cands, cue = fusion_inputs(state, layers, k, (first, first + band),
                                                  context)
                if index.numel():
                    logits = net(cue.T) + prior
                    vacated = _vacated(leavers, k, index, cue)
                    if vacated is not None:
                        logits = fusion.exclude_blend(logits, vacated)
                    wgt = fusion.candidate_weights(logits)
                    out[k].flatten(1)[:, index] = (wgt[:, None] * cands).sum(0).to(out.dtype)
    still = layers.still
    return (still * layers.blend + (1 - still) * out).clamp(0, 1)


def _leavers(state: PairState) -> list[tuple[torch.Tensor, str]]:
    """The N×1×H×W masks of pieces that may leave a ghost in the frame blend where they
    left, with the cue saying whether their frame covers a pixel: far-jumping front pieces
    as they are, movers with their rim."""
    out = []
    for mask, covered, rim in ((state.front1, "covered 1", 0), (state.front2, "covered 2", 0),
                               (state.mover1, "covered 1", MOVER_RIM),
                               (state.mover2, "covered 2", MOVER_RIM)):
        if mask is not None:
            out.append((_dilate(mask, rim) if rim else mask, covered))
    return out


def _dilate(mask: torch.Tensor, rim: int) -> torch.Tensor:
    """N×1×H×W mask grown by ``rim`` pixels (square), computed on the box around it."""
    rows = torch.nonzero(mask.amax(dim=(0, 1, 3)))[:, 0]
    cols = torch.nonzero(mask.amax(dim=(0, 1, 2)))[:, 0]
    out = torch.zeros_like(mask)
    if rows.numel():
        h, w = mask.shape[-2:]
        box = (..., slice(max(int(rows[0]) - rim, 0), min(int(rows[-1]) + rim + 1, h)),
               slice(max(int(cols[0]) - rim, 0), min(int(cols[-1]) + rim + 1, w)))
        out[box] = _grow(mask[box], rim)
    return out


def _vacated(leavers: list[tuple[torch.Tensor, str]], k: int, index: torch.Tensor,
             cue: torch.Tensor) -> torch.Tensor | None:
    """P bool: of the fused pixels ``index`` of batch item ``k`` (cues ``cue``, F×P), those
    a front piece or a mover has left (``leavers`` from :func:`_leavers`): its frame shows it
    there but nothing of that frame lands. The frame blend would keep a ghost of the piece
    behind; None when there are no such pieces."""
    out = None
    for mask, covered in leavers:
        left = (mask[k, 0].flatten().index_select(0, index) > 0) & (
            cue[fusion.FEATURES.index(covered)] == 0)
        out = left if out is None else out | left
    return out


def _grow(x: torch.Tensor, r: int) -> torch.Tensor:
    """Maximum over the (2r+1)×(2r+1) square (edges replicated) of N×1×H×W values, from
    shifted views: several times faster than ``max_pool2d`` on the CPU."""
    h, w = x.shape[-2:]
    p = F.pad(x, (r, r, r, r), mode="replicate")
    rows = p[..., :h, :]
    for i in range(1, 2 * r + 1):
        rows = torch.maximum(rows, p[..., i:i + h, :])
    out = rows[..., :w]
    for j in range(1, 2 * r + 1):
        out = torch.maximum(out, rows[..., j:j + w])
    return out


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
