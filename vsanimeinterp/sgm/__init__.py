"""Segment-guided matching (SGM): weight-free bidirectional flow for cartoon frames.

``frame`` prepares a frame (working resolution, colour pieces, descriptors), ``pieces``
sums per-pixel values over pieces, ``matching`` matches pieces, ``guided`` and ``motion``
make and score per-piece motions, ``flows`` puts them together (:func:`pair_flows`,
:func:`sgm_flows`); ``params`` holds the constants.
"""

from .flows import pair_flows, sgm_flows
from .frame import SGMFrame, prepare_frame, work_size_for

__all__ = ["SGMFrame", "pair_flows", "prepare_frame", "sgm_flows", "work_size_for"]
