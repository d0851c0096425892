"""Loading AnimeInterp weights from the official checkpoint or a plain state dict."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from ..checkpoints.validate import CheckpointError, extract_state_dict, read_state_dict, short_list
from .animeinterp import AnimeInterp

__all__ = ["CheckpointError", "load_model", "load_state_dict"]

_PREFIX = "module."  # added by nn.DataParallel, which the official checkpoint was saved from


def load_state_dict(checkpoint: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """The network's weights from a checkpoint, keyed as :class:`AnimeInterp` expects.

    Accepts a path or an already loaded object; either the official layout
    (``{'model_state_dict': {...}, 'epoch': ...}``), ``{'state_dict': {...}}`` or a bare
    state dict; keys with or without the ``module.`` prefix. Files are read with
    ``weights_only=True``. Reading and checking is :mod:`vsanimeinterp.checkpoints.validate`'s,
    the same that ``python -m vsanimeinterp download`` verifies its file with.

    Raises:
        CheckpointError: unreadable file (the message says what the file is instead), or no
            mapping of names to tensors inside.
    """
    if isinstance(checkpoint, Mapping):
        state = extract_state_dict(checkpoint)
    else:
        state = read_state_dict(checkpoint)
    return {k.removeprefix(_PREFIX): v for k, v in state.items()}


def load_model(
    checkpoint: str | os.PathLike[str] | Mapping[str, Any],
    device: str | torch.device = "cpu",
    half: bool = False,
) -> AnimeInterp:
    """Build :class:`AnimeInterp`, load the weights strictly and put it in eval mode.

    Args:
        checkpoint: path or loaded object, as accepted by :func:`load_state_dict`.
        device: where the network runs.
        half: run the convolutional parts in float16 (meant for CUDA; see
            :attr:`AnimeInterp.half_precision`).

    Raises:
        CheckpointError: unreadable file, or missing / unexpected / wrongly shaped weights
            (all listed in the message).
    """
    state = load_state_dict(checkpoint)
    model = AnimeInterp()
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        f"{k}: {tuple(state[k].shape)} instead of {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"missing {len(missing)}: {short_list(missing)}")
    if unexpected:
        problems.append(f"unexpected {len(unexpected)}: {short_list(unexpected)}")
    if mismatched:
        problems.append(f"wrong shape {len(mismatched)}: {short_list(mismatched)}")
    if problems:
        raise CheckpointError(
            "checkpoint does not fit the AnimeInterp network; " + "; ".join(problems)
        )
    model.load_state_dict(state, strict=True)
    model.to(device)
    model.half_precision = half
    return model.eval()
