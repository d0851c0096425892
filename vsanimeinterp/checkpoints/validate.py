"""What a checkpoint file holds: the one check shared by ``download`` and the network.

``python -m vsanimeinterp download`` (:func:`check_checkpoint_file`, before it keeps a file)
and the network's loader (:func:`vsanimeinterp.network.load_state_dict`, which
``interpolate()`` reaches) both call :func:`identify_file`, :func:`read_checkpoint` and
:func:`extract_state_dict` from here, so that a file one of them accepts the other accepts
too, and both explain a wrong file in the same words.

A wrong file is usually not a damaged checkpoint but something else saved under its name: the
web page a file host answers with instead of the file, or an unrelated download. The file's
first bytes say which; only a real PyTorch pickle that holds arbitrary Python objects gets the
advice to load it with ``weights_only=False``.

torch is imported only by the functions that load, so that the header check (and
:mod:`vsanimeinterp.checkpoints.download`) stays free of it.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "STATE_DICT_WRAPPERS",
    "CheckpointError",
    "check_checkpoint_file",
    "extract_state_dict",
    "identify_file",
    "read_checkpoint",
    "read_state_dict",
    "short_list",
]

#: Keys under which training scripts nest the weights; the authors' checkpoint uses the first.
STATE_DICT_WRAPPERS = ("model_state_dict", "state_dict")

# torch.save before PyTorch 1.6 (the authors used 0.4-1.1) wrote a bare pickle stream that
# starts with this pickled magic number, not a zip archive.
LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
_ZIP_MAGIC = b"PK\x03\x04"
# Enough for every signature below, including tar's "ustar" at offset 257 and an HTML
# page's doctype after a byte-order mark and some blank lines.
_HEAD_BYTES = 512
_LIST_LIMIT = 8

# (offset, magic, description) of formats people have saved under a checkpoint's name.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "a video file (MP4/QuickTime)"),
    (0, b"\x1a\x45\xdf\xa3", "a video file (Matroska/WebM)"),
    (0, b"FLV\x01", "a video file (FLV)"),
    (0, b"OggS", "an Ogg media file"),
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF8", "a GIF image"),
    (0, b"%PDF", "a PDF document"),
    (0, b"\x1f\x8b", "a gzip archive (unpack it first)"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive (unpack it first)"),
    (0, b"Rar!\x1a\x07", "a RAR archive (unpack it first)"),
    (0, b"\xfd7zXZ\x00", "an xz archive (unpack it first)"),
    (0, b"BZh", "a bzip2 archive (unpack it first)"),
    (0, b"PK\x05\x06", "an empty zip archive"),
)
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")
# Messages of torch's weights-only unpickler when the pickle is intact but names a class or
# function it will not rebuild; its other complaints (unknown opcodes) mean damaged bytes.
_FOREIGN_OBJECT = re.compile(
    r"unsupported global|can only (?:create new object|build)|call reduce for unrecognized",
    re.IGNORECASE,
)
_GLOBAL_NAME = re.compile(r"GLOBAL (\S+) was not an allowed global")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the AnimeInterp network."""


def _name(path: str | os.PathLike[str]) -> str:
    return repr(os.fspath(path))


def short_list(items: list[str]) -> str:
    """The first few ``items`` joined with commas, and how many more there are."""
    shown = ", ".join(items[:_LIST_LIMIT])
    more = len(items) - _LIST_LIMIT
    return shown + (f", … ({more} more)" if more > 0 else "")


