"""The OpenAI-compatible server through the official `openai` client: models, chat, streaming, errors, cancel."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import openai
import pytest

from tests.service.conftest import wait_for

QUESTION = [{"role": "user", "content": "What is the purchase price?"}]


def client_for(server: object, **kwargs: object) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="not-needed-on-loopback", max_retries=0,
                         **kwargs)  # type: ignore[attr-defined, arg-type]


def post_raw(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_models_list_every_collection_and_the_installed_models(openai_server):
    server, _ = openai_server()
    ids = [m.id for m in client_for(server).models.list()]
    assert "rlm:heron" in ids
    assert "demo-smollm2-135m" in ids


def test_chat_completion_answers_with_citations_in_text_and_field(openai_server):
    server, services = openai_server()
    reply = client_for(server).chat.completions.create(model="rlm:heron", messages=QUESTION)
    message = reply.choices[0].message.content
    assert message.startswith("EUR 48,500,000")
    assert "Sources:\n- 01_share_purchase_agreement.md, page 1" in message
    assert reply.choices[0].finish_reason == "stop"
    extra = reply.model_extra
    assert extra["citations"][0]["document"] == "01_share_purchase_agreement.md"
    assert "EUR 48,500,000" in extra["citations"][0]["quote"]
    run = services.library.run(extra["rlm"]["run_id"])  # recorded in History like any run, with its client
    assert run.answer == "EUR 48,500,000" and run.collection == "heron"
    assert run.settings["client"].startswith("serve: ")


def test_streaming_sends_progress_then_the_answer_and_citations(openai_server):
    server, _ = openai_server()
    chunks = list(client_for(server).chat.completions.create(model="rlm:heron", messages=QUESTION, stream=True))
    notes = [c.model_extra["rlm"]["message"] for c in chunks if not c.choices and "rlm" in c.model_extra]
    assert notes[0].startswith("Run ") and "Final answer" in notes
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("EUR 48,500,000") and "Sources:" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"][0]["page"] == 1
    assert last.model_extra["rlm"]["stopped_by"] is None


def test_bad_requests_get_clear_errors_with_the_right_status(openai_server):
    from rlm_desktop.settings import Settings

    # A small body limit keeps the test light; bodies up to 16x the limit are drained so the 413 is read.
    server, services = openai_server(settings=Settings(service_max_request_bytes=4096))
    client = client_for(server)
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="rlm:no-such", messages=QUESTION)
    assert "No collection named 'no-such'" in str(missing.value) and "heron" in str(missing.value)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=QUESTION)
    with pytest.raises(openai.BadRequestError) as no_user:
        client.chat.completions.create(model="rlm:heron", messages=[{"role": "system", "content": "Hi"}])
    assert "No user message" in str(no_user.value)

    url = f"{server.url}/v1/chat/completions"
    status, body = post_raw(url, b'{"model": "rlm:heron", "messages": [')
    assert status == 400 and body["error"]["code"] == "invalid_json"
    status, body = post_raw(url, json.dumps({"model": "rlm:heron"}).encode())
    assert status == 400 and "'messages'" in body["error"]["message"]
    status, body = post_raw(url, json.dumps({"model": "rlm:heron", "messages": QUESTION, "seed": "x"}).encode())
    assert status == 400 and "seed must be an integer" in body["error"]["message"]
    limit = services.policy.max_request_bytes
    status, body = post_raw(url, json.dumps({"model": "rlm:heron", "messages": QUESTION,
                                             "padding": "x" * limit}).encode())
    assert status == 413 and body["error"]["code"] == "request_too_large"


def test_closing_a_stream_cancels_its_run(openai_server):
    server, services = openai_server(delay=60.0)  # the root would think for a minute
    stream = client_for(server).chat.completions.create(model="rlm:heron", messages=QUESTION, stream=True)
    run_id = None
    for chunk in stream:
        note = chunk.model_extra.get("rlm") if not chunk.choices else None
        if note and note["message"].startswith("Run "):
            run_id = int(note["message"].split()[1])
            break
    stream.close()
    run = wait_for(lambda: (r := services.library.run(run_id)).status == "finished" and r, what="the cancelled run")
    assert run.stopped_by == "cancelled"
    assert wait_for(lambda: services.activity.runs()[0].status == "cancelled", what="activity")


def test_a_client_that_gives_up_cancels_a_non_streamed_run(openai_server):
    server, services = openai_server(delay=60.0)
    before = {r.id for r in services.library.runs("heron")}
    with pytest.raises(openai.APITimeoutError):
        client_for(server, timeout=1.5).chat.completions.create(model="rlm:heron", messages=QUESTION)

    def new_finished_run() -> object:
        runs = [r for r in services.library.runs("heron") if r.id not in before]
        return runs[0] if runs and runs[0].status == "finished" else None
    run = wait_for(new_finished_run, what="the cancelled run")
    assert run.stopped_by == "cancelled"


def test_second_request_on_the_same_model_is_queued_with_its_position(openai_server):
    server, _ = openai_server(delay=3.0)  # the first run is still thinking when the second request comes
    client = client_for(server)
    first_started = threading.Event()
    first: list[str] = []

    def ask_first() -> None:
        for chunk in client.chat.completions.create(model="rlm:heron", messages=QUESTION, stream=True):
            if not chunk.choices and chunk.model_extra["rlm"]["message"].startswith("Run "):
                first_started.set()
            if chunk.choices and chunk.choices[0].delta.content:
                first.append(chunk.choices[0].delta.content)

    worker = threading.Thread(target=ask_first)
    worker.start()
    assert first_started.wait(30)
    chunks = list(client.chat.completions.create(model="rlm:heron", messages=QUESTION, stream=True))
    worker.join(30)
    notes = [c.model_extra["rlm"] for c in chunks if not c.choices]
    assert notes[0]["stage"] == "queued" and notes[0]["queue_position"] == 1
    assert any(n["message"].startswith("Run ") for n in notes[1:])
    assert "".join(first).startswith("EUR 48,500,000")
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("EUR 48,500,000")


@pytest.mark.slow
def test_other_model_names_are_plain_chat_with_an_installed_model(openai_server):
    server, _ = openai_server(threads=2)
    client = client_for(server)
    reply = client.chat.completions.create(model="demo-smollm2-135m", max_tokens=8,
                                           messages=[{"role": "user", "content": "Say hello."}])
    assert reply.choices[0].message.content.strip()
    assert reply.usage.completion_tokens > 0 and "citations" not in (reply.model_extra or {})
    pieces = [c.choices[0].delta.content for c in client.chat.completions.create(
        model="demo-smollm2-135m", max_tokens=8, stream=True, messages=[{"role": "user", "content": "Say hello."}])
        if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1  # tokens arrive one by one

    def sampled(seed: int) -> str:  # from the same model state each time: after the same greedy answer
        client.chat.completions.create(model="demo-smollm2-135m", max_tokens=8,
                                       messages=[{"role": "user", "content": "Say hello."}])
        return client.chat.completions.create(model="demo-smollm2-135m", max_tokens=16, temperature=1.0, seed=seed,
                                              messages=[{"role": "user", "content": "Write a story about a cat."}]
                                              ).choices[0].message.content

    assert sampled(3) == sampled(3)  # the request's seed reaches the sampler
