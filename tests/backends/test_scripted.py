"""The scripted replay model used for loop tests and demos."""

from __future__ import annotations

import threading

import pytest

from rlm_desktop.backends.base import CancelToken, LanguageModel
from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.errors import BackendError, ContextOverflowError


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_replays_outputs_in_order_and_records_the_calls() -> None:
    model = ScriptedModel(["first answer", "second answer"])
    assert isinstance(model, LanguageModel)
    assert model.chat(ask("one")).text == "first answer"
    assert model.chat(ask("two"), grammar="root ::= x").text == "second answer"
    assert [call[-1]["content"] for call in model.calls] == ["one", "two"]
    assert model.options[1]["grammar"] == "root ::= x"
    assert model.remaining == 0


def test_an_exhausted_script_is_a_clear_error() -> None:
    model = ScriptedModel(["only one"], name="root-script")
    model.chat(ask("one"))
    with pytest.raises(BackendError, match="root-script.*no output left"):
        model.chat(ask("two"))


def test_a_function_answers_from_the_messages() -> None:
    model = ScriptedModel(lambda messages: messages[-1]["content"].upper())
    assert model.chat(ask("shout")).text == "SHOUT"
    assert model.remaining is None


def test_streams_pieces_that_add_up_and_counts_usage() -> None:
    pieces: list[str] = []
    completion = ScriptedModel(["Hello there, world!\n```repl\nprint(1)\n```"]).chat(ask("hi"), on_token=pieces.append)
    assert "".join(pieces) == completion.text
    assert completion.usage.completion_tokens == len(pieces) > 3
    assert completion.usage.prompt_tokens == 1


def test_stop_strings_and_max_tokens_are_honoured() -> None:
    model = ScriptedModel(["alpha beta STOP gamma", "one two three four"])
    stopped = model.chat(ask("x"), stop=["STOP"])
    assert (stopped.text, stopped.finish_reason) == ("alpha beta ", "stop")
    cut = model.chat(ask("x"), max_tokens=2)
    assert (cut.text, cut.finish_reason) == ("one two", "length")


def test_prompt_over_its_context_length_raises() -> None:
    model = ScriptedModel(["never"], context_length=50)
    with pytest.raises(ContextOverflowError):
        model.chat(ask("word " * 100), max_tokens=10)


def test_cancel_during_the_delay_returns_cancelled() -> None:
    model = ScriptedModel(["too late"], delay=30)
    cancel = CancelToken()
    threading.Timer(0.1, cancel.cancel).start()
    completion = model.chat(ask("x"), cancel=cancel)
    assert completion.finish_reason == "cancelled"
    assert completion.text == ""


def test_concurrent_calls_overlap() -> None:
    # Every call waits in its first on_token until all four are streaming at once.
    model = ScriptedModel(lambda messages: messages[-1]["content"], delay=0.2)
    streaming = threading.Barrier(4, timeout=30)
    results: dict[int, str] = {}

    def run(index: int) -> None:
        met: list[bool] = []

        def on_token(_: str) -> None:
            if not met:
                met.append(True)
                streaming.wait()

        results[index] = model.chat(ask(str(index)), on_token=on_token).text

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not streaming.broken
    assert results == {i: str(i) for i in range(4)}
    assert len(model.calls) == 4
