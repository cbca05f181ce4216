"""Variables survive a worker restart: earlier cells are replayed with their host calls answered from the record."""

from __future__ import annotations

from rlm_desktop.sandbox import SandboxLimits, SandboxSession
from rlm_desktop.sandbox.replay import ReplayCell

LOOP = "while True:\n    pass"


class CountingHost:
    """A host function that answers prompts and counts how often it really ran."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def llm_query(self, prompt: str) -> str:
        self.calls.append(prompt)
        return f"answer to {prompt}"

    def llm_query_batched(self, prompts: list[str]) -> list[str]:
        return [self.llm_query(p) for p in prompts]


def test_a_timeout_restores_earlier_variables_without_calling_the_host_again() -> None:
    host = CountingHost()
    functions = {"llm_query": host.llm_query, "llm_query_batched": host.llm_query_batched}
    with SandboxSession("the context", limits=SandboxLimits(timeout_s=1.0), host_functions=functions) as session:
        session.run("notes = llm_query_batched(['a', 'b', 'c'])")
        session.run("def shout(text):\n    return text.upper()\nhits = grep('context')")
        session.run("first = llm_query('d')\nbroken = undefined_name")  # fails after assigning `first`
        stopped = session.run(LOOP)
        after = session.run("print(shout(notes[1]), first, len(hits))")
    assert host.calls == ["a", "b", "c", "d"]  # the replay asked nothing
    assert stopped.limit == "timeout" and stopped.restarted
    report = stopped.restore
    assert report.complete and report.replayed == report.cells == 3
    assert report.host_calls_served == 2 and report.lost == []
    assert {"notes", "shout", "hits", "first"} <= set(report.variables)
    assert "Restored by replaying 3 of 3 earlier blocks" in stopped.error and "notes" in stopped.error
    assert after.error is None and after.output.strip() == "ANSWER TO B answer to d 1"


def test_the_cell_that_broke_the_limit_is_not_replayed() -> None:
    with SandboxSession("ctx", limits=SandboxLimits(timeout_s=1.0)) as session:
        session.run("count = 1")
        first = session.run("count += 1\n" + LOOP)
        second = session.run(LOOP)
        after = session.run("count")
    assert first.restore.replayed == 1 and second.restore.replayed == 1
    assert after.output.strip() == "1"


def test_a_replay_that_would_take_longer_than_its_limit_stops_and_says_so() -> None:
    slow = ("import datetime\nend = datetime.datetime.now() + datetime.timedelta(seconds=0.5)\n"
            "while datetime.datetime.now() < end:\n    pass")
    with SandboxSession("ctx", limits=SandboxLimits(timeout_s=2.0, replay_s=0.3)) as session:
        session.run("quick = 1")
        session.run(slow)
        session.run("late = 2")
        stopped = session.run(LOOP)
    report = stopped.restore
    assert report.replayed == 1 and report.cells == 3 and not report.complete
    assert report.stopped.startswith("replaying cell 2 would take about") and "0.3 s replay limit" in report.stopped
    assert report.variables == ["quick"] and set(report.lost) == {"end", "late"}
    assert "Not restored: " in stopped.error


def test_replay_into_a_fresh_session_and_a_call_it_did_not_record() -> None:
    recorded = [ReplayCell("a = llm_query('x')", [], label="turn 1, block 1")]
    host = CountingHost()
    with SandboxSession("ctx", host_functions={"llm_query": host.llm_query}) as session:
        first = session.run("a = llm_query('x')")
        assert first.host_calls[0]["result"] == "answer to x"
        with SandboxSession("ctx", host_functions={"llm_query": host.llm_query}) as fresh:
            restored = fresh.replay(session.history + [ReplayCell("b = llm_query('y')", label="turn 2, block 1")])
            missing = SandboxSession("ctx", host_functions={"llm_query": host.llm_query})
            with missing:
                unrecorded = missing.replay(recorded)
    assert host.calls == ["x"]
    assert restored.replayed == 1 and restored.variables == ["a"]
    assert restored.stopped == "turn 2, block 1 made a llm_query call it did not make the first time"
    assert unrecorded.replayed == 0 and "turn 1, block 1" in unrecorded.stopped
