"""Procedural cartoon clips with exactly known motion, for the demo, the tests and measurements.

A :class:`CartoonScene` looks like an anime cel: flat colour pieces bounded by near-black,
anti-aliased ink lines (about 2-3 pixels at 540p, scaled with the resolution), in front of a
background made of a few flat regions (sky, hills, ground) and static props (clouds, houses,
trees). Character-like objects (ellipses, blobs, polygons, rounded boxes, with inner pieces
such as eyes with pupils or a belly patch) follow curved, accelerating paths with
displacements of up to about 10 % of the width per frame, and rotate and squash as they go.
The background may pan.

Every object is a set of polygons in its own local coordinates, placed on screen by an affine
map ``A_k(t)`` (translation · rotation · anisotropic scale). Rendering draws the polygons
mapped by ``A_k(t)`` in painter's order and records which object covers each pixel; the true
flow of a pixel that shows object ``k`` at ``t0`` is then ``A_k(t1) · A_k(t0)⁻¹ · p − p``.
The background moves as one rigid translation (the camera pan).

Time is measured in source frames: ``time = 1.0`` is one frame later (1/24 s at 24 fps).
Pixel coordinates follow OpenCV: the centre of pixel ``(x, y)`` (column, row) is at ``(x, y)``.

Modules: :mod:`.geometry` (polygon, affine and colour helpers), :mod:`.actors` (the
characters), :mod:`.scene` (:class:`CartoonScene`: layout, rendering, true flow),
:mod:`.datasets` (:func:`make_triplets`, :func:`make_sequence`, :func:`demo_sequence`).
Frames are float; :func:`vsanimeinterp.metrics.to_uint8` converts them to 8 bits.
"""

from __future__ import annotations

from .datasets import CartoonClip, CartoonTriplet, demo_sequence, make_sequence, make_triplets
from .scene import INK, CartoonScene

__all__ = [
    "INK",
    "CartoonClip",
    "CartoonScene",
    "CartoonTriplet",
    "demo_sequence",
    "make_sequence",
    "make_triplets",
]
