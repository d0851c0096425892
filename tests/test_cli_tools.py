"""The command-line tools: make-testset, evaluate, bench, video (on small generated inputs)."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import conformance_dir, run_cli
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vsanimeinterp import metrics
from vsanimeinterp.__main__ import main
from vsanimeinterp.cli import bench
from vsanimeinterp.evaluation import annotation, dataset, predictors, protocol

W, H = 256, 144
HAS_FFMPEG = shutil.which("ffmpeg") is not None
needs_ffmpeg = pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not on the PATH")


def _one_line_error(err: str, command: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"vsanimeinterp {command}: error: ")
    assert "Traceback" not in err


def _usage_error(err: str) -> None:
    assert "Traceback" not in err
    assert ": error: " in err.strip().splitlines()[-1]


def _rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255


@pytest.fixture(scope="module")
def triplet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("set") / "gen"
    assert main(["make-testset", str(root), "--count", "3", "--size", f"{W}x{H}", "-q"]) == 0
    return root


# ---- make-testset ---------------------------------------------------------------------------


def test_make_testset_writes_atd12k_layout(triplet_dir: Path) -> None:
    names = sorted(p.name for p in triplet_dir.iterdir() if p.is_dir())
    assert names == ["gen0_0000", "gen0_0001", "gen0_0002"]
    for name in names:
        for k in (1, 2, 3):
            img = cv2.imread(str(triplet_dir / name / f"frame{k}.png"))
            assert img.shape == (H, W, 3)
        ann = json.loads((triplet_dir / f"{name}.json").read_text())
        assert ann["image_size"] == [W, H]
        roi = ann["motion_RoI"]
        assert set(roi) == {"x", "y", "width", "height"}
        assert 0 <= roi["x"] and roi["x"] + roi["width"] <= W
        assert 0 <= roi["y"] and roi["y"] + roi["height"] <= H
        assert roi["width"] >= annotation.ROI_MIN and roi["height"] >= annotation.ROI_MIN
        motion = ann["generator"]["motion_fraction_of_width"]
        assert ann["level"] == annotation.level_of(motion)
        assert ann["level_name"] == annotation.LEVELS[ann["level"]]
    # frame2 is the true middle, not a copy of a neighbour.
    f1, f2, f3 = (_rgb(triplet_dir / names[0] / f"frame{k}.png") for k in (1, 2, 3))
    assert np.abs(f2 - f1).mean() > 1e-3 and np.abs(f2 - f3).mean() > 1e-3


def test_make_testset_refuses_to_overwrite_and_is_deterministic(
    triplet_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(triplet_dir, copy)
    before = (copy / "gen0_0001" / "frame2.png").read_bytes()
    code, _, err = run_cli(capsys, "make-testset", str(copy), "--count", "3", "--size", f"{W}x{H}")
    assert code == 1
    _one_line_error(err, "make-testset")
    assert "--overwrite" in err
    args = ("make-testset", str(copy), "--count", "3", "--size", f"{W}x{H}", "-q", "--overwrite")
    code, out, _ = run_cli(capsys, *args)
    assert code == 0 and "wrote 3 triplets" in out
    assert (copy / "gen0_0001" / "frame2.png").read_bytes() == before


def test_roi_and_level_rules() -> None:
    empty = np.zeros((H, W), bool)
    assert annotation.motion_roi(empty, W, H) == (0, 0, W, H)
    dot = empty.copy()
    dot[0, W - 1] = True  # a corner pixel: padded, grown to the minimum, kept inside
    x, y, w, h = annotation.motion_roi(dot, W, H)
    assert (w, h) == (annotation.ROI_MIN, annotation.ROI_MIN)
    assert x + w == W and y == 0
    assert [annotation.level_of(m) for m in (0.01, 0.05, 0.09)] == [0, 1, 2]


@pytest.mark.parametrize(
    "argv",
    [["--size", "100"], ["--size", "31x31"], ["--count", "0"], ["--gap", "abc"]],
)
def test_make_testset_bad_arguments(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code, _, err = run_cli(capsys, "make-testset", str(tmp_path / "x"), *argv)
    assert code == 2
    _usage_error(err)
    assert not (tmp_path / "x").exists()


# ---- metrics and evaluate ---------------------------------------------------------------------


def test_metrics_match_direct_formulas() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random((40, 50, 3), dtype=np.float32)
    pred = np.clip(truth + rng.normal(0, 0.05, truth.shape), 0, 1).astype(np.float32)
    assert metrics.psnr(pred, truth) == pytest.approx(
        peak_signal_noise_ratio(truth, pred, data_range=1.0), abs=1e-6
    )
    assert metrics.ssim(pred, truth) == pytest.approx(structural_similarity(
        pred, truth, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=1.0, channel_axis=2,
    ))
    # A uniform offset d in every channel: PSNR 10·log10(1/d²), IE √3·d·255.
    shifted = np.full_like(truth, 0.5)
    assert metrics.psnr(shifted + 0.1, shifted) == pytest.approx(20.0, abs=1e-4)
    assert metrics.interpolation_error(shifted + 0.1, shifted) == pytest.approx(
        math.sqrt(3) * 25.5, rel=1e-5
    )
    assert metrics.psnr(truth, truth) == metrics.PSNR_CAP
    assert metrics.ssim(truth, truth) == pytest.approx(1.0)
    assert metrics.ssim(truth, truth, "authors-script") == pytest.approx(1.0)
    # The authors' script's SSIM: 7×7 uniform window, sample covariance, data range 2. On
    # flat cartoon-like areas its larger constants make it clearly higher than the paper's.
    assert metrics.ssim(pred, truth, "authors-script") == pytest.approx(structural_similarity(
        pred, truth, win_size=7, use_sample_covariance=True, data_range=2.0, channel_axis=2,
    ))
    flat = np.full((40, 50, 3), 0.5, np.float32)
    noisy = (flat + rng.normal(0, 0.02, flat.shape)).astype(np.float32)
    assert metrics.ssim(noisy, flat, "authors-script") > metrics.ssim(noisy, flat) + 0.1
    assert math.isnan(metrics.ssim(truth[:8, :8], truth[:8, :8]))


def test_evaluate_with_the_truth_as_prediction(triplet_dir: Path, tmp_path: Path) -> None:
    trips = dataset.find_triplets(triplet_dir)
    assert [t.level is not None and t.roi is not None for t in trips] == [True] * 3

    def oracle(i: int, frame1: np.ndarray, frame3: np.ndarray) -> np.ndarray:
        return dataset.load_image(trips[i].frames[1])

    result = protocol.evaluate(
        trips, oracle, method="oracle", baselines={"blend": predictors.blend_predictor},
        worst=2, worst_dir=tmp_path / "worst", progress=False,
    )
    for row in result.rows:
        assert row["psnr"] == row["psnr_roi"] == metrics.PSNR_CAP
        assert row["ssim"] == pytest.approx(1.0) and row["ssim_roi"] == pytest.approx(1.0)
        assert row["ie"] == 0.0 and row["ie_roi"] == 0.0
    assert result.summary["all"]["psnr"] == metrics.PSNR_CAP
    assert result.summary["all"]["count"] == 3
    # The blend baseline against a direct computation with scikit-image.
    for t, row in zip(trips, result.rows, strict=True):
        f1, f2, f3 = (_rgb(p) for p in t.frames)
        blend = (f1 + f3) / 2
        x, y, w, h = row["roi"]
        assert row["psnr_blend"] == pytest.approx(
            peak_signal_noise_ratio(f2, blend, data_range=1.0), abs=1e-5
        )
        assert row["ssim_roi_blend"] == pytest.approx(structural_similarity(
            blend[y:y + h, x:x + w], f2[y:y + h, x:x + w], gaussian_weights=True, sigma=1.5,
            use_sample_covariance=False, data_range=1.0, channel_axis=2,
        ), abs=1e-6)
        ie = np.sqrt((((blend - f2) * 255) ** 2).sum(axis=2)).mean()
        assert row["ie_blend"] == pytest.approx(ie, rel=1e-5)
    pictures = sorted((tmp_path / "worst").iterdir())
    assert len(pictures) == 2
    strip = cv2.imread(str(pictures[0]))
    assert strip.shape[1] == 4 * W + 3 * 2  # four panels side by side


def test_atd12k_annotation_tree_and_scaled_roi(triplet_dir: Path, tmp_path: Path) -> None:
    images = tmp_path / "test_2k_540p"
    shutil.copytree(triplet_dir / "gen0_0000", images / "clip_a")
    (tmp_path / "test_2k_annotations" / "clip_a").mkdir(parents=True)
    ann = {"image_size": [2 * W, 2 * H], "level": 2,
           "motion_RoI": {"x": 100, "y": 50, "width": 60, "height": 40}}
    (tmp_path / "test_2k_annotations" / "clip_a" / "clip_a.json").write_text(json.dumps(ann))
    (t,) = dataset.find_triplets(images)
    assert t.level == "hard"
    assert t.roi_pixels(W, H) == (50, 25, 30, 20)  # scaled as the authors' script does


def test_evaluate_command(triplet_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "ev"
    code, stdout, err = run_cli(capsys, "evaluate", str(triplet_dir), "--out", str(out),
                             "--engine", "sgm", "--device", "cpu", "--baseline", "blend",
                             "--worst", "2", "-q")
    assert code == 0, err
    assert "| all | 3 | vsanimeinterp (sgm) |" in stdout
    with (out / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == ["gen0_0000", "gen0_0001", "gen0_0002"]
    doc = json.loads((out / "results.json").read_text())
    assert doc["method"] == "vsanimeinterp (sgm)" and doc["baselines"] == ["blend"]
    assert doc["summary"]["all"]["count"] == 3
    assert (out / "summary.md").read_text().startswith("# Evaluation")
    assert len(list((out / "worst").glob("*.png"))) == 2
    for row, triplet in zip(rows, doc["triplets"], strict=True):
        assert float(row["psnr"]) == pytest.approx(triplet["psnr"], abs=1e-5)
        # Generated cartoons move a lot: interpolation must beat blending where they move.
        assert float(row["psnr_roi"]) > float(row["psnr_roi_blend"]) + 1.0
        assert float(row["ssim_roi"]) > float(row["ssim_roi_blend"])
    mean = np.mean([float(r["psnr"]) for r in rows])
    assert doc["summary"]["all"]["psnr"] == pytest.approx(mean, abs=1e-5)


def test_evaluate_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_cli(capsys, "evaluate", str(tmp_path / "missing"))
    assert code == 1
    _one_line_error(err, "evaluate")
    code, _, err = run_cli(capsys, "evaluate", str(tmp_path))
    assert code == 1 and "no triplets" in err
    _one_line_error(err, "evaluate")
    code, _, err = run_cli(capsys, "evaluate", str(tmp_path), "--ssim", "fancy")
    assert code == 2
    _usage_error(err)


def test_evaluate_error_shows_the_progress_bar_once(
    triplet_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A bad triplet stops the run: the bar must not be drawn again (and left on screen)
    when it is closed on the way out, only cleared before the error line."""
    broken = tmp_path / "set"
    shutil.copytree(triplet_dir, broken)
    cv2.imwrite(str(broken / "gen0_0000" / "frame2.png"), np.zeros((8, 8, 3), np.uint8))
    code, _, err = run_cli(capsys, "evaluate", str(broken), "--engine", "sgm", "--device", "cpu",
                        "--out", str(tmp_path / "ev"))
    assert code == 1
    assert err.count("0/3") == 1, repr(err)
    last = err.split("\r")[-1]
    assert last.startswith("vsanimeinterp evaluate: error: gen0_0000: the three frames differ")
    assert last.count("\n") == 1 and "Traceback" not in err


