"""One run at a time per model: waiters learn their place, leave the line when cancelled."""

from __future__ import annotations

import threading

import pytest

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.errors import RunCancelled
from rlm_desktop.service.run_queue import RunQueue


def test_waiters_run_in_order_and_are_told_their_position():
    queue = RunQueue()
    order: list[str] = []
    positions: dict[str, list[int]] = {"b": [], "c": []}
    seen = {(name, n): threading.Event() for name in ("b", "c") for n in (1, 2)}
    b_running, b_may_finish = threading.Event(), threading.Event()

    def waiter(name: str) -> None:
        def on_position(n: int) -> None:
            positions[name].append(n)
            seen[(name, n)].set()
        with queue.slot("rlm:heron", on_position=on_position):
            order.append(name)
            if name == "b":
                b_running.set()
                assert b_may_finish.wait(10)

    with queue.slot("rlm:heron"):
        with queue.slot("rlm:other"):  # another model is not held up
            order.append("other")
        b = threading.Thread(target=waiter, args=("b",))
        b.start()
        assert seen[("b", 1)].wait(10)
        c = threading.Thread(target=waiter, args=("c",))
        c.start()
        assert seen[("c", 2)].wait(10)
        assert queue.snapshot()["rlm:heron"] == (True, 2)
        order.append("a")
    assert b_running.wait(10)
    assert seen[("c", 1)].wait(10)  # b runs, c is next
    assert queue.snapshot()["rlm:heron"] == (True, 1)
    b_may_finish.set()
    b.join(10)
    c.join(10)
    assert order == ["other", "a", "b", "c"]
    assert positions == {"b": [1], "c": [2, 1]}
    assert queue.snapshot() == {}


def test_a_cancelled_waiter_leaves_the_line():
    queue = RunQueue()
    cancel = CancelToken()
    failures: list[BaseException] = []
    waiting = threading.Event()

    def waiter() -> None:
        try:
            with queue.slot("m", cancel=cancel, on_position=lambda n: waiting.set()):
                pass
        except RunCancelled as exc:
            failures.append(exc)

    with queue.slot("m"):
        thread = threading.Thread(target=waiter)
        thread.start()
        assert waiting.wait(10)
        cancel.cancel()
        thread.join(10)
        assert queue.snapshot()["m"] == (True, 0)
    assert len(failures) == 1
    with queue.slot("m"):  # the slot is free again
        pass
    with pytest.raises(RunCancelled):
        blocked = CancelToken()
        blocked.cancel()
        with queue.slot("m"), queue.slot("m", cancel=blocked):
            pass
