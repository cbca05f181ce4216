"""Any OpenAI-compatible chat server (llama.cpp's server, llama-cpp-python's, vLLM, Ollama).

Streams ``/v1/chat/completions`` over server-sent events with the standard library,
so tokens reach ``on_token`` as they come and a cancel closes the connection at once.
Grammar goes in the llama.cpp ``grammar`` field when the server is known to take it.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from rlm_desktop.backends.base import CancelToken, Completion, Message, Usage
from rlm_desktop.errors import BackendError, ContextOverflowError, ModelLoadError

DEFAULT_CONTEXT = 8192  # when neither the caller nor the server says
_PROBE_TIMEOUT = 10.0
_OVERFLOW_PATTERNS = (
    # OpenAI / vLLM / llama-cpp-python: "maximum context length is 4096 tokens. However, you requested 5000 tokens"
    re.compile(r"maximum context length is (?P<ctx>\d+) tokens.*?requested (?P<prompt>\d+) tokens", re.S),
    # llama.cpp server: "request (5000 tokens) exceeds the available context size (4096 tokens)"
    re.compile(r"request \((?P<prompt>\d+) tokens\) exceeds the available context size \((?P<ctx>\d+) tokens\)"),
)


class OpenAIHTTPModel:
    """A model behind an OpenAI-compatible HTTP server. Implements ``LanguageModel``."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        context_length: int | None = None,
        timeout: float = 600,
        grammar: bool | None = None,
    ) -> None:
        """Connects once to list the server's models; ``grammar=None`` detects llama.cpp grammar support."""
        self.base_url = base_url.rstrip("/")
        self._root = self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
        parts = urlsplit(self._root)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ModelLoadError(f"Not an http(s) server address: {base_url!r}")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        models = self._get_json("/v1/models", timeout=min(timeout, _PROBE_TIMEOUT))
        listed = [entry for entry in (models or {}).get("data", []) if isinstance(entry, dict)]
        self.model = model or (str(listed[0].get("id")) if listed else "default")
        self.name = f"{self.model} @ {self._host}:{self._port or ''}".rstrip(":")
        props = self._try_get_json("/props")  # llama.cpp's own server
        self.context_length = int(context_length or _context_from(props, listed, self.model) or DEFAULT_CONTEXT)
        self.supports_grammar = grammar if grammar is not None else (props is not None or self._schema_has_grammar())
        self._count_route: str | None = None

    # --- LanguageModel -------------------------------------------------------
    def chat(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        grammar: str | None = None,
        on_token: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
        seed: int | None = None,
    ) -> Completion:
        """Stream one chat completion; cancel closes the connection within a fraction of a second.
        ``seed`` is sent as the OpenAI API's ``seed`` (servers that honour it sample reproducibly)."""
        started = time.perf_counter()
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if stop:
            body["stop"] = stop
        if seed is not None:
            body["seed"] = seed
        if grammar and self.supports_grammar:
            body["grammar"] = grammar
        if cancel is not None and cancel.cancelled:
            return Completion("", "cancelled", Usage(seconds=time.perf_counter() - started, prompt_tokens_evaluated=0))
        connection = self._connection(self.timeout)
        done = threading.Event()
        watcher = threading.Thread(target=_close_on_cancel, args=(connection, cancel, done), daemon=True)
        pieces: list[str] = []
        finish = "stop"
        usage_reported: dict[str, Any] | None = None
        events = 0
        if cancel is not None:
            watcher.start()
        try:
            response = self._send(connection, "POST", "/v1/chat/completions", body)
            if response.status != 200:
                raise self._http_error(response, prompt_chars=sum(len(m.get("content", "")) for m in messages))
            for event in _server_sent_events(response):
                events += 1
                if event.get("usage"):
                    usage_reported = event["usage"]
                for choice in event.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        pieces.append(text)
                        if on_token is not None:
                            on_token(text)
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
        except (OSError, http.client.HTTPException, ModelLoadError) as exc:
            if cancel is None or not cancel.cancelled:
                if isinstance(exc, ModelLoadError):
                    raise
                raise ModelLoadError(f"Lost the connection to {self.name} ({self._root}): {_reason(exc)}") from exc
        finally:
            done.set()
            connection.close()
        if cancel is not None and cancel.cancelled:
            finish = "cancelled"
        elif events == 0:
            # Some servers (llama-cpp-python) answer a refused streaming request with an empty
            # 200 stream; asking again without streaming brings back the real answer or error.
            return self._chat_unstreamed(body, messages, on_token, started)
        return Completion("".join(pieces), finish, self._usage(usage_reported, messages, pieces, started))

    def _chat_unstreamed(
        self, body: dict[str, Any], messages: list[Message], on_token: Callable[[str], None] | None, started: float
    ) -> Completion:
        body = {key: value for key, value in body.items() if key not in ("stream", "stream_options")}
        connection = self._connection(self.timeout)
        try:
            response = self._send(connection, "POST", "/v1/chat/completions", body)
            if response.status != 200:
                raise self._http_error(response, prompt_chars=sum(len(m.get("content", "")) for m in messages))
            answer = _read_json(response, self._root + "/v1/chat/completions")
        except (OSError, http.client.HTTPException) as exc:
            raise ModelLoadError(f"Lost the connection to {self.name} ({self._root}): {_reason(exc)}") from exc
        finally:
            connection.close()
        choice = (answer.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") or ""
        if text and on_token is not None:
            on_token(text)
        pieces = [text] if text else []
        return Completion(text, choice.get("finish_reason") or "stop", self._usage(answer.get("usage"), messages, pieces, started))

    def count_tokens(self, text: str) -> int:
        """Tokens by the server's tokenizer where it has a route for it, else about 4 characters a token."""
        routes = [self._count_route] if self._count_route else ["/extras/tokenize/count", "/tokenize"]
        for route in routes:
            payload = {"input": text} if route.startswith("/extras") else {"content": text}
            try:
                answer = self._post_json(route, payload, timeout=min(self.timeout, _PROBE_TIMEOUT))
            except BackendError:
                continue
            count = answer.get("count") if "count" in answer else len(answer.get("tokens", []))
            if isinstance(count, int):
                self._count_route = route
                return count
        return max(1, len(text) // 4) if text else 0

    def close(self) -> None:
        pass  # one connection per call: nothing held open

    def __repr__(self) -> str:
        return f"OpenAIHTTPModel({self.base_url!r}, model={self.model!r})"

    # --- HTTP ------------------------------------------------------------------
    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=timeout)

    def _send(self, connection: http.client.HTTPConnection, method: str, route: str, body: Any = None) -> http.client.HTTPResponse:
        headers = {"Accept": "application/json, text/event-stream"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            connection.request(method, self._prefix + route, body=data, headers=headers)
            return connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise ModelLoadError(f"Could not reach the model server at {self._root}: {_reason(exc)}") from exc

    def _get_json(self, route: str, *, timeout: float) -> Any:
        connection = self._connection(timeout)
        try:
            response = self._send(connection, "GET", route)
            if response.status != 200:
                raise self._http_error(response)
            return _read_json(response, self._root + route)
        finally:
            connection.close()

    def _post_json(self, route: str, body: Any, *, timeout: float) -> Any:
        connection = self._connection(timeout)
        try:
            response = self._send(connection, "POST", route, body)
            if response.status != 200:
                raise self._http_error(response)
            return _read_json(response, self._root + route)
        finally:
            connection.close()

    def _try_get_json(self, route: str) -> Any | None:
        try:
            return self._get_json(route, timeout=min(self.timeout, _PROBE_TIMEOUT))
        except BackendError:
            return None

    def _schema_has_grammar(self) -> bool:
        """FastAPI servers (llama-cpp-python, vLLM) publish their request schema."""
        schema = self._try_get_json("/openapi.json")
        schemas = ((schema or {}).get("components") or {}).get("schemas") or {}
        return any(
            "ChatCompletionRequest" in name and "grammar" in (definition.get("properties") or {})
            for name, definition in schemas.items()
            if isinstance(definition, dict)
        )

    def _http_error(self, response: http.client.HTTPResponse, prompt_chars: int = 0) -> BackendError:
        raw = response.read().decode("utf-8", errors="replace")
        message = raw
        try:
            parsed = json.loads(raw)
            error = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
            message = error.get("message") or error.get("detail") or raw if isinstance(error, dict) else str(error)
        except ValueError:
            pass
        for pattern in _OVERFLOW_PATTERNS:
            match = pattern.search(str(message))
            if match:
                return ContextOverflowError(self.name, int(match["prompt"]), int(match["ctx"]))
        if response.status == 400 and "context" in str(message).lower() and "exceed" in str(message).lower():
            return ContextOverflowError(self.name, max(1, prompt_chars // 4), self.context_length)
        return BackendError(f"{self.name} answered HTTP {response.status}: {str(message)[:300]}")

    def _usage(self, reported: dict[str, Any] | None, messages: list[Message], pieces: list[str], started: float) -> Usage:
        seconds = time.perf_counter() - started
        if reported:
            prompt = int(reported.get("prompt_tokens") or 0)
            return Usage(prompt_tokens=prompt, completion_tokens=int(reported.get("completion_tokens") or 0), seconds=seconds)
        # The server did not report usage: count. Each streamed delta is about one token.
        prompt = sum(self.count_tokens(m.get("content", "")) for m in messages)
        return Usage(prompt_tokens=prompt, completion_tokens=len(pieces), seconds=seconds)


def _server_sent_events(response: http.client.HTTPResponse) -> Iterator[dict[str, Any]]:
    """The JSON payloads of an OpenAI-style event stream, until ``data: [DONE]``."""
    while True:
        line = response.readline()
        if not line:
            return
        text = line.decode("utf-8", errors="replace").strip()
        if not text.startswith("data:"):
            continue
        data = text[len("data:") :].strip()
        if data == "[DONE]":
            return
        try:
            payload = json.loads(data)
        except ValueError:
            continue
        if isinstance(payload, dict):
            if payload.get("error"):
                error = payload["error"]
                raise BackendError(f"The model server reported an error: {error.get('message', error) if isinstance(error, dict) else error}")
            yield payload


def _close_on_cancel(connection: http.client.HTTPConnection, cancel: CancelToken | None, done: threading.Event) -> None:
    """Shut the socket down when ``cancel`` fires, which ends the blocking read at once."""
    if cancel is None:
        return
    while not done.is_set():
        if cancel.wait(0.1):
            break
    while not done.is_set():  # cancelled: shut the socket as soon as there is one
        sock = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        done.wait(0.02)


def _context_from(props: Any, listed: list[dict[str, Any]], model: str) -> int | None:
    if isinstance(props, dict):
        settings = props.get("default_generation_settings") or {}
        n_ctx = settings.get("n_ctx") or props.get("n_ctx")
        if isinstance(n_ctx, int) and n_ctx > 0:
            return n_ctx
    for entry in listed:
        if entry.get("id") != model:
            continue
        for value in (entry.get("max_model_len"), (entry.get("meta") or {}).get("n_ctx_train")):
            if isinstance(value, int) and value > 0:
                return value
    return None


def _read_json(response: http.client.HTTPResponse, url: str) -> Any:
    raw = response.read()
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BackendError(f"The model server at {url} did not answer with JSON.") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    return str(exc) or type(exc).__name__
