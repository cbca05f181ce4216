"""The servers the desktop app runs (Settings > Local services): start and stop each, one shared library."""

from __future__ import annotations

import threading
from pathlib import Path

from rlm_desktop.errors import ServiceError
from rlm_desktop.service.activity import Activity
from rlm_desktop.service.host import HttpServer, Services
from rlm_desktop.service.security import AccessPolicy
from rlm_desktop.settings import Settings

OPENAI = "openai"
MCP = "mcp"
KINDS = (OPENAI, MCP)


class LocalServices:
    """Starts ``openai`` (OpenAI-compatible, /v1) and ``mcp`` (streamable HTTP, /mcp) servers on demand.

    Both share one :class:`Services` (library connection, loaded models, run queue, activity), opened
    with the first server and closed with the last. Listens on 127.0.0.1 unless the settings allow
    other devices (then on every interface, with the bearer token). Blocking: call from a worker thread.
    """

    def __init__(self, settings: Settings, *, library_path: Path | None = None, root_spec: str | None = None,
                 sub_spec: str | None = None) -> None:
        self.settings = settings
        self.library_path = library_path
        self.root_spec = root_spec
        self.sub_spec = sub_spec
        self.activity = Activity()
        self._lock = threading.Lock()
        self._services: Services | None = None
        self._servers: dict[str, HttpServer] = {}

    def start(self, kind: str, port: int | None = None) -> str:
        """Start server ``kind`` (``openai`` or ``mcp``); returns its URL. Already running: its URL."""
        if kind not in KINDS:
            raise ServiceError(f"No local service named {kind!r}.")
        with self._lock:
            if kind in self._servers:
                return self.url(kind) or ""
            if self._services is None:
                self._services = Services.open(library_path=self.library_path, settings=self.settings,
                                               root_spec=self.root_spec, sub_spec=self.sub_spec,
                                               activity=self.activity)
            services = self._services
            policy = AccessPolicy.from_settings(self.settings)
            services.policy = policy
            host = "0.0.0.0" if self.settings.service_allow_remote else "127.0.0.1"
            default_port = self.settings.serve_port if kind == OPENAI else self.settings.mcp_port
            try:
                server = HttpServer(self._app(kind, services, host), host=host,
                                    port=default_port if port is None else port, policy=policy,
                                    activity=self.activity, name=_NAMES[kind]).start()
            except BaseException:
                self._close_services_if_idle()
                raise
            self._servers[kind] = server
            return self.url(kind) or ""

    def stop(self, kind: str) -> None:
        with self._lock:
            server = self._servers.pop(kind, None)
            if server is not None:
                server.stop()
            self._close_services_if_idle()

    def url(self, kind: str) -> str | None:
        """The address clients use (``.../v1`` or ``.../mcp``), None when stopped."""
        server = self._servers.get(kind)
        if server is None:
            return None
        shown = server.url.replace("0.0.0.0", "127.0.0.1") if server.host == "0.0.0.0" else server.url
        return shown + ("/v1" if kind == OPENAI else "/mcp")

    def running(self) -> list[str]:
        return [kind for kind in KINDS if kind in self._servers]

    def close(self) -> None:
        for kind in list(self._servers):
            self.stop(kind)

    def _app(self, kind: str, services: Services, host: str) -> object:
        if kind == OPENAI:
            from rlm_desktop.service.openai_app import create_openai_app

            return create_openai_app(services)
        from rlm_desktop.service.mcp_tools import create_mcp_server

        return create_mcp_server(services, transport="http").streamable_http_app(host=host)

    def _close_services_if_idle(self) -> None:
        if not self._servers and self._services is not None:
            self._services.close()
            self._services = None


_NAMES = {OPENAI: "OpenAI-compatible server", MCP: "MCP server"}
