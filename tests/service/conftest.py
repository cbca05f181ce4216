"""Fixtures for the local servers: a library with the sample data room, scripted models, servers on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"

# One root turn per run: find the price, cite it, answer. Each run consumes exactly one output.
PRICE_TURN = ("I search for the price.\n```repl\n"
              "hits = grep(r'consideration for the Shares is EUR [0-9,]+')\n"
              "print(hits[0])\n"  # printed output must never reach the MCP stdio stream
              "cite(hits[0].document, hits[0].page, hits[0].snippet)\n"
              "FINAL('EUR 48,500,000')\n```")


def scripted(path: Path, outputs: list[str], delay: float = 0.0) -> str:
    """A ``scripted:`` model spec replaying ``outputs``, waiting ``delay`` seconds before each."""
    path.write_text(json.dumps({"outputs": outputs, "delay": delay}), encoding="utf-8")
    return f"scripted:{path}"


@pytest.fixture(scope="module")
def library_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real library file with the sample data room as collection 'heron'."""
    from rlm_desktop.library import Library

    path = tmp_path_factory.mktemp("served") / "library.db"
    with Library.open(path) as library:
        report = library.ingest([SAMPLES], collection="heron")
        assert all(f.ok for f in report.files)
    return path


@pytest.fixture
def start_services(tmp_path: Path, library_path: Path) -> Iterator[Callable[..., object]]:
    """``start_services(delay=..., runs=...)``: Services over ``library_path`` with a scripted root."""
    from rlm_desktop.service.host import Services

    opened: list[Services] = []

    def start(*, delay: float = 0.0, runs: int = 20, **kwargs: object) -> Services:
        root = scripted(tmp_path / f"root{len(opened)}.json", [PRICE_TURN] * runs, delay)
        sub = scripted(tmp_path / f"sub{len(opened)}.json", [])
        services = Services.open(library_path=library_path, root_spec=root, sub_spec=sub,
                                 **kwargs)  # type: ignore[arg-type]
        opened.append(services)
        return services

    yield start
    for services in opened:
        services.close()


@pytest.fixture
def openai_server(start_services: Callable[..., object]) -> Iterator[Callable[..., object]]:
    """``openai_server(delay=...)``: the OpenAI-compatible app on 127.0.0.1 (a free port), and its Services."""
    from rlm_desktop.service.host import HttpServer
    from rlm_desktop.service.openai_app import create_openai_app

    servers: list[HttpServer] = []

    def start(**kwargs: object) -> tuple[HttpServer, object]:
        services = start_services(**kwargs)
        server = HttpServer(create_openai_app(services), policy=services.policy,  # type: ignore[attr-defined]
                            activity=services.activity).start()  # type: ignore[attr-defined]
        servers.append(server)
        return server, services

    yield start
    for server in servers:
        server.stop()


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> object:
    """Poll until ``condition()`` is truthy; fail (not a timing assertion: a bound on a hang) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")
