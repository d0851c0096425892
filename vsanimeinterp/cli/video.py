"""``python -m vsanimeinterp video IN OUT``: interpolate a video file for people who do not
write .vpy scripts.

IN is read with BestSource (``core.bs.VideoSource``, from the ``vapoursynth-bestsource``
wheel), interpolated with ``interpolate()``, and piped as YUV4MPEG2 into ``ffmpeg`` (found on
the PATH), which encodes the video and copies IN's audio streams (``-map 0:v -map 1:a?``:
none is fine). Everything is checked before any work starts: IN exists, OUT does not (unless
``--overwrite``), ffmpeg is there. ffmpeg writes to a hidden temporary file beside OUT that
becomes OUT only when the whole encode succeeded, so a failed or interrupted run leaves
no half-written OUT; OUT gets the permissions ffmpeg would have given it (the umask's, or
those of the file it replaces).
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from .common import (
    CommandError,
    add_engine_arguments,
    engine_kwargs,
    open_video,
    positive_fraction,
)

#: Encoders that take ``-crf`` and ``-preset`` (x264/x265 names); others get neither unless
#: asked for.
_CRF_CODECS = {"libx264": 18, "libx265": 20, "libsvtav1": 30, "libaom-av1": 30, "libvpx-vp9": 30}
_PRESET_CODECS = {"libx264": "medium", "libx265": "medium"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``video``."""
    parser.add_argument("input", metavar="IN", type=Path, help="video file to read")
    parser.add_argument("output", metavar="OUT", type=Path,
                        help="file to write; the container follows its extension (.mkv, .mp4)")
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument("--factor", type=positive_fraction, default=Fraction(2), metavar="F",
                      help="multiply the frame rate by F, e.g. 2 or 5/2 (default: 2)")
    rate.add_argument("--fps", type=positive_fraction, metavar="RATE",
                      help="target frame rate, e.g. 60000/1001 or 60 (overrides --factor)")
    parser.add_argument("--dedup", action="store_true",
                        help="retime anime drawn on twos/threes (interpolate's dedup=True)")
    parser.add_argument("--no-sc", dest="sc", action="store_false",
                        help="no scene-cut detection (blend across cuts)")
    add_engine_arguments(parser)
    enc = parser.add_argument_group("encoding (passed to ffmpeg)")
    enc.add_argument("--codec", default="libx264",
                     help="ffmpeg video encoder (default: %(default)s)")
    enc.add_argument("--crf", type=float, metavar="Q",
                     help="quality for x264/x265/AV1/VP9 (default: 18 for libx264, 20 for "
                     "libx265, 30 for the others that take it)")
    enc.add_argument("--preset", help="encoder preset (default: medium for x264/x265)")
    enc.add_argument("--pix-fmt", metavar="FMT",
                     help="output pixel format, e.g. yuv420p10le (default: the clip's)")
    enc.add_argument("--audio-codec", default="copy", metavar="CODEC",
                     help="audio encoder; copy keeps the streams as they are "
                     "(default: %(default)s)")
    parser.add_argument("--overwrite", "-y", action="store_true",
                        help="replace OUT if it exists")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def ffmpeg_command(
    ffmpeg: str, source: Path, target: Path, args: argparse.Namespace
) -> list[str]:
    """The ffmpeg command line: y4m on stdin (input 0) + IN (input 1, for its audio) →
    ``target``."""
    cmd = [ffmpeg, "-hide_banner", "-nostats", "-loglevel", "error", "-y",
           "-f", "yuv4mpegpipe", "-i", "pipe:0", "-i", str(source),
           "-map", "0:v:0", "-map", "1:a?", "-c:v", args.codec]
    crf = args.crf if args.crf is not None else _CRF_CODECS.get(args.codec)
    if crf is not None:
        cmd += ["-crf", f"{crf:g}"]
    preset = args.preset or _PRESET_CODECS.get(args.codec)
    if preset:
        cmd += ["-preset", preset]
    if args.pix_fmt:
        cmd += ["-pix_fmt", args.pix_fmt]
    cmd += ["-c:a", args.audio_codec, str(target)]
    return cmd


def _check_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    source: Path = args.input
    target: Path = args.output
    if not source.is_file():
        raise CommandError(f"input {source} does not exist or is not a file")
    if target.exists() and source.resolve() == target.resolve():
        raise CommandError("OUT must differ from IN")
    if target.is_dir():
        raise CommandError(f"output {target} is a directory")
    if target.exists() and not args.overwrite:
        raise CommandError(f"output {target} exists (use --overwrite to replace it)")
    if not target.parent.resolve().is_dir():
        raise CommandError(f"output folder {target.parent} does not exist")
    return source, target


