"""``make-testset --from-video``: triplets cut from footage (a frame folder or a video file).

The footage is a generated cartoon clip with a held drawing and a scene cut, so which
candidates must be dropped, and where the characters are, is known exactly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import run_cli

from vsanimeinterp.evaluation import annotation
from vsanimeinterp.metrics import to_uint8
from vsanimeinterp.synthetic import CartoonClip, make_sequence

W, H, LENGTH = 160, 96, 30
CUT, HOLD = 16, {4: 3}  # frames 4, 5, 6 are one drawing; frame 16 starts another shot
needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="ffmpeg is not on the PATH"
)


@pytest.fixture(scope="module")
def clip() -> CartoonClip:
    # No pan, so only the characters move and the RoI has something to find.
    return make_sequence(W, H, LENGTH, seed=3, cut_at=CUT, holds=HOLD, pan=False, n_objects=2)


@pytest.fixture(scope="module")
def frames_dir(clip: CartoonClip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("footage") / "shot"
    folder.mkdir()
    # Unpadded numbers: frame10 must come after frame9, not after frame1.
    for i, frame in enumerate(clip.frames):
        cv2.imwrite(str(folder / f"frame{i}.png"), cv2.cvtColor(to_uint8(frame), cv2.COLOR_RGB2BGR))
    return folder


def _expected_starts(clip: CartoonClip, gap: int = 1, stride: int = 1) -> list[int]:
    """Candidate starts that span no cut and hold no repeated drawing."""
    keep = []
    for i in range(0, len(clip) - 2 * gap, stride):
        span = range(i, i + 2 * gap + 1)
        if len({int(clip.scene_ids[k]) for k in span}) > 1:
            continue
        times = [clip.times[k] for k in (i, i + gap, i + 2 * gap)]
        if len(set(times)) < 3:
            continue
        keep.append(i)
    return keep


def _records(root: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(root.glob("*.json"))}


def _check_annotations(root: Path, clip: CartoonClip, starts: list[int], gap: int = 1) -> None:
    records = _records(root)
    assert sorted(r["source"]["frames"][0] for r in records.values()) == starts
    for name, rec in records.items():
        i, j, k = rec["source"]["frames"]
        assert (j - i, k - j) == (gap, gap)
        assert (root / name / "frame2.png").is_file()
        assert rec["image_size"] == [W, H]
        roi = rec["motion_RoI"]
        x, y, w, h = (roi[key] for key in ("x", "y", "width", "height"))
        assert 0 <= x and 0 <= y and x + w <= W and y + h <= H
        assert w >= annotation.ROI_MIN and h >= annotation.ROI_MIN
        # The characters of frames 1 and 3 are inside the RoI.
        scene = clip.scenes[clip.scene_ids[i]]
        chars = (scene.layer_ids(clip.times[i]) > 0) | (scene.layer_ids(clip.times[k]) > 0)
        assert chars[y : y + h, x : x + w].sum() >= 0.98 * chars.sum()
        assert rec["level"] in (0, 1, 2)
        assert rec["level_name"] == annotation.LEVELS[rec["level"]]
        motion = rec["estimate"]["motion_fraction_of_width"]
        assert rec["level"] == annotation.level_of(motion)


def test_frame_folder_skips_holds_and_cuts(
    clip: CartoonClip, frames_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "set"
    code, stdout, err = run_cli(capsys, "make-testset", str(out), "--from-video", str(frames_dir),
                             "--stride", "1", "-q")
    assert code == 0, err
    starts = _expected_starts(clip)
    # Dropped: 3, 4, 5 repeat a drawing; 14 and 15 span the cut.
    assert sorted(set(range(LENGTH - 2)) - set(starts)) == [3, 4, 5, CUT - 2, CUT - 1]
    assert f"wrote {len(starts)} triplets ({W}x{H};" in stdout
    assert "skipped 3 held, 2 across a cut" in stdout
    _check_annotations(out, clip, starts)
    # Still background: the boxes hug the characters rather than fill the frame.
    rois = [r["motion_RoI"] for r in _records(out).values()]
    assert sum(r["width"] * r["height"] < W * H / 2 for r in rois) > len(rois) / 2
    rec = _records(out)["shot_0007"]
    assert rec["source"]["file"] == "shot"
    assert rec["source"]["frame_files"] == ["frame7.png", "frame8.png", "frame9.png"]
    # The frames are copied as they are.
    for n, k in ((1, 7), (2, 8), (3, 9)):
        copied = cv2.imread(str(out / "shot_0007" / f"frame{n}.png"))
        assert np.array_equal(copied, cv2.imread(str(frames_dir / f"frame{k}.png")))


def test_gap_stride_count_and_evaluate_reads_the_set(
    clip: CartoonClip, frames_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "set"
    code, _, err = run_cli(capsys, "make-testset", str(out), "--from-video", str(frames_dir),
                        "--gap", "2", "--stride", "8", "--count", "2", "-q")
    assert code == 0, err
    _check_annotations(out, clip, _expected_starts(clip, gap=2, stride=8)[:2], gap=2)
    code, stdout, err = run_cli(capsys, "evaluate", str(out), "--engine", "sgm", "--device", "cpu",
                             "--out", str(tmp_path / "ev"), "--worst", "0", "-q")
    assert code == 0, err
    assert "| all | 2 | vsanimeinterp (sgm) |" in stdout
    # The annotations were found: the levels give per-level rows.
    levels = {annotation.LEVELS[r["level"]] for r in _records(out).values()}
    assert all(f"| {level} |" in stdout for level in levels)


@needs_ffmpeg
def test_video_file(
    clip: CartoonClip, frames_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    video = tmp_path / "clip.mkv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-framerate", "24", "-i", str(frames_dir / "frame%d.png"),
         "-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv420p", str(video)],
        check=True, timeout=60,
    )
    out = tmp_path / "set"
    code, _, err = run_cli(capsys, "make-testset", str(out), "--from-video", str(video),
                        "--stride", "1", "-q")
    assert code == 0, err
    _check_annotations(out, clip, _expected_starts(clip))
    rec = _records(out)["clip_0000"]
    assert rec["source"] == {"file": "clip.mkv", "frames": [0, 1, 2]}
    # Decoded through the clip's matrix: close to the source PNGs, not just the right size.
    decoded = cv2.imread(str(out / "clip_0000" / "frame2.png")).astype(np.float32)
    assert np.abs(decoded - cv2.imread(str(frames_dir / "frame1.png"))).mean() < 3


def _write(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
    return folder


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "does not exist"),
        ("empty", "no numbered PNG or JPEG frames"),
        ("short", "has 2 frame(s); a triplet with --gap 1 needs 3"),
        ("still", "no usable triplet"),
        ("not-video", "cannot read"),
        ("size", "--size applies to generated sets"),
        ("gap", "--gap must be whole frames"),
        ("stride", "--stride applies only with --from-video"),
    ],
)
def test_errors_are_one_line(
    case: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    grey = np.full((H, W, 3), 128, np.uint8)
    source = {
        "missing": lambda: tmp_path / "nothing.mkv",
        "empty": lambda: _write(tmp_path / "empty", []),
        "short": lambda: _write(tmp_path / "short", [grey, grey + 50]),
        "still": lambda: _write(tmp_path / "still", [grey] * 5),
        "not-video": lambda: _text(tmp_path / "x.mkv", "not a video"),
    }.get(case, lambda: _write(tmp_path / "ok", [grey, grey + 40, grey + 80]))()
    extra = {"size": ["--size", "64x64"], "gap": ["--gap", "1.5"]}.get(case, [])
    argv = ["make-testset", str(tmp_path / "out"), *extra, "-q"]
    argv += ["--stride", "2"] if case == "stride" else ["--from-video", str(source)]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vsanimeinterp make-testset: error: "), err
    assert message in lines[0]
    assert not (tmp_path / "out").exists()
