"""End to end as users run it: a .vpy script rendered by ``vspipe`` into a Y4M file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import vapoursynth as vs
import vsanimeinterp
from vsanimeinterp.synthetic import demo_sequence
from vsanimeinterp.vsfilter.frames import clip_from_arrays

seq = demo_sequence(width=160, height=96, length=6, seed=1)
clip = clip_from_arrays(seq.frames, fps_num=24000, fps_den=1001, format=vs.YUV420P8)
vsanimeinterp.interpolate(clip, fps_num=60000, fps_den=1001, engine="sgm").set_output()
"""


def _vspipe() -> str | None:
    beside = Path(sys.executable).with_name("vspipe")
    return str(beside) if beside.exists() else shutil.which("vspipe")


def test_vspipe_renders_y4m(tmp_path: Path) -> None:
    vspipe = _vspipe()
    if vspipe is None:
        pytest.skip("vspipe not found beside the interpreter or on PATH")
    script = tmp_path / "job.vpy"
    script.write_text(SCRIPT)
    out = tmp_path / "out.y4m"
    run = subprocess.run([vspipe, "-c", "y4m", str(script), str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    data = out.read_bytes()
    header = data[: data.index(b"\n")].decode()
    assert header.startswith("YUV4MPEG2 ")
    fields = header.split()
    assert "W160" in fields and "H96" in fields
    assert "F60000:1001" in fields
    assert "C420jpeg" in fields or "C420" in fields or "C420mpeg2" in fields
    # 6 frames at 24000/1001 -> 60000/1001: ceil(6 · 5/2) = 15 frames of 160·96·1.5 bytes.
    assert data.count(b"FRAME\n") == 15
    frame_bytes = 160 * 96 * 3 // 2
    assert len(data) == len(header) + 1 + 15 * (len(b"FRAME\n") + frame_bytes)
