"""Synthesis on overlapping tiles (feature pyramid, warping and GridNet per tile): same frame
as the whole-frame pass, no seams."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import vapoursynth as vs
from conftest import conformance_dir

import vsanimeinterp
from vsanimeinterp.engines.network import auto_tile_size
from vsanimeinterp.network.tiling import synthesize_tiled
from vsanimeinterp.synthetic import make_triplets
from vsanimeinterp.vsfilter.frames import clip_from_arrays, clip_to_arrays

CKPT = conformance_dir() / "anime_interp_conformance.ckpt"
needs_ckpt = pytest.mark.skipif(not CKPT.is_file(), reason=f"no checkpoint at {CKPT}")
H, W, TILE = 256, 320, 128


@pytest.fixture(scope="module")
def synth_inputs():
    net = vsanimeinterp.load_model(CKPT)
    tr = make_triplets(1, width=W, height=H, seed=4)[0]
    i1, i2 = (torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].float()
              for x in (tr.frame0, tr.frame1))
    f12, f21 = vsanimeinterp.sgm_flows(i1, i2)
    with torch.inference_mode():
        a, b = net.encode_frame(i1), net.encode_frame(i2)
        g12, g21 = net.refine_flows(a, b, f12, f21)
    return net, (i1, i2, a, b, g12, g21)


def _synth(net, inputs, tile: int, overlap: int) -> torch.Tensor:
    """Whole-frame synthesis (tile 0) or the tiled path with this tile and overlap."""
    i1, i2, a, b, g12, g21 = inputs
    with torch.inference_mode():
        if tile == 0:
            return net.synthesize(i1, i2, a, b, g12, g21, 0.5)
        return synthesize_tiled(net, i1, i2, g12, g21, 0.5, tile, overlap)


def _seam_energy(img: torch.Tensor) -> tuple[float, float]:
    """Mean absolute step across tile borders and across all other rows/columns."""
    dy = (img[..., 1:, :] - img[..., :-1, :]).abs().mean(dim=(0, 1, 3))
    dx = (img[..., :, 1:] - img[..., :, :-1]).abs().mean(dim=(0, 1, 2))
    border_y = [TILE * k - 1 for k in range(1, H // TILE)]
    border_x = [TILE * k - 1 for k in range(1, (W + TILE - 1) // TILE)]
    keep_y = torch.ones_like(dy, dtype=torch.bool)
    keep_x = torch.ones_like(dx, dtype=torch.bool)
    keep_y[border_y] = False
    keep_x[border_x] = False
    at = torch.cat((dy[border_y], dx[border_x])).mean().item()
    rest = torch.cat((dy[keep_y], dx[keep_x])).mean().item()
    return at, rest


@needs_ckpt
def test_synthesize_tiled_equals_whole(synth_inputs) -> None:
    net, inputs = synth_inputs
    i1, i2, _, _, g12, g21 = inputs
    whole = _synth(net, inputs, 0, 64)
    with torch.inference_mode():
        tiled = synthesize_tiled(net, i1, i2, g12, g21, 0.5, TILE, 64)  # 2×3 tiles
    assert (tiled - whole).abs().max().item() <= 1e-5
    at_whole, _ = _seam_energy(whole)
    at_tiled, _ = _seam_energy(tiled)
    assert at_tiled == pytest.approx(at_whole, rel=1e-3)


@needs_ckpt
def test_synthesize_tiled_with_still_frames_and_empty_tiles(synth_inputs) -> None:
    """Zero flow (every tile gathers only its own pixels) and a flow pushing everything out
    of the frame (tiles that receive no source pixel) both match the whole-frame pass."""
    net, inputs = synth_inputs
    i1, i2, a, b, g12, _ = inputs
    for flow in (torch.zeros_like(g12), torch.full_like(g12, 1000.0)):
        with torch.inference_mode():
            whole = net.synthesize(i1, i2, a, b, flow, flow, 0.5)
            tiled = synthesize_tiled(net, i1, i2, flow, flow, 0.5, TILE, 64)
        assert (tiled - whole).abs().max().item() <= 1e-5


@needs_ckpt
def test_no_seams_at_tile_borders(synth_inputs) -> None:
    net, inputs = synth_inputs
    whole = _synth(net, inputs, 0, 64)
    at_whole, _ = _seam_energy(whole)
    at_tiled, _ = _seam_energy(_synth(net, inputs, TILE, 64))
    assert at_tiled == pytest.approx(at_whole, rel=1e-3)
    # Without context the borders do show: the check above can fail.
    at_bare, _ = _seam_energy(_synth(net, inputs, TILE, 0))
    assert abs(at_bare - at_whole) > 10 * abs(at_tiled - at_whole) + 1e-4


@needs_ckpt
def test_filter_tile_size_changes_nothing() -> None:
    tr = make_triplets(1, width=W, height=H, seed=2)[0]
    src = clip_from_arrays([tr.frame0, tr.frame1], format=vs.RGBS)
    mids = [clip_to_arrays(vsanimeinterp.interpolate(
        src, engine="animeinterp", checkpoint=CKPT, tile_size=tile))[1] for tile in (0, 128)]
    assert np.abs(mids[0] - mids[1]).max() <= 1e-5


def test_auto_tile_size() -> None:
    assert auto_tile_size(1088, 1920, 24 << 30, 64) == 0  # 1080p whole with 24 GB free
    side = auto_tile_size(2160, 3840, 24 << 30, 64)
    assert side % 64 == 0 and 128 <= side < 2160
    assert (side + 128) ** 2 * 2048 <= (24 << 30) // 4
    assert auto_tile_size(2160, 3840, 1 << 20, 64) == 128  # never below 128


@pytest.mark.parametrize(("kw", "msg"), [
    ({"tile_size": 102}, "tile_size must be"), ({"tile_size": 32}, "tile_size must be"),
    ({"tile_size": -4}, "tile_size must be"), ({"tile_overlap": 30}, "tile_overlap must be"),
    ({"tile_overlap": -4}, "tile_overlap must be"),
])
def test_bad_tile_arguments(kw, msg) -> None:
    with pytest.raises(vs.Error, match=rf"interpolate: {msg}"):
        vsanimeinterp.interpolate(vs.core.std.BlankClip(length=3), **kw)
