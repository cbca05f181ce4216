"""A stable partial file for resumable downloads, and the checksum that follows it.

``<models_dir>/.partial/<key>.part`` holds the bytes received so far; ``<key>.part.json`` records
what they belong to (url, expected sha256 and size). A later run, after a crash or a restart,
continues from the partial's length when the sidecar still describes the same remote file, and
starts over otherwise. The hub's ETag is the file's sha256 for LFS files and the git blob
sha1 for small files; :class:`Verifier` checks either.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

_HEX = re.compile(r"^[0-9a-f]+$")
HASH_CHUNK = 4 * 2**20


@dataclass(frozen=True)
class PartialState:
    """What a partial file is a prefix of."""

    url: str
    repo: str
    filename: str
    revision: str
    size: int | None
    etag: str | None


class Verifier:
    """Incremental checksum of a download against the hub's ETag (sha256, or git blob sha1)."""

    def __init__(self, etag: str | None, size: int | None) -> None:
        etag = (etag or "").strip('"').lower().removeprefix("w/").strip('"')
        self.expected = etag if _HEX.match(etag or "-") else None
        self.kind = {64: "sha256", 40: "git-sha1"}.get(len(etag)) if self.expected else None
        self.size = size
        self.reset()

    def reset(self) -> None:
        if self.kind == "git-sha1":
            self._hash = hashlib.sha1(f"blob {self.size or 0}\0".encode())
        else:
            self._hash = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    @property
    def checks_content(self) -> bool:
        return self.kind is not None

    def matches(self) -> bool:
        return self.kind is None or self.hexdigest() == self.expected


class PartialFile:
    """The ``.part`` file and its JSON sidecar for one remote file."""

    def __init__(self, partial_dir: Path, key: str) -> None:
        partial_dir.mkdir(parents=True, exist_ok=True)
        self.data = partial_dir / f"{key}.part"
        self.sidecar = partial_dir / f"{key}.part.json"

    def _stored_state(self) -> PartialState | None:
        try:
            raw = json.loads(self.sidecar.read_text(encoding="utf-8"))
            return PartialState(**raw)
        except (OSError, ValueError, TypeError):
            return None

    def prepare(self, state: PartialState) -> int:
        """Bytes already downloaded for ``state`` (0 after starting over when the remote file changed)."""
        stored = self._stored_state()
        size = self.data.stat().st_size if self.data.is_file() else 0
        same = (stored is not None and stored.etag == state.etag and stored.size == state.size
                and stored.repo == state.repo and stored.filename == state.filename)
        if not same or (state.size is not None and size > state.size):
            self.data.unlink(missing_ok=True)
            size = 0
        self.sidecar.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
        if not self.data.exists():
            self.data.touch()
        return size

    def hash_existing(self, verifier: Verifier, length: int, on_bytes: Callable[[int], None] | None = None) -> None:
        """Feed the first ``length`` bytes already on disk to ``verifier`` (resuming a hash)."""
        verifier.reset()
        done = 0
        with self.data.open("rb") as handle:
            while done < length:
                block = handle.read(min(HASH_CHUNK, length - done))
                if not block:
                    break
                verifier.update(block)
                done += len(block)
                if on_bytes:
                    on_bytes(done)

    def discard(self) -> None:
        """Remove the partial and its sidecar (after a checksum mismatch or a finished download)."""
        self.data.unlink(missing_ok=True)
        self.sidecar.unlink(missing_ok=True)

    def finish(self, target: Path) -> Path:
        """Move the completed partial into place (same filesystem: atomic) and drop the sidecar."""
        target.parent.mkdir(parents=True, exist_ok=True)
        self.data.replace(target)
        self.sidecar.unlink(missing_ok=True)
        return target


def partial_key(repo: str, revision: str, filename: str) -> str:
    """A file-name-safe key for a (repo, revision, file) triple."""
    text = f"{repo}--{revision}--{filename}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)
