"""Hugging Face downloads: list a repo's GGUF files, and fetch one with progress, cancel and resume.

huggingface-hub supplies the endpoint (``HF_ENDPOINT``), auth headers (``HF_TOKEN`` or a stored
login; never logged), its HTTP session, error classes and file metadata (size, sha256 ETag).
The transfer itself is ours: HTTP Range requests on the file's resolve URL into a stable
partial file (see :mod:`rlm_desktop.hub.resume`), because huggingface-hub's own ``.incomplete``
files do not resume across runs (huggingface/huggingface_hub#4196). Nothing here touches the
network unless one of the public functions is called, and ``HF_HUB_OFFLINE`` stops them all.
"""

from __future__ import annotations

import errno
import os
import queue
import re
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol
from urllib.parse import quote, urlsplit

from rlm_desktop.errors import ChecksumMismatch, DownloadCancelled, DownloadError
from rlm_desktop.hub.gguf_meta import quantization_from_filename, shard_of
from rlm_desktop.hub.resume import PartialFile, PartialState, Verifier, partial_key

# The app talks to the hub only when the user asks: no telemetry or agent-registry requests
# (huggingface-hub fetches one from the hub while building its User-Agent unless disabled).
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK_SIZE = 256 * 1024
DISK_MARGIN = 64 * 2**20           # keep this much free beyond the file itself
METADATA_TIMEOUT = 15.0
READ_TIMEOUT = 60.0                # a connection silent this long is given up (and retried)
POLL_INTERVAL = 0.2                # how often a waiting download looks at its cancel flag
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


class CancelFlag(Protocol):
    """Anything with a ``cancelled`` attribute, e.g. ``rlm_desktop.backends.CancelToken``."""

    @property
    def cancelled(self) -> bool: ...


@dataclass(frozen=True)
class RemoteFile:
    """One file in a hub repo, as the hub describes it."""

    repo: str
    filename: str
    size: int | None
    sha256: str | None
    revision: str = "main"
    commit: str | None = None
    etag: str | None = None

    @property
    def quantization(self) -> str | None:
        return quantization_from_filename(self.filename)

    @property
    def shard(self) -> tuple[int, int] | None:
        return shard_of(self.filename)


@dataclass(frozen=True)
class DownloadProgress:
    """A progress report: bytes done of total, rate (bytes/s) and ETA (s), both None until known."""

    filename: str
    done: int
    total: int | None
    rate: float | None
    eta: float | None
    resumed_from: int
    phase: str  # "checking" (hashing the partial) | "downloading" | "verifying" | "done"

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


ProgressCallback = Callable[[DownloadProgress], None]


# --- configuration read at call time ---------------------------------------------------------
def hub_endpoint() -> str:
    """The hub to talk to: ``HF_ENDPOINT`` or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set to a true value."""
    raw = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return raw.strip().lower() in ("1", "true", "yes", "on")


def resolve_url(repo: str, filename: str, revision: str = "main", endpoint: str | None = None) -> str:
    return f"{endpoint or hub_endpoint()}/{repo}/resolve/{quote(revision, safe='')}/{quote(filename)}"


def _check_request(repo: str, what: str) -> None:
    if not _REPO_ID.match(repo):
        raise DownloadError(f"{repo!r} is not a Hugging Face repo id (expected owner/name).")
    if hub_offline():
        raise DownloadError(f"Offline mode is on (HF_HUB_OFFLINE): unset it to {what}.")


def _quiet_hub() -> None:
    """Apply HF_HUB_DISABLE_TELEMETRY even if huggingface-hub was imported before this module."""
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_DISABLE_TELEMETRY", "").strip().lower() in ("1", "true", "yes", "on"):
        constants.HF_HUB_DISABLE_TELEMETRY = True


def _headers(token: str | None) -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    _quiet_hub()
    headers = build_hf_headers(token=token or None, library_name="rlm-desktop")
    headers["Accept-Encoding"] = "identity"
    return headers


