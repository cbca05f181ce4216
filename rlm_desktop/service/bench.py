"""`rlm bench service`: what serving costs on top of an ask, and loopback request rates.

A scripted root answers every ask in one turn, so only the service is measured: the direct
ask (what `rlm ask` does once it has started) against the same ask through `rlm serve`
(OpenAI-compatible, plain and streamed) and `rlm mcp` (stdio). Then ``concurrency`` loopback
clients hammer `/v1/models` and the MCP `search` tool for ``seconds`` each. The servers run
as child processes, as a user's clients would see them.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
PRICE_TURN = ("```repl\nhits = grep(r'consideration for the Shares is EUR [0-9,]+')\n"
              "cite(hits[0].document, hits[0].page, hits[0].snippet)\nFINAL('EUR 48,500,000')\n```")
QUESTION = "What is the purchase price?"


def run(*, asks: int = 20, seconds: float = 3.0, concurrency: int = 4, echo: IO[str] | None = None,
        cli_ask: Callable[[list[str]], None] | None = None) -> Iterator[str]:
    """Yield one printed line per figure. ``cli_ask(args)`` runs `rlm ask ARGS` in-process when given.

    Ways of asking are interleaved round by round, so a busy machine slows them alike; an
    overhead is the median of the per-round differences against the direct ask.
    """
    from rlm_desktop.library import Library
    from rlm_desktop.service.host import Services

    with tempfile.TemporaryDirectory(prefix="rlm-bench-service-") as scratch:
        folder = Path(scratch)
        library = folder / "library.db"
        with Library.open(library) as lib:
            lib.ingest([SAMPLES], collection="heron")
        spec_args = ["--library", str(library), "--root", _script(folder / "root.json", asks * 4 + 10),
                     "--sub", _script(folder / "sub.json", 0)]
        one = ["--library", str(library), "--root", _script(folder / "one.json", 1), "--sub", spec_args[5]]
        services = Services.open(library_path=library, root_spec=spec_args[3], sub_spec=spec_args[5])
        try:
            def direct() -> None:
                services.asks.ask(QUESTION, "heron", client="bench")

            with _child(["serve", "--port", "0", *spec_args], echo) as url:
                ways: dict[str, Callable[[], Any]] = {"direct": direct, "plain": lambda: _chat(url, stream=False),
                                                      "stream": lambda: _chat(url, stream=True)}
                if cli_ask is not None:
                    ways["cli"] = lambda: cli_ask([QUESTION, "--collection", "heron", *one])
                times = _interleaved(asks, ways)
                models_rate = _load(seconds, concurrency, lambda conn: _get(conn, "/v1/models"), url)
            mcp = _mcp_figures(asks, seconds, concurrency, spec_args, direct)
        finally:
            services.close()
    yield f"direct ask (scripted root, one turn, recorded in the library): median {_ms(times['direct'])}, {asks} rounds"
    if "cli" in times:
        yield f"`rlm ask` in-process (opens library and models each time): median {_ms(times['cli'])} " \
              f"({_delta(times['cli'], times['direct'])} over direct)"
    yield f"served ask, /v1/chat/completions: median {_ms(times['plain'])} ({_delta(times['plain'], times['direct'])})"
    yield f"served ask, streamed (SSE): median {_ms(times['stream'])} ({_delta(times['stream'], times['direct'])})"
    yield f"served ask, MCP stdio `ask`: median {_ms(mcp['ask'])} ({_delta(mcp['ask'], mcp['direct'])})"
    yield f"/v1/models: {models_rate:,.0f} requests/s ({concurrency} loopback clients, {seconds:g} s)"
    yield (f"MCP `search` (streamable HTTP): {mcp['search_rate']:,.0f} requests/s "
           f"({concurrency} loopback sessions, {seconds:g} s)")


def _interleaved(rounds: int, ways: dict[str, Callable[[], Any]]) -> dict[str, list[float]]:
    """Each way once to warm up, then ``rounds`` rounds of every way in turn."""
    for fn in ways.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, fn in ways.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return times


def _script(path: Path, runs: int) -> str:
    path.write_text(json.dumps([PRICE_TURN] * runs), encoding="utf-8")
    return f"scripted:{path}"


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms"


def _delta(samples: list[float], baseline: list[float]) -> str:
    """Median of the per-round differences: the overhead, with the load the rounds shared taken out."""
    return f"{statistics.median(a - b for a, b in zip(samples, baseline)) * 1000:+.1f} ms"


@contextmanager
def _child(args: list[str], echo: IO[str] | None) -> Iterator[str]:
    """`rlm ARGS` in a child process; yields the loopback URL it prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                                     os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "rlm_desktop.cli", *args], env=env, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for line in process.stderr:  # type: ignore[union-attr]
            if echo is not None:
                echo.write(line)
            if found := re.search(r"http://127\.0\.0\.1:\d+", line):
                break
        else:
            raise RuntimeError(f"rlm {args[0]} did not start")
        yield found.group(0)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _connection(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=60)


