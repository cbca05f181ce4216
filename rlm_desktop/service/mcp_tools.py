"""The MCP server (official ``mcp`` SDK): read and ask a collection from Claude Desktop, IDE agents, ...

Tools: ``list_collections``, ``list_documents``, ``search``, ``read_page`` and ``ask``. ``ask`` reports
each step through MCP progress notifications (when the client sent a progress token) and stops,
still recording the run as cancelled, when the client cancels the request. No tool writes
documents: ingest stays in the app and ``rlm ingest``.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from rlm_desktop.errors import RLMDesktopError
from rlm_desktop.service.asks import AskProgress
from rlm_desktop.service.bridge import run_blocking
from rlm_desktop.service.host import Services

INSTRUCTIONS = ("Ask questions of the user's document collections, stored offline by rlm-desktop. `ask` runs a "
                "Recursive Language Model over a whole collection and returns the answer with citations "
                "(document, page, quote); `search` and `read_page` read the documents directly.")


def create_mcp_server(services: Services, *, transport: str = "stdio") -> MCPServer:
    """An MCPServer whose tools read ``services``' library and run asks on its models."""
    server = MCPServer("rlm-desktop", instructions=INSTRUCTIONS, log_level="WARNING")

    async def blocking(fn: Any, *args: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except RLMDesktopError as exc:
            raise ToolError(str(exc)) from None

    @server.tool()
    async def list_collections(ctx: Context) -> list[dict[str, Any]]:
        """The collections in the library: name, number of documents, characters."""
        _note_client(services, ctx, transport)
        return await blocking(services.reader.collections)

    @server.tool()
    async def list_documents(collection: str, ctx: Context) -> list[dict[str, Any]]:
        """The documents of a collection: id, name, pages, characters, format."""
        _note_client(services, ctx, transport)
        return await blocking(services.reader.documents, collection)

    @server.tool()
    async def search(collection: str, query: str, ctx: Context, k: int = 10) -> list[dict[str, Any]]:
        """Full-text search (bm25) over a collection's pages: document, page, snippet, score."""
        _note_client(services, ctx, transport)
        return await blocking(services.reader.search, collection, query, k)

    @server.tool()
    async def read_page(document: str, page: int, ctx: Context) -> dict[str, Any]:
        """The text of one page (1-based) of a document, given by id or file name."""
        _note_client(services, ctx, transport)
        return await blocking(services.reader.read_page, document, page)

    @server.tool()
    async def ask(question: str, collection: str, ctx: Context, max_seconds: float | None = None) -> dict[str, Any]:
        """Answer a question over a whole collection with a Recursive Language Model.

        Returns the answer, stopped_by (null when the model finished, else the guard that ended the
        run: max_seconds, max_iterations, cancelled, ...) and the citations (document, page, quote).
        """
        client = _note_client(services, ctx, transport)
        sent = 0

        async def on_update(update: AskProgress) -> None:
            nonlocal sent
            sent += 1  # progress must grow with every notification
            await ctx.report_progress(sent, None, update.message)

        def work(cancel: Any, send: Any) -> Any:
            return services.asks.ask(question, collection, client=client, max_seconds=max_seconds,
                                     cancel=cancel, on_progress=send)
        try:
            outcome = await run_blocking(work, on_update)
        except RLMDesktopError as exc:
            raise ToolError(str(exc)) from None
        return outcome.to_dict()

    return server


def _note_client(services: Services, ctx: Context, transport: str) -> str:
    """``mcp: <client name>`` (from the MCP handshake), noted in the activity record."""
    name = "unknown client"
    try:
        params = ctx.session.client_params
        info = getattr(params, "client_info", None) or getattr(params, "clientInfo", None)
        if info is not None:
            name = f"{info.name} {getattr(info, 'version', '') or ''}".strip()
    except Exception:  # the handshake data is informative only
        pass
    label = f"mcp: {name}"
    services.activity.saw_client(label, transport)
    return label
