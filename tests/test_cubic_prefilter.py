"""The cubic pre-filter of forward splatting (vsanimeinterp.ops.splatting.cubic_prefilter):
where the motion is uniform, splatting the pre-filtered picture is a cubic resampling of it,
so lines keep their contrast. Its strength
is fitted per pair (fit_cubic_strength): smooth art gets it, hard-edged pixel art does not."""

from __future__ import annotations

import dataclasses
import math

import torch

from vsanimeinterp.ops.splatting import cubic_prefilter, fit_cubic_strength, splat
from vsanimeinterp.synthesis import softsplat


def _stripes(h: int, w: int, shift: float = 0.0) -> torch.Tensor:
    """1×3×h×w band-limited vertical stripes (period 6 px, 0..1) moved right by ``shift``."""
    x = torch.arange(w, dtype=torch.float64) - shift
    row = 0.5 + 0.4 * torch.sin(2 * math.pi * x / 6.0)
    return row.expand(1, 3, h, w).float().contiguous()


def _splat_normalized(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    acc, norm = splat(img, flow)
    return acc / norm.clamp_min(1e-10)


def test_uniform_half_pixel_motion_keeps_contrast() -> None:
    """Stripes moved by half a pixel: the bilinear splat alone halves nothing but loses a
    clear part of their amplitude; with the pre-filter the result is much closer to the
    stripes drawn at their new place."""
    h, w = 8, 48
    img = _stripes(h, w)
    flow = torch.zeros(1, 2, h, w)
    flow[:, 0] = 0.5
    truth = _stripes(h, w, 0.5)[..., 4:-4]
    plain = _splat_normalized(img, flow)[..., 4:-4]
    sharp = _splat_normalized(cubic_prefilter(img, flow), flow)[..., 4:-4]
    err_plain = (plain - truth).abs().mean().item()
    err_sharp = (sharp - truth).abs().mean().item()
    assert err_sharp < 0.5 * err_plain, (err_plain, err_sharp)
    # The amplitude lost by bilinear resampling comes back.
    assert sharp.std().item() > plain.std().item()


def test_whole_pixel_motion_constants_and_ramps_are_untouched() -> None:
    h, w = 6, 10
    img = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    whole = torch.full((1, 2, h, w), 3.0)
    torch.testing.assert_close(cubic_prefilter(img, whole), img, rtol=0, atol=0)
    # A ramp's second difference is zero, so any fraction leaves it as it is.
    ramp = torch.linspace(0, 1, w).expand(1, 3, h, w).contiguous()
    frac = torch.full((1, 2, h, w), 0.37)
    torch.testing.assert_close(cubic_prefilter(ramp, frac)[..., 1:-1], ramp[..., 1:-1],
                               rtol=0, atol=1e-6)
    flat = torch.full((1, 3, h, w), 0.6)
    torch.testing.assert_close(cubic_prefilter(flat, frac), flat, rtol=0, atol=1e-7)
    assert torch.equal(cubic_prefilter(img, frac, strength=0.0), img)


def test_non_finite_flow_leaves_values_finite() -> None:
    h, w = 5, 7
    img = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(2))
    flow = torch.full((1, 2, h, w), 0.5)
    flow[0, :, 2, 3] = float("nan")
    flow[0, 1, 1, 1] = float("inf")
    out = cubic_prefilter(img, flow)
    assert bool(torch.isfinite(out).all())
    torch.testing.assert_close(out[0, :, 2, 3], img[0, :, 2, 3], rtol=0, atol=0)


def _shifted_pair(kind: str, shift: float = 2.5, h: int = 64, w: int = 96
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two frames of a picture moved right by ``shift`` px and their exact flows: smooth
    stripes (band-limited, drawn at their new place), or pixel art (one colour per pixel,
    area-sampled at its new place: the mean of the two pixels it now straddles)."""
    if kind == "smooth":
        f1, f2 = _stripes(h, w), _stripes(h, w, shift)
    else:
        g = torch.Generator().manual_seed(3)
        art = torch.rand(1, 3, h, w // 4, generator=g).repeat_interleave(4, dim=3)
        whole = math.floor(shift)
        moved = art.roll(whole, 3)
        f1, f2 = art, (1 - (shift - whole)) * moved + (shift - whole) * moved.roll(1, 3)
    flow12 = torch.zeros(1, 2, h, w)
    flow12[:, 0] = shift
    return f1, f2, flow12, -flow12


def test_fit_sharpens_smooth_art_and_leaves_pixel_art_bilinear() -> None:
    assert fit_cubic_strength(*_shifted_pair("smooth")) > 0.3
    assert fit_cubic_strength(*_shifted_pair("pixels")) == 0.0
    # Nothing moves: nothing to fit, plain bilinear.
    still = _stripes(64, 96)
    zero = torch.zeros(1, 2, 64, 96)
    assert fit_cubic_strength(still, still, zero, zero) == 0.0


def test_render_keeps_a_smooth_moving_line_sharp() -> None:
    """Through the whole synthesis: a soft dark line (Gaussian profile) moving 3 px between
    the frames lands at t = 0.5 half-way between grid points. The pair's fitted strength
    gives an in-between closer to the line drawn there than bilinear splatting does."""
    h, w = 16, 48

    def line(pos: float) -> torch.Tensor:
        x = torch.arange(w, dtype=torch.float64)
        img = 0.9 - 0.8 * torch.exp(-0.5 * ((x - pos) / 0.7) ** 2)
        return img.expand(1, 3, h, w).float().contiguous()

    f1, f2, mid = line(20.0), line(23.0), line(21.5)
    flow12 = torch.zeros(1, 2, h, w)
    flow12[:, 0] = 3.0
    state = softsplat.prepare_pair(f1, f2, flow12, -flow12)
    # Whole-pixel motion says nothing about the kernel: the fit leaves it bilinear.
    assert state.sharpness == 0.0
    sharp_state = dataclasses.replace(state, sharpness=0.5)
    err_sharp = (softsplat.render(sharp_state, 0.5, learned=False) - mid).abs().mean().item()
    err_soft = (softsplat.render(state, 0.5, learned=False) - mid).abs().mean().item()
    assert err_sharp < 0.7 * err_soft, (err_soft, err_sharp)
    # A pair whose flows land between grid points (3.5 px) has its strength fitted.
    moved = softsplat.prepare_pair(f1, line(23.5), flow12 + 0.5, -(flow12 + 0.5))
    assert moved.sharpness > 0.0
