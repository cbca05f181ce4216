"""Who may talk to the local servers: loopback only unless the user allows more, with a bearer token.

:class:`GuardMiddleware` wraps any ASGI app (the OpenAI-compatible one and MCP's streamable HTTP):
requests from another address are refused (403) unless remote access is allowed in Settings, and
then need ``Authorization: Bearer <token>`` (401); loopback requests naming another host or web
origin (a DNS-rebinding web page) are refused (403) unless they carry the token; bodies over the
size limit get 413. Every
refusal is a short JSON error in the OpenAI shape.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass
from typing import Any

from rlm_desktop.errors import ServiceError
from rlm_desktop.settings import Settings

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}
_DRAIN_FACTOR = 16  # a body up to 16x the limit is read and dropped, so its client sees the 413 (not a reset)


@dataclass(frozen=True)
class AccessPolicy:
    """``allow_remote``: accept other addresses (with ``token``); ``max_request_bytes``: body limit."""

    allow_remote: bool = False
    token: str = ""
    max_request_bytes: int = 1_000_000

    @classmethod
    def from_settings(cls, settings: Settings) -> "AccessPolicy":
        return cls(settings.service_allow_remote, settings.service_token, settings.service_max_request_bytes)


def new_token() -> str:
    """A fresh bearer token for remote clients (the app shows it once the user allows remote access)."""
    return "rlm-" + secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1, IPv4-mapped loopback and the name localhost."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def check_listen_address(host: str, policy: AccessPolicy) -> None:
    """Refuse to listen beyond loopback unless the user allowed it and a token exists."""
    if is_loopback(host):
        return
    if not policy.allow_remote:
        raise ServiceError(f"Listening on {host} would let other devices connect: turn on 'Allow other devices' "
                           f"in Settings > Local services first (loopback 127.0.0.1 needs nothing).")
    if len(policy.token) < 16:
        raise ServiceError(f"Listening on {host} needs a bearer token: generate one in Settings > Local services.")


def error_body(message: str, code: str, kind: str = "invalid_request_error") -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": code}}).encode()


class GuardMiddleware:
    """ASGI middleware enforcing an :class:`AccessPolicy`; notes each client in ``activity``."""

    def __init__(self, app: Any, policy: AccessPolicy, activity: Any = None) -> None:
        self.app = app
        self.policy = policy
        self.activity = activity

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = (scope.get("client") or ("", 0))[0] or ""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refusal(host, headers)
        if refusal is not None:
            await _reply(send, *refusal)
            return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.policy.max_request_bytes:
            if int(length) <= _DRAIN_FACTOR * self.policy.max_request_bytes:
                await _read_body(receive, _DRAIN_FACTOR * self.policy.max_request_bytes)  # so the client reads the 413
            too_big, body = True, None
        elif scope.get("method") in {"POST", "PUT", "PATCH"}:
            body, too_big = await _read_body(receive, self.policy.max_request_bytes)
        else:
            body, too_big = None, False
        if too_big:
            await _reply(send, 413, f"Request body is over the limit of {self.policy.max_request_bytes:,} bytes.",
                         "request_too_large")
            return
        if self.activity is not None:
            self.activity.saw_client(headers.get("user-agent", "unknown client")[:80], host)
        await self.app(scope, _replay(body, receive) if body is not None else receive, send)

    def _refusal(self, host: str, headers: dict[str, str]) -> tuple[int, str, str] | None:
        if not is_loopback(host):
            if not self.policy.allow_remote:
                return 403, f"Requests from {host} are refused: this server answers this computer only.", \
                    "remote_not_allowed"
            if not self._token_ok(headers):
                return 401, "A valid bearer token is needed for requests from other devices.", "invalid_token"
        elif not self._token_ok(headers) and not (_loopback_name(headers.get("host", "localhost"))
                                                  and _loopback_name(headers.get("origin", "http://localhost"))):
            # A web page that rebinds its own host name to 127.0.0.1 must not read the library.
            return 403, "Requests naming another host or web origin are refused on loopback (DNS rebinding).", \
                "host_not_allowed"
        return None


    def _token_ok(self, headers: dict[str, str]) -> bool:
        given = headers.get("authorization", "")
        return bool(self.policy.token) and hmac.compare_digest(given.encode(), f"Bearer {self.policy.token}".encode())


def _loopback_name(value: str) -> bool:
    """True when a Host header (``name:port``) or an Origin (``scheme://name:port``) names this computer."""
    name = value.split("://", 1)[-1].split("/", 1)[0]
    if name.startswith("["):
        name = name[1:].split("]", 1)[0]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    return is_loopback(name)


async def _read_body(receive: Any, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later calls: wait for http.disconnect
    return replay


async def _reply(send: Any, status: int, message: str, code: str) -> None:
    body = error_body(message, code, "authentication_error" if status == 401 else "invalid_request_error")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
