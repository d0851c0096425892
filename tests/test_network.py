"""The AnimeInterp network against the reference outputs in ../shared/conformance."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from vsanimeinterp.network import (
    AnimeInterp,
    CheckpointError,
    load_model,
    load_state_dict,
    padded_size,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE_DIR = Path(
    os.environ.get("VSANIMEINTERP_CONFORMANCE_DIR", REPO_ROOT.parent / "shared" / "conformance")
)
CHECKPOINT = CONFORMANCE_DIR / "anime_interp_conformance.ckpt"
CASES = CONFORMANCE_DIR / "cases.npz"

needs_conformance = pytest.mark.skipif(
    not (CHECKPOINT.is_file() and CASES.is_file()),
    reason=f"conformance data not found in {CONFORMANCE_DIR} "
    "(set VSANIMEINTERP_CONFORMANCE_DIR to the folder holding cases.npz and the checkpoint)",
)


@pytest.fixture(scope="module")
def cases() -> dict[str, np.ndarray]:
    with np.load(CASES) as data:
        return {name: data[name] for name in data.files}


@pytest.fixture(scope="module")
def model() -> AnimeInterp:
    torch.manual_seed(0)
    return load_model(CHECKPOINT)


@pytest.fixture(scope="module")
def state_dict() -> dict[str, torch.Tensor]:
    return load_state_dict(CHECKPOINT)


def case_inputs(cases, index: int) -> tuple[torch.Tensor, ...]:
    """(I1, I2, F12i, F21i) as 1×C×H×W tensors, and t as a float."""
    names = ("I1", "I2", "F12i", "F21i")
    tensors = tuple(torch.from_numpy(cases[f"case{index}_{name}"])[None] for name in names)
    return (*tensors, float(cases[f"case{index}_t"]))


def expected(cases, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return tuple(torch.from_numpy(cases[f"case{index}_{n}"])[None] for n in ("It", "F12", "F21"))


def assert_conforms(frame, flow12, flow21, want) -> None:
    """The README's tolerances: flows within 1e-2 px; frame mean error ≤ 1e-3 with at least
    99.9 % of the values within 1e-2 (splat normalisation is ill-conditioned in places)."""
    want_frame, want12, want21 = want
    assert frame.shape == want_frame.shape
    assert (flow12 - want12).abs().max().item() <= 1e-2
    assert (flow21 - want21).abs().max().item() <= 1e-2
    error = (frame - want_frame).abs()
    assert error.mean().item() <= 1e-3
    assert (error <= 1e-2).float().mean().item() >= 0.999


pytestmark = needs_conformance


def test_state_dict_matches_manifest(cases):
    manifest = json.loads(str(cases["manifest"]))
    state = AnimeInterp().state_dict()
    assert [name for name, _ in manifest] == list(state)
    assert {name: list(shape) for name, shape in manifest} == {
        name: list(tensor.shape) for name, tensor in state.items()
    }


@pytest.mark.parametrize("index", [0, 1, 2])
def test_forward_matches_reference(model, cases, index):
    frame, flow12, flow21 = model(*case_inputs(cases, index))
    assert frame.dtype == flow12.dtype == torch.float32
    assert_conforms(frame, flow12, flow21, expected(cases, index))


@pytest.mark.parametrize("batched", [True, False])
def test_split_path_matches_reference(model, cases, batched):
    image1, image2, init12, init21, t = case_inputs(cases, 1)
    f1 = model.encode_frame(image1)
    f2 = model.encode_frame(image2)
    assert f1.image.shape == image1.shape
    assert f1.fmap.shape == (1, 256, 132 // 8, 172 // 8)
    assert [tuple(x.shape[1:]) for x in f1.levels] == [(32, 132, 172), (64, 66, 86), (96, 33, 43)]
    model.batch_directions = batched
    try:
        flow12, flow21 = model.refine_flows(f1, f2, init12, init21)
    finally:
        model.batch_directions = None
    frame = model.synthesize(image1, image2, f1, f2, flow12, flow21, torch.tensor(t))
    assert_conforms(frame, flow12, flow21, expected(cases, 1))


def test_batch_with_per_sample_t(model, cases):
    """N=2 with one t per sample: the same pair at t=0.5 (case 0's t) and t=0.9."""
    image1, image2, init12, init21, t = case_inputs(cases, 0)
    batch = [torch.cat((x, x)) for x in (image1, image2, init12, init21)]
    frame, flow12, flow21 = model(*batch, torch.tensor([t, 0.9]))
    want_frame, want12, want21 = expected(cases, 0)
    assert_conforms(frame[:1], flow12[:1], flow21[:1], (want_frame, want12, want21))
    assert_conforms(frame[1:], flow12[1:], flow21[1:], (frame[1:], want12, want21))
    assert (frame[1] - want_frame[0]).abs().mean().item() > 1e-3  # t really differs


@pytest.mark.parametrize("index", [0, 1, 2])
def test_padded_path_keeps_supported_sizes(model, cases, index):
    inputs = case_inputs(cases, index)
    assert padded_size(*inputs[0].shape[-2:]) == tuple(inputs[0].shape[-2:])
    assert_conforms(*model.interpolate_padded(*inputs), expected(cases, index))


@pytest.mark.parametrize("size", [(100, 90), (130, 170)])
def test_padded_path_any_size(model, cases, size):
    height, width = size
    image1, image2, init12, init21, t = (
        x[..., :height, :width] if isinstance(x, torch.Tensor) else x for x in case_inputs(cases, 2)
    )
    frame, flow12, flow21 = model.interpolate_padded(image1, image2, init12, init21, t)
    assert frame.shape == (1, 3, height, width)
    assert flow12.shape == flow21.shape == (1, 2, height, width)
    for out in (frame, flow12, flow21):
        assert torch.isfinite(out).all()


def test_unpadded_small_input_is_what_padding_is_for(model, cases):
    image1, image2, init12, init21, t = case_inputs(cases, 0)
    crop = [x[..., :100, :] for x in (image1, image2, init12, init21)]
    _, flow12, _ = model(*crop, t)
    # The deepest correlation level is 1 px high, and the reference divides by zero there.
    assert torch.isnan(flow12).all()


SLOW = os.environ.get("VSANIMEINTERP_SLOW_TESTS") == "1"


@pytest.mark.skipif(
    not (torch.cuda.is_available() or SLOW),
    reason="CPU float16 convolutions run on PyTorch's slow fallback (about 30 s for case 0); "
    "runs on CUDA, or on the CPU with VSANIMEINTERP_SLOW_TESTS=1",
)
def test_half_precision_deviation(cases):
    """float16 convolutions (float32 correlation, coordinates and splatting) stay close.

    With untrained weights, CPU float16 measured: flows ≤ 0.058 px max, frame mean 1.9e-3.
    On the CPU only case 0 runs (slow fallback).
    """
    device = "cuda" if torch.cuda.is_available() else "cpu"
    half = load_model(CHECKPOINT, device=device, half=True)
    assert half.flownet.update_block.gru.convz1.weight.dtype == torch.float16
    for index in [0, 1, 2] if device == "cuda" else [0]:
        inputs = [x.to(device) if torch.is_tensor(x) else x for x in case_inputs(cases, index)]
        frame, flow12, flow21 = (x.cpu() for x in half(*inputs))
        want_frame, want12, want21 = expected(cases, index)
        assert frame.dtype == flow12.dtype == torch.float32
        assert (flow12 - want12).abs().max().item() < 0.1
        assert (flow21 - want21).abs().max().item() < 0.1
        error = (frame - want_frame).abs()
        assert error.mean().item() < 5e-3
        assert (error <= 0.05).float().mean().item() > 0.99


# -- loading ---------------------------------------------------------------------------


def test_load_official_format_and_variants(tmp_path, state_dict, model):
    reference = model.state_dict()
    prefixed = {f"module.{k}": v for k, v in state_dict.items()}
    variants = {
        "bare_prefixed.pth": prefixed,
        "bare_plain.pth": dict(state_dict),
        "official_plain_keys.ckpt": {"epoch": 3, "model_state_dict": dict(state_dict)},
    }
    for name, content in variants.items():
        torch.save(content, tmp_path / name)
        loaded = load_model(str(tmp_path / name) if "plain" in name else tmp_path / name)
        assert not loaded.training
        for key in ("synnet.residual_model_tail.3.weight", "flownet.fnet.conv1.bias"):
            assert torch.equal(loaded.state_dict()[key], reference[key])
    assert torch.equal(
        load_model(prefixed).state_dict()["feat_ext.prelu6.weight"],
        reference["feat_ext.prelu6.weight"],
    )
    official = torch.load(CHECKPOINT, weights_only=True)
    assert set(official) >= {"epoch", "model_state_dict"}
    assert all(k.startswith("module.") for k in official["model_state_dict"])
    assert len(load_model(official).state_dict()) == 220


def test_truncated_file_is_a_clear_error(tmp_path):
    data = CHECKPOINT.read_bytes()
    path = tmp_path / "truncated.ckpt"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated, corrupt"):
        load_model(path)


def test_missing_unexpected_and_misshapen_keys_are_listed(tmp_path, state_dict):
    broken = {f"module.{k}": v for k, v in state_dict.items()}
    del broken["module.flownet.fnet.conv1.bias"]
    broken["module.synnet.extra.weight"] = torch.zeros(1)
    broken["module.feat_ext.conv1.weight"] = torch.zeros(32, 3, 5, 5)
    path = tmp_path / "broken.ckpt"
    torch.save({"epoch": 0, "model_state_dict": broken}, path)
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    message = str(info.value)
    assert "missing 1: flownet.fnet.conv1.bias" in message
    assert "unexpected 1: synnet.extra.weight" in message
    assert "feat_ext.conv1.weight: (32, 3, 5, 5) instead of (32, 3, 3, 3)" in message
    assert isinstance(info.value, ValueError)


def test_long_key_lists_are_truncated(state_dict):
    partial = dict(list(state_dict.items())[:10])
    with pytest.raises(CheckpointError, match=r"missing 210: .*\(202 more\)"):
        load_model(partial)


def test_missing_key_alone(tmp_path, state_dict):
    partial = dict(state_dict)
    del partial["synnet.residual_model_head.0.weight"]
    path = tmp_path / "missing.pth"
    torch.save(partial, path)
    with pytest.raises(CheckpointError, match=r"missing 1: synnet\.residual_model_head\.0\.weight"):
        load_model(path)


def test_wrong_shape_alone(tmp_path, state_dict):
    wrong = dict(state_dict)
    wrong["flownet.update_block.mask.2.bias"] = torch.zeros(575)
    path = tmp_path / "wrong_shape.pth"
    torch.save({"model_state_dict": wrong}, path)
    with pytest.raises(CheckpointError, match=r"mask\.2\.bias: \(575,\) instead of \(576,\)"):
        load_model(path)


class _Opaque:
    """A class that only arbitrary unpickling can rebuild."""


def test_arbitrary_pickle_is_refused_with_advice(tmp_path, state_dict):
    path = tmp_path / "pickled.ckpt"
    torch.save({"model_state_dict": dict(state_dict), "args": _Opaque()}, path)
    with pytest.raises(CheckpointError, match="weights_only=False"):
        load_model(path)


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("index", [0, 1, 2])
def test_bounded_correlation_matches_reference(model, cases, index, dense, monkeypatch):
    """The memory-bounded look-up gives the reference's numbers (issue: 1080p and 4K), with
    its coarse levels dense (the default at these sizes) and with every level gathered."""
    from vsanimeinterp.network import corr

    if not dense:
        monkeypatch.setattr(corr, "DENSE_LEVELS_BYTES", 0)
    model.corr_mode = "bounded"
    try:
        frame, flow12, flow21 = model(*case_inputs(cases, index))[:3]
    finally:
        model.corr_mode = "auto"
    assert_conforms(frame, flow12, flow21, expected(cases, index))