def test_evaluate_network_without_checkpoint(
    triplet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    monkeypatch.delenv("VSANIMEINTERP_CHECKPOINT", raising=False)
    monkeypatch.setenv("VSANIMEINTERP_HOME", str(tmp_path))
    code, _, err = run_cli(capsys, "evaluate", str(triplet_dir), "--engine", "animeinterp",
                        "--out", str(tmp_path / "ev"))
    assert code == 1
    _one_line_error(err, "evaluate")
    assert not (tmp_path / "ev").exists()
    code, _, err = run_cli(capsys, "evaluate", str(triplet_dir), "--checkpoint",
                        str(tmp_path / "missing.ckpt"), "--out", str(tmp_path / "ev"))
    assert code == 1 and "does not exist" in err


# ---- bench ----------------------------------------------------------------------------------


def test_bench_runs_engines_and_baselines_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    report = tmp_path / "bench.json"
    code, out, err = run_cli(capsys, "bench", "--sizes", "160x96", "--frames", "3",
                          "--engines", "sgm", "--devices", "cpu", "--json", str(report), "-q")
    assert code == 0, err
    doc = json.loads(report.read_text())
    labels = [r["label"] for r in doc["runs"]]
    expected = ["blend", "mvtools", "sgm (cpu)"] if bench.has_mvtools() else ["blend", "sgm (cpu)"]
    assert labels == expected
    for r in doc["runs"]:
        assert (r["width"], r["height"], r["output_frames"]) == (160, 96, 6)
        assert r["wall_s"] > 0 and r["cpu_s"] > 0 and r["peak_rss_mib"] > 0
        assert r["fps"] == pytest.approx(6 / r["wall_s"])
        assert r["ratios"]["blend"]["cpu"] == pytest.approx(
            r["cpu_s_per_frame"] / doc["runs"][0]["cpu_s_per_frame"]
        )
    sgm = doc["runs"][-1]
    assert sgm["interpolated_frames"] == 2  # pairs 0-1 and 1-2; the last frame repeats
    assert "sgm (cpu)" in out and "160x96" in out


def test_bench_without_mvtools_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(bench, "has_mvtools", lambda: False)
    code, out, _ = run_cli(capsys, "bench", "--sizes", "64x64", "--frames", "2", "--engines", "sgm",
                        "--devices", "cpu", "-q")
    assert code == 0
    assert "note: mvtools: skipped" in out
    assert "mvtools " not in out.split("note:")[0]


@pytest.mark.skipif(not (conformance_dir() / "anime_interp_conformance.ckpt").is_file(),
                    reason="conformance checkpoint not found")
def test_bench_network_engine_with_a_stand_in_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    report = tmp_path / "bench.json"
    ckpt = conformance_dir() / "anime_interp_conformance.ckpt"
    code, _, err = run_cli(capsys, "bench", "--sizes", "64x64", "--frames", "2", "--engines",
                        "animeinterp", "--devices", "cpu", "--checkpoint", str(ckpt),
                        "--skip", "mvtools", "--json", str(report), "-q")
    assert code == 0, err
    runs = json.loads(report.read_text())["runs"]
    assert [r["label"] for r in runs] == ["blend", "animeinterp (cpu)"]
    assert runs[1]["interpolated_frames"] == 1


def test_bench_on_footage_keeps_its_size_and_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    frames = tmp_path / "ep01"
    frames.mkdir()
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (51, 81, 3), np.uint8)
    for k in range(4):
        cv2.imwrite(str(frames / f"shot_{k:03d}.png"), np.roll(base, 3 * k, axis=1))
    report = tmp_path / "bench.json"
    code, out, err = run_cli(capsys, "bench", "--source", str(frames), "--frames", "3",
                             "--engines", "sgm", "--devices", "cpu", "--skip", "mvtools",
                             "--json", str(report), "-q")
    assert code == 0, err
    doc = json.loads(report.read_text())
    assert doc["settings"]["source"] == str(frames) and doc["settings"]["sizes"] == [[80, 50]]
    for r in doc["runs"]:  # cropped to even sides for 4:2:0; the first 3 frames only
        assert (r["width"], r["height"], r["output_frames"]) == (80, 50, 6)
    assert str(frames) in out.splitlines()[0]
    # All frames when the footage is shorter than --frames.
    code, _, err = run_cli(capsys, "bench", "--source", str(frames), "--frames", "12",
                           "--engines", "sgm", "--devices", "cpu", "--skip", "mvtools",
                           "--json", str(report), "-q")
    assert code == 0, err
    assert json.loads(report.read_text())["runs"][0]["output_frames"] == 8


