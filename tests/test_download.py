"""Checkpoint discovery and download, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import os
import pickle
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vsanimeinterp import checkpoints as weights
from vsanimeinterp.__main__ import main
from vsanimeinterp.checkpoints import DownloadError, download_checkpoint, find_checkpoint

BLOB = random.Random(1234).randbytes(300_000)
REPO_ROOT = Path(__file__).resolve().parents[1]


def _conformance_checkpoint() -> Path:
    folder = os.environ.get("VSANIMEINTERP_CONFORMANCE_DIR")
    base = Path(folder) if folder else REPO_ROOT.parent / "shared" / "conformance"
    return base / "anime_interp_conformance.ckpt"


@dataclass
class Served:
    """What the test server answers; tests change it before requesting."""

    url: str = ""
    payload: bytes = BLOB
    content_type: str = "application/octet-stream"
    honor_range: bool = True
    cut_after: int | None = None  # drop the connection after this many body bytes
    stall: bool = False  # send headers, then nothing until the test ends
    ranges: list[str | None] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        cfg: Served = self.server.served  # type: ignore[attr-defined]
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/file")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path != "/file":
            self.send_error(404)
            return
        requested = self.headers.get("Range")
        cfg.ranges.append(requested)
        body, status, start = cfg.payload, 200, 0
        if requested and cfg.honor_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", requested).group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        chunk = body[start:]
        self.send_response(status)
        self.send_header("Content-Type", cfg.content_type)
        self.send_header("Content-Length", str(len(chunk)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if cfg.stall:
            self.wfile.flush()
            cfg.release.wait(10)
            return
        if cfg.cut_after is not None:
            chunk = chunk[: cfg.cut_after]
        self.wfile.write(chunk)


@pytest.fixture
def served() -> Iterator[Served]:
    cfg = Served()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.served = cfg  # type: ignore[attr-defined]
    cfg.url = f"http://127.0.0.1:{httpd.server_address[1]}/file"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield cfg
    finally:
        cfg.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the real user cache and the caller's environment."""
    home = tmp_path / "cache-home"
    monkeypatch.setenv(weights.HOME_ENV, str(home))
    monkeypatch.delenv(weights.CHECKPOINT_ENV, raising=False)
    return home


def _refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/file"


