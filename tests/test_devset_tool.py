"""``tools/build_devset.py``: the parts that turn other people's animation into triplets.

The real packages are not fetched here (that needs the Debian mirror and minutes of synfig
rendering); each reader is fed a small file in the package's own format instead, and the
synfig scene editing is checked on the XML it writes (and rendered when synfig is there).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import REPO

from vsanimeinterp.evaluation import footage

spec = importlib.util.spec_from_file_location("build_devset", REPO / "tools/build_devset.py")
devset = importlib.util.module_from_spec(spec)
sys.modules["build_devset"] = devset  # dataclasses look their module up there
spec.loader.exec_module(devset)  # type: ignore[union-attr]


def _bgra(h: int, w: int, colour: tuple[int, int, int, int]) -> np.ndarray:
    img = np.zeros((h, w, 4), np.uint8)
    img[:] = colour
    return img


def test_pingus_strip_is_cut_into_its_frames(tmp_path: Path) -> None:
    strip = np.concatenate([_bgra(6, 4, (10 * k, 0, 0, 255)) for k in range(3)], axis=1)
    cv2.imwrite(str(tmp_path / "trap.png"), strip)
    (tmp_path / "trap.sprite").write_text(
        '(pingus-sprite\n  (image "trap.png")\n  (array 3 1)\n  (size 4 6))\n')
    frames = devset.strip_frames(tmp_path / "trap.sprite")
    assert [f.shape for f in frames] == [(6, 4, 4)] * 3
    assert [int(f[0, 0, 0]) for f in frames] == [0, 10, 20]


def test_spritepos_frames_follow_their_numbers(tmp_path: Path) -> None:
    sheet = np.zeros((10, 30, 4), np.uint8)
    sheet[:, 0:10, 1] = 50
    sheet[:, 10:20, 1] = 100
    cv2.imwrite(str(tmp_path / "bear.png"), sheet)
    (tmp_path / "bear.spritepos").write_text(
        "# picture: x y width height\nwalking 2:  10 0 10 10\nwalking 1:   0 0 10 10\n"
        "slapping and walking 1: 20 0 10 10\n")
    frames = devset.spritepos_frames(tmp_path / "bear.png", "walking")
    assert [int(f[0, 0, 1]) for f in frames] == [50, 100]


def test_caveexpress_cells_skip_normal_maps_and_small_atlases(tmp_path: Path) -> None:
    cave = tmp_path / devset.CAVE
    (cave / "pics").mkdir(parents=True)
    (cave / "textures").mkdir()
    atlas = np.zeros((16, 16, 4), np.uint8)
    atlas[0:4, 0:8] = (0, 0, 200, 255)
    atlas[8:12, 0:8] = (0, 200, 0, 255)
    cv2.imwrite(str(cave / "pics/caveexpress-npc_x-big.png"), atlas)

    def entry(name: str, image: str, y0: float) -> str:
        return (f'\t["{name}"] = {{\n\t\timage = "{image}",\n\t\tx0 = 0,\n\t\ty0 = {y0},\n'
                "\t\tx1 = 0.5,\n\t\ty1 = 0.25,\n\t\ttrimmedoffsetx = 1,\n"
                "\t\ttrimmedoffsety = 0,\n\t\ttrimmedwidth = 8,\n\t\ttrimmedheight = 4,\n"
                "\t\tuntrimmedwidth = 10,\n\t\tuntrimmedheight = 4,\n\t},\n")

    (cave / "textures/complete.lua").write_text(
        entry("npc-x-walk-02", "caveexpress-npc_x-big", 0.5)
        + entry("npc-x-walk-01", "caveexpress-npc_x-big", 0)
        + entry("npc-x-walk-01_nm", "caveexpress-npc_x-big", 0.5)
        + entry("npc-x-walk-01", "caveexpress-npc_x-small", 0.5))
    frames = devset.cave_frames(tmp_path, "npc-x-walk")
    assert len(frames) == 2
    assert frames[0].shape == (4, 10, 4)
    # Frame 01 is the red cell, shifted right by its trim offset.
    assert frames[0][0, 0, 3] == 0 and tuple(frames[0][0, 1]) == (0, 0, 200, 255)
    assert tuple(frames[1][0, 1]) == (0, 200, 0, 255)


def test_stage_frame_composites_moving_actors() -> None:
    back = np.full((40, 60, 3), 100.0, np.float32)
    red = _bgra(4, 4, (0, 0, 255, 255))
    half = _bgra(4, 4, (255, 0, 0, 128))
    actors = [devset.Actor([red], x=10, y=20, vx=5, scale=1.0),
              devset.Actor([half], x=40, y=30, scale=1.0)]
    f0, f2 = (devset.stage_frame(back, actors, n) for n in (0, 2))
    # Bottom centre at (10, 20): the 4×4 cell covers rows 16..19, columns 8..11.
    assert tuple(f0[18, 9]) == (255, 0, 0) and tuple(f0[18, 13]) == (100, 100, 100)
    assert tuple(f2[18, 19]) == (255, 0, 0) and tuple(f2[18, 9]) == (100, 100, 100)
    # Half-transparent blue over grey.
    assert tuple(f0[28, 39]) == (50, 50, 178)


def test_still_scene_is_set_in_motion_by_transform_layers() -> None:
    text = ('<?xml version="1.0"?>\n<canvas version="0.1" width="64" height="48" '
            'view-box="-2 1.5 2 -1.5" end-time="0f"><layer type="circle" active="true">'
            '<param name="radius"><real value="0.5"/></param></layer></canvas>')
    layer = devset.motion_layer("translate", 10, origin=("vector", (0.0, 0.0), (1.0, 0.5)))
    out = devset.animate_sif(text, [layer], 10)
    root = ET.fromstring(out)
    assert root.get("end-time") == "10f"
    layers = root.findall("layer")
    assert [lay.get("type") for lay in layers] == ["circle", "translate"]
    points = layers[1].findall("./param/animated/waypoint")
    assert [p.get("time") for p in points] == ["0f", "10f"]
    assert float(points[1].find("vector/x").text) == 1.0
    still = devset.motion_layer("zoom", 10, amount=("real", 0.2, 0.2))
    assert ET.fromstring(still).find("./param/real").get("value") == "0.200000"


@pytest.mark.skipif(shutil.which("synfig") is None, reason="synfig is not installed")
def test_synfig_renders_the_motion(tmp_path: Path) -> None:
    text = ('<?xml version="1.0"?>\n<canvas version="0.1" width="64" height="48" '
            'view-box="-2 1.5 2 -1.5" end-time="0f" bgcolor="0.5 0.5 0.5 1">'
            '<layer type="circle" active="true" version="0.1"><param name="color"><color>'
            '<r>1</r><g>0</g><b>0</b><a>1</a></color></param><param name="radius">'
            '<real value="0.4"/></param><param name="origin"><vector><x>0</x><y>0</y>'
            '</vector></param></layer></canvas>')
    layer = devset.motion_layer("translate", 2, origin=("vector", (-1.0, 0.0), (1.0, 0.0)))
    (tmp_path / "s.sif").write_text(devset.animate_sif(text, [layer], 2))
    subprocess.run(["synfig", str(tmp_path / "s.sif"), "-t", "png", "-q", "--begin-time", "0",
                    "--end-time", "2", "-o", str(tmp_path / "f.png")], check=True,
                   capture_output=True)
    xs = []
    for k in range(3):
        img = cv2.imread(str(tmp_path / f"f.{k:04d}.png"), cv2.IMREAD_UNCHANGED)
        red = (img[..., 2] > 200) & (img[..., 1] < 60)
        xs.append(np.nonzero(red)[1].mean())
    # One unit is 16 px: the circle crosses the frame left to right.
    assert xs[0] < xs[1] < xs[2] and xs[2] - xs[0] == pytest.approx(32, abs=2)


def test_reserved_scenes_are_refused(tmp_path: Path) -> None:
    for scene in ("prologue_kid", "star", "preambletaffy"):
        with pytest.raises(SystemExit, match="reserved"):
            devset.render_synfig(tmp_path, scene, range(1), tmp_path / scene)


def test_nearly_still_footage_is_kept_only_without_the_mean_test(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (90, 160, 3), np.uint8)
    for k in range(6):
        img = base.copy()
        img[40:44, 70 + k:74 + k] = 255  # a speck that moves; the rest holds still
        cv2.imwrite(str(tmp_path / f"f{k:03d}.png"), img)
    src = footage.open_source(tmp_path)
    assert footage.select_triplets(src, 1, 3).held == 2
    kept = footage.select_triplets(src, 1, 3, hold_mean=0.0)
    assert kept.held == 0 and len(kept.kept) == 2


def test_supertux_actions_read_images_mirrors_and_clones(tmp_path: Path) -> None:
    for k in range(2):
        img = _bgra(3, 4, (0, 0, 0, 255))
        img[:, 0] = (100 + k, 0, 0, 255)  # a marked left column
        cv2.imwrite(str(tmp_path / f"walk-{k}.png"), img)
    (tmp_path / "x.sprite").write_text(
        '(supertux-sprite\n (action\n  (name "walk-right")\n  (fps 14)\n'
        '  (images "walk-0.png"\n          "walk-1.png")\n  )\n'
        ' (action\n  (name "walk-left")\n  (mirror-action "walk-right"))\n'
        ' (action (name "run-right") (clone-action "walk-right"))\n)\n')
    right = devset.supertux_frames(tmp_path / "x.sprite", "walk-right")
    assert [int(f[0, 0, 0]) for f in right] == [100, 101]
    left = devset.supertux_frames(tmp_path / "x.sprite", "walk-left")
    assert [int(f[0, -1, 0]) for f in left] == [100, 101] and int(left[0][0, 0, 0]) == 0
    run = devset.supertux_frames(tmp_path / "x.sprite", "run-right")
    assert all(np.array_equal(a, b) for a, b in zip(run, right, strict=True))


def test_validation_scenes_share_nothing_with_the_development_set() -> None:
    dev = set(devset.SYNFIG_SCENES) | {src for _, src, _ in devset.MOVED_SCENES.values()}
    val = (set(devset.VALIDATION_SYNFIG_SCENES)
           | {src for _, src, _ in devset.VALIDATION_MOVED_SCENES.values()})
    assert not dev & val
    assert not val & set(devset.RESERVED_SCENES)
    assert not set(devset.PACKAGES[1:]) & set(devset.VALIDATION_PACKAGES[1:])