def _describe_text(head: bytes) -> str | None:
    """What a file that starts with ``head`` is, if it is text; None for binary data."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    lowered = text.lower()
    if lowered.startswith(b"<") and any(marker in lowered for marker in _HTML_MARKERS):
        return (
            "an HTML page, not a PyTorch file (a file host's preview, login or quota page "
            "saved instead of the file: download it again, e.g. with "
            "`python -m vsanimeinterp download`)"
        )
    if not text:
        return "a text file of blank space, not a PyTorch file" if head else None
    # A multi-byte character cut at the end of the head decodes to U+FFFD there; one
    # anywhere else means binary data.
    decoded = text.decode("utf-8", errors="replace").rstrip("\ufffd")
    if decoded and all(ch.isprintable() or ch in "\r\n\t" for ch in decoded):
        kind = "an XML document" if decoded.startswith("<?xml") else "a text file"
        first = decoded.splitlines()[0][:60]
        return f"{kind}, not a PyTorch file (it begins {first!r})"
    return None


def _check_zip(path: Path) -> None:
    """A zip archive must be whole and hold the pickle that ``torch.save`` writes."""
    # A truncated zip still starts with a valid local header; the central directory at the
    # end is what a torn download or copy loses.
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{_name(path)} is a truncated, corrupt zip archive (its central directory at the "
            "end is missing: an interrupted download or copy?); get the file again"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise CheckpointError(f"{_name(path)} is a truncated, corrupt zip archive ({exc})") from exc
    if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        raise CheckpointError(
            f"{_name(path)} is a zip archive, but not one written by torch.save (no data.pkl "
            f"inside; it holds {short_list(names) or 'nothing'})"
        )


def identify_file(path: str | os.PathLike[str]) -> None:
    """Check from its bytes that ``path`` is a PyTorch file, without loading it.

    Accepts the zip format of ``torch.save`` (complete, with its ``data.pkl``), the older
    bare-pickle format and PyTorch's ancient tar format. Anything else is named: an HTML
    page, a text file, a video, image or archive, a plain Python pickle, or an unknown format.

    Raises:
        CheckpointError: the file is not a PyTorch file; the message says what it is.
        OSError: the file cannot be opened.
    """
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    if head.startswith(_ZIP_MAGIC):
        _check_zip(path)
        return
    if head.startswith(LEGACY_TORCH_MAGIC) or head[257:262] == b"ustar":
        return
    if not head:
        raise CheckpointError(f"{_name(path)} is empty (0 bytes), not a PyTorch checkpoint")
    if len(head) < len(LEGACY_TORCH_MAGIC) and LEGACY_TORCH_MAGIC.startswith(head):
        raise CheckpointError(f"{_name(path)} is a truncated PyTorch checkpoint")
    for offset, magic, what in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            raise CheckpointError(f"{_name(path)} is {what}, not a PyTorch file")
    text = _describe_text(head)
    if text is not None:
        raise CheckpointError(f"{_name(path)} is {text}")
    if head[0] == 0x80 and 2 <= head[1] <= 5:
        raise CheckpointError(
            f"{_name(path)} is a plain Python pickle, not a PyTorch checkpoint (torch.save "
            "writes a zip archive, or before PyTorch 1.6 a pickle that starts with its magic "
            "number); if you trust it and it holds the weights, load it with pickle.load and save "
            "them with torch.save"
        )
    raise CheckpointError(
        f"{_name(path)} is not a PyTorch file (unknown format; its first bytes are "
        f"{head[:8].hex(' ')})"
    )


def read_checkpoint(path: str | os.PathLike[str]) -> Any:
    """Load ``path`` with ``torch.load(weights_only=True)`` after :func:`identify_file`.

    No code from the file runs. Returns whatever the file holds, not checked further (see
    :func:`extract_state_dict`).

    Raises:
        CheckpointError: not a PyTorch file, damaged, or a pickle of Python objects other
            than tensors and plain containers (only then the message advises
            ``weights_only=False``).
        FileNotFoundError: no such file.
    """
    import pickle

    import torch

    identify_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as error:
        message = str(error)
        if _FOREIGN_OBJECT.search(message):
            needed = _GLOBAL_NAME.search(message)
            what = f" (it needs {needed.group(1)})" if needed else ""
            raise CheckpointError(
                f"{_name(path)} holds Python objects other than tensors and plain "
                f"containers{what}, and loading them would mean running arbitrary code from "
                "the file, which is refused. If you trust the file, load it yourself with "
                "torch.load(path, weights_only=False) and save only the weights, e.g. "
                "torch.save(ckpt['model_state_dict'], 'weights.pth'), or pass the loaded "
                "dict to load_model"
            ) from error
        raise CheckpointError(
            f"cannot read {_name(path)}: truncated, corrupt PyTorch checkpoint "
            f"({_first_line(message)})"
        ) from error
    except Exception as error:  # torch reports damaged archives with several exception types
        raise CheckpointError(
            f"cannot read {_name(path)}: truncated, corrupt PyTorch checkpoint "
            f"({type(error).__name__}: {_first_line(str(error))})"
        ) from error


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "no details"


def extract_state_dict(data: Any) -> dict[str, Any]:
    """The mapping of parameter names to tensors inside a loaded checkpoint.

    ``data`` is a bare state dict or one nested under a key of :data:`STATE_DICT_WRAPPERS`
    (``{'model_state_dict': {...}, 'epoch': ...}`` as the authors saved it, or
    ``{'state_dict': {...}}``). Keys are returned as stored (``module.`` prefixes kept).

    Raises:
        CheckpointError: not a mapping, empty, or entries that are not named tensors.
    """
    import torch

    if not isinstance(data, Mapping):
        raise CheckpointError(f"checkpoint holds a {type(data).__name__}, not a dict of weights")
    for wrapper in STATE_DICT_WRAPPERS:
        if isinstance(data.get(wrapper), Mapping):
            data = data[wrapper]
            break
    if not data:
        raise CheckpointError("checkpoint holds no state dict of network weights (it is empty)")
    wrong = [str(k) for k, v in data.items() if not isinstance(k, str)
             or not isinstance(v, torch.Tensor)]
    if len(wrong) == len(data):
        raise CheckpointError(
            "checkpoint holds no state dict of network weights (no entry is a named tensor: "
            f"{short_list(wrong)})"
        )
    if wrong:
        raise CheckpointError(f"checkpoint entries that are not tensors: {short_list(wrong)}")
    return dict(data)


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """:func:`extract_state_dict` of :func:`read_checkpoint`: the weights in a file, with
    errors that name the file."""
    data = read_checkpoint(path)
    try:
        return extract_state_dict(data)
    except CheckpointError as exc:
        raise CheckpointError(f"{_name(path)}: {exc}") from None


def check_checkpoint_file(path: str | os.PathLike[str], *, load: bool = True) -> None:
    """Check that ``path`` holds a PyTorch checkpoint of network weights (the download's check).

    The same check the network's loader makes: the header must be that of ``torch.save``
    (its zip format, whole, or the older bare pickle); with ``load`` the file is also loaded
    with ``weights_only=True`` (no arbitrary code runs) and must contain a state dict of
    tensors, bare or under ``model_state_dict`` or ``state_dict``.

    Raises:
        CheckpointError: (a ``ValueError``) the file is not such a checkpoint; the message
            says what was found (an HTML page, a video, a truncated archive, ...).
    """
    if load:
        read_state_dict(path)
    else:
        identify_file(path)
