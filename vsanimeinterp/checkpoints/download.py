"""Fetching the official checkpoint: what ``python -m vsanimeinterp download`` does.

Downloads go to ``<dest>.part`` first, resume from it, and become the real file only when
complete (and, unless told otherwise, only once it reads as a checkpoint of network weights),
so an interrupted download never looks like a checkpoint. Only the standard library and tqdm
are imported at module level: the command works without loading torch, which verification
imports when it runs.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from .locate import (
    CHECKPOINT_ENV,
    CHECKPOINT_FILENAME,
    OFFICIAL_CHECKPOINT_PAGE,
    resolve_destination,
)
from .validate import check_checkpoint_file

__all__ = [
    "OFFICIAL_CHECKPOINT_URL",
    "DownloadError",
    "check_destination",
    "download_checkpoint",
]

log = logging.getLogger(__name__)

# The authors' README (github.com/lisiyao21/AnimeInterp, section "Code") links the weights on
# Dropbox (".../anime_interp_full.ckpt?dl=0", plus a jianguoyun.com share page). ``dl=0``
# answers with Dropbox's HTML preview page; ``dl=1`` is Dropbox's documented direct-download
# form, which redirects to the file itself.
OFFICIAL_CHECKPOINT_URL = "https://www.dropbox.com/s/oc8juclx1775qib/anime_interp_full.ckpt?dl=1"

# No published SHA-256 or size exists for the official file, so none is checked; the
# structural check in check_checkpoint_file() stands in for it.

_CHUNK = 1 << 20
_USER_AGENT = "vsanimeinterp (+https://github.com/lisiyao21/AnimeInterp)"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)", re.IGNORECASE)


class DownloadError(RuntimeError):
    """The checkpoint could not be downloaded; the message says why and what to do next."""


def check_destination(dest: str | os.PathLike[str]) -> None:
    """Make sure the checkpoint can be written to ``dest`` (and ``<dest>.part`` beside it).

    Creates the missing parent directories and tries to open the ``.part`` file for
    appending (an empty one it created is removed again), which is what the download does
    first: permission bits alone do not tell (root passes every check on paper, yet cannot
    create files under ``/proc``).

    Raises:
        DownloadError: one line saying which part of the path is in the way.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_file():
        raise DownloadError(f"cannot write the checkpoint to {dest}: it exists and is not a file")
    existing = dest.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise DownloadError(
            f"cannot write the checkpoint to {dest}: {existing} is a file, not a directory"
        )
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"cannot write the checkpoint to {dest}: cannot create the directory "
            f"{dest.parent} ({exc.strerror or exc})"
        ) from exc
    part = dest.with_name(dest.name + ".part")
    had_part = part.exists()
    try:
        with part.open("ab"):
            pass
    except OSError as exc:
        raise DownloadError(
            f"cannot write the checkpoint to {dest}: no file can be written in {dest.parent} "
            f"({exc.strerror or exc})"
        ) from exc
    if not had_part:
        part.unlink(missing_ok=True)


def _failure(url: str, reason: str, part: Path, dest: Path) -> DownloadError:
    kept = part.stat().st_size if part.is_file() else 0
    if kept:
        partial = f"{kept} bytes are kept in {part} and the next attempt resumes from there"
    else:
        partial = "nothing was saved"
    return DownloadError(
        f"could not download the checkpoint from {url}: {reason}; {partial}. Retry with "
        f"`python -m vsanimeinterp download`, or download {CHECKPOINT_FILENAME} yourself (see "
        f"{OFFICIAL_CHECKPOINT_PAGE}) and put it at {dest} or point ${CHECKPOINT_ENV} at it"
    )


def _is_html(response: http.client.HTTPResponse) -> bool:
    return response.headers.get_content_type() in ("text/html", "application/xhtml+xml")


