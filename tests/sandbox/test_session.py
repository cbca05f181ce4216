"""The sandbox session: persistent names, answers, limits, restarts, host functions, cancel."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psutil
import pytest

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.errors import SandboxError
from rlm_desktop.sandbox import SandboxLimits, SandboxSession

HAYSTACK = "Filler text. " * 200 + "The secret code is 4815162. " + "More filler. " * 200


@pytest.fixture(scope="module")
def repl() -> Iterator[SandboxSession]:
    with SandboxSession(HAYSTACK) as session:
        yield session


def test_names_persist_between_cells(repl: SandboxSession) -> None:
    first = repl.run("total = len(context)\ndef double(n):\n    return 2 * n")
    second = repl.run("double(total)")
    assert first.error is None and second.error is None
    assert second.output.strip() == str(2 * len(HAYSTACK))
    assert {"total", "double"} <= set(second.variables)


def test_trailing_expression_is_shown_like_a_notebook(repl: SandboxSession) -> None:
    result = repl.run("print('printed first')\n[1, 2][0] + 40")
    assert result.output == "printed first\n41\n"
    assert repl.run("x = None\nx").output == ""


def test_final_sets_the_answer(repl: SandboxSession) -> None:
    result = repl.run("import re\ncode = re.search(r'code is (\\d+)', context).group(1)\nFINAL(code)")
    assert result.final == "4815162"


def test_final_var_reads_a_variable_by_name(repl: SandboxSession) -> None:
    result = repl.run("answer = {'code': 4815162}\nFINAL_VAR('answer')")
    assert result.final == "{'code': 4815162}"


def test_final_var_with_unknown_name_is_a_clear_error(repl: SandboxSession) -> None:
    result = repl.run("FINAL_VAR('nothing_here')")
    assert result.final is None
    assert "no variable named 'nothing_here'" in result.error


def test_get_variable_returns_str_or_raises(repl: SandboxSession) -> None:
    repl.run("summary = 'forty two'")
    assert repl.get_variable("summary") == "forty two"
    with pytest.raises(SandboxError, match="no variable named 'missing'"):
        repl.get_variable("missing")


def test_tracebacks_name_cell_lines_not_host_paths(repl: SandboxSession) -> None:
    repl.run("def ratio(a, b):\n    return a / b")
    result = repl.run("x = 1\nratio(x, 0)")
    assert "line 2: ratio(x, 0)" in result.error
    assert "cell" in result.error and "in ratio: return a / b" in result.error
    assert result.error.endswith("ZeroDivisionError: division by zero")
    assert ".py" not in result.error and "/" not in result.error.replace("a / b", "")


def test_output_floods_are_capped() -> None:
    with SandboxSession("ctx", limits=SandboxLimits(output_chars=1000)) as session:
        result = session.run("for i in range(100000):\n    print('line', i)")
    assert result.error is None
    assert result.truncated
    assert result.output.startswith("line 0\nline 1\n")
    assert "[output capped at 1000 characters;" in result.output
    assert len(result.output) < 1200


def test_endless_loop_is_stopped_by_the_timeout_and_the_worker_restarts() -> None:
    with SandboxSession(HAYSTACK, limits=SandboxLimits(timeout_s=1.5, replay_s=0)) as session:  # no restore
        session.run("kept = 1")
        stopped = session.run("while True:\n    pass")
        after = session.run("len(context)")
        lost = session.run("kept")
    assert stopped.limit == "timeout" and stopped.restarted
    assert "TimeoutError" in stopped.error and "variables from earlier cells are lost" in stopped.error
    assert after.error is None and after.output.strip() == str(len(HAYSTACK))
    assert "NameError" in lost.error


@pytest.mark.slow
def test_endless_loop_is_stopped_by_the_cpu_limit() -> None:
    with SandboxSession("ctx", limits=SandboxLimits(timeout_s=60, cpu_s=1)) as session:
        stopped = session.run("n = 0\nwhile True:\n    n += 1")
        after = session.run("context")
    assert stopped.limit == "cpu" and stopped.restarted
    assert "CPU" in stopped.error
    assert after.output.strip() == "'ctx'"


def test_huge_allocation_is_stopped_by_the_memory_limit() -> None:
    with SandboxSession("ctx", limits=SandboxLimits(memory_mb=512)) as session:
        session.run("kept = 'still here'")
        stopped = session.run("big = 'x' * 10**10")
        after = session.run("kept, len(context)")
    assert stopped.limit == "memory"
    assert "MemoryError" in stopped.error and "memory limit" in stopped.error
    assert after.output.strip() == "('still here', 3)"


@pytest.mark.slow
def test_watchdog_enforces_memory_and_cpu_where_rlimits_are_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RLM_SANDBOX_WATCHDOG", "1")
    limits = SandboxLimits(memory_mb=200, cpu_s=1, timeout_s=60)
    with SandboxSession("ctx", limits=limits) as session:
        memory = session.run("grow = []\nwhile True:\n    grow.append('x' * 10**6 + str(len(grow)))")
        cpu = session.run("while True:\n    pass")
        after = session.run("context")
    assert memory.limit == "memory" and memory.restarted
    assert cpu.limit == "cpu" and cpu.restarted
    assert after.output.strip() == "'ctx'"


def test_a_crashed_worker_is_restarted_with_the_context() -> None:
    with SandboxSession("ctx") as session:
        pid = session.worker_pid
        threading.Timer(0.5, lambda: psutil.Process(pid).kill()).start()
        crashed = session.run("while True:\n    pass")
        after = session.run("context")
    assert crashed.limit == "crash" and crashed.restarted
    assert "stopped unexpectedly" in crashed.error
    assert after.output.strip() == "'ctx'"


def test_host_functions_are_served_including_batches_and_nesting() -> None:
    def nested_rlm(prompt: str) -> str:
        with SandboxSession(prompt, host_functions={"shout": str.upper}) as inner:
            return inner.run("shout(context[:5])").output.strip()

    host = {
        "llm_query": lambda prompt: f"answer to {prompt}",
        "llm_query_batched": lambda prompts: [f"answer to {p}" for p in prompts],
        "nested": nested_rlm,
    }
    with SandboxSession(["doc one", "doc two"], host_functions=host) as session:
        result = session.run(
            "single = llm_query('q0')\n"
            "many = llm_query_batched([f'q{i}' for i in range(1, 4)])\n"
            "def ask_one(d):\n"
            "    return llm_query(d)\n"
            "inner = [ask_one(d) for d in context]\n"
            "deep = nested('hello world')\n"
            "print(single, many, inner, deep)"
        )
    assert result.error is None, result.error
    assert result.output.strip() == ("answer to q0 ['answer to q1', 'answer to q2', 'answer to q3'] "
                                     "['answer to doc one', 'answer to doc two'] 'HELLO'")


def test_time_in_host_functions_does_not_count_towards_the_timeout() -> None:
    def slow_llm(prompt: str) -> str:
        time.sleep(0.8)
        return prompt[::-1]

    limits = SandboxLimits(timeout_s=1.0)
    with SandboxSession("ctx", limits=limits, host_functions={"llm_query": slow_llm}) as session:
        result = session.run("[llm_query(p) for p in ['ab', 'cd', 'ef']]")
    assert result.limit is None and result.error is None
    assert result.output.strip() == "['ba', 'dc', 'fe']"
    assert result.seconds > limits.timeout_s  # the cell really outlived the limit, in host time


def test_host_function_errors_reach_the_cell_and_the_session_goes_on() -> None:
    def failing(prompt: str) -> str:
        raise RuntimeError("model not loaded")

    with SandboxSession("ctx", host_functions={"llm_query": failing}) as session:
        result = session.run("try:\n    llm_query('x')\nexcept Exception as e:\n    print('caught:', e)")
        unhandled = session.run("llm_query('x')")
    assert result.output.strip() == "caught: llm_query() failed: RuntimeError: model not loaded"
    assert "HostFunctionError: llm_query() failed" in unhandled.error


def test_host_functions_receive_plain_data_only() -> None:
    seen: list = []
    with SandboxSession("some text", host_functions={"record": lambda v: seen.append(v) or len(seen)}) as session:
        ok = session.run("record({'hits': grep('text'), 'doc': context, 't': (1, 2)})")
        bad = session.run("record(lambda: 1)")
    assert ok.error is None
    assert type(seen[0]["doc"]) is str and seen[0]["t"] == [1, 2]
    assert seen[0]["hits"][0]["document"] == "context"
    assert "only plain data" in bad.error


def test_cancel_stops_a_running_cell() -> None:
    token = CancelToken()
    with SandboxSession("ctx", limits=SandboxLimits(timeout_s=60), cancel=token) as session:
        threading.Timer(0.5, token.cancel).start()
        result = session.run("while True:\n    pass")
    assert result.limit == "cancelled"
    assert result.error.startswith("Cancelled")


def test_context_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(SandboxError, match="list of Document"):
        SandboxSession(42)


def test_close_from_another_thread_ends_a_running_cell_without_restart() -> None:
    session = SandboxSession("ctx", limits=SandboxLimits(timeout_s=60))
    session.start()
    threading.Timer(0.5, session.close).start()
    result = session.run("while True:\n    pass")
    assert result.limit == "cancelled" and not result.restarted
    assert session.worker_pid is None


def test_a_host_result_that_cannot_be_sent_is_a_clear_cell_error() -> None:
    with SandboxSession("ctx", host_functions={"llm_query": lambda prompt: threading.Lock()}) as session:
        result = session.run("llm_query('x')")
        after = session.run("len(context)")
    assert "llm_query() failed: its result could not be sent to the sandbox" in result.error
    assert after.output.strip() == "3"
