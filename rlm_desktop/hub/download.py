"""Hugging Face downloads: list a repo's GGUF files, and fetch one with progress, cancel and resume.

huggingface-hub supplies the endpoint, auth headers (``HF_TOKEN`` or a stored login; never
logged), its HTTP session, error classes and file metadata (size, sha256 ETag). The transfer
itself is ours (:mod:`rlm_desktop.hub.transfer`): HTTP Range requests on the file's resolve URL
into a stable partial file (:mod:`rlm_desktop.hub.resume`), because huggingface-hub's own
``.incomplete`` files do not resume across runs (huggingface/huggingface_hub#4196). Nothing here
touches the network unless one of these functions is called, and ``HF_HUB_OFFLINE`` stops them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from rlm_desktop.errors import ChecksumMismatch, DownloadError
from rlm_desktop.hub.remote import (
    METADATA_TIMEOUT, RemoteFile, check_request, hub_endpoint, hub_headers, hub_offline, quiet_hub, resolve_url,
    translate_error,
)
from rlm_desktop.hub.resume import PartialFile, partial_key
from rlm_desktop.hub.transfer import CHUNK_SIZE, CancelFlag, DownloadProgress, ProgressCallback, Transfer

__all__ = ["CancelFlag", "DownloadProgress", "ProgressCallback", "RemoteFile", "download_file", "file_metadata",
           "hub_endpoint", "hub_offline", "list_gguf_files"]


def file_metadata(repo: str, filename: str, *, revision: str = "main", token: str | None = None) -> RemoteFile:
    """Size, sha256 and commit of one hub file (one HEAD request, no retries)."""
    check_request(repo, f"look up {filename}")
    from huggingface_hub import get_hf_file_metadata

    quiet_hub()
    endpoint = hub_endpoint()
    try:
        meta = get_hf_file_metadata(resolve_url(repo, filename, revision, endpoint), token=token or None,
                                    timeout=METADATA_TIMEOUT, endpoint=endpoint, retry_on_errors=False)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a DownloadError with its cause
        raise translate_error(exc, repo, filename, revision, token) from exc
    sha = meta.etag if meta.etag and len(meta.etag) == 64 else None
    return RemoteFile(repo, filename, meta.size, sha, revision, meta.commit_hash, meta.etag)


def list_gguf_files(repo: str, *, revision: str = "main", token: str | None = None) -> list[RemoteFile]:
    """The repo's ``.gguf`` files with sizes, sha256 and quantization labels, sorted by name.

    Uses the hub's tree API through huggingface-hub's session and headers, without its retry
    backoff, so that "no network" is reported at once rather than after ~20 s of retries.
    """
    check_request(repo, f"list the files of {repo}")
    from huggingface_hub.utils import get_session, hf_raise_for_status

    url: str | None = f"{hub_endpoint()}/api/models/{repo}/tree/{quote(revision, safe='')}"
    params: dict[str, Any] | None = {"recursive": "true", "expand": "false"}
    files: list[RemoteFile] = []
    try:
        while url:
            response = get_session().get(url, params=params, headers=hub_headers(token), timeout=METADATA_TIMEOUT)
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
        raise translate_error(exc, repo, None, revision, token) from exc
    return sorted(files, key=lambda f: f.filename)


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
    transfer = Transfer(remote, partial, token, on_progress, cancel, retries, chunk_size)
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
