"""How rlm-desktop talks to the Hugging Face hub: endpoint, offline mode, auth headers, the
description of a remote file, and short user-facing errors for everything that can go wrong.

Settings are read at call time (``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, ``HF_TOKEN``), so a face can
change them without restarting. The token goes into request headers only; it is never logged
and never appears in an error message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from rlm_desktop.errors import DownloadError
from rlm_desktop.hub.gguf_meta import quantization_from_filename, shard_of

# The app talks to the hub only when the user asks: no telemetry or agent-registry requests
# (huggingface-hub fetches one from the hub while building its User-Agent unless disabled).
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

DEFAULT_ENDPOINT = "https://huggingface.co"
METADATA_TIMEOUT = 15.0
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


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


def hub_endpoint() -> str:
    """The hub to talk to: ``HF_ENDPOINT`` or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set to a true value."""
    raw = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return raw.strip().lower() in ("1", "true", "yes", "on")


def resolve_url(repo: str, filename: str, revision: str = "main", endpoint: str | None = None) -> str:
    return f"{endpoint or hub_endpoint()}/{repo}/resolve/{quote(revision, safe='')}/{quote(filename)}"


def check_request(repo: str, what: str) -> None:
    if not _REPO_ID.match(repo):
        raise DownloadError(f"{repo!r} is not a Hugging Face repo id (expected owner/name).")
    if hub_offline():
        raise DownloadError(f"Offline mode is on (HF_HUB_OFFLINE): unset it to {what}.")


def quiet_hub() -> None:
    """Apply HF_HUB_DISABLE_TELEMETRY even if huggingface-hub was imported before this module."""
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_DISABLE_TELEMETRY", "").strip().lower() in ("1", "true", "yes", "on"):
        constants.HF_HUB_DISABLE_TELEMETRY = True


def hub_headers(token: str | None) -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    quiet_hub()
    headers = build_hf_headers(token=token or None, library_name="rlm-desktop")
    headers["Accept-Encoding"] = "identity"
    return headers


def translate_error(exc: BaseException, repo: str, filename: str | None, revision: str, token: str | None) -> DownloadError:
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
