"""`rlm mcp` over stdio, driven by the official `mcp` client SDK: every tool, progress and cancellation."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.service.conftest import PRICE_TURN, scripted, wait_for

REPO = Path(__file__).resolve().parents[2]
ROOT_DELAY_S = 3.0  # every root turn "thinks" this long: long enough to cancel an ask in the middle


@pytest.fixture(scope="module")
def mcp_command(library_path: Path, tmp_path_factory: pytest.TempPathFactory) -> StdioServerParameters:
    scripts = tmp_path_factory.mktemp("mcp-scripts")
    root = scripted(scripts / "root.json", [PRICE_TURN] * 10, ROOT_DELAY_S)
    sub = scripted(scripts / "sub.json", [])
    env = {"PYTHONPATH": str(REPO), "RLM_DESKTOP_HOME": os.environ["RLM_DESKTOP_HOME"], "HF_HUB_OFFLINE": "1"}
    return StdioServerParameters(command=sys.executable, cwd=str(REPO), env=env,
                                 args=["-m", "rlm_desktop.cli", "mcp", "--library", str(library_path),
                                       "--root", root, "--sub", sub])


def run_session(params: StdioServerParameters, script) -> object:  # type: ignore[no-untyped-def]
    async def main() -> object:
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                return await script(session)
    return anyio.run(main)


def test_every_tool_over_stdio(mcp_command, library_path):
    async def script(session: ClientSession) -> dict:
        tools = {t.name for t in (await session.list_tools()).tools}
        progress: list[tuple[float, str | None]] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append((value, message))

        return {
            "tools": tools,
            "collections": await session.call_tool("list_collections", {}),
            "documents": await session.call_tool("list_documents", {"collection": "heron"}),
            "search": await session.call_tool("search", {"collection": "heron", "query": "purchase price", "k": 3}),
            "page": await session.call_tool("read_page", {"document": "01_share_purchase_agreement.md", "page": 1}),
            "bad_page": await session.call_tool("read_page", {"document": "01_share_purchase_agreement.md",
                                                              "page": 9}),
            "unknown": await session.call_tool("search", {"collection": "nope", "query": "price", "k": 3}),
            "ask": await session.call_tool("ask", {"question": "What is the purchase price?", "collection": "heron"},
                                           progress_callback=on_progress),
            "progress": progress,
        }

    out = run_session(mcp_command, script)
    assert out["tools"] == {"list_collections", "list_documents", "ask", "search", "read_page"}
    assert out["collections"].structured_content["result"] == [{"name": "heron", "documents": 6, "chars": 9291}]
    names = [d["name"] for d in out["documents"].structured_content["result"]]
    assert "01_share_purchase_agreement.md" in names and len(names) == 6
    hits = out["search"].structured_content["result"]
    assert hits[0]["document"] == "01_share_purchase_agreement.md" and "48,500,000" in hits[0]["snippet"]
    assert out["page"].structured_content["text"].startswith("# SHARE PURCHASE AGREEMENT")
    assert out["bad_page"].is_error and "has 1 pages, not page 9" in out["bad_page"].content[0].text
    assert out["unknown"].is_error and "No collection named 'nope'" in out["unknown"].content[0].text

    answer = out["ask"].structured_content
    assert not out["ask"].is_error
    assert answer["answer"] == "EUR 48,500,000" and answer["stopped_by"] is None
    assert answer["citations"][0]["document"] == "01_share_purchase_agreement.md"
    assert answer["citations"][0]["page"] == 1 and "48,500,000" in answer["citations"][0]["quote"]
    messages = [m for _, m in out["progress"]]
    assert messages[0] == f"Run {answer['run_id']} started" and messages[-1] == "Final answer"
    assert [v for v, _ in out["progress"]] == sorted({v for v, _ in out["progress"]})  # strictly increasing

    from rlm_desktop.library import Library

    with Library.open(library_path) as library:
        run = library.run(answer["run_id"])
    assert run.answer == "EUR 48,500,000" and run.settings["client"].startswith("mcp: ")


def test_a_cancelled_ask_stops_its_run_and_the_server_goes_on(mcp_command, library_path):
    async def script(session: ClientSession) -> dict:
        started: list[str] = []
        got_progress = anyio.Event()

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            started.append(message or "")
            got_progress.set()

        async with anyio.create_task_group() as group:
            async def ask() -> None:
                await session.call_tool("ask", {"question": "Slow question?", "collection": "heron"},
                                        progress_callback=on_progress)
                started.append("the call returned instead of being cancelled")
            group.start_soon(ask)
            await got_progress.wait()
            group.cancel_scope.cancel()  # the client SDK sends notifications/cancelled
        after = await session.call_tool("list_collections", {})
        return {"started": started, "after": after}

    out = run_session(mcp_command, script)
    assert out["started"][0].startswith("Run ")
    assert not any("returned instead" in m for m in out["started"])
    assert not out["after"].is_error
    run_id = int(out["started"][0].split()[1])

    from rlm_desktop.library import Library

    def finished() -> object:
        with Library.open(library_path) as library:
            run = library.run(run_id)
        return run if run.status == "finished" else None
    run = wait_for(finished, what="the cancelled run to be recorded")
    assert run.stopped_by == "cancelled" and run.question == "Slow question?"
