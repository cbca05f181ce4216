"""Downloads against a real HTTP server on 127.0.0.1 serving the real SmolLM2 GGUF file."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from pathlib import Path

import pytest

from rlm_desktop.errors import ChecksumMismatch, DownloadCancelled, DownloadError
from rlm_desktop.hub import remote, transfer
from rlm_desktop.hub.download import download_file, list_gguf_files
from rlm_desktop.hub.local import ModelRegistry
from rlm_desktop.hub.pull import pull_model

REPO = "test-org/SmolLM2-135M-Instruct-GGUF"
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Flag:
    def __init__(self) -> None:
        self.cancelled = False


def test_list_gguf_files(loopback_hub, smollm2_path: Path) -> None:
    served = loopback_hub.add_file(REPO, FILE, smollm2_path)
    loopback_hub.add_file(REPO, "notes.txt", b"not a model")
    files = list_gguf_files(REPO)
    assert [f.filename for f in files] == [FILE]
    assert files[0].size == served.size
    assert files[0].sha256 == served.sha256
    assert files[0].quantization == "Q4_1"


def test_full_pull_verifies_and_registers(loopback_hub, smollm2_path: Path, tmp_path: Path) -> None:
    served = loopback_hub.add_file(REPO, FILE, smollm2_path)
    reports = []
    model = pull_model(REPO, FILE, registry=ModelRegistry(tmp_path), on_progress=reports.append)
    assert model.path.is_file() and sha256_of(model.path) == served.sha256
    assert model.sha256 == served.sha256 and model.architecture == "llama" and model.source == "download"
    assert ModelRegistry(tmp_path).get(model.name) is not None
    assert reports[-1].phase == "done" and reports[-1].done == served.size
    assert not list((tmp_path / ".partial").iterdir())
    gets = loopback_hub.downloads(FILE)
    assert len(gets) == 1 and gets[0].range is None and gets[0].body_bytes == served.size
    # Pulling again is a no-op: one HEAD, no body.
    assert pull_model(REPO, FILE, registry=ModelRegistry(tmp_path)).path == model.path
    assert len(loopback_hub.downloads(FILE)) == 1


def test_dropped_connection_resumes_on_the_next_pull(loopback_hub, smollm2_path: Path, tmp_path: Path) -> None:
    served = loopback_hub.add_file(REPO, FILE, smollm2_path, drop_after=served_half(smollm2_path))
    with pytest.raises(DownloadError, match="kept; pull again to resume"):
        download_file(REPO, FILE, tmp_path, retries=0)
    assert not (tmp_path / FILE).exists()
    path = download_file(REPO, FILE, tmp_path, retries=0)
    assert sha256_of(path) == served.sha256
    first, second = loopback_hub.downloads(FILE)
    assert first.range is None and first.body_bytes == served.size // 2
    start = int(second.range.removeprefix("bytes=").rstrip("-"))
    assert served.size // 2 - 1024 * 1024 <= start <= served.size // 2  # resumed where it stopped
    assert second.body_bytes == served.size - start                     # only the missing half was sent
    assert second.body_bytes < 0.55 * served.size


def served_half(path: Path) -> int:
    return path.stat().st_size // 2


def test_interruption_is_retried_within_one_pull(loopback_hub, smollm2_path: Path, tmp_path: Path) -> None:
    served = loopback_hub.add_file(REPO, FILE, smollm2_path, drop_after=served_half(smollm2_path))
    path = download_file(REPO, FILE, tmp_path, retries=2)
    assert sha256_of(path) == served.sha256
    assert [r.range is not None for r in loopback_hub.downloads(FILE)] == [False, True]


def test_corrupt_body_is_rejected_and_removed(loopback_hub, smollm2_path: Path, tmp_path: Path) -> None:
    loopback_hub.add_file(REPO, FILE, smollm2_path, corrupt=True)
    with pytest.raises(ChecksumMismatch, match=FILE):
        download_file(REPO, FILE, tmp_path)
    assert not (tmp_path / FILE).exists()
    assert not list((tmp_path / ".partial").iterdir())


def test_unknown_repo_and_file_give_clear_errors(loopback_hub, smollm2_path: Path, tmp_path: Path) -> None:
    loopback_hub.add_file(REPO, FILE, smollm2_path)
    with pytest.raises(DownloadError, match="Repository nobody/nothing-GGUF not found"):
        download_file("nobody/nothing-GGUF", FILE, tmp_path)
    with pytest.raises(DownloadError, match="File missing-Q4_K_M.gguf not found in " + REPO):
        download_file(REPO, "missing-Q4_K_M.gguf", tmp_path)
    with pytest.raises(DownloadError, match="Repository nobody/nothing-GGUF not found"):
        list_gguf_files("nobody/nothing-GGUF")
    with pytest.raises(DownloadError, match="not a Hugging Face repo id"):
        download_file("no-slash", FILE, tmp_path)


def test_gated_repo_needs_a_token(loopback_hub, smollm2_path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(remote, "_has_stored_token", lambda: False)
    monkeypatch.setattr("huggingface_hub.utils._headers.get_token", lambda: None)
    loopback_hub.add_file(REPO, FILE, smollm2_path)
    loopback_hub.gate(REPO)
    with pytest.raises(DownloadError, match="gated.*token") as info:
        download_file(REPO, FILE, tmp_path)
    assert "hf_secret" not in str(info.value)
    path = download_file(REPO, FILE, tmp_path, token="hf_secret_test_token")
    assert path.is_file()
    assert all(r.authorization for r in loopback_hub.downloads(FILE))


def test_unreachable_host_is_a_clear_error(loopback_hub, tmp_path: Path, monkeypatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(DownloadError, match="Cannot reach 127.0.0.1"):
        download_file(REPO, FILE, tmp_path)
    with pytest.raises(DownloadError, match="Cannot reach 127.0.0.1"):
        list_gguf_files(REPO)


def test_offline_mode_touches_no_network(loopback_hub, smollm2_path: Path, tmp_path: Path, monkeypatch) -> None:
    loopback_hub.add_file(REPO, FILE, smollm2_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadError, match="Offline mode"):
        download_file(REPO, FILE, tmp_path)
    with pytest.raises(DownloadError, match="Offline mode"):
        list_gguf_files(REPO)
    assert loopback_hub.requests == []


def test_not_enough_disk_space(loopback_hub, smollm2_path: Path, tmp_path: Path, monkeypatch) -> None:
    loopback_hub.add_file(REPO, FILE, smollm2_path)
    monkeypatch.setattr(transfer.shutil, "disk_usage", lambda path: type("U", (), {"free": 10 * 2**20})())
    with pytest.raises(DownloadError, match="Not enough disk space"):
        download_file(REPO, FILE, tmp_path)
    assert loopback_hub.downloads(FILE) == []


@pytest.mark.slow
def test_cancel_stops_soon_and_keeps_the_partial(loopback_hub, smollm2_path: Path, tmp_path: Path) -> None:
    served = loopback_hub.add_file(REPO, FILE, smollm2_path, delay=0.02)  # about 3 MB/s
    flag, reports, outcome = Flag(), [], {}

    def run() -> None:
        try:
            download_file(REPO, FILE, tmp_path, cancel=flag, on_progress=reports.append)
        except DownloadCancelled as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    while not any(r.done > 2 * 2**20 for r in reports):
        time.sleep(0.05)
    flag.cancelled = True
    cancelled_at = time.monotonic()
    worker.join(timeout=10)
    assert not worker.is_alive()
    print(f"cancel took {time.monotonic() - cancelled_at:.2f} s")
    assert "cancelled" in str(outcome["error"])
    assert any(r.rate and r.eta for r in reports)
    kept = (tmp_path / ".partial").glob("*.part")
    kept_size = next(kept).stat().st_size
    assert 2 * 2**20 <= kept_size < served.size
    served.delay = 0.0
    path = download_file(REPO, FILE, tmp_path)  # resumes from the kept bytes
    assert sha256_of(path) == served.sha256
    assert loopback_hub.downloads(FILE)[-1].range == f"bytes={kept_size}-"
