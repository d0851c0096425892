"""Loading AnimeInterp weights from the official checkpoint or a plain state dict."""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from typing import Any

import torch

from .animeinterp import AnimeInterp

_PREFIX = "module."  # added by nn.DataParallel, which the official checkpoint was saved from
_LIST_LIMIT = 8


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the AnimeInterp network."""


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_LIMIT])
    more = len(items) - _LIST_LIMIT
    return shown + (f", … ({more} more)" if more > 0 else "")


def _read(path: str | os.PathLike[str]) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as error:
        if "weights only load failed" in str(error).lower():
            raise CheckpointError(
                f"{os.fspath(path)!r} holds Python objects other than tensors and plain "
                "containers, and loading them would mean running arbitrary code from the "
                "file, which is refused. If you trust the file, load it yourself with "
                "torch.load(path, weights_only=False) and save only the weights, e.g. "
                "torch.save(ckpt['model_state_dict'], 'weights.pth'), or pass the loaded "
                f"dict to load_model. ({str(error).splitlines()[0]})"
            ) from error
        raise CheckpointError(
            f"cannot read {os.fspath(path)!r}: corrupt or not a PyTorch checkpoint ({error})"
        ) from error
    except Exception as error:  # torch reports damaged archives with several exception types
        raise CheckpointError(
            f"cannot read {os.fspath(path)!r}: truncated, corrupt or not a PyTorch checkpoint "
            f"({type(error).__name__}: {error})"
        ) from error


def load_state_dict(checkpoint: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """The network's weights from a checkpoint, keyed as :class:`AnimeInterp` expects.

    Accepts a path or an already loaded object; either the official layout
    (``{'model_state_dict': {...}, 'epoch': ...}``) or a bare state dict; keys with or
    without the ``module.`` prefix. Files are read with ``weights_only=True``.

    Raises:
        CheckpointError: unreadable file, or no mapping of names to tensors inside.
    """
    data = checkpoint if isinstance(checkpoint, Mapping) else _read(checkpoint)
    if not isinstance(data, Mapping):
        raise CheckpointError(f"checkpoint holds a {type(data).__name__}, not a dict of weights")
    for wrapper in ("model_state_dict", "state_dict"):
        if isinstance(data.get(wrapper), Mapping):
            data = data[wrapper]
            break
    not_tensors = [str(k) for k, v in data.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise CheckpointError(f"checkpoint entries that are not tensors: {_listing(not_tensors)}")
    return {k.removeprefix(_PREFIX): v for k, v in data.items()}


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
        problems.append(f"missing {len(missing)}: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected {len(unexpected)}: {_listing(unexpected)}")
    if mismatched:
        problems.append(f"wrong shape {len(mismatched)}: {_listing(mismatched)}")
    if problems:
        raise CheckpointError(
            "checkpoint does not fit the AnimeInterp network; " + "; ".join(problems)
        )
    model.load_state_dict(state, strict=True)
    model.to(device)
    model.half_precision = half
    return model.eval()