def _int_header(response: http.client.HTTPResponse, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    return urllib.request.urlopen(request, timeout=timeout)


def download_checkpoint(
    url: str = OFFICIAL_CHECKPOINT_URL,
    dest: str | os.PathLike[str] | None = None,
    *,
    progress: bool = True,
    force: bool = False,
    timeout: float = 60,
    verify: bool = True,
) -> Path:
    """Download a checkpoint to ``dest`` (default: :func:`.locate.default_checkpoint_path`).

    Bytes go to ``<dest>.part``; a ``.part`` left by an interrupted attempt is resumed with an
    HTTP ``Range`` request (a server that ignores it makes the download start over). The file
    is renamed to ``dest`` only when complete and, with ``verify``, only after
    :func:`check_checkpoint_file` accepted it.

    Args:
        url: where to download from.
        dest: final file path, or an existing directory to put ``anime_interp_full.ckpt``
            in; a missing parent directory is created.
        progress: show a tqdm progress bar on stderr.
        force: download again even if ``dest`` exists (an old ``.part`` is discarded too).
        timeout: seconds to wait for the connection and for each read.
        verify: check that the result is a loadable PyTorch state dict before keeping it.

    Returns:
        The path of the checkpoint; if it already existed and not ``force``, nothing is
        downloaded.

    Raises:
        DownloadError: a destination that cannot be written (found before connecting; see
            :func:`check_destination`), network failure, HTTP error, an HTML page instead of
            the file, a short body, or (with ``verify``) a file that is not a checkpoint.
    """
    dest = resolve_destination(dest)
    part = dest.with_name(dest.name + ".part")
    if dest.is_file() and not force:
        log.info("checkpoint already present at %s", dest)
        return dest
    # Before any network access: a destination that cannot be written would otherwise fail
    # only after the connection was made, reported like a network error.
    check_destination(dest)
    if force:
        part.unlink(missing_ok=True)

    # Two attempts at most: the second one only when the server's answer to a Range request
    # shows the .part cannot be continued, so it is fetched from the start.
    for _attempt in range(2):
        offset = part.stat().st_size if part.is_file() else 0
        try:
            complete = _fetch(url, part, offset, progress=progress, timeout=timeout)
        except DownloadError as exc:
            raise _failure(url, str(exc), part, dest) from exc
        except urllib.error.HTTPError as exc:
            raise _failure(url, f"HTTP {exc.code} {exc.reason}", part, dest) from exc
        except urllib.error.URLError as exc:
            raise _failure(url, f"{exc.reason}", part, dest) from exc
        except TimeoutError as exc:
            raise _failure(url, f"no answer within {timeout:g} s", part, dest) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise _failure(url, f"{type(exc).__name__}: {exc}", part, dest) from exc
        if complete:
            break
        part.unlink(missing_ok=True)
    else:
        raise _failure(url, "the server cannot resume and a fresh start failed", part, dest)

    if verify:
        try:
            check_checkpoint_file(part)
        except ValueError as exc:
            # The file arrived whole, so resuming it could only reproduce the same bytes.
            part.unlink(missing_ok=True)
            reason = f"the download is not a usable checkpoint ({exc})"
            raise _failure(url, reason, part, dest) from exc
    os.replace(part, dest)
    log.info("checkpoint saved to %s", dest)
    return dest


def _fetch(url: str, part: Path, offset: int, *, progress: bool, timeout: float) -> bool:
    """Append the rest of ``url`` to ``part``; return False if the .part must be discarded."""
    try:
        response = _open(url, offset, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not offset:
            raise
        # 416 to "bytes=N-" means N is at or past the end: the .part may already be whole.
        with exc:
            match = _UNSATISFIED_RANGE.search(exc.headers.get("Content-Range", ""))
        return bool(match) and int(match.group(1)) == offset

    with response:
        if _is_html(response):
            raise DownloadError(
                "the server answered with an HTML page instead of the file (a quota, login, "
                "consent or virus-scan page, or a link that no longer points at the file)"
            )
        length = _int_header(response, "Content-Length")
        if response.status == 206:
            match = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                return False
            total = int(match.group(3)) if match.group(3) != "*" else None
            if total is None and length is not None:
                total = offset + length
            mode = "ab"
        else:
            # A plain 200 carries the whole file, whatever was asked for.
            offset = 0
            total = length
            mode = "wb"

        received = offset
        with (
            part.open(mode) as out,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                disable=not progress,
                leave=False,
            ) as bar,
        ):
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
    if total is not None and received != total:
        raise DownloadError(f"the connection ended after {received} of {total} bytes")
    return True