def _y4m_ready(clip: Any) -> Any:
    """``clip`` in a format YUV4MPEG2 carries: RGB becomes YUV 4:4:4 (BT.709, limited range,
    which is what a y4m reader assumes), float samples become 16-bit integers; integer YUV and
    GRAY pass unchanged."""
    import vapoursynth as vs

    fmt = clip.format
    bits = 16 if fmt.sample_type == vs.FLOAT else fmt.bits_per_sample
    if fmt.color_family == vs.RGB:
        target = vs.core.query_video_format(vs.YUV, vs.INTEGER, bits, 0, 0)
        return vs.core.resize.Bicubic(clip, format=target.id, matrix_s="709", range_s="limited")
    if fmt.sample_type == vs.FLOAT:
        target = fmt.replace(sample_type=vs.INTEGER, bits_per_sample=16)
        return vs.core.resize.Point(clip, format=target.id)
    return clip


def current_umask() -> int:
    """The process's umask, read without changing it where Linux tells it (``/proc``)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere the only way to read it is to set it and put it back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_mode(target: Path) -> int:
    """Permission bits ffmpeg would have given ``target`` writing it directly: those of the
    file it replaces (opened with truncation, which keeps them), else ``0o666 & ~umask``.

    The encode goes to a :func:`tempfile.mkstemp` file, which is created ``0o600``; without
    this, the result could be read by its owner only (not by a media server or other users).
    """
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def _ffmpeg_errors(path: Path, limit: int = 4) -> str:
    """The last ``limit`` non-empty lines of ffmpeg's log joined into one line."""
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    return " | ".join([ln for ln in lines if ln][-limit:])


def run(args: argparse.Namespace) -> int:
    """``video``: check, read, interpolate, encode to a temporary file, rename."""
    source, target = _check_paths(args)
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise CommandError(
            "ffmpeg was not found on the PATH; install it (https://ffmpeg.org/download.html, "
            "or e.g. apt-get install ffmpeg) and try again"
        )
    import vapoursynth as vs
    from tqdm import tqdm

    from ..vsfilter.filter import interpolate

    clip = open_video(source)
    kwargs = engine_kwargs(args)
    if args.fps is not None:
        kwargs.update(fps_num=args.fps.numerator, fps_den=args.fps.denominator)
    else:
        kwargs.update(factor_num=args.factor.numerator, factor_den=args.factor.denominator)
    try:
        out = interpolate(clip, sc=args.sc, dedup=args.dedup, **kwargs)
    except vs.Error as exc:
        raise CommandError(str(exc)) from None
    if out.fps == 0:
        raise CommandError(
            f"{source} has a variable frame rate; give --fps to choose a constant output rate"
        )

    out = _y4m_ready(out)

    fd, tmp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.stem}.", suffix=f".partial{target.suffix}"
    )
    os.close(fd)
    tmp = Path(tmp_name)
    log = tmp.with_name(tmp.name + ".log")
    cmd = ffmpeg_command(ffmpeg, source, tmp, args)
    proc: subprocess.Popen[bytes] | None = None
    done = False
    start = time.perf_counter()
    try:
        with log.open("wb") as err, tqdm(
            total=out.num_frames, unit="frame", desc="video", disable=args.quiet,
            dynamic_ncols=True,
        ) as bar:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err
            )
            assert proc.stdin is not None

            def progress(current: int, total: int) -> None:
                bar.update(current - bar.n)

            try:
                out.output(proc.stdin, y4m=True, progress_update=progress)
                proc.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                # ffmpeg quit early; its own message (below) says why.
                pass
            except vs.Error as exc:
                proc.kill()
                raise CommandError(f"while rendering: {exc}") from None
            rc = proc.wait()
        if rc != 0:
            why = _ffmpeg_errors(log) or f"exit status {rc}"
            if args.audio_codec == "copy" and (
                "write header" in why or "not currently supported in container" in why
            ):
                why += (" (if IN's audio cannot be copied into this container, "
                        "try --audio-codec aac)")
            raise CommandError(f"ffmpeg failed: {why}")
        if sys.platform != "win32":  # Windows' mkstemp file has no owner-only mode
            os.chmod(tmp, output_mode(target))
        os.replace(tmp, target)
        done = True
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if not done:
            tmp.unlink(missing_ok=True)
        log.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    fps = out.fps
    print(
        f"wrote {target}: {out.num_frames} frames at {fps.numerator}/{fps.denominator} fps "
        f"({float(fps):.3f}) from {clip.num_frames} at {float(clip.fps):.3f}, "
        f"in {seconds:.1f} s ({out.num_frames / max(seconds, 1e-9):.2f} frames/s)",
        file=sys.stdout,
    )
    return 0