# --- error translation -----------------------------------------------------------------------
def _translate(exc: BaseException, repo: str, filename: str | None, revision: str, token: str | None) -> DownloadError:
    """Turn a huggingface-hub / HTTP exception into a short DownloadError (never the token)."""
    import httpx2
    from huggingface_hub import errors as hf

    what = f"{filename} in {repo}" if filename else repo
    host = urlsplit(hub_endpoint()).netloc or hub_endpoint()
    if isinstance(exc, hf.OfflineModeIsEnabled):
        return DownloadError(f"Offline mode is on (HF_HUB_OFFLINE): cannot fetch {what}.")
    if isinstance(exc, hf.GatedRepoError):
        if token or _has_stored_token():
            return DownloadError(f"{repo} is gated and your token has no access: accept its licence on "
                                 f"https://huggingface.co/{repo} with the same account, then retry.")
        return DownloadError(f"{repo} is gated: accept its licence on https://huggingface.co/{repo} "
                             "and give an access token (--token or HF_TOKEN).")
    if isinstance(exc, hf.RevisionNotFoundError):
        return DownloadError(f"Revision {revision!r} not found in {repo}.")
    if isinstance(exc, hf.RepositoryNotFoundError):
        return DownloadError(f"Repository {repo} not found on {host} (if it is private, give a token).")
    if isinstance(exc, hf.EntryNotFoundError):
        return DownloadError(f"File {filename} not found in {repo} (see `rlm models files {repo}`).")
    if isinstance(exc, hf.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            return DownloadError(f"Access to {what} was refused (HTTP {status}); check your token.")
        if status == 404:
            return DownloadError(f"{what} not found on {host} (HTTP 404).")
        return DownloadError(f"The hub answered HTTP {status} for {what}; try again later.")
    if isinstance(exc, httpx2.ConnectError):
        return DownloadError(f"Cannot reach {host}: no network connection or the host is unreachable "
                             f"({_reason(exc)}). Check your connection or HF_ENDPOINT.")
    if isinstance(exc, httpx2.TimeoutException):
        return DownloadError(f"{host} did not answer in time while fetching {what}; try again.")
    if isinstance(exc, (httpx2.TransportError, httpx2.StreamError)):
        return DownloadError(f"The connection to {host} broke while fetching {what} ({_reason(exc)}).")
    return DownloadError(f"Could not fetch {what}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _has_stored_token() -> bool:
    try:
        from huggingface_hub import get_token

        return get_token() is not None
    except Exception:  # noqa: BLE001 - a broken token store just means "no token"
        return False


# --- metadata and listing --------------------------------------------------------------------
def file_metadata(repo: str, filename: str, *, revision: str = "main", token: str | None = None) -> RemoteFile:
    """Size, sha256 and commit of one hub file (one HEAD request, no retries)."""
    _check_request(repo, f"look up {filename}")
    from huggingface_hub import get_hf_file_metadata

    _quiet_hub()
    endpoint = hub_endpoint()
    try:
        meta = get_hf_file_metadata(resolve_url(repo, filename, revision, endpoint), token=token or None,
                                    timeout=METADATA_TIMEOUT, endpoint=endpoint, retry_on_errors=False)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a DownloadError with its cause
        raise _translate(exc, repo, filename, revision, token) from exc
    sha = meta.etag if meta.etag and len(meta.etag) == 64 else None
    return RemoteFile(repo, filename, meta.size, sha, revision, meta.commit_hash, meta.etag)


def list_gguf_files(repo: str, *, revision: str = "main", token: str | None = None) -> list[RemoteFile]:
    """The repo's ``.gguf`` files with sizes, sha256 and quantization labels, sorted by name.

    Uses the hub's tree API through huggingface-hub's session and headers, without its retry
    backoff, so that "no network" is reported at once rather than after ~20 s of retries.
    """
    _check_request(repo, f"list the files of {repo}")
    from huggingface_hub.utils import get_session, hf_raise_for_status

    url: str | None = f"{hub_endpoint()}/api/models/{repo}/tree/{quote(revision, safe='')}"
    params: dict[str, Any] | None = {"recursive": "true", "expand": "false"}
    files: list[RemoteFile] = []
    try:
        while url:
            response = get_session().get(url, params=params, headers=_headers(token), timeout=METADATA_TIMEOUT)
            hf_raise_for_status(response)
            for entry in response.json():
                if entry.get("type") != "file" or not str(entry.get("path", "")).lower().endswith(".gguf"):
                    continue
                lfs = entry.get("lfs") or {}
                files.append(RemoteFile(repo, entry["path"], lfs.get("size", entry.get("size")),
                                        lfs.get("oid"), revision, None, lfs.get("oid") or entry.get("oid")))
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries its own query
    except DownloadError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _translate(exc, repo, None, revision, token) from exc
    return sorted(files, key=lambda f: f.filename)


# --- the transfer ------------------------------------------------------------------------------
class _Retryable(Exception):
    """A transfer problem another Range request may fix (short body, misplaced resume)."""


class _RateMeter:
    """Bytes/s over the last few seconds, and the ETA that follows."""

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> float | None:
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()
        t0, d0 = self.samples[0]
        return (done - d0) / (now - t0) if now - t0 > 0.2 else None


def _stream_worker(url: str, headers: dict[str, str], chunk_size: int, out: queue.Queue, stop: threading.Event) -> None:
    """Run one GET in a thread and hand its status, chunks and end (or exception) to ``out``.

    Reading happens here so the caller can react to a cancel within ``POLL_INTERVAL`` even when
    the network is stalled; the caller writes to disk, so the partial file is always consistent.
    """
    import httpx2
    from huggingface_hub.utils import get_session

    def put(item: tuple) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=POLL_INTERVAL)
                return True
            except queue.Full:
                continue
        return False

    try:
        timeout = httpx2.Timeout(METADATA_TIMEOUT, read=READ_TIMEOUT)
        with get_session().stream("GET", url, headers=headers, timeout=timeout, follow_redirects=True) as resp:
            if resp.status_code >= 400:
                resp.read()
                put(("error", resp))
                return
            if not put(("head", resp.status_code, dict(resp.headers))):
                return
            for chunk in resp.iter_bytes(chunk_size):
                if not chunk:
                    continue
                if not put(("data", chunk)):
                    return
        put(("end",))
    except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
        put(("exc", exc))


class _Transfer:
    """Downloads one remote file into its partial, resuming and retrying, reporting progress."""

    def __init__(self, remote: RemoteFile, partial: PartialFile, token: str | None,
                 on_progress: ProgressCallback | None, cancel: CancelFlag | None, retries: int,
                 chunk_size: int) -> None:
        self.remote, self.partial, self.token = remote, partial, token
        self.on_progress, self.cancel, self.retries, self.chunk_size = on_progress, cancel, retries, chunk_size
        self.verifier = Verifier(remote.etag, remote.size)
        self.meter = _RateMeter()
        self.resumed_from = 0
        self.offset = 0
        self.last_report = 0.0

    def report(self, done: int, phase: str, force: bool = False) -> None:
        now = time.monotonic()
        rate = self.meter.add(now, done) if phase == "downloading" else None
        if not self.on_progress or (not force and now - self.last_report < 0.1):
            return
        self.last_report = now
        total = self.remote.size
        eta = (total - done) / rate if rate and total else None
        self.on_progress(DownloadProgress(self.remote.filename, done, total, rate, eta, self.resumed_from, phase))

    def cancelled(self) -> bool:
        return bool(self.cancel is not None and self.cancel.cancelled)

    def run(self, url: str) -> None:
        state = PartialState(url, self.remote.repo, self.remote.filename, self.remote.revision,
                             self.remote.size, self.remote.etag)
        offset = self.offset = self.partial.prepare(state)
        self.resumed_from = offset
        _check_disk_space(self.partial.data.parent, (self.remote.size or 0) - offset, self.remote.filename)
        if offset:
            self.partial.hash_existing(self.verifier, offset, lambda n: self.report(n, "checking"))
        attempts = 0
        while True:
            before = offset
            try:
                offset = self._attempt(url, offset)
                if self.remote.size is None or offset >= self.remote.size:
                    break
                raise _Retryable(f"The server ended {self.remote.filename} early.")
            except DownloadCancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - network trouble mid-file: maybe retry
                offset = self.offset
                if _is_final(exc):
                    raise
                error = str(exc) if isinstance(exc, _Retryable) else _translate(
                    exc, self.remote.repo, self.remote.filename, self.remote.revision, self.token)
                attempts = 0 if offset > before else attempts + 1
                if self.retries <= 0 or attempts > self.retries:
                    raise DownloadError(f"{error} {_kept(offset, self.remote)}") from exc
                self._pause(min(2.0**attempts, 10.0), offset)
        self.report(offset, "downloading", force=True)
        if self.remote.size is not None and offset != self.remote.size:
            raise DownloadError(f"{self.remote.filename}: received {offset} bytes, expected {self.remote.size}.")

    def _pause(self, seconds: float, offset: int) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.cancelled():
                raise DownloadCancelled(f"Download of {self.remote.filename} cancelled; {_kept(offset, self.remote)}")
            time.sleep(POLL_INTERVAL)

    def _attempt(self, url: str, offset: int) -> int:
        """One GET from ``offset`` until the server ends the body; returns the new offset."""
        from huggingface_hub.utils import hf_raise_for_status

        headers = _headers(self.token)
        if offset:
            headers["Range"] = f"bytes={offset}-"
        out: queue.Queue = queue.Queue(maxsize=64)
        stop = threading.Event()
        worker = threading.Thread(target=_stream_worker, args=(url, headers, self.chunk_size, out, stop),
                                  name="rlm-download", daemon=True)
        worker.start()
        try:
            with self.partial.data.open("r+b") as handle:
                handle.seek(offset)
                handle.truncate()
                while True:
                    if self.cancelled():
                        raise DownloadCancelled(
                            f"Download of {self.remote.filename} cancelled; {_kept(offset, self.remote)}")
                    try:
                        item = out.get(timeout=POLL_INTERVAL)
                    except queue.Empty:
                        continue
                    kind = item[0]
                    if kind == "data":
                        try:
                            handle.write(item[1])
                        except OSError as exc:
                            handle.flush()
                            raise _disk_error(exc, self.remote, offset, self.partial.data.parent) from exc
                        self.verifier.update(item[1])
                        offset += len(item[1])
                        self.offset = offset
                        self.report(offset, "downloading")
                    elif kind == "head":
                        offset = self.offset = self._check_head(item[1], item[2], offset, handle)
                    elif kind == "end":
                        return offset
                    elif kind == "error":
                        response = item[1]
                        if response.status_code == 416 and self.remote.size is not None and offset >= self.remote.size:
                            return offset
                        hf_raise_for_status(response)
                        raise DownloadError(f"Unexpected HTTP {response.status_code} for {self.remote.filename}.")
                    else:  # "exc": the worker's exception, raised in this thread
                        raise item[1]
        finally:
            stop.set()

    def _check_head(self, status: int, headers: dict[str, str], offset: int, handle: Any) -> int:
        if offset and status == 200:  # the server ignored our Range: start over cleanly
            handle.seek(0)
            handle.truncate()
            self.verifier.reset()
            self.resumed_from = 0
            return 0
        if status == 206:
            content_range = headers.get("content-range", "")
            match = re.match(r"bytes (\d+)-", content_range)
            if not match or int(match.group(1)) != offset:
                raise _Retryable(f"The server resumed {self.remote.filename} at the wrong place "
                                 f"({content_range or 'no Content-Range'}).")
        return offset


def _is_final(exc: BaseException) -> bool:
    """Errors that a retry cannot fix: HTTP answers (404, 401, ...) and local disk trouble."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError):
        return exc.response is None or exc.response.status_code < 500
    return isinstance(exc, DownloadError)


def _kept(offset: int, remote: RemoteFile) -> str:
    if not offset:
        return "nothing was kept."
    total = f" of {remote.size / 2**20:.0f} MiB" if remote.size else ""
    return f"{offset / 2**20:.0f} MiB{total} kept; pull again to resume."


def _check_disk_space(directory: Path, needed: int, filename: str) -> None:
    free = shutil.disk_usage(directory).free
    if needed > 0 and needed + DISK_MARGIN > free:
        raise DownloadError(f"Not enough disk space for {filename}: needs {needed / 2**30:.2f} GiB more, "
                            f"{free / 2**30:.2f} GiB free in {directory}.")


def _disk_error(exc: OSError, remote: RemoteFile, offset: int, directory: Path) -> DownloadError:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return DownloadError(f"Disk full while downloading {remote.filename} into {directory}; "
                             f"free some space, then pull again to resume ({_kept(offset, remote)})")
    return DownloadError(f"Could not write {remote.filename} into {directory}: {exc.strerror or exc}")


def download_file(repo: str, filename: str, dest_dir: Path, *, revision: str = "main", token: str | None = None,
                  on_progress: ProgressCallback | None = None, cancel: CancelFlag | None = None,
                  retries: int = 3, chunk_size: int = CHUNK_SIZE, partial_dir: Path | None = None) -> Path:
    """Download ``filename`` from ``repo`` into ``dest_dir``, resuming any partial, verifying the sha256.

    The partial lives in ``partial_dir`` (default ``dest_dir/.partial``; same filesystem, so the
    final rename is atomic). Raises DownloadCancelled (partial kept), ChecksumMismatch (partial
    removed) or DownloadError with the cause (network, 404, gated, disk).
    """
    remote = file_metadata(repo, filename, revision=revision, token=token)
    target = Path(dest_dir) / Path(filename).name
    partial = PartialFile(partial_dir or Path(dest_dir) / ".partial", partial_key(repo, revision, filename))
    transfer = _Transfer(remote, partial, token, on_progress, cancel, retries, chunk_size)
    transfer.run(resolve_url(repo, filename, revision))
    transfer.report(remote.size or 0, "verifying", force=True)
    if not transfer.verifier.matches():
        partial.discard()
        raise ChecksumMismatch(
            f"{filename} from {repo} is corrupt: its {transfer.verifier.kind} is {transfer.verifier.hexdigest()[:16]}…, "
            f"the hub says {transfer.verifier.expected[:16]}…. The download was removed; pull again.")
    path = partial.finish(target)
    transfer.report(remote.size or path.stat().st_size, "done", force=True)
    return path