def test_bench_footage_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_cli(capsys, "bench", "--source", str(tmp_path / "missing.mkv"))
    assert code == 1 and "missing.mkv does not exist" in err
    _one_line_error(err, "bench")
    code, _, err = run_cli(capsys, "bench", "--source", str(tmp_path), "--sizes", "64x64")
    assert code == 1 and "--sizes and --source" in err
    cv2.imwrite(str(tmp_path / "f_0.png"), np.zeros((8, 8, 3), np.uint8))
    code, _, err = run_cli(capsys, "bench", "--source", str(tmp_path), "--skip", "mvtools")
    assert code == 1 and "1 frame(s)" in err


@pytest.mark.parametrize(
    "argv",
    [["--sizes", "540q"], ["--frames", "1"], ["--engines", "rife"], ["--factor", "1"],
     ["--skip", "nothing"]],
)
def test_bench_bad_arguments(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_cli(capsys, "bench", *argv)
    assert code == 2
    _usage_error(err)


def test_bench_network_without_checkpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("VSANIMEINTERP_CHECKPOINT", raising=False)
    monkeypatch.setenv("VSANIMEINTERP_HOME", str(tmp_path))
    code, _, err = run_cli(capsys, "bench", "--engines", "animeinterp", "--sizes", "64x64")
    assert code == 1
    _one_line_error(err, "bench")


# ---- profile and bench: shared options ----------------------------------------------------


def _subparser(name: str) -> argparse.ArgumentParser:
    from vsanimeinterp.__main__ import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def _option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action:
    return next(a for a in parser._actions if flag in a.option_strings)


def test_profile_help_names_its_values_and_has_quiet(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(capsys, "profile", "--help")
    assert code == 0
    for shown in ("--sizes LIST", "--engines LIST", "--checkpoint PATH", "--devices LIST",
                  "--corr LIST", "--flow-scale S", "--tile-size PIXELS",
                  "--tile-overlap PIXELS", "--threads N", "--json PATH", "--quiet, -q"):
        assert shown in out, shown
    # Without a metavar argparse shows the option's name in capitals (--sizes SIZES).
    for action in _subparser("profile")._actions:
        if action.nargs != 0 and action.help != argparse.SUPPRESS:
            assert action.metavar is not None, action.option_strings


def test_threads_option_is_the_same_everywhere() -> None:
    bench_threads = _option(_subparser("bench"), "--threads")
    profile_threads = _option(_subparser("profile"), "--threads")
    for attr in ("help", "metavar", "type", "default"):
        assert getattr(bench_threads, attr) == getattr(profile_threads, attr), attr
    assert "PyTorch" in bench_threads.help and "OpenCV" in bench_threads.help


def test_quiet_is_offered_where_progress_is_shown() -> None:
    for name in ("bench", "video", "evaluate", "profile", "download"):
        quiet = _option(_subparser(name), "--quiet")
        assert "-q" in quiet.option_strings, name


# ---- video ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-frame 160×96 lossless video with a sine-tone audio track."""
    if not HAS_FFMPEG:
        pytest.skip("ffmpeg is not on the PATH")
    import vapoursynth as vs

    from vsanimeinterp.synthetic import make_sequence
    from vsanimeinterp.vsfilter.frames import clip_from_arrays

    folder = tmp_path_factory.mktemp("video")
    raw = folder / "in.y4m"
    clip = clip_from_arrays(make_sequence(160, 96, 6, seed=3).frames, format=vs.YUV420P8)
    with raw.open("wb") as fh:
        clip.output(fh, y4m=True)
    path = folder / "in.mkv"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(raw), "-f", "lavfi",
         "-i", "sine=frequency=440:duration=0.25", "-c:v", "ffv1", "-c:a", "flac", str(path)],
        check=True,
    )
    return path


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".partial" in p.name]


