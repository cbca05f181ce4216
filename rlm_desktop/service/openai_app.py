"""An OpenAI-compatible server: ``rlm:<collection>`` models answer with an RLM run, others are plain chat.

``GET /v1/models`` lists ``rlm:<collection>`` for every collection and the installed models.
``POST /v1/chat/completions`` answers the last user message; with ``"stream": true`` it sends
Server-Sent Events. RLM answers carry their citations in the text ("Sources:") and as the
structured ``citations`` field; ``rlm`` holds the run id and how the run ended. While a request
waits for its model, streamed chunks report ``rlm.queue_position``. A client that disconnects
cancels its run (which is still recorded, as cancelled).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.errors import DocumentNotFound, ModelNotFound, RequestRejected, RLMDesktopError, ServiceError
from rlm_desktop.service.asks import MODEL_PREFIX, AskOutcome, AskProgress
from rlm_desktop.service.bridge import run_blocking
from rlm_desktop.service.chat import chat_messages, last_user_message
from rlm_desktop.service.host import Services
from rlm_desktop.service.security import error_body

_KEEPALIVE_S = 1.0  # SSE comment while a run is silent, so a vanished client is noticed
_MAX_TOKENS = 4096


def create_openai_app(services: Services) -> Starlette:
    """The Starlette app; serve it with :class:`rlm_desktop.service.host.HttpServer`."""

    async def models(request: Request) -> Response:
        collections = await anyio.to_thread.run_sync(services.reader.collection_names)
        plain = await anyio.to_thread.run_sync(services.chat.names)
        data = [{"id": MODEL_PREFIX + name, "object": "model", "created": 0, "owned_by": "rlm-desktop"}
                for name in collections]
        data += [{"id": name, "object": "model", "created": 0, "owned_by": "local"} for name in plain]
        return JSONResponse({"object": "list", "data": data})

    async def chat_completions(request: Request) -> Response:
        try:
            body = _json_body(await request.body())
            call = _ChatCall.parse(body, request)
            if call.model.startswith(MODEL_PREFIX):
                collection = call.model.removeprefix(MODEL_PREFIX)
                await anyio.to_thread.run_sync(services.reader.require_collection, collection)
            else:
                await anyio.to_thread.run_sync(services.chat.get, call.model)
            work = _rlm_work(services, call) if call.model.startswith(MODEL_PREFIX) else _chat_work(services, call)
        except RLMDesktopError as exc:
            return _error(exc)
        if call.stream:
            return StreamingResponse(_stream(call, work), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        cancel = CancelToken()
        failure: RLMDesktopError | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(_cancel_on_disconnect, request, cancel)
            try:
                result = await run_blocking(work, cancel=cancel)
            except RLMDesktopError as exc:
                failure = exc
            group.cancel_scope.cancel()
        if failure is not None:
            return _error(failure)
        return JSONResponse(_completion(call, result))

    return Starlette(routes=[Route("/v1/models", models, methods=["GET"]),
                             Route("/v1/chat/completions", chat_completions, methods=["POST"])])


class _ChatCall:
    """The parts of a chat completion request this server reads."""

    def __init__(self, model: str, messages: list[dict[str, str]], stream: bool, max_tokens: int,
                 temperature: float, stop: list[str] | None, max_seconds: float | None, client: str,
                 seed: int | None = None) -> None:
        self.id = f"chatcmpl-{time.time_ns():x}"
        self.created = int(time.time())
        self.model, self.messages, self.stream = model, messages, stream
        self.max_tokens, self.temperature, self.stop = max_tokens, temperature, stop
        self.max_seconds, self.client, self.seed = max_seconds, client, seed

    @classmethod
    def parse(cls, body: Any, request: Request) -> "_ChatCall":
        if not isinstance(body, dict):
            raise RequestRejected("The request body must be a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model.strip():
            raise RequestRejected("'model' is required: rlm:<collection> or an installed model name.")
        messages = chat_messages(body.get("messages"))
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens")) or 1024
        temperature = body.get("temperature", 0.0)
        stop = body.get("stop")
        max_seconds = body.get("max_seconds")
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
            raise RequestRejected("seed must be an integer from 0 to 4294967295.")
        if not isinstance(max_tokens, int) or not 1 <= max_tokens <= _MAX_TOKENS:
            raise RequestRejected(f"max_tokens must be an integer from 1 to {_MAX_TOKENS}.")
        if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
            raise RequestRejected("temperature must be a number from 0 to 2.")
        if isinstance(stop, str):
            stop = [stop]
        if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
            raise RequestRejected("stop must be a string or a list of strings.")
        if max_seconds is not None and (not isinstance(max_seconds, (int, float)) or max_seconds <= 0):
            raise RequestRejected("max_seconds must be a positive number.")
        user = body.get("user") if isinstance(body.get("user"), str) else None
        agent = request.headers.get("user-agent", "unknown client")
        client = f"serve: {user or agent}"[:100]
        return cls(model.strip(), messages, bool(body.get("stream")), max_tokens, float(temperature), stop,
                   float(max_seconds) if max_seconds is not None else None, client, seed)


def _rlm_work(services: Services, call: _ChatCall) -> Any:
    question = last_user_message(call.messages)
    collection = call.model.removeprefix(MODEL_PREFIX)

    def work(cancel: CancelToken, send: Any) -> AskOutcome:
        return services.asks.ask(question, collection, client=call.client, max_seconds=call.max_seconds,
                                 cancel=cancel, on_progress=send)
    return work


def _chat_work(services: Services, call: _ChatCall) -> Any:
    def work(cancel: CancelToken, send: Any) -> Any:
        def queued(position: int) -> None:
            send(AskProgress("queued", f"Queued: {position} request(s) ahead on {call.model}", position=position))

        with services.asks.queue.slot(call.model, cancel=cancel, on_position=queued):
            return services.chat.chat(call.model, call.messages, max_tokens=call.max_tokens,
                                      temperature=call.temperature, stop=call.stop, cancel=cancel,
                                      on_token=send if call.stream else None, seed=call.seed)
    return work


def _answer_text(result: Any) -> str:
    if isinstance(result, AskOutcome):
        sources = result.sources_text()
        return result.answer + (f"\n\n{sources}" if sources else "")
    return result.text


def _finish_reason(result: Any) -> str:
    if isinstance(result, AskOutcome):
        return "stop" if result.stopped_by is None else "length"
    return "length" if result.finish_reason == "length" else "stop"


def _rlm_fields(result: Any) -> dict[str, Any]:
    if not isinstance(result, AskOutcome):
        return {}
    return {"citations": result.citations,
            "rlm": {"run_id": result.run_id, "collection": result.collection, "stopped_by": result.stopped_by,
                    "iterations": result.iterations, "sub_calls": result.sub_calls, "seconds": result.seconds}}


def _completion(call: _ChatCall, result: Any) -> dict[str, Any]:
    usage = None
    if not isinstance(result, AskOutcome):
        usage = {"prompt_tokens": result.usage.prompt_tokens, "completion_tokens": result.usage.completion_tokens,
                 "total_tokens": result.usage.total_tokens}
    return {"id": call.id, "object": "chat.completion", "created": call.created, "model": call.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": _answer_text(result)},
                         "finish_reason": _finish_reason(result)}],
            "usage": usage, **_rlm_fields(result)}


async def _stream(call: _ChatCall, work: Any) -> AsyncIterator[str]:
    """SSE chunks: role, queue/progress notes (``rlm``), content, a last chunk with citations, [DONE]."""
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def on_update(update: Any) -> None:
        await events.put(("update", update))

    async def run() -> None:
        try:
            await events.put(("result", await run_blocking(work, on_update)))
        except RLMDesktopError as exc:
            await events.put(("error", exc))
        except Exception as exc:  # a bug: tell the client instead of leaving the stream open
            await events.put(("error", ServiceError(f"Unexpected error: {type(exc).__name__}: {exc}")))

    task = asyncio.ensure_future(run())
    streamed = False
    try:
        yield _sse(_chunk(call, {"role": "assistant", "content": ""}))
        while True:
            try:
                kind, value = await asyncio.wait_for(events.get(), _KEEPALIVE_S)
            except asyncio.TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if kind == "update" and isinstance(value, AskProgress):
                yield _sse(_chunk(call, None, rlm={"stage": value.stage, "message": value.message,
                                                   "queue_position": value.position, "step": value.step}))
            elif kind == "update":  # a token of a plain chat
                streamed = True
                yield _sse(_chunk(call, {"content": value}))
            elif kind == "error":
                yield _sse(json.loads(error_body(str(value), getattr(value, "code", "server_error"))))
                break
            else:
                if not streamed:
                    yield _sse(_chunk(call, {"content": _answer_text(value)}))
                yield _sse(_chunk(call, {}, finish_reason=_finish_reason(value), **_rlm_fields(value)))
                break
        yield "data: [DONE]\n\n"
    finally:
        if not task.done():
            task.cancel()  # the client went away: run_blocking cancels the run and waits for it
            with anyio.CancelScope(shield=True):
                await asyncio.gather(task, return_exceptions=True)


def _chunk(call: _ChatCall, delta: dict[str, Any] | None, finish_reason: str | None = None,
           **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    return {"id": call.id, "object": "chat.completion.chunk", "created": call.created, "model": call.model,
            "choices": choices, **extra}


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _cancel_on_disconnect(request: Request, cancel: CancelToken) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            cancel.cancel()
            return


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestRejected(f"The request body is not valid JSON: {exc}", code="invalid_json") from None


def _error(exc: RLMDesktopError) -> Response:
    if isinstance(exc, RequestRejected):
        status, code = exc.status, exc.code
    elif isinstance(exc, (DocumentNotFound, ModelNotFound)):
        status, code = 404, "model_not_found"
    else:
        status, code = 500, "server_error"
    kind = "invalid_request_error" if status < 500 else "server_error"
    return Response(error_body(str(exc), code, kind), status_code=status, media_type="application/json")
