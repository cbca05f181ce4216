"""The OpenAI-compatible HTTP backend against a real llama-cpp-python server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from rlm_desktop.backends.base import CancelToken, LanguageModel
from rlm_desktop.backends.openai_http import OpenAIHTTPModel
from rlm_desktop.errors import ContextOverflowError, ModelLoadError

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def server_url(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` with SmolLM2, answering on a free local port."""
    port = free_port()
    log = (tmp_path_factory.mktemp("llama_server") / "server.log").open("w")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(url + "/v1/models", timeout=2) as response:
                    json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not answer within 120 s; see {log.name}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def served_model(server_url: str) -> OpenAIHTTPModel:
    return OpenAIHTTPModel(server_url + "/v1", context_length=4096)


def test_implements_the_protocol_and_detects_grammar_support(served_model: OpenAIHTTPModel) -> None:
    assert isinstance(served_model, LanguageModel)
    assert served_model.supports_grammar  # llama-cpp-python's request schema has a grammar field
    assert served_model.count_tokens("The capital of France is Paris.") > 3


def test_base_url_works_with_or_without_v1(server_url: str) -> None:
    assert OpenAIHTTPModel(server_url).model == OpenAIHTTPModel(server_url + "/v1/").model


def test_chat_answers_with_usage(served_model: OpenAIHTTPModel) -> None:
    completion = served_model.chat(ask("What is the capital of France? Answer in one word."), max_tokens=30)
    assert "Paris" in completion.text
    assert completion.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 10
    assert 0 < completion.usage.completion_tokens <= 30


def test_streams_tokens_that_add_up_to_the_text(served_model: OpenAIHTTPModel) -> None:
    pieces: list[str] = []
    completion = served_model.chat(ask("Name three colours."), max_tokens=40, on_token=pieces.append)
    assert len(pieces) > 3
    assert "".join(pieces) == completion.text


def test_a_seed_reaches_the_server_and_makes_sampling_reproducible(served_model: OpenAIHTTPModel) -> None:
    def sampled() -> str:  # from the same server state each time: after the same greedy answer
        served_model.chat(ask("Name three colours."), max_tokens=8)
        return served_model.chat(ask("Write a story about a cat."), max_tokens=16, temperature=1.0, seed=7).text

    assert sampled() == sampled()


def test_grammar_is_applied_by_the_server(served_model: OpenAIHTTPModel) -> None:
    completion = served_model.chat(ask("Write me a poem about cats."), max_tokens=20, grammar='root ::= "yes" | "no"')
    assert completion.text in {"yes", "no"}


def test_cancel_from_another_thread_closes_the_stream(served_model: OpenAIHTTPModel) -> None:
    cancel = CancelToken()
    first_token = threading.Event()
    canceller = threading.Thread(target=lambda: first_token.wait(60) and cancel.cancel())
    canceller.start()
    completion = served_model.chat(
        ask("Write a very long story about a dragon."),
        max_tokens=2000,
        on_token=lambda _: first_token.set(),
        cancel=cancel,
    )
    canceller.join()
    assert completion.finish_reason == "cancelled"
    assert completion.usage.completion_tokens < 2000
    # The server is still usable afterwards.
    assert served_model.chat(ask("Say hi."), max_tokens=5).text


def test_context_overflow_from_the_server_is_a_typed_error(served_model: OpenAIHTTPModel) -> None:
    with pytest.raises(ContextOverflowError, match="does not fit"):
        served_model.chat(ask("word " * 5000), max_tokens=10)


def test_unreachable_server_is_a_clear_load_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(ModelLoadError, match=f"127.0.0.1:{port}.*refused"):
        OpenAIHTTPModel(f"http://127.0.0.1:{port}/v1", timeout=5)


def test_not_a_url_is_a_clear_error() -> None:
    with pytest.raises(ModelLoadError, match="Not an http"):
        OpenAIHTTPModel("ftp://example.org")
