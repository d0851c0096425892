"""Tests of the picture helpers: flow colours, label colours, match drawings, sheets, PNGs."""

from __future__ import annotations

import colorsys
from pathlib import Path

import cv2
import numpy as np
import pytest

from vsanimeinterp.visualize import (
    draw_matches,
    flow_to_rgb,
    flow_wheel,
    labels_to_rgb,
    save_png,
    side_by_side,
    to_rgb8,
)


def _hue(rgb: np.ndarray) -> float:
    return colorsys.rgb_to_hsv(*(np.asarray(rgb, float) / 255))[0]


def test_flow_to_rgb_shape_and_white_zero() -> None:
    flow = np.zeros((5, 7, 2), np.float32)
    flow[0, 0] = (3.0, 4.0)
    out = flow_to_rgb(flow)
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    assert (out[1:] == 255).all()
    assert not (out[0, 0] == 255).all()
    assert (flow_to_rgb(np.zeros((2, 2, 2))) == 255).all()  # no division by zero


def test_flow_to_rgb_directions_have_distinct_hues() -> None:
    dirs = np.array([[[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]]])
    dirs = dirs / np.linalg.norm(dirs, axis=2, keepdims=True)
    out = flow_to_rgb(dirs.astype(np.float32))[0]
    hues = np.array([_hue(c) for c in out])
    gaps = np.abs(hues[:, None] - hues[None, :])
    gaps = np.minimum(gaps, 1 - gaps) + np.eye(8)
    assert gaps.min() > 0.04
    # Middlebury convention: right is pure red, left its complement.
    assert out[0].tolist() == [255, 0, 0]
    assert out[4][0] < 50 and out[4][2] > 200


def test_flow_to_rgb_magnitude_scale() -> None:
    flow = np.array([[[2.0, 0.0], [4.0, 0.0], [8.0, 0.0], [np.nan, 0.0]]])
    out = flow_to_rgb(flow, max_magnitude=4.0)[0].astype(int)
    assert out[0][1] > out[1][1]  # shorter vector: paler (more white)
    assert out[1].tolist() == [255, 0, 0]  # full length: full colour
    assert out[2].tolist() == [191, 0, 0]  # longer: darker
    assert out[3].tolist() == [0, 0, 0]  # invalid: black
    # Self-normalised by default: the longest vector is fully saturated.
    assert flow_to_rgb(flow[:, :3] * 10)[0, 2].tolist() == [255, 0, 0]


def test_flow_wheel() -> None:
    wheel = flow_wheel(64)
    assert wheel.shape == (64, 64, 3) and wheel.dtype == np.uint8
    assert (wheel[0, 0] == 0).all() and (wheel[32, 32] > 200).all()


def test_labels_to_rgb() -> None:
    labels = np.arange(-1, 63).reshape(8, 8)
    out = labels_to_rgb(labels)
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    assert out[0, 0].tolist() == [0, 0, 0]  # -1: line / unassigned
    colours = {tuple(c) for c in out.reshape(-1, 3)[1:]}
    assert len(colours) == 63 and (0, 0, 0) not in colours
    # A label's colour does not depend on which other labels are present.
    alone = labels_to_rgb(np.full((2, 2), 17))
    assert alone[0, 0].tolist() == out.reshape(-1, 3)[18].tolist()
    with pytest.raises(ValueError):
        labels_to_rgb(np.zeros((2, 2, 2), int))


def test_draw_matches() -> None:
    h, w = 40, 60
    img = np.full((h, w, 3), 0.5, np.float32)
    lab1 = np.zeros((h, w), int)
    lab1[:, 30:] = 1
    lab2 = np.zeros((h, w), int)
    lab2[20:, :] = 1
    out = draw_matches(img, img, lab1, lab2, np.array([[0, 1], [1, 0], [-1, 0], [5, 0]]))
    plain = draw_matches(img, img, lab1, lab2, np.zeros((0, 2), int))
    assert out.shape == plain.shape == (h, 2 * w + 8, 3) and out.dtype == np.uint8
    # Centroid of label 0 in frame 1 is (14.5, 19.5); the line passes the gap between frames.
    assert not np.array_equal(out[19, 14], plain[19, 14])
    assert (out[:, w + 2 : w + 6] != 255).any() and (plain[:, w : w + 8] == 255).all()
    with pytest.raises(ValueError):
        draw_matches(img, img, lab1[:10], lab2, np.zeros((0, 2), int))


def test_side_by_side() -> None:
    a = np.zeros((30, 40, 3), np.uint8)
    b = np.ones((20, 50), np.float32)
    c = np.zeros((30, 40, 2), np.float32)
    out = side_by_side([a, b, c], ["a", "b", "flow"], gap=4)
    assert out.dtype == np.uint8 and out.shape[1] == 3 * 50 + 2 * 4
    bar = out.shape[0] - 30
    assert bar > 8
    assert (out[:bar, :50] < 128).any()  # caption text drawn
    assert (out[bar:, :40] == 0).all()  # tile a placed under its caption
    assert (out[bar : bar + 20, 54:104] == 255).all()  # b is white, padded with white
    grid = side_by_side([a, a, a], None, gap=2, columns=2)
    assert grid.shape == (2 * 30 + 2, 2 * 40 + 2, 3)
    with pytest.raises(ValueError):
        side_by_side([a], ["x", "y"])


def test_to_rgb8_and_save_png(tmp_path: Path) -> None:
    img = np.zeros((4, 5, 3), np.float32)
    img[..., 0] = 1.0
    img[1, 2] = (0.2, 0.4, 0.6)
    path = save_png(tmp_path / "sub" / "x.png", img)
    back = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    assert np.array_equal(back, to_rgb8(img))
    assert back[0, 0].tolist() == [255, 0, 0] and back[1, 2].tolist() == [51, 102, 153]
    assert to_rgb8(np.zeros((3, 3), bool)).shape == (3, 3, 3)
