"""A loopback stand-in for the Hugging Face hub, serving real files over HTTP on 127.0.0.1.

It answers what huggingface-hub and rlm_desktop.hub ask for:

- ``GET /api/models/{repo}/tree/{revision}``: the repo's files (path, size, oid, lfs.oid = sha256)
- ``HEAD``/``GET /{repo}/resolve/{revision}/{path}``: ``X-Repo-Commit``, ``ETag`` and
  ``X-Linked-Etag`` (the sha256), ``X-Linked-Size``, ``Content-Length``, ``Accept-Ranges``, and
  ``Range: bytes=N-`` support (206 + ``Content-Range``)
- unknown repo / file: 404 with ``X-Error-Code: RepoNotFound`` / ``EntryNotFound``;
  gated repo without ``Authorization``: 401 with ``X-Error-Code: GatedRepo``

Faults for tests: ``drop_after`` (close the connection after N body bytes, once), ``corrupt``
(flip one byte of the body, headers still announce the true sha256), ``delay`` (seconds between
64 KiB chunks). Every request is logged in ``requests`` with its Range header and body bytes sent.

Usage::

    with LoopbackHub() as hub:
        hub.add_file("org/model-GGUF", "model-Q4_K_M.gguf", path)
        os.environ["HF_ENDPOINT"] = hub.url
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_CHUNK = 64 * 1024


@dataclass
class ServedFile:
    """A file the loopback hub serves, and the faults to inject when serving it."""

    repo: str
    path: str
    source: Path | None
    data: bytes | None
    size: int
    sha256: str
    git_sha1: str
    drop_after: int | None = None       # close the connection after this many body bytes (once)
    corrupt: bool = False               # flip one byte in the middle of the body
    delay: float = 0.0                  # seconds to sleep between 64 KiB chunks

    def read(self, start: int, end: int) -> bytes:
        if self.data is not None:
            return self.data[start:end]
        with self.source.open("rb") as handle:  # type: ignore[union-attr]
            handle.seek(start)
            return handle.read(end - start)


@dataclass
class RequestRecord:
    method: str
    path: str
    range: str | None
    status: int
    body_bytes: int = 0
    authorization: bool = False


@dataclass
class LoopbackHub:
    """Start with ``start()`` (or use as a context manager); ``url`` is the endpoint to use."""

    files: dict[tuple[str, str], ServedFile] = field(default_factory=dict)
    gated: set[str] = field(default_factory=set)
    requests: list[RequestRecord] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- setup -------------------------------------------------------------------------------
    def add_file(self, repo: str, path: str, source: Path | bytes, *, drop_after: int | None = None,
                 corrupt: bool = False, delay: float = 0.0) -> ServedFile:
        """Serve ``source`` (a file path or bytes) as ``repo``/``path``."""
        data = source if isinstance(source, bytes) else None
        src = None if isinstance(source, bytes) else Path(source)
        sha = hashlib.sha256()
        size = len(data) if data is not None else src.stat().st_size  # type: ignore[union-attr]
        git = hashlib.sha1(f"blob {size}\0".encode())
        if data is not None:
            sha.update(data)
            git.update(data)
        else:
            with src.open("rb") as handle:  # type: ignore[union-attr]
                for block in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(block)
                    git.update(block)
        served = ServedFile(repo, path, src, data, size, sha.hexdigest(), git.hexdigest(),
                            drop_after, corrupt, delay)
        self.files[(repo, path)] = served
        return served

    def gate(self, repo: str) -> None:
        """Require an Authorization header for ``repo`` (401 GatedRepo without one)."""
        self.gated.add(repo)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the hub first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "LoopbackHub":
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="loopback-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "LoopbackHub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- log helpers -------------------------------------------------------------------------
    def log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def downloads(self, path: str) -> list[RequestRecord]:
        """GET requests on the resolve URL of ``path``, in order."""
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and "/resolve/" in r.path and r.path.endswith(path)]


class _Handler(BaseHTTPRequestHandler):
    hub: LoopbackHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _send_error(self, status: int, code: str, message: str, method: str) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)
        self.hub.log(RequestRecord(method, self.path, self.headers.get("Range"), status,
                                   authorization="Authorization" in self.headers))

    def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
        self._route("HEAD")

    def do_GET(self) -> None:  # noqa: N802
        self._route("GET")

    def _route(self, method: str) -> None:
        path = unquote(urlsplit(self.path).path)
        tree = re.match(r"^/api/models/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?$", path)
        if tree and method == "GET":
            return self._tree(tree.group(1))
        resolve = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
        if resolve:
            return self._resolve(method, resolve.group(1), resolve.group(3))
        self._send_error(404, "RepoNotFound", "Not found", method)

    def _repo_known(self, repo: str) -> bool:
        return any(r == repo for r, _ in self.hub.files)

    def _tree(self, repo: str) -> None:
        if not self._repo_known(repo):
            return self._send_error(404, "RepoNotFound", f"Repository {repo} not found", "GET")
        if repo in self.hub.gated and "Authorization" not in self.headers:
            return self._send_error(401, "GatedRepo", f"Access to {repo} is restricted", "GET")
        entries = [{"type": "file", "path": f.path, "size": f.size, "oid": f.git_sha1,
                    "lfs": {"oid": f.sha256, "size": f.size, "pointerSize": 134}}
                   for (r, _), f in sorted(self.hub.files.items()) if r == repo]
        entries.insert(0, {"type": "file", "path": "README.md", "size": 10, "oid": "f" * 40})
        body = json.dumps(entries).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.hub.log(RequestRecord("GET", self.path, None, 200, len(body), "Authorization" in self.headers))

    def _resolve(self, method: str, repo: str, filename: str) -> None:
        if not self._repo_known(repo):
            return self._send_error(404, "RepoNotFound", f"Repository {repo} not found", method)
        if repo in self.hub.gated and "Authorization" not in self.headers:
            return self._send_error(401, "GatedRepo", f"Access to {repo} is restricted", method)
        served = self.hub.files.get((repo, filename))
        if served is None:
            return self._send_error(404, "EntryNotFound", f"{filename} not found in {repo}", method)
        start = 0
        range_header = self.headers.get("Range")
        if range_header:
            match = re.match(r"bytes=(\d+)-$", range_header.strip())
            start = int(match.group(1)) if match else 0
            if start >= served.size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{served.size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.hub.log(RequestRecord(method, self.path, range_header, 416))
                return
        status = 206 if range_header and start else 200
        self.send_response(status)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{served.sha256}"')
        self.send_header("X-Linked-Etag", f'"{served.sha256}"')
        self.send_header("X-Linked-Size", str(served.size))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(served.size - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{served.size - 1}/{served.size}")
        self.end_headers()
        record = RequestRecord(method, self.path, range_header, status, 0, "Authorization" in self.headers)
        self.hub.log(record)
        if method == "HEAD":
            return
        self._send_body(served, start, record)

    def _send_body(self, served: ServedFile, start: int, record: RequestRecord) -> None:
        position = start
        middle = served.size // 2
        try:
            while position < served.size:
                end = min(position + _CHUNK, served.size)
                if served.drop_after is not None and end - start > served.drop_after:
                    end = start + served.drop_after
                chunk = served.read(position, end)
                if served.corrupt and position <= middle < end:
                    index = middle - position
                    chunk = chunk[:index] + bytes([chunk[index] ^ 0xFF]) + chunk[index + 1:]
                self.wfile.write(chunk)
                record.body_bytes += len(chunk)
                position = end
                if served.drop_after is not None and position - start >= served.drop_after:
                    served.drop_after = None  # drop once; the next request is served in full
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if served.delay:
                    time.sleep(served.delay)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
