"""Shared fixtures: small generated clips and a counting wrapper around engines."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs

from vsanimeinterp.vsfilter.frames import clip_from_arrays

REPO = Path(__file__).resolve().parents[1]


def conformance_dir() -> Path:
    """``../shared/conformance`` beside the repository, or $VSANIMEINTERP_CONFORMANCE_DIR."""
    env = os.environ.get("VSANIMEINTERP_CONFORMANCE_DIR")
    return Path(env) if env else REPO.parent / "shared" / "conformance"


def moving_square_frames(n: int = 5, w: int = 96, h: int = 64, step: int = 6) -> np.ndarray:
    """N×H×W×3 float frames: a red square with a dark outline moving right over grey."""
    frames = np.empty((n, h, w, 3), np.float32)
    frames[:] = (0.55, 0.6, 0.7)
    for i in range(n):
        x = 10 + step * i
        frames[i, 18:46, x : x + 28] = (0.05, 0.05, 0.08)
        frames[i, 20:44, x + 2 : x + 26] = (0.9, 0.25, 0.2)
    return frames


@pytest.fixture
def core() -> vs.Core:
    return vs.core


@pytest.fixture
def square_clip() -> vs.VideoNode:
    return clip_from_arrays(moving_square_frames(), format=vs.YUV420P8)


class CountingEngine:
    """Wraps an engine and counts what the filter asked of it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.frames = 0
        self.pairs = 0
        self.renders = 0

    def prepare_frame(self, img):
        self.frames += 1
        return self.inner.prepare_frame(img)

    def prepare_pair(self, a, b):
        self.pairs += 1
        return self.inner.prepare_pair(a, b)

    def render(self, pair, t):
        self.renders += 1
        return self.inner.render(pair, t)


@pytest.fixture
def counting_engine(monkeypatch):
    """Makes ``interpolate`` build its engine wrapped in a :class:`CountingEngine`; yields a
    list that receives every engine created."""
    import vsanimeinterp.engines.factory as engine_mod

    made: list[CountingEngine] = []
    real = engine_mod.make_engine

    def wrapped(*args, **kwargs):
        eng = CountingEngine(real(*args, **kwargs))
        made.append(eng)
        return eng

    monkeypatch.setattr(engine_mod, "make_engine", wrapped)
    return made


def request_counter(clip: vs.VideoNode) -> tuple[vs.VideoNode, list[int]]:
    """A pass-through of ``clip`` that records which frames were computed."""
    seen: list[int] = []

    def note(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        seen.append(n)
        return f

    return vs.core.std.ModifyFrame(clip, clip, note), seen


def run_cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    """``python -m vsanimeinterp ARGV`` in-process → (exit status, stdout, stderr);
    argparse's SystemExit becomes a status."""
    from vsanimeinterp.__main__ import main

    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