def _get(conn: http.client.HTTPConnection, path: str) -> None:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}")


def _chat(url: str, *, stream: bool) -> None:
    conn = _connection(url)
    body = json.dumps({"model": "rlm:heron", "stream": stream, "messages": [{"role": "user", "content": QUESTION}]})
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    if response.status != 200 or "48,500,000" not in text:
        raise RuntimeError(f"served ask failed: HTTP {response.status} {text[:200]}")


def _load(seconds: float, concurrency: int, request: Callable[[http.client.HTTPConnection], None], url: str) -> float:
    counts = [0] * concurrency
    stop = time.perf_counter() + seconds

    def client(i: int) -> None:
        conn = _connection(url)
        while time.perf_counter() < stop:
            request(conn)
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def _mcp_figures(asks: int, seconds: float, concurrency: int, spec_args: list[str],
                 direct: Callable[[], Any]) -> dict[str, Any]:
    """MCP ask latency over stdio, and search calls/s over streamable HTTP."""
    import anyio
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client

    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           **{k: v for k, v in os.environ.items() if k in {"RLM_DESKTOP_HOME", "HF_HUB_OFFLINE", "PATH"}}}
    params = StdioServerParameters(command=sys.executable, args=["-m", "rlm_desktop.cli", "mcp", *spec_args],
                                   env=env)

    async def ask_latency() -> dict[str, list[float]]:
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                samples: dict[str, list[float]] = {"ask": [], "direct": []}
                for i in range(asks + 1):  # the first round is the warm-up
                    started = time.perf_counter()
                    await anyio.to_thread.run_sync(direct)
                    middle = time.perf_counter()
                    result = await session.call_tool("ask", {"question": QUESTION, "collection": "heron"})
                    if result.is_error:
                        raise RuntimeError(f"MCP ask failed: {result.content}")
                    if i:
                        samples["direct"].append(middle - started)
                        samples["ask"].append(time.perf_counter() - middle)
                return samples

    async def search_rate(url: str) -> float:
        count = 0
        ready = 0
        go = anyio.Event()
        window: dict[str, float] = {}

        async def session_loop() -> None:
            nonlocal count, ready
            async with streamable_http_client(f"{url}/mcp") as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await session.initialize()  # sessions are set up before the clock starts
                    ready += 1
                    if ready == concurrency:
                        window["start"] = time.perf_counter()
                        window["stop"] = window["start"] + seconds
                        go.set()
                    await go.wait()
                    while time.perf_counter() < window["stop"]:
                        await session.call_tool("search", {"collection": "heron", "query": "purchase price", "k": 5})
                        count += 1
                    window["end"] = max(window.get("end", 0.0), time.perf_counter())

        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(session_loop)
        return count / (window["end"] - window["start"])

    figures: dict[str, Any] = dict(anyio.run(ask_latency))
    with _child(["mcp", "--http", "--port", "0", *spec_args], None) as url:
        figures["search_rate"] = anyio.run(search_rate, url)
    return figures
