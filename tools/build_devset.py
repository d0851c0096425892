"""Build the development set of real animation from Debian packages (nothing committed).

Sources, all openly licensed and drawn by other people (the ``.deb`` files are fetched with
``apt-get download`` and unpacked into the cache with ``dpkg -x``; nothing is installed
except ``synfig``, which renders the vector scenes):

=================  ===============  ========================================================
package            licence          used for
=================  ===============  ========================================================
synfig-examples    GPL-2+           ``eye`` (line-art face: blinks, looks around), kind
                                    ``lineart``; ``z_depth_test`` and ``cells`` (shaded
                                    shapes moving and scaling), kind ``shapes``
caveexpress-data   CC-BY-SA-4.0     ink-outlined cavemen, mammoth, fish, flying creature
                                    (atlases cut by the game's ``textures/complete.lua``)
plee-the-bear-data CC-BY-SA-3.0     Plee and Ray walk cycles, wasp (``*.spritepos``)
pingus-data        GPL-2+           hammer and guillotine trap animations; the backdrops
=================  ===============  ========================================================

Reserved for held-out evaluation and never used here: the Kenney art in the ``arcade`` wheel,
``tupi-data``, and synfig-examples' ``prologue_kid``, ``star`` and ``preambletaffy``.

With ``--validation`` it builds the **validation set** instead, from art the development set
does not hold: it is scored to see whether a change tuned on the development set carries over,
and is never tuned on itself:

=================  ===============  ========================================================
package            licence          used for
=================  ===============  ========================================================
synfig-examples    GPL-2+           ``warpcube`` (a checkered cube turning and warping), kind
                                    ``shapes``; the stills ``pirates`` and ``macwolfen``
                                    (inked, shaded characters) set in motion, ``moving_art``
supertux-data      GPL-3+           Tux, yeti, snowball, iceblock, owl, zeekling, igel and
                                    leaf cycles over SuperTux backdrops, kind ``sprites``
=================  ===============  ========================================================

Kinds written (``OUT/<kind>/<scene>_<frame>/frame1..3.png`` plus annotations, as
``make-testset --from-video`` writes them, so ``evaluate`` and ``tools/score_sets.py`` read
them):

* ``lineart``: synfig's ``eye`` at its own 480×270, ten windows of three frames 36 apart;
* ``shapes``: ``z_depth_test`` (480×270) and ``cells`` (400×300), windows spread over them;
* ``sprites``: game sprites animating their own cycles over a game backdrop at 960×540, each
  walking at its own speed (the game moves them; here a constant speed per sprite),
  scaled ×2 like a 540p game capture;
* ``idle``: the same characters' idle cycles in place: nearly static pictures where only
  breathing and blinking moves.

Frames of each scene go through ``vsanimeinterp make-testset --from-video`` (held drawings
and cuts skipped, RoI and level estimated), so the set is what any user would cut from
their own footage. The build takes about 15 minutes on 2 cores, most of it rendering
``eye``; renders are cached.

Usage: ``python tools/build_devset.py OUT [--cache DIR] [--validation]``.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vsanimeinterp.cli.make_testset import write_footage_set

PACKAGES = ("synfig-examples", "caveexpress-data", "plee-the-bear-data", "pingus-data")
RESERVED_SCENES = ("prologue_kid", "star", "preambletaffy")
SYNFIG_DIR = "usr/share/doc/synfig-examples/examples"
CAVE = "usr/share/games/caveexpress"
PLEE = "usr/share/games/plee-the-bear/gfx"
PINGUS = "usr/share/games/pingus/data/images"
SUPERTUX = "usr/share/games/supertux2/images"
VALIDATION_PACKAGES = ("synfig-examples", "supertux-data")
GREY = 0.5  # synfig's default background colour, under transparent pixels

#: synfig scene → (kind, first frames of the three-frame windows)
SYNFIG_SCENES = {
    "eye": ("lineart", range(12, 360, 36)),
    "z_depth_test": ("shapes", range(2, 96, 10)),
    "cells": ("shapes", range(5, 300, 30)),
}
#: The validation set's animated synfig scenes, as :data:`SYNFIG_SCENES`.
VALIDATION_SYNFIG_SCENES = {
    "warpcube": ("shapes", range(3, 118, 22)),
}
SPRITE_SIZE = (960, 540)
SPRITE_FRAMES = 24


def fetch_packages(cache: Path, packages: tuple[str, ...] = PACKAGES) -> Path:
    """Download and unpack ``packages`` into ``cache/root`` once; return that root."""
    root = cache / "root"
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for pkg in packages:
        stamp = root / f".{pkg}"
        if stamp.exists():
            continue
        if not list(debs.glob(f"{pkg}_*.deb")):
            subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True)
        (deb,) = debs.glob(f"{pkg}_*.deb")
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
        stamp.touch()
    return root


def flatten(rgba: np.ndarray) -> np.ndarray:
    """BGR(A) uint8 image → RGB uint8 over :data:`GREY` where transparent."""
    if rgba.shape[2] == 3:
        return cv2.cvtColor(rgba, cv2.COLOR_BGR2RGB)
    a = rgba[..., 3:4].astype(np.float32) / 255
    rgb = cv2.cvtColor(rgba[..., :3], cv2.COLOR_BGR2RGB).astype(np.float32)
    return np.rint(rgb * a + 255 * GREY * (1 - a)).astype(np.uint8)


def _synfig() -> str:
    synfig = shutil.which("synfig")
    if synfig is None:
        raise SystemExit("synfig is needed: apt-get install synfig")
    return synfig


def render_synfig(root: Path, scene: str, starts: range, out: Path) -> None:
    """Render frames ``s, s+1, s+2`` for each start into ``out/f.NNNN.png`` (RGB, flattened)."""
    if scene in RESERVED_SCENES:
        raise SystemExit(f"{scene} is reserved for held-out evaluation")
    out.mkdir(parents=True, exist_ok=True)
    sif = root / SYNFIG_DIR / f"{scene}.sif"
    for s in starts:
        if not all((out / f"f.{k:04d}.png").exists() for k in range(s, s + 3)):
            _render_range(sif, s, s + 2, out)


def _render_range(sif: Path, first: int, last: int, out: Path) -> None:
    """synfig frames ``first..last`` of ``sif`` as ``out/f.NNNN.png``, flattened to RGB."""
    # synfig names a range's frames f.NNNN.png; begin/end are frame numbers here.
    subprocess.run([_synfig(), str(sif), "-t", "png", "-q", "--begin-time", str(first),
                    "--end-time", str(last), "-o", str(out / "f.png")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for k in range(first, last + 1):
        path = out / f"f.{k:04d}.png"
        cv2.imwrite(str(path), cv2.cvtColor(
            flatten(cv2.imread(str(path), cv2.IMREAD_UNCHANGED)), cv2.COLOR_RGB2BGR))


# --- synfig art set in motion ------------------------------------------------------------


def _value(kind: str, v: float | tuple[float, float]) -> str:
    if kind == "vector":
        return f"<vector><x>{v[0]:.6f}</x><y>{v[1]:.6f}</y></vector>"
    return f'<{kind} value="{v:.6f}"/>'


def motion_layer(type_: str, frames: int, **params: tuple) -> str:
    """A synfig transform layer (``zoom``, ``rotate``, ``translate``, ``twirl``...) whose
    parameters go linearly from their first to their second value over ``frames`` frames;
    ``params``: name → (synfig type, start, end)."""
    body = []
    for name, (kind, start, end) in params.items():
        if start == end:
            value = _value(kind, start)
        else:
            value = (f'<animated type="{kind}">'
                     f'<waypoint time="0f" before="linear" after="linear">{_value(kind, start)}'
                     f'</waypoint><waypoint time="{frames}f" before="linear" after="linear">'
                     f'{_value(kind, end)}</waypoint></animated>')
        body.append(f'<param name="{name}">{value}</param>')
    return f'<layer type="{type_}" active="true" version="0.1">{"".join(body)}</layer>'


def animate_sif(text: str, layers: list[str], frames: int) -> str:
    """A still synfig scene with ``layers`` on top (a transform layer moves everything under
    it) and its end time set to ``frames``."""
    end = text.rindex("</canvas>")
    out = text[:end] + "".join(layers) + text[end:]
    return re.sub(r'end-time="[^"]*"', f'end-time="{frames}f"', out, count=1)


#: Still synfig-examples art set in motion by synfig's own transform layers: name → (kind,
#: source scene, layers). 24 frames each; synfig renders every frame (outlines and
#: anti-aliasing as drawn), only the camera-like motion is chosen here.
MOVED_FRAMES = 24
MOVED_SCENES = {
    "head_zoom": ("moving_art", "headmo", [
        motion_layer("zoom", MOVED_FRAMES, amount=("real", 0.0, 0.35),
                     center=("vector", (0.0, 0.0), (0.0, 0.0))),
        motion_layer("translate", MOVED_FRAMES,
                     origin=("vector", (-0.8, 0.2), (0.6, -0.2))),
    ]),
    "eyes_drift": ("moving_art", "eyes", [
        motion_layer("rotate", MOVED_FRAMES, origin=("vector", (0.0, 0.0), (0.0, 0.0)),
                     amount=("angle", -12.0, 12.0)),
        motion_layer("zoom", MOVED_FRAMES, amount=("real", 0.3, -0.2),
                     center=("vector", (0.0, 0.0), (0.0, 0.0))),
    ]),
    "logo_spin": ("moving_art", "logo", [
        motion_layer("rotate", MOVED_FRAMES, origin=("vector", (0.0, 0.0), (0.0, 0.0)),
                     amount=("angle", 0.0, 60.0)),
        motion_layer("zoom", MOVED_FRAMES, amount=("real", -0.4, 0.2),
                     center=("vector", (0.0, 0.0), (0.0, 0.0))),
    ]),
    "japan_rays": ("moving_art", "japan", [
        motion_layer("rotate", MOVED_FRAMES, origin=("vector", (0.0, 0.0), (0.0, 0.0)),
                     amount=("angle", 0.0, 12.0)),
    ]),
    "text_twirl": ("moving_art", "warptext", [
        motion_layer("twirl", MOVED_FRAMES, center=("vector", (0.0, 0.0), (0.0, 0.0)),
                     radius=("real", 2.5, 2.5), rotations=("real", -0.5, 0.5)),
        motion_layer("translate", MOVED_FRAMES,
                     origin=("vector", (-0.5, 0.1), (0.5, -0.1))),
    ]),
}


#: The validation set's stills set in motion, as :data:`MOVED_SCENES`.
VALIDATION_MOVED_SCENES = {
    "pirates_zoom": ("moving_art", "pirates", [
        motion_layer("zoom", MOVED_FRAMES, amount=("real", 0.25, -0.05),
                     center=("vector", (0.0, 0.0), (0.0, 0.0))),
        motion_layer("translate", MOVED_FRAMES,
                     origin=("vector", (0.5, -0.3), (-0.5, 0.3))),
    ]),
    "wolf_turn": ("moving_art", "macwolfen", [
        motion_layer("rotate", MOVED_FRAMES, origin=("vector", (0.0, 0.0), (0.0, 0.0)),
                     amount=("angle", 10.0, -20.0)),
        motion_layer("translate", MOVED_FRAMES,
                     origin=("vector", (-0.4, 0.0), (0.4, 0.2))),
    ]),
}


def render_moved(root: Path, scene: str, source: str, layers: list[str], out: Path) -> None:
    """Render all frames of a still scene set in motion into ``out/f.NNNN.png``."""
    if all((out / f"f.{k:04d}.png").exists() for k in range(MOVED_FRAMES)):
        return
    out.mkdir(parents=True, exist_ok=True)
    sif = out / f"{scene}.sif"
    sif.write_text(animate_sif((root / SYNFIG_DIR / f"{source}.sif").read_text(), layers,
                               MOVED_FRAMES - 1))
    _render_range(sif, 0, MOVED_FRAMES - 1, out)


# --- sprites ------------------------------------------------------------------------------


def cave_frames(root: Path, name: str) -> list[np.ndarray]:
    """BGRA frames of a caveexpress animation (``npc-grandpa-walk-left-middle`` ...), cut
    from the big atlas by ``textures/complete.lua``; normal-map cells skipped."""
    lua = (root / CAVE / "textures/complete.lua").read_text()
    entry = re.compile(r'\["(' + re.escape(name) + r'-(\d+))"\]\s*=\s*\{(.*?)\}', re.S)
    frames: dict[int, np.ndarray] = {}
    atlases: dict[str, np.ndarray] = {}
    for m in entry.finditer(lua):
        fields = dict(re.findall(r"(\w+)\s*=\s*\"?([^\",\n]+)\"?", m.group(3)))
        if not fields["image"].endswith("-big") or int(m.group(2)) in frames:
            continue
        atlas = atlases.get(fields["image"])
        if atlas is None:
            atlas = atlases[fields["image"]] = cv2.imread(
                str(root / CAVE / "pics" / f"{fields['image']}.png"), cv2.IMREAD_UNCHANGED)
        h, w = atlas.shape[:2]
        x0, y0 = round(float(fields["x0"]) * w), round(float(fields["y0"]) * h)
        cw, ch = int(fields["trimmedwidth"]), int(fields["trimmedheight"])
        cell = np.zeros((int(fields["untrimmedheight"]), int(fields["untrimmedwidth"]), 4),
                        np.uint8)
        ox, oy = int(fields["trimmedoffsetx"]), int(fields["trimmedoffsety"])
        cell[oy:oy + ch, ox:ox + cw] = atlas[y0:y0 + ch, x0:x0 + cw]
        frames[int(m.group(2))] = cell
    if not frames:
        raise SystemExit(f"no caveexpress animation {name}")
    return [frames[k] for k in sorted(frames)]


def spritepos_frames(sheet: Path, animation: str) -> list[np.ndarray]:
    """BGRA frames ``<animation> 1..N`` of a plee-the-bear sheet (``.spritepos`` beside it)."""
    img = cv2.imread(str(sheet), cv2.IMREAD_UNCHANGED)
    rects = {}
    for line in sheet.with_suffix(".spritepos").read_text().splitlines():
        m = re.match(rf"{re.escape(animation)} (\d+):\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", line)
        if m:
            k, x, y, w, h = map(int, m.groups())
            rects[k] = img[y:y + h, x:x + w]
    return [rects[k] for k in sorted(rects)]


def strip_frames(sprite: Path) -> list[np.ndarray]:
    """BGRA frames of a pingus ``.sprite`` strip (``(array N 1)``, ``(size W H)``)."""
    text = sprite.read_text()
    image = re.search(r'\(image "([^"]+)"\)', text).group(1)
    n = int(re.search(r"\(array (\d+) 1\)", text).group(1))
    w, h = map(int, re.search(r"\(size (\d+) (\d+)\)", text).groups())
    img = cv2.imread(str(sprite.parent / image), cv2.IMREAD_UNCHANGED)
    if img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    frames = []
    for k in range(n):
        cell = np.zeros((h, w, 4), np.uint8)
        part = img[:h, k * w:(k + 1) * w]
        cell[: part.shape[0], : part.shape[1]] = part
        frames.append(cell)
    return frames


def supertux_frames(sprite: Path, action: str) -> list[np.ndarray]:
    """BGRA frames of an action of a SuperTux ``.sprite`` file: its ``images``, or those of
    the action it mirrors (flipped) or clones."""
    text = sprite.read_text()
    actions = {}
    for chunk in text.split("(action")[1:]:
        name = re.search(r'\(name "([^"]+)"\)', chunk)
        if name:
            actions[name.group(1)] = chunk
    chunk = actions[action]
    if m := re.search(r'\(mirror-action "([^"]+)"\)', chunk):
        return [np.ascontiguousarray(f[:, ::-1]) for f in supertux_frames(sprite, m.group(1))]
    if m := re.search(r'\(clone-action "([^"]+)"\)', chunk):
        return supertux_frames(sprite, m.group(1))
    images = re.search(r"\(images((?:\s*\"[^\"]+\")+)\s*\)", chunk)
    if images is None:
        raise SystemExit(f"{sprite.name}: no images for {action}")
    frames = []
    for name in re.findall(r'"([^"]+)"', images.group(1)):
        img = cv2.imread(str(sprite.parent / name), cv2.IMREAD_UNCHANGED)
        frames.append(img if img.shape[2] == 4 else cv2.cvtColor(img, cv2.COLOR_BGR2BGRA))
    return frames


@dataclass
class Actor:
    """A sprite animation placed on the stage: frames (BGRA), start (x, y) of its bottom
    centre in stage pixels, speed in pixels per frame, scale, and frames per drawing."""

    frames: list[np.ndarray]
    x: float
    y: float
    vx: float = 0.0
    vy: float = 0.0
    scale: float = 2.0
    hold: int = 1


def backdrop(path: Path, size: tuple[int, int]) -> np.ndarray:
    """An image scaled to cover ``size`` (W, H) and centre-cropped: RGB float32 0..255."""
    img = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    w, h = size
    s = max(w / img.shape[1], h / img.shape[0])
    img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)),
                     interpolation=cv2.INTER_AREA)
    y0, x0 = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[y0:y0 + h, x0:x0 + w].astype(np.float32)


def stage_frame(back: np.ndarray, actors: list[Actor], n: int) -> np.ndarray:
    """Frame ``n`` of a sprite scene: the actors composited (alpha over) on the backdrop."""
    out = back.copy()
    for a in actors:
        cell = a.frames[(n // a.hold) % len(a.frames)]
        cell = cv2.resize(cell, None, fx=a.scale, fy=a.scale, interpolation=cv2.INTER_LINEAR)
        h, w = cell.shape[:2]
        x = round(a.x + a.vx * n - w / 2)
        y = round(a.y + a.vy * n - h)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, out.shape[1]), min(y + h, out.shape[0])
        if x1 <= x0 or y1 <= y0:
            continue
        part = cell[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)
        alpha = part[..., 3:4] / 255
        rgb = part[..., 2::-1]
        out[y0:y1, x0:x1] = rgb * alpha + out[y0:y1, x0:x1] * (1 - alpha)
    return np.rint(out).clip(0, 255).astype(np.uint8)


def sprite_scenes(root: Path) -> dict[str, tuple[str, np.ndarray, list[Actor]]]:
    """The sprite scenes: name → (kind, backdrop, actors)."""
    cave = functools.partial(cave_frames, root)
    plee = root / PLEE
    traps = root / PINGUS / "traps"
    field = backdrop(root / PINGUS / "worldmaps/tutorial_layer0.jpg", SPRITE_SIZE)
    sky = backdrop(root / PINGUS / "textures/easter_sky.jpg", SPRITE_SIZE)
    return {
        "cave_walk": ("sprites", field, [
            Actor(cave("npc-grandpa-walk-left-middle"), 760, 470, vx=-9),
            Actor(cave("npc-man-walk-right-middle"), 150, 420, vx=11),
            Actor(cave("npc-woman-walk-left-middle"), 600, 330, vx=-6, scale=1.6),
            Actor(cave("npc-mammut-walk-DIR-middle"), 300, 530, vx=5),
        ]),
        "cave_creatures": ("sprites", sky, [
            Actor(cave("npc-fish-swimming-DIR-front"), 200, 500, vx=8),
            Actor(cave("npc-flying-flying-DIR-middle"), 700, 300, vx=-7, vy=-2),
            Actor(cave("npc-walking-walk-DIR-middle"), 480, 420, vx=4, hold=2),
        ]),
        "plee_walk": ("sprites", sky, [
            Actor(spritepos_frames(plee / "plee/plee-1.png", "walking"), 200, 500, vx=10),
            Actor(spritepos_frames(plee / "ray/ray-1.png", "walking"), 820, 470, vx=-8),
            Actor(spritepos_frames(plee / "forest/wasp/wasp-shooting-1.png", "shooting"),
                  500, 250, vx=3, vy=1),
        ]),
        "pingus_traps": ("sprites", field, [
            Actor(strip_frames(traps / "hammer.sprite"), 260, 480),
            Actor(strip_frames(traps / "guillotinekill/left.sprite"), 620, 460),
            Actor(strip_frames(traps / "hammer.sprite"), 820, 430, scale=1.5, hold=2),
        ]),
        "cave_idle": ("idle", field, [
            Actor(cave("npc-grandpa-idle-middle"), 250, 470),
            Actor(cave("npc-man-idle-middle"), 480, 430, hold=2),
            Actor(cave("npc-woman-idle-middle"), 700, 470),
            Actor(cave("npc-mammut-idle-DIR-middle"), 480, 535, scale=1.5),
        ]),
    }


def validation_sprite_scenes(root: Path) -> dict[str, tuple[str, np.ndarray, list[Actor]]]:
    """The validation set's sprite scenes, as :func:`sprite_scenes`."""
    creatures = root / SUPERTUX / "creatures"

    def cycle(creature: str, action: str, sprite: str | None = None) -> list[np.ndarray]:
        return supertux_frames(creatures / creature / f"{sprite or creature}.sprite", action)

    arctic = backdrop(root / SUPERTUX / "background/antarctic/semi_arctic.jpg", SPRITE_SIZE)
    village = backdrop(root / SUPERTUX / "background/christmas/intro.jpg", SPRITE_SIZE)
    return {
        "tux_walk": ("sprites", arctic, [
            Actor(cycle("tux", "big-walk-right"), 180, 470, vx=9),
            Actor(cycle("yeti", "walking-left"), 760, 500, vx=-6, scale=1.5, hold=2),
            Actor(cycle("snowball", "left"), 600, 380, vx=-7),
            Actor(cycle("mr_iceblock", "left"), 420, 520, vx=-4),
        ]),
        "village_flyers": ("sprites", village, [
            Actor(cycle("owl", "left"), 800, 200, vx=-8, vy=1),
            Actor(cycle("zeekling", "left"), 300, 300, vx=6, vy=-1),
            Actor(cycle("igel", "walking-left"), 650, 500, vx=-5),
            Actor(cycle("walkingleaf", "left"), 250, 480, vx=4, hold=2),
        ]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path, help="folder to write the set into")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache/vsanimeinterp-devset",
                    help="downloads and renders (default: %(default)s)")
    ap.add_argument("--validation", action="store_true",
                    help="build the validation set (other art, never tuned on) instead")
    args = ap.parse_args()
    if args.validation:
        root = fetch_packages(args.cache, VALIDATION_PACKAGES)
        synfig_scenes, moved_scenes = VALIDATION_SYNFIG_SCENES, VALIDATION_MOVED_SCENES
        sprites = validation_sprite_scenes(root)
    else:
        root = fetch_packages(args.cache)
        synfig_scenes, moved_scenes, sprites = SYNFIG_SCENES, MOVED_SCENES, sprite_scenes(root)
    frames_dir = args.cache / "frames"
    scenes: list[tuple[str, Path, int]] = []
    for scene, (kind, starts) in synfig_scenes.items():
        print(f"rendering {scene} ({len(starts)} windows)", file=sys.stderr)
        render_synfig(root, scene, starts, frames_dir / scene)
        scenes.append((kind, frames_dir / scene, 3))
    for scene, (kind, source, layers) in moved_scenes.items():
        print(f"rendering {scene} (from {source})", file=sys.stderr)
        render_moved(root, scene, source, layers, frames_dir / scene)
        scenes.append((kind, frames_dir / scene, 3))
    for scene, (kind, back, actors) in sprites.items():
        folder = frames_dir / scene
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(SPRITE_FRAMES):
            img = stage_frame(back, actors, n)
            cv2.imwrite(str(folder / f"f.{n:04d}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        scenes.append((kind, folder, 3))
    for kind, folder, stride in scenes:
        # Idle cycles barely change the frame: the mean-difference hold test (meant for noisy
        # video) would drop them all, and these PNGs have no noise.
        names, chosen = write_footage_set(args.out / kind, folder, 1, stride, overwrite=True,
                                          hold_mean=0.0 if kind == "idle" else None)
        print(f"{kind}/{folder.name}: {len(names)} triplets "
              f"({chosen.held} held, {chosen.cuts} cuts skipped)", file=sys.stderr)


if __name__ == "__main__":
    main()
