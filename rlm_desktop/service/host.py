"""What the servers share (:class:`Services`) and an HTTP server in a thread (:class:`HttpServer`)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlm_desktop.errors import ServiceError
from rlm_desktop.service.activity import Activity
from rlm_desktop.service.asks import AskService
from rlm_desktop.service.chat import ChatModels
from rlm_desktop.service.reader import LibraryReader
from rlm_desktop.service.run_queue import RunQueue
from rlm_desktop.service.security import AccessPolicy, GuardMiddleware, check_listen_address
from rlm_desktop.settings import Settings

_START_TIMEOUT_S = 30.0


@dataclass
class Services:
    """The library, the ask service, plain-chat models, the run queue and the activity record."""

    library: Any
    asks: AskService
    reader: LibraryReader
    chat: ChatModels
    activity: Activity
    policy: AccessPolicy

    @classmethod
    def open(cls, *, library_path: Path | None = None, settings: Settings | None = None,
             root_spec: str | None = None, sub_spec: str | None = None, threads: int | None = None,
             chat_models: dict[str, str] | None = None, activity: Activity | None = None) -> "Services":
        """Open the library (the per-user one unless ``library_path``) and set up the services."""
        from rlm_desktop.library import Library

        settings = settings or Settings.load()
        library = Library.open(library_path)
        activity = activity or Activity()
        asks = AskService(library, settings, root_spec=root_spec, sub_spec=sub_spec, threads=threads,
                          queue=RunQueue(), activity=activity)
        return cls(library=library, asks=asks, reader=asks.reader,
                   chat=ChatModels(threads=threads, extra=chat_models), activity=activity,
                   policy=AccessPolicy.from_settings(settings))

    def close(self) -> None:
        self.asks.close()
        self.chat.close()
        self.library.close()


class HttpServer:
    """An ASGI app behind :class:`GuardMiddleware`, served by uvicorn on ``host:port``.

    :meth:`start` runs it on a background thread (the GUI, tests, benchmarks); :meth:`serve`
    blocks until Ctrl-C (the CLI). ``port`` 0 picks a free port; :attr:`url` gives the real one.
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, policy: AccessPolicy,
                 activity: Activity | None = None, name: str = "server") -> None:
        import uvicorn

        check_listen_address(host, policy)
        self.host = host
        self.name = name
        config = uvicorn.Config(GuardMiddleware(app, policy, activity), host=host, port=port, log_level="warning",
                                access_log=False, lifespan="auto", timeout_graceful_shutdown=3)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        servers = getattr(self._server, "servers", None) or []
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self._server.config.port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve(self) -> None:
        """Serve on this thread until interrupted."""
        self._server.run()

    def start(self) -> "HttpServer":
        """Serve on a background thread; returns once it listens (ServiceError if it cannot)."""
        self._thread = threading.Thread(target=self._run, name=f"rlm-{self.name}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self._server.started:
            raise ServiceError(f"The {self.name} could not listen on {self.host}:{self._server.config.port} "
                               f"(is the port in use?).")
        return self

    def _run(self) -> None:
        try:
            self._server.run()
        except SystemExit:  # uvicorn exits when it cannot bind; start() reports it
            pass

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT_S)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server.started
