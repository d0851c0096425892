"""The AnimeInterp network (RFR flow refinement + forward warping + GridNet) in PyTorch."""

from .animeinterp import AnimeInterp, FrameFeatures
from .checkpoint import CheckpointError, load_model, load_state_dict
from .padding import crop_to, pad_to, padded_size

__all__ = [
    "AnimeInterp",
    "CheckpointError",
    "FrameFeatures",
    "crop_to",
    "load_model",
    "load_state_dict",
    "pad_to",
    "padded_size",
]