def _torch_checkpoint(*, legacy: bool) -> bytes:
    import torch

    buffer = io.BytesIO()
    state = {"epoch": 0, "model_state_dict": {"module.w": torch.arange(6.0).reshape(2, 3)}}
    torch.save(state, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


# --- download -------------------------------------------------------------------------


def test_full_download(served: Served, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    dest = tmp_path / "sub" / "model.ckpt"
    assert download_checkpoint(served.url, dest, progress=False, verify=False) == dest
    assert dest.read_bytes() == BLOB
    assert not dest.with_name("model.ckpt.part").exists()
    assert served.ranges == [None]
    assert capsys.readouterr().err == ""


def test_progress_bar_goes_to_stderr(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    download_checkpoint(served.url, tmp_path / "m.ckpt", progress=True, verify=False)
    assert "m.ckpt" in capsys.readouterr().err


def test_default_destination_is_cache(served: Served, isolated_env: Path) -> None:
    path = download_checkpoint(served.url, progress=False, verify=False)
    assert path == isolated_env / weights.CHECKPOINT_FILENAME
    assert path.read_bytes() == BLOB


def test_directory_destination(served: Served, tmp_path: Path) -> None:
    path = download_checkpoint(served.url, tmp_path, progress=False, verify=False)
    assert path == tmp_path / weights.CHECKPOINT_FILENAME
    assert path.read_bytes() == BLOB


def test_redirect_is_followed(served: Served, tmp_path: Path) -> None:
    url = served.url.replace("/file", "/redirect")
    path = download_checkpoint(url, tmp_path / "m.ckpt", progress=False, verify=False)
    assert path.read_bytes() == BLOB


def test_resume_appends_after_206(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.ckpt"
    dest.with_name("m.ckpt.part").write_bytes(BLOB[:100_000])
    download_checkpoint(served.url, dest, progress=False, verify=False)
    assert served.ranges == ["bytes=100000-"]
    assert dest.read_bytes() == BLOB


def test_resume_restarts_when_range_ignored(served: Served, tmp_path: Path) -> None:
    served.honor_range = False
    dest = tmp_path / "m.ckpt"
    # Wrong bytes in the .part: appending to them instead of restarting would show.
    dest.with_name("m.ckpt.part").write_bytes(b"x" * 100_000)
    download_checkpoint(served.url, dest, progress=False, verify=False)
    assert served.ranges == ["bytes=100000-"]
    assert dest.read_bytes() == BLOB


def test_complete_part_is_finished_on_416(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.ckpt"
    dest.with_name("m.ckpt.part").write_bytes(BLOB)
    download_checkpoint(served.url, dest, progress=False, verify=False)
    assert served.ranges == [f"bytes={len(BLOB)}-"]
    assert dest.read_bytes() == BLOB


def test_oversized_part_is_discarded(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.ckpt"
    dest.with_name("m.ckpt.part").write_bytes(BLOB + b"stale tail")
    download_checkpoint(served.url, dest, progress=False, verify=False)
    assert served.ranges == [f"bytes={len(BLOB) + 10}-", None]
    assert dest.read_bytes() == BLOB


def test_connection_cut_keeps_part_then_resumes(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.ckpt"
    part = dest.with_name("m.ckpt.part")
    served.cut_after = 50_000
    with pytest.raises(DownloadError) as info:
        download_checkpoint(served.url, dest, progress=False, verify=False)
    message = str(info.value)
    assert served.url in message
    assert "50000 of 300000 bytes" in message
    assert str(part) in message and "resumes" in message
    assert weights.CHECKPOINT_ENV in message and str(dest) in message
    assert not dest.exists()
    assert part.read_bytes() == BLOB[:50_000]

    served.cut_after = None
    download_checkpoint(served.url, dest, progress=False, verify=False)
    assert served.ranges == [None, "bytes=50000-"]
    assert dest.read_bytes() == BLOB
    assert not part.exists()


def test_connection_refused(tmp_path: Path) -> None:
    url = _refused_url()
    dest = tmp_path / "m.ckpt"
    with pytest.raises(DownloadError, match=re.escape(url)) as info:
        download_checkpoint(url, dest, progress=False, verify=False, timeout=5)
    assert "nothing was saved" in str(info.value)
    assert not dest.exists()
    assert not dest.with_name("m.ckpt.part").exists()


def test_silent_server_times_out(served: Served, tmp_path: Path) -> None:
    served.stall = True
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"within 0\.3 s"):
        download_checkpoint(served.url, tmp_path / "m.ckpt", progress=False, timeout=0.3)
    assert time.monotonic() - start < 5
    assert not (tmp_path / "m.ckpt").exists()


def test_http_error_status(served: Served, tmp_path: Path) -> None:
    url = served.url.replace("/file", "/missing")
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_checkpoint(url, tmp_path / "m.ckpt", progress=False)


def test_html_answer_is_rejected(served: Served, tmp_path: Path) -> None:
    served.content_type = "text/html; charset=utf-8"
    served.payload = b"<!DOCTYPE html><html><body>Quota exceeded</body></html>"
    dest = tmp_path / "m.ckpt"
    with pytest.raises(DownloadError, match="HTML page"):
        download_checkpoint(served.url, dest, progress=False, verify=False)
    assert not dest.exists()
    assert not dest.with_name("m.ckpt.part").exists()


def test_html_answer_leaves_part_intact(served: Served, tmp_path: Path) -> None:
    served.content_type = "text/html"
    served.honor_range = False
    dest = tmp_path / "m.ckpt"
    part = dest.with_name("m.ckpt.part")
    part.write_bytes(BLOB[:1000])
    with pytest.raises(DownloadError, match="1000 bytes are kept"):
        download_checkpoint(served.url, dest, progress=False, verify=False)
    assert part.read_bytes() == BLOB[:1000]


def test_existing_file_is_kept_unless_forced(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.ckpt"
    dest.write_bytes(b"already here")
    assert download_checkpoint(served.url, dest, progress=False, verify=False) == dest
    assert dest.read_bytes() == b"already here"
    assert served.ranges == []

    dest.with_name("m.ckpt.part").write_bytes(b"junk")
    download_checkpoint(served.url, dest, progress=False, verify=False, force=True)
    assert served.ranges == [None]
    assert dest.read_bytes() == BLOB


# --- verification ---------------------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy-pickle"])
def test_verify_accepts_torch_checkpoints(served: Served, tmp_path: Path, legacy: bool) -> None:
    served.payload = _torch_checkpoint(legacy=legacy)
    path = download_checkpoint(served.url, tmp_path / "m.ckpt", progress=False)
    assert path.read_bytes() == served.payload


def test_verify_rejects_other_data(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "m.ckpt"
    with pytest.raises(DownloadError, match="not a usable checkpoint"):
        download_checkpoint(served.url, dest, progress=False)
    assert not dest.exists()
    # The bytes arrived complete, so there is nothing worth resuming.
    assert not dest.with_name("m.ckpt.part").exists()


def test_check_rejects_truncated_zip(tmp_path: Path) -> None:
    path = tmp_path / "cut.ckpt"
    data = _torch_checkpoint(legacy=False)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        weights.check_checkpoint_file(path, load=False)


def test_check_rejects_tensor_free_pickle(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "meta.ckpt"
    torch.save({"epoch": 3}, path)
    weights.check_checkpoint_file(path, load=False)
    with pytest.raises(ValueError, match="no state dict"):
        weights.check_checkpoint_file(path)


HTML_PAGE = (
    b"\n<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    b"<title>anime_interp_full.ckpt - Dropbox</title></head><body>Sign in to download"
    b"</body></html>\n"
)
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(2000)
MKV_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01" + bytes(2000)


class _Opaque:
    """A class that only arbitrary unpickling can rebuild (torch.save pickles it by name)."""


def _truncated_torch_file() -> bytes:
    data = _torch_checkpoint(legacy=False)
    return data[: len(data) // 2]


def _validators() -> list[tuple[str, object]]:
    """Both ways a checkpoint file is checked: ``download``'s and the network loader's."""
    from vsanimeinterp.network import load_state_dict

    return [("download", weights.check_checkpoint_file), ("network", load_state_dict)]


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda: HTML_PAGE, "is an HTML page, not a PyTorch file"),
        (lambda: BLOB, "not a PyTorch file (unknown format"),
        (lambda: MP4_HEAD, "is a video file (MP4/QuickTime)"),
        (lambda: MKV_HEAD, "is a video file (Matroska/WebM)"),
        (_truncated_torch_file, "is a truncated, corrupt zip archive"),
        (lambda: pickle.dumps({"w": [1.0, 2.0]}), "is a plain Python pickle"),
        (lambda: b"", "is empty"),
    ],
    ids=["html", "random-bytes", "mp4", "mkv", "truncated-zip", "plain-pickle", "empty"],
)
def test_wrong_files_are_named_by_both_validators(tmp_path: Path, make, what: str) -> None:
    from vsanimeinterp.checkpoints import CheckpointError

    path = tmp_path / weights.CHECKPOINT_FILENAME
    path.write_bytes(make())
    for name, validate in _validators():
        with pytest.raises(CheckpointError) as info:
            validate(path)
        message = str(info.value)
        assert what in message, (name, message)
        assert str(path) in message
        # The advice to load with weights_only=False is for real pickles of objects only.
        assert "weights_only" not in message, (name, message)


def test_header_check_alone_names_the_file_too(tmp_path: Path) -> None:
    path = tmp_path / "page.ckpt"
    path.write_bytes(HTML_PAGE)
    with pytest.raises(ValueError, match="an HTML page"):
        weights.check_checkpoint_file(path, load=False)


def test_pickle_of_python_objects_gets_the_weights_only_advice(tmp_path: Path) -> None:
    import torch

    from vsanimeinterp.checkpoints import CheckpointError

    path = tmp_path / "pickled.ckpt"
    torch.save({"model_state_dict": {"w": torch.zeros(2)}, "args": _Opaque()}, path)
    weights.check_checkpoint_file(path, load=False)  # a real torch.save file
    for name, validate in _validators():
        with pytest.raises(CheckpointError) as info:
            validate(path)
        message = str(info.value)
        assert "weights_only=False" in message, (name, message)
        assert "_Opaque" in message, (name, message)


def _agreement_cases() -> list[tuple[str, object, bool]]:
    import torch

    w = torch.arange(4.0)
    return [
        ("bare", {"module.w": w}, True),
        ("model_state_dict", {"model_state_dict": {"module.w": w}, "epoch": 3}, True),
        ("state_dict", {"state_dict": {"w": w}, "optimizer": {"lr": 1e-4}}, True),
        ("metadata-only", {"epoch": 3}, False),
        ("empty", {}, False),
        ("empty-wrapper", {"state_dict": {}}, False),
        ("not-tensors", {"model_state_dict": {"w": [1.0, 2.0]}}, False),
        ("int-keys", {0: w}, False),
        ("a-tensor", w, False),
    ]


def test_download_and_network_accept_the_same_files(tmp_path: Path) -> None:
    """One validator: every layout is accepted by both paths or refused by both."""
    import torch

    from vsanimeinterp.checkpoints import CheckpointError
    from vsanimeinterp.network import load_state_dict

    for label, obj, ok in _agreement_cases():
        path = tmp_path / f"{label}.ckpt"
        torch.save(obj, path)
        for name, validate in _validators():
            if ok:
                validate(path)
            else:
                with pytest.raises(CheckpointError):
                    validate(path)
                    pytest.fail(f"{name} accepted {label}")
        if ok:
            assert set(load_state_dict(path)) == {"w"}
            assert torch.equal(load_state_dict(obj)["w"], torch.arange(4.0))


@pytest.mark.parametrize("wrapper", ["model_state_dict", "state_dict"])
def test_download_keeps_wrapped_state_dicts(served: Served, tmp_path: Path, wrapper: str) -> None:
    import torch

    from vsanimeinterp.network import load_state_dict

    buffer = io.BytesIO()
    torch.save({wrapper: {"module.w": torch.ones(3)}, "epoch": 1}, buffer)
    served.payload = buffer.getvalue()
    path = download_checkpoint(served.url, tmp_path / "m.ckpt", progress=False)
    assert path.read_bytes() == served.payload
    assert torch.equal(load_state_dict(path)["w"], torch.ones(3))


def test_download_of_a_page_served_as_a_file_says_so(served: Served, tmp_path: Path) -> None:
    served.payload = HTML_PAGE  # as application/octet-stream: only the bytes tell
    with pytest.raises(DownloadError, match="is an HTML page, not a PyTorch file"):
        download_checkpoint(served.url, tmp_path / "m.ckpt", progress=False)


def test_conformance_checkpoint_round_trip(served: Served, tmp_path: Path) -> None:
    source = _conformance_checkpoint()
    if not source.is_file():
        pytest.skip(
            f"conformance checkpoint not found at {source} "
            "(set VSANIMEINTERP_CONFORMANCE_DIR to its folder)"
        )
    served.payload = source.read_bytes()
    path = download_checkpoint(served.url, tmp_path / "m.ckpt", progress=False, verify=True)
    assert path.read_bytes() == served.payload


# --- command line ---------------------------------------------------------------------


def test_cli_download(served: Served, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    dest = tmp_path / "cli.ckpt"
    argv = ["download", "--url", served.url, "--output", str(dest), "--quiet", "--no-verify"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"checkpoint saved to {dest}"
    assert err == ""
    assert dest.read_bytes() == BLOB

    assert main(argv) == 0
    assert "already present" in capsys.readouterr().out
    assert served.ranges == [None]

    assert main([*argv, "--force"]) == 0
    assert "saved to" in capsys.readouterr().out
    assert served.ranges == [None, None]


def test_cli_default_output(
    served: Served, isolated_env: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["download", "--url", served.url, "-q", "--no-verify"]) == 0
    assert str(isolated_env / weights.CHECKPOINT_FILENAME) in capsys.readouterr().out


def test_cli_failure_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    url = _refused_url()
    code = main(["download", "--url", url, "--output", str(tmp_path / "x.ckpt"), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.startswith("vsanimeinterp download: error: could not download")
    assert url in err
    assert err.count("\n") == 1 and "Traceback" not in err


def _assert_destination_error(
    code: int, capsys: pytest.CaptureFixture, served: Served | None, *parts: str
) -> None:
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.startswith("vsanimeinterp download: error: cannot write the checkpoint to ")
    assert err.count("\n") == 1 and "Traceback" not in err
    for part in parts:
        assert part in err, err
    # Found before any network access.
    assert "could not download" not in err
    if served is not None:
        assert served.ranges == []


@pytest.mark.parametrize("below", ["x.ckpt", "sub/dir/x.ckpt"], ids=["parent", "ancestor"])
def test_cli_output_under_a_regular_file(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture, below: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a directory")
    code = main(["download", "--url", served.url, "--output", str(blocker / below), "-q"])
    _assert_destination_error(code, capsys, served, f"{blocker} is a file, not a directory")
    assert blocker.read_bytes() == b"not a directory"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("with_server", [True, False], ids=["server", "no-server"])
def test_cli_output_in_an_unwritable_directory(
    served: Served, capsys: pytest.CaptureFixture, with_server: bool
) -> None:
    # Even root cannot create files in /proc, which is what the check must find out.
    url = served.url if with_server else _refused_url()
    code = main(["download", "--url", url, "--output", "/proc/anime_interp_full.ckpt", "-q"])
    _assert_destination_error(code, capsys, served, "no file can be written in /proc")


def test_cli_output_that_is_not_a_file(served: Served, capsys: pytest.CaptureFixture) -> None:
    code = main(["download", "--url", served.url, "--output", os.devnull, "-q"])
    _assert_destination_error(code, capsys, served, "exists and is not a file")


def test_writable_destination_leaves_no_probe(tmp_path: Path) -> None:
    dest = tmp_path / "new" / "dir" / "m.ckpt"
    weights.check_destination(dest)
    assert dest.parent.is_dir() and list(dest.parent.iterdir()) == []
    part = dest.with_name("m.ckpt.part")
    part.write_bytes(b"resume me")
    weights.check_destination(dest)
    assert part.read_bytes() == b"resume me"


def test_cli_help_lists_subcommands(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "download" in capsys.readouterr().out


def test_cli_requires_a_command(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vsanimeinterp", "download", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--output" in result.stdout and "--force" in result.stdout


def test_cli_download_runs_without_torch(served: Served, tmp_path: Path) -> None:
    # A fresh interpreter: this test process has torch loaded by other tests already.
    dest = tmp_path / "light.ckpt"
    script = (
        "import sys\n"
        "from vsanimeinterp.__main__ import main\n"
        f"code = main(['download', '--url', {served.url!r}, '-o', {str(dest)!r}, '-q',"
        " '--no-verify'])\n"
        "heavy = sorted({'torch', 'vapoursynth'} & set(sys.modules))\n"
        "print(code, heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 []"
    assert dest.read_bytes() == BLOB


# --- locations ------------------------------------------------------------------------


def test_find_checkpoint_precedence(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_checkpoint() is None

    cached = isolated_env / weights.CHECKPOINT_FILENAME
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"cached")
    assert find_checkpoint() == cached

    from_env = tmp_path / "env.ckpt"
    from_env.write_bytes(b"env")
    monkeypatch.setenv(weights.CHECKPOINT_ENV, str(from_env))
    assert find_checkpoint() == from_env

    explicit = tmp_path / "explicit.ckpt"
    explicit.write_bytes(b"explicit")
    assert find_checkpoint(explicit) == explicit
    assert find_checkpoint(str(explicit)) == explicit


def test_find_checkpoint_missing_explicit(tmp_path: Path) -> None:
    (tmp_path / "cache-home").mkdir()
    (tmp_path / "cache-home" / weights.CHECKPOINT_FILENAME).write_bytes(b"cached")
    with pytest.raises(FileNotFoundError, match=r"nope\.ckpt"):
        find_checkpoint(tmp_path / "nope.ckpt")


def test_find_checkpoint_missing_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(weights.CHECKPOINT_ENV, str(tmp_path / "gone.ckpt"))
    with pytest.raises(FileNotFoundError, match=weights.CHECKPOINT_ENV):
        find_checkpoint()


def test_cache_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert weights.cache_dir() == tmp_path / "cache-home"

    monkeypatch.delenv(weights.HOME_ENV)
    assert weights.cache_dir() == tmp_path / "xdg" / "vsanimeinterp"
    assert weights.default_checkpoint_path() == (
        tmp_path / "xdg" / "vsanimeinterp" / "anime_interp_full.ckpt"
    )

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert weights.cache_dir() == tmp_path / "user" / ".cache" / "vsanimeinterp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert weights.cache_dir() == tmp_path / "user" / ".cache" / "vsanimeinterp"


def test_cache_dir_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(weights.HOME_ENV)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert weights.cache_dir() == tmp_path / "local" / "vsanimeinterp"


def test_missing_checkpoint_message(isolated_env: Path) -> None:
    message = weights.missing_checkpoint_message()
    assert "python -m vsanimeinterp download" in message
    assert str(isolated_env / weights.CHECKPOINT_FILENAME) in message
    assert weights.CHECKPOINT_ENV in message