@needs_ffmpeg
def test_video_interpolates_keeps_audio_and_refuses_to_overwrite(
    small_video: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import vapoursynth as vs

    out = tmp_path / "out.mkv"
    code, stdout, err = run_cli(capsys, "video", str(small_video), str(out), "--engine", "sgm",
                             "--device", "cpu", "--fps", "48000/1001", "-q")
    assert code == 0, err
    assert "wrote" in stdout and "12 frames" in stdout
    clip = vs.core.bs.VideoSource(str(out))
    assert clip.num_frames == 12
    assert (clip.fps.numerator, clip.fps.denominator) == (48000, 1001)
    assert vs.core.bs.AudioSource(str(out)).num_samples > 0
    assert _leftovers(tmp_path) == []
    before = out.read_bytes()
    code, _, err = run_cli(capsys, "video", str(small_video), str(out), "--engine", "sgm", "-q")
    assert code == 1 and "--overwrite" in err
    _one_line_error(err, "video")
    assert out.read_bytes() == before
    code, _, err = run_cli(capsys, "video", str(small_video), str(out), "--engine", "sgm",
                        "--factor", "3", "--codec", "ffv1", "--overwrite", "-q")
    assert code == 0, err
    assert vs.core.bs.VideoSource(str(out)).num_frames == 18


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_output_mode_follows_the_umask_or_the_replaced_file(tmp_path: Path) -> None:
    from vsanimeinterp.cli import video

    new = tmp_path / "new.mkv"
    old = os.umask(0o027)
    try:
        assert video.current_umask() == 0o027
        assert os.umask(0o027) == 0o027  # reading it left it as it was
        assert video.output_mode(new) == 0o640
        os.umask(0o002)
        assert video.output_mode(new) == 0o664
    finally:
        os.umask(old)
    existing = tmp_path / "old.mkv"
    existing.write_bytes(b"")
    existing.chmod(0o604)
    assert video.output_mode(existing) == 0o604


@needs_ffmpeg
def test_video_output_is_readable_by_others_as_ffmpeg_makes_it(
    small_video: Path, tmp_path: Path, capsys: pytest.CaptureFixture, umask_022: None
) -> None:
    out = tmp_path / "out.mkv"
    args = ("video", str(small_video), str(out), "--engine", "sgm", "--device", "cpu", "-q")
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # 0o666 & ~umask, not mkstemp's 0o600
    out.chmod(0o640)
    code, _, err = run_cli(capsys, *args, "--overwrite")
    assert code == 0, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # a replaced file keeps its mode


@needs_ffmpeg
def test_video_failure_leaves_no_output(
    small_video: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out.mkv"
    code, _, err = run_cli(capsys, "video", str(small_video), str(out), "--engine", "sgm",
                        "--codec", "no_such_encoder", "-q")
    assert code == 1
    _one_line_error(err, "video")
    assert "ffmpeg failed" in err and "no_such_encoder" in err
    assert not out.exists() and _leftovers(tmp_path) == []


def test_video_without_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    src = tmp_path / "in.mkv"
    src.write_bytes(b"not read: the missing ffmpeg is reported first")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, _, err = run_cli(capsys, "video", str(src), str(tmp_path / "out.mkv"))
    assert code == 1
    _one_line_error(err, "video")
    assert "ffmpeg was not found on the PATH" in err
    assert not (tmp_path / "out.mkv").exists()


@pytest.mark.parametrize(
    "argv",
    [["--fps", "60/0"], ["--factor", "-2"], ["--fps", "sixty"], ["--factor", "2", "--fps", "60"]],
)
def test_video_bad_arguments(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code, _, err = run_cli(capsys, "video", str(tmp_path / "in.mkv"), str(tmp_path / "o.mkv"),
                           *argv)
    assert code == 2
    _usage_error(err)


def test_video_missing_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_cli(capsys, "video", str(tmp_path / "nope.mkv"), str(tmp_path / "o.mkv"))
    assert code == 1
    _one_line_error(err, "video")
    assert "does not exist" in err
