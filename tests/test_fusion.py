"""The SGM engine's learned fusion of synthesis candidates (``synthesis/fusion.py``) and the
helpers it relies on: the shipped weights, what the fusion does to frames, the sparse
hole filling and point sampling, and the training tool."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vsanimeinterp.metrics import psnr8, to_uint8
from vsanimeinterp.ops.flow import resize_bilinear, resize_bilinear_at
from vsanimeinterp.ops.splatting import splat, splat_points
from vsanimeinterp.sgm import sgm_flows
from vsanimeinterp.synthesis import fusion, softsplat
from vsanimeinterp.synthetic import make_triplets

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_weights_load_and_are_small() -> None:
    net = fusion.default_net(torch.device("cpu"))
    assert fusion.WEIGHTS_FILE.stat().st_size < 16_000
    cues = torch.rand(7, len(fusion.FEATURES))
    assert net(cues).shape == (7, len(fusion.CANDIDATES))
    assert all(torch.isfinite(p).all() for p in net.parameters())


@pytest.fixture(scope="module")
def triplets() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor,
                             torch.Tensor]]:
    """Generated cartoon triplets at 320×180 with their SGM flows (frame1, truth, frame3, F13,
    F31), tensors 1×C×H×W."""
    out = []
    for tr in make_triplets(4, 320, 180, seed=11):
        f1, f2, f3 = (torch.from_numpy(np.ascontiguousarray(f.transpose(2, 0, 1)))[None]
                      for f in (tr.frame0, tr.frame_mid, tr.frame1))
        out.append((f1, f2, f3, *sgm_flows(f1, f3)))
    return out


def test_learned_fusion_beats_the_classical_synthesis(triplets) -> None:
    """On cartoons it never saw (another generator seed than its training set), the fused
    in-between scores higher than the coverage-weighted mean of the two warps (measured
    +0.22, -0.09, +0.03, +0.04 dB; the larger gains are on real sprites and shapes, README)."""
    gains = []
    for f1, f2, f3, a, b in triplets:
        state = softsplat.prepare_pair(f1, f3, a, b)
        truth = to_uint8(f2[0].numpy().transpose(1, 2, 0))
        scores = [psnr8(to_uint8(softsplat.render(state, 0.5, learned=lrn)[0].numpy()
                                 .transpose(1, 2, 0)), truth) for lrn in (False, True)]
        gains.append(scores[1] - scores[0])
    assert np.mean(gains) > 0.02, gains
    assert min(gains) > -0.25, gains


def test_fusion_keeps_the_ends_and_the_still_areas(triplets) -> None:
    f1, _, f3, a, b = triplets[0]
    state = softsplat.prepare_pair(f1, f3, a, b)
    assert torch.equal(softsplat.render(state, 0.0), f1.clamp(0, 1))
    assert torch.equal(softsplat.render(state, 1.0), f3.clamp(0, 1))
    near = softsplat.render(state, 0.02)
    assert (near - f1).abs().mean() < (softsplat.render(state, 0.5) - f1).abs().mean() / 5
    layers = softsplat.splat_layers(state, 0.5)
    still = layers.still == 1
    out = softsplat.render(state, 0.5)
    assert torch.allclose(out.expand(-1, 3, -1, -1)[still.expand(-1, 3, -1, -1)],
                          layers.blend[still.expand(-1, 3, -1, -1)].clamp(0, 1))


def test_fusion_inputs_only_where_candidates_differ(triplets) -> None:
    f1, _, f3, a, b = triplets[1]
    state = softsplat.prepare_pair(f1, f3, a, b)
    layers = softsplat.splat_layers(state, 0.5)
    index, cands, cue = softsplat.fusion_inputs(state, layers)
    p = index.numel()
    assert 0 < p < layers.still.numel()
    assert cands.shape == (len(fusion.CANDIDATES), 3, p)
    assert cue.shape == (len(fusion.FEATURES), p) and torch.isfinite(cue).all()
    assert bool((layers.still.flatten()[index] < 1).all())
    spread = (cands.amax(0) - cands.amin(0)).amax(0)
    assert bool((spread > softsplat.FUSE_SPREAD).all())
    # The candidates are the frames' estimates at those pixels: the blend is the blend.
    assert torch.allclose(cands[3], layers.blend[0].flatten(1)[:, index])


def test_resize_bilinear_at_points_matches_the_whole_image() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 9, 14, generator=g)
    full = resize_bilinear(x, (17, 27))
    pts = torch.stack(torch.meshgrid(torch.arange(2), torch.arange(17), torch.arange(27),
                                     indexing="ij"), -1).reshape(-1, 3)
    at = resize_bilinear_at(x, (17, 27), pts)
    assert torch.equal(at, full.permute(0, 2, 3, 1).reshape(-1, 3))


def test_fill_holes_is_the_coarse_to_fine_average() -> None:
    """The sparse last level gives what upsampling the whole estimate gives."""
    g = torch.Generator().manual_seed(2)
    img = torch.rand(2, 3, 37, 53, generator=g)
    valid = (torch.rand(2, 1, 37, 53, generator=g) > 0.4).float()
    valid[1, :, :, :30] = 0
    fallback = torch.rand(2, 3, 37, 53, generator=g)
    # The reference: the same pyramid, every level upsampled in full.
    levels = [(img * valid, valid)]
    while not bool((levels[-1][1] > 1e-6).all()):
        a, s = levels[-1]
        levels.append((F.avg_pool2d(a, 2, ceil_mode=True), F.avg_pool2d(s, 2, ceil_mode=True)))
    a, s = levels[-1]
    est = torch.where(s > 1e-6, a / s.clamp_min(1e-6),
                      F.interpolate(fallback, size=a.shape[-2:], mode="area"))
    for a, s in reversed(levels[:-1]):
        up = F.interpolate(est, size=a.shape[-2:], mode="bilinear", align_corners=False)
        est = torch.where(s > 1e-6, a / s.clamp_min(1e-6), up)
    ref = torch.where(valid > 0, img, est)
    out = softsplat._fill_holes(img, valid, fallback)
    assert torch.allclose(out, ref, atol=1e-5)
    assert torch.equal(out[valid.expand_as(img) > 0], img[valid.expand_as(img) > 0])


def test_training_tool_writes_weights_the_engine_loads(tmp_path: Path) -> None:
    sets = tmp_path / "set"
    subprocess.run([sys.executable, "-m", "vsanimeinterp", "make-testset", str(sets),
                    "--count", "2", "--size", "160x96", "--seed", "3", "-q"], check=True)
    out = tmp_path / "w.pt"
    res = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "train_fusion.py"), "--set", f"gen={sets}",
         "--pixels", "300", "--epochs", "2", "--out", str(out)],
        capture_output=True, text=True, check=True)
    assert "cross-validated by scene" in res.stdout and "wrote" in res.stdout
    net = fusion.FusionNet()
    net.load_state_dict(torch.load(out, weights_only=True))
    f1 = torch.rand(1, 3, 40, 48)
    flow = torch.full((1, 2, 40, 48), 2.0)
    state = softsplat.prepare_pair(f1, f1.roll(4, -1), flow, -flow)
    assert torch.isfinite(softsplat.render(state, 0.5, net)).all()


def test_fusing_in_bands_gives_the_same_frame(triplets, monkeypatch) -> None:
    """Large frames are fused a band of rows at a time (bounded buffers); the result must
    not depend on the band height."""
    f1, _, f3, a, b = triplets[2]
    state = softsplat.prepare_pair(f1, f3, a, b)
    whole = softsplat.render(state, 0.4)
    monkeypatch.setattr(softsplat, "FUSE_BAND_PIXELS", 320 * 7)
    assert torch.equal(softsplat.render(state, 0.4), whole)


def test_splatting_some_points_is_splatting_those_pixels() -> None:
    # splat_points is how the movers are splatted a second time: for the same pixels it must
    # give the same sums as the whole-frame splat, also into a box of the frame.
    g = torch.Generator().manual_seed(3)
    h, w = 40, 56
    values = torch.rand(1, 4, h, w, generator=g)
    flow = torch.randn(1, 2, h, w, generator=g) * 6
    weight = torch.rand(1, 1, h, w, generator=g)
    keep = torch.rand(1, 1, h, w, generator=g) < 0.3
    whole, norm = splat(values * keep, flow, weight * keep)
    at = torch.nonzero(keep.flatten()).squeeze(1)
    x = (at % w).float() + flow.flatten(2)[0, 0, at]
    y = (at // w).float() + flow.flatten(2)[0, 1, at]
    acc, wsum = splat_points(values.flatten(2)[:, :, at], x[None], y[None],
                             weight.flatten(1)[:, at], (h, w))
    torch.testing.assert_close(acc, whole, rtol=0, atol=1e-5)
    torch.testing.assert_close(wsum, norm, rtol=0, atol=1e-5)
    box, bsum = splat_points(values.flatten(2)[:, :, at], x[None], y[None],
                             weight.flatten(1)[:, at], (20, 30), target_origin=(10, 5))
    torch.testing.assert_close(box, whole[..., 5:25, 10:40], rtol=0, atol=1e-5)
    torch.testing.assert_close(bsum, norm[..., 5:25, 10:40], rtol=0, atol=1e-5)


def test_splatting_drops_non_finite_positions_only() -> None:
    # Pixels whose flow is NaN or infinite land nowhere; every other pixel is shared among
    # its four neighbours with bilinear weights, as computed here pixel by pixel.
    g = torch.Generator().manual_seed(4)
    h, w = 12, 15
    values = torch.rand(1, 2, h, w, generator=g)
    flow = torch.randn(1, 2, h, w, generator=g) * 3
    flow[0, 0, 2, 3] = float("nan")
    flow[0, 1, 5, 7] = float("inf")
    flow[0, 0, 8, 1] = -float("inf")
    weight = torch.rand(1, 1, h, w, generator=g)
    acc, norm = splat(values, flow, weight)
    want = torch.zeros(3, h, w, dtype=torch.float64)
    for y in range(h):
        for x in range(w):
            tx = x + float(flow[0, 0, y, x])
            ty = y + float(flow[0, 1, y, x])
            if not (np.isfinite(tx) and np.isfinite(ty)):
                continue
            x0, y0 = int(np.floor(tx)), int(np.floor(ty))
            for cx, cy in ((x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)):
                if 0 <= cx < w and 0 <= cy < h:
                    b = (1 - abs(tx - cx)) * (1 - abs(ty - cy)) * float(weight[0, 0, y, x])
                    want[:2, cy, cx] += b * values[0, :, y, x].double()
                    want[2, cy, cx] += b
    assert torch.isfinite(acc).all() and torch.isfinite(norm).all()
    torch.testing.assert_close(acc[0].double(), want[:2], rtol=0, atol=1e-5)
    torch.testing.assert_close(norm[0].double(), want[2:], rtol=0, atol=1e-5)


def test_training_pairs_carry_the_engines_front_and_mover_masks() -> None:
    # The network must be trained on the candidates it fuses: the training tool builds each
    # direction's pair state as the engine does, masks included, with 12 and 21 swapped for
    # the backward direction.
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_fusion",
                                                  ROOT / "tools" / "train_fusion.py")
    tool = importlib.util.module_from_spec(spec)
    sys.modules["train_fusion"] = tool  # dataclasses look their module up there
    spec.loader.exec_module(tool)  # type: ignore[union-attr]
    h, w = 24, 32
    frames = tuple(np.random.default_rng(k).random((h, w, 3), dtype=np.float32)
                   for k in range(3))
    masks = {name: np.zeros((h, w), bool) for name in tool.MASKS}
    masks["front12"][2:5, 3:9] = True
    masks["movers21"][10:14, 20:30] = True
    flow = torch.zeros(1, 2, h, w)
    tr = tool.Triplet("gen/gen/x_0000", 0, frames, (flow, flow), masks)
    (fwd, _), (bwd, _) = tool.directions(tr)
    assert torch.equal(fwd.front1[0, 0] > 0, torch.from_numpy(masks["front12"]))
    assert fwd.front2 is None and fwd.mover1 is None
    assert torch.equal(fwd.mover2[0, 0] > 0, torch.from_numpy(masks["movers21"]))
    assert torch.equal(bwd.front2[0, 0] > 0, torch.from_numpy(masks["front12"]))
    assert torch.equal(bwd.mover1[0, 0] > 0, torch.from_numpy(masks["movers21"]))
    assert bwd.front1 is None and bwd.mover2 is None


def _layers(h: int, w: int) -> softsplat.Layers:
    """Layers of two warps that agree everywhere (grey, fully covered, no error)."""
    sums = torch.zeros(1, 5, h, w)
    sums[:, :3] = 0.5
    ones = torch.ones(1, 1, h, w)
    return softsplat.Layers(sums[:, :3].clone(), sums[:, :3].clone(), sums, sums.clone(),
                            ones, ones.clone(), ones * 0, ones * 0, ones * 0)


def test_context_maps_see_the_area_around_a_pixel() -> None:
    """The context cues are the warps' disagreement (where both cover), the landed error and
    the uncovered share, averaged over about 20 px: zero where the warps agree, raised
    around a torn patch and a hole, and not diluted by the hole's own pixels."""
    h, w = 64, 96
    layers = _layers(h, w)
    layers.sums2[:, :3, 20:28, 20:28] = 0.9  # side 2 shows something else here
    layers.sums1[:, 4, 20:28, 20:28] = 0.3  # and side 1's pixels landing there err
    layers.cover2[..., 40:, 60:] = 0.0  # and side 2 leaves a hole
    layers.sums2[..., 40:, 60:] = 0.0
    area = softsplat.context_maps(layers)
    c = softsplat.CONTEXT_CELL
    assert area.shape == (1, 3, h // c, w // c)
    gap, err, hole = area[0]
    assert float(gap[0, -1]) == 0.0 and float(err[0, -1]) == 0.0 and float(hole[0, -1]) == 0.0
    at = 24 // c
    assert float(gap[at, at]) > 0.05 and float(err[at, at]) > 0.03
    assert float(gap[at, at + 6]) == 0.0  # 24 px away: out of reach
    assert float(hole[-1, -1]) == 1.0 and 0.0 < float(hole[40 // c, 60 // c - 1]) < 1.0
    # Inside the hole only side 1 covers: no disagreement to average.
    assert float(gap[-1, -1]) == 0.0


def test_fusion_inputs_read_the_context_of_their_pixels(triplets) -> None:
    f1, _, f3, a, b = triplets[2]
    state = softsplat.prepare_pair(f1, f3, a, b)
    layers = softsplat.splat_layers(state, 0.5)
    context = softsplat.context_maps(layers)
    index, _, cue = softsplat.fusion_inputs(state, layers, context=context)
    w, c = layers.still.shape[-1], softsplat.CONTEXT_CELL
    ys, xs = index // w, index % w
    first = fusion.FEATURES.index("area |warp1 - warp2|")
    assert torch.allclose(cue[first], context[0, 0, ys // c, xs // c] * 10.0)
    assert torch.equal(softsplat.fusion_inputs(state, layers)[2], cue)
