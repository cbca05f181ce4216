"""The transfer: HTTP Range requests on a resolve URL into a stable partial file.

One GET runs in a worker thread and hands chunks to the caller's thread, which writes them
and feeds the checksum; so a cancel is seen within ``POLL_INTERVAL`` even when the network is
stalled, and the partial file on disk is always a clean prefix of the remote file. Broken
connections are resumed from the partial's length (``retries`` times without progress).
"""

from __future__ import annotations

import errno
import queue
import re
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from rlm_desktop.errors import DownloadCancelled, DownloadError
from rlm_desktop.hub.remote import METADATA_TIMEOUT, RemoteFile, hub_headers, translate_error
from rlm_desktop.hub.resume import PartialFile, PartialState, Verifier

CHUNK_SIZE = 256 * 1024
DISK_MARGIN = 64 * 2**20           # keep this much free beyond the file itself
READ_TIMEOUT = 60.0                # a connection silent this long is given up (and retried)
POLL_INTERVAL = 0.2                # how often a waiting download looks at its cancel flag


class CancelFlag(Protocol):
    """Anything with a ``cancelled`` attribute, e.g. ``rlm_desktop.backends.CancelToken``."""

    @property
    def cancelled(self) -> bool: ...


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


class Transfer:
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
        check_disk_space(self.partial.data.parent, (self.remote.size or 0) - offset, self.remote.filename)
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
                error = str(exc) if isinstance(exc, _Retryable) else translate_error(
                    exc, self.remote.repo, self.remote.filename, self.remote.revision, self.token)
                attempts = 0 if offset > before else attempts + 1
                if self.retries <= 0 or attempts > self.retries:
                    raise DownloadError(f"{error} {kept(offset, self.remote)}") from exc
                self._pause(min(2.0**attempts, 10.0), offset)
        self.report(offset, "downloading", force=True)
        if self.remote.size is not None and offset != self.remote.size:
            raise DownloadError(f"{self.remote.filename}: received {offset} bytes, expected {self.remote.size}.")

    def _pause(self, seconds: float, offset: int) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.cancelled():
                raise DownloadCancelled(f"Download of {self.remote.filename} cancelled; {kept(offset, self.remote)}")
            time.sleep(POLL_INTERVAL)

    def _attempt(self, url: str, offset: int) -> int:
        """One GET from ``offset`` until the server ends the body; returns the new offset."""
        from huggingface_hub.utils import hf_raise_for_status

        headers = hub_headers(self.token)
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
                            f"Download of {self.remote.filename} cancelled; {kept(offset, self.remote)}")
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


def kept(offset: int, remote: RemoteFile) -> str:
    if not offset:
        return "nothing was kept."
    total = f" of {remote.size / 2**20:.0f} MiB" if remote.size else ""
    return f"{offset / 2**20:.0f} MiB{total} kept; pull again to resume."


def check_disk_space(directory: Path, needed: int, filename: str) -> None:
    free = shutil.disk_usage(directory).free
    if needed > 0 and needed + DISK_MARGIN > free:
        raise DownloadError(f"Not enough disk space for {filename}: needs {needed / 2**30:.2f} GiB more, "
                            f"{free / 2**30:.2f} GiB free in {directory}.")


def _disk_error(exc: OSError, remote: RemoteFile, offset: int, directory: Path) -> DownloadError:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return DownloadError(f"Disk full while downloading {remote.filename} into {directory}; "
                             f"free some space, then pull again to resume ({kept(offset, remote)})")
    return DownloadError(f"Could not write {remote.filename} into {directory}: {exc.strerror or exc}")
